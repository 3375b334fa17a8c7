"""Feature invariance (§4, Fig. 5): transform an image step by step and watch the feature vectors and the classifier.

The paper: "Fig. 5 shows 5 sample images being translated, rotated and scaled by varying degrees while looking at the
changes in the feature vectors from the top and bottom layers of the model, relative to the untransformed feature.
Small transformations have a dramatic effect in the first layer of the model, but a lesser impact at the top feature
layer, being quasi-linear for translation & scaling. The network output is stable to translations and scalings. In
general, the output is not invariant to rotation, except for object with rotational symmetry."

This file re-does the measurement for any torchvision-style model, top to bottom:

1. **Transform** (:func:`transform`). The image is a *canvas* larger than what the model sees; the model sees a
   window of ``view`` canvas pixels at the canvas centre, resampled to its S×S input. A transformation
   T = (t, s, θ) moves the *content* of the canvas: a point q of the original lands at c + t + s·R(θ)(q − c), c the
   window's centre, so the window samples the original at

       q(p) = c + R(−θ)(p − t) / s,     p = output pixel relative to the window centre (in canvas pixels),

   with bilinear interpolation, R(θ) the on-screen counter-clockwise turn (in x-right, y-down pixel coordinates
   R(θ) = [[cos θ, sin θ], [−sin θ, cos θ]]). Because the canvas extends past the window, a translated or shrunken
   object brings real surroundings into view, never an empty border; :func:`transform` refuses (or pads, if asked)
   when a sample would fall off the canvas. The whole canvas turns, background included: a symmetric object on a
   textured background is no longer a symmetric picture, so the symmetry check wants a plain background.
2. **Grids** (:func:`paper_grid`): vertical translation 0…±60 pixels in the paper's 224-pixel input (scaled to the
   model's S), scale 0.6–1.4, rotation 0–360° in 10° steps.
3. **Features** (:func:`extract`): one batched forward pass with hooks at the chosen layers (default
   :func:`default_layers`: relu1, relu5, relu7 — or torchvision's index names for them), each output flattened to a
   vector φ_ℓ(x), plus softmax(f(x)).
4. **Distances** (:func:`measure_invariance`): for each amount a,

       d_ℓ(a) = ‖φ_ℓ(T_a x) − φ_ℓ(x)‖₂      and      r_ℓ(a) = d_ℓ(a) / ‖φ_ℓ(x)‖₂,

   raw and relative to the untransformed feature (the paper's "relative to the untransformed feature"), and
   p(true | T_a x) = softmax(f(T_a x))_y.
5. **Population** (:func:`population_invariance`): the same curves for many images, mean ± standard deviation over
   images at every amount (relative distances, so images of different contrast are comparable).
6. **Symmetry** (:func:`symmetry_check`): for an object with rotational symmetry of order n, the distance-vs-angle
   curve should dip back towards 0 at every multiple of 360°/n, and not between.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..models import resolve
from ..models.modes import evaluating
from ..models.summary import input_size_of

KINDS = ("translation", "scale", "rotation")
UNITS = {"translation": "pixels", "scale": "ratio", "rotation": "degrees"}
IDENTITY = {"translation": 0.0, "scale": 1.0, "rotation": 0.0}
PAPER_INPUT = 224  # the paper's input side; its translations are in these pixels
INPUT = "input"  # a pseudo-layer: the model's input vector itself (distances in pixel space)


# ----------------------------------------------------------------------------------------------------------------
# 1. The transformation
# ----------------------------------------------------------------------------------------------------------------

def _check_kind(kind) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def as_canvas(canvas) -> torch.Tensor:
    """A canvas as a channels-first (3, H, W) tensor: uint8 stays uint8 (pixel values), float stays float (input
    space). Accepts numpy or torch, (H, W, 3) or (3, H, W) (channels-last when the last axis has 3 entries and the
    first does not), or a PIL image."""
    if hasattr(canvas, "convert") and hasattr(canvas, "size"):  # PIL
        canvas = np.asarray(canvas.convert("RGB"))
    if isinstance(canvas, np.ndarray):
        canvas = torch.from_numpy(np.ascontiguousarray(canvas))
    if not isinstance(canvas, torch.Tensor):
        raise TypeError(f"canvas: expected an image array or tensor, got {type(canvas).__name__}")
    if canvas.dim() != 3 or 3 not in (canvas.shape[0], canvas.shape[-1]):
        raise ValueError(f"canvas: expected one RGB image (H, W, 3) or (3, H, W), got shape {tuple(canvas.shape)}")
    if canvas.shape[0] != 3:
        canvas = canvas.permute(2, 0, 1)
    if canvas.dtype != torch.uint8 and not canvas.is_floating_point():
        raise TypeError(f"canvas: expected uint8 pixels or float input-space values, got dtype {canvas.dtype}")
    if canvas.is_floating_point() and not torch.isfinite(canvas).all():
        raise ValueError("canvas: contains non-finite values (nan or inf)")
    return canvas


def _affine(kind: str, amounts: torch.Tensor, size: int, view: float):
    """Per amount: the 2×2 matrix M = R(−θ)/s and the translation t (canvas pixels, (x, y)) of q = c + M(p − t)."""
    n = len(amounts)
    scale, theta, shift = torch.ones(n), torch.zeros(n), torch.zeros(n, 2)
    if kind == "translation":
        shift[:, 1] = amounts * view / size  # input pixels → canvas pixels; positive moves the content down
    elif kind == "scale":
        if (amounts <= 0).any():
            raise ValueError(f"amounts: scale factors must be positive, got {amounts.tolist()}")
        scale = amounts
    else:
        theta = torch.deg2rad(amounts)
    # Rotation by θ counter-clockwise on screen (y points down): the inverse map R(−θ) in (x, y) coordinates.
    cos, sin = torch.cos(theta), torch.sin(theta)
    m = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2) / scale[:, None, None]
    return m, shift


def transform(canvas, kind: str, amounts, size: int, view: float | None = None, pad: str = "error") -> torch.Tensor:
    """Translate (vertically), rescale or rotate the canvas and cut out the window the model sees (§4, Fig. 5).

    Output pixel p (relative to the window centre c, in canvas pixels) samples the canvas at q = c + R(−θ)(p − t)/s
    (bilinear), so the content moves by t (down for positive vertical translation), grows by s about c and turns by θ
    counter-clockwise on screen. The window is ``view`` canvas pixels wide (default ``size``) centred on the canvas
    (top-left at ⌊(H − view)/2⌋, as a centre crop), resampled to size × size.

    Args:
        canvas: one image, uint8 (pixel values) or float (input space); (H, W, 3) or (3, H, W).
        kind: ``"translation"`` (amounts in pixels of the size-pixel output), ``"scale"`` (factors) or
            ``"rotation"`` (degrees).
        amounts: a number or a 1-D sequence of them.
        size: the model's input side S.
        view: canvas pixels covered by the output window (default S: one canvas pixel per input pixel).
        pad: ``"error"`` (default) refuses a transformation that samples outside the canvas; ``"zeros"``,
            ``"border"`` or ``"reflection"`` fill it as :func:`torch.nn.functional.grid_sample` does.

    Returns:
        (len(amounts), 3, S, S), uint8 for a uint8 canvas (rounded), else float.
    """
    kind = _check_kind(kind)
    canvas = as_canvas(canvas)
    amounts = torch.as_tensor(amounts, dtype=torch.float64).reshape(-1).float()
    if not torch.isfinite(amounts).all():
        raise ValueError(f"amounts: expected finite numbers, got {amounts.tolist()}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size: expected a positive integer input side, got {size!r}")
    view = float(size if view is None else view)
    if not view > 0:
        raise ValueError(f"view: expected a positive window side in canvas pixels, got {view}")
    if pad not in ("error", "zeros", "border", "reflection"):
        raise ValueError(f"pad: expected 'error', 'zeros', 'border' or 'reflection', got {pad!r}")
    _, h, w = canvas.shape
    if view > min(h, w):
        raise ValueError(f"view: the window ({view:g} px) is larger than the canvas ({h}×{w})")
    # Window centre, on the canvas pixel grid of a centre crop: identity with view = size is then an exact crop.
    c = torch.tensor([(w - view) // 2 + (view - 1) / 2, (h - view) // 2 + (view - 1) / 2])
    r = (torch.arange(size, dtype=torch.float32) - (size - 1) / 2) * (view / size)
    p = torch.stack(torch.meshgrid(r, r, indexing="xy"), -1)  # (S, S, 2) as (x, y)
    m, t = _affine(kind, amounts, size, view)
    q = c + torch.einsum("nij,nyxj->nyxi", m, p[None] - t[:, None, None, :])  # (N, S, S, 2) canvas pixels (x, y)
    if pad == "error":
        lo, hi = q.amin((0, 1, 2)), q.amax((0, 1, 2))
        if (lo < -0.5 - 1e-3).any() or hi[0] > w - 0.5 + 1e-3 or hi[1] > h - 0.5 + 1e-3:
            need = _needed_side(q, c)
            raise ValueError(f"canvas: a {h}×{w} canvas is too small for {kind} {amounts.tolist()} of a "
                             f"{view:g}-px window (needs about {need}×{need}); render on a larger canvas, reduce the "
                             "amounts, or pass pad='border'/'reflection'/'zeros'")
    grid = torch.stack([(2 * q[..., 0] + 1) / w - 1, (2 * q[..., 1] + 1) / h - 1], -1)
    src = canvas.float()[None].expand(len(amounts), -1, -1, -1)
    out = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros" if pad == "error" else pad,
                        align_corners=False)
    return out.round().clamp(0, 255).to(torch.uint8) if canvas.dtype == torch.uint8 else out.to(canvas.dtype)


def _needed_side(q: torch.Tensor, c: torch.Tensor) -> int:
    reach = (q - c).abs().amax().item()  # farthest sample from the centre, in canvas pixels
    return int(math.ceil(2 * reach + 1))


def paper_grid(kind: str, size: int = PAPER_INPUT) -> torch.Tensor:
    """The amounts of Fig. 5 (§4) for a model with input side ``size``.

    * translation: −60 … +60 pixels of the paper's 224-pixel input in steps of 4, scaled by size/224
      (so −30 … +30 in steps of 2 for the 112-pixel course model);
    * scale: 0.6 … 1.4 in steps of 0.05;
    * rotation: 0 … 360° in steps of 10° (360° is the identity again, closing the curve); see also
      :func:`rotation_angles`.
    """
    kind = _check_kind(kind)
    if kind == "translation":
        return torch.arange(-60, 61, 4, dtype=torch.float32) * (size / PAPER_INPUT)
    if kind == "scale":
        return torch.round(torch.arange(0.6, 1.4001, 0.05, dtype=torch.float64) * 100).float() / 100
    return torch.arange(0, 361, 10, dtype=torch.float32)


def rotation_angles(order: int | None = None, step: float = 10.0) -> torch.Tensor:
    """The rotation grid 0, step, …, 360° merged with the exact multiples k·360°/n of a symmetry order n (§4), so a
    curve is sampled where a symmetric object must return to itself (360°/7 = 51.4° is not on a 10° grid)."""
    if not 0 < step <= 180:
        raise ValueError(f"step: expected a step in (0, 180] degrees, got {step}")
    angles = torch.arange(0, 360 + 1e-9, step, dtype=torch.float64)
    if order is not None:
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
            raise ValueError(f"order: expected a positive integer symmetry order, got {order!r}")
        angles = torch.cat([angles, torch.arange(order, dtype=torch.float64) * 360 / order])
    return torch.from_numpy(np.unique(np.round(angles.numpy(), 6))).float()


# ----------------------------------------------------------------------------------------------------------------
# 2. Features
# ----------------------------------------------------------------------------------------------------------------

def default_layers(model: nn.Module) -> list[str]:
    """The paper's "bottom" and "top" feature layers and conv5 between: the first and last ReLU of ``features`` and
    the last ReLU of ``classifier`` — relu1, relu5, relu7 for ZFNet; features.1, features.11, classifier.5 for
    torchvision's AlexNet."""
    names = []
    for part in ("features", "classifier"):
        relus = [f"{part}.{n}" for n, m in getattr(model, part, nn.Sequential()).named_children()
                 if isinstance(m, nn.ReLU)]
        if part == "features" and relus:
            names += [relus[0], relus[-1]] if len(relus) > 1 else relus
        elif relus:
            names.append(relus[-1])
    if not names:
        raise ValueError("model: found no ReLU layers in `features`/`classifier`; pass layers= explicitly")
    return names


def _layer_names(model, layers) -> list[str]:
    layers = default_layers(model) if layers is None else list(layers)
    if not layers:
        raise ValueError("layers: expected at least one layer name")
    return [INPUT if n == INPUT else resolve(model, n)[0] for n in layers]


@torch.no_grad()
def extract(model: nn.Module, images: torch.Tensor, layers=None, batch_size: int = 64, progress: bool = False):
    """Feature vectors φ_ℓ(x) at ``layers`` and class probabilities softmax(f(x)) for a batch (§4).

    Args:
        model: a torchvision-style classifier (run in eval mode, its modes restored afterwards).
        images: (N, 3, S, S) in the model's input space.
        layers: names accepted by :func:`zfcourse.models.resolve`, or ``"input"`` for the input itself
            (default :func:`default_layers`).
        batch_size: images per forward pass.

    Returns:
        ``(features, probs)``: ``features[name]`` is (N, D_ℓ) on the CPU (each layer's output flattened), keyed by full
        layer name; ``probs`` is (N, K).
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images: expected a (N, 3, S, S) input-space batch, got {shape}")
    if not images.is_floating_point():
        raise TypeError(f"images: expected float input-space values, got dtype {images.dtype} (preprocess first)")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    names = _layer_names(model, layers)
    device = next(model.parameters()).device
    found: dict[str, list[torch.Tensor]] = {n: [] for n in names}
    hooks = []
    for n in names:
        if n != INPUT:
            module = resolve(model, n)[1]
            # Flatten and copy at once: in-place ReLUs further on must not change what was recorded.
            hooks.append(module.register_forward_hook(
                lambda m, i, o, n=n: found[n].append(o.detach().flatten(1).float().cpu().clone())))
    probs = []
    try:
        with evaluating(model):
            for b in tqdm(range(0, len(images), batch_size), disable=not progress, desc="features", leave=False):
                x = images[b:b + batch_size]
                if INPUT in found:
                    found[INPUT].append(x.detach().flatten(1).float().cpu().clone())
                probs.append(model(x.to(device)).float().softmax(-1).cpu())
    finally:
        for hk in hooks:
            hk.remove()
    return {n: torch.cat(v) for n, v in found.items()}, torch.cat(probs)


# ----------------------------------------------------------------------------------------------------------------
# 3. One image: distance curves and p(true class)
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class InvarianceCurves:
    """What :func:`measure_invariance` measured for one image and one kind of transformation (one Fig. 5 row).

    Attributes:
        kind, amounts, unit: the transformation and its T amounts (translation in input pixels, scale as a ratio,
            rotation in degrees).
        distance: {layer: (T,)} d_ℓ(a) = ‖φ_ℓ(T_a x) − φ_ℓ(x)‖₂.
        relative: {layer: (T,)} r_ℓ(a) = d_ℓ(a) / ‖φ_ℓ(x)‖₂.
        norm: {layer: ‖φ_ℓ(x)‖₂} of the untransformed image.
        probs: (T, K) softmax(f(T_a x)).
        target: the true class y (``None`` if not given); ``p_true`` (T,) = probs[:, y] (``None`` without a target).
        images: (T, 3, S, S) what the model saw, before preprocessing (uint8 for a uint8 canvas) — for display.
        label: a name for legends.
    """
    kind: str
    amounts: torch.Tensor
    unit: str
    distance: dict
    relative: dict
    norm: dict
    probs: torch.Tensor
    target: int | None
    images: torch.Tensor | None
    label: str = ""
    layers: list = field(default_factory=list)

    @property
    def p_true(self) -> torch.Tensor | None:
        return None if self.target is None else self.probs[:, self.target]


def _to_input(images: torch.Tensor, preprocess):
    """What the model takes: uint8 windows go through ``preprocess`` (a Preprocess or any callable), float ones are
    already in input space (``preprocess`` applied if given)."""
    if images.dtype == torch.uint8 and preprocess is None:
        raise ValueError("preprocess: a uint8 canvas needs a preprocess (e.g. the data source's Preprocess) to reach "
                         "the model's input space")
    if preprocess is None:
        return images
    fn = getattr(preprocess, "to_input", preprocess)
    if not callable(fn):
        raise TypeError(f"preprocess: expected a Preprocess or a callable, got {type(preprocess).__name__}")
    return fn(images)


def _check_target(target, num_classes: int):
    if target is None:
        return None
    if isinstance(target, torch.Tensor) and target.numel() == 1:
        target = target.item()
    if isinstance(target, (bool, float)) or not isinstance(target, (int, np.integer)) or not 0 <= target < num_classes:
        raise ValueError(f"target: expected a class index in 0..{num_classes - 1}, got {target!r}")
    return int(target)


def measure_invariance(model: nn.Module, canvas, kind: str, amounts=None, target: int | None = None, preprocess=None,
                       layers=None, view: float | None = None, pad: str = "error", batch_size: int = 64,
                       keep_images: bool = True, label: str = "") -> InvarianceCurves:
    """Fig. 5 for one image and one transformation (§4): feature distances at each layer and p(true class).

    The untransformed window x (the identity amount) and every T_a x go through the model in batches;
    d_ℓ(a) = ‖φ_ℓ(T_a x) − φ_ℓ(x)‖₂, r_ℓ(a) = d_ℓ(a)/‖φ_ℓ(x)‖₂, p(a) = softmax(f(T_a x))_target.

    Args:
        model: a torchvision-style classifier; its input side S is ``model.input_size`` (224 if absent).
        canvas: the image on a canvas at least as large as the window (see :func:`transform`); uint8 pixels (then
            ``preprocess`` is required) or float input space.
        kind: ``"translation"``, ``"scale"`` or ``"rotation"``.
        amounts: default :func:`paper_grid` for the model's S.
        target: the true class, for ``p_true``.
        preprocess: uint8 windows (N, 3, S, S) → input space, e.g. a :class:`zfcourse.data.Preprocess`.
        layers: default :func:`default_layers` (relu1, relu5, relu7); ``"input"`` measures pixel space.
        view, pad: see :func:`transform`.

    Example:
        >>> from zfcourse.models import course_model
        >>> canvas = torch.randn(3, 180, 180) * 40
        >>> curves = measure_invariance(course_model(), canvas, "rotation", [0, 90], layers=["input", "relu7"])
        >>> float(curves.distance["input"][0])
        0.0
    """
    kind = _check_kind(kind)
    size = input_size_of(model)
    amounts = paper_grid(kind, size) if amounts is None else torch.as_tensor(amounts, dtype=torch.float32).reshape(-1)
    if len(amounts) == 0:
        raise ValueError("amounts: expected at least one amount")
    windows = transform(canvas, kind, torch.cat([torch.tensor([IDENTITY[kind]]), amounts]), size, view, pad)
    feats, probs = extract(model, _to_input(windows, preprocess), layers, batch_size)
    target = _check_target(target, probs.shape[1])
    distance, relative, norm = {}, {}, {}
    for name, f in feats.items():
        ref, moved = f[0], f[1:]
        distance[name] = (moved - ref).norm(dim=1)
        norm[name] = float(ref.norm())
        relative[name] = distance[name] / max(norm[name], 1e-12)
    return InvarianceCurves(kind, amounts, UNITS[kind], distance, relative, norm, probs[1:], target,
                            windows[1:] if keep_images else None, label, list(feats))


# ----------------------------------------------------------------------------------------------------------------
# 4. Many images: mean ± sd
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class PopulationCurves:
    """Fig. 5's curves over a population of images (§4): every image's curve, and their mean ± sd per amount.

    Attributes:
        kind, amounts, unit: as in :class:`InvarianceCurves`.
        relative: {layer: (N, T)} r_ℓ(a) of each image; distance: {layer: (N, T)} raw d_ℓ(a).
        p_true: (N, T) p(true class) of each image (``None`` without targets).
        label: the group's name (e.g. "asymmetric").
    """
    kind: str
    amounts: torch.Tensor
    unit: str
    relative: dict
    distance: dict
    p_true: torch.Tensor | None
    label: str = ""

    def mean(self, layer: str | None = None, relative: bool = True) -> torch.Tensor:
        """Mean over images per amount, (T,): of r_ℓ (or d_ℓ if ``relative=False``), or of p(true) if layer is None."""
        return self._values(layer, relative).mean(0)

    def sd(self, layer: str | None = None, relative: bool = True) -> torch.Tensor:
        """Standard deviation over images per amount (T,), with Bessel's correction (0 for a single image)."""
        v = self._values(layer, relative)
        return v.std(0) if len(v) > 1 else torch.zeros(v.shape[1])

    def _values(self, layer, relative):
        if layer is None:
            if self.p_true is None:
                raise ValueError("layer: no targets were given, so there is no p(true class); name a layer")
            return self.p_true
        table = self.relative if relative else self.distance
        key = next((k for k in table if k == layer or k.split(".")[-1] == str(layer)), None)
        if key is None:
            raise KeyError(f"layer: {layer!r} was not measured; measured: {', '.join(table)}")
        return table[key]

    def __len__(self) -> int:
        return len(next(iter(self.relative.values())))


def population_invariance(model: nn.Module, canvases, kind: str, targets=None, amounts=None, preprocess=None,
                          layers=None, view: float | None = None, pad: str = "error", batch_size: int = 64,
                          label: str = "", progress: bool = True) -> PopulationCurves:
    """Fig. 5's measurement over many images (§4): :func:`measure_invariance` per canvas, stacked.

    The summary is the mean and standard deviation over the N images at each amount a,

        r̄_ℓ(a) = (1/N) Σ_i r_ℓ^(i)(a),   s_ℓ(a) = sqrt( Σ_i (r_ℓ^(i)(a) − r̄_ℓ(a))² / (N − 1) ),

    of the relative distances (and of p(true class) when ``targets`` are given).

    Args:
        canvases: a sequence of canvases (or an (N, H, W, 3) / (N, 3, H, W) array).
        targets: one class index per canvas, or ``None``.
        The rest as in :func:`measure_invariance`.
    """
    n = len(canvases)
    if n == 0:
        raise ValueError("canvases: expected at least one image")
    if targets is not None and len(targets) != n:
        raise ValueError(f"targets: expected one class per canvas ({n}), got {len(targets)}")
    runs = [measure_invariance(model, canvases[i], kind, amounts, None if targets is None else targets[i], preprocess,
                               layers, view, pad, batch_size, keep_images=False)
            for i in tqdm(range(n), desc=f"{kind} ({label or 'images'})", disable=not progress, leave=False)]
    first = runs[0]
    def stack(attr):
        return {k: torch.stack([getattr(r, attr)[k] for r in runs]) for k in first.layers}
    p_true = None if targets is None else torch.stack([r.p_true for r in runs])
    return PopulationCurves(kind, first.amounts, first.unit, stack("relative"), stack("distance"), p_true, label)


# ----------------------------------------------------------------------------------------------------------------
# 5. Rotational symmetry
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class SymmetryCheck:
    """Does a distance-vs-rotation curve dip at the multiples of 360°/n (§4: "except for object with rotational
    symmetry")? See :func:`symmetry_check`.

    Attributes:
        order: n.
        expected: the angles k·360°/n, k = 1 … n − 1.
        minima: the angles of the curve's local minima (on the circle, excluding 0°).
        hits: for each expected angle, whether a local minimum lies within ``tolerance`` of it.
        at_symmetry: mean distance at the grid angles nearest the expected ones.
        between: mean distance at the grid angles nearest the half-way angles (k + ½)·360°/n.
        ratio: at_symmetry / between (≪ 1 for a symmetric object, ≈ 1 or more for an asymmetric one).
    """
    order: int
    expected: list
    minima: list
    hits: list
    at_symmetry: float
    between: float
    ratio: float
    tolerance: float
    max_ratio: float = 0.5

    @property
    def holds(self) -> bool:
        """All expected minima found, and the curve there is below ``max_ratio`` (default half) of its value
        half-way between."""
        return self.order > 1 and all(self.hits) and self.ratio < self.max_ratio


def symmetry_check(angles, distance, order: int, tolerance: float | None = None,
                   max_ratio: float = 0.5) -> SymmetryCheck:
    """Test a distance-vs-rotation curve for the dips an object of rotational symmetry order n must produce (§4).

    An object that looks the same after a turn of 360°/n gives T_θ x ≈ x at θ = k·360°/n, so any feature distance
    d(θ) returns towards 0 there. With the curve sampled on a grid of angles (e.g. every 10°), this finds the
    local minima of d on the circle (d(θ_i) ≤ both neighbours, excluding 0°), checks that one lies within
    ``tolerance`` (default the largest gap of the grid) of each k·360°/n, and compares the mean of d at the grid
    angles nearest k·360°/n with the mean at those nearest the half-way angles (k + ½)·360°/n. Early layers are so
    sensitive to rotation that a grid missing k·360°/n by 2° already blurs the dip: measure on
    :func:`rotation_angles` (the 10° grid plus the exact multiples of 360°/n).

    Args:
        angles: (T,) degrees covering the full turn (a 360° duplicating 0° is dropped); need not be uniform.
        distance: (T,) the distance (raw or relative) at each angle.
        order: n ≥ 1 (1 = no symmetry: nothing is expected).
        tolerance: how far (degrees) a minimum may lie from k·360°/n.
        max_ratio: :attr:`SymmetryCheck.holds` needs at_symmetry / between below this.
    """
    a = torch.as_tensor(angles, dtype=torch.float64).reshape(-1)
    d = torch.as_tensor(distance, dtype=torch.float64).reshape(-1)
    if len(a) != len(d):
        raise ValueError(f"distance: expected one value per angle ({len(a)}), got {len(d)}")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order: expected a positive integer symmetry order, got {order!r}")
    # Angles on the circle, each once (360° is 0° again), in increasing order.
    uniq, first = np.unique(np.round((a % 360).numpy(), 9), return_index=True)
    a, d = torch.from_numpy(uniq), d[torch.from_numpy(first)]
    if len(a) < 4:
        raise ValueError(f"angles: expected a grid of at least 4 angles over the full turn, got {len(a)}")
    if not 0 < max_ratio:
        raise ValueError(f"max_ratio: expected a positive number, got {max_ratio}")
    gaps = torch.diff(torch.cat([a, a[:1] + 360]))
    tol = float(gaps.max()) if tolerance is None else float(tolerance)
    is_min = (d <= d.roll(1)) & (d <= d.roll(-1)) & (a != 0)
    minima = a[is_min].tolist()
    def circ(x, y):
        return min(abs(x - y) % 360, 360 - abs(x - y) % 360)

    def nearest(t):
        return int(torch.tensor([circ(float(v), t) for v in a]).argmin())
    expected = [k * 360 / order for k in range(1, order)]
    halfway = [(k + 0.5) * 360 / order for k in range(order)]
    hits = [any(circ(m, e) <= tol + 1e-9 for m in minima) for e in expected]
    at = float(d[[nearest(e) for e in expected]].mean()) if expected else float("nan")
    between = float(d[[nearest(e) for e in halfway]].mean())
    ratio = at / between if between > 0 else float("inf")
    return SymmetryCheck(int(order), expected, minima, hits, at, between, ratio, tol, float(max_ratio))
