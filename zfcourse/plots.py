"""Matplotlib figures shared by the chapters: images, feature-map grids, per-layer bars (§2, Fig. 3)."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch


def to_image(x) -> np.ndarray:
    """An (H, W, 3) float array in [0, 1] for ``plt.imshow`` from a (3, H, W) tensor or (H, W, 3) array.

    Values are min–max stretched, v' = (v − min) / (max − min), which is how §4 displays projections and inputs
    whose scale is arbitrary (input space is pixel − mean). Use a data source's ``to_display`` for exact colours.
    """
    a = x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float32)
    if a.ndim == 3 and a.shape[0] == 3 and a.shape[-1] != 3:
        a = a.transpose(1, 2, 0)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"x: expected an RGB image (3, H, W) or (H, W, 3), got shape {a.shape}")
    lo, hi = a.min(), a.max()
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def feature_map_grid(maps: torch.Tensor, channels=None, ncols: int = 8, title: str | None = None, size: float = 1.3):
    """Draw the 2-D maps ``maps[c]`` (maps: (C, H, W)) for ``channels`` (default: the first ncols·2) in a grid.

    Each map gets its own colour scale (activations differ by orders of magnitude between maps).
    Returns the figure.
    """
    if maps.dim() != 3:
        raise ValueError(f"maps: expected (C, H, W) feature maps of one image, got shape {tuple(maps.shape)}")
    channels = list(range(min(maps.shape[0], 2 * ncols))) if channels is None else list(channels)
    nrows = math.ceil(len(channels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, c in zip(axes.flat, channels):
        ax.imshow(maps[c].detach().cpu().numpy(), cmap="viridis")
        ax.set_title(f"#{c}", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def layer_bars(names, values, ylabel: str, log: bool = False, highlight: str | None = None):
    """A bar per layer (e.g. parameters or multiply-adds), the ``highlight`` layer in red. Returns the figure."""
    fig, ax = plt.subplots(figsize=(8, 2.8))
    colours = ["tab:red" if n == highlight else "tab:blue" for n in names]
    ax.bar(names, values, color=colours)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return fig
