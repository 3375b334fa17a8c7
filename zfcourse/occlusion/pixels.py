"""From one value per occluder position to one value per pixel, so occlusion maps can be laid over the image (Fig. 7)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def to_pixels(values: torch.Tensor, maps) -> torch.Tensor:
    r"""Spread per-position values (n_y, n_x) back onto the (H, W) image: each pixel gets the mean over the occluder
    positions that cover it (§4.2, Fig. 7 draws these maps over the image).

        heat[u, v] = Σ_{(i,j): u ∈ [y_i, y_i+size), v ∈ [x_j, x_j+size)} values[i, j]  /  #{such (i, j)}

    This is also how Captum's ``Occlusion`` spreads a window's effect over its pixels. Pixels that no occluder covers
    (a rim of fewer than ``stride`` pixels at the bottom/right when (H − size) is not a multiple of ``stride``) are NaN,
    which matplotlib draws transparent.

    Args:
        values: (n_y, n_x), e.g. ``maps.prob``, ``maps.activation`` or ``maps.unoccluded_prob - maps.prob``.
        maps: the :class:`~zfcourse.occlusion.OcclusionMaps` they came from (for size, stride and image shape).

    Example:
        >>> import torch
        >>> from zfcourse.models import course_model
        >>> from zfcourse.occlusion import occlusion_maps
        >>> _ = torch.manual_seed(0); m = occlusion_maps(course_model(), torch.zeros(3, 112, 112), 0, size=16, stride=8)
        >>> to_pixels(m.prob, m).shape
        torch.Size([112, 112])
    """
    if values.shape != maps.prob.shape:
        raise ValueError(f"values: expected one value per occluder position {tuple(maps.prob.shape)}, "
                         f"got {tuple(values.shape)}")
    h, w = maps.image_shape
    box = torch.ones(1, 1, maps.size, maps.size, dtype=torch.float64)
    # A transposed convolution with a box kernel adds each value over its occluder's square; the same with ones counts.
    spread = lambda v: F.conv_transpose2d(v[None, None].double(), box, stride=maps.stride)[0, 0]
    total, count = spread(values.cpu()), spread(torch.ones(values.shape))
    total = F.pad(total, (0, w - total.shape[1], 0, h - total.shape[0]))
    count = F.pad(count, (0, w - count.shape[1], 0, h - count.shape[0]))
    return (total / count).float()  # 0/0 → NaN where nothing covers the pixel
