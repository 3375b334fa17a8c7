"""Reading the maps of Fig. 7 (§4.2): back onto the image's pixels, and measured against ground truth.

:func:`to_pixels` spreads one value per occluder position over the pixels it covers, so maps can be laid over the
image. The embedded world knows every object's box, so the paper's reading of Fig. 7 ("the probability of the correct
class drops significantly when the object is occluded") becomes a number one can compare with chance
(:func:`drop_share`); :func:`flip_share` and :func:`value_at` read the label map and single positions.
"""
from __future__ import annotations

from typing import NamedTuple

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
        >>> _ = torch.manual_seed(0); model = course_model(input_size=112)  # any model will do
        >>> m = occlusion_maps(model, torch.zeros(3, 112, 112), 0, size=16, stride=8)
        >>> to_pixels(m.prob, m).shape
        torch.Size([112, 112])
    """
    if values.shape != maps.prob.shape:
        raise ValueError(f"values: expected one value per occluder position {tuple(maps.prob.shape)}, "
                         f"got {tuple(values.shape)}")
    h, w = maps.image_shape
    box = torch.ones(1, 1, maps.size, maps.size, dtype=torch.float64)

    def spread(v):  # a transposed convolution with a box kernel adds each value over its occluder's square
        return F.conv_transpose2d(v[None, None].double(), box, stride=maps.stride)[0, 0]

    # The same with ones counts the occluders over each pixel.
    total, count = spread(values.cpu()), spread(torch.ones(values.shape))
    total = F.pad(total, (0, w - total.shape[1], 0, h - total.shape[0]))
    count = F.pad(count, (0, w - count.shape[1], 0, h - count.shape[0]))
    return (total / count).float()  # 0/0 → NaN where nothing covers the pixel


class DropShare(NamedTuple):
    """``inside``: share of the probability drop that falls inside the box; ``chance``: the box's share of the
    occluded pixels — what ``inside`` would be if the drop were spread evenly. inside ≫ chance means "on the object"."""
    inside: float
    chance: float


def box_mask(box, shape: tuple[int, int]) -> torch.Tensor:
    """(H, W) bool mask of ``box``: either (x0, y0, x1, y1) in pixels, half-open, torchvision's XYXY order, clipped to
    the image; or already an (H, W) mask (e.g. an object's silhouette)."""
    h, w = shape
    if isinstance(box, torch.Tensor) and box.dim() == 2:
        if tuple(box.shape) != (h, w):
            raise ValueError(f"box: a mask must have the image's shape {(h, w)}, got {tuple(box.shape)}")
        return box.bool().cpu()
    if len(box) != 4:
        raise ValueError(f"box: expected (x0, y0, x1, y1) or an (H, W) mask, got {box!r}")
    x0, y0, x1, y1 = (int(round(float(v))) for v in box)
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
    return mask


def drop_share(maps, box, of: str = "prob") -> DropShare:
    r"""Share of the occlusion-induced probability drop that falls inside a ground-truth ``box`` (§4.2, Fig. 7d).

    With d[i, j] = max(0, p(unoccluded) − prob[i, j]) the drop at each occluder position (rises are not drops) and
    D = :func:`to_pixels` (d) its pixel map (each pixel the mean over the occluders covering it),

        inside = Σ_{pixels in box} D / Σ_{all covered pixels} D,        chance = |box ∩ covered| / |covered|.

    ``inside`` is NaN when nothing drops. With ``of="activation"`` the same is computed for the feature map's total
    activation (Fig. 7b): d[i, j] = max(0, a(unoccluded) − activation[i, j]) — does the map lose its activity when the
    occluder covers the object?

    Example:
        >>> import torch
        >>> from zfcourse.models import course_model
        >>> from zfcourse.occlusion import occlusion_maps
        >>> _ = torch.manual_seed(0); model = course_model(input_size=112)  # any model will do
        >>> m = occlusion_maps(model, torch.zeros(3, 112, 112), 0, size=16, stride=8)
        >>> round(drop_share(m, (0, 0, 56, 112)).chance, 2)
        0.5
    """
    if of == "prob":
        drop = maps.unoccluded_prob - maps.prob
    elif of == "activation":
        if maps.activation is None:
            raise ValueError("of: 'activation' needs maps computed with a layer (layer=None skipped Fig. 7b)")
        drop = maps.unoccluded_activation - maps.activation
    else:
        raise ValueError(f"of: expected 'prob' or 'activation', got {of!r}")
    heat = to_pixels(drop.clamp(min=0), maps)
    covered = ~heat.isnan()
    inside = box_mask(box, maps.image_shape) & covered
    total = heat[covered].sum()
    share = float(heat[inside].sum() / total) if total > 0 else float("nan")
    return DropShare(share, float(inside.sum() / covered.sum()))


def flip_share(maps, to: int, box=None) -> float:
    """Share of occluder positions whose most probable label (Fig. 7e) is class ``to`` — e.g. the distractor, the
    paper's "tennis ball" when the dog's face is covered (§4.2). With ``box``, only positions whose occluder centre lies
    inside the box count ("when the face is covered"). 0 means the label never flips to ``to``; NaN if no position
    counts.

    Example:
        >>> import torch
        >>> from zfcourse.models import course_model
        >>> from zfcourse.occlusion import occlusion_maps
        >>> _ = torch.manual_seed(0); model = course_model(input_size=112)  # any model will do
        >>> m = occlusion_maps(model, torch.zeros(3, 112, 112), 0, size=16, stride=8)
        >>> flip_share(m, m.unoccluded_label)
        1.0
    """
    keep = torch.ones(maps.prob.shape, dtype=torch.bool)
    if box is not None:
        mask = box_mask(box, maps.image_shape)
        centre = maps.size // 2
        keep = mask[(maps.ys + centre)[:, None], (maps.xs + centre)[None, :]]
    if not keep.any():
        return float("nan")
    return float((maps.label[keep] == to).float().mean())


def value_at(maps, values: torch.Tensor, point) -> float:
    """``values`` (n_y, n_x) — e.g. ``maps.prob`` or ``maps.activation`` — at the occluder position whose centre
    (y_i + size/2, x_j + size/2) is nearest to ``point`` = (x, y) in pixels, e.g. a keypoint of the embedded world
    ("what does the classifier say when the wheel is covered?", §4.2, Fig. 7 row 2).

    Example:
        >>> import torch
        >>> from zfcourse.models import course_model
        >>> from zfcourse.occlusion import occlusion_maps
        >>> _ = torch.manual_seed(0); model = course_model(input_size=112)  # any model will do
        >>> m = occlusion_maps(model, torch.zeros(3, 112, 112), 0, size=16, stride=8)
        >>> value_at(m, m.prob, (8.0, 8.0)) == float(m.prob[0, 0])
        True
    """
    if values.shape != maps.prob.shape:
        raise ValueError(f"values: expected one value per occluder position {tuple(maps.prob.shape)}, "
                         f"got {tuple(values.shape)}")
    if len(point) != 2:
        raise ValueError(f"point: expected (x, y) in pixels, got {point!r}")
    x, y = (float(v) for v in point)
    half = maps.size / 2
    i = int(((maps.ys.double() + half) - y).abs().argmin())
    j = int(((maps.xs.double() + half) - x).abs().argmin())
    return float(values[i, j])
