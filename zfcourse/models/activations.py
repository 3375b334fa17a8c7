"""Record what every layer of a convnet computes on a forward pass (§2: "feature maps" at each layer), and the checks
every image batch passes at the package's public boundary before it reaches a model."""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .layers import resolve
from .modes import evaluating


def min_input_size(model: nn.Module, limit: int = 4096) -> int | None:
    """The smallest square side n for which every conv/pool layer of ``model.features`` still has an output of at least
    1×1, from the size arithmetic out = ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1 (⌈·⌉ for ceil-mode pools; a ceil-mode window
    must start inside the input). None for a model without ``features`` or when no n ≤ ``limit`` works."""
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Module):
        return None
    steps = []
    for m in features.modules():
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s, p = (v if isinstance(v, int) else v[0] for v in (m.kernel_size, m.stride, m.padding))
            d = getattr(m, "dilation", 1)
            d = d if isinstance(d, int) else d[0]
            steps.append((k, s, p, d, bool(getattr(m, "ceil_mode", False))))
    for n in range(1, limit + 1):
        side = n
        for k, s, p, d, ceil in steps:
            span = side + 2 * p - d * (k - 1) - 1
            if span < 0:
                break
            out = (-(-span // s) if ceil else span // s) + 1
            if ceil and (out - 1) * s >= side + p:
                out -= 1
            side = out
        else:
            return n
    return None


def check_images(images, model: nn.Module | None = None, name: str = "images",
                 same_device: bool = True) -> torch.Tensor:
    """Check a batch at a public boundary and return it; every failure is a TypeError/ValueError naming ``name``.

    Expected: a (B, 3, H, W) floating-point tensor with B ≥ 1 and only finite values. With a ``model``: its parameters'
    dtype (float64/float16 images are *not* cast silently: the message says how), its device (unless
    ``same_device=False``: the caller moves batches), and a size it accepts — ``model.input_size`` exactly when the
    model has one (the course's ZFNets), else at least :func:`min_input_size` (torchvision's AlexNet/VGG).
    uint8 pictures must first go through the data source's preprocessing (``preprocess.to_input``).
    """
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name}: expected a (B, 3, H, W) torch.Tensor, got {type(images).__name__}")
    if images.dim() != 4 or images.shape[1] != 3:
        hint = f" (a single image? pass {name}[None])" if images.dim() == 3 and images.shape[0] == 3 else ""
        raise ValueError(f"{name}: expected a (B, 3, H, W) batch of RGB images, got shape {tuple(images.shape)}{hint}")
    if images.shape[0] == 0:
        raise ValueError(f"{name}: got an empty batch (0 images); expected at least one")
    if not images.is_floating_point():
        raise TypeError(f"{name}: expected floating-point values in the model's input space, got {images.dtype} "
                        "(convert pictures with the data source's preprocess.to_input first)")
    weight = next(model.parameters(), None) if model is not None else None
    if weight is not None:
        if images.dtype != weight.dtype:
            raise TypeError(f"{name}: got {images.dtype}, the model computes in {weight.dtype}; "
                            f"pass {name}.to({weight.dtype})")
        if same_device and images.device != weight.device:
            raise ValueError(f"{name}: on device {images.device}, the model on {weight.device}; move one of them, "
                             f"e.g. {name}.to({str(weight.device)!r})")
        h, w = images.shape[-2:]
        exact = getattr(model, "input_size", None)
        if isinstance(exact, int) and (h, w) != (exact, exact):
            raise ValueError(f"{name}: this model takes {exact}×{exact} images, got {h}×{w}")
        smallest = min_input_size(model) if exact is None else None
        if smallest is not None and min(h, w) < smallest:
            raise ValueError(f"{name}: {h}×{w} is too small for this model's conv/pool layers; the minimum is "
                             f"{smallest}×{smallest}")
    if images.device.type != "meta" and not bool(torch.isfinite(images).all()):
        bad = (~torch.isfinite(images)).flatten(1).any(1).nonzero().flatten().tolist()
        raise ValueError(f"{name}: holds NaN or inf values (image{'s' if len(bad) > 1 else ''} {bad[:5]}"
                         f"{' …' if len(bad) > 5 else ''}); expected finite pixel values")
    return images


@torch.no_grad()
def activations(model: nn.Module, images: torch.Tensor, layers=None) -> "OrderedDict[str, torch.Tensor]":
    """Outputs of the chosen layers for ``images`` (B, 3, H, W), keyed by full layer name, in forward order.

    ``layers`` is a list of names/indices accepted by :func:`zfcourse.models.resolve` (default: every leaf of
    ``features``). Each output is cloned when recorded, so in-place ReLUs later in the network cannot change it.
    The model is run in eval mode (dropout off) and restored to its previous mode afterwards. ``images`` must be
    finite, non-empty, of the model's dtype, on its device and of a size it accepts (:func:`check_images`).

    Example:
        >>> from zfcourse.models import zfnet
        >>> acts = activations(zfnet(), torch.zeros(1, 3, 224, 224), ["conv1", "pool5"])
        >>> [tuple(a.shape) for a in acts.values()]
        [(1, 96, 110, 110), (1, 256, 6, 6)]
    """
    check_images(images, model)
    names = [f"features.{n}" for n, _ in model.features.named_children()] if layers is None else layers
    targets = [resolve(model, n) for n in names]
    found, hooks = {}, []
    for full, module in targets:
        hooks.append(module.register_forward_hook(
            lambda m, i, o, full=full: found.__setitem__(full, o.detach().clone())))
    try:
        with evaluating(model):
            model(images)
    finally:
        for h in hooks:
            h.remove()
    order = [name for name, _ in model.named_modules()]
    return OrderedDict(sorted(((n, found[n]) for n, _ in targets), key=lambda kv: order.index(kv[0])))
