"""Occlusion sensitivity (§4.2, Fig. 7): slide a grey square over an image and watch the classifier and one feature map.

The paper asks whether the model really uses the object's location or only its surroundings. It answers by
systematically covering different portions of the image with a grey square and recording, for every position of the
square, (b) the total activation of the layer-5 map that is strongest on the unoccluded image, (d) the probability of
the correct class and (e) the most probable label. This file computes all three with one forward pass per occluded
image, batched — or, by default, with the exact incremental pass of :mod:`~zfcourse.occlusion.incremental`, which
recomputes each layer only where the occluder can have changed it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from ..models import resolve
from ..models.modes import evaluating
from .incremental import Plan, Unsupported, _totals

METHODS = ("auto", "incremental", "full")


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
        method: how the maps were computed, ``"incremental"`` or ``"full"``.
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
    method: str = "full"


def _check(model, image, size, stride, fill, batch_size, method):
    """Validate the arguments; return H, W, the image cast to the model's float type and the (3, 1, 1) fill."""
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"image: expected one RGB image of shape (3, H, W) in input space, got {shape}")
    if not image.is_floating_point():
        raise ValueError(f"image: expected a float tensor in the model's input space (see the data source's "
                         f"preprocess), got {image.dtype}")
    if not torch.isfinite(image).all():
        raise ValueError(f"image: has {int((~torch.isfinite(image)).sum())} NaN or infinite values; expected finite "
                         f"values in input space")
    h, w = image.shape[1:]
    if min(h, w) == 0:
        raise ValueError(f"image: is empty, shape {tuple(image.shape)}")
    side = getattr(model, "input_size", None)
    if side is not None and (h, w) != (side, side):
        raise ValueError(f"image: the model takes (3, {side}, {side}) images, got {tuple(image.shape)}")
    for name, value in (("size", size), ("stride", stride), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    if size > min(h, w):
        raise ValueError(f"size: the occluder ({size}) is larger than the image ({h}×{w})")
    param = next(model.parameters(), None)
    image = image.to(param.device if param is not None else image.device,
                     param.dtype if param is not None and param.is_floating_point() else image.dtype)
    fill = torch.as_tensor(fill, dtype=image.dtype, device=image.device)
    if fill.numel() not in (1, 3):
        raise ValueError(f"fill: expected a float or a (3,) tensor in input space, got shape {tuple(fill.shape)}")
    if not torch.isfinite(fill).all():
        raise ValueError(f"fill: expected finite values, got {fill.tolist()}")
    return h, w, image, fill.reshape(-1, 1, 1).expand(3, 1, 1)


def _check_target(target, num_classes):
    if isinstance(target, torch.Tensor) and target.numel() == 1:
        target = target.item()
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < num_classes:
        raise ValueError(f"target: expected a class index in 0..{num_classes - 1} (the model has {num_classes} "
                         f"classes), got {target!r}")
    return target


def _full_batches(model, image, fill, size, ys, xs, batch_size, layout, totals):
    """Method "full": every occluded image through the whole model, ``batch_size`` at a time, in row-major order.
    Yields (iy, ix, logits, layer totals or None) per batch; the totals come from the forward hook's list."""
    device = image.device
    h, w = image.shape[1:]

    def band(starts, n):  # (len(starts), n): True where pixel index ∈ [start, start + size)
        pixel = torch.arange(n, device=device)
        starts = starts.to(device)[:, None]
        return (pixel >= starts) & (pixel < starts + size)

    # Occluder masks as outer products of row and column indicators: no Python loop per image.
    rows, cols = band(ys, h), band(xs, w)
    iy, ix = torch.meshgrid(torch.arange(len(ys)), torch.arange(len(xs)), indexing="ij")
    iy, ix = iy.flatten(), ix.flatten()
    for start in range(0, len(iy), batch_size):
        by, bx = iy[start:start + batch_size], ix[start:start + batch_size]
        mask = rows[by.to(device)][:, None, :, None] & cols[bx.to(device)][:, None, None, :]     # (B, 1, H, W)
        logits = model(torch.where(mask, fill, image).contiguous(memory_format=layout))
        yield by, bx, logits, totals.pop() if totals is not None else None


@torch.no_grad()
def occlusion_maps(model: nn.Module, image: torch.Tensor, target: int, size: int, stride: int,
                   fill: float | torch.Tensor = 0.0, layer: str | int | None = "conv5", batch_size: int = 64, *,
                   feature_map: int | None = None, method: str = "auto", progress: bool | None = None) -> OcclusionMaps:
    r"""Occlusion sensitivity maps of Fig. 7 (§4.2): probability, label and feature-map activation per occluder
    position.

    For every top-left corner (y, x) with y ∈ {0, s, 2s, …} ≤ H − size (likewise x ≤ W − size), let x̃_{y,x} be the
    image with the square [y, y+size) × [x, x+size) replaced by ``fill`` (0 = the training mean = grey, §3). Then

        prob[i, j]       = softmax(f(x̃_{y_i,x_j}))[target]                          (Fig. 7d)
        label[i, j]      = argmax_c f(x̃_{y_i,x_j})_c                                  (Fig. 7e)
        activation[i, j] = Σ_{u,v} a_k(x̃_{y_i,x_j})[u, v],  a = output of ``layer``     (Fig. 7b)

    The map k defaults to the *strongest* map on the unoccluded image, read as the largest total activation
    k = argmax_c Σ_{u,v} a_c(x)[u, v] — the quantity panel (b) plots. ``layer`` is the named module's own output,
    so ``"conv5"`` is before the ReLU (pass ``"relu5"`` or ``"pool5"`` for rectified maps).

    Two ways to the same numbers (equal up to float rounding, ~1e-6 relative):

    * ``method="full"``: one forward pass per occluded image, in batches of ``batch_size``; a forward hook reads the
      layer's totals. Works for any classifier.
    * ``method="incremental"``: the unoccluded activations of every layer once, then per position only each layer's
      window that the occluder can have changed — the square grown through each kernel, stride and padding
      (:mod:`~zfcourse.occlusion.incremental`). For ZFNet-like models and torchvision AlexNet/VGG.
    * ``method="auto"`` (default): incremental where it applies and saves multiply-adds, else full; a model it cannot
      handle gets a one-line warning naming the module. ``"incremental"`` asked for explicitly raises instead.

    The model runs in eval mode (restored afterwards) under no_grad on its own device, channels-last on the CPU; a
    float image of another precision is cast to the model's (float64 → float32 for the course's models); the results
    come back on the CPU. Memory grows with ``batch_size``.

    Args:
        model: a classifier returning logits (B, C); ZFNet or torchvision AlexNet/VGG.
        image: (3, H, W) float tensor in the model's input space, finite.
        target: the class whose probability (d) follows.
        size, stride: the occluder's side and step in pixels.
        fill: the occluder's value, a float or a (3,) tensor in input space.
        layer: the layer for (b), any name :func:`zfcourse.models.resolve` accepts; ``None`` skips (b).
        batch_size: occluded images per batch (at least 1).
        feature_map: the map k for (b); default the strongest (see above).
        method: ``"auto"``, ``"incremental"`` or ``"full"`` (see above).
        progress: show a tqdm bar; default only when there are more than 4 batches.

    Example:
        >>> import torch
        >>> from zfcourse.models import course_model
        >>> _ = torch.manual_seed(0); model = course_model(input_size=112)
        >>> maps = occlusion_maps(model, 50 * torch.randn(3, 112, 112), target=3, size=16, stride=8)
        >>> maps.prob.shape, maps.label.shape, maps.activation.shape, maps.method
        (torch.Size([13, 13]), torch.Size([13, 13]), torch.Size([13, 13]), 'incremental')
    """
    h, w, image, fill = _check(model, image, size, stride, fill, batch_size, method)
    ys, xs = torch.arange(0, h - size + 1, stride), torch.arange(0, w - size + 1, stride)
    # On CPUs oneDNN runs convolutions and pooling faster on channels-last batches (1.2–1.5× on ZFNet).
    layout = torch.channels_last if image.device.type == "cpu" else torch.contiguous_format
    module = None
    if layer is not None:
        layer, module = resolve(model, layer)
    totals = []  # the hook appends (B, C) per-map totals; summed at once because in-place ReLUs overwrite the output
    with evaluating(model):
        plan, why = None, None
        if method != "full":
            try:
                plan = Plan(model, image, size, ys, xs, layer)
            except Unsupported as e:
                why = str(e)
            except RuntimeError as e:  # e.g. an image too small for the layers: the full pass below says so
                why = f"its layer-by-layer pass failed ({e})"
        hook = module.register_forward_hook(lambda m, i, out: totals.append(_totals(out))) if module else None
        try:
            try:
                logits0 = model(image[None].contiguous(memory_format=layout))
            except RuntimeError as e:
                raise ValueError(f"image: the model cannot run on a {tuple(image.shape)} image ({e})") from e
            totals0 = totals.pop()[0] if module is not None else None
            if plan is not None and not torch.allclose(plan.logits0, logits0, rtol=1e-4,
                                                       atol=1e-5 * float(logits0.abs().max()) + 1e-12):
                plan, why = None, (f"model: {type(model).__name__}.forward is not features → [avgpool] → flatten → "
                                   f"classifier (its logits differ from that composition's)")
            if why is not None and method == "incremental":
                raise ValueError(f"method: 'incremental' cannot run on this model: {why}")
            if why is not None:
                warnings.warn(f"occlusion_maps: method='full', as incremental cannot: {why}", stacklevel=3)
            target = _check_target(target, logits0.shape[-1])
            if module is not None:
                if feature_map is None:
                    feature_map = int(totals0.argmax())
                elif isinstance(feature_map, bool) or not isinstance(feature_map, int) \
                        or not 0 <= feature_map < totals0.numel():
                    raise ValueError(f"feature_map: expected a map of {layer} in 0..{totals0.numel() - 1}, "
                                     f"got {feature_map!r}")
            if plan is not None:
                batches = plan.batches(batch_size)
                cost, done, _ = plan.cost(batch_size, batches)
                if method == "auto" and done > 0.9 * cost:  # the windows would cover nearly everything
                    plan = None
            if plan is not None:
                if hook is not None:  # the windows go through the layers by hand; the hook would see windows
                    hook.remove()
                    hook = None
                runs = ((torch.tensor(iy)[:, None].expand(-1, len(ix)).flatten(),
                         torch.tensor(ix)[None, :].expand(len(iy), -1).flatten(),
                         *plan.run(iy, ix, fill.flatten(), feature_map)) for iy, ix in batches)
                count = len(batches)
            else:
                runs = _full_batches(model, image, fill, size, ys, xs, batch_size, layout,
                                     totals if module is not None else None)
                count = -(-len(ys) * len(xs) // batch_size)
            grid = (len(ys), len(xs))
            prob, label = torch.zeros(grid, dtype=logits0.dtype), torch.zeros(grid, dtype=torch.long)
            act = torch.zeros(grid, dtype=logits0.dtype) if module is not None else None
            show = progress if progress is not None else len(ys) * len(xs) > 4 * batch_size
            for iy, ix, logits, a in tqdm(runs, total=count, desc="occlusion", disable=not show, leave=False):
                prob[iy, ix] = logits.softmax(-1)[:, target].cpu()
                label[iy, ix] = logits.argmax(-1).cpu()
                if act is not None:
                    act[iy, ix] = (a if plan is not None else a[:, feature_map]).cpu()
        finally:
            if hook is not None:
                hook.remove()
    return OcclusionMaps(
        prob=prob, label=label, activation=act, feature_map=feature_map if module is not None else None, ys=ys, xs=xs,
        unoccluded_prob=float(logits0.softmax(-1)[0, target]), unoccluded_label=int(logits0.argmax(-1)[0]),
        unoccluded_activation=float(totals0[feature_map]) if module is not None else None,
        target=target, size=size, stride=stride, layer=layer, image_shape=(h, w),
        method="incremental" if plan is not None else "full")
