"""Top-k mining (§4, Fig. 2): one streaming pass over a dataset keeping, for every feature map of one or more layers,
the k images that excite it most — the paper's "top 9 activations ... across the validation data".

Each image contributes its strongest unit per map (value, image index, position), so the k entries of a map come from
k different images, as in Fig. 2. After each batch the running (C, k) table and the batch's (C, B) maxima are merged
and cut back to k: memory O(C·k), whatever the dataset size. Ties keep the earlier image (stable sort). The forward
pass that reaches conv5 has already computed conv1–conv4, so :func:`top_k_layers` keeps every asked-for layer's table
on the way up; :func:`top_k` is its one-layer case. Fig. 4 needs this once per saved epoch.

Images are read in a fixed order (:func:`batches`), so that "image 17" means the same picture when mining and when
projecting later (:func:`images_at`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, SequentialSampler
from tqdm.auto import tqdm

from ..deconv import path
from ..models.modes import evaluating


def _image_of(item):
    if isinstance(item, dict):
        return item["image"]
    if isinstance(item, (tuple, list)):
        return item[0]
    return item


def batches(data, batch_size: int = 64):
    """Yield (B, 3, H, W) image batches from ``data``: a tensor, a map-style Dataset (items ``image`` or
    ``(image, label, ...)`` or ``{"image": ...}``), or an unshuffled DataLoader / iterable of such batches.

    Example:
        >>> [tuple(b.shape) for b in batches(torch.zeros(5, 3, 8, 8), batch_size=2)]
        [(2, 3, 8, 8), (2, 3, 8, 8), (1, 3, 8, 8)]
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    if isinstance(data, torch.Tensor):
        yield from data.split(batch_size)
        return
    if isinstance(data, DataLoader):
        sampler = data.batch_sampler.sampler if data.batch_sampler is not None else data.sampler
        if not isinstance(sampler, SequentialSampler):
            raise ValueError("data: the DataLoader shuffles or samples; top-k mining needs a fixed order "
                             "(shuffle=False) so that image indices stay meaningful")
    if isinstance(data, Dataset) and hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        data = DataLoader(data, batch_size=batch_size, shuffle=False)
    for batch in data:
        yield _image_of(batch)


def images_at(data, index: torch.Tensor) -> torch.Tensor:
    """The images ``index`` (N,) of ``data`` (a tensor, a map-style Dataset or a DataLoader over one): (N, 3, H, W).

    Example:
        >>> images_at(torch.arange(4.).view(4, 1, 1, 1).expand(4, 3, 2, 2), torch.tensor([3, 1]))[:, 0, 0, 0].tolist()
        [3.0, 1.0]
    """
    if isinstance(data, torch.Tensor):
        return data[index.to(data.device)]
    dataset = data.dataset if isinstance(data, DataLoader) else data
    if not hasattr(dataset, "__getitem__"):
        raise TypeError("data: images can only be fetched by index from a tensor, a Dataset or a DataLoader over one")
    return torch.stack([torch.as_tensor(_image_of(dataset[int(i)])) for i in index])


def _check_batch(x, first: int, dtype: torch.dtype) -> None:
    """Raise naming ``data`` unless batch ``x`` (images first..) holds finite (B, 3, H, W) images of ``dtype``."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 3:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"data: expected batches of RGB images (B, 3, H, W), got {got} at image {first}")
    if x.dtype != dtype:
        raise ValueError(f"data: images from {first} on are {x.dtype}; expected {dtype} like the model's weights")
    if not torch.isfinite(x).all():
        bad = first + int((~torch.isfinite(x)).flatten(1).any(1).nonzero()[0])
        raise ValueError(f"data: image {bad} contains NaN or inf; top-k mining needs finite inputs")


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
        model: a torchvision-style convnet (see :func:`zfcourse.deconv.project`), used in eval mode.
        data: a (N, 3, H, W) tensor, a map-style Dataset, or an unshuffled DataLoader (image index = order of reading);
            finite images of the model's dtype.
        layers: layer names as in :func:`zfcourse.deconv.project`.
        k: how many per map (fewer if the data has fewer images).
        batch_size: for tensors and Datasets.
        progress: show a tqdm bar.

    Returns:
        {full layer name: :class:`TopK`}, in the order of ``layers``.

    Example:
        >>> from zfcourse.models import course_model
        >>> model = course_model(input_size=112).eval()
        >>> tops = top_k_layers(model, torch.randn(10, 3, 112, 112), ["relu1", "relu5"], k=2, progress=False)
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
    param = next(model.parameters())
    tables: dict[str, tuple | None] = {n: None for n in names}
    seen = 0
    desc = f"top-{k} {names[0]}" if len(names) == 1 else f"top-{k} × {len(names)} layers"
    with evaluating(model):
        for x in tqdm(batches(data, batch_size), desc=desc, disable=not progress, leave=False):
            _check_batch(x, seen, param.dtype)
            a = x.to(param.device)
            for name, m in chain:
                a = torch.relu(a) if isinstance(m, nn.ReLU) else m(a)   # out of place: in-place ReLUs are safe
                if name in tables:
                    best, where = a.flatten(2).max(2)
                    tables[name] = _merge(tables[name], best, where, a.shape[-1], seen, k)
            seen += len(x)
    if seen == 0:
        raise ValueError("data: no images")
    return {n: TopK(n, *tables[n]) for n in names}


def top_k(model: nn.Module, data, layer: str | int, k: int = 9, batch_size: int = 64, progress: bool = True) -> TopK:
    r"""Mine the k strongest activations of every map of ``layer`` over ``data`` in one streaming pass (§4, Fig. 2):
    :func:`top_k_layers` for one layer.

    For image i and map c let m_c(i) = max_{y,x} A_l(i)[c, y, x]. The result keeps, per map c, the k images with the
    largest m_c(i), with that value and its (y, x). Memory is O(C·k) plus one batch.

    Example:
        >>> from zfcourse.models import course_model
        >>> top = top_k(course_model(input_size=112).eval(), torch.randn(20, 3, 112, 112), "conv5", k=3, progress=False)
        >>> top.values.shape, top.image.shape, top.position.shape
        (torch.Size([64, 3]), torch.Size([64, 3]), torch.Size([64, 3, 2]))
    """
    return next(iter(top_k_layers(model, data, [layer], k, batch_size, progress).values()))
