"""Top-k mining for several layers in one pass (§4, Figs. 2 and 4): the forward pass that reaches conv5 has already
computed conv1–conv4, so every layer's k strongest activations are kept on the way up.

The result per layer is exactly what :func:`~zfcourse.deconv.top_k` returns for that layer alone (same values, images,
positions, same tie-breaking), at the cost of one forward pass to the deepest layer instead of one per layer. Fig. 4
needs this once per saved epoch, so the saving adds up.
"""
from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

from ..models.modes import evaluating
from .data import batches
from .topk import TopK
from .trace import path


def _merge(old, best: torch.Tensor, where: torch.Tensor, width: int, first: int, k: int):
    """Merge a batch's per-image maxima ``best``/``where`` (B, C) into the running (values, image, position) table."""
    cand_v = best.T                                                              # (C, B)
    cand_i = torch.arange(first, first + best.shape[0], device=best.device).expand_as(cand_v)
    cand_p = torch.stack([where.T // width, where.T % width], 2)                 # (C, B, 2)
    if old is not None:
        cand_v, cand_i, cand_p = (torch.cat([o, c], 1) for o, c in zip(old, (cand_v, cand_i, cand_p)))
    order = cand_v.sort(dim=1, descending=True, stable=True).indices[:, :k]
    return (cand_v.gather(1, order), cand_i.gather(1, order),
            cand_p.gather(1, order[..., None].expand(-1, -1, 2)))


@torch.no_grad()
def top_k_layers(model: nn.Module, data, layers, k: int = 9, batch_size: int = 64,
                 progress: bool = True) -> dict[str, TopK]:
    r"""The k strongest activations of every map of each of ``layers``, over ``data``, in one streaming pass.

    For layer l, image i and map c let m_{l,c}(i) = max_{y,x} A_l(i)[c, y, x]; per (l, c) the k images with the
    largest m_{l,c}(i) are kept with that value and its (y, x) — the "top 9 activations" of Fig. 2, or with k = 1 the
    "strongest activation (across all training examples)" of Fig. 4. Memory O(Σ_l C_l·k) plus one batch.

    Args:
        model: a torchvision-style convnet (see :func:`~zfcourse.deconv.project`); evaluated in eval mode.
        data: a (N, 3, H, W) tensor, a map-style Dataset or an unshuffled DataLoader (image index = reading order).
        layers: layer names or indices (``"relu1"``, ``"features.relu5"``, ``"features.11"``), in any order.
        k: how many per map (fewer if the data has fewer images).
        batch_size: for tensors and Datasets.
        progress: show a tqdm bar.

    Returns:
        {full layer name: :class:`~zfcourse.deconv.TopK`}, in the order of ``layers``.

    Example:
        >>> from zfcourse.models import course_model
        >>> tops = top_k_layers(course_model().eval(), torch.randn(10, 3, 112, 112), ["relu1", "relu5"], k=2,
        ...                     progress=False)
        >>> {name: tuple(t.values.shape) for name, t in tops.items()}
        {'features.relu1': (24, 2), 'features.relu5': (64, 2)}
    """
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k: expected a positive integer, got {k!r}")
    if isinstance(layers, (str, int)) or not len(layers):
        raise ValueError(f"layers: expected a non-empty list of layer names, got {layers!r}")
    names = [path(model, layer)[0] for layer in layers]
    if len(set(names)) != len(names):
        raise ValueError(f"layers: a layer is named twice ({names})")
    deepest = max(names, key=lambda n: len(path(model, n)[1]))
    chain = path(model, deepest)[1]
    device = next(model.parameters()).device
    tables: dict[str, tuple | None] = {n: None for n in names}
    seen = 0
    with evaluating(model):
        for x in tqdm(batches(data, batch_size), desc=f"top-{k} × {len(names)} layers", disable=not progress,
                      leave=False):
            a = x.to(device)
            for name, m in chain:
                a = torch.relu(a) if isinstance(m, nn.ReLU) else m(a)   # out of place: in-place ReLUs are safe
                if name in tables:
                    best, where = a.flatten(2).max(2)
                    tables[name] = _merge(tables[name], best, where, a.shape[-1], seen, k)
            seen += len(x)
    if seen == 0:
        raise ValueError("data: no images")
    return {n: TopK(n, *tables[n]) for n in names}
