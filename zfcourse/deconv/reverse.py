"""The deconvnet's way down (§2.1, Fig. 1 top): unpool, rectify, filter — repeated until pixel space.

For a recorded :class:`~zfcourse.deconv.trace.Trace`, each module is undone in reverse order:

* MaxPool2d → **unpool** with the recorded switches (the adjoint of pooling, overlapping windows add);
* ReLU → **rectify**: ``"deconv"`` (the paper) passes relu(signal); ``"backprop"`` passes signal · [forward input > 0]
  (what the gradient does); ``"guided"`` passes relu(signal) · [forward input > 0] (guided backprop, Springenberg 2015);
* Conv2d → **filter** with the transposed weights and no bias: ``conv_transpose2d`` — the flipped filters of the paper
  (⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩);
* LocalResponseNorm, Dropout, Identity → nothing (the paper skips contrast normalisation on the way down).

Every rule is positively homogeneous (rule(a·s) = a·rule(s) for a ≥ 0) and linear except the rectification, so the
result equals autograd's gradient with each ReLU's backward replaced by the rule above and LRN's by the identity.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .trace import Trace
from .unpool import unpool

RECTIFY = ("deconv", "backprop", "guided")


def check_rectify(rectify: str) -> None:
    """Raise ValueError naming ``rectify`` unless it is one of :data:`RECTIFY`."""
    if rectify not in RECTIFY:
        raise ValueError(f"rectify: expected one of {RECTIFY}, got {rectify!r}")


def filter_down(signal: torch.Tensor, conv: nn.Conv2d, size: tuple[int, int]) -> torch.Tensor:
    """convᵀ(signal): the adjoint of ``conv`` without its bias, giving a map of the conv's input ``size``."""
    def _t(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    k, s, p, d = _t(conv.kernel_size), _t(conv.stride), _t(conv.padding), _t(conv.dilation)
    # A strided conv may ignore the last rows/columns of its input; output_padding restores the input's exact size.
    extra = tuple(size[i] - ((signal.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1) for i in range(2))
    return F.conv_transpose2d(signal, conv.weight, None, s, p, extra, conv.groups, d)


def rectify_down(signal: torch.Tensor, mask: torch.Tensor | None, rectify: str) -> torch.Tensor:
    """The ReLU's rule on the way down: relu(signal), signal·mask or relu(signal)·mask (module docstring)."""
    if rectify == "deconv":
        return torch.relu(signal)
    signal = signal * mask if rectify == "backprop" else torch.relu(signal) * mask
    return signal


@torch.no_grad()
def reverse(trace: Trace, seeds: torch.Tensor, image: torch.Tensor | None = None, rectify: str = "deconv") -> torch.Tensor:
    """Project ``seeds`` (N, C, h, w), maps at ``trace.layer``, down to pixel space: returns (N, 3, H, W).

    ``image`` (N,) says which recorded image each seed belongs to (its switches and masks are used); None means
    seed n belongs to image n.
    """
    check_rectify(rectify)
    pick = (lambda t: t) if image is None else (lambda t: t[image])
    signal = seeds
    for step in reversed(trace.steps):
        m = step.module
        if isinstance(m, nn.MaxPool2d):
            signal = unpool(signal, pick(step.switches), step.size)
        elif isinstance(m, nn.ReLU):
            signal = rectify_down(signal, None if step.mask is None else pick(step.mask), rectify)
        elif isinstance(m, nn.Conv2d):
            signal = filter_down(signal, m, step.size)
    return signal
