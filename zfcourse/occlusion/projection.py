"""Fig. 7(c) (§4.2): the chosen layer-5 map projected to pixel space for this image, beside its top projections from
a dataset — the paper's "visualization of this feature map projected down into the input image (black square), along
with visualizations of this map from other images".

Both come from the deconvnet of §2.1 (:mod:`zfcourse.deconv`): the image's own projection seeds the map's strongest
unit in this image; the others are the map's top-k activations over ``data``, mined with
:func:`zfcourse.features.top_k`. The result is one RGB picture that :func:`~zfcourse.occlusion.plot_figure_7` puts in
panel (c).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..deconv import project, project_many
from ..features import TopK, images_at
from ..plots import mosaic, show_projection


def _tile(p: np.ndarray, side: int) -> np.ndarray:
    """Resize an (h, w, 3) picture to side × side (bilinear; projections are smooth enough)."""
    t = torch.from_numpy(np.ascontiguousarray(p)).permute(2, 0, 1)[None].float()
    return F.interpolate(t, size=(side, side), mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()


@torch.no_grad()
def dataset_projections(model: nn.Module, data, top: TopK, feature_map: int, k: int | None = None,
                        rectify: str = "deconv") -> torch.Tensor:
    """(k, 3, H, W) deconvnet projections of map ``feature_map``'s top-k activations in ``top`` (mined on ``data``),
    strongest first — the "visualizations of this map from other images" of Fig. 7(c), whole frames."""
    k = top.values.shape[1] if k is None else min(k, top.values.shape[1])
    if not 0 <= feature_map < len(top.values):
        raise ValueError(f"feature_map: expected a map of {top.layer} in 0..{len(top.values) - 1}, got {feature_map}")
    targets = top.targets([feature_map])[:k].cpu()
    device = next(model.parameters()).device
    images = images_at(data, targets[:, 0]).to(device)
    local = torch.cat([torch.arange(k)[:, None], targets[:, 1:]], 1).to(device)
    return project_many(model, images, top.layer, local, rectify).cpu()


def projection_panel(model: nn.Module, image: torch.Tensor, top: TopK, data, feature_map: int, k: int = 9,
                     rectify: str = "deconv", frame: int = 3) -> np.ndarray:
    r"""Fig. 7(c) as one (H', W', 3) RGB picture in [0, 1]: on the left, the projection R(a·e_{k,y*,x*}) of map
    ``feature_map``'s strongest unit (y*, x*) = argmax A_l(image)[k] (§2.1) in a black frame; on the right, a
    ⌈√k⌉-wide mosaic of the same map's top-``k`` projections from ``data``, scaled to the same height. Each
    projection is shown as the paper does: grey = 0, its own largest |value| reaching black or white.

    Args:
        model: the convnet (course model, ZFNet, torchvision AlexNet …).
        image: (3, H, W) in the model's input space.
        top: :func:`zfcourse.features.top_k` mined on ``data`` at the layer of panel (b) (e.g. ``"relu5"``).
        data: the tensor / Dataset ``top`` was mined on (images are fetched by index).
        feature_map: the map of panel (b), usually ``maps.feature_map`` from :func:`occlusion_maps`.
        k: how many dataset projections to show (at most ``top``'s k).

    Example:
        >>> import torch
        >>> from zfcourse.models import course_model
        >>> from zfcourse.features import top_k
        >>> model, data = course_model().eval(), 50 * torch.randn(6, 3, 112, 112)
        >>> top = top_k(model, data, "relu5", k=4, progress=False)
        >>> projection_panel(model, data[0], top, data, feature_map=3, k=4).shape
        (112, 228, 3)
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"image: expected one (3, H, W) image in input space, got "
                         f"{tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected a positive integer, got {k!r}")
    if isinstance(feature_map, bool) or not isinstance(feature_map, int) or not 0 <= feature_map < len(top.values):
        raise ValueError(f"feature_map: expected a map of {top.layer} in 0..{len(top.values) - 1}, got {feature_map!r}")
    device = next(model.parameters()).device
    own = show_projection(project(model, image[None].to(device), top.layer, feature_map, rectify=rectify))[0]
    h, w = own.shape[:2]
    own[:frame], own[-frame:], own[:, :frame], own[:, -frame:] = 0, 0, 0, 0  # the paper's black square
    others = show_projection(dataset_projections(model, data, top, feature_map, k, rectify))
    cols = math.ceil(math.sqrt(len(others)))
    gap = max(1, h // 40)
    side = (h - (cols - 1) * gap) // cols
    grid = mosaic(np.stack([_tile(p, side) for p in others]), cols, gap=gap)
    right = np.ones((h, grid.shape[1], 3), dtype=np.float32)
    right[:grid.shape[0]] = grid
    spacer = np.ones((h, 2 * gap, 3), dtype=np.float32)
    return np.concatenate([own.astype(np.float32), spacer, right], 1)
