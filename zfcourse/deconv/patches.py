"""The input patch a unit can see: its exact receptive field, cut out of an image or a projection (§4, Fig. 2).

Unit (y, x) of a layer with receptive field r, jump j and centre c (see :mod:`zfcourse.models.summary`) sees the
r × r input square whose top-left pixel is (c + y·j − (r−1)/2, c + x·j − (r−1)/2). Near the border part of that
square lies outside the image (in the zero padding); :func:`crop` keeps the square's full r × r size and fills
that part, so every patch of a layer has the same size and the unit sits at its centre.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..models import geometry
from ..models.summary import LayerGeometry


def layer_geometry(model: nn.Module, layer: str) -> LayerGeometry:
    """The :class:`LayerGeometry` row of the full layer name ``layer`` (receptive field, jump and centre do not
    depend on the input size)."""
    rows = {r.name: r for r in geometry(model)}
    return rows[layer]


def origin(row: LayerGeometry, pos: torch.Tensor) -> torch.Tensor:
    """Top-left input pixel (N, 2) of the receptive fields of units ``pos`` (N, 2) = (y, x) — may be negative."""
    start = row.centre - (row.receptive_field - 1) / 2
    return torch.round(start + pos.to(torch.float64) * row.jump).long()


def crop(x: torch.Tensor, row: LayerGeometry, pos: torch.Tensor, index: torch.Tensor | None = None,
         fill: float = 0.0) -> torch.Tensor:
    """Cut the r × r receptive field of unit ``pos[n]`` out of ``x[index[n]]``: (N, C, r, r).

    ``x`` is (B, C, H, W) (images or projections), ``pos`` (N, 2) units of the layer ``row`` describes, ``index`` (N,)
    which picture each unit belongs to (default: n). Pixels of the square outside the picture get ``fill`` (0 = the
    mean image in input space).

    Example:
        >>> from zfcourse.models import zfnet
        >>> row = layer_geometry(zfnet(width=0.25), "features.conv2")
        >>> crop(torch.randn(1, 3, 224, 224), row, torch.tensor([[0, 5]])).shape
        torch.Size([1, 3, 27, 27])
    """
    r = row.receptive_field
    index = torch.arange(len(pos), device=x.device) if index is None else index.to(x.device)
    padded = F.pad(x, (r, r, r, r), value=fill)
    top = origin(row, pos).to(x.device) + r
    ar = torch.arange(r, device=x.device)
    rows, cols = top[:, :1] + ar, top[:, 1:] + ar  # (N, r) each
    out = padded[index[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # (N, r, r, C)
    return out.permute(0, 3, 1, 2)
