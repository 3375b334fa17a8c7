"""The overlap control of §5.2: find images of a transfer set that also occur in the pre-training set.

"Some of the Caltech datasets have some images that are also in the ImageNet training data. Using normalized
correlation, we identified these few 'overlap' images and removed them from our Imagenet training set and then
retrained our Imagenet models" (44 of 9,144 Caltech-101 images, 243 of 30,607 Caltech-256 ones). The paper does not say
on what the correlation was computed; here it is computed on any descriptor vectors — frozen features
(:func:`~zfcourse.transfer.extract_features`) or small grey thumbnails of the pixels (:func:`thumbnails`).

For descriptors u, v ∈ R^D the normalised (Pearson) correlation is

    ρ(u, v) = ⟨u − ū·1, v − v̄·1⟩ / (‖u − ū·1‖ · ‖v − v̄·1‖) ∈ [−1, 1],   ū = (1/D) Σ_d u_d,

i.e. the cosine of the centred vectors: 1 for a copy, also for a copy with its brightness scaled or offset (ρ is
invariant to v ↦ αv + β, α > 0), and near 1 for a slightly shifted, re-encoded or noisy copy; a descriptor with no
variation (a constant image) has no direction and gets ρ = 0 with everything. For every query image the detector keeps
its top-k pre-training matches and flags every pair with ρ ≥ threshold. The threshold is a choice: set it between the
top-1 correlations of a clean set (what unrelated images reach) and those of known copies (:meth:`Overlaps.summary`).

:func:`grey_thumbnails` makes the pixel descriptor of a stored image or of a copy of it saved another way (re-sized,
cropped); :func:`search_copies` runs the whole control on a set with known copies: the threshold from the clean part
of the pre-training set alone, then the search of all of it, counted against the copies that are there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .linear import as_features


def _unit_centred(x: torch.Tensor) -> torch.Tensor:
    x = x.double() - x.double().mean(1, keepdim=True)
    norm = x.norm(dim=1, keepdim=True)
    return torch.where(norm > 1e-12 * x.shape[1] ** 0.5, x / norm.clamp_min(1e-300), torch.zeros_like(x))


def normalised_correlation(a, b) -> torch.Tensor:
    """ρ(a_i, b_j) for every row i of ``a`` (N, D) and row j of ``b`` (M, D): an (N, M) float64 matrix."""
    a, b = as_features(a, "a"), as_features(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"b: expected descriptors of length {a.shape[1]} (as a), got {b.shape[1]}")
    return _unit_centred(a) @ _unit_centred(b).T


def thumbnails(images: torch.Tensor, size: int = 16) -> torch.Tensor:
    """A pixel descriptor for near-duplicate search: each image turned grey (mean over channels) and area-averaged
    to size × size, flattened — (N, size²). Small shifts and re-encoding barely change it."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"images: expected an (N, C, H, W) tensor, got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= min(images.shape[-2:]):
        raise ValueError(f"size: expected an integer in [1, {min(images.shape[-2:])}], got {size!r}")
    return F.adaptive_avg_pool2d(images.float().mean(1, keepdim=True), size).flatten(1)


COPIES = ("stored", "resize", "crop")


def grey_thumbnails(images, how: str = "stored", side: int | None = None, size: int = 16,
                    chunk: int = 500) -> torch.Tensor:
    """:func:`thumbnails` (grey, area-averaged to size × size) of uint8 images (N, H, W, 3) — or of a copy of each,
    made the way a copy of a photograph turns up in another collection:

    * ``how="stored"`` — the image as it is;
    * ``how="resize"`` — the whole image re-sampled to ``side`` × ``side`` pixels (bilinear, antialiased): the same
      picture saved at another size;
    * ``how="crop"`` — its centre ``side`` × ``side`` crop (offsets ⌊(H − side)/2⌋, ⌊(W − side)/2⌋): the same scene
      framed tighter.

    Computed ``chunk`` images at a time (the float copies of a few thousand renders would not fit at once); returns
    (N, size²) float32.
    """
    if how not in COPIES:
        raise ValueError(f"how: expected one of {COPIES}, got {how!r}")
    images = torch.as_tensor(images)
    if images.dim() != 4 or images.shape[-1] != 3:
        raise ValueError(f"images: expected (N, H, W, 3) images, got shape {tuple(images.shape)}")
    h, w = images.shape[1:3]
    if how != "stored" and (isinstance(side, bool) or not isinstance(side, int) or not 1 <= side <= min(h, w)):
        raise ValueError(f"side: expected the copy's side in pixels, an integer in [1, {min(h, w)}], got {side!r}")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk: expected a positive integer, got {chunk!r}")
    out = []
    for i in range(0, len(images), chunk):
        x = images[i:i + chunk].permute(0, 3, 1, 2).float()
        if how == "resize":
            x = F.interpolate(x, size=side, mode="bilinear", antialias=True)
        elif how == "crop":
            y0, x0 = (h - side) // 2, (w - side) // 2
            x = x[..., y0:y0 + side, x0:x0 + side]
        out.append(thumbnails(x, size))
    return torch.cat(out) if out else torch.zeros(0, size * size)


@dataclass
class Overlaps:
    """What :func:`find_overlaps` found.

    top_index, top_corr: (Nq, k) the k best pre-training matches of every query, best first, and their ρ.
    pairs: (M, 2) long rows (query index, reference index) with ρ ≥ threshold, by query then highest ρ first;
    corr: (M,) their ρ.
    """
    threshold: float
    top_index: torch.Tensor
    top_corr: torch.Tensor
    pairs: torch.Tensor
    corr: torch.Tensor

    def queries(self) -> torch.Tensor:
        """Sorted indices of the query images that have at least one match (the images the paper counted)."""
        return self.pairs[:, 0].unique()

    def references(self) -> torch.Tensor:
        """Sorted indices of the pre-training images to remove before retraining (§5.2)."""
        return self.pairs[:, 1].unique()

    def summary(self) -> str:
        """One line: how many queries matched, and the spread of every query's best ρ (to judge the threshold)."""
        best = self.top_corr[:, 0]
        q = torch.quantile(best, torch.tensor([0.5, 0.99], dtype=best.dtype)).tolist()
        return (f"{len(self.queries())} of {len(best)} query images match {len(self.references())} pre-training "
                f"images at ρ ≥ {self.threshold:g}; best ρ per query: median {q[0]:.3f}, 99th percentile {q[1]:.3f}, "
                f"max {float(best.max()):.3f}")


@torch.no_grad()
def find_overlaps(query, reference, threshold: float = 0.9, top_k: int = 5, chunk: int = 4096,
                  progress: bool = True) -> Overlaps:
    """Search ``reference`` (the pre-training descriptors, M × D) for near-copies of each ``query`` row (N × D), §5.2.

    The (N, M) correlation matrix is computed ``chunk`` reference rows at a time, keeping the running top-k per query
    and every pair with ρ ≥ ``threshold``, so memory is O(N·(k + chunk)) whatever M is.

    Example:
        >>> ref = torch.randn(100, 64)
        >>> found = find_overlaps(torch.cat([ref[[7, 42]] * 2 + 1, torch.randn(3, 64)]), ref, progress=False)
        >>> found.pairs.tolist()
        [[0, 7], [1, 42]]
    """
    q, r = as_features(query, "query"), as_features(reference, "reference")
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"reference: expected descriptors of length {q.shape[1]} (as query), got {r.shape[1]}")
    if not (isinstance(threshold, (int, float)) and -1 <= threshold <= 1):
        raise ValueError(f"threshold: expected a correlation in [-1, 1], got {threshold!r}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k: expected a positive integer, got {top_k!r}")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk: expected a positive integer, got {chunk!r}")
    k = min(top_k, len(r))
    qn = _unit_centred(q)
    best_c = torch.full((len(q), 0), -2.0, dtype=torch.float64)
    best_i = torch.zeros((len(q), 0), dtype=torch.long)
    pairs, corr = [], []
    for start in tqdm(range(0, len(r), chunk), desc="overlap search", leave=False, disable=not progress):
        rho = qn @ _unit_centred(r[start:start + chunk]).T                          # (N, chunk)
        ids = torch.arange(start, start + rho.shape[1])
        hit = (rho >= threshold).nonzero()
        pairs.append(torch.stack([hit[:, 0], ids[hit[:, 1]]], 1))
        corr.append(rho[hit[:, 0], hit[:, 1]])
        merged_c = torch.cat([best_c, rho], 1)
        merged_i = torch.cat([best_i, ids.expand(len(q), -1)], 1)
        best_c, pos = merged_c.topk(k, dim=1)  # ties: topk's order; fine for a ranking of near-duplicates
        best_i = merged_i.gather(1, pos)
    pairs, corr = torch.cat(pairs), torch.cat(corr)
    order = torch.sort(corr, descending=True, stable=True).indices
    order = order[torch.sort(pairs[order, 0], stable=True).indices]        # by query, then highest ρ first
    return Overlaps(float(threshold), best_i, best_c, pairs[order], corr[order])


class CopySearch(NamedTuple):
    """What :func:`search_copies` found for one kind of descriptor."""

    clean_highest: float       # the highest ρ any query reaches with the clean reference rows
    threshold: float           # halfway from there to 1
    overlaps: Overlaps         # the search of the whole reference set at that threshold
    found: int                 # expected (query, copy) pairs flagged
    flagged: int               # other pairs flagged (false alarms)
    copy_best: torch.Tensor    # the best ρ of each query that has a copy (its best match, whichever image it is)


def search_copies(query, reference, n_clean: int, expected, top_k: int = 5, progress: bool = False) -> CopySearch:
    """§5.2's overlap search on a set whose copies are known: the paper's method, judged.

    The threshold is set from clean data alone: with ρ̂ the highest normalised correlation any ``query`` row reaches
    with the first ``n_clean`` ``reference`` rows (a pre-training set with no copy of the transfer images),

        threshold = min(1, ρ̂ + (1 − ρ̂) / 2),

    halfway from what unrelated images reach to a perfect copy. Then the whole ``reference`` set — the clean rows
    followed by the injected copies — is searched at that threshold (:func:`find_overlaps`), and the flagged pairs are
    counted against ``expected``, the (query index, reference index) pairs of the true copies, every reference index
    ≥ ``n_clean``.
    """
    q, r = as_features(query, "query"), as_features(reference, "reference")
    if isinstance(n_clean, bool) or not isinstance(n_clean, int) or not 1 <= n_clean <= len(r):
        raise ValueError(f"n_clean: expected the number of clean reference rows, in [1, {len(r)}], got {n_clean!r}")
    expected = {(int(i), int(j)) for i, j in expected}
    bad = [p for p in expected if not (0 <= p[0] < len(q) and n_clean <= p[1] < len(r))]
    if bad:
        raise ValueError(f"expected: (query, reference) pairs with the reference among the rows after the "
                         f"{n_clean} clean ones, got {sorted(bad)[:3]}")
    clean = find_overlaps(q, r[:n_clean], threshold=1.0, top_k=top_k, progress=progress)
    highest = float(clean.top_corr[:, 0].max())
    threshold = min(1.0, highest + (1 - highest) / 2)   # ρ can exceed 1 by rounding
    hit = find_overlaps(q, r, threshold=threshold, top_k=top_k, progress=progress)
    pairs = {tuple(p) for p in hit.pairs.tolist()}
    with_copy = sorted({i for i, _ in expected})
    return CopySearch(highest, threshold, hit, len(pairs & expected), len(pairs - expected),
                      hit.top_corr[with_copy, 0])


def overlap_effect(features: dict, targets, splits, injected, classifier="softmax", progress: bool = True,
                   **classifier_kw) -> dict:
    """What the overlap is worth (§5.2): the same probe on the features of several pre-trained models — one whose
    pre-training set held some of the transfer images (``injected``, indices into the transfer set), one that never
    saw them — scored on all test images and on the injected and the other test images apart.

    For each model and split a fresh classifier is fitted on the split's training rows; then

        all       = mean per-class accuracy on the split's test rows (the chapter's usual score),
        injected  = plain accuracy on the test rows in ``injected``,  others = on the rest,

    each in %, mean ± sd over the splits where the subset is not empty. If pre-training on the transfer images
    helped, "injected" is higher for the model that saw them than for the clean one, and higher than its own
    "others".

    Args:
        features: {model label: (N, D) frozen features of the whole transfer set}.
        targets: (N,) transfer labels; splits: from :func:`~zfcourse.transfer.few_shot_splits`.
        injected: indices of the transfer images that are also in (one model's) pre-training set.
        classifier, classifier_kw: as :func:`~zfcourse.transfer.probe_splits`.

    Returns:
        {model label: {"all": ProbeResult, "injected": ProbeResult, "others": ProbeResult}}.
    """
    import numpy as np

    from .evaluate import ProbeResult, _make, mean_per_class_accuracy

    if not isinstance(features, dict) or not features:
        raise ValueError("features: expected a non-empty {model label: (N, D) features} dictionary")
    if not splits:
        raise ValueError("splits: expected at least one split")
    classes, y = np.unique(np.asarray(targets), return_inverse=True)
    dirty = np.zeros(len(y), bool)
    inj = np.asarray(injected, dtype=np.int64).ravel()
    if inj.size and (inj.min() < 0 or inj.max() >= len(y)):
        raise ValueError(f"injected: expected indices into the {len(y)} transfer images")
    dirty[inj] = True
    y = torch.as_tensor(y)
    out = {}
    for label, f in tqdm(features.items(), desc="models", leave=False, disable=not progress):
        x = as_features(f, f"features[{label!r}]")
        if len(x) != len(y):
            raise ValueError(f"features: {label!r} has {len(x)} rows, expected one per target ({len(y)})")
        scores: dict = {"all": [], "injected": [], "others": []}
        for s in splits:
            clf = _make(classifier, classifier_kw).fit(x[s.train], y[s.train], num_classes=len(classes))
            pred = clf.predict(x[s.test]).cpu()
            right = (pred == y[s.test]).numpy()
            scores["all"].append(100 * mean_per_class_accuracy(pred, y[s.test]))
            for part, mask in (("injected", dirty[s.test]), ("others", ~dirty[s.test])):
                if mask.any():
                    scores[part].append(100 * float(right[mask].mean()))
        out[label] = {k: ProbeResult(v, n=splits[0].n) for k, v in scores.items() if v}
    return out
