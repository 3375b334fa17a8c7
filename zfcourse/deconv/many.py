"""Many projections at once: top-9 of every conv5 map is 2,304 projections, so targets are stacked into the batch.

Targets are grouped by image: the forward pass (and its switches) is computed once per image, then the seeds of that
image's targets go down together, ``chunk`` at a time, picking their own image's switches. Each target goes down in
a window over its own receptive field (:mod:`zfcourse.deconv.window`), not over whole maps, so one projection costs
less than one forward pass of the trunk below the layer when the receptive field is smaller than the image.
"""
from __future__ import annotations

import torch
from torch import nn

from .patches import crop, layer_geometry
from .project import _channels, _positions
from .reverse import check_rectify
from .trace import check_images, record
from .window import reverse_windows


def check_targets(targets, n_images: int) -> torch.Tensor:
    """Raise ValueError naming ``targets`` unless it is an integer (N, 4) tensor of (image, channel, y, x) rows."""
    t = torch.as_tensor(targets)
    if t.dim() != 2 or t.shape[1] != 4 or t.is_floating_point():
        raise ValueError(f"targets: expected an integer tensor of (image, channel, y, x) rows, shape (N, 4), "
                         f"got {t.dtype} {tuple(t.shape)}")
    if len(t) and (t[:, 0].min() < 0 or t[:, 0].max() >= n_images):
        raise ValueError(f"targets: image indices must lie in 0..{n_images - 1}")
    return t.long()


def project_many(model: nn.Module, images: torch.Tensor, layer: str | int, targets, rectify: str = "deconv",
                 chunk: int = 32, crop_to_field: bool = False) -> torch.Tensor:
    r"""Project many activations, several per image, with the deconvnet of §2.1: row n of ``targets`` gives one.

    Same maths as :func:`~zfcourse.deconv.project` (R(a · e_{c,y,x}) for a = A_l[image, c, y, x]), batched over
    targets: images are recorded ``chunk`` at a time, and their targets' seeds go down ``chunk`` at a time, each in a
    window over its receptive field (:func:`~zfcourse.deconv.window.reverse_windows`; equal to the full-map way down
    up to float rounding).

    Args:
        model, images, layer, rectify: as in :func:`~zfcourse.deconv.project`.
        targets: (N, 4) integer tensor of (image index into ``images``, channel, y, x) rows.
        chunk: images per forward pass and targets per reverse pass (memory ∝ chunk).
        crop_to_field: return only each target's r × r receptive field (N, 3, r, r) — all a projection's non-zero
            pixels, what Fig. 2 shows, and far less memory than (N, 3, H, W).

    Example:
        >>> from zfcourse.models import zfnet
        >>> model = zfnet(width=0.25).eval()
        >>> targets = torch.tensor([[0, 0, 6, 6], [0, 1, 6, 6], [1, 0, 2, 3]])
        >>> project_many(model, torch.randn(2, 3, 224, 224), "relu5", targets, crop_to_field=True).shape
        torch.Size([3, 3, 139, 139])
    """
    check_rectify(rectify)
    check_images(images)
    targets = check_targets(targets, len(images)).to(images.device)
    out = None
    for start in range(0, len(images), chunk):
        trace = record(model, images[start:start + chunk], layer, masks=rectify != "deconv")
        if crop_to_field and out is None:
            row = layer_geometry(model, trace.layer)
        mine = ((targets[:, 0] >= start) & (targets[:, 0] < start + chunk)).nonzero().flatten()
        for part in mine.split(chunk):
            image, t = targets[part, 0] - start, targets[part]
            channel = _channels(t[:, 1], len(t), trace)
            pos = _positions(t[:, 2:], channel, trace)
            p = reverse_windows(trace, image, channel, pos, rectify)
            if crop_to_field:
                p = crop(p, row, pos)
            if out is None:
                out = p.new_zeros(len(targets), *p.shape[1:])
            out[part] = p
    if out is None:  # no targets
        return images.new_zeros(0, 3, *images.shape[-2:])
    return out
