"""Fig. 7 (§4.2) drawn from :class:`~zfcourse.occlusion.OcclusionMaps`: five panels per image, one image per row.

(a) the image with the occluder at its most damaging position (and the ground-truth box, when known),
(b) the chosen layer-5 map's total activation, (c) that map's deconvnet projection beside its top projections from
the dataset (made elsewhere, passed in as a picture), (d) the correct-class probability, (e) the most probable label.
Panels (b), (d), (e) are drawn at the occluder's centre: pixel (u, v) shows the value of the occluder centred there,
with the image faintly behind, as in the paper.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch, Rectangle

from ..plots import to_image

PANELS = ("(a) input + occluder", "(b) total activation", "(c) projections", "(d) p(correct class)",
          "(e) most probable label")


def centre_extent(maps) -> tuple[float, float, float, float]:
    """imshow ``extent`` that puts entry (i, j) at the occluder's centre (ys[i] + size/2, xs[j] + size/2)."""
    h = (maps.stride if len(maps.xs) < 2 else maps.xs[1] - maps.xs[0]) / 2
    half, x, y = maps.size / 2, maps.xs, maps.ys
    return (float(x[0] + half - h - 0.5), float(x[-1] + half + h - 0.5),
            float(y[-1] + half + h - 0.5), float(y[0] + half - h - 0.5))


def _box(ax, box, fill=False, **kw):
    x0, y0, x1, y1 = (float(v) for v in box)
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=fill, **kw))


def _backdrop(ax, picture):
    ax.imshow(picture.mean(-1), cmap="gray", alpha=0.35)


def draw_row(axes, image, maps, class_names, projection=None, box=None, display=to_image, titles=True):
    """Draw the five panels of one Fig. 7 row on ``axes`` (5 axes). ``projection``: an (h, w, 3) picture for (c)."""
    picture = display(image)
    y, x = (int(v) for v in np.unravel_index(int(maps.prob.argmin()), maps.prob.shape))
    axes[0].imshow(picture)
    _box(axes[0], (maps.xs[x], maps.ys[y], maps.xs[x] + maps.size, maps.ys[y] + maps.size), facecolor="grey",
         edgecolor="white", lw=1, alpha=0.9, fill=True)
    if box is not None:
        _box(axes[0], box, color="lime", lw=1.2, ls="--")
    axes[0].set_xlabel(f"p(unoccluded) = {maps.unoccluded_prob:.2f}", fontsize=8)
    ext = centre_extent(maps)
    for ax, values, cmap in ((axes[1], maps.activation, "viridis"), (axes[3], maps.prob, "jet")):
        _backdrop(ax, picture)
        if values is not None:
            im = ax.imshow(values.numpy(), cmap=cmap, extent=ext, alpha=0.8,
                           **(dict(vmin=0, vmax=1) if cmap == "jet" else {}))
            plt.colorbar(im, ax=ax, fraction=0.046, pad=0.02).ax.tick_params(labelsize=7)
    if maps.feature_map is not None:  # "relu5 map 7"; torchvision's index names keep their prefix ("features.11")
        short = maps.layer.split(".")[-1]
        axes[1].set_xlabel(f"{maps.layer if short.isdigit() else short} map {maps.feature_map}", fontsize=8)
    axes[3].set_xlabel(class_names[maps.target], fontsize=8)
    _label_panel(axes[4], picture, maps, class_names, ext)
    if projection is not None:
        axes[2].imshow(projection)
    else:
        axes[2].text(0.5, 0.5, "no projection", ha="center", va="center", transform=axes[2].transAxes)
    h, w = maps.image_shape
    for i, ax in enumerate(axes):
        ax.set_xticks([]), ax.set_yticks([])
        if i != 2:  # the maps cover only the occluder centres; keep the whole image in view
            ax.set_xlim(-0.5, w - 0.5), ax.set_ylim(h - 0.5, -0.5)
        if titles:
            ax.set_title(PANELS[i], fontsize=9)


def _label_panel(ax, picture, maps, class_names, ext):
    present = sorted(set(maps.label.flatten().tolist()))
    colours = plt.get_cmap("tab10" if len(class_names) <= 10 else "tab20")
    index = np.searchsorted(present, maps.label.numpy())  # 0..len(present)-1, so the colours stay distinct
    rgba = np.array([colours(c % colours.N) for c in present])[index]
    _backdrop(ax, picture)
    ax.imshow(rgba, extent=ext, alpha=0.85)
    handles = [Patch(color=colours(c % colours.N), label=class_names[c]) for c in present]
    ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)


def plot_figure_7(rows, class_names, display=to_image, size: float = 2.3):
    """Fig. 7: one row of five panels per entry of ``rows``, each a dict with keys ``image``, ``maps`` and optionally
    ``projection`` and ``box`` (see :func:`draw_row`). Returns the figure."""
    # Panel (c) holds the image's projection beside a mosaic of others: give it about twice the width of the rest.
    wide = 2.0 if any(row.get("projection") is not None for row in rows) else 1.0
    fig, axes = plt.subplots(len(rows), 5, figsize=((4 + wide) * size + 1.5, size * len(rows)), squeeze=False,
                             gridspec_kw=dict(width_ratios=(1, 1, wide, 1, 1)))
    for i, row in enumerate(rows):
        draw_row(axes[i], row["image"], row["maps"], class_names, row.get("projection"), row.get("box"), display,
                 titles=i == 0)
    fig.tight_layout()
    return fig
