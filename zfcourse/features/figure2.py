"""Fig. 2 (§4): for each of the top-k activations of a map, its deconvnet projection and the image patch it saw,
laid out as the paper does — per map a square block of projections beside the matching block of patches.

Both are cut to the unit's exact receptive field (:func:`zfcourse.models.crop`), so projection and patch line up pixel
for pixel; the projection is zero outside that square anyway. Projections are shown the paper's way
(:func:`zfcourse.plots.show_projection`: each scaled on its own, grey = 0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm.auto import tqdm

from ..deconv import project_many
from ..models import crop, layer_geometry
from ..plots import blocks, show_projection, to_image
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
        >>> model, data = course_model().eval(), torch.randn(12, 3, 112, 112)
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


def plot_top_k(views: TopKViews, maps_per_row: int = 4, to_display=to_image, axes=None, title: str | None = None):
    """Draw Fig. 2 for one layer: top-k projections (left) and their receptive-field patches (right), per map.

    ``to_display`` turns input-space patches into RGB in [0, 1] (default: per-patch min–max). Returns the figure.

    Example:
        >>> from zfcourse.features import top_k
        >>> from zfcourse.models import course_model
        >>> model, data = course_model().eval(), torch.randn(12, 3, 112, 112)
        >>> v = top_k_views(model, data, top_k(model, data, "relu2", progress=False), [0, 1], progress=False)
        >>> fig = plot_top_k(v)
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 5 * math.ceil(len(views.channels) / maps_per_row) / 2 + 0.6))
    fig = axes[0].figure
    left = blocks(show_projection(views.projections), maps_per_row)
    right = blocks(to_display(views.patches), maps_per_row)
    for ax, img, what in zip(axes, (left, right), ("projections", "patches")):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(f"{title or views.layer}: {what}", fontsize=9)
        ax.axis("off")
    return fig


def plot_figure_2(views_by_layer: list[TopKViews], maps_per_row: int = 4, to_display=to_image):
    """Fig. 2 for several layers: one row per layer, projections | patches. Returns the figure."""
    fig, axes = plt.subplots(len(views_by_layer), 2, figsize=(10, 4.2 * len(views_by_layer)), squeeze=False)
    for row, views in zip(axes, views_by_layer):
        plot_top_k(views, maps_per_row, to_display, axes=row)
    fig.tight_layout()
    return fig
