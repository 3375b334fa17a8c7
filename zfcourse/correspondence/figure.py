"""Fig. 8 of §4.3 re-made: every image with each of the masks Table 1 uses (parts, then one random draw)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from .annotate import as_display
from .measure import PAPER_TABLE1, PARTS, mask_part, mask_random


def plot_masks(images: torch.Tensor, keypoints, size: int, boxes=None, parts: dict = PARTS, fill=0.0, seed: int = 0,
               to_display=None, scale: float = 1.3, region=None):
    """Fig. 8 (§4.3): a grid with one row per image and columns original, each part masked (a size×size square of
    ``fill`` centred on the keypoint) and — with ``boxes`` or ``region`` — the first random draw of Table 1 (same
    ``seed`` and ``region`` as :func:`~zfcourse.correspondence.correspondence_table`).

    Args:
        images: (N, 3, S, S) in input space.
        keypoints: N mappings name → (x, y) (or objects with ``.keypoints``).
        to_display: maps an input-space batch to display images (e.g. the data source's preprocessing inverse);
            default adds 128 (input space is 0–255 minus the mean, so the mean grey shows as mid-grey).

    Returns the figure.

    Example:
        >>> kps = [{"right_eye": (8, 8), "left_eye": (20, 8), "nose": (14, 20)}] * 2
        >>> fig = plot_masks(torch.zeros(2, 3, 32, 32), kps, 5)
    """
    to_display = to_display or (lambda x: (x + 128.0).clamp(0, 255) / 255.0)
    columns = {"Original": images}
    columns.update({row: mask_part(images, keypoints, part, size, fill) for row, part in parts.items()})
    if boxes is not None or region is not None:
        columns["Random"] = mask_random(images, boxes, size, 1, fill, seed, region)[0]
    n, k = images.shape[0], len(columns)
    fig, axes = plt.subplots(n, k, figsize=(scale * k, scale * n), squeeze=False)
    for c, (title, batch) in enumerate(columns.items()):
        shown = to_display(batch)
        for r in range(n):
            axes[r, c].imshow(as_display(shown[r]), interpolation="nearest")
            axes[r, c].set_axis_off()
        axes[0, c].set_title(title, fontsize=10)
    fig.suptitle(f"Fig. 8 (§4.3): the same part masked in every image ({size}×{size} squares)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_table(table, paper: dict | None = None, ax=None):
    """Table 1 (§4.3) as bars: for each layer, Δ of every row measured (mean ± spread, see
    :class:`~zfcourse.correspondence.CorrespondenceTable`) beside the paper's value (``paper``, default
    ``PAPER_TABLE1``; rows it lacks get no paper bar), and the chance level Δ_chance as a tick. Returns the figure.

    Example:
        >>> fig = plot_table(correspondence_table(model, x, keypoints, boxes))    # doctest: +SKIP
    """
    paper = PAPER_TABLE1 if paper is None else paper
    layers, rows = table.layers, table.rows
    if ax is None:
        ncols = min(2, len(layers))                  # two panels a row: fits an ~800-px column at 100 dpi
        nrows = -(-len(layers) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(6.8, 3.0 * nrows + 0.4), sharey=True, squeeze=False)
        for extra in axes.flat[len(layers):]:
            extra.set_axis_off()
        axes = list(axes.flat)
    else:
        fig, axes = ax.figure, [ax] * len(layers)
    for ax_, layer in zip(axes, layers):
        xs = range(len(rows))
        ours = [table.mean[(r, layer)] for r in rows]
        ax_.bar([x - 0.2 for x in xs], ours, 0.4, yerr=[table.spread[(r, layer)] for r in rows], capsize=3,
                color="tab:blue", label="this course")
        known = [(x, paper[(r, layer)]) for x, r in zip(xs, rows) if (r, layer) in paper]
        if known:
            ax_.bar([x + 0.2 for x, _ in known], [m for _, (m, _) in known], 0.4, yerr=[s for _, (_, s) in known],
                    capsize=3, color="tab:gray", label="paper")
        if table.chance:
            ax_.scatter([x - 0.2 for x in xs], [table.chance[(r, layer)] for r in rows], marker="_", s=300,
                        color="tab:red", zorder=3, label="chance (Δ_chance)")
        ax_.set_xticks(list(xs), rows, fontsize=10)
        ax_.tick_params(axis="y", labelsize=10)
        ax_.set_title(layer, fontsize=11)
    for row_start in range(0, len(layers), 2 if ax is None else len(layers)):
        axes[row_start].set_ylabel("Δ", fontsize=10)
    handles = {}
    for ax_ in axes[:len(layers)]:                   # the legend of every series drawn in any panel
        for h, lab in zip(*ax_.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles), loc="upper center", ncol=len(handles), fontsize=10,
               frameon=False)
    top = 1 - 0.45 / fig.get_size_inches()[1]
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def plot_subsets(table, subsets: dict, small=None, paper: dict | None = None, quantiles=(0.05, 0.95)):
    """How much a 5-image Table 1 (§4.3) can say: per layer (two panels a row) and row, the ``quantiles`` range of Δ
    over random image subsets (``subsets`` from :func:`~zfcourse.correspondence.subset_deltas` on ``table``), Δ of
    all of ``table``'s images, Δ of a separate small table ``small`` (e.g. the five probe faces) and the paper's value
    (``paper``, default ``PAPER_TABLE1``; rows/layers it lacks get none). Returns the figure.

    Example:
        >>> fig = plot_subsets(table18, subset_deltas(table18), small=table5)    # doctest: +SKIP
    """
    paper = PAPER_TABLE1 if paper is None else paper
    layers, rows = table.layers, table.rows
    ncols = min(2, len(layers))
    nrows = -(-len(layers) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.8, 2.9 * nrows + 0.5), squeeze=False)
    for extra in axes.flat[len(layers):]:
        extra.set_axis_off()
    k = table.n_images
    first = {}
    for ax, layer in zip(axes.flat, layers):
        for x, row in enumerate(rows):
            v = subsets[(row, layer)]
            lo, hi = torch.quantile(v, torch.tensor(quantiles, dtype=v.dtype)).tolist()
            first["range"] = ax.plot([x, x], [lo, hi], color="tab:blue", lw=7, alpha=0.35,
                                     solid_capstyle="butt")[0]
            first["all"] = ax.plot(x, table.mean[(row, layer)], "o", color="tab:blue")[0]
            if small is not None and (row, layer) in small.mean:
                first["small"] = ax.plot(x + 0.25, small.mean[(row, layer)], "s", color="tab:orange")[0]
            if (row, layer) in paper:
                first["paper"] = ax.plot(x - 0.25, paper[(row, layer)][0], "^", color="tab:gray")[0]
        ax.set_xticks(range(len(rows)), rows, fontsize=10)
        ax.tick_params(axis="y", labelsize=10)
        ax.set_title(layer, fontsize=11)
        ax.set_ylabel("Δ", fontsize=10)
    n_sub = len(next(iter(subsets.values())))
    labels = {"range": f"{quantiles[0]:.0%}–{quantiles[1]:.0%} of Δ over {n_sub} random subsets",
              "all": f"all {k} images", "small": f"the {small.n_images if small else 0} probe images",
              "paper": "paper"}
    fig.legend([first[key] for key in labels if key in first], [labels[key] for key in labels if key in first],
               loc="upper center", ncol=2, fontsize=10, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / fig.get_size_inches()[1]))
    return fig
