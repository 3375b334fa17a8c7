"""Fig. 1 (bottom) with the numbers visible: max-pooling records switches, unpooling puts values back at them.

For chapter 2's worked example. A small map x is pooled with overlapping windows (3×3, stride 2, as in the paper's
models); each window's argmax is its switch s(w). Unpooling a signal y from the layer above is the adjoint of pooling
with the switches held fixed,

    U(y)[i] = Σ_{w : s(w) = i} y[w],

so where two windows share a switch their values **add**. ``torch.nn.functional.max_unpool2d`` writes each value to
its switch instead (one write wins), which is the right inverse only for non-overlapping windows.
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle
from torch import nn

from ..models.layers import pair
from .deconvnet import pool_with_switches, unpool

WINDOW_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
                  "tab:cyan")


@dataclass
class Unpooling:
    """The worked example's tensors, all 2-D: ``x`` the map, ``pooled`` P(x), ``switches`` (flat indices into x),
    ``signal`` y from above, ``unpooled`` U(y) (adding) and ``overwritten`` max_unpool2d(y) (one write wins)."""
    x: torch.Tensor
    pooled: torch.Tensor
    switches: torch.Tensor
    signal: torch.Tensor
    unpooled: torch.Tensor
    overwritten: torch.Tensor
    windows: list  # per pooled unit (row-major): box (x0, y0, x1, y1) of its window in x, clipped, end-exclusive


def windows_of(pool: nn.MaxPool2d, out_shape, in_shape) -> list[tuple[int, int, int, int]]:
    """The input window, a box (x0, y0, x1, y1) end-exclusive, of every output unit of ``pool``, row-major, clipped to
    the input.

    Example:
        >>> windows_of(nn.MaxPool2d(3, 2, ceil_mode=True), (2, 2), (4, 4))
        [(0, 0, 3, 3), (2, 0, 4, 3), (0, 2, 3, 4), (2, 2, 4, 4)]
    """
    (k, _), (s, _), (p, _) = pair(pool.kernel_size), pair(pool.stride or pool.kernel_size), pair(pool.padding)
    spans = [[(max(r * s - p, 0), min(r * s - p + k, n)) for r in range(m)] for m, n in zip(out_shape, in_shape)]
    return [(x0, y0, x1, y1) for (y0, y1) in spans[0] for (x0, x1) in spans[1]]


def unpooling_example(x, pool: nn.MaxPool2d, signal=None) -> Unpooling:
    """Pool the 2-D map ``x`` with ``pool``, then unpool ``signal`` (default all ones) both ways.

    Example:
        >>> x = torch.tensor([[1., 0, 2, 0], [0, 3, 0, 10], [2, 0, 9, 0], [0, 1, 0, 12]])
        >>> ex = unpooling_example(x, nn.MaxPool2d(3, 2, ceil_mode=True))
        >>> ex.switches.tolist(), ex.unpooled[2, 2].item(), ex.overwritten[2, 2].item()
        ([[10, 7], [10, 15]], 2.0, 1.0)
    """
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.dim() != 2:
        raise ValueError(f"x: expected a 2-D map, got shape {tuple(x.shape)}")
    pooled, s = pool_with_switches(x[None, None], pool)
    signal = torch.ones_like(pooled[0, 0]) if signal is None else torch.as_tensor(signal, dtype=torch.float32)
    if signal.shape != pooled.shape[-2:]:
        raise ValueError(f"signal: expected the pooled shape {tuple(pooled.shape[-2:])}, got {tuple(signal.shape)}")
    up = unpool(signal[None, None], s, tuple(x.shape))
    over = F.max_unpool2d(signal[None, None], s, pool.kernel_size, pool.stride, pool.padding, output_size=x.shape)
    return Unpooling(x, pooled[0, 0], s[0, 0], signal, up[0, 0], over[0, 0],
                     windows_of(pool, pooled.shape[-2:], x.shape))


def number_grid(ax, values, title: str, cmap: str = "Greys", fmt: str = "{:g}", vmax=None):
    """Draw a small 2-D array as shaded cells with its numbers written in them."""
    v = np.asarray(torch.as_tensor(values, dtype=torch.float32))
    vmax = vmax if vmax is not None else max(float(np.abs(v).max()), 1e-12)
    ax.imshow(v, cmap=cmap, vmin=0, vmax=vmax * 1.6)
    for (i, j), value in np.ndenumerate(v):
        ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=11)
    ax.set_xticks(range(v.shape[1]))
    ax.set_yticks(range(v.shape[0]))
    ax.set_title(title, fontsize=10)
    return ax


def plot_unpooling(ex: Unpooling):
    """Fig. 1 (bottom) with numbers: the map and its windows (switches circled), the pooled map, the signal from
    above, the unpooled map (adding, the adjoint) and max_unpool2d's (overwriting), in two rows that fit a book's
    ~800-px text column (the way up on top, the way down below). Returns the figure."""
    fig, grid = plt.subplots(2, 3, figsize=(7.8, 5.6))
    fig.delaxes(grid[0, 2])
    axes = [grid[0, 0], grid[0, 1], grid[1, 0], grid[1, 1], grid[1, 2]]
    number_grid(axes[0], ex.x, "map x: windows,\nswitches ○")
    w = ex.x.shape[1]
    for n, (x0, y0, x1, y1) in enumerate(ex.windows):
        c, d = WINDOW_COLOURS[n % len(WINDOW_COLOURS)], 0.06 * (n + 1)
        axes[0].add_patch(Rectangle((x0 - 0.5 + d, y0 - 0.5 + d), x1 - x0 - 2 * d, y1 - y0 - 2 * d, fill=False,
                                    edgecolor=c, lw=2))
        sy, sx = divmod(int(ex.switches.flatten()[n]), w)
        axes[0].add_patch(plt.Circle((sx, sy), 0.38 - 0.05 * n, fill=False, edgecolor=c, lw=2))
    number_grid(axes[1], ex.pooled, "pooled P(x)")
    for n in range(ex.pooled.numel()):
        r, q = divmod(n, ex.pooled.shape[1])
        axes[1].add_patch(Rectangle((q - 0.45, r - 0.45), 0.9, 0.9, fill=False, lw=2,
                                    edgecolor=WINDOW_COLOURS[n % len(WINDOW_COLOURS)]))
    number_grid(axes[2], ex.signal, "signal y\nfrom above")
    vmax = float(max(ex.unpooled.abs().max(), ex.overwritten.abs().max()))
    number_grid(axes[3], ex.unpooled, "unpooled U(y):\nadds", cmap="Greens", vmax=vmax)
    number_grid(axes[4], ex.overwritten, "max_unpool2d(y):\noverwrites", cmap="Reds", vmax=vmax)
    fig.tight_layout()
    return fig
