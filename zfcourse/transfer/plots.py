"""The two pictures of §5.2–5.3 the chapter draws: accuracy against training images per class (Fig. 9) and against the
layer the features come from (Table 7, drawn as curves).

Both take {label: {x: :class:`~zfcourse.transfer.ProbeResult`}} — one curve per label, one point per x with its
mean ± sd over splits as an error bar — so the measured curves and any comparison curve share one code path.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

STYLES = ("o-", "s--", "^:", "D-.", "v-", "P--")


def _curves(ax, curves: dict, chance: float | None):
    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves: expected a non-empty {label: {x: ProbeResult}} dictionary")
    for (label, points), style in zip(curves.items(), STYLES * 4):
        if not isinstance(points, dict) or not points:
            raise ValueError(f"curves: {label!r} maps to {type(points).__name__}, expected a non-empty {{x: result}}")
        xs = sorted(points)
        means = [points[x].mean for x in xs]
        sds = [0.0 if points[x].sd != points[x].sd else points[x].sd for x in xs]   # NaN sd (one split) → no bar
        ax.errorbar(xs, means, yerr=sds, fmt=style, capsize=3, markersize=5, label=label)
    if chance is not None:
        ax.axhline(chance, color="0.5", lw=1, ls=":", label="chance")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=10)


def plot_few_shot(curves: dict, chance: float | None = None, ax=None, title: str | None = None):
    """Fig. 9's axes: mean per-class accuracy (%) ± sd over splits against training images per class (log scale).
    Returns the figure."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7.5, 3.8))
    _curves(ax, curves, chance)
    ax.set_xscale("log")
    xs = sorted({x for points in curves.values() for x in points})
    ax.set_xticks(xs)
    ax.set_xticklabels([str(x) for x in xs])
    ax.minorticks_off()
    ax.set_xlabel("training images per class")
    ax.set_ylabel("mean per-class accuracy, %")
    if title:
        ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_layers(panels: dict, chance: float | None = None, figsize=(7.5, 3.4)):
    """Table 7 as curves: one panel per {title: {label: {layer: ProbeResult}}}, accuracy (%) ± sd against the layer
    the features are read from. Returns the figure."""
    if not isinstance(panels, dict) or not panels:
        raise ValueError("panels: expected a non-empty {title: curves} dictionary")
    fig, axes = plt.subplots(1, len(panels), figsize=figsize, sharey=True, squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels.items()):
        _curves(ax, curves, chance)
        layers = sorted({x for points in curves.values() for x in points})
        ax.set_xticks(layers)
        ax.set_xlabel("layer")
        ax.set_title(title, fontsize=11)
    axes[0, 0].set_ylabel("mean per-class accuracy, %")
    for ax in axes[0, 1:]:
        ax.get_legend().remove()
    fig.tight_layout()
    return fig
