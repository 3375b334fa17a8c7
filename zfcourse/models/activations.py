"""Record what every layer of a convnet computes on a forward pass (§2: "feature maps" at each layer)."""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .layers import resolve
from .modes import evaluating


@torch.no_grad()
def activations(model: nn.Module, images: torch.Tensor, layers=None) -> "OrderedDict[str, torch.Tensor]":
    """Outputs of the chosen layers for ``images`` (B, 3, H, W), keyed by full layer name, in forward order.

    ``layers`` is a list of names/indices accepted by :func:`zfcourse.models.resolve` (default: every leaf of
    ``features``). Each output is cloned when recorded, so in-place ReLUs later in the network cannot change it.
    The model is run in eval mode (dropout off) and restored to its previous mode afterwards.

    Example:
        >>> from zfcourse.models import zfnet
        >>> acts = activations(zfnet(), torch.zeros(1, 3, 224, 224), ["conv1", "pool5"])
        >>> [tuple(a.shape) for a in acts.values()]
        [(1, 96, 110, 110), (1, 256, 6, 6)]
    """
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images: expected a (B, 3, H, W) batch of RGB images, got {tuple(images.shape)}")
    names = [f"features.{n}" for n, _ in model.features.named_children()] if layers is None else layers
    targets = [resolve(model, n) for n in names]
    found, hooks = {}, []
    for full, module in targets:
        hooks.append(module.register_forward_hook(lambda m, i, o, full=full: found.__setitem__(full, o.detach().clone())))
    try:
        with evaluating(model):
            model(images)
    finally:
        for h in hooks:
            h.remove()
    order = [name for name, _ in model.named_modules()]
    return OrderedDict(sorted(((n, found[n]) for n, _ in targets), key=lambda kv: order.index(kv[0])))
