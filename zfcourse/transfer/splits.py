"""Few-shot train/test splits (§5.2: Tables 4–5, Fig. 9) and the disjointness checks that keep transfer honest.

The paper follows the Caltech protocols: "randomly select 15 or 30 images per class for training and test on up to 50
images per class ... using 5 train/test folds" (Caltech-101), and for Fig. 9 the one-shot regime with fewer images per
class. A split here is, for every class c with images I_c:

    train_c = the first n of a random permutation π_c(I_c),   test_c = the next ≤ max_test of π_c(I_c),

so train and test never share an image, every class has exactly n training images, and split k of a grid uses the
permutations drawn from seed ``seed + k`` for every n. Because the permutation does not depend on n, the n-shot training
set of split k is contained in the n′-shot one for n < n′: a Fig. 9 curve adds images rather than redrawing them,
which keeps its points comparable (the test sets differ: each starts right after the training images).

:func:`assert_disjoint` is the one check used for everything that must not overlap: train vs test indices, held-out
classes vs the pre-training label set (§5.2 removed the images Caltech shares with ImageNet for the same reason).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.real import few_shot_split

PAPER_SHOTS = (1, 2, 3, 5, 10, 15, 30)   # Fig. 9-style training images per class used by the course


@dataclass(frozen=True)
class Split:
    """One random train/test split with ``n`` training images per class; indices into the labelled set."""
    n: int
    seed: int
    train: np.ndarray
    test: np.ndarray


def assert_disjoint(first, second, names: tuple[str, str] = ("train", "test")) -> None:
    """Raise AssertionError, naming both sides and up to ten shared items, when ``first`` and ``second`` overlap.

    Works for image indices (train vs test) and for class labels or names (held-out classes vs the pre-training
    label set): set(first) ∩ set(second) must be ∅.

    Example:
        >>> assert_disjoint([0, 1, 2], [3, 4])
        >>> assert_disjoint(["cat", "dog"], ["dog"], names=("pre-training classes", "held-out classes"))
        Traceback (most recent call last):
        ...
        AssertionError: pre-training classes and held-out classes share 1 item(s): ['dog']
    """
    shared = set(np.asarray(first).ravel().tolist()) & set(np.asarray(second).ravel().tolist())
    if shared:
        items = sorted(shared, key=str)
        more = f" and {len(items) - 10} more" if len(items) > 10 else ""
        raise AssertionError(f"{names[0]} and {names[1]} share {len(items)} item(s): {items[:10]}{more}")


def _check_targets(targets) -> np.ndarray:
    t = np.asarray(targets)
    if t.ndim != 1 or t.size == 0 or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"targets: expected a non-empty 1-D array of integer class labels, got shape {t.shape} "
                         f"and dtype {t.dtype}")
    return t


def few_shot_splits(targets, n: int, n_splits: int = 5, max_test: int | None = 50, seed: int = 0) -> list[Split]:
    """``n_splits`` random splits with exactly ``n`` training images per class and up to ``max_test`` test images.

    Args:
        targets: (N,) integer class label of every image of the labelled set (e.g. the held-out classes).
        n: training images per class (the paper: 15, 30 for Caltech-101; 15–60 for Caltech-256; 1–60 in Fig. 9).
        n_splits: how many random splits ("5 train/test folds").
        max_test: test images per class at most (50 for Caltech-101); None = all the rest.
        seed: split k draws its permutations from ``seed + k``.

    Every class needs at least n + 1 images (one left to test); otherwise a ValueError names the class.

    Example:
        >>> s = few_shot_splits([0, 0, 0, 1, 1, 1], n=2, n_splits=2)
        >>> [(len(x.train), len(x.test)) for x in s]
        [(4, 2), (4, 2)]
    """
    t = _check_targets(targets)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer number of training images per class, got {n!r}")
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 1:
        raise ValueError(f"n_splits: expected a positive integer, got {n_splits!r}")
    if max_test is not None and (isinstance(max_test, bool) or not isinstance(max_test, (int, np.integer))
                                 or max_test < 1):
        raise ValueError(f"max_test: expected a positive integer or None, got {max_test!r}")
    classes, counts = np.unique(t, return_counts=True)
    if counts.min() <= n:
        c = classes[counts.argmin()]
        raise ValueError(f"n: class {c} has only {counts.min()} images; n={n} needs at least {n + 1} per class "
                         "(n to train, at least one to test)")
    splits = []
    for k in range(n_splits):
        train, test = few_shot_split(t, n, max_test=max_test, seed=seed + k)
        splits.append(Split(n=int(n), seed=seed + k, train=train, test=test))
        check_split(splits[-1], t)
    return splits


def few_shot_grid(targets, shots=PAPER_SHOTS, n_splits: int = 5, max_test: int | None = 50,
                  seed: int = 0) -> dict[int, list[Split]]:
    """{n: :func:`few_shot_splits` (targets, n, ...)} for every n of ``shots`` — the x-axis of Fig. 9."""
    shots = list(shots)
    if not shots:
        raise ValueError("shots: expected at least one number of training images per class")
    return {int(n): few_shot_splits(targets, n, n_splits, max_test, seed) for n in shots}


def check_split(split: Split, targets) -> None:
    """Raise AssertionError unless ``split`` has disjoint train/test indices and exactly ``split.n`` training images
    of every class (every class of ``targets`` present in training)."""
    t = _check_targets(targets)
    assert_disjoint(split.train, split.test, names=("train indices", "test indices"))
    counts = np.bincount(t[split.train] - t.min(), minlength=t.max() - t.min() + 1)[np.unique(t) - t.min()]
    if not (counts == split.n).all():
        raise AssertionError(f"split: expected {split.n} training images per class, got counts {counts.tolist()}")


def holdout_splits(n_images: int, n_test: int, n_splits: int = 5, seed: int = 0) -> list[Split]:
    """Random train/test partitions of ``n_images`` images, ``n_test`` of them for test — for a multi-object set
    (Table 6), where images have several labels and a per-class count does not apply. ``Split.n`` is then the size of
    the training set. Split k draws its permutation from ``seed + k``."""
    for name, v, low in (("n_images", n_images, 2), ("n_test", n_test, 1), ("n_splits", n_splits, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"{name}: expected an integer ≥ {low}, got {v!r}")
    if n_test >= n_images:
        raise ValueError(f"n_test: expected fewer than n_images={n_images} test images, got {n_test}")
    splits = []
    for k in range(n_splits):
        perm = np.random.default_rng(seed + k).permutation(n_images)
        splits.append(Split(n=int(n_images - n_test), seed=seed + k, train=np.sort(perm[n_test:]),
                            test=np.sort(perm[:n_test])))
        assert_disjoint(splits[-1].train, splits[-1].test, names=("train indices", "test indices"))
    return splits
