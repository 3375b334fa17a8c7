"""Project one activation of a feature map back to pixel space (§2.1): the public entry points.

What "the layer" means — the seed is placed at that layer's output, so:

* a **ReLU** layer (``"relu5"``, torchvision ``"features.11"``): the paper's feature maps. The value is ≥ 0 and the way
  down starts with that ReLU's own rectification, which changes nothing for a positive seed.
* a **conv** layer (``"conv5"``): the pre-ReLU response; the value may be negative and is kept as it is (the
  projection of a negative value is not minus that of its magnitude, since the rectifications below are not linear).
  For a positive value the projection equals that of the ReLU right after it.
* a **pool** layer (``"pool5"``): the value is the window's maximum; unpooling sends it to its switch, so the result is
  the projection of that ReLU unit.
* an **LRN** layer (``"norm2"``): the normalised value, projected as if the LRN were not there (the paper skips it).
"""
from __future__ import annotations

import torch
from torch import nn

from .reverse import check_rectify, reverse
from .trace import Trace, record


def _channels(channel, n: int, trace: Trace) -> torch.Tensor:
    maps = trace.activation.shape[1]
    if isinstance(channel, torch.Tensor):
        if channel.dim() != 1 or len(channel) != n or channel.is_floating_point():
            raise ValueError(f"channel: expected an int or an integer tensor of shape ({n},), got {channel.dtype} "
                             f"{tuple(channel.shape)}")
        channel = channel.to(trace.activation.device, torch.long)
    elif isinstance(channel, int) and not isinstance(channel, bool):
        channel = torch.full((n,), channel, dtype=torch.long, device=trace.activation.device)
    else:
        raise TypeError(f"channel: expected an int or a ({n},) tensor, got {type(channel).__name__}")
    bad = (channel < 0) | (channel >= maps)
    if bad.any():
        raise ValueError(f"channel: {channel[bad][0].item()} is out of range for {trace.layer} "
                         f"({maps} maps: 0..{maps - 1})")
    return channel


def _positions(position, channel: torch.Tensor, trace: Trace) -> torch.Tensor:
    a = trace.activation
    n, (h, w) = len(channel), a.shape[-2:]
    if position is None:  # each image's strongest unit in its channel
        flat = a[torch.arange(n, device=a.device), channel].flatten(1).argmax(1)
        return torch.stack([flat // w, flat % w], 1)
    pos = torch.as_tensor(position, dtype=torch.long, device=a.device)
    if pos.shape == (2,):
        pos = pos.expand(n, 2)
    if pos.shape != (n, 2):
        raise ValueError(f"position: expected None, a (y, x) pair or a ({n}, 2) tensor, got shape {tuple(pos.shape)}")
    bad = (pos[:, 0] < 0) | (pos[:, 0] >= h) | (pos[:, 1] < 0) | (pos[:, 1] >= w)
    if bad.any():
        y, x = pos[bad][0].tolist()
        raise ValueError(f"position: ({y}, {x}) is outside the {h}×{w} map of {trace.layer}")
    return pos


def seeds(trace: Trace, image: torch.Tensor, channel: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """(N, C, h, w) maps at ``trace.layer``: zero except activation (image, channel, y, x) at its own place and value."""
    a = trace.activation
    out = a.new_zeros(len(image), *a.shape[1:])
    n = torch.arange(len(image), device=a.device)
    out[n, channel, pos[:, 0], pos[:, 1]] = a[image, channel, pos[:, 0], pos[:, 1]]
    return out


def project(model: nn.Module, images: torch.Tensor, layer: str | int, channel, position=None,
            rectify: str = "deconv") -> torch.Tensor:
    r"""Project one activation per image down to pixel space with the deconvnet of §2.1 (Fig. 1).

    The convnet runs forward once, recording the max-pool switches. The chosen activation a = A_l[c, y, x] is kept at
    its value, every other activation of layer l is set to zero, and the result goes down through the layers beneath
    by unpool (with the switches; overlapping windows add), rectify (ReLU) and filter (transposed convolution, no bias),
    skipping contrast normalisation. With R the way down (see :mod:`zfcourse.deconv.reverse`), the result is

        R(a · e_{c,y,x}) = a · ∂̃a/∂x   (for a ≥ 0),

    where ∂̃ is autograd's derivative with every ReLU's backward replaced by a ReLU of the incoming signal and LRN's by
    the identity. What projecting from a conv, ReLU, pool or LRN layer means: see :mod:`zfcourse.deconv.project`.

    Args:
        model: a torchvision-style convnet (``features`` an nn.Sequential of Conv2d, ReLU, MaxPool2d, LRN, Dropout):
            :func:`zfcourse.models.zfnet`, ``krizhevsky``, ``course_model``, torchvision AlexNet, VGG11/16, ...
        images: (B, 3, H, W) images in the model's input space.
        layer: ``"conv5"``, ``"features.relu5"``, ``"features.11"``, ``11`` — see :func:`zfcourse.models.resolve`.
        channel: the feature map, an int or a (B,) integer tensor (one per image).
        position: the unit (y, x) in that map: None (each image's strongest unit of that channel), a pair, or (B, 2).
        rectify: ``"deconv"`` (the paper: ReLU of the signal), ``"backprop"`` (the forward pass's binary mask: the
            plain gradient, the alternative §2.1's rectification departs from) or ``"guided"`` (both).

    Returns:
        (B, 3, H, W) projections in input space, zero outside the unit's receptive field.

    Raises:
        KeyError: unknown ``layer`` (the valid names are listed). ValueError/TypeError: ``images`` not (B, 3, H, W),
        ``channel`` out of range, ``position`` outside the map, unknown ``rectify``. NotInvertibleError (a TypeError):
        a module on the way down the deconvnet cannot invert (BatchNorm, a residual block, ...), named.

    Example:
        >>> from zfcourse.models import zfnet
        >>> model = zfnet(width=0.25).eval()
        >>> x = torch.randn(2, 3, 224, 224) * 50
        >>> project(model, x, "conv5", channel=3).shape
        torch.Size([2, 3, 224, 224])
    """
    check_rectify(rectify)
    trace = record(model, images, layer, masks=rectify != "deconv")
    n = len(images)
    channel = _channels(channel, n, trace)
    pos = _positions(position, channel, trace)
    image = torch.arange(n, device=images.device)
    return reverse(trace, seeds(trace, image, channel, pos), rectify=rectify)
