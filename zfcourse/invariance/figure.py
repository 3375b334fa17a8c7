"""Fig. 5 (§4) drawn from :class:`~zfcourse.invariance.InvarianceCurves`: one row per transformation (vertical
translation, scale, rotation), four columns — (a) examples of the transformed images, (b) the feature distance at the
bottom layer, (c) at the top layer, (d) the probability of the true class — and the population version with mean ± sd.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..plots import FULL_WIDTH_INCHES, MIN_FONT, to_image
from .measure import KINDS

AXIS = {"translation": "vertical shift (pixels)", "scale": "scale (ratio)",
        "rotation": "rotation (degrees)"}


def layer_label(name: str) -> str:
    """``relu1`` for ``features.relu1``; torchvision's index names keep their prefix (``features.1``)."""
    short = name.split(".")[-1]
    return name if short.isdigit() else short


def _tile(image, to_display):
    if isinstance(image, torch.Tensor) and image.dtype == torch.uint8:
        return image.permute(1, 2, 0).numpy() / 255.0
    return np.clip(to_display(image) if to_display is not None else to_image(image), 0, 1)


def example_strip(curves_list, count: int = 5, to_display=None, gap: int = 2) -> np.ndarray:
    """One picture of the transformed images: a row per object, ``count`` amounts evenly spread over the grid
    (always including both ends). Returns an (H, W, 3) array in [0, 1] (white gaps)."""
    rows = []
    for c in curves_list:
        if c.images is None:
            raise ValueError("curves: measured with keep_images=False, so there are no examples to show")
        idx = np.unique(np.linspace(0, len(c.amounts) - 1, count).round().astype(int))
        tiles = [_tile(c.images[i], to_display) for i in idx]
        s = tiles[0].shape[0]
        row = np.ones((s, len(tiles) * (s + gap) - gap, 3))
        for k, t in enumerate(tiles):
            row[:, k * (s + gap):k * (s + gap) + s] = t
        rows.append(row)
    width = max(r.shape[1] for r in rows)
    out = np.ones((sum(r.shape[0] for r in rows) + gap * (len(rows) - 1), width, 3))
    y = 0
    for r in rows:
        out[y:y + r.shape[0], :r.shape[1]] = r
        y += r.shape[0] + gap
    return out


def _pick_layers(layers_available, layers):
    if layers is None:
        return [layers_available[0], layers_available[-1]]
    picked = []
    for want in layers:
        match = [n for n in layers_available if n == want or n.split(".")[-1] == str(want)]
        if not match:
            raise KeyError(f"layers: {want!r} was not measured; measured: {', '.join(layers_available)}")
        picked.append(match[0])
    return picked


def plot_figure_5(curves: dict, layers=None, relative: bool = True, examples: int = 5, to_display=None,
                  title: str | None = None, figsize=None):
    """Fig. 5 of the paper (§4): rows = transformations, columns = (a) examples, (b) distance at the bottom layer,
    (c) distance at the top layer, (d) p(true class); one line per image.

    Args:
        curves: {kind: [InvarianceCurves, one per image]} for kinds among translation, scale, rotation.
        layers: the two layers of columns (b) and (c) (default the first and last layer measured: relu1, relu7).
        relative: plot r = d/‖φ(x)‖ (the paper's "relative to the untransformed feature") rather than raw d.
        examples: how many amounts column (a) shows per image (0: no column (a)).
        figsize: default :data:`~zfcourse.plots.FULL_WIDTH_INCHES` wide (a full-width cell, shown 1:1), 2.6 per row.
        to_display: (3, S, S) input-space tensor → (S, S, 3) picture, for curves measured on float canvases.

    Returns the figure.
    """
    kinds = [k for k in KINDS if k in curves]
    if not kinds:
        raise ValueError(f"curves: expected a dict with some of the keys {', '.join(KINDS)}, got {list(curves)}")
    first = curves[kinds[0]][0]
    layers = _pick_layers(first.layers, layers)
    lead = 1 if examples else 0
    figsize = (FULL_WIDTH_INCHES, 2.6 * len(kinds) + 0.7) if figsize is None else figsize
    fig, axes = plt.subplots(len(kinds), lead + 1 + len(layers), figsize=figsize, squeeze=False,
                             gridspec_kw={"width_ratios": [0.8] * lead + [1] * (1 + len(layers))})
    colours = plt.cm.tab10(np.arange(10))
    for row, kind in zip(axes, kinds):
        group = curves[kind]
        letter = chr(97 + kinds.index(kind))
        if lead:
            row[0].imshow(example_strip(group, examples, to_display))
            row[0].set_axis_off()
            row[0].set_title(f"({letter}1) {kind}", fontsize=10)
        plots = row[lead:]  # the distance columns, then p(true class)
        for col, ax in enumerate(plots, start=1 + lead):
            what = f"distance, {layer_label(layers[col - 1 - lead])}" if col - 1 - lead < len(layers) else \
                "p(true class)"
            ax.set_title(f"({letter}{col}) {what}", fontsize=10)
        for ax, layer in zip(plots, layers):
            for k, c in enumerate(group):
                values = (c.relative if relative else c.distance)[layer]
                ax.plot(c.amounts.numpy(), values.numpy(), "o-", ms=2.5, lw=1.2, color=colours[k % 10], label=c.label)
            ax.set_ylabel("relative distance" if relative else "distance", fontsize=10)
        ax = plots[-1]
        for k, c in enumerate(group):
            if c.p_true is not None:
                ax.plot(c.amounts.numpy(), c.p_true.numpy(), "o-", ms=2.5, lw=1.2, color=colours[k % 10], label=c.label)
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel("probability", fontsize=10)
        for ax in plots:
            ax.set_xlabel(AXIS[kind], fontsize=10)
            ax.tick_params(labelsize=MIN_FONT)
            ax.grid(alpha=0.3)
            if kind == "rotation":
                ax.set_xticks(np.arange(0, 361, 90))
    handles, labels = axes[0, lead].get_legend_handles_labels()
    if any(labels):
        fig.legend(handles, labels, loc="lower center", ncol=min(5, len(labels)), fontsize=10, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.6 / figsize[1] if any(labels) else 0, 1, 1))
    return fig


def plot_population(groups: dict, layers=None, relative: bool = True, title: str | None = None, figsize=None):
    """The population version of Fig. 5 (§4): mean ± sd over images of each group (e.g. asymmetric / symmetric
    classes), rows = transformations, columns = distance at each layer and p(true class).

    Args:
        groups: {kind: [PopulationCurves, one per group]}.
        layers: layers to show (default the first and last measured).
        relative: plot relative distances r = d/‖φ(x)‖ (default) or raw d.
        figsize: default at most :data:`~zfcourse.plots.FULL_WIDTH_INCHES` wide (a full-width cell), 2.5 per row.

    Returns the figure.
    """
    kinds = [k for k in KINDS if k in groups]
    if not kinds:
        raise ValueError(f"groups: expected a dict with some of the keys {', '.join(KINDS)}, got {list(groups)}")
    first = groups[kinds[0]][0]
    layers = _pick_layers(list(first.relative), layers)
    with_p = first.p_true is not None
    ncols = len(layers) + with_p
    figsize = (min(FULL_WIDTH_INCHES, 2.6 * ncols + 0.4), 2.5 * len(kinds) + 0.7) if figsize is None else figsize
    fig, axes = plt.subplots(len(kinds), ncols, figsize=figsize, squeeze=False)
    colours = plt.cm.tab10(np.arange(10))
    for row, kind in zip(axes, kinds):
        for g, pop in enumerate(groups[kind]):
            x = pop.amounts.numpy()
            what = [(ax, layer) for ax, layer in zip(row, layers)] + ([(row[-1], None)] if with_p else [])
            for ax, layer in what:
                m, s = pop.mean(layer, relative).numpy(), pop.sd(layer, relative).numpy()
                ax.plot(x, m, "-", lw=1.5, color=colours[g % 10], label=f"{pop.label} (n = {len(pop)})")
                ax.fill_between(x, m - s, m + s, color=colours[g % 10], alpha=0.2, lw=0)
        for ax, layer in zip(row, layers):
            ax.set_ylabel("relative distance" if relative else "distance", fontsize=10)
            ax.set_title(layer_label(layer), fontsize=10)
        if with_p:
            row[-1].set_ylim(-0.03, 1.03)
            row[-1].set_ylabel("probability", fontsize=10)
            row[-1].set_title("p(true class)", fontsize=10)
        for ax in row:
            ax.set_xlabel(AXIS[kind], fontsize=10)
            ax.tick_params(labelsize=MIN_FONT)
            ax.grid(alpha=0.3)
            if kind == "rotation":
                ax.set_xticks(np.arange(0, 361, 90))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=10, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.6 / figsize[1], 1, 1))
    return fig
