"""Masking the same part in every image (§4.3, Fig. 8): a square centred on a keypoint, or at a random place on the
object.

Coordinates are pixels with (0, 0) the centre of the top-left pixel, x to the right and y down (matplotlib's ``imshow``
and PIL's drawing convention): the pixel in row r, column c covers [c − ½, c + ½) × [r − ½, r + ½). A square of side
s centred on (x, y) covers the pixels whose centres lie in [x − s/2, x + s/2) × [y − s/2, y + s/2), i.e. columns
ceil(x − s/2) … ceil(x + s/2) − 1: exactly s pixels, symmetric about x when x is an integer and s odd. It is clipped to
the image. The fill is the occlusion chapter's (§4.2): 0 in input space (0–255 minus the per-pixel mean) is "grey".
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch


def square_box(center, size: int, height: int, width: int) -> tuple[int, int, int, int]:
    """Pixel bounds (r0, r1, c0, c1) — rows r0 ≤ r < r1, columns c0 ≤ c < c1 — of the ``size``×``size`` square centred
    on ``center`` = (x, y), clipped to a ``height``×``width`` image (§4.3).

    Example:
        >>> square_box((10, 20), 5, 112, 112)
        (18, 23, 8, 13)
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size: expected a positive integer side in pixels, got {size!r}")
    x, y = (float(v) for v in center)
    c0, c1 = math.ceil(x - size / 2), math.ceil(x + size / 2)
    r0, r1 = math.ceil(y - size / 2), math.ceil(y + size / 2)
    return max(r0, 0), min(r1, height), max(c0, 0), min(c1, width)


def _fill_value(fill, channels: int, like: torch.Tensor) -> torch.Tensor:
    fill = torch.as_tensor(fill, dtype=like.dtype, device=like.device)
    if fill.dim() == 0:
        return fill.expand(channels)
    if fill.shape != (channels,):
        raise ValueError(f"fill: expected a number or a ({channels},) tensor (one value per channel), "
                         f"got shape {tuple(fill.shape)}")
    return fill


def _check_images(images: torch.Tensor) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images: expected a (N, C, H, W) tensor in input space, got {shape}")
    return images


def mask_squares(images: torch.Tensor, centers, size: int, fill=0.0) -> torch.Tensor:
    """Copies of ``images`` (N, C, H, W) with a ``size``×``size`` square centred on ``centers[i]`` = (x, y) filled with
    ``fill`` in image i (§4.3, Fig. 8): x̃_i = x_i with x̃_i[:, r0:r1, c0:c1] = fill (see :func:`square_box`).

    Args:
        images: (N, C, H, W) tensor in input space; not modified.
        centers: N points (x, y) in pixels, or an (N, 2) tensor. Each must lie inside the image.
        size: side of the square in pixels.
        fill: a number or a (C,) tensor; 0 = the mean image's grey, like the occlusion chapter's occluder.

    Example:
        >>> out = mask_squares(torch.ones(1, 3, 8, 8), [(3, 3)], 3)
        >>> out[0, 0, 2:5, 2:5].sum().item(), out.sum().item()
        (0.0, 165.0)
    """
    images = _check_images(images)
    n, c, h, w = images.shape
    centers = torch.as_tensor(centers, dtype=torch.float64).reshape(-1, 2) if len(centers) else torch.empty(0, 2)
    if centers.shape[0] != n:
        raise ValueError(f"centers: expected one (x, y) per image ({n}), got {centers.shape[0]}")
    value = _fill_value(fill, c, images)[:, None, None]
    out = images.clone()
    for i, (x, y) in enumerate(centers.tolist()):
        check_inside(x, y, h, w, f"centers: point {i}")
        r0, r1, c0, c1 = square_box((x, y), size, h, w)
        out[i, :, r0:r1, c0:c1] = value
    return out


def check_inside(x: float, y: float, height: int, width: int, what: str) -> None:
    """Raise ValueError("<what> at (x, y) lies outside the H×W image") unless −½ ≤ x < W − ½ and −½ ≤ y < H − ½."""
    if not (math.isfinite(x) and math.isfinite(y) and -0.5 <= x < width - 0.5 and -0.5 <= y < height - 0.5):
        raise ValueError(f"{what} at ({x:g}, {y:g}) lies outside the {height}×{width} image "
                         f"(x must be in [-0.5, {width - 0.5}), y in [-0.5, {height - 0.5}))")


def part_centers(keypoints: Sequence[Mapping], part: str, height: int, width: int) -> list[tuple[float, float]]:
    """The (x, y) of keypoint ``part`` in every image's annotation (a mapping name → (x, y)), checked to be inside.

    Example:
        >>> part_centers([{"nose": (5, 6)}, {"nose": (7, 8)}], "nose", 112, 112)
        [(5.0, 6.0), (7.0, 8.0)]
    """
    out = []
    for i, kp in enumerate(keypoints):
        kp = getattr(kp, "keypoints", kp)           # an Annotation object or a plain mapping
        if part not in kp:
            raise KeyError(f"keypoints: image {i} has no {part!r} (it has {sorted(kp)})")
        x, y = (float(v) for v in kp[part])
        check_inside(x, y, height, width, f"keypoints: {part!r} of image {i}")
        out.append((x, y))
    return out


def mask_part(images: torch.Tensor, keypoints: Sequence[Mapping], part: str, size: int, fill=0.0) -> torch.Tensor:
    """Mask the same part in every image (§4.3, Fig. 8): a ``size``×``size`` square of ``fill`` centred on
    ``keypoints[i][part]`` in image i.

    Example:
        >>> out = mask_part(torch.ones(2, 3, 16, 16), [{"nose": (4, 4)}, {"nose": (10, 8)}], "nose", 3)
        >>> out[1, :, 7:10, 9:12].abs().sum().item()
        0.0
    """
    images = _check_images(images)
    if len(keypoints) != images.shape[0]:
        raise ValueError(f"keypoints: expected one annotation per image ({images.shape[0]}), got {len(keypoints)}")
    centers = part_centers(keypoints, part, images.shape[-2], images.shape[-1])
    return mask_squares(images, centers, size, fill)


def random_centers(boxes, n_draws: int, generator: torch.Generator | None = None, seed: int = 0) -> torch.Tensor:
    """Random mask centres on the object (§4.3, Table 1 "Random"): (n_draws, N, 2) points (x, y), each drawn uniformly
    from image i's object box (x0, y0, x1, y1), independently per image and per draw.

    Independent positions in different images are the point of the baseline: they do not correspond, so Δ measures
    how consistently the features change when *unrelated* parts of the object are hidden.

    Example:
        >>> random_centers([(10, 10, 20, 30)], 2, seed=0).shape
        torch.Size([2, 1, 2])
    """
    boxes = torch.as_tensor(boxes, dtype=torch.float64)
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes: expected (N, 4) boxes (x0, y0, x1, y1), got shape {tuple(boxes.shape)}")
    if not (boxes[:, 2] >= boxes[:, 0]).all() or not (boxes[:, 3] >= boxes[:, 1]).all():
        raise ValueError("boxes: expected x1 ≥ x0 and y1 ≥ y0 in every (x0, y0, x1, y1) box")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise ValueError(f"n_draws: expected a positive integer, got {n_draws!r}")
    if generator is None:
        generator = torch.Generator().manual_seed(seed)
    u = torch.rand(n_draws, boxes.shape[0], 2, generator=generator, dtype=torch.float64)
    return boxes[:, :2] + u * (boxes[:, 2:] - boxes[:, :2])


def mask_random(images: torch.Tensor, boxes, size: int, n_draws: int = 1, fill=0.0,
                seed: int = 0) -> list[torch.Tensor]:
    """The "Random" row of Table 1 (§4.3): ``n_draws`` masked copies of ``images``, each with a ``size``×``size`` square
    at an independent uniformly random place inside each image's object box (see :func:`random_centers`).

    Boxes may reach past the border (the embedded world's are clipped, real ones may not be); centres are kept on the
    image, so every square hides some of the object.

    Example:
        >>> [m.shape for m in mask_random(torch.ones(2, 3, 16, 16), [(2, 2, 12, 12)] * 2, 3, n_draws=2)]
        [torch.Size([2, 3, 16, 16]), torch.Size([2, 3, 16, 16])]
    """
    images = _check_images(images)
    n, _, h, w = images.shape
    boxes = torch.as_tensor(boxes, dtype=torch.float64)
    if boxes.dim() != 2 or boxes.shape[0] != n:
        raise ValueError(f"boxes: expected one (x0, y0, x1, y1) box per image ({n}), got shape {tuple(boxes.shape)}")
    centers = random_centers(boxes, n_draws, seed=seed)
    centers[..., 0].clamp_(0, w - 1)
    centers[..., 1].clamp_(0, h - 1)
    return [mask_squares(images, c, size, fill) for c in centers]
