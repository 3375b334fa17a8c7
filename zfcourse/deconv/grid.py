"""Fig. 2-style grids: for each feature map, its top-k projections in a square block, beside the matching patches.

Projections are shown the way the paper's are: each one scaled on its own so that grey is zero and the largest
|value| reaches black or white (their absolute scale means nothing once the network's layers have rescaled it).
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from .views import TopKViews


def show_projection(p: torch.Tensor) -> np.ndarray:
    """(…, 3, H, W) projections → (…, H, W, 3) RGB in [0, 1]: 0.5 + 0.5 · p / max|p|, per projection."""
    p = p.detach().float().cpu()
    scale = p.flatten(-3).abs().amax(-1).clamp_min(1e-12)[..., None, None, None]
    return (0.5 + 0.5 * p / scale).movedim(-3, -1).numpy()


def show_image(x: torch.Tensor) -> np.ndarray:
    """(…, 3, H, W) input-space images → (…, H, W, 3) in [0, 1], each stretched from its min to its max."""
    x = x.detach().float().cpu()
    flat = x.flatten(-3)
    lo, hi = flat.amin(-1)[..., None, None, None], flat.amax(-1)[..., None, None, None]
    return ((x - lo) / (hi - lo).clamp_min(1e-12)).movedim(-3, -1).numpy()


def mosaic(tiles: np.ndarray, cols: int, gap: int = 1, background: float = 1.0) -> np.ndarray:
    """Lay out (N, h, w, 3) tiles on a grid ``cols`` wide with ``gap`` pixels between them: (H, W, 3)."""
    n, h, w, c = tiles.shape
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, c), background, dtype=np.float32)
    for i, tile in enumerate(tiles):
        r, q = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, q * (w + gap):q * (w + gap) + w] = tile
    return out


def blocks(views: np.ndarray, maps_per_row: int) -> np.ndarray:
    """(C, k, h, w, 3) → one image: each map's k tiles in a √k-wide block, the blocks ``maps_per_row`` wide."""
    k = views.shape[1]
    side = math.ceil(math.sqrt(k))
    per_map = np.stack([mosaic(v, side) for v in views])
    return mosaic(per_map, maps_per_row, gap=max(2, per_map.shape[1] // 12))


def plot_top_k(views: TopKViews, maps_per_row: int = 4, display=show_image, axes=None, title: str | None = None):
    """Draw Fig. 2 for one layer: top-k projections (left) and their receptive-field patches (right), per map.

    ``display`` turns input-space patches into RGB in [0, 1] (default: per-patch min–max). Returns the figure.

    Example:
        >>> from zfcourse.models import course_model
        >>> from zfcourse.deconv import top_k, top_k_views
        >>> model, data = course_model().eval(), torch.randn(12, 3, 112, 112)
        >>> v = top_k_views(model, data, top_k(model, data, "relu2", progress=False), [0, 1], progress=False)
        >>> fig = plot_top_k(v)
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 5 * math.ceil(len(views.channels) / maps_per_row) / 2 + 0.6))
    fig = axes[0].figure
    left = blocks(show_projection(views.projections), maps_per_row)
    right = blocks(display(views.patches), maps_per_row)
    for ax, img, what in zip(axes, (left, right), ("projections", "patches")):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(f"{title or views.layer}: {what}", fontsize=9)
        ax.axis("off")
    return fig


def plot_figure_2(views_by_layer: list[TopKViews], maps_per_row: int = 4, display=show_image):
    """Fig. 2 for several layers: one row per layer, projections | patches. Returns the figure."""
    fig, axes = plt.subplots(len(views_by_layer), 2, figsize=(10, 4.2 * len(views_by_layer)), squeeze=False)
    for row, views in zip(axes, views_by_layer):
        plot_top_k(views, maps_per_row, display, axes=row)
    fig.tight_layout()
    return fig
