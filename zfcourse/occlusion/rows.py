"""The rows of Fig. 7 (§4.2) for several images at once: occlusion maps (b, d, e) and the projection panel (c).

One call gives what :func:`~zfcourse.occlusion.plot_figure_7` draws, for the course model on the embedded probes
and for torchvision's AlexNet on real photos alike (the same code path, DESIGN.md "Two data sources").
"""
from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

from ..features import TopK, top_k
from .maps import occlusion_maps
from .projection import projection_panel


def figure_7_rows(model: nn.Module, images: torch.Tensor, targets, data, size: int, stride: int,
                  layer: str | int = "relu5", k: int = 9, boxes=None, top: TopK | None = None, fill=0.0,
                  batch_size: int = 64, progress: bool = True) -> tuple[list[dict], TopK]:
    r"""Everything Fig. 7 shows, for each image n of ``images`` (N, 3, H, W) with correct class ``targets[n]``:

    * ``maps``: :func:`occlusion_maps` (size, stride, fill) with panel (b) following the map
      k_n = argmax_c Σ_{u,v} A_l(x_n)[c, u, v] of ``layer`` — the strongest on the unoccluded image;
    * ``projection``: :func:`projection_panel` of that map — its deconvnet projection for x_n beside its
      top-``k`` projections from ``data`` (§2.1, §4);
    * ``image`` and ``box`` (``boxes[n]``, the ground truth when known, else None).

    Args:
        model, size, stride, fill, batch_size: as in :func:`occlusion_maps`.
        images: (N, 3, H, W) in the model's input space (or a list of (3, H, W)).
        targets: N class indices (the correct classes).
        data: the images whose top-k projections fill panel (c): a tensor or a Dataset of (image, label).
        layer: the "layer 5" of panels (b) and (c): ``"relu5"`` for the course model and ZFNet, ``"features.11"``
            for torchvision's AlexNet (the rectified conv5 maps, which the deconvnet projects).
        top: a :func:`zfcourse.features.top_k` result already mined on ``data`` at ``layer`` (else mined here).

    Returns:
        (rows, top): the rows for :func:`plot_figure_7` and the top-k table (reuse it for more images).
    """
    targets = [int(t) for t in targets]
    if len(targets) != len(images):
        raise ValueError(f"targets: expected one class per image ({len(images)}), got {len(targets)}")
    if boxes is not None and len(boxes) != len(images):
        raise ValueError(f"boxes: expected one box (or None) per image ({len(images)}), got {len(boxes)}")
    if top is None:
        top = top_k(model, data, layer, k=k, batch_size=batch_size, progress=progress)
    rows = []
    for n in tqdm(range(len(images)), desc="Fig. 7 rows", disable=not progress, leave=False):
        maps = occlusion_maps(model, images[n], targets[n], size, stride, fill, layer, batch_size, progress=False)
        rows.append(dict(image=images[n], maps=maps, box=None if boxes is None else boxes[n],
                         projection=projection_panel(model, images[n], top, data, maps.feature_map, k)))
    return rows, top
