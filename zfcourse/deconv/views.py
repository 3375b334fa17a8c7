"""What Fig. 2 shows for each of the top-k activations of a map: its deconvnet projection and the image patch it saw.

Both are cut to the unit's exact receptive field (:mod:`zfcourse.deconv.patches`), so projection and patch line up
pixel for pixel; the projection is zero outside that square anyway.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from .data import images_at
from .many import project_many
from .patches import crop, layer_geometry
from .topk import TopK


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

    Images are fetched from ``data`` (the tensor / Dataset / DataLoader that :func:`~zfcourse.deconv.top_k` read) by
    index, ``chunk`` distinct images at a time; each is recorded once and all its targets go down together.

    Example:
        >>> from zfcourse.models import course_model
        >>> from zfcourse.deconv import top_k
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
    return TopKViews(top.layer, channels, top.values[channels].cpu(), projections.view(shape).cpu(), patches.view(shape).cpu())
