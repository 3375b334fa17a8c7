"""Fig. 2 (§4): for each of the top-k activations of a map, its deconvnet projection and the image patch it saw,
laid out as the paper does — per map a square block of projections beside the matching block of patches.

Both are cut to the unit's exact receptive field (:func:`zfcourse.models.crop`), so projection and patch line up pixel
for pixel; the projection is zero outside that square anyway. Projections are shown the paper's way, each stretched
on its own to its full contrast (:func:`stretch_projection`); every block carries its map number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..deconv import project_many
from ..models import crop, layer_geometry
from ..plots import FULL_WIDTH_INCHES, mosaic, show_projection, to_image
from .topk import TopK, images_at


@dataclass
class TopKViews:
    """Projections and patches (C', k, 3, r, r) for the maps ``channels`` (C',), with ``values`` (C', k)."""
    layer: str
    channels: torch.Tensor
    values: torch.Tensor
    projections: torch.Tensor
    patches: torch.Tensor


def top_k_views(model: nn.Module, data, top: TopK, channels=None, rectify: str = "deconv", chunk: int = 32,
                progress: bool = True) -> TopKViews:
    r"""Projections (§2.1) and receptive-field patches of the top-k activations ``top`` of the maps ``channels``.

    Images are fetched from ``data`` (the tensor / Dataset / DataLoader that :func:`top_k` read) by index, ``chunk``
    distinct images at a time; each is recorded once and all its targets go down together
    (:func:`zfcourse.deconv.project_many`).

    Example:
        >>> from zfcourse.features import top_k
        >>> from zfcourse.models import course_model
        >>> model, data = course_model(input_size=112).eval(), torch.randn(12, 3, 112, 112)
        >>> top = top_k(model, data, "relu2", k=4, progress=False)
        >>> v = top_k_views(model, data, top, channels=[0, 5], progress=False)
        >>> v.projections.shape, v.patches.shape
        (torch.Size([2, 4, 3, 27, 27]), torch.Size([2, 4, 3, 27, 27]))
    """
    channels = torch.arange(len(top.values)) if channels is None else torch.as_tensor(channels).long().flatten()
    targets = top.targets(channels).cpu()
    row = layer_geometry(model, top.layer)
    device = next(model.parameters()).device
    unique, local = targets[:, 0].unique(return_inverse=True)
    projections = patches = None
    for g in tqdm(range(0, len(unique), chunk), desc=f"project {top.layer}", disable=not progress, leave=False):
        mine = ((local >= g) & (local < g + chunk)).nonzero().flatten()
        images = images_at(data, unique[g:g + chunk]).to(device)
        t = torch.cat([(local[mine] - g)[:, None], targets[mine, 1:]], 1).to(device)
        p = project_many(model, images, top.layer, t, rectify, chunk, crop_to_field=True)
        q = crop(images, row, t[:, 2:], t[:, 0])
        if projections is None:
            projections, patches = p.new_zeros(len(targets), *p.shape[1:]), q.new_zeros(len(targets), *q.shape[1:])
        projections[mine.to(device)], patches[mine.to(device)] = p, q
    k = top.values.shape[1]
    shape = (len(channels), k, *projections.shape[1:])
    return TopKViews(top.layer, channels, top.values[channels].cpu(), projections.view(shape).cpu(),
                     patches.view(shape).cpu())


CONTRASTS = ("clipped", "full", "signed")


def stretch_projection(p: torch.Tensor, contrast: str = "clipped", saturate: float = 0.005) -> np.ndarray:
    """(…, 3, H, W) deconvnet projections → (…, H, W, 3) RGB in [0, 1], each projection stretched on its own.

    A projection's absolute scale means nothing (§4 shows each one at its own contrast), but its pixels are
    heavy-tailed: in upper layers a few pixels are several times stronger than the rest, so a stretch set by the
    single extreme pixel leaves the picture near grey. ``contrast``:

    * ``"clipped"`` (default): grey = 0, v = 0.5 + 0.5 · clip(p / s, −1, 1) with s the (1 − ``saturate``) quantile
      of |p| over the projection — the strongest 0.5 % of pixels saturate, the rest uses the full range;
    * ``"full"``: (p − min p) / (max p − min p), the extreme pixels reach black and white (zero is not grey);
    * ``"signed"``: 0.5 + 0.5 · p / max|p| (:func:`zfcourse.plots.show_projection`).

    Example:
        >>> p = torch.zeros(3, 10, 10); p[0, 0, 0], p[1, 1:, :] = 100.0, -1.0
        >>> v = stretch_projection(p)
        >>> float(v[0, 0, 0]), float(v[5, 5, 1]), float(v[0, 5, 1])
        (1.0, 0.0, 0.5)
    """
    if contrast not in CONTRASTS:
        raise ValueError(f"contrast: expected one of {CONTRASTS}, got {contrast!r}")
    if contrast == "full":
        return to_image(p)
    if contrast == "signed":
        return show_projection(p)
    p = p.detach().float().cpu()
    flat = p.flatten(-3).abs()
    scale = flat.quantile(1 - saturate, dim=-1).clamp_min(1e-12)[..., None, None, None]
    return (0.5 + 0.5 * (p / scale).clamp(-1, 1)).movedim(-3, -1).numpy()


def _grid(views: np.ndarray, channels, maps_per_row: int) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """(C, k, h, w, 3) → one image with each map's k tiles in a √k-wide block, the blocks ``maps_per_row`` wide and
    a white band above each row of blocks for its map numbers; returns the image and the labels (x, y, "#c")."""
    side = math.ceil(math.sqrt(views.shape[1]))
    per_map = np.stack([mosaic(v, side) for v in views])              # (C, H, W, 3)
    _, h, w, _ = per_map.shape
    band, gap = max(6, h // 4), max(2, w // 12)
    rows = math.ceil(len(per_map) / maps_per_row)
    out = np.ones((rows * (h + band), maps_per_row * (w + gap) - gap, 3), dtype=np.float32)
    labels = []
    for i, (block, c) in enumerate(zip(per_map, channels)):
        r, q = divmod(i, maps_per_row)
        y0, x0 = r * (h + band) + band, q * (w + gap)
        out[y0:y0 + h, x0:x0 + w] = block
        labels.append((x0 + w / 2, y0 - band / 2, f"#{int(c)}"))
    return out, labels


def plot_top_k(views: TopKViews, maps_per_row: int = 4, to_display=to_image, axes=None, title: str | None = None,
               contrast: str = "clipped", fontsize: float = 10):
    """Draw Fig. 2 for one layer: top-k projections (left) and their receptive-field patches (right), per map, each
    block headed by its map number.

    ``to_display`` turns input-space patches into RGB in [0, 1] (default: per-patch min–max); it is called on a
    batch (N, 3, r, r) → (N, r, r, 3), so a data source's ``preprocess.to_display`` fits. ``contrast`` says how
    each projection is stretched on its own (:func:`stretch_projection`; default ``"clipped"``: grey = 0, the
    strongest 0.5 % of its pixels saturate). Returns the figure.

    Example:
        >>> from zfcourse.features import top_k
        >>> from zfcourse.models import course_model
        >>> model, data = course_model(input_size=112).eval(), torch.randn(12, 3, 112, 112)
        >>> v = top_k_views(model, data, top_k(model, data, "relu2", progress=False), [0, 1], progress=False)
        >>> fig = plot_top_k(v)
        >>> [t.get_text() for t in fig.axes[0].texts]
        ['#0', '#1']
    """
    if contrast not in CONTRASTS:
        raise ValueError(f"contrast: expected one of {CONTRASTS}, got {contrast!r}")
    if axes is None:
        rows = math.ceil(len(views.channels) / maps_per_row)
        fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH_INCHES, 4.65 * rows / 2 + 0.6))
    fig = axes[0].figure
    shown = stretch_projection(views.projections, contrast)
    c, k, _, r, _ = views.patches.shape
    patches = np.asarray(to_display(views.patches.flatten(0, 1))).reshape(c, k, r, r, 3)  # (N, 3, r, r) batch in
    for ax, tiles, what in zip(axes, (shown, patches), ("projections", "patches")):
        img, labels = _grid(np.asarray(tiles), views.channels.tolist(), maps_per_row)
        ax.imshow(img, interpolation="nearest")
        for x, y, text in labels:
            ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
        ax.set_title(f"{title or views.layer}: {what}", fontsize=fontsize)
        ax.axis("off")
    return fig


def plot_figure_2(views_by_layer: list[TopKViews], maps_per_row: int = 4, to_display=to_image,
                  contrast: str = "clipped"):
    """Fig. 2 for several layers: one row per layer, projections | patches (:func:`plot_top_k`). Returns the figure."""
    fig, axes = plt.subplots(len(views_by_layer), 2, figsize=(FULL_WIDTH_INCHES, 3.9 * len(views_by_layer)),
                             squeeze=False)
    for row, views in zip(axes, views_by_layer):
        plot_top_k(views, maps_per_row, to_display, axes=row, contrast=contrast)
    fig.tight_layout()
    return fig
