"""The correspondence measure of §4.3 (Fig. 8, Table 1), top to bottom: does masking the same part of different
faces change the features the same way?

    1. masks     a square centred on the same keypoint in every image, or at a random place on the object
    2. features  the vectors x_i^l read at "layer 5" and "layer 7", and their changes ε_i^l = x_i^l − x̃_i^l
    3. Δ         how consistently the signs of ε_i^l agree across images (Table 1's scale, and the paper's literal sum)
    4. Table 1   Δ ± spread for each part and the random baseline at each layer, printed beside the paper's;
                 Δ on random 5-image subsets of a larger set (how much 5 faces can say)

The code below follows the same four parts in this order; every public function has its maths in its docstring.

1. Masks
--------

Masking the same part in every image (§4.3, Fig. 8): a square centred on a keypoint, or at a random place on the
object.

Coordinates are pixels with (0, 0) the centre of the top-left pixel, x to the right and y down (matplotlib's ``imshow``
and PIL's drawing convention): the pixel in row r, column c covers [c − ½, c + ½) × [r − ½, r + ½). A square of side
s centred on (x, y) covers the pixels whose centres lie in [x − s/2, x + s/2) × [y − s/2, y + s/2), i.e. columns
ceil(x − s/2) … ceil(x + s/2) − 1: exactly s pixels, symmetric about x when x is an integer and s odd. It is clipped to
the image. The fill is the occlusion chapter's (§4.2): 0 in input space (0–255 minus the per-pixel mean) is "grey".

2. Features
-----------

The feature vectors x_i^l that §4.3 compares: which tensor "layer 5" and "layer 7" are, and how to read them.

The paper says only "features from layer l=5 and l=7". We take the *rectified* outputs:

* layer 5 = ``features.relu5``: conv5 after its ReLU, before pool5. These are the "layer 5 feature maps" of Figs. 2, 4
  and 7 — what the deconvnet projects and what §4.2 sums when it tracks "the total activation in one layer 5 feature
  map" — at the full conv5 resolution (13×13×256 in Fig. 3, 9×9×64 in the course model), so a small mask still moves
  a local activation.
* layer 7 = ``classifier.relu7``: fc7 after its ReLU (4096 units in Fig. 3, 512 in the course model): the last hidden
  layer, the one the classifier reads and §5.2's transfer experiments use as "the features".

Rectified values matter for Δ: most of them are 0 before and after masking, so sign(ε) = 0 agrees across images, which
is what puts Table 1 near 0.1 rather than near 2/3 (see section 3). Both choices are parameters (``layers``), so a
reader can rerun Table 1 on ``pool5`` or the pre-ReLU ``conv5``/``fc7`` (hooks clone the tensor, so in-place ReLUs
do not overwrite what was captured).

3. Δ
----

The Δ score of §4.3 (Table 1): how consistently masking the same part changes the features of different images.

For images i = 1..N, ε_i = x_i − x̃_i is the change of the layer-l feature vector x_i (length D) when the same part
(say the left eye) is masked. If the network "knows" where the left eye is in every image, blocking it should move
the features the same way every time, so the sign patterns sign(ε_i) agree across images. The paper measures this as

    Δ_l = Σ_{i≠j} H(sign(ε_i), sign(ε_j))                                        (§4.3, literal form)

with H the Hamming distance, and sign ∈ {−1, 0, +1}. Its Table 1 reports numbers of 0.067–0.107 under the header
"Mean Feature Sign Change", which the literal sum cannot be: with N = 5 and D = 13·13·256 = 43,264 layer-5 values it
is an integer in [0, 20·D]. The only reading that gives numbers on that scale is the *mean over pairs of the fraction
of components whose sign differs*, which is what :func:`delta` returns:

    δ(a, b) = (1/D) · #{d : a_d ≠ b_d}                     (normalised Hamming distance, in [0, 1])
    Δ = 1/(N(N−1)) · Σ_{i≠j} δ(sign ε_i, sign ε_j)         (mean over ordered pairs; = mean over unordered pairs)

so Δ = Δ_literal / (D·N·(N−1)). Two reference points make the scale readable: Δ = 0 when every image changes the
same way, and Δ = 2/3 when the signs are independent and uniform on {−1, 0, +1} (two such signs differ with
probability 1 − 3·(1/3)² = 2/3). Rectified features (after ReLU) are mostly 0 both before and after masking, so
most components have sign(ε) = 0 in every image and agree; that is why the paper's values sit far below 2/3.

The computation compares int8 sign vectors: for each image i, one vectorised comparison against all later images
counts the differing components of the pairs (i, j > i) — N − 1 tensor operations, O(N²·D) byte comparisons and
O(N·D) memory.

4. Table 1
----------

Table 1 of §4.3: Δ for masking the right eye, left eye, nose, or a random place on the object, at layers 5 and 7.

Each cell is "mean ± spread" where

* mean = Δ (:func:`~zfcourse.correspondence.delta`): the mean over image pairs of the fraction of feature signs that
  differ. For "Random" it is the mean of Δ over ``n_random`` independent draws of positions (all draws have the same
  number of pairs, so this is also the mean over all pairs of all draws).
* spread = the sample standard deviation (n − 1) of the per-pair fractions δ_ij over the N(N−1)/2 unordered image pairs
  (10 for 5 images); for "Random", over the pairs of all draws pooled, so it also contains the draw-to-draw variation.

The paper does not say what its ± is over; the same definition for every row is what makes the rows comparable. The
per-pair values and, for "Random", Δ of each draw are kept in the result for any other spread a reader prefers.

Two diagnostics the paper does not report are kept beside each cell (:meth:`CorrespondenceTable.diagnostics`): the
fraction of the D components that the mask changes at all (ε ≠ 0), and the chance level Δ_chance of
:func:`~zfcourse.correspondence.delta_chance` — the Δ the same sign *counts* would give with no correspondence. A low
Δ means consistent changes only when it is clearly below Δ_chance; a mask that changes few units has both low.
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from .. import paper
from ..models import resolve
from ..models.activations import check_images
from ..models.modes import evaluating

# Table 1's column label → the layer read. Use torchvision AlexNet indices for pretrained models, e.g.
# {"Layer 5": "features.11", "Layer 7": "classifier.5"} (relu5 and relu7 there).
LAYERS = {"Layer 5": "features.relu5", "Layer 7": "classifier.relu7"}
# Table 1's row label → the keypoint masked (names of zfcourse.data's annotations and of the annotation tool).
PARTS = {"Right eye": "right_eye", "Left eye": "left_eye", "Nose": "nose"}
RANDOM = "Random"
SPREAD = "sample std of the per-pair fraction over image pairs (random: pairs of all draws pooled)"
# The paper's Table 1 as {(row, layer): (mean, ±)}, read from zfcourse.paper (the one copy of the paper's numbers).
_TABLE1 = paper.table("Table 1")
PAPER_TABLE1 = {(row, col): (_TABLE1.get(row, col).mean, _TABLE1.get(row, col).sd)
                for row in _TABLE1.labels for col in _TABLE1.columns}


# ---- 1. Masks (module docstring, part 1) -----------------------------------------------------------------------------


def square_box(center, size: int, height: int, width: int) -> tuple[int, int, int, int]:
    """Pixel bounds (x0, y0, x1, y1) — columns x0 ≤ x < x1, rows y0 ≤ y < y1, the course's box convention — of the
    ``size``×``size`` square centred on ``center`` = (x, y), clipped to a ``height``×``width`` image (§4.3).

    Example:
        >>> square_box((10, 20), 5, 112, 112)
        (8, 18, 13, 23)
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size: expected a positive integer side in pixels, got {size!r}")
    x, y = (float(v) for v in center)
    c0, c1 = math.ceil(x - size / 2), math.ceil(x + size / 2)
    r0, r1 = math.ceil(y - size / 2), math.ceil(y + size / 2)
    return max(c0, 0), max(r0, 0), min(c1, width), min(r1, height)


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
    ``fill`` in image i (§4.3, Fig. 8): x̃_i = x_i with x̃_i[:, y0:y1, x0:x1] = fill (see :func:`square_box`).

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
        x0, y0, x1, y1 = square_box((x, y), size, h, w)
        out[i, :, y0:y1, x0:x1] = value
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


def random_region(objects, avoid, size: int) -> torch.Tensor:
    """Where the "Random" row may centre its masks when they must fall on the object's own pixels and away from the
    named parts (§4.3, Table 1 "Random"; the paper says only "random parts of the face").

    Returns an (N, H, W) bool tensor R with

        R_i[r, c] = objects_i[r, c]  and  square(c, r) ∩ b = ∅ for every box b in avoid[i]

    where square(c, r) is the ``size``×``size`` square centred on pixel (x = c, y = r) (:func:`square_box`) and a box
    (x0, y0, x1, y1) covers columns x0..x1 and rows y0..y1 (inclusive, so pixels that touch a part count as the part).
    A mask centred in R hides only the object's own pixels around its centre and none of the named parts, so the
    baseline compares parts with other pieces of the same object rather than with background.

    Args:
        objects: (N, H, W) bool — pixel (r, c) belongs to image i's object (e.g. the pixels that change when the
            object is not drawn, ``render(..., omit=("*",))``).
        avoid: N sequences of part boxes (x0, y0, x1, y1) in pixels, e.g. the eye and nose boxes of each face.
        size: side of the square mask in pixels.

    Example:
        >>> obj = torch.zeros(1, 10, 10, dtype=torch.bool); obj[0, 2:8, 2:8] = True
        >>> r = random_region(obj, [[(2, 2, 4, 4)]], 3)
        >>> bool(r[0, 3, 3]), bool(r[0, 6, 6]), bool(r[0, 5, 5]), int(r.sum())
        (False, True, False, 20)
    """
    objects = torch.as_tensor(objects)
    if objects.dim() != 3 or objects.dtype != torch.bool:
        raise ValueError(f"objects: expected an (N, H, W) bool mask of each object's pixels, got "
                         f"{objects.dtype} of shape {tuple(objects.shape)}")
    n, h, w = objects.shape
    if len(avoid) != n:
        raise ValueError(f"avoid: expected one sequence of part boxes per image ({n}), got {len(avoid)}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size: expected a positive integer side in pixels, got {size!r}")
    lo, hi = math.ceil(-size / 2), math.ceil(size / 2) - 1      # the square spans c + lo … c + hi (same for rows)
    region = objects.clone()
    for i, boxes in enumerate(avoid):
        for box in boxes:
            if len(box) != 4:
                raise ValueError(f"avoid: image {i}: expected boxes (x0, y0, x1, y1), got {box!r}")
            x0, y0, x1, y1 = (float(v) for v in box)
            # centres whose square overlaps the box: c + hi ≥ x0 and c + lo ≤ x1 (rows alike)
            c0, c1 = max(math.ceil(x0 - hi), 0), min(math.floor(x1 - lo), w - 1)
            r0, r1 = max(math.ceil(y0 - hi), 0), min(math.floor(y1 - lo), h - 1)
            if c0 <= c1 and r0 <= r1:
                region[i, r0:r1 + 1, c0:c1 + 1] = False
    return region


def random_centers(boxes, n_draws: int, generator: torch.Generator | None = None, seed: int = 0,
                   region=None) -> torch.Tensor:
    """Random mask centres on the object (§4.3, Table 1 "Random"): (n_draws, N, 2) points (x, y), independently per
    image and per draw, each drawn uniformly from image i's object box (x0, y0, x1, y1) — or, with ``region``, from
    the pixels where ``region[i]`` is True (e.g. :func:`random_region`: the object's own pixels away from the parts;
    ``boxes`` is then ignored and may be None).

    Independent positions in different images are the point of the baseline: they do not correspond, so Δ measures
    how consistently the features change when *unrelated* parts of the object are hidden.

    Example:
        >>> random_centers([(10, 10, 20, 30)], 2, seed=0).shape
        torch.Size([2, 1, 2])
        >>> reg = torch.zeros(1, 8, 8, dtype=torch.bool); reg[0, 5, 2] = True
        >>> random_centers(None, 2, seed=0, region=reg)[:, 0].tolist()
        [[2.0, 5.0], [2.0, 5.0]]
    """
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise ValueError(f"n_draws: expected a positive integer, got {n_draws!r}")
    if generator is None:
        generator = torch.Generator().manual_seed(seed)
    if region is not None:
        region = torch.as_tensor(region)
        if region.dim() != 3 or region.dtype != torch.bool:
            raise ValueError(f"region: expected an (N, H, W) bool tensor of allowed centres, got {region.dtype} "
                             f"of shape {tuple(region.shape)}")
        out = torch.empty(n_draws, region.shape[0], 2, dtype=torch.float64)
        for i, allowed in enumerate(region):
            rc = allowed.nonzero()                                    # (K, 2) rows, columns
            if len(rc) == 0:
                raise ValueError(f"region: image {i} has no allowed centre (the object is too small for the mask "
                                 f"to stay off the parts)")
            pick = rc[torch.randint(len(rc), (n_draws,), generator=generator)]
            out[:, i, 0], out[:, i, 1] = pick[:, 1].double(), pick[:, 0].double()
        return out
    boxes = torch.as_tensor(boxes, dtype=torch.float64)
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes: expected (N, 4) boxes (x0, y0, x1, y1), got shape {tuple(boxes.shape)}")
    if not (boxes[:, 2] >= boxes[:, 0]).all() or not (boxes[:, 3] >= boxes[:, 1]).all():
        raise ValueError("boxes: expected x1 ≥ x0 and y1 ≥ y0 in every (x0, y0, x1, y1) box")
    u = torch.rand(n_draws, boxes.shape[0], 2, generator=generator, dtype=torch.float64)
    return boxes[:, :2] + u * (boxes[:, 2:] - boxes[:, :2])


def mask_random(images: torch.Tensor, boxes, size: int, n_draws: int = 1, fill=0.0,
                seed: int = 0, region=None) -> list[torch.Tensor]:
    """The "Random" row of Table 1 (§4.3): ``n_draws`` masked copies of ``images``, each with a ``size``×``size`` square
    at an independent uniformly random place inside each image's object box — or, with ``region`` ((N, H, W) bool,
    e.g. :func:`random_region`), centred on a uniformly random allowed pixel (see :func:`random_centers`).

    Boxes may reach past the border (the embedded world's are clipped, real ones may not be); centres are kept on the
    image, so every square hides some of the object.

    Example:
        >>> [m.shape for m in mask_random(torch.ones(2, 3, 16, 16), [(2, 2, 12, 12)] * 2, 3, n_draws=2)]
        [torch.Size([2, 3, 16, 16]), torch.Size([2, 3, 16, 16])]
    """
    images = _check_images(images)
    n, _, h, w = images.shape
    if region is not None:
        region = torch.as_tensor(region)
        if tuple(region.shape) != (n, h, w):
            raise ValueError(f"region: expected an ({n}, {h}, {w}) bool tensor (one map per image), "
                             f"got shape {tuple(region.shape)}")
    else:
        boxes = torch.as_tensor(boxes, dtype=torch.float64)
        if boxes.dim() != 2 or boxes.shape[0] != n:
            raise ValueError(f"boxes: expected one (x0, y0, x1, y1) box per image ({n}), "
                             f"got shape {tuple(boxes.shape)}")
    centers = random_centers(boxes, n_draws, seed=seed, region=region)
    centers[..., 0].clamp_(0, w - 1)
    centers[..., 1].clamp_(0, h - 1)
    return [mask_squares(images, c, size, fill) for c in centers]


# ---- 2. Features (module docstring, part 2) --------------------------------------------------------------------------


def layer_features(model: nn.Module, images: torch.Tensor, layers=LAYERS, batch_size: int = 64,
                   progress: bool = False) -> dict[str, torch.Tensor]:
    """Flattened activations x^l of ``images`` at each of ``layers``: {label: (N, D_l) tensor} (§4.3).

    One forward pass per batch fills every layer through forward hooks, in eval mode (no dropout) and without gradients.

    Args:
        model: a ZFNet (``course_model()``, ``zfnet()``) or a torchvision AlexNet/VGG.
        images: (N, 3, S, S) in the model's input space: finite, N ≥ 1, the model's dtype and a size it accepts
            (:func:`zfcourse.models.activations.check_images`); they may stay on the CPU (each batch is moved to the
            model's device, results come back on the CPU).
        layers: {label: layer name} (names as :func:`zfcourse.models.resolve` accepts), or a sequence of names
            (then each name is its own label).
        batch_size: images per forward pass (a positive integer).
        progress: a progress bar over the batches (for long runs such as Table 1 on many random draws).

    Example:
        >>> from zfcourse.models import course_model
        >>> model = course_model()
        >>> s = model.input_size
        >>> feats = layer_features(model, torch.zeros(2, 3, s, s))
        >>> list(feats), tuple(feats["Layer 7"].shape)      # relu7: 512 units per image
        (['Layer 5', 'Layer 7'], (2, 512))
    """
    if not isinstance(layers, dict):
        layers = {str(name): name for name in layers}
    if not layers:
        raise ValueError("layers: expected at least one layer")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    check_images(images, model, same_device=False)
    modules = {label: resolve(model, name)[1] for label, name in layers.items()}
    captured: dict[str, list[torch.Tensor]] = {label: [] for label in layers}
    def keep(label):
        return lambda _m, _i, out: captured[label].append(out.detach().flatten(1).clone())

    hooks = [m.register_forward_hook(keep(label)) for label, m in modules.items()]
    device = next(model.parameters()).device
    try:
        with evaluating(model), torch.no_grad():  # no dropout: x_i and x̃_i must differ only by the mask
            for start in tqdm(range(0, images.shape[0], batch_size), desc="features", leave=False,
                              disable=not progress):
                batch = images[start:start + batch_size]
                # Pad the last batch to full size: the same image then goes through the same kernels whatever its
                # position, so unchanged pixels give bit-identical activations (ε = 0 exactly, not rounding noise).
                pad = batch_size - batch.shape[0] if images.shape[0] > batch_size else 0
                model(torch.cat([batch, batch[:1].expand(pad, -1, -1, -1)]).to(device))
    finally:
        for h in hooks:
            h.remove()
    n = images.shape[0]
    return {label: torch.cat(chunks)[:n].cpu() for label, chunks in captured.items()}


def feature_changes(model: nn.Module, images: torch.Tensor, masked: torch.Tensor, layers=LAYERS,
                    batch_size: int = 64) -> dict[str, torch.Tensor]:
    """ε_i^l = x_i^l − x̃_i^l for every layer (§4.3): {label: (N, D_l)}, the rows :func:`delta` compares.

    ``images`` and ``masked`` go through the network in two passes of identical batch shapes, so image i and its
    masked copy sit at the same position of same-sized batches: identical pixels then give bit-identical activations
    and unaffected units get ε = 0 exactly. (Putting both in one batch is not enough: CPU matrix kernels may round
    rows at different batch positions differently.)

    Example:
        >>> from zfcourse.models import course_model
        >>> model = course_model()
        >>> x = torch.randn(2, 3, model.input_size, model.input_size)
        >>> feature_changes(model, x, x)["Layer 7"].abs().max().item()
        0.0
    """
    check_images(images, model, same_device=False)
    check_images(masked, model, "masked", same_device=False)
    if masked.shape != images.shape:
        raise ValueError(f"masked: expected the same shape as images {tuple(images.shape)}, "
                         f"got {tuple(masked.shape) if isinstance(masked, torch.Tensor) else type(masked).__name__}")
    feats = layer_features(model, images, layers, batch_size)
    feats_masked = layer_features(model, masked, layers, batch_size)
    return {label: feats[label] - feats_masked[label] for label in feats}


# ---- 3. Δ (module docstring, part 3) ---------------------------------------------------------------------------------


def as_eps(eps) -> torch.Tensor:
    """``eps`` as a checked (N, D) float tensor: N ≥ 2 rows of equal length D ≥ 1, no NaNs.

    Accepts an (N, D) tensor/array or a sequence of N 1-D tensors/arrays of the same length.
    Raises ValueError/TypeError naming ``eps`` otherwise.
    """
    if isinstance(eps, Sequence) and not isinstance(eps, (str, bytes)):
        rows = [torch.as_tensor(r) for r in eps]
        bad = [tuple(r.shape) for r in rows if r.dim() != 1]
        if bad:
            raise ValueError(f"eps: expected every row to be a 1-D feature vector, got shapes {bad}")
        lengths = sorted({r.numel() for r in rows})
        if len(lengths) > 1:
            raise ValueError(f"eps: rows have different lengths {lengths}; every image's features must have the same D")
        eps = torch.stack(rows) if rows else torch.empty(0, 0)
    elif not isinstance(eps, torch.Tensor):
        try:
            eps = torch.as_tensor(eps)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"eps: expected an (N, D) tensor, got {type(eps).__name__}") from err
    if eps.dim() != 2:
        raise ValueError(f"eps: expected an (N, D) tensor (one flattened feature change per image), "
                         f"got shape {tuple(eps.shape)}; flatten each image's features first")
    n, d = eps.shape
    if n < 2:
        raise ValueError(f"eps: Δ compares images in pairs, so it needs at least 2 rows (images), got {n}")
    if d < 1:
        raise ValueError("eps: rows are empty (D = 0)")
    if eps.is_floating_point() and torch.isnan(eps).any():
        rows = torch.isnan(eps).any(dim=1).nonzero().flatten().tolist()
        raise ValueError(f"eps: contains NaN in row(s) {rows}; sign(NaN) is undefined")
    return eps


def hamming_counts(eps) -> torch.Tensor:
    """(N, N) matrix of raw Hamming distances H(sign ε_i, sign ε_j): the number of the D components whose signs differ.

    Computed on int8 signs in {−1, 0, +1}, one vectorised comparison of image i against images i+1..N−1 at a time
    (§4.3).

    Example:
        >>> hamming_counts(torch.tensor([[1., -2., 0.], [3., 0., 0.]]))
        tensor([[0, 1],
                [1, 0]])
    """
    eps = as_eps(eps)
    n = eps.shape[0]
    signs = torch.sign(eps).to(torch.int8)
    counts = torch.zeros(n, n, dtype=torch.long, device=eps.device)
    for i in range(n - 1):
        h = (signs[i + 1:] != signs[i]).sum(dim=1)                           # H(i, j) for every j > i at once
        counts[i, i + 1:] = h
        counts[i + 1:, i] = h
    return counts


def hamming_matrix(eps) -> torch.Tensor:
    """(N, N) matrix of normalised Hamming distances δ_ij = H(sign ε_i, sign ε_j) / D, each in [0, 1] (§4.3).

    Example:
        >>> hamming_matrix(torch.tensor([[1., -2., 0.], [3., 0., 0.]]))
        tensor([[0.0000, 0.3333],
                [0.3333, 0.0000]], dtype=torch.float64)
    """
    eps = as_eps(eps)
    return hamming_counts(eps).double() / eps.shape[1]


def delta(eps) -> float:
    """Δ of §4.3 on Table 1's "Mean Feature Sign Change" scale: the mean over ordered pairs i ≠ j of the fraction of
    the D components where sign(ε_i) ≠ sign(ε_j), with sign ∈ {−1, 0, +1}:

        Δ = 1/(N(N−1)) · Σ_{i≠j} (1/D) · #{d : sign ε_id ≠ sign ε_jd}  =  delta_literal(eps) / (D·N·(N−1))

    0 when all images change the same way; ≈ 2/3 for independent uniformly random signs. Symmetric in the order of
    the images and unchanged by scaling ``eps`` by a positive factor. See the module docstring for why this
    normalisation (and not the paper's literal sum) matches Table 1's 0.07–0.11.

    Args:
        eps: (N, D) tensor, row i = ε_i = x_i − x̃_i (features of image i minus those of its masked copy, flattened),
            or a sequence of N 1-D tensors of equal length. N ≥ 2, no NaNs.

    Example:
        >>> delta(torch.tensor([[1., -2., 0.], [3., 0., 0.]]))   # 1 of 3 signs differ in the only pair
        0.3333333333333333
    """
    eps = as_eps(eps)
    n = eps.shape[0]
    # The diagonal is 0 (a row never differs from itself), so summing everything sums the i ≠ j terms.
    return float(hamming_matrix(eps).sum() / (n * (n - 1)))


def delta_literal(eps) -> int:
    """The paper's formula read literally (§4.3): Δ_l = Σ_{i≠j} H(sign ε_i, sign ε_j), H the raw Hamming distance.

    Equals ``delta(eps) · D · N · (N − 1)``; an integer in [0, D·N·(N−1)] that grows with D and N, so it cannot be
    compared across layers or with Table 1 — use :func:`delta` for that.

    Example:
        >>> delta_literal(torch.tensor([[1., -2., 0.], [3., 0., 0.]]))   # H = 1, counted for (1, 2) and (2, 1)
        2
    """
    return int(hamming_counts(eps).sum())


def delta_chance(eps) -> float:
    """The Δ that :func:`delta` would give if each image kept *how many* of its components go up, stay, and go down,
    but the components were shuffled independently per image — the "no correspondence" level for these rows (§4.3):

        Δ_chance = 1/(N(N−1)) · Σ_{i≠j} (1 − Σ_{s∈{−1,0,+1}} p_i(s) · p_j(s)),   p_i(s) = #{d : sign ε_id = s} / D

    Not in the paper. It separates the two things a low Δ can mean: changes that are *consistent* across images
    (Δ well below Δ_chance) and changes that are merely *rare* (most signs 0 in every image, so Δ_chance itself is
    low). For independent uniform signs p_i(s) = ⅓ and Δ_chance = 2/3; for equal rows Δ = 0 but Δ_chance need not be.

    Example:
        >>> delta_chance(torch.tensor([[1., 0.], [1., 0.]]))    # p = (0, ½, ½) for both: 1 − ½·½ − ½·½
        0.5
    """
    eps = as_eps(eps)
    n, d = eps.shape
    counts = torch.stack([(torch.sign(eps) == s).sum(dim=1) for s in (-1, 0, 1)], dim=1).double() / d   # (N, 3)
    agree = counts @ counts.T                                                   # Σ_s p_i(s) p_j(s)
    off = ~torch.eye(n, dtype=torch.bool)
    return float((1 - agree)[off].mean())


# ---- 4. Table 1 (module docstring, part 4) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrespondenceTable:
    """Table 1 measured: ``mean[(row, layer)]`` and ``spread[(row, layer)]`` (see the module docstring), the per-pair
    fractions ``pairs[(row, layer)]``, Δ per random draw ``draws[layer]``, and the setting. Prints beside the paper."""
    rows: tuple[str, ...]
    layers: tuple[str, ...]
    mean: dict
    spread: dict
    pairs: dict = field(repr=False)
    draws: dict = field(repr=False)
    n_images: int = 0
    size: int = 0
    n_random: int = 0
    spread_label: str = SPREAD
    chance: dict = field(default_factory=dict, repr=False)
    changed: dict = field(default_factory=dict, repr=False)

    def cell(self, row: str, layer: str) -> str:
        """"mean ± spread" of one cell, three decimals like the paper."""
        return f"{self.mean[(row, layer)]:.3f} ± {self.spread[(row, layer)]:.3f}"

    def __str__(self) -> str:
        head = (f"Table 1 (§4.3), mean feature sign change Δ: {self.n_images} images, {self.size}×{self.size} masks, "
                f"random = {self.n_random} draws\n± = {self.spread_label}\n")
        width = max(15, *(len(layer) + 8 for layer in self.layers))
        first = max(11, *(len(row) + 1 for row in self.rows))
        lines = [f"{'':<{first}}" + "".join(f"{layer + ' ours':<{width}}{layer + ' paper':<{width}}"
                                            for layer in self.layers)]
        for row in self.rows:
            cells = []
            for layer in self.layers:
                paper = PAPER_TABLE1.get((row, layer))
                cells += [self.cell(row, layer), f"{paper[0]:.3f} ± {paper[1]:.3f}" if paper else "—"]
            lines.append(f"{row:<{first}}" + "".join(f"{c:<{width}}" for c in cells))
        return head + "\n".join(line.rstrip() for line in lines)

    __repr__ = __str__

    def to_html(self, digits: int = 3, model: str | None = None) -> str:
        """The table as an HTML table (rows × layers, ours then the paper's per layer; "—" where the paper has none),
        for pages narrower than the text form. ``model`` names the measured network in the header (e.g.
        ``"AlexNet"``: "Layer 5 (AlexNet)" beside "Layer 5 (paper)")."""
        ours = f" ({html.escape(model)})" if model else ""
        head = "".join(f"<th>{layer}{ours}</th><th>{layer} (paper)</th>" for layer in self.layers)
        body = []
        for row in self.rows:
            cells = []
            for layer in self.layers:
                paper = PAPER_TABLE1.get((row, layer))
                cells += [f"{self.mean[(row, layer)]:.{digits}f} ± {self.spread[(row, layer)]:.{digits}f}",
                          f"{paper[0]:.3f} ± {paper[1]:.3f}" if paper else "—"]
            body.append(f"<tr><th>{row}</th>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        return (f"<table><caption>Table 1 (§4.3), Δ: {self.n_images} images, {self.size}×{self.size} masks, random = "
                f"{self.n_random} draws; ± = {self.spread_label}</caption><thead><tr><th></th>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>")

    def diagnostics(self) -> str:
        """Per cell: Δ, the chance level Δ_chance (same sign counts, no correspondence), the fraction of units the
        mask changes (ε ≠ 0), all means over images (and draws), and Δ ÷ Δ_chance — Δ relative to what the mask's own
        sparsity alone would give (see the module docstring). One block per layer, so it stays narrow."""
        first = max(11, *(len(row) + 1 for row in self.rows))
        lines = []
        for layer in self.layers:
            lines.append(f"{layer + ':':<{first}}{'Δ':>8}{'chance':>9}{'changed':>9}{'Δ÷chance':>10}")
            for row in self.rows:
                m, c = self.mean[(row, layer)], self.chance[(row, layer)]
                lines.append(f"{'  ' + row:<{first}}{m:>8.3f}{c:>9.3f}{self.changed[(row, layer)]:>9.1%}"
                             f"{m / c if c else 0.0:>10.2f}")
        return "\n".join(lines)


def subset_deltas(table: CorrespondenceTable, k: int = 5, n_subsets: int = 1000, seed: int = 0) -> dict:
    """How much Δ moves with the choice of images (§4.3 uses 5): {(row, layer): (n_subsets,) tensor} of Δ computed
    on random k-image subsets S of the table's N images (drawn without replacement, independently per subset),
    reusing the table's per-pair fractions δ_ij:

        Δ(S) = 1/(k(k−1)) · Σ_{i≠j ∈ S} δ_ij        ("Random": the mean of Δ(S) over the table's draws)

    The spread of Δ(S) over subsets is what a 5-image table like the paper's can and cannot resolve; the mean over
    subsets equals the N-image Δ in expectation.

    Example:
        >>> eps = torch.randint(-1, 2, (6, 50), generator=torch.Generator().manual_seed(0)).float()
        >>> pairs = _pair_values(eps)
        >>> t = CorrespondenceTable(("Nose",), ("L",), {("Nose", "L"): float(pairs.mean())}, {}, {("Nose", "L"): pairs},
        ...                         {}, n_images=6)
        >>> d = subset_deltas(t, k=6, n_subsets=3)[("Nose", "L")]
        >>> torch.allclose(d, torch.full((3,), delta(eps), dtype=torch.float64))
        True
    """
    n = table.n_images
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= n:
        raise ValueError(f"k: expected an integer subset size in [2, {n}] (the table's images), got {k!r}")
    if isinstance(n_subsets, bool) or not isinstance(n_subsets, int) or n_subsets < 1:
        raise ValueError(f"n_subsets: expected a positive integer, got {n_subsets!r}")
    g = torch.Generator().manual_seed(seed)
    i, j = torch.triu_indices(n, n, offset=1)
    position = torch.full((n, n), -1, dtype=torch.long)
    position[i, j] = torch.arange(len(i))
    subsets = torch.stack([torch.randperm(n, generator=g)[:k].sort().values for _ in range(n_subsets)])
    a, b = torch.triu_indices(k, k, offset=1)
    cols = position[subsets[:, a], subsets[:, b]]                   # (n_subsets, k(k−1)/2) pair positions
    out = {}
    for key, values in table.pairs.items():
        per_draw = values.reshape(-1, len(i))                       # one row per draw (1 for the part rows)
        out[key] = per_draw[:, cols].mean(dim=(0, 2))
    return out


def _pair_values(eps: torch.Tensor) -> torch.Tensor:
    hm = hamming_matrix(eps)
    i, j = torch.triu_indices(hm.shape[0], hm.shape[0], offset=1)
    return hm[i, j]       # δ is symmetric: the unordered pairs carry all the information of the ordered ones


def correspondence_table(model: nn.Module, images: torch.Tensor, keypoints, boxes=None, *, size: int = 15,
                         parts: dict = PARTS, layers: dict = LAYERS, n_random: int = 10, fill=0.0, seed: int = 0,
                         batch_size: int = 64, progress: bool = True, region=None) -> CorrespondenceTable:
    """Table 1 (§4.3): for each part, mask it in every image, take ε_i^l = x_i^l − x̃_i^l at each layer and report
    Δ_l = mean_{i≠j} δ(sign ε_i^l, sign ε_j^l) ± the spread over image pairs; the "Random" row masks squares of the same
    size at independent random places inside each object's box — or, with ``region``, centred on allowed pixels
    only (:func:`random_region`: the object's own pixels away from the parts) — ``n_random`` times.

    Args:
        model: the network (eval mode is used; dropout off).
        images: (N, 3, S, S) in input space, N ≥ 2 — e.g. the 5 frontal faces of the ``fig8_faces`` probe set.
        keypoints: N annotations, each a mapping name → (x, y) (or an object with ``.keypoints``), in pixels.
        boxes: (N, 4) object boxes (x0, y0, x1, y1) for the random row; ``None`` (and no ``region``) leaves that
            row out.
        size: side of the square mask in pixels.
        parts: {row label: keypoint name}.
        layers: {column label: layer name}; the default reads relu5 and relu7 (section 2).
        n_random: number of independent random draws for the "Random" row.
        fill: mask value, a number or a (3,) tensor (0 = the mean's grey, as in the occlusion chapter).
        seed: seeds the random positions.
        batch_size: images per forward pass.
        progress: a progress bar over the forward passes (originals, every masked copy and every random draw).
        region: (N, S, S) bool, where the random row may centre its masks (replaces ``boxes`` for that row).

    Example:
        >>> from zfcourse.models import course_model
        >>> model = course_model()
        >>> kps = [{"right_eye": (40, 50), "left_eye": (70, 50), "nose": (56, 70)}] * 3
        >>> boxes = [(20, 20, 90, 90)] * 3
        >>> x = torch.randn(3, 3, model.input_size, model.input_size)
        >>> t = correspondence_table(model, x, kps, boxes, n_random=2)
        >>> t.rows
        ('Right eye', 'Left eye', 'Nose', 'Random')
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"images: expected a (N, 3, S, S) tensor in input space, got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    n, _, h, w = images.shape
    if n < 2:
        raise ValueError(f"images: Δ compares images in pairs, so it needs at least 2 images, got {n}")
    if len(keypoints) != n:
        raise ValueError(f"keypoints: expected one annotation per image ({n}), got {len(keypoints)}")
    if not isinstance(layers, dict):
        layers = {str(name): name for name in layers}
    variants = {row: mask_part(images, keypoints, part, size, fill) for row, part in parts.items()}
    draws = []
    if boxes is not None or region is not None:
        if isinstance(n_random, bool) or not isinstance(n_random, int) or n_random < 1:
            raise ValueError(f"n_random: expected a positive integer, got {n_random!r}")
        draws = mask_random(images, boxes, size, n_random, fill, seed, region)
    # One pass over originals and every masked copy: equal batches give bit-identical activations where pixels agree.
    stack = torch.cat([images, *variants.values(), *draws])
    feats = {label: f.view(-1, n, f.shape[1]) for label, f in layer_features(model, stack, layers, batch_size,
                                                                                     progress).items()}
    rows = tuple(variants) + ((RANDOM,) if draws else ())
    mean, spread, pairs, per_draw, chance, changed = {}, {}, {}, {}, {}, {}
    for label, f in feats.items():
        changes = {row: [f[0] - f[1 + k]] for k, row in enumerate(variants)}
        if draws:
            changes[RANDOM] = [f[0] - f[1 + len(variants) + r] for r in range(len(draws))]
        for row, eps_list in changes.items():
            values = [_pair_values(eps) for eps in eps_list]      # one tensor of pair fractions per draw
            allv = torch.cat(values)
            mean[(row, label)] = float(allv.mean())
            spread[(row, label)] = float(allv.std()) if allv.numel() > 1 else 0.0
            pairs[(row, label)] = allv
            chance[(row, label)] = sum(delta_chance(eps) for eps in eps_list) / len(eps_list)
            changed[(row, label)] = sum(float((eps != 0).double().mean()) for eps in eps_list) / len(eps_list)
            if row == RANDOM:
                per_draw[label] = torch.stack([v.mean() for v in values])
    return CorrespondenceTable(rows, tuple(feats), mean, spread, pairs, per_draw, n_images=n, size=size,
                               n_random=len(draws), chance=chance, changed=changed)
