"""Table 1 of §4.3: Δ for masking the right eye, left eye, nose, or a random place on the object, at layers 5 and 7.

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

from dataclasses import dataclass, field

import torch
from torch import nn

from .delta import delta_chance, hamming_matrix
from .features import LAYERS, layer_features
from .masks import mask_part, mask_random

# Table 1 of the paper (numbers.md, "Correspondence (Section 4.3, Table 1)"): (mean, ±) per (row, layer).
PAPER_TABLE1 = {
    ("Right eye", "Layer 5"): (0.067, 0.007), ("Right eye", "Layer 7"): (0.069, 0.015),
    ("Left eye", "Layer 5"): (0.069, 0.007), ("Left eye", "Layer 7"): (0.068, 0.013),
    ("Nose", "Layer 5"): (0.079, 0.017), ("Nose", "Layer 7"): (0.069, 0.011),
    ("Random", "Layer 5"): (0.107, 0.017), ("Random", "Layer 7"): (0.073, 0.014),
}
# Table 1's row label → the keypoint masked (names of zfcourse.data's annotations and of the annotation tool).
PARTS = {"Right eye": "right_eye", "Left eye": "left_eye", "Nose": "nose"}
RANDOM = "Random"
SPREAD = "sample std of the per-pair fraction over image pairs (random: pairs of all draws pooled)"


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

    def diagnostics(self) -> str:
        """Per cell: Δ, the chance level Δ_chance (same sign counts, no correspondence), the fraction of units the
        mask changes (ε ≠ 0), all means over images (and draws), and Δ ÷ Δ_chance — Δ relative to what the mask's own
        sparsity alone would give (see the module docstring)."""
        first = max(11, *(len(row) + 1 for row in self.rows))
        width = max(40, *(len(layer) + 36 for layer in self.layers))
        lines = [f"{'':<{first}}" + "".join(f"{layer + ': Δ / chance / changed / Δ÷chance':<{width}}"
                                            for layer in self.layers)]
        for row in self.rows:
            cells = [f"{self.mean[(row, layer)]:.3f} / {self.chance[(row, layer)]:.3f} / "
                     f"{self.changed[(row, layer)]:.1%} / "
                     f"{self.mean[(row, layer)] / self.chance[(row, layer)] if self.chance[(row, layer)] else 0.0:.2f}"
                     for layer in self.layers]
            lines.append(f"{row:<{first}}" + "".join(f"{c:<{width}}" for c in cells))
        return "\n".join(line.rstrip() for line in lines)


def _pair_values(eps: torch.Tensor) -> torch.Tensor:
    hm = hamming_matrix(eps)
    i, j = torch.triu_indices(hm.shape[0], hm.shape[0], offset=1)
    return hm[i, j]       # δ is symmetric: the unordered pairs carry all the information of the ordered ones


def correspondence_table(model: nn.Module, images: torch.Tensor, keypoints, boxes=None, *, size: int = 15,
                         parts: dict = PARTS, layers: dict = LAYERS, n_random: int = 10, fill=0.0, seed: int = 0,
                         batch_size: int = 64, progress: bool = True) -> CorrespondenceTable:
    """Table 1 (§4.3): for each part, mask it in every image, take ε_i^l = x_i^l − x̃_i^l at each layer and report
    Δ_l = mean_{i≠j} δ(sign ε_i^l, sign ε_j^l) ± the spread over image pairs; the "Random" row masks squares of the same
    size at independent random places inside each object's box, ``n_random`` times.

    Args:
        model: the network (eval mode is used; dropout off).
        images: (N, 3, S, S) in input space, N ≥ 2 — e.g. the 5 frontal faces of the ``fig8_faces`` probe set.
        keypoints: N annotations, each a mapping name → (x, y) (or an object with ``.keypoints``), in pixels.
        boxes: (N, 4) object boxes (x0, y0, x1, y1) for the random row; ``None`` leaves that row out.
        size: side of the square mask in pixels.
        parts: {row label: keypoint name}.
        layers: {column label: layer name}; the default reads relu5 and relu7 (see ``features.py``).
        n_random: number of independent random draws for the "Random" row.
        fill: mask value, a number or a (3,) tensor (0 = the mean's grey, as in the occlusion chapter).
        seed: seeds the random positions.
        batch_size: images per forward pass.
        progress: a progress bar over the forward passes (originals, every masked copy and every random draw).

    Example:
        >>> from zfcourse.models import course_model
        >>> kps = [{"right_eye": (40, 50), "left_eye": (70, 50), "nose": (56, 70)}] * 3
        >>> boxes = [(20, 20, 90, 90)] * 3
        >>> t = correspondence_table(course_model(), torch.randn(3, 3, 112, 112), kps, boxes, n_random=2)
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
    if boxes is not None:
        if isinstance(n_random, bool) or not isinstance(n_random, int) or n_random < 1:
            raise ValueError(f"n_random: expected a positive integer, got {n_random!r}")
        draws = mask_random(images, boxes, size, n_random, fill, seed)
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
