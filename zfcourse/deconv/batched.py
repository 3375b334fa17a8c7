"""Many projections at once, each in a window over its receptive field (§2.1, Fig. 2): the speed-up of ``project``.

Top-9 of every conv5 map is 2,304 projections, so targets are stacked into the batch. They are grouped by image: the
forward pass (and its switches) is computed once per image, then the seeds of that image's targets go down together,
``chunk`` at a time, picking their own image's switches.

A single activation A_l[c, y, x] projected down is zero outside that unit's receptive field, so on full maps most of
the deconvnet's work multiplies zeros (for ZFNet's relu5: conv5ᵀ works on a 13×13 map that holds one non-zero value,
conv1ᵀ on a 110×110 map of which the 67×67 below the unit can be non-zero). Here each target carries a *window* — a
(C, h, w) block of the map and its top-left corner o in that map's coordinates (partly outside the map near the
border) — and each rule maps a window to the window of everything it can reach:

* filter (conv with kernel K, stride s, padding p, dilation d): convᵀ with no padding gives the whole reach,
  (h − 1)·s + d·(K − 1) + 1 rows from corner o·s − p; rows and columns outside the input map are the conv's zero
  padding, whose values the full-map convᵀ drops, so they are set to 0;
* unpool (pool K, s, p, d; same reach): each value goes to its switch, U(y)[i] = Σ_{s(w)=i} y[w]; every switch of a
  window lies inside the window's reach. For ``unpool="overwrite"`` the windows that lose their switch to a later
  window of the *full* map are zeroed first (a window outside the reach writes a zero there);
* rectify: element-wise, with the window of the forward mask for backprop / guided; LRN, Dropout, Identity: nothing.

Every entry of a window is the same sum of the same terms as the full-map entry it stands for (the terms dropped are
products with zeros), so the result is :func:`~zfcourse.deconv.reverse` of the seed a·e_{c,y,x} — exactly in real
arithmetic, to float rounding in practice (the convolution kernels add the terms in another order: ~1e-7 of the
largest value) — at a cost proportional to the receptive field's area instead of the map's. Once a window would cover
more than half of its map (small images, low layers), the rest of the way down runs on full maps.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..models.layers import pair
from ..models.summary import crop, layer_geometry
from .deconvnet import (Trace, channels_of, check_images, check_rectify, check_unpool, last_writers, positions_of,
                        record, rectify_down, reverse)


def check_targets(targets, n_images: int) -> torch.Tensor:
    """Raise ValueError naming ``targets`` unless it is an integer (N, 4) tensor of (image, channel, y, x) rows."""
    t = torch.as_tensor(targets)
    if t.dim() != 2 or t.shape[1] != 4 or t.is_floating_point():
        raise ValueError(f"targets: expected an integer tensor of (image, channel, y, x) rows, shape (N, 4), "
                         f"got {t.dtype} {tuple(t.shape)}")
    if len(t) and (t[:, 0].min() < 0 or t[:, 0].max() >= n_images):
        raise ValueError(f"targets: image indices must lie in 0..{n_images - 1}")
    return t.long()


def gather(t: torch.Tensor, image: torch.Tensor, corner: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Windows t[image[n], :, o_y + i, o_x + j] (i < h, j < w) of ``t`` (B, C, H, W): (N, C, h, w).

    Entries outside the map repeat its nearest edge; the caller only uses them against a zero signal.
    """
    ar = [torch.arange(n, device=t.device) for n in size]
    rows = (corner[:, :1] + ar[0]).clamp(0, t.shape[-2] - 1)
    cols = (corner[:, 1:] + ar[1]).clamp(0, t.shape[-1] - 1)
    return t[image[:, None, None], :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def _reach(win: torch.Tensor, corner: torch.Tensor, m: nn.Module) -> tuple[tuple[int, int], torch.Tensor]:
    """Size and corner of everything a conv's or pool's window ``win`` at ``corner`` reaches in the module's input."""
    k, s, p, d = (pair(v) for v in (m.kernel_size, m.stride, m.padding, m.dilation))
    size = tuple((win.shape[2 + i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 for i in range(2))
    return size, corner * torch.tensor(s, device=corner.device) - torch.tensor(p, device=corner.device)


def _zero_outside(win: torch.Tensor, corner: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Set the entries of ``win`` that lie outside the (H, W) = ``size`` map to 0."""
    ys = corner[:, :1] + torch.arange(win.shape[-2], device=win.device)
    xs = corner[:, 1:] + torch.arange(win.shape[-1], device=win.device)
    inside = ((ys >= 0) & (ys < size[0]))[:, :, None] & ((xs >= 0) & (xs < size[1]))[:, None, :]
    return win.masked_fill_(~inside[:, None], 0)


def paste(win: torch.Tensor, corner: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Full (N, C, *size) maps, zero except window n placed with its top-left at ``corner[n]`` (clipped to the map)."""
    out = win.new_zeros(*win.shape[:2], *size)
    h, w = win.shape[-2:]
    for n, (y, x) in enumerate(corner.tolist()):
        y0, x0, y1, x1 = max(y, 0), max(x, 0), min(y + h, size[0]), min(x + w, size[1])
        if y1 > y0 and x1 > x0:
            out[n, :, y0:y1, x0:x1] = win[n, :, y0 - y:y1 - y, x0 - x:x1 - x]
    return out


@torch.no_grad()
def reverse_windows(trace: Trace, image: torch.Tensor, channel: torch.Tensor, pos: torch.Tensor,
                    rectify: str = "deconv", unpool: str = "add") -> torch.Tensor:
    """Project activation (image[n], channel[n], pos[n]) of ``trace.layer`` down to pixels, in windows: (N, 3, H, W).

    R(a·e_{c,y,x}) for a = A_l[image[n], c, y, x]: the same as ``reverse(trace, seeds(trace, image, channel, pos),
    image, rectify, unpool)`` up to float rounding, computed in windows (module docstring). ``image`` (N,) indexes the
    recorded images; ``channel`` (N,) and ``pos`` (N, 2) must be valid (as checked by :func:`project_many`).
    """
    check_rectify(rectify)
    check_unpool(unpool)
    a = trace.activation
    n = torch.arange(len(image), device=a.device)
    win = a.new_zeros(len(image), a.shape[1], 1, 1)
    win[n, channel, 0, 0] = a[image, channel, pos[:, 0], pos[:, 1]]
    corner, steps = pos, trace.steps
    for i in reversed(range(len(steps))):
        here = steps[i + 1].size if i + 1 < len(steps) else tuple(a.shape[-2:])
        if 2 * win.shape[-2] * win.shape[-1] > here[0] * here[1]:  # windows no longer save work: full maps from here
            return reverse(Trace(trace.layer, steps[:i + 1], a), paste(win, corner, here), image, rectify, unpool)
        step = steps[i]
        m = step.module
        if isinstance(m, nn.MaxPool2d):
            switches = gather(step.switches, image, corner, win.shape[-2:])  # flat y·W + x in the (H, W) input
            if unpool == "overwrite":
                win = win * gather(last_writers(step.switches, step.size), image, corner, win.shape[-2:])
            (h, w), corner = _reach(win, corner, m)
            # (y − o_y)·w + (x − o_x) = switch − y·(W − w) − (o_y·w + o_x): the switch's place in the h × w window.
            # Every gathered switch lies in the window: the window always overlaps the map, so the edge rows and
            # columns gather repeats (against a zero signal) are rows and columns of the window.
            local = switches - (switches // step.size[1]) * (step.size[1] - w)
            local -= (corner[:, 0] * w + corner[:, 1])[:, None, None, None]
            out = win.new_zeros(*win.shape[:2], h * w)
            out.scatter_add_(2, local.flatten(2), win.flatten(2))
            win = out.view(*win.shape[:2], h, w)
        elif isinstance(m, nn.ReLU):
            mask = None if step.mask is None else gather(step.mask, image, corner, win.shape[-2:])
            win = rectify_down(win, mask, rectify)
        elif isinstance(m, nn.Conv2d):
            _, corner = _reach(win, corner, m)
            win = F.conv_transpose2d(win, m.weight, None, m.stride, 0, 0, m.groups, m.dilation)
            win = _zero_outside(win, corner, step.size)
    return paste(win, corner, steps[0].size)


def project_many(model: nn.Module, images: torch.Tensor, layer: str | int, targets, rectify: str = "deconv",
                 chunk: int = 32, crop_to_field: bool = False, unpool: str = "add") -> torch.Tensor:
    r"""Project many activations, several per image, with the deconvnet of §2.1: row n of ``targets`` gives one.

    Same maths as :func:`~zfcourse.deconv.project` (R(a · e_{c,y,x}) for a = A_l[image, c, y, x]), batched over
    targets: images are recorded ``chunk`` at a time, and their targets' seeds go down ``chunk`` at a time, each in a
    window over its receptive field (:func:`reverse_windows`; equal to the full-map way down up to float rounding).

    Args:
        model, images, layer, rectify, unpool: as in :func:`~zfcourse.deconv.project`.
        targets: (N, 4) integer tensor of (image index into ``images``, channel, y, x) rows.
        chunk: images per forward pass and targets per reverse pass (memory ∝ chunk).
        crop_to_field: return only each target's r × r receptive field (N, 3, r, r) — all a projection's non-zero
            pixels, what Fig. 2 shows, and far less memory than (N, 3, H, W).

    Example:
        >>> from zfcourse.models import course_model
        >>> model = course_model().eval()
        >>> targets = torch.tensor([[0, 0, 2, 2], [0, 1, 2, 2], [1, 0, 2, 3]])
        >>> project_many(model, torch.randn(2, 3, 168, 168), "relu5", targets, crop_to_field=True).shape
        torch.Size([3, 3, 139, 139])
    """
    check_rectify(rectify)
    check_unpool(unpool)
    check_images(images, model)
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise ValueError(f"chunk: expected a positive integer, got {chunk!r}")
    targets = check_targets(targets, len(images)).to(images.device)
    out = None
    for start in range(0, len(images), chunk):
        trace = record(model, images[start:start + chunk], layer, masks=rectify != "deconv")
        if crop_to_field and out is None:
            row = layer_geometry(model, trace.layer)
        mine = ((targets[:, 0] >= start) & (targets[:, 0] < start + chunk)).nonzero().flatten()
        for part in mine.split(chunk):
            image, t = targets[part, 0] - start, targets[part]
            channel = channels_of(t[:, 1], len(t), trace)
            pos = positions_of(t[:, 2:], channel, trace)
            p = reverse_windows(trace, image, channel, pos, rectify, unpool)
            if crop_to_field:
                p = crop(p, row, pos)
            if out is None:
                out = p.new_zeros(len(targets), *p.shape[1:])
            out[part] = p
    if out is None:  # no targets
        return images.new_zeros(0, 3, *images.shape[-2:])
    return out
