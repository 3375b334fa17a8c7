"""Average precision per class, PASCAL VOC style (§5.2, Table 6: "PASCAL 2012 ... per class" results and their mean).

For one class, rank the N images by the classifier's score for that class, highest first. Going down the ranking,
after the images with score ≥ τ (a threshold at each distinct score) the precision and recall are

    P(τ) = TP(τ) / (TP(τ) + FP(τ)),    R(τ) = TP(τ) / N_pos.

VOC 2010–2012 (the protocol of the VOC 2012 results the paper compares with) makes precision monotone — the
interpolated precision P̂(r) = max_{R(τ) ≥ r} P(τ) — and takes the area under that curve,

    AP = Σ_j (R_j − R_{j−1}) · P̂(R_j)      (R_0 = 0, over the distinct recall levels R_j),

while VOC 2007 averaged P̂ at eleven recall levels, AP₁₁ = (1/11) Σ_{r ∈ {0, 0.1, …, 1}} P̂(r)
(``interpolation="11point"``). Images with equal scores enter the ranking together (one threshold per distinct score),
so the result does not depend on the order of ties. A class without positive images has no AP (NaN), and the mean AP
(mAP) is taken over the classes that have one. "difficult" objects, which VOC leaves out, are not modelled: drop
those images from ``scores``/``labels`` first.

Worked example (the unit tests check it): scores (0.9, 0.8, 0.7, 0.6, 0.5) with labels (1, 0, 1, 0, 1) give
recall 1/3, 1/3, 2/3, 2/3, 1 and precision 1, 1/2, 2/3, 1/2, 3/5, so AP = 1/3·1 + 1/3·2/3 + 1/3·3/5 = 34/45 ≈ 0.756
and AP₁₁ = (4·1 + 3·2/3 + 4·3/5)/11 = 8.4/11 ≈ 0.764.
"""
from __future__ import annotations

import torch

INTERPOLATIONS = ("all", "11point")


def _ap_one(scores: torch.Tensor, labels: torch.Tensor, interpolation: str) -> float:
    n_pos = int(labels.sum())
    if n_pos == 0:
        return float("nan")
    order = torch.sort(scores, descending=True, stable=True).indices
    s, tp = scores[order], labels[order].double().cumsum(0)
    # one operating point per distinct score: the last position of each run of equal scores
    last = torch.ones_like(s, dtype=torch.bool)
    last[:-1] = s[1:] != s[:-1]
    rank = torch.arange(1, len(s) + 1, dtype=torch.float64)[last]
    tp = tp[last]
    precision, recall = tp / rank, tp / n_pos
    # monotone envelope from the right: P̂ at each operating point = max precision at this or higher recall
    envelope = precision.flip(0).cummax(0).values.flip(0)
    if interpolation == "11point":
        levels = torch.linspace(0, 1, 11, dtype=torch.float64)
        reach = recall[None, :] >= levels[:, None] - 1e-12                    # (11, K)
        best = torch.where(reach, envelope[None, :], torch.zeros(1, dtype=torch.float64)).max(1).values
        return float(best.mean())
    steps = torch.diff(recall, prepend=torch.zeros(1, dtype=torch.float64))
    return float((steps * envelope).sum())


def average_precision(scores, labels, interpolation: str = "all"):
    """VOC-style average precision (module docstring) of ``scores`` against 0/1 ``labels``.

    Args:
        scores: (N,) scores for one class, or (N, C) for C classes (one-vs-rest: each column ranked on its own).
        labels: 0/1 of the same shape: does image i contain class c.
        interpolation: ``"all"`` (VOC 2010–2012, area under the interpolated curve) or ``"11point"`` (VOC 2007).

    Returns:
        A float for (N,) input; a (C,) float64 tensor for (N, C) input (NaN for a class with no positive image).

    Example:
        >>> round(average_precision(torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5]), torch.tensor([1, 0, 1, 0, 1])), 4)
        0.7556
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation: expected one of {INTERPOLATIONS}, got {interpolation!r}")
    scores, labels = torch.as_tensor(scores), torch.as_tensor(labels)
    if scores.dim() not in (1, 2) or scores.shape[0] == 0:
        raise ValueError(f"scores: expected (N,) or (N, C) with N ≥ 1, got {tuple(scores.shape)}")
    if labels.shape != scores.shape:
        raise ValueError(f"labels: expected the shape of scores {tuple(scores.shape)}, got {tuple(labels.shape)}")
    if not torch.isfinite(scores.double()).all():
        raise ValueError("scores: must be finite (found NaN or inf)")
    if not ((labels == 0) | (labels == 1)).all():
        raise ValueError("labels: expected 0/1 (or False/True) entries")
    scores, labels = scores.double(), labels.double()
    if scores.dim() == 1:
        return _ap_one(scores, labels, interpolation)
    return torch.tensor([_ap_one(scores[:, c], labels[:, c], interpolation) for c in range(scores.shape[1])],
                        dtype=torch.float64)


def mean_average_precision(scores, labels, interpolation: str = "all") -> float:
    """mAP: the mean of the per-class APs of (N, C) ``scores`` over the classes with at least one positive image."""
    scores = torch.as_tensor(scores)
    if scores.dim() != 2:
        raise ValueError(f"scores: expected (N, C) scores for C classes, got {tuple(scores.shape)}")
    ap = average_precision(scores, labels, interpolation)
    if ap.isnan().all():
        raise ValueError("labels: no class has a positive image, so no AP is defined")
    return float(ap[~ap.isnan()].mean())
