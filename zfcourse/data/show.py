"""Figures of the data itself (§3): embedded-world images with their ground truth, and the paper's crops.

* :func:`plot_annotated` — images with the main object's box (solid), every other drawn object's box (dashed) and the
  named keypoints, i.e. everything an :class:`~zfcourse.data.Annotation` knows;
* :func:`plot_ten_crops` — the paper's test-time ten crops (§3: "corners + center with(out) horizontal flips") drawn
  as boxes on the image and shown one by one.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ..plots import COLUMN_INCHES, MIN_FONT
from .preprocess import ten_crop_boxes

KEYPOINT_COLOURS = {"left_eye": "tab:red", "right_eye": "tab:blue", "nose": "gold"}


def _draw_box(ax, box, colour, dashed=False, width=1.4):
    x0, y0, x1, y1 = box
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=colour, linewidth=width,
                           linestyle="--" if dashed else "-"))


def plot_annotated(images, annotations, ncols: int = 6, size: float = 1.5, legend: bool = True, titles=None):
    """Draw uint8 images (N, H, W, 3) with their annotations; returns the figure.

    Solid white box: the main object (the label); dashed grey boxes: distractors (``annotation.objects``); dots:
    keypoints (left eye red, right eye blue, nose yellow, others white). *Left* is the image's left. ``size`` (inches
    per image) is capped so the figure fits the book's column (:data:`zfcourse.plots.COLUMN_INCHES`); titles and
    legend are 10 pt.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images: expected uint8 images (N, H, W, 3), got shape {images.shape}")
    if len(annotations) != len(images):
        raise ValueError(f"annotations: expected one per image ({len(images)}), got {len(annotations)}")
    nrows = math.ceil(len(images) / ncols)
    size = min(size, COLUMN_INCHES / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.3) * nrows + (0.35 if legend else 0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, (ax, img, ann) in enumerate(zip(axes.flat, images, annotations)):
        ax.imshow(img)
        main = len(ann.objects) - 1 if ann.objects and tuple(ann.objects[-1][1]) == tuple(ann.box) else None
        for j, (_, box) in enumerate(ann.objects):
            if j != main:
                _draw_box(ax, box, "0.75", dashed=True, width=1.0)
        _draw_box(ax, ann.box, "white")
        for name, (x, y) in ann.keypoints.items():
            ax.plot(x, y, "o", ms=4, mec="black", mew=0.6, color=KEYPOINT_COLOURS.get(name, "white"))
        ax.set_title(titles[k] if titles is not None else ann.class_name, fontsize=MIN_FONT)
    if legend:
        handles = [plt.Line2D([], [], marker="o", ls="", color=c, mec="black", label=n.replace("_", " "))
                   for n, c in KEYPOINT_COLOURS.items()]
        fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=MIN_FONT, frameon=False)
    fig.tight_layout(rect=(0, 0.3 / fig.get_size_inches()[1] if legend else 0, 1, 1))
    return fig


def plot_ten_crops(image, crop: int, to_display=None, size: float = 1.25):
    """The ten crops of a square image (H, W, 3) — boxes on the image, then the crops in torchvision's order.

    ``to_display`` maps a crop (h, w, 3) to something ``imshow`` takes (default: the crop itself). The figure is at
    most as wide as the book's column (:data:`zfcourse.plots.COLUMN_INCHES`; ``size`` scales it below that); titles
    are 10 pt: the top row of crops is titled by window, the bottom row "flipped". Returns the figure.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[0] != image.shape[1]:
        raise ValueError(f"image: expected a square (H, W, 3) image, got shape {image.shape}")
    show = to_display or (lambda a: a)
    boxes = ten_crop_boxes(image.shape[0], crop)
    width = min(size * 7.2, COLUMN_INCHES)
    fig = plt.figure(figsize=(width, width / 7.2 * 2.2 + 0.5))
    grid = fig.add_gridspec(2, 7, width_ratios=[2, 0.2, 1, 1, 1, 1, 1])
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(show(image))
    colours = plt.cm.tab10(np.arange(5))
    for (y, x, _flipped), c in zip(boxes[:5], colours):
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), crop, crop, fill=False, edgecolor=c, linewidth=1.5))
    ax.set_title(f"{image.shape[0]}×{image.shape[1]} image,\nfive {crop}×{crop} windows", fontsize=MIN_FONT)
    ax.axis("off")
    names = ["top\nleft", "top\nright", "bottom\nleft", "bottom\nright", "centre"]
    for k, (y, x, flipped) in enumerate(boxes):
        a = fig.add_subplot(grid[k // 5, 2 + k % 5])
        c = image[y:y + crop, x:x + crop]
        a.imshow(show(c[:, ::-1] if flipped else c))
        a.set_title("flipped" if flipped else names[k % 5], fontsize=MIN_FONT, color=colours[k % 5])
        a.axis("off")
    fig.tight_layout()
    return fig
