"""Fig. 6 (b)/(c) of §4.1 side by side: the first-layer filters of two (or more) models, dead filters outlined, and
under each its filters' radial power spectra with the stride's Nyquist frequency marked."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from torch import nn

from ..train.figures import filter_tiles
from .measures import aliasing, first_conv, radial_spectrum


def filter_mosaic(weight, ncols: int = 12, common_scale: bool = True, gap: int = 1) -> np.ndarray:
    """First-layer filters (C, 3, k, k) as one RGB picture, ``ncols`` tiles per row, white gaps; grey = 0.
    ``common_scale``: one scale for the layer (w ↦ 0.5 + w / (2·max|W|)), so weak filters look grey as in Fig. 6b;
    otherwise each filter is stretched to its own range."""
    tiles = filter_tiles(weight, common_scale).clip(0, 1)
    n, k = len(tiles), tiles.shape[1]
    rows = math.ceil(n / ncols)
    out = np.ones((rows * (k + gap) - gap, min(n, ncols) * (k + gap) - gap, 3))
    for j, t in enumerate(tiles):
        y, x = divmod(j, ncols)
        out[y * (k + gap):y * (k + gap) + k, x * (k + gap):x * (k + gap) + k] = t
    return out


def _conv_of(item) -> nn.Conv2d:
    if isinstance(item, nn.Conv2d):
        return item
    if isinstance(item, nn.Module):
        return first_conv(item)[1]
    raise TypeError(f"convs: expected models or nn.Conv2d layers, got {type(item).__name__}")


def plot_figure_6(convs: dict, dead: dict | None = None, spectra: bool = True, ncols: int = 8,
                  common_scale: bool = True, title: str | None = None, width: float = 6.8, fontsize: float = 10):
    """Fig. 6 (b) & (c) (§4.1): first-layer filters of each model side by side; with ``spectra`` a second row shows
    each filter's radial power spectrum (thin lines), their median (thick) and the Nyquist frequency 1/(2s) of the
    layer's stride s (dashed), with the median aliased share (:func:`~zfcourse.architecture.aliasing`) in the title.

    Args:
        convs: {label: model or its first nn.Conv2d}, e.g. {"Krizhevsky 11×11/4": k, "ZF 7×7/2": z}.
        dead: {label: :class:`~zfcourse.architecture.DeadFilters`} — those filters are outlined in red.
        ncols: filters per row of each mosaic.
        common_scale: one display scale per layer (dead filters look grey) or one per filter.
        width: figure width in inches (6.8 at 100 dpi fits the book's 688-px text column); ``fontsize`` its text.

    Returns the figure.
    """
    if not isinstance(convs, dict) or not convs:
        raise ValueError("convs: expected a non-empty dict {label: model or nn.Conv2d}")
    layers = {label: _conv_of(m) for label, m in convs.items()}
    dead = dead or {}
    n = len(layers)
    rows = max(math.ceil(len(_conv_of(m).weight) / ncols) for m in layers.values())
    panel = width / n
    top = panel * rows / ncols + 0.6  # the mosaics' height for their share of the width, plus a two-line title
    low = 2.9 if n > 1 else 2.4
    fig, axes = plt.subplots(1 + spectra, n, figsize=(width, top + low * spectra), squeeze=False,
                             gridspec_kw={"height_ratios": [top, low] if spectra else [1]})
    small = fontsize
    for col, (label, conv) in enumerate(layers.items()):
        w = conv.weight.detach().cpu()
        if w.dim() != 4 or w.shape[1] != 3:
            raise ValueError(f"convs: {label!r} is not a first layer on RGB input (weight {tuple(w.shape)})")
        k, s = w.shape[-1], conv.stride[0]
        ax = axes[0, col]
        ax.imshow(filter_mosaic(w, ncols, common_scale), interpolation="nearest")
        ax.set_axis_off()
        note = ""
        if label in dead:
            for j in dead[label].indices():
                y, x = divmod(j, ncols)
                ax.add_patch(Rectangle((x * (k + 1) - 0.5, y * (k + 1) - 0.5), k, k, fill=False, ec="red", lw=1.5))
            note = f", {dead[label].count} dead"
        ax.set_title(f"({chr(98 + col)}) {label}\n{len(w)} filters {k}×{k}, stride {s}{note}", fontsize=fontsize)
        if spectra:
            ax = axes[1, col]
            spec = radial_spectrum(conv)
            c = spec.centres.numpy()
            for row in spec.power.numpy():
                ax.plot(c, row, color="0.6", lw=0.6, alpha=0.6)
            ax.plot(c, np.median(spec.power.numpy(), 0), color="tab:blue", lw=2, label="median filter")
            ax.axvline(1 / (2 * s), color="tab:red", ls="--", lw=1.2, label=f"Nyquist of stride {s}")
            share = float(aliasing(conv).median())
            bands = spec.bands()
            ax.set_title(f"above Nyquist: median {share:.0%}\nfilters low/mid/high "
                         f"{bands['low']:.0%}/{bands['mid']:.0%}/{bands['high']:.0%}", fontsize=small)
            ax.set_xlabel("frequency |f| (cycles/pixel)", fontsize=small)
            if col == 0:
                ax.set_ylabel("share of power", fontsize=small)
            ax.tick_params(labelsize=small)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=small)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
