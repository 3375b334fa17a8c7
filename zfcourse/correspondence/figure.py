"""Fig. 8 of §4.3 re-made: every image with each of the masks Table 1 uses (parts, then one random draw)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from .annotate import as_display
from .masks import mask_part, mask_random
from .table import PARTS


def plot_masks(images: torch.Tensor, keypoints, size: int, boxes=None, parts: dict = PARTS, fill=0.0, seed: int = 0,
               to_display=None, scale: float = 1.3):
    """Fig. 8 (§4.3): a grid with one row per image and columns original, each part masked (a size×size square of
    ``fill`` centred on the keypoint) and — with ``boxes`` — the first random draw of Table 1 (same ``seed``).

    Args:
        images: (N, 3, S, S) in input space.
        keypoints: N mappings name → (x, y) (or objects with ``.keypoints``).
        to_display: maps an input-space batch to display images (e.g. the data source's preprocessing inverse);
            default adds 128 (input space is 0–255 minus the mean, so the mean grey shows as mid-grey).

    Returns the figure.

    Example:
        >>> fig = plot_masks(torch.zeros(2, 3, 32, 32), [{"right_eye": (8, 8), "left_eye": (20, 8), "nose": (14, 20)}] * 2, 5)
    """
    to_display = to_display or (lambda x: (x + 128.0).clamp(0, 255) / 255.0)
    columns = {"Original": images}
    columns.update({row: mask_part(images, keypoints, part, size, fill) for row, part in parts.items()})
    if boxes is not None:
        columns["Random"] = mask_random(images, boxes, size, 1, fill, seed)[0]
    n, k = images.shape[0], len(columns)
    fig, axes = plt.subplots(n, k, figsize=(scale * k, scale * n), squeeze=False)
    for c, (title, batch) in enumerate(columns.items()):
        shown = to_display(batch)
        for r in range(n):
            axes[r, c].imshow(as_display(shown[r]), interpolation="nearest")
            axes[r, c].set_axis_off()
        axes[0, c].set_title(title, fontsize=9)
    fig.suptitle(f"Fig. 8 (§4.3): the same part masked in every image ({size}×{size} squares)", fontsize=10)
    fig.tight_layout()
    return fig
