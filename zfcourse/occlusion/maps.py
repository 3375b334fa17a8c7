"""Occlusion sensitivity (§4.2, Fig. 7): slide a grey square over an image and watch the classifier and one feature map.

The paper asks whether the model really uses the object's location or only its surroundings. It answers by
systematically covering different portions of the image with a grey square and recording, for every position of the
square, (b) the total activation of the layer-5 map that is strongest on the unoccluded image, (d) the probability of
the correct class and (e) the most probable label. This file computes all three with one forward pass per occluded
image, batched.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from ..models import resolve
from ..models.modes import evaluating


@dataclass
class OcclusionMaps:
    """What :func:`occlusion_maps` measured, one entry per occluder position (row ``i`` ↔ top edge ``ys[i]``,
    column ``j`` ↔ left edge ``xs[j]``). Tensors live on the CPU.

    Attributes:
        prob: (n_y, n_x) softmax probability of ``target`` with the occluder at (ys[i], xs[j]) — Fig. 7(d).
        label: (n_y, n_x) most probable class (argmax of the logits) — Fig. 7(e).
        activation: (n_y, n_x) total activation Σ_{u,v} a_k(u, v) of feature map ``feature_map`` of ``layer`` —
            Fig. 7(b); ``None`` when ``layer`` was ``None``.
        feature_map: the map k that ``activation`` follows (``None`` when ``layer`` was ``None``).
        ys, xs: the occluder's top-left corners, 0, stride, 2·stride, … ≤ H − size (resp. W − size).
        unoccluded_prob, unoccluded_label, unoccluded_activation: the same three numbers without an occluder.
        target, size, stride, layer, image_shape: the arguments (``layer`` as its full name, ``image_shape`` = (H, W)).
    """
    prob: torch.Tensor
    label: torch.Tensor
    activation: torch.Tensor | None
    feature_map: int | None
    ys: torch.Tensor
    xs: torch.Tensor
    unoccluded_prob: float
    unoccluded_label: int
    unoccluded_activation: float | None
    target: int
    size: int
    stride: int
    layer: str | None
    image_shape: tuple[int, int]


def _check(model, image, size, stride, fill, batch_size):
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"image: expected one RGB image of shape (3, H, W) in input space, got {shape}")
    h, w = image.shape[1:]
    side = getattr(model, "input_size", None)
    if side is not None and (h, w) != (side, side):
        raise ValueError(f"image: the model takes (3, {side}, {side}) images, got {tuple(image.shape)}")
    for name, value in (("size", size), ("stride", stride), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    if size > min(h, w):
        raise ValueError(f"size: the occluder ({size}) is larger than the image ({h}×{w})")
    fill = torch.as_tensor(fill, dtype=image.dtype)
    if fill.numel() not in (1, 3):
        raise ValueError(f"fill: expected a float or a (3,) tensor in input space, got shape {tuple(fill.shape)}")
    return h, w, fill.reshape(-1, 1, 1).expand(3, 1, 1)


def _check_target(target, num_classes):
    if isinstance(target, torch.Tensor) and target.numel() == 1:
        target = target.item()
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < num_classes:
        raise ValueError(f"target: expected a class index in 0..{num_classes - 1} (the model has {num_classes} "
                         f"classes), got {target!r}")
    return target


@torch.no_grad()
def occlusion_maps(model: nn.Module, image: torch.Tensor, target: int, size: int, stride: int,
                   fill: float | torch.Tensor = 0.0, layer: str | int | None = "conv5", batch_size: int = 64, *,
                   feature_map: int | None = None, progress: bool | None = None) -> OcclusionMaps:
    r"""Occlusion sensitivity maps of Fig. 7 (§4.2): probability, label and feature-map activation per occluder position.

    For every top-left corner (y, x) with y ∈ {0, s, 2s, …} ≤ H − size (likewise x ≤ W − size), let x̃_{y,x} be the
    image with the square [y, y+size) × [x, x+size) replaced by ``fill`` (0 = the training mean = grey, §3). Then

        prob[i, j]       = softmax(f(x̃_{y_i,x_j}))[target]                          (Fig. 7d)
        label[i, j]      = argmax_c f(x̃_{y_i,x_j})_c                                  (Fig. 7e)
        activation[i, j] = Σ_{u,v} a_k(x̃_{y_i,x_j})[u, v],  a = output of ``layer``     (Fig. 7b)

    The map k defaults to the *strongest* map on the unoccluded image, read as the largest total activation
    k = argmax_c Σ_{u,v} a_c(x)[u, v] — the quantity panel (b) plots. ``layer`` is the named module's own output,
    so ``"conv5"`` is before the ReLU (pass ``"relu5"`` or ``"pool5"`` for rectified maps).

    One forward pass per occluded image gives both the logits and, through a forward hook, the layer's totals; images
    go through in batches of ``batch_size`` (memory ∝ batch_size), channels-last on the CPU. The model runs in eval mode (restored afterwards)
    under no_grad on its own device; the results come back on the CPU.

    Args:
        model: a classifier returning logits (B, C); ZFNet or torchvision AlexNet/VGG.
        image: (3, H, W) in the model's input space.
        target: the class whose probability (d) follows.
        size, stride: the occluder's side and step in pixels.
        fill: the occluder's value, a float or a (3,) tensor in input space.
        layer: the layer for (b), any name :func:`zfcourse.models.resolve` accepts; ``None`` skips (b).
        batch_size: occluded images per forward pass.
        feature_map: the map k for (b); default the strongest (see above).
        progress: show a tqdm bar; default only when there are more than 4 batches.

    Example:
        >>> import torch
        >>> from zfcourse.models import course_model
        >>> _ = torch.manual_seed(0); model = course_model()
        >>> maps = occlusion_maps(model, 50 * torch.randn(3, 112, 112), target=3, size=16, stride=8)
        >>> maps.prob.shape, maps.label.shape, maps.activation.shape
        (torch.Size([13, 13]), torch.Size([13, 13]), torch.Size([13, 13]))
    """
    h, w, fill = _check(model, image, size, stride, fill, batch_size)
    device = next(model.parameters(), image).device
    image, fill = image.to(device), fill.to(device, image.dtype)
    ys, xs = torch.arange(0, h - size + 1, stride), torch.arange(0, w - size + 1, stride)
    # On CPUs oneDNN runs convolutions and pooling faster on channels-last batches (1.2–1.5× on ZFNet, bench/RESULTS.md).
    layout = torch.channels_last if device.type == "cpu" else torch.contiguous_format

    totals = []  # the hook appends (B, C) per-map totals; summed at once because in-place ReLUs overwrite the output
    hook = None
    if layer is not None:
        layer, module = resolve(model, layer)
        hook = module.register_forward_hook(lambda m, i, out: totals.append(out.flatten(2).sum(-1)))
    try:
        with evaluating(model):
            logits0 = model(image[None].contiguous(memory_format=layout))
            target = _check_target(target, logits0.shape[-1])
            if layer is not None:
                totals0 = totals.pop()[0]
                if feature_map is None:
                    feature_map = int(totals0.argmax())
                elif not 0 <= feature_map < totals0.numel():
                    raise ValueError(f"feature_map: expected a map of {layer} in 0..{totals0.numel() - 1}, got {feature_map}")
            # Occluder masks as outer products of row and column indicators: no Python loop per image.
            def band(starts, n):  # (len(starts), n): True where pixel index ∈ [start, start + size)
                pixel = torch.arange(n, device=device)
                starts = starts.to(device)[:, None]
                return (pixel >= starts) & (pixel < starts + size)
            rows, cols = band(ys, h), band(xs, w)
            iy, ix = torch.meshgrid(torch.arange(len(ys)), torch.arange(len(xs)), indexing="ij")
            iy, ix = iy.flatten().to(device), ix.flatten().to(device)
            probs, labels, acts = [], [], []
            starts = range(0, len(iy), batch_size)
            show = progress if progress is not None else len(starts) > 4
            for start in tqdm(starts, desc="occlusion", disable=not show, leave=False):
                by, bx = iy[start:start + batch_size], ix[start:start + batch_size]
                mask = rows[by][:, None, :, None] & cols[bx][:, None, None, :]                         # (B, 1, H, W)
                logits = model(torch.where(mask, fill, image).contiguous(memory_format=layout))
                probs.append(logits.softmax(-1)[:, target])
                labels.append(logits.argmax(-1))
                if layer is not None:
                    acts.append(totals.pop()[:, feature_map])
    finally:
        if hook is not None:
            hook.remove()
    grid = (len(ys), len(xs))
    return OcclusionMaps(
        prob=torch.cat(probs).reshape(grid).cpu(), label=torch.cat(labels).reshape(grid).cpu(),
        activation=torch.cat(acts).reshape(grid).cpu() if layer is not None else None,
        feature_map=feature_map, ys=ys, xs=xs,
        unoccluded_prob=float(logits0.softmax(-1)[0, target]), unoccluded_label=int(logits0.argmax(-1)[0]),
        unoccluded_activation=float(totals0[feature_map]) if layer is not None else None,
        target=target, size=size, stride=stride, layer=layer, image_shape=(h, w))
