"""One entry point for a chapter's data: ``load_source(cfg)`` → dataset + preprocessing (+ pretrained model).

DESIGN.md "Two data sources, one code path": every analysis takes a (model, dataset) pair. ``cfg.source`` (from
``zfcourse.setup()``) picks the ``embedded`` world or the ``imagenet`` source (a real dataset and, if asked,
torchvision's pretrained AlexNet/VGG). When the real data or weights cannot be had — offline, no cache, a failed
download — the source falls back to the embedded world and says so in one printed line; nothing fails because a
download is impossible.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn
from torch.utils.data import Subset

from .preprocess import Preprocess
from .pretrained import pretrained
from . import real
from .world_data import WorldDataset, world_preprocess

REAL_DATASETS = ("imagenette", "imagewoof", "imagenet_folder", "cifar10", "caltech101", "caltech256", "oxford_pets")


@dataclass
class Source:
    """What a chapter analyses.

    Attributes:
        name: ``"embedded"`` or ``"imagenet"`` (what was actually loaded, after any fallback).
        dataset: a torch Dataset of (input-space float tensor (3, S, S), label).
        preprocess: converts uint8 images to that input space and back (``to_input`` / ``to_display``).
        classes: class names, indexed by label.
        model: the pretrained torchvision model when one was asked for on the ``imagenet`` source, else None (the
            embedded world's course model is loaded by the training package).
        description: one line saying what this is (and why, after a fallback).
    """
    name: str
    dataset: Any
    preprocess: Preprocess
    classes: list
    model: nn.Module | None
    description: str


def _embedded(split: str, size, quick: bool, why: str = "") -> Source:
    split = "train" if split == "train" else "val"
    if size is None:  # quick: 10 (val) or 20 (train) images per class; full: the course model's val split (100/class)
        size = (420 if split == "val" else 840) if quick else 4200
    ds = WorldDataset(split, size=size, progress=False)
    text = f"embedded world, {split} split, {len(ds)} images" + (f" ({why})" if why else "")
    return Source("embedded", ds, world_preprocess(), ds.classes, None, text)


def _real(dataset: str, split: str, root, download: bool, preprocess: Preprocess):
    train_split = split == "train"
    if dataset in ("imagenette", "imagewoof"):
        variant = f"{'imagenette2' if dataset == 'imagenette' else 'imagewoof2'}-160"
        ds = real.imagenette("train" if train_split else "val", variant, root, download, preprocess)
        return ds, ds.class_names
    if dataset == "imagenet_folder":
        if root is None:
            raise FileNotFoundError("root: the ImageNet folder's location is needed (root/train, root/val)")
        ds = real.image_folder(root, "train" if train_split else "val", preprocess)
        return ds, ds.classes
    if dataset == "cifar10":
        ds = real.cifar10("train" if train_split else "test", root, download, preprocess)
        return ds, ds.classes
    if dataset == "caltech101":
        ds = real.caltech101(root, download, preprocess)
        return ds, ds.categories
    if dataset == "caltech256":
        ds = real.caltech256(root, download, preprocess)
        return ds, ds.categories
    ds = real.oxford_pets("trainval" if train_split else "test", root, download, preprocess)
    return ds, ds.classes


def spread_subset(dataset, n: int) -> Subset:
    """At most ``n`` items of ``dataset`` taken at an even step over its whole length — from every class of a folder
    dataset, whose items are sorted by class (its first ``n`` would cover only the first classes)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    every = max(1, len(dataset) // n)
    return Subset(dataset, list(range(0, len(dataset), every))[:n])


def load_source(cfg=None, split: str = "val", dataset: str = "imagenette", model: str | None = None,
                weights_path=None, root=None, download: bool | None = None, size: int | None = None,
                verbose: bool = True) -> Source:
    """The data (and, for ``imagenet``, optionally the pretrained model) a chapter works on.

    Args:
        cfg: ``zfcourse.setup()``'s Config (uses ``cfg.source`` and ``cfg.quick``), or a source name string
            (``"embedded"`` / ``"imagenet"``); None means ``"embedded"``.
        split: ``"train"`` or ``"val"`` (mapped to each dataset's own names: CIFAR ``test``, Pet ``trainval``/``test``).
        dataset: for the ``imagenet`` source, one of ``REAL_DATASETS``.
        model: for the ``imagenet`` source, a torchvision model name (``"alexnet"``, ``"vgg16"``, …) to load
            pretrained, or None.
        weights_path: a local state-dict file for ``model`` instead of torchvision's download.
        root: where the real dataset lies (default the per-user cache, :func:`zfcourse.data.cache_dir`).
        download: allow downloads; default: not in quick mode.
        size: number of embedded images (default: 420 val / 840 train in quick mode, 4,200 in full mode).
        verbose: print the one-line summary (always printed on a fallback).
    """
    if split not in ("train", "val"):
        raise ValueError(f"split: expected 'train' or 'val', got {split!r}")
    name = cfg if isinstance(cfg, str) or cfg is None else cfg.source
    name = "embedded" if name is None else name
    quick = bool(getattr(cfg, "quick", False))
    if name not in ("embedded", "imagenet"):
        raise ValueError(f"cfg: expected source 'embedded' or 'imagenet', got {name!r}")
    if name == "imagenet" and dataset not in REAL_DATASETS:
        raise ValueError(f"dataset: expected one of {REAL_DATASETS}, got {dataset!r}")
    download = (not quick) if download is None else download
    source = None
    if name == "imagenet":
        try:
            preprocess = Preprocess.torchvision()
            ds, classes = _real(dataset, split, root, download, preprocess)
            net = pretrained(model, weights_path, download=download) if model else None
            text = f"{dataset}, {split} split, {len(ds)} images" + (f", pretrained {model}" if model else "")
            source = Source("imagenet", ds, preprocess, list(classes), net, text)
        except (OSError, RuntimeError, ValueError) as e:  # missing files, failed download, unusable weights
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            source = _embedded(split, size, quick, f"fallback: {dataset}{' / ' + model if model else ''} unavailable")
            print(f"zfcourse: {dataset} unavailable ({reason[:300]}); using the embedded world instead")
            return source
    if source is None:
        source = _embedded(split, size, quick)
    if verbose:
        print(f"zfcourse data: {source.description}")
    return source
