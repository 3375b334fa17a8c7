"""The way down in windows: each target carries only the part of a map its receptive field covers (§2.1, Fig. 2).

A single activation A_l[c, y, x] projected down is zero outside that unit's receptive field, so on full maps most of
the deconvnet's work multiplies zeros (for ZFNet's relu5: conv5ᵀ works on a 13×13 map that holds one non-zero value,
conv1ᵀ on a 110×110 map of which the 67×67 below the unit can be non-zero). Here each target carries a window — a
(C, h, w) block of the map and its top-left corner o in that map's coordinates (partly outside the map near the
border) — and each rule maps a window to the window of everything it can reach:

* filter (conv with kernel K, stride s, padding p, dilation d): convᵀ with no padding gives the whole reach,
  (h − 1)·s + d·(K − 1) + 1 rows from corner o·s − p; rows and columns outside the input map are the conv's zero
  padding, whose values the full-map convᵀ drops, so they are set to 0;
* unpool (pool K, s, p, d; same reach): each value goes to its switch, U(y)[i] = Σ_{s(w)=i} y[w] as in
  :func:`~zfcourse.deconv.unpool.unpool`; every switch of a window lies inside the window's reach;
* rectify: element-wise, with the window of the forward mask for backprop / guided; LRN, Dropout, Identity: nothing.

Every entry of a window is the same sum of the same terms as the full-map entry it stands for (the terms dropped are
products with zeros), so the result is :func:`~zfcourse.deconv.reverse.reverse` of the seed a·e_{c,y,x} — exactly in
real arithmetic, to float rounding in practice (the convolution kernels add the terms in another order: ~1e-7 of the
largest value) — at a cost proportional to the receptive field's area instead of the map's. Once a window would cover more than half of its
map (small images, low layers), the rest of the way down runs on full maps, as in ``reverse``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .reverse import check_rectify, rectify_down, reverse
from .trace import Trace


def _pair(v) -> tuple[int, int]:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


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
    k, s, p, d = (_pair(v) for v in (m.kernel_size, m.stride, m.padding, m.dilation))
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
                    rectify: str = "deconv") -> torch.Tensor:
    """Project activation (image[n], channel[n], pos[n]) of ``trace.layer`` down to pixels, in windows: (N, 3, H, W).

    R(a·e_{c,y,x}) for a = A_l[image[n], c, y, x]: the same as ``reverse(trace, seeds(trace, image, channel, pos),
    image, rectify)`` up to float rounding, computed in windows (module docstring). ``image`` (N,) indexes the recorded
    images; ``channel`` (N,) and ``pos`` (N, 2) must be valid (as checked by :func:`~zfcourse.deconv.project`).
    """
    check_rectify(rectify)
    a = trace.activation
    n = torch.arange(len(image), device=a.device)
    win = a.new_zeros(len(image), a.shape[1], 1, 1)
    win[n, channel, 0, 0] = a[image, channel, pos[:, 0], pos[:, 1]]
    corner, steps = pos, trace.steps
    for i in reversed(range(len(steps))):
        here = steps[i + 1].size if i + 1 < len(steps) else tuple(a.shape[-2:])
        if 2 * win.shape[-2] * win.shape[-1] > here[0] * here[1]:  # windows no longer save work: full maps from here
            return reverse(Trace(trace.layer, steps[:i + 1], a), paste(win, corner, here), image, rectify)
        step = steps[i]
        m = step.module
        if isinstance(m, nn.MaxPool2d):
            switches = gather(step.switches, image, corner, win.shape[-2:])  # flat y·W + x in the (H, W) input
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
