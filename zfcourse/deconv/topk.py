"""Top-k mining (§4, Fig. 2): one streaming pass over a dataset keeping, for every feature map of a layer, the k
images that excite it most — the paper's "top 9 activations ... across the validation data".

Each image contributes its strongest unit per map (value, image index, position), so the k entries of a map come from
k different images, as in Fig. 2. After each batch the running (C, k) table and the batch's (C, B) maxima are merged
and cut back to k: memory O(C·k), whatever the dataset size. Ties keep the earlier image (stable sort).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from ..models.modes import evaluating
from .data import batches
from .trace import path


@dataclass
class TopK:
    """For each of the C maps of ``layer``: its k strongest activations over a dataset, strongest first.

    values (C, k) float, image (C, k) long (index into the dataset), position (C, k, 2) long (y, x) in the map.
    """
    layer: str
    values: torch.Tensor
    image: torch.Tensor
    position: torch.Tensor

    def targets(self, channels=None) -> torch.Tensor:
        """(N, 4) rows (image, channel, y, x) of the chosen ``channels`` (default all), k per channel, in order."""
        c = torch.arange(len(self.values)) if channels is None else torch.as_tensor(channels).long()
        k = self.values.shape[1]
        return torch.stack([self.image[c].flatten(), c.repeat_interleave(k),
                            self.position[c, :, 0].flatten(), self.position[c, :, 1].flatten()], 1)


def trunk(model: nn.Module, layer: str | int) -> tuple[str, nn.Sequential]:
    """The full name of ``layer`` and the part of ``model.features`` from the input up to it, as an nn.Sequential."""
    full, chain = path(model, layer)
    return full, nn.Sequential(*[m for _, m in chain])


@torch.no_grad()
def top_k(model: nn.Module, data, layer: str | int, k: int = 9, batch_size: int = 64, progress: bool = True) -> TopK:
    r"""Mine the k strongest activations of every map of ``layer`` over ``data`` in one streaming pass (§4, Fig. 2).

    For image i and map c let m_c(i) = max_{y,x} A_l(i)[c, y, x]. The result keeps, per map c, the k images with the
    largest m_c(i), with that value and its (y, x). Memory is O(C·k) plus one batch.

    Args:
        model: a torchvision-style convnet (see :func:`~zfcourse.deconv.project`), used in eval mode.
        data: a (N, 3, H, W) tensor, a map-style Dataset, or an unshuffled DataLoader (image index = order of reading).
        layer: as in :func:`~zfcourse.deconv.project`.
        k: how many per map (fewer if the data has fewer images).
        batch_size: for tensors and Datasets.
        progress: show a tqdm bar.

    Example:
        >>> from zfcourse.models import course_model
        >>> top = top_k(course_model().eval(), torch.randn(20, 3, 112, 112), "conv5", k=3, progress=False)
        >>> top.values.shape, top.image.shape, top.position.shape
        (torch.Size([64, 3]), torch.Size([64, 3]), torch.Size([64, 3, 2]))
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected a positive integer, got {k!r}")
    full, net = trunk(model, layer)
    device = next(model.parameters()).device
    values = image = position = None
    seen = 0
    with evaluating(model):
        for x in tqdm(batches(data, batch_size), desc=f"top-{k} {full}", disable=not progress, leave=False):
            a = net(x.to(device))
            w = a.shape[-1]
            best, where = a.flatten(2).max(2)                                   # (B, C) per image and map
            ids = torch.arange(seen, seen + len(a), device=device)
            cand_v = best.T                                                     # (C, B)
            cand_i = ids.expand_as(cand_v)
            cand_p = torch.stack([where.T // w, where.T % w], 2)                # (C, B, 2)
            if values is not None:
                cand_v, cand_i = torch.cat([values, cand_v], 1), torch.cat([image, cand_i], 1)
                cand_p = torch.cat([position, cand_p], 1)
            order = cand_v.sort(dim=1, descending=True, stable=True).indices[:, :k]
            values, image = cand_v.gather(1, order), cand_i.gather(1, order)
            position = cand_p.gather(1, order[..., None].expand(-1, -1, 2))
            seen += len(a)
    if values is None:
        raise ValueError("data: no images")
    return TopK(full, values, image, position)
