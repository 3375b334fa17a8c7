"""Frozen features (§5.2–5.3): what a trained network computes at a named layer, read out as one vector per image.

§5.2 keeps "layers 1-7 of our ImageNet-trained model fixed" and trains only a new classifier on top; §5.3 (Table 7)
varies "the number of layers retained" and puts a linear SVM or a softmax on what comes out. This module supplies those
vectors for any torchvision-style model (ZFNet, the course model, torchvision AlexNet/VGG):

* :func:`paper_layers` — which module's output is "layer l" (1 = conv1's block … 7 = fc7 after its ReLU);
* :func:`pool_maps` — how a conv layer's (C, H, W) maps become a vector: the paper does not say, so it is a parameter;
* :func:`extract_layers` / :func:`extract_features` — one streaming, gradient-free pass over the data in eval mode
  (no dropout), that stops as soon as the deepest requested layer has been computed.

Pooling a conv layer's maps a (C, H, W) into a vector v:

* ``pool="max"``, ``grid=g``: split the H×W map into a g×g grid of (nearly) equal cells (adaptive pooling) and keep the
  maximum of each cell, v = [max_{(y,x)∈cell_k} a_c(y, x)]_{c,k}, C·g² numbers. g = 1 is global max pooling: "how
  strongly does map c fire anywhere", the quantity Fig. 2's top-9 mining ranks images by.
* ``pool="avg"``: the same with the cell mean.
* ``pool="flatten"``: every unit, C·H·W numbers — for pool5 exactly what fc6 reads.

Fully connected outputs are already vectors and are returned as they are, whatever ``pool`` says.
"""
from __future__ import annotations

import re
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ..features import batches
from ..models import resolve
from ..models.modes import evaluating

POOLS = ("max", "avg", "flatten")


def paper_layers(model: nn.Module) -> "OrderedDict[int, str]":
    """Map the paper's layer numbers to the full name of the module whose output is that layer's feature (§5.3).

    A conv layer is its whole block: the conv and everything after it up to the next conv (ReLU, pool, normalisation),
    so "layer 1" of ZFNet is ``features.norm1`` and "layer 5" is ``features.pool5`` — the input of layer 6, which is
    what "retaining layers 1–5" hands to a new classifier. A fully connected layer is its Linear and the ReLU after it
    (dropout excluded, the last Linear — the old classifier — excluded): "layer 7" is ``classifier.relu7``.

    Layers named ``conv<k>``/``fc<k>`` keep their number k (so a model with conv3 and conv4 removed has layers
    1, 2, 5, 6, 7); unnamed ones (torchvision AlexNet) are numbered in order: AlexNet's layer 1 is ``features.2``,
    layer 5 ``features.12``, layer 6 ``classifier.2``, layer 7 ``classifier.5``.

    Example:
        >>> from zfcourse.models import course_model
        >>> dict(paper_layers(course_model()))[5], dict(paper_layers(course_model()))[7]
        ('features.pool5', 'classifier.relu7')
    """
    if not isinstance(getattr(model, "features", None), nn.Sequential) or not isinstance(
            getattr(model, "classifier", None), nn.Sequential):
        raise TypeError(f"model: expected a torchvision-style network with `features` and `classifier` "
                        f"nn.Sequentials, got {type(model).__name__}")
    layers: "OrderedDict[int, str]" = OrderedDict()
    count = 0

    def blocks(seq: nn.Sequential, prefix: str, starts, ends_before, skip_last: bool):
        nonlocal count
        children = list(seq.named_children())
        if skip_last:  # the old classifier (fc8) is not a feature layer
            last = max((i for i, (_, m) in enumerate(children) if isinstance(m, starts)), default=None)
            children = children[:last] if last is not None else children
        current = None
        for name, m in children:
            if isinstance(m, starts):
                count += 1
                digits = re.fullmatch(r"(?:conv|fc)(\d+)", name)
                current = int(digits.group(1)) if digits else count
            elif current is not None and isinstance(m, ends_before):
                current = None
                continue
            if current is not None:
                layers[current] = f"{prefix}.{name}"

    blocks(model.features, "features", nn.Conv2d, (), skip_last=False)
    blocks(model.classifier, "classifier", nn.Linear, (nn.Dropout,), skip_last=True)
    return layers


def pool_maps(a: torch.Tensor, pool: str = "max", grid: int = 1) -> torch.Tensor:
    """One vector per image from a layer output ``a``: (B, C, H, W) maps pooled to a grid×grid grid, (B, D) kept.

    See the module docstring for the maths. Returns (B, C·grid²) for ``max``/``avg``, (B, C·H·W) for ``flatten``.
    A grid larger than the map is an error (it would repeat units rather than pool them).
    """
    if pool not in POOLS:
        raise ValueError(f"pool: expected one of {POOLS}, got {pool!r}")
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 1:
        raise ValueError(f"grid: expected a positive integer (cells per side), got {grid!r}")
    if a.dim() == 2:
        return a
    if a.dim() != 4:
        raise ValueError(f"a: expected (B, C, H, W) maps or (B, D) vectors, got {tuple(a.shape)}")
    if pool == "flatten":
        return a.flatten(1)
    if grid > min(a.shape[-2:]):
        raise ValueError(f"grid: {grid}×{grid} cells do not fit in {a.shape[-2]}×{a.shape[-1]} maps")
    pooled = F.adaptive_max_pool2d(a, grid) if pool == "max" else F.adaptive_avg_pool2d(a, grid)
    return pooled.flatten(1)


def image_batches(data, batch_size: int = 64):
    """Image batches (B, 3, H, W) of ``data`` in a fixed order, so that row i of anything computed from them is image i
    of ``data``: a tensor, a map-style Dataset whose items are an image, ``(image, label, ...)`` or ``{"image": ...}``,
    or an unshuffled DataLoader over one. The batching is :func:`zfcourse.features.batches` (the one helper of §4's
    top-k mining); this adds the boundary check that ``data`` is one of those three kinds."""
    if not isinstance(data, (torch.Tensor, Dataset, DataLoader)):
        raise ValueError(f"data: expected a tensor, a Dataset or a DataLoader, got {type(data).__name__}")
    return batches(data, batch_size)


class _Done(Exception):
    """Raised by a hook once every requested layer has its output: the rest of the forward pass is not needed."""


@torch.no_grad()
def extract_layers(model: nn.Module, data, layers, pool: str = "max", grid: int = 1, batch_size: int = 64,
                   device: str | torch.device | None = None, progress: bool = True) -> "OrderedDict[str, torch.Tensor]":
    """Frozen features of every image of ``data`` at each of ``layers``, in one pass (§5.2, §5.3).

    Args:
        model: a torchvision-style convnet; run in eval mode (restored afterwards), without gradients.
        data: a (N, 3, H, W) tensor, a map-style Dataset (items ``image`` or ``(image, label, ...)``) or an unshuffled
            DataLoader; images must already be in the model's input space. Row i of each result is image i.
        layers: layer names/indices as :func:`zfcourse.models.resolve` accepts (``"conv5"``, ``"features.11"``), or
            an int as an index into ``features``. For the paper's numbering use :func:`paper_layers`:
            ``[paper_layers(model)[l] for l in (1, 5, 7)]``.
        pool, grid: how conv maps become vectors (:func:`pool_maps`).
        batch_size: images per forward pass (tensor / Dataset input).
        device: where to run (default: the model's device). Results are returned on the CPU.
        progress: show a tqdm bar.

    Returns:
        {full layer name: (N, D_l) float tensor}, in the order of ``layers``.

    Example:
        >>> from zfcourse.models import course_model
        >>> model = course_model()
        >>> x = torch.zeros(4, 3, model.input_size, model.input_size)
        >>> f = extract_layers(model, x, ["relu1", "pool5", "relu7"], progress=False)
        >>> [tuple(v.shape) for v in f.values()]
        [(4, 24), (4, 64), (4, 512)]
    """
    if isinstance(layers, (str, int)):
        raise ValueError(f"layers: expected a list of layer names, got the single name {layers!r} "
                         "(use extract_features for one layer)")
    if not layers:
        raise ValueError("layers: expected at least one layer name")
    pool_maps(torch.zeros(1, 1), pool, grid)  # validate pool/grid before any work
    targets = OrderedDict(resolve(model, name) for name in layers)
    order = [name for name, _ in model.named_modules()]
    deepest = max(targets, key=order.index)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    chunks: dict[str, list[torch.Tensor]] = {name: [] for name in targets}

    def hook(name):
        def record(_module, _inputs, out):
            # Pool at once: a later in-place ReLU may overwrite `out`, and pooled vectors are what we keep anyway.
            v = pool_maps(out.detach(), pool, grid)
            chunks[name].append((v.clone() if v.data_ptr() == out.data_ptr() else v).float().cpu())
            if name == deepest:
                raise _Done
        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in targets.items()]
    try:
        with evaluating(model):
            for x in tqdm(image_batches(data, batch_size), desc=f"features {', '.join(targets)}", leave=False,
                          disable=not progress):
                try:
                    model(x.to(device))
                except _Done:
                    pass
    finally:
        for h in handles:
            h.remove()
    if not chunks[deepest]:
        raise ValueError("data: expected at least one image, got none")
    return OrderedDict((name, torch.cat(parts)) for name, parts in chunks.items())


def extract_features(model: nn.Module, data, layer, pool: str = "max", grid: int = 1, batch_size: int = 64,
                     device: str | torch.device | None = None, progress: bool = True) -> torch.Tensor:
    """(N, D) frozen features of ``data`` at one ``layer`` (§5.2: "layers 1-7 ... fixed", the input of a new
    classifier). Arguments as :func:`extract_layers`; e.g. ``extract_features(model, images, "relu7")``."""
    return next(iter(extract_layers(model, data, [layer], pool, grid, batch_size, device, progress).values()))
