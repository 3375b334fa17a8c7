"""Real datasets behind the same interface as the embedded world: items are (input-space tensor, label).

The paper trains on ImageNet 2012 (§3) and tests generalisation on Caltech-101/256 and PASCAL (§5.2). The loaders
here apply the paper's preprocessing to any of the datasets a learner can realistically get:

* an ImageNet-style folder (``root/train/<wnid>/*.JPEG``, ``root/val/<wnid>/*``) — :func:`image_folder`;
* Imagenette / Imagewoof (10-class ImageNet subsets, downloadable .tgz) — :func:`imagenette`;
* CIFAR-10, Caltech-101, Caltech-256 and Oxford-IIIT Pet through ``torchvision.datasets`` — :func:`cifar10`,
  :func:`caltech101`, :func:`caltech256`, :func:`oxford_pets`.

Downloads happen only with ``download=True`` and go to the per-user cache :func:`cache_dir` (``$ZFCOURSE_CACHE``,
else ``$XDG_CACHE_HOME/zfcourse``, else ``~/.cache/zfcourse``), never into the repository or the installed package.
A missing dataset raises ``FileNotFoundError`` naming ``root``
and the layout expected; :func:`zfcourse.data.load_source` turns that into a fallback to the embedded world.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets
from torchvision.datasets.utils import download_and_extract_archive
from torchvision.transforms.functional import pil_to_tensor

from ..environment import cache_dir
from .preprocess import Preprocess, paper_resize

IMAGENETTE_URL = "https://s3.amazonaws.com/fast-ai-imageclas/{variant}.tgz"
IMAGENETTE_VARIANTS = ("imagenette2", "imagenette2-320", "imagenette2-160", "imagewoof2", "imagewoof2-320",
                       "imagewoof2-160")
# wnid → (readable name, index among the 1000 ImageNet classes torchvision's pretrained models predict)
IMAGENETTE_CLASSES = {
    "n01440764": ("tench", 0), "n02102040": ("English springer", 217), "n02979186": ("cassette player", 482),
    "n03000684": ("chain saw", 491), "n03028079": ("church", 497), "n03394916": ("French horn", 566),
    "n03417042": ("garbage truck", 569), "n03425413": ("gas pump", 571), "n03445777": ("golf ball", 574),
    "n03888605": ("parachute", 701),
}
IMAGEWOOF_CLASSES = {
    "n02086240": ("Shih-Tzu", 155), "n02087394": ("Rhodesian ridgeback", 159), "n02088364": ("beagle", 162),
    "n02089973": ("English foxhound", 167), "n02093754": ("Border terrier", 182),
    "n02096294": ("Australian terrier", 193), "n02099601": ("golden retriever", 207),
    "n02105641": ("Old English sheepdog", 229), "n02111889": ("Samoyed", 258), "n02115641": ("dingo", 273),
}


class PaperTransform:
    """PIL image → input-space tensor with the paper's preprocessing (§3).

    Shortest side → ``resize``, centre ``resize``×``resize`` crop, then a ``crop``×``crop`` window — random with a
    random horizontal flip when ``train``, central otherwise — and ``preprocess.to_input`` (the mean image's window
    at the same place, as the paper subtracts the mean before cropping). The random draws use torch's generator,
    which DataLoader seeds per worker.

    Args:
        preprocess: a :class:`Preprocess` (default: torchvision's normalisation, for pretrained models).
        train: random crop + flip (True) or centre crop (False).
        resize: 256 in the paper (192 for the embedded world).
        crop: 224 in the paper (168).
    """

    def __init__(self, preprocess: Preprocess | None = None, train: bool = False, resize: int = 256, crop: int = 224):
        if crop > resize:
            raise ValueError(f"crop: expected at most resize ({resize}), got {crop}")
        self.preprocess = preprocess if preprocess is not None else Preprocess.torchvision()
        self.train, self.resize, self.crop = train, resize, crop

    def __call__(self, image) -> torch.Tensor:
        x = paper_resize(pil_to_tensor(image.convert("RGB")), self.resize)
        room = self.resize - self.crop
        if self.train:
            y0, x0 = (int(v) for v in torch.randint(0, room + 1, (2,)))
            flip = bool(torch.rand(()) < 0.5)
        else:
            y0 = x0 = room // 2
            flip = False
        inp = self.preprocess.to_input(x[:, y0:y0 + self.crop, x0:x0 + self.crop], offset=(y0, x0))
        return inp.flip(-1) if flip else inp

    def __repr__(self) -> str:
        return f"PaperTransform(train={self.train}, resize={self.resize}, crop={self.crop}, {self.preprocess!r})"


def _transform(preprocess, train, resize, crop):
    return PaperTransform(preprocess, train, resize, crop)


def image_folder(root, split: str = "train", preprocess: Preprocess | None = None, train: bool | None = None,
                 resize: int = 256, crop: int = 224) -> datasets.ImageFolder:
    """An ImageNet-style folder ``root/<split>/<class>/<image>`` as a dataset of (input tensor, label).

    Labels are the class folders in sorted order (``dataset.classes``), as torchvision's ImageFolder gives them.
    ``train`` (default: ``split == "train"``) picks random crops + flips versus the centre crop (§3).
    """
    folder = Path(root).expanduser() / split
    if not folder.is_dir():
        raise FileNotFoundError(f"root: no folder {folder} (expected {Path(root) / split}/<class>/<image>.JPEG)")
    train = split == "train" if train is None else train
    return datasets.ImageFolder(str(folder), transform=_transform(preprocess, train, resize, crop))


def imagenette(split: str = "val", variant: str = "imagenette2-160", root=None, download: bool = False,
               preprocess: Preprocess | None = None, train: bool | None = None, resize: int = 256,
               crop: int = 224) -> datasets.ImageFolder:
    """Imagenette or Imagewoof (fast.ai's 10-class ImageNet subsets): ``<root>/<variant>/{train,val}/<wnid>/*.JPEG``.

    Args:
        split: ``"train"`` or ``"val"``.
        variant: one of ``IMAGENETTE_VARIANTS`` (``-160``/``-320``: shortest side 160/320 px; the paper's 256
            resize then upsamples the 160 version).
        root: folder holding ``<variant>/`` (default :func:`cache_dir`).
        download: fetch and extract ``<variant>.tgz`` into ``root`` if it is missing.

    The dataset gets ``class_names`` (readable names) and ``imagenet_index`` (a tensor mapping each of its labels
    to the ImageNet class a pretrained torchvision model predicts), so pretrained models can be scored directly.
    """
    if variant not in IMAGENETTE_VARIANTS:
        raise ValueError(f"variant: expected one of {IMAGENETTE_VARIANTS}, got {variant!r}")
    if split not in ("train", "val"):
        raise ValueError(f"split: expected 'train' or 'val', got {split!r}")
    root = Path(root).expanduser() if root is not None else cache_dir()
    if not (root / variant / split).is_dir():
        if not download:
            raise FileNotFoundError(f"root: {root / variant / split} not found; pass download=True to fetch "
                                    f"{IMAGENETTE_URL.format(variant=variant)}")
        download_and_extract_archive(IMAGENETTE_URL.format(variant=variant), download_root=str(root),
                                     remove_finished=True)
    ds = image_folder(root / variant, split, preprocess, train, resize, crop)
    table = IMAGEWOOF_CLASSES if variant.startswith("imagewoof") else IMAGENETTE_CLASSES
    ds.class_names = [table.get(w, (w, -1))[0] for w in ds.classes]
    ds.imagenet_index = torch.tensor([table.get(w, (w, -1))[1] for w in ds.classes])
    return ds


class _UnverifiedCIFAR10(datasets.CIFAR10):
    """CIFAR-10 that checks the files exist instead of their MD5 sums (for hand-made fixtures and mirrors)."""

    def _check_integrity(self) -> bool:
        folder = Path(self.root) / self.base_folder
        return all((folder / name).is_file() for name, _ in self.train_list + self.test_list)

    def _load_meta(self) -> None:
        with open(Path(self.root) / self.base_folder / self.meta["filename"], "rb") as f:
            self.classes = pickle.load(f, encoding="latin1")[self.meta["key"]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}


def _torchvision_call(make, root: Path, what: str):
    # torchvision reports a missing dataset as RuntimeError("Dataset not found ..."); the course's convention is
    # FileNotFoundError naming ``root``, which load_source catches to fall back to the embedded world.
    try:
        return make()
    except RuntimeError as e:
        if "not found" in str(e).lower() or "corrupted" in str(e).lower():
            raise FileNotFoundError(f"root: {what} not found under {root} ({e})") from e
        raise


def cifar10(split: str = "test", root=None, download: bool = False, preprocess: Preprocess | None = None,
            train: bool | None = None, resize: int = 256, crop: int = 224, verify: bool = True):
    """CIFAR-10 (``<root>/cifar-10-batches-py/``) through torchvision, with the paper's preprocessing.

    The 32×32 images are upsampled by the shortest-side resize (use e.g. ``resize=36, crop=32`` to stay small).
    ``verify=False`` checks only that the batch files exist, not their MD5 sums.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    root = Path(root).expanduser() if root is not None else cache_dir()
    train = split == "train" if train is None else train
    cls = datasets.CIFAR10 if verify else _UnverifiedCIFAR10
    return _torchvision_call(lambda: cls(str(root), train=split == "train", download=download,
                                         transform=_transform(preprocess, train, resize, crop)), root, "CIFAR-10")


def caltech101(root=None, download: bool = False, preprocess: Preprocess | None = None, train: bool = False,
               resize: int = 256, crop: int = 224):
    """Caltech-101 (``<root>/caltech101/101_ObjectCategories/<class>/image_0001.jpg``) through torchvision, §5.2.

    101 classes (``BACKGROUND_Google`` is dropped, as torchvision does). There is no fixed split: the paper draws
    15 or 30 training images per class and tests on up to 50 of the rest — see :func:`few_shot_split`.
    """
    root = Path(root).expanduser() if root is not None else cache_dir()
    return _torchvision_call(lambda: datasets.Caltech101(str(root), target_type="category", download=download,
                                                         transform=_transform(preprocess, train, resize, crop)),
                             root, "Caltech-101")


def caltech256(root=None, download: bool = False, preprocess: Preprocess | None = None, train: bool = False,
               resize: int = 256, crop: int = 224):
    """Caltech-256 (``<root>/caltech256/256_ObjectCategories/001.ak47/001_0001.jpg``) through torchvision, §5.2.

    257 folders (256 classes + clutter) as torchvision lists them; splits with :func:`few_shot_split`
    (15/30/45/60 training images per class in the paper).
    """
    root = Path(root).expanduser() if root is not None else cache_dir()
    return _torchvision_call(lambda: datasets.Caltech256(str(root), download=download,
                                                         transform=_transform(preprocess, train, resize, crop)),
                             root, "Caltech-256")


def oxford_pets(split: str = "test", root=None, download: bool = False, preprocess: Preprocess | None = None,
                train: bool | None = None, resize: int = 256, crop: int = 224):
    """Oxford-IIIT Pet (``<root>/oxford-iiit-pet/{images,annotations}``; 37 breeds) through torchvision.

    ``split`` is ``"trainval"`` or ``"test"``.
    """
    if split not in ("trainval", "test"):
        raise ValueError(f"split: expected 'trainval' or 'test', got {split!r}")
    root = Path(root).expanduser() if root is not None else cache_dir()
    train = split == "trainval" if train is None else train
    return _torchvision_call(lambda: datasets.OxfordIIITPet(str(root), split=split, target_types="category",
                                                            download=download,
                                                            transform=_transform(preprocess, train, resize, crop)),
                             root, "Oxford-IIIT Pet")


def dataset_targets(dataset) -> np.ndarray:
    """The label of every item without loading images (ImageFolder ``targets``, Caltech ``y``, Pet ``_labels``)."""
    for attr in ("targets", "y", "_labels"):
        if hasattr(dataset, attr):
            return np.asarray(getattr(dataset, attr))
    if hasattr(dataset, "labels"):
        return np.asarray(dataset.labels)
    raise TypeError(f"dataset: cannot find labels on a {type(dataset).__name__} (no targets / y / _labels / labels)")


def few_shot_split(targets, n_train: int, max_test: int | None = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """§5.2's protocol: per class, ``n_train`` random training images and up to ``max_test`` of the rest for test.

    Returns (train indices, test indices) into the dataset. Classes with at most ``n_train`` images contribute
    all of them to training and none to test. Different ``seed`` s give the paper's different folds.
    """
    targets = np.asarray(targets)
    if n_train < 1:
        raise ValueError(f"n_train: expected a positive number of training images per class, got {n_train}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(targets):
        idx = rng.permutation(np.flatnonzero(targets == c))
        train.append(idx[:n_train])
        test.append(idx[n_train:] if max_test is None else idx[n_train:n_train + max_test])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
