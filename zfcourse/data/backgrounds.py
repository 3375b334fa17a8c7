"""Cluttered, textured backgrounds for the embedded world.

ImageNet objects sit on clutter, and the paper's visualisations show layer-1/2 filters picking up edges and textures
everywhere (§4, Fig. 2). So the background is never flat: one of smooth colour noise, oriented stripes or a
checkerboard, then a few random blobs, then fine pixel noise over both. Colours are muted (lower saturation than
the objects)
so the object remains the most salient thing, as in a typical ImageNet photo, but the model cannot classify from
"any colourful pixel". The per-pixel work is done by PIL in C (palettes, bilinear resize, ImageChops.add); numpy only
builds 128×128 index maps from outer sums.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageChops, ImageDraw

_LEVELS = 32  # periodic textures are quantised to this many levels, then coloured by a palette
_NOISE_TILE = 256
_NOISE: Image.Image | None = None
_RAMP = np.arange(512, dtype=np.float32)


def _noise_tile() -> Image.Image:
    """A fixed 256×256 RGB tile of Gaussian noise, σ = 12 grey levels around 128, made once from seed 0.

    Drawing 49k fresh Gaussians per image would cost more than the rest of the image; a random window of a fixed
    tile (position drawn from the image's generator) looks the same to the eye and to a convnet.
    """
    global _NOISE
    if _NOISE is None:
        tile = 128 + np.random.default_rng(0).standard_normal((_NOISE_TILE, _NOISE_TILE, 3)) * 12
        _NOISE = Image.fromarray(np.clip(np.round(tile), 0, 255).astype(np.uint8))
    return _NOISE


def _muted(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` muted RGB colours (float32, 0..255): a grey level plus a small random tint."""
    grey = rng.uniform(60, 190, (n, 1))
    return np.clip(grey + rng.uniform(-35, 35, (n, 3)), 0, 255).astype(np.float32)


def _two_colour(rng: np.random.Generator, levels: np.ndarray) -> Image.Image:
    """Colour a uint8 map of levels 0.._LEVELS-1 by blending two muted colours (a PIL palette: done in C)."""
    c0, c1 = _muted(rng, 2)
    lut = (c0 + np.linspace(0, 1, _LEVELS, dtype=np.float32)[:, None] * (c1 - c0)).astype(np.uint8)
    img = Image.frombytes("P", (levels.shape[1], levels.shape[0]), levels.tobytes())
    img.putpalette(lut.ravel().tolist())
    return img.convert("RGB")


def _smooth_noise(rng: np.random.Generator, size: int) -> Image.Image:
    """Low-frequency colour noise: a 4×4..8×8 grid of muted colours upsampled bilinearly."""
    cells = int(rng.integers(4, 9))
    low = _muted(rng, cells * cells).astype(np.uint8).reshape(cells, cells, 3)
    return Image.fromarray(low).resize((size, size), Image.BILINEAR)


def _stripes(rng: np.random.Generator, size: int) -> Image.Image:
    """Oriented sinusoidal stripes between two muted colours, period 6–30 px."""
    a = rng.uniform(0, math.pi)
    period = rng.uniform(6, 30)
    r = _RAMP[:size]
    # phase in 1/64 of a period, as an outer sum of a row and a column term; a 64-entry table of the sinusoid
    # turns it into levels without evaluating sin per pixel
    phase = ((r * (64 * math.cos(a) / period))[None, :]
             + (r * (64 * math.sin(a) / period) + rng.uniform(0, 64) + 4096)[:, None])
    wave = np.round((0.5 + 0.5 * np.sin(np.arange(64) * (2 * math.pi / 64))) * (_LEVELS - 1)).astype(np.uint8)
    return _two_colour(rng, wave[phase.astype(np.intp) & 63])


def _checker(rng: np.random.Generator, size: int) -> Image.Image:
    """A (possibly rotated) checkerboard with cells of 8–24 px between two muted colours."""
    a = rng.uniform(0, math.pi / 2)
    cell = rng.uniform(8, 24)
    c, s = math.cos(a) / cell, math.sin(a) / cell
    r = _RAMP[:size]
    u = ((r * c)[None, :] + (r * s + 64)[:, None]).astype(np.intp)  # +64 keeps it positive: truncation is floor
    v = ((r * -s)[None, :] + (r * c + 64)[:, None]).astype(np.intp)
    return _two_colour(rng, (((u + v) & 1) * (_LEVELS - 1)).astype(np.uint8))


_KINDS = (_smooth_noise, _stripes, _checker)


def background(rng: np.random.Generator, size: int = 128, blobs: int | None = None, noise: bool = True) -> Image.Image:
    """A textured background: base texture (smooth noise / stripes / checker), random blobs, fine noise.

    Args:
        rng: the image's generator (everything is drawn from it, so (seed, index) fixes the result).
        size: side in pixels.
        blobs: number of random ellipses (default: 2–5).
        noise: add per-pixel Gaussian noise (σ = 12 grey levels) from a random window of a fixed tile.

    Returns:
        an RGB ``PIL.Image`` to draw the objects on.
    """
    img = _KINDS[int(rng.integers(len(_KINDS)))](rng, size)
    draw = ImageDraw.Draw(img)
    n = int(rng.integers(2, 6)) if blobs is None else blobs
    for c in _muted(rng, n).astype(np.uint8).tolist():
        cx, cy = rng.uniform(-10, size + 10, 2)
        rx, ry = rng.uniform(4, size / 5, 2)
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=tuple(c))
    if noise and size <= _NOISE_TILE:
        ox, oy = (int(v) for v in rng.integers(0, _NOISE_TILE - size + 1, 2))
        window = _noise_tile().crop((ox, oy, ox + size, oy + size))
        img = ImageChops.add(img, window, scale=1.0, offset=-128)  # img + (noise − 128), clipped to 0..255
    return img
