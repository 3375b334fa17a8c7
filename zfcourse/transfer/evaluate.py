"""Scoring transfer the way §5.2 reports it (Tables 4, 5, 7 and Fig. 9): mean per-class accuracy, mean ± sd over
random splits.

Caltech results are "the average of the per-class accuracies": with T_c the test images of class c,

    acc_c = (1/|T_c|) Σ_{i ∈ T_c} [ŷ_i = c],    A = (1/C) Σ_c acc_c,

so a class with few test images counts as much as a large one (plain accuracy would not). A is computed on each of K
random splits (:func:`~zfcourse.transfer.few_shot_splits`) and reported as mean ± sd over the splits, with the sample
standard deviation sd = sqrt(Σ_k (A_k − Ā)² / (K − 1)) (the paper does not say which sd; with K = 1 it is undefined,
NaN). :func:`probe_splits` fits a fresh classifier on each split's training rows of a fixed feature matrix;
:func:`few_shot_curve` does so for every n of Fig. 9, :func:`probe_layers` for every layer of Table 7.

Images with several objects (Table 6) are scored per class instead, by the average precision of the classifier's
score for that class over the test images (:func:`~zfcourse.transfer.average_precision`), again mean ± sd over
splits: :func:`probe_average_precision`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .average_precision import average_precision
from .linear import as_features
from .softmax import SoftmaxClassifier
from .splits import PAPER_SHOTS, Split, few_shot_splits
from .svm import LinearSVM

CLASSIFIERS = {"softmax": SoftmaxClassifier, "svm": LinearSVM}


def per_class_accuracy(pred, target, num_classes: int | None = None) -> torch.Tensor:
    """acc_c for every class c in [0, C): the fraction of the test images of class c predicted as c; NaN where class c
    has no test image. ``pred`` and ``target`` are (N,) integer labels."""
    pred, target = torch.as_tensor(pred).long(), torch.as_tensor(target).long()
    if pred.shape != target.shape or pred.dim() != 1:
        raise ValueError(f"pred: expected (N,) predictions matching target {tuple(target.shape)}, "
                         f"got {tuple(pred.shape)}")
    c = int(max(pred.max(), target.max())) + 1 if num_classes is None else num_classes
    if len(target) and (int(target.min()) < 0 or int(target.max()) >= c):
        raise ValueError(f"target: labels must lie in [0, {c}) (num_classes)")
    total = torch.bincount(target, minlength=c).double()
    hits = torch.bincount(target[pred == target], minlength=c).double()
    return torch.where(total > 0, hits / total.clamp_min(1), torch.full_like(total, float("nan")))


def mean_per_class_accuracy(pred, target) -> float:
    """A = mean of acc_c over the classes present in ``target`` (the Caltech protocol of §5.2), as a fraction."""
    acc = per_class_accuracy(pred, target)
    return float(acc[~acc.isnan()].mean())


def mean_sd(values) -> tuple[float, float]:
    """(mean, sample sd with K − 1) of a sequence of per-split scores; sd is NaN for a single value."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        raise ValueError("values: expected at least one score")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan")


@dataclass
class ProbeResult:
    """One score per split, in % as the paper's tables (mean per-class accuracy, or an AP), and their mean ± sd.
    ``n`` is the split's training images per class (or training-set size for a hold-out split)."""
    values: list[float]
    n: int | None = None

    @property
    def mean(self) -> float:
        return mean_sd(self.values)[0]

    @property
    def sd(self) -> float:
        return mean_sd(self.values)[1]

    def __str__(self) -> str:
        return f"{self.mean:.1f}" if math.isnan(self.sd) else f"{self.mean:.1f} ± {self.sd:.1f}"


def _make(classifier, kwargs):
    if isinstance(classifier, str):
        if classifier not in CLASSIFIERS:
            raise ValueError(f"classifier: expected one of {tuple(CLASSIFIERS)} or a factory, got {classifier!r}")
        return CLASSIFIERS[classifier](**kwargs)
    if callable(classifier):
        return classifier(**kwargs)
    raise ValueError(f"classifier: expected one of {tuple(CLASSIFIERS)} or a factory, got {type(classifier).__name__}")


def probe_splits(features, targets, splits: list[Split], classifier="softmax", progress: bool = True,
                 **classifier_kw) -> ProbeResult:
    """Fit a linear classifier on each split's training rows of ``features`` and score its test rows (§5.2).

    Args:
        features: (N, D) frozen features of the whole labelled set (:func:`~zfcourse.transfer.extract_features`).
        targets: (N,) class labels (any integers; mapped to 0..C−1 internally).
        splits: from :func:`~zfcourse.transfer.few_shot_splits`, indices into the rows of ``features``.
        classifier: ``"softmax"`` (§5.2), ``"svm"`` (§5.3) or a factory returning an object with fit/predict.
        classifier_kw: passed to the classifier (``weight_decay``, ``optimizer``, ``max_iter`` ...).

    Returns:
        :class:`ProbeResult` with one mean per-class accuracy (%) per split.
    """
    x = as_features(features, "features")
    classes, y = np.unique(np.asarray(targets), return_inverse=True)
    if len(y) != len(x):
        raise ValueError(f"targets: expected one label per feature row ({len(x)}), got {len(y)}")
    if not splits:
        raise ValueError("splits: expected at least one split")
    y = torch.as_tensor(y)
    accs = []
    for s in tqdm(splits, desc="splits", leave=False, disable=not progress):
        clf = _make(classifier, classifier_kw).fit(x[s.train], y[s.train], num_classes=len(classes))
        accs.append(100 * mean_per_class_accuracy(clf.predict(x[s.test]).cpu(), y[s.test]))
    return ProbeResult(accs, n=splits[0].n)


def few_shot_curve(features, targets, shots=PAPER_SHOTS, n_splits: int = 5, max_test: int | None = 50,
                   seed: int = 0, classifier="softmax", progress: bool = True,
                   **classifier_kw) -> dict[int, ProbeResult]:
    """Fig. 9: mean ± sd per-class accuracy against n training images per class, {n: ProbeResult}.

    Every n uses ``n_splits`` splits from seeds ``seed``, ``seed + 1``, ... (nested training sets across n, see
    :mod:`~zfcourse.transfer.splits`); the classifier and its settings are the same for every point.
    """
    out = {}
    for n in tqdm(list(shots), desc="images per class", leave=False, disable=not progress):
        splits = few_shot_splits(targets, n, n_splits=n_splits, max_test=max_test, seed=seed)
        out[int(n)] = probe_splits(features, targets, splits, classifier, progress=False, **classifier_kw)
    return out


def probe_layers(features_by_layer: dict, targets, splits: list[Split], classifier="softmax", progress: bool = True,
                 **classifier_kw) -> dict:
    """Table 7: the same classifier and splits on the features of each layer, {layer: :class:`ProbeResult`}.

    ``features_by_layer`` is {name: (N, D_l)} as :func:`~zfcourse.transfer.extract_layers` returns (one pass over
    the images for every layer).
    """
    if not isinstance(features_by_layer, dict) or not features_by_layer:
        raise ValueError("features_by_layer: expected a non-empty {layer: (N, D) features} dictionary")
    return {name: probe_splits(f, targets, splits, classifier, progress=False, **classifier_kw)
            for name, f in tqdm(features_by_layer.items(), desc="layers", leave=False, disable=not progress)}


def probe_average_precision(features, labels, splits: list[Split], classifier="svm", interpolation: str = "all",
                            progress: bool = True, **classifier_kw) -> dict:
    """Table 6: per-class average precision (%) of a linear classifier on frozen features of multi-object images.

    For each split a classifier is fitted on the training rows with (N, C) 0/1 ``labels`` (one-vs-rest SVM by default;
    ``"softmax"`` shares each image's target mass among its objects, see :mod:`~zfcourse.transfer.softmax`), and
    every class's AP is computed from its scores on the test rows.

    Returns:
        {class index c: ProbeResult of AP_c over splits, ..., "mAP": ProbeResult of the mean AP over splits}; a class
        with no positive test image in a split is left out of that split's values and mAP.
    """
    x = as_features(features, "features")
    y = torch.as_tensor(labels)
    if y.dim() != 2 or len(y) != len(x) or not ((y == 0) | (y == 1)).all():
        raise ValueError(f"labels: expected an (N, C) 0/1 matrix with one row per feature row ({len(x)}), got shape "
                         f"{tuple(y.shape)}")
    if not splits:
        raise ValueError("splits: expected at least one split")
    per_class: dict = {c: [] for c in range(y.shape[1])}
    means = []
    for s in tqdm(splits, desc="splits", leave=False, disable=not progress):
        clf = _make(classifier, classifier_kw).fit(x[s.train], y[s.train], num_classes=y.shape[1])
        ap = average_precision(clf.decision_function(x[s.test]).cpu(), y[s.test], interpolation)
        for c, v in enumerate(ap.tolist()):
            if not math.isnan(v):
                per_class[c].append(100 * v)
        means.append(100 * float(ap[~ap.isnan()].mean()))
    out = {c: ProbeResult(v, n=splits[0].n) for c, v in per_class.items() if v}
    out["mAP"] = ProbeResult(means, n=splits[0].n)
    return out
