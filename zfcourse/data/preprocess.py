"""Input space: converting images to what the models take, and back for display (§3); the paper's ten crops.

Zeiler & Fergus (§3): each RGB image is resized so its shortest side is 256, the centre 256×256 region is cropped,
and "the per-pixel mean (across all images) is subtracted"; then 224×224 sub-crops are taken — at training time
random ones (with horizontal flips), at test time the "10 different sub-crops (the corners + centre with(out)
horizontal flips)". The input therefore lives on the 0–255 scale minus a mean *image*:

    x_input[c, i, j] = x[c, i, j] − μ[c, i, j],   x ∈ {0..255},   so x_input ≈ [−128, 128] and 0 is "grey" (the mean).

The embedded world does the same at three quarters of the size: 192 renders, 168 crops, μ the per-pixel mean of a
fixed set of training renders. Torchvision's pretrained AlexNet/VGG expect instead

    x_input[c] = (x[c] / 255 − m[c]) / s[c],   m = (0.485, 0.456, 0.406), s = (0.229, 0.224, 0.225).

:class:`Preprocess` covers both with x_input = (k·x − μ) / σ (k = 1 or 1/255) and converts back for plotting.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _as_nchw_uint8(images, name: str = "images") -> tuple[torch.Tensor, bool]:
    """Any supported image container → (uint8 NCHW tensor, was_batched).

    numpy arrays and PIL images are channels-last (H, W, 3) / (N, H, W, 3) — what ``render`` and PIL give;
    torch tensors are channels-first (3, H, W) / (N, 3, H, W) — what torchvision gives.
    """
    if hasattr(images, "convert") and hasattr(images, "size"):  # a PIL image
        images = np.asarray(images.convert("RGB"))
    if isinstance(images, np.ndarray):
        if images.dtype != np.uint8:
            raise TypeError(f"{name}: expected uint8 pixel values 0..255, got dtype {images.dtype}")
        if images.ndim not in (3, 4) or images.shape[-1] != 3:
            raise ValueError(f"{name}: expected a numpy array (H, W, 3) or (N, H, W, 3), got shape {images.shape}")
        if not images.flags.writeable:  # e.g. the cached probe images; torch wants memory it may write
            images = images.copy()
        t = torch.from_numpy(np.ascontiguousarray(images))
        batched = t.ndim == 4
        t = t if batched else t[None]
        return t.permute(0, 3, 1, 2), batched
    if isinstance(images, torch.Tensor):
        if images.dtype != torch.uint8:
            raise TypeError(f"{name}: expected a uint8 tensor with pixel values 0..255, got dtype {images.dtype}")
        if images.ndim not in (3, 4) or images.shape[-3] != 3:
            raise ValueError(f"{name}: expected a tensor (3, H, W) or (N, 3, H, W), got shape {tuple(images.shape)}")
        batched = images.ndim == 4
        return (images if batched else images[None]), batched
    raise TypeError(f"{name}: expected a numpy array, torch tensor or PIL image, got {type(images).__name__}")


class Preprocess:
    """Converts uint8 RGB images to model input space and back: x_input = (k·x − μ) / σ (§3).

    Args:
        mean: μ — a (3, H, W) mean image (the paper's per-pixel mean) or a (3,) / (3, 1, 1) per-channel mean,
            on the scale ``k·x``.
        std: σ — per-channel (3,) or a scalar; 1 for the paper.
        scale: k — 1 for the paper's 0–255 input, 1/255 for torchvision's [0, 1] convention.
        name: a short description printed by ``repr``.

    A mean image smaller than the image is an error; a larger one is centre-cropped to the image (the paper
    subtracts μ before cropping, so for a centre crop this is exact) unless ``offset`` gives the crop's corner.

    Example:
        >>> p = Preprocess.paper(torch.full((3, 192, 192), 100.0))
        >>> x = p.to_input(np.full((168, 168, 3), 228, np.uint8))
        >>> tuple(x.shape), float(x.max())
        ((3, 168, 168), 128.0)
    """

    def __init__(self, mean, std=1.0, scale: float = 1.0, name: str = ""):
        mean = torch.as_tensor(mean, dtype=torch.float32)
        if mean.ndim == 1:
            mean = mean[:, None, None]
        if mean.ndim != 3 or mean.shape[0] != 3:
            raise ValueError(f"mean: expected shape (3,), (3, 1, 1) or (3, H, W), got {tuple(mean.shape)}")
        std = torch.as_tensor(std, dtype=torch.float32)
        std = std[:, None, None] if std.ndim == 1 else std
        if (std <= 0).any():
            raise ValueError(f"std: expected positive values, got {std.flatten().tolist()}")
        self.mean, self.std, self.scale, self.name = mean, std, float(scale), name

    @classmethod
    def paper(cls, mean_image) -> "Preprocess":
        """The paper's input space (§3): 0–255 RGB minus the per-pixel mean image ``mean_image`` (3, H, W)."""
        return cls(mean_image, 1.0, 1.0, name="0-255 minus per-pixel mean (paper §3)")

    @classmethod
    def torchvision(cls) -> "Preprocess":
        """Torchvision's ImageNet normalisation: (x/255 − m) / s with m, s = IMAGENET_MEAN, IMAGENET_STD."""
        return cls(IMAGENET_MEAN, IMAGENET_STD, 1 / 255, name="torchvision ImageNet normalisation")

    def __repr__(self) -> str:
        return f"Preprocess({self.name or 'custom'}, mean {tuple(self.mean.shape)})"

    def mean_for(self, height: int, width: int, offset=None) -> torch.Tensor:
        """μ cropped to an image of height × width (centre crop, or the crop at ``offset`` = (y, x))."""
        m = self.mean
        if m.shape[-1] == 1 and m.shape[-2] == 1:
            return m
        mh, mw = m.shape[-2:]
        if height > mh or width > mw:
            raise ValueError(f"images: {height}×{width} is larger than the mean image {mh}×{mw}; resize or crop first")
        oy, ox = ((mh - height) // 2, (mw - width) // 2) if offset is None else offset
        if not (0 <= oy <= mh - height and 0 <= ox <= mw - width):
            raise ValueError(f"offset: ({oy}, {ox}) puts a {height}×{width} crop outside the {mh}×{mw} mean image")
        return m[:, oy:oy + height, ox:ox + width]

    def to_input(self, images, offset=None) -> torch.Tensor:
        """uint8 images → float32 input-space tensor (3, H, W) or (N, 3, H, W).

        ``images``: numpy (H, W, 3) / (N, H, W, 3), a PIL image, or a uint8 tensor (3, H, W) / (N, 3, H, W).
        ``offset``: (y, x) of the crop inside the mean image, if not centred.
        """
        x, batched = _as_nchw_uint8(images)
        out = (x.float() * self.scale - self.mean_for(*x.shape[-2:], offset)) / self.std
        return out if batched else out[0]

    def to_display(self, x: torch.Tensor, offset=None) -> np.ndarray:
        """Input-space tensor (3, H, W) / (N, 3, H, W) → float numpy (H, W, 3) / (N, H, W, 3) in [0, 1] for plotting
        (the inverse of :meth:`to_input`, clipped)."""
        if not isinstance(x, torch.Tensor) or x.ndim not in (3, 4) or x.shape[-3] != 3:
            raise ValueError(f"x: expected an input-space tensor (3, H, W) or (N, 3, H, W), got "
                             f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
        x = x.detach().float().cpu()
        pixels = (x * self.std + self.mean_for(*x.shape[-2:], offset)) / (self.scale * 255.0)
        return pixels.clamp(0, 1).movedim(-3, -1).numpy()


def mean_image(images) -> torch.Tensor:
    """Per-pixel mean (3, H, W), float32 on the 0–255 scale, of uint8 images: numpy (N, H, W, 3) or tensor
    (N, 3, H, W)."""
    x, _ = _as_nchw_uint8(images)
    return x.double().mean(0).float()


def resize_shortest(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resize (…, C, H, W) so the shortest side is ``size`` (bilinear, antialiased; aspect ratio kept) — §3."""
    h, w = image.shape[-2:]
    if min(h, w) == size:
        return image
    nh, nw = (size, max(size, round(w * size / h))) if h <= w else (max(size, round(h * size / w)), size)
    dtype = image.dtype
    batched = image.ndim == 4
    x = image if batched else image[None]
    x = F.interpolate(x.float(), size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)
    if dtype == torch.uint8:
        x = x.round().clamp(0, 255).to(torch.uint8)
    return x if batched else x[0]


def centre_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """The central size × size window of (…, C, H, W) (offset ⌊(H − size)/2⌋, ⌊(W − size)/2⌋)."""
    h, w = image.shape[-2:]
    if size > h or size > w:
        raise ValueError(f"size: the crop ({size}) is larger than the image ({h}×{w})")
    oy, ox = (h - size) // 2, (w - size) // 2
    return image[..., oy:oy + size, ox:ox + size]


def paper_resize(image: torch.Tensor, size: int = 256) -> torch.Tensor:
    """§3: shortest side → ``size``, then the centre size × size crop (256 for ImageNet, 128 for the embedded world)."""
    return centre_crop(resize_shortest(image, size), size)


def ten_crop_boxes(size: int, crop: int) -> list[tuple[int, int, bool]]:
    """(y, x, flipped) of the paper's ten crops of a size × size image: top-left, top-right, bottom-left,
    bottom-right, centre, then the same five flipped horizontally (torchvision's order)."""
    if crop > size:
        raise ValueError(f"crop: the crop ({crop}) is larger than the image ({size}×{size})")
    e, c = size - crop, (size - crop) // 2
    five = [(0, 0), (0, e), (e, 0), (e, e), (c, c)]
    return [(y, x, False) for y, x in five] + [(y, x, True) for y, x in five]


def ten_crop(images: torch.Tensor, crop: int = 224, resize: int | None = None) -> torch.Tensor:
    """The paper's test-time ten crops (§3): 4 corners + centre, each with and without a horizontal flip.

    Args:
        images: (C, H, W) or (N, C, H, W), square unless ``resize`` is given (any dtype: uint8 or input space).
        crop: crop side (224 for ImageNet, 168 for the embedded world).
        resize: if given, first shortest side → ``resize`` and centre resize × resize crop (256 / 192).

    Returns:
        (10, C, crop, crop) or (N, 10, C, crop, crop), in the order of :func:`ten_crop_boxes`. Averaging a model's
        softmax over dim 1 gives the paper's ten-crop prediction.
    """
    if not isinstance(images, torch.Tensor) or images.ndim not in (3, 4):
        raise ValueError(f"images: expected a tensor (C, H, W) or (N, C, H, W), got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    if resize is not None:
        images = paper_resize(images, resize)
    h, w = images.shape[-2:]
    if h != w:
        raise ValueError(f"images: expected square images (or pass resize=), got {h}×{w}")
    crops = []
    for y, x, flipped in ten_crop_boxes(h, crop):
        c = images[..., y:y + crop, x:x + crop]
        crops.append(c.flip(-1) if flipped else c)
    return torch.stack(crops, dim=-4)
