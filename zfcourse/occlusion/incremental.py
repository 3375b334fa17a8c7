"""Occlusion at the cost of what changed: exact incremental inference for the maps of Fig. 7 (§4.2).

An occluded image x̃ differs from x only inside the square Q = [y, y+size) × [x, x+size). Unit u of a conv or pool
layer (kernel k, stride s, padding p, dilation d; span K = d·(k − 1) + 1) reads input rows [u·s − p, u·s − p + K), so
its value can differ from the unoccluded one only if that span meets the rows [a, b) where its input changed:

    u0 = ⌈(a + p − K + 1) / s⌉,    u1 = ⌊(b − 1 + p) / s⌋ + 1,    clipped to [0, H_out),

and likewise for columns — chapter 1's receptive-field arithmetic run forwards, from the occluder up. Element-wise
layers keep the region: ReLU, dropout and batch norm in eval mode, and LRN, which mixes channels but not positions.
Outside the region every activation equals the unoccluded one, so the unoccluded activations of every layer are
computed once, and for each occluder position the network recomputes, layer by layer, only a window over the region:

1. take the input rows and columns the window's units read from the cached unoccluded map, padded beforehand with
   the layer's own padding value (0 for a conv, −∞ for max-pooling, which also stands for the overhang of ceil mode);
2. paste the previous layer's new window over them;
3. apply the layer's kernel with no padding: exactly the window's outputs come out.

Every recomputed value is the same sum (or max) of the same terms as in the full pass, so the maps equal those of
``method="full"`` up to float rounding (convolution kernels add in another order; ~1e-7 relative). The classifier runs
on the last feature map with the final window pasted in.

Batching: the windows of one batch share a size per layer, the largest its positions need; a window that would hang
over the map's edge is shifted inside (recomputing a few unchanged values is harmless). Positions go into batches as
blocks of similar distance to the borders, where windows are clipped small. Once a window would cover more than
:data:`FULL_SHARE` of its map the rest of ``features`` runs on whole maps (patched once), as a window would save little.

Cost: a conv layer's multiply-adds scale with its window's area, so per position the network does
Σ_l MA_l · share_l + MA_classifier instead of Σ_l MA_l + MA_classifier (:func:`occlusion_cost`). The idea and its name
come from Krypton (Nakandala, Kumar & Papakonstantinou, SIGMOD 2019), which reports up to 5× on VGG16.

Models: a ``features`` Sequential of Conv2d (zero padding), MaxPool2d and element-wise layers, then ``avgpool`` (if
any) → flatten → ``classifier`` — the course's ZF models, the Krizhevsky baseline, torchvision's AlexNet and VGG.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..models import geometry
from ..models.layers import pair
from ..models.modes import evaluating

# Above this share of a map, a window costs about what the whole map does: the rest of `features` runs on whole maps.
FULL_SHARE = 0.8

# Layers that act on each position (or on the channels at one position) alone: a window goes through unchanged in size.
POINTWISE = (nn.ReLU, nn.LeakyReLU, nn.ReLU6, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Hardtanh,
             nn.LocalResponseNorm, nn.BatchNorm2d, nn.Dropout, nn.Dropout2d, nn.Identity)


class Unsupported(ValueError):
    """The model has a part that incremental occlusion cannot recompute over a window; the message names it."""


@dataclass
class Step:
    """One layer of ``features``: its name, module and, for conv/pool, span K, stride, padding and map sizes."""
    name: str
    module: nn.Module
    windowed: bool                      # conv or max-pool: the window grows; else element-wise
    span: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    in_size: tuple[int, int] = (0, 0)
    out_size: tuple[int, int] = (0, 0)
    multiply_adds: int = 0              # of the whole map, per image (conv only)
    padded: torch.Tensor | None = None  # cached input map, padded, (H_p, W_p, C) channels-last
    out: torch.Tensor | None = None     # cached output map (1, C, H, W)


def _step(name: str, m: nn.Module) -> Step:
    """Classify a module of ``features``; raise :class:`Unsupported` naming it when it cannot work on a window."""
    what = f"{name} ({type(m).__name__})"
    if isinstance(m, nn.Conv2d):
        if m.padding_mode != "zeros" or isinstance(m.padding, str):
            raise Unsupported(f"{what} pads with {m.padding_mode!r}/{m.padding!r}; only numeric zero padding works")
    elif isinstance(m, nn.MaxPool2d):
        if m.return_indices:
            raise Unsupported(f"{what} returns indices")
    elif not isinstance(m, POINTWISE):
        raise Unsupported(f"{what} is not a conv, max-pool or element-wise layer, so its changed region is unknown")
    if not isinstance(m, (nn.Conv2d, nn.MaxPool2d)):
        return Step(name, m, False)
    k, d = pair(m.kernel_size), pair(m.dilation)
    return Step(name, m, True, tuple(d[i] * (k[i] - 1) + 1 for i in range(2)), pair(m.stride), pair(m.padding))


def grow(a: torch.Tensor, b: torch.Tensor, step: Step, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Changed rows (dim 0) or columns (dim 1) [a, b) of a layer's input → those of its output (module docstring)."""
    if not step.windowed:
        return a, b
    k, s, p, n = step.span[dim], step.stride[dim], step.padding[dim], step.out_size[dim]
    u0 = -torch.div(-(a + p - k + 1), s, rounding_mode="floor")
    u1 = torch.div(b - 1 + p, s, rounding_mode="floor") + 1
    u0, u1 = u0.clamp(0, n), u1.clamp(0, n)
    return u0, torch.maximum(u0, u1)


def _patch(base: torch.Tensor, win: torch.Tensor, corner: list, start: list, size: tuple[int, int]) -> torch.Tensor:
    """(B, C, *size) blocks of the cached map ``base`` (H, W, C), block b from ``start[b]`` = (row, column) on, with
    window b of ``win`` (B, C, h, w) pasted at ``corner[b]`` — all in ``base``'s coordinates; channels-last like it."""
    (rows, cols), (h, w) = size, win.shape[-2:]
    out = base.new_empty(len(win), rows, cols, base.shape[-1])
    new = win.permute(0, 2, 3, 1)
    for b, ((r, c), (y, x)) in enumerate(zip(start, corner)):
        out[b] = base[r:r + rows, c:c + cols]
        y0, y1, x0, x1 = max(y, r), min(y + h, r + rows), max(x, c), min(x + w, c + cols)
        if y0 < y1 and x0 < x1:
            out[b, y0 - r:y1 - r, x0 - c:x1 - c] = new[b, y0 - y:y1 - y, x0 - x:x1 - x]
    return out.permute(0, 3, 1, 2)


def _pad(x: torch.Tensor, st: Step) -> torch.Tensor:
    """(H_p, W_p, C): the input map of a conv/pool with the layer's padding, extended at the bottom and right as far
    as its last window reads (ceil mode); −∞ for max-pooling, where max_pool2d ignores what lies outside."""
    (py, px), (h, w) = st.padding, x.shape[-2:]
    value = 0.0 if isinstance(st.module, nn.Conv2d) else -math.inf
    extra_y = max(0, (st.out_size[0] - 1) * st.stride[0] + st.span[0] - (h + 2 * py))
    extra_x = max(0, (st.out_size[1] - 1) * st.stride[1] + st.span[1] - (w + 2 * px))
    return F.pad(x, (px, px + extra_x, py, py + extra_y), value=value)[0].permute(1, 2, 0).contiguous()


def _totals(out: torch.Tensor) -> torch.Tensor:
    """Per-map totals Σ_{u,v} a_c[u, v] of a (B, C, H, W) output; a (B, F) output's values are its own totals."""
    return out.flatten(2).sum(-1) if out.dim() > 2 else out


class Plan:
    """Incremental occlusion of one image: the cached unoccluded activations, every layer's changed region for every
    occluder position, and the windowed forward pass. Raises :class:`Unsupported` for a model it cannot run.

    ``ys``, ``xs`` are the occluder's top-left corners; ``layer`` (a full name or ``None``) is the layer whose map
    totals :meth:`run` returns beside the logits. Use under ``torch.no_grad()`` with the model in eval mode.
    """

    def __init__(self, model: nn.Module, image: torch.Tensor, size: int, ys: torch.Tensor, xs: torch.Tensor,
                 layer: str | None = None):
        features, classifier = getattr(model, "features", None), getattr(model, "classifier", None)
        if not isinstance(features, nn.Sequential) or not isinstance(classifier, nn.Sequential):
            raise Unsupported(f"model: {type(model).__name__} is not features → [avgpool] → flatten → classifier "
                              f"(torchvision-style Sequentials)")
        self.size, self.ys, self.xs = size, ys.tolist(), xs.tolist()
        self.steps = [_step(f"features.{name}", m) for name, m in features.named_children()]
        avgpool = getattr(model, "avgpool", None)
        self.avgpool = avgpool if isinstance(avgpool, nn.Module) else None
        self.head = [(f"classifier.{name}", m) for name, m in classifier.named_children()]
        if layer is not None and layer not in [s.name for s in self.steps] + [n for n, _ in self.head] + ["avgpool"]:
            raise Unsupported(f"layer: {layer} lies inside a block, not among the layers of features or classifier")
        self.layer = layer
        # The unoccluded pass, layer by layer, keeping every output and (padded) every conv/pool input.
        x = image[None].contiguous(memory_format=torch.channels_last)
        for st in self.steps:
            y = st.module(x.clone())  # a clone: an in-place layer would overwrite the map kept for the layer before
            st.in_size, st.out_size, st.out = tuple(x.shape[-2:]), tuple(y.shape[-2:]), y
            if st.windowed:
                st.padded = _pad(x, st)
            if isinstance(st.module, nn.Conv2d):
                m = st.module
                st.multiply_adds = y[0].numel() * (m.in_channels // m.groups) * math.prod(pair(m.kernel_size))
            x = y
        self.head_multiply_adds = sum(m.in_features * m.out_features for _, m in self.head if isinstance(m, nn.Linear))
        self.logits0, totals0 = self._head(x.clone())
        outs = {st.name: st.out for st in self.steps}
        self.totals0 = _totals(outs[layer])[0] if layer in outs else None if totals0 is None else totals0[0]
        # Changed rows (start, end) for every y, columns for every x, at every layer's output.
        self.rows, self.cols = self._regions(ys, 0), self._regions(xs, 1)

    def _regions(self, starts: torch.Tensor, dim: int) -> list[list[tuple[int, int]]]:
        a = starts.to(torch.long).cpu()
        b, out = a + self.size, []
        for st in self.steps:
            a, b = grow(a, b, st, dim)
            out.append([tuple(v) for v in torch.stack([a, b], 1).tolist()])
        return out

    def _head(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """avgpool (if any) → flatten → classifier, as torchvision's and the course's forward do; with the layer's
        totals when ``layer`` is one of these."""
        totals = None
        if self.avgpool is not None:
            x = self.avgpool(x)
            totals = _totals(x) if self.layer == "avgpool" else None
        x = torch.flatten(x, 1)
        for name, m in self.head:
            x = m(x)
            if name == self.layer:
                totals = _totals(x)
        return x, totals

    def schedule(self, iy: list[int], ix: list[int]) -> list[tuple[int, int, bool]]:
        """Per layer of ``features``: the window (h, w) the positions (ys[iy], xs[ix]) share — their largest changed
        region — and whether the layer runs on whole maps (from the first window above :data:`FULL_SHARE` on)."""
        out, whole = [], False
        for rows, cols, st in zip(self.rows, self.cols, self.steps):
            h, w = max(1, max(rows[i][1] - rows[i][0] for i in iy)), max(1, max(cols[j][1] - cols[j][0] for j in ix))
            whole = whole or (st.windowed and h * w > FULL_SHARE * st.out_size[0] * st.out_size[1])
            out.append((h, w, whole))
        return out

    def _work(self, iy: list[int], ix: list[int]) -> float:
        """Multiply-adds of the conv layers for the positions (ys[iy], xs[ix]) run as one batch."""
        return len(iy) * len(ix) * sum(
            st.multiply_adds * (1.0 if whole else h * w / (st.out_size[0] * st.out_size[1]))
            for st, (h, w, whole) in zip(self.steps, self.schedule(iy, ix)))

    def batches(self, batch_size: int) -> list[tuple[list[int], list[int]]]:
        """Batches as blocks (iy, ix) — the positions (ys[i], xs[j]) for i in iy, j in ix — of at most ``batch_size``.
        ys and xs are each sorted by the work their windows need, so the small clipped windows near the borders share
        blocks; of the block shapes, the one with the least work (plus a tenth of a position's work per batch) wins."""
        def order(regions):
            work = [sum((r[i][1] - r[i][0]) * st.multiply_adds for r, st in zip(regions, self.steps))
                    for i in range(len(regions[0]))]
            return sorted(range(len(work)), key=work.__getitem__)
        oy, ox = order(self.rows), order(self.cols)
        best, best_cost = None, math.inf
        for by in range(1, min(len(oy), batch_size) + 1):
            ky, kx = math.ceil(len(oy) / by), math.ceil(len(ox) / max(1, batch_size // by))
            by, bx = math.ceil(len(oy) / ky), math.ceil(len(ox) / kx)  # the same number of blocks, evened out
            blocks = [(oy[i:i + by], ox[j:j + bx]) for i in range(0, len(oy), by) for j in range(0, len(ox), bx)]
            work = [self._work(iy, ix) for iy, ix in blocks]
            cost = sum(work) * (1 + 0.1 * len(blocks) / (len(oy) * len(ox)))
            if cost < best_cost:
                best, best_cost = blocks, cost
        return best

    def run(self, iy: list[int], ix: list[int], fill: torch.Tensor,
            channel: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, classes) for the block of positions (ys[i], xs[j]), i in ``iy``, j in ``ix`` (row-major), and
        the total of map ``channel`` of ``layer`` (B,) when both are given: the module docstring's windowed pass."""
        pos = [(i, j) for i in iy for j in ix]
        n = len(pos)
        win = fill.reshape(1, -1, 1, 1).expand(n, -1, self.size, self.size)
        win = win.contiguous(memory_format=torch.channels_last)
        corner = [(self.ys[i], self.xs[j]) for i, j in pos]        # each window's top-left in the current map
        full, act = None, None
        for t, (st, (h, w, whole)) in enumerate(zip(self.steps, self.schedule(iy, ix))):
            py, px = st.padding
            if full is not None:
                full = st.module(full)
            elif not st.windowed:
                win = st.module(win)
            elif whole:  # the whole input map with the window pasted in, then the layer as it is
                full = st.module(_patch(st.padded, win, [(y + py, x + px) for y, x in corner], [(py, px)] * n,
                                        st.in_size))
            else:
                top = [(min(self.rows[t][i][0], st.out_size[0] - h), min(self.cols[t][j][0], st.out_size[1] - w))
                       for i, j in pos]
                size = ((h - 1) * st.stride[0] + st.span[0], (w - 1) * st.stride[1] + st.span[1])
                region = _patch(st.padded, win, [(y + py, x + px) for y, x in corner],
                                [(y * st.stride[0], x * st.stride[1]) for y, x in top], size)
                m = st.module
                if isinstance(m, nn.Conv2d):
                    win = F.conv2d(region, m.weight, m.bias, m.stride, 0, m.dilation, m.groups)
                else:
                    win = F.max_pool2d(region, m.kernel_size, m.stride, 0, m.dilation)
                corner = top
            if st.name == self.layer and channel is not None:
                if full is not None:
                    act = full[:, channel].flatten(1).sum(-1)
                else:  # the one map, patched whole, summed as a full pass sums it
                    act = _patch(st.out[0, channel:channel + 1].permute(1, 2, 0), win[:, channel:channel + 1],
                                 corner, [(0, 0)] * n, st.out_size).flatten(1).sum(-1)
        if full is None:
            last = self.steps[-1]
            full = _patch(last.out[0].permute(1, 2, 0), win, corner, [(0, 0)] * n, last.out_size)
        logits, totals = self._head(full)
        if totals is not None and channel is not None:
            act = totals[:, channel]
        return logits, act

    def cost(self, batch_size: int, batches=None) -> tuple[float, float, float]:
        """Multiply-adds per occluded image, averaged over all positions: (full pass, what :meth:`run` computes in
        the blocks of :meth:`batches` (or the ``batches`` given), the changed regions alone)."""
        full = sum(st.multiply_adds for st in self.steps) + self.head_multiply_adds
        n = len(self.ys) * len(self.xs)
        done = sum(self._work(iy, ix) for iy, ix in batches or self.batches(batch_size)) / n
        mean = lambda regions: sum(b - a for a, b in regions) / len(regions)  # noqa: E731
        bound = sum(st.multiply_adds * mean(r) * mean(c) / (st.out_size[0] * st.out_size[1])
                    for st, r, c in zip(self.steps, self.rows, self.cols))
        return full, done + self.head_multiply_adds, bound + self.head_multiply_adds


# -- How much is left to compute: the numbers and the picture behind the speed-up -------------------------------------

class OcclusionCost(NamedTuple):
    """Multiply-adds per occluded image, averaged over all occluder positions (conv and fully connected layers)."""
    full: float         # the whole network, as method="full" runs it
    incremental: float  # what method="incremental" computes: each batch's shared windows, whole maps past FULL_SHARE
    bound: float        # the changed regions alone: the least any exact method must compute

    def speedup(self, which: str = "bound") -> float:
        """full / incremental or full / bound: the multiply-add bound on the speed-up over method="full"."""
        return self.full / getattr(self, which)


class ChangedRegion(NamedTuple):
    """Where one conv or pool layer's output can change for one occluder position, and what recomputing it costs."""
    layer: str                               # full name, e.g. "features.conv3"
    box: tuple[int, int, int, int]           # (x0, y0, x1, y1) in the layer's map, end-exclusive
    map_size: tuple[int, int]                # the map's (H, W)
    share: float                             # box area / map area = the share of the layer's work left to do
    pixels: tuple[float, float, float, float]  # the box in input pixels: its units' cells (centre ± jump/2), unclipped
    multiply_adds: int                       # of the box (0 for a pool)
    full_multiply_adds: int                  # of the whole map


def _input_shape(model: nn.Module, image_shape) -> tuple[int, int]:
    if image_shape is None:
        side = int(getattr(model, "input_size", 224))
        return side, side
    if len(image_shape) != 2 or min(image_shape) < 1:
        raise ValueError(f"image_shape: expected (H, W), got {image_shape!r}")
    return int(image_shape[0]), int(image_shape[1])


@torch.no_grad()
def _plan(model: nn.Module, size: int, ys, xs, image_shape) -> Plan:
    h, w = _input_shape(model, image_shape)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= min(h, w):
        raise ValueError(f"size: expected an occluder side in 1..{min(h, w)} for a {h}×{w} image, got {size!r}")
    param = next(model.parameters())
    with evaluating(model):
        try:
            return Plan(model, torch.zeros(3, h, w, device=param.device, dtype=param.dtype), size,
                        torch.as_tensor(ys), torch.as_tensor(xs))
        except Unsupported as e:
            raise ValueError(f"model: incremental occlusion cannot run on it: {e}") from e


def occlusion_cost(model: nn.Module, size: int, stride: int, image_shape: tuple[int, int] | None = None,
                   batch_size: int = 64) -> OcclusionCost:
    r"""Multiply-adds per occluded image of :func:`~zfcourse.occlusion.occlusion_maps` with ``method="full"`` and
    ``"incremental"``, and the bound (§4.2; module docstring), averaged over the occluder positions of ``size`` and
    ``stride`` on an ``image_shape`` image (default the model's input size, else 224²):

        full = Σ_l MA_l + MA_fc,    bound = mean over positions of Σ_l MA_l · |R_l(y, x)| / (H_l W_l) + MA_fc

    with R_l(y, x) the layer's changed region. ``speedup()`` of the result is the multiply-add bound on the speed-up.

    Example:
        >>> from zfcourse.models import zfnet
        >>> cost = occlusion_cost(zfnet(width=0.125), size=32, stride=8)
        >>> round(cost.full / 1e6, 1), round(cost.speedup(), 2)  # ZFNet at full width: 1168.7 M, 4.23×
        (37.4, 7.04)
    """
    h, w = _input_shape(model, image_shape)
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride: expected a positive integer, got {stride!r}")
    plan = _plan(model, size, range(0, h - size + 1, stride), range(0, w - size + 1, stride), (h, w))
    return OcclusionCost(*plan.cost(batch_size))


def changed_regions(model: nn.Module, size: int, y: int, x: int,
                    image_shape: tuple[int, int] | None = None) -> list[ChangedRegion]:
    r"""For the occluder [y, y+size) × [x, x+size): every conv and pool layer's changed region (module docstring),
    its share of the layer's map — of its multiply-adds, for a conv — and where it lies in the image.

    The region's place in the image uses chapter 1's receptive-field arithmetic (:func:`zfcourse.models.geometry`):
    unit u of a layer with jump j and first centre c sits at c + u·j, so the units u0 … u1−1 cover the cells
    [c + u0·j − j/2, c + (u1−1)·j + j/2]. Higher layers' regions grow by about half a receptive field on each side.

    Example:
        >>> from zfcourse.models import zfnet
        >>> [f"{r.share:.1%}" for r in changed_regions(zfnet(width=0.125), 32, 96, 96) if "conv" in r.layer]
        ['3.0%', '9.5%', '29.0%', '47.9%', '71.6%']
    """
    h, w = _input_shape(model, image_shape)
    if not (0 <= y <= h - size and 0 <= x <= w - size):
        raise ValueError(f"y, x: the occluder's top-left corner must lie in [0, {h - size}] × [0, {w - size}], "
                         f"got ({y}, {x})")
    plan = _plan(model, size, [y], [x], (h, w))
    rows = {r.name: r for r in geometry(model, h if h == w else None)}
    out = []
    for t, st in enumerate(plan.steps):
        if not st.windowed:
            continue
        (u0, u1), (v0, v1) = plan.rows[t][0], plan.cols[t][0]
        c, j = rows[st.name].centre, rows[st.name].jump  # unit u's centre: c + u·j
        share = (u1 - u0) * (v1 - v0) / (st.out_size[0] * st.out_size[1])
        out.append(ChangedRegion(st.name, (v0, u0, v1, u1), st.out_size, share,
                                 (c + (v0 - 0.5) * j, c + (u0 - 0.5) * j, c + (v1 - 0.5) * j, c + (u1 - 0.5) * j),
                                 round(st.multiply_adds * share), st.multiply_adds))
    return out


def plot_changed_regions(model: nn.Module, size: int, y: int, x: int, image: torch.Tensor | None = None,
                         to_display=None):
    """Why incremental occlusion is fast, in one figure (§4.2; chapter 1's receptive fields): on the left, the occluder
    and, drawn over it, the part of each conv layer's map that it can change (:func:`changed_regions`, in input
    pixels); on the right, that part's share of each conv layer's multiply-adds, and the whole network's.

    Args:
        model: a model :func:`~zfcourse.occlusion.occlusion_maps` can run incrementally (ZFNet, AlexNet, VGG, …).
        size, y, x: the occluder's side and top-left corner in pixels.
        image: (3, H, W) to draw behind (default a grey canvas of the model's input size).
        to_display: image → (H, W, 3) picture for imshow (default :func:`zfcourse.plots.to_image`).

    Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from ..plots import to_image
    shape = tuple(image.shape[-2:]) if image is not None else None
    regions = [r for r in changed_regions(model, size, y, x, shape) if r.full_multiply_adds]
    h, w = shape or _input_shape(model, None)
    plan_cost = _plan(model, size, [y], [x], (h, w)).cost(1)
    # Drawn for a ~780-px text column at 100 dpi with 10-pt text: the image and its legend above, the bars below.
    fig, (left, right) = plt.subplots(2, 1, figsize=(7.0, 7.2), layout="constrained",
                                      gridspec_kw=dict(height_ratios=(1.15, 1)))
    left.imshow((to_display or to_image)(image) if image is not None else np.full((h, w, 3), 0.85))
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(regions)))
    left.add_patch(Rectangle((x - 0.5, y - 0.5), size, size, facecolor="grey", edgecolor="white", lw=1, alpha=0.95))
    for r, colour in zip(regions, colours):
        x0, y0, x1, y1 = (min(max(v, -0.5), lim - 0.5) for v, lim in zip(r.pixels, (w, h, w, h)))
        left.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=colour, lw=1.6,
                                 label=f"{r.layer.split('.')[-1]}: {r.box[3] - r.box[1]}×{r.box[2] - r.box[0]} "
                                       f"of {r.map_size[0]}×{r.map_size[1]}"))
    left.set_xlim(-0.5, w - 0.5), left.set_ylim(h - 0.5, -0.5), left.set_xticks([]), left.set_yticks([])
    left.legend(fontsize=10, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
                title="changed region of each layer", title_fontsize=10)
    left.set_title(f"{size}×{size} occluder at (x={x}, y={y}): what can change", fontsize=10)
    names = [r.layer.split(".")[-1] for r in regions]
    right.bar(names, [100] * len(regions), color="0.9", label="full pass")
    right.bar(names, [100 * r.share for r in regions], color=colours, label="changed region")
    for i, r in enumerate(regions):
        right.text(i, 100 * r.share + 2, f"{r.share:.0%}", ha="center", fontsize=10)
    full, _, bound = plan_cost
    right.set_ylabel("% of the layer's multiply-adds", fontsize=10), right.set_ylim(0, 115)
    right.tick_params(labelsize=10)
    right.set_title(f"whole network: {bound / full:.0%} of a full pass's multiply-adds ({full / bound:.1f}× fewer)",
                    fontsize=10)
    right.legend(fontsize=10, loc="upper left", frameon=False)
    return fig
