"""World v2 as a torch ``Dataset``: the splits, the paper's crops and flips, the per-pixel mean image (§3).

§3 trains on random 224×224 crops (with horizontal flips) of 256×256 images and tests on the centre crop; world v2
renders 192×192 images and the course model sees 168×168 crops (both × 0.75). Item ``i`` of a split is render
``(seed, index)`` with disjoint index ranges per split, so no image is in two splits:

=================  ============================================  =============================================
split              render indices                                 what it is
=================  ============================================  =============================================
``train``          0, 1, 2, …                                     pre-training classes, habitual context
``val``            VAL_OFFSET + i                                 pre-training classes, habitual context
``val_shuffled``   VAL_OFFSET + i (the same scenes as ``val``)    context drawn independently of the class
``heldout``        HELDOUT_OFFSET + i                             the held-out classes (labels NUM_CLASSES + k)
``val_frontal``    FRONTAL_OFFSET + i                             faces posed frontally (chapter 8)
=================  ============================================  =============================================

A training item's crop and flip are drawn from (seed, render index, epoch), not a global generator: the same epoch
sees the same crops whatever the number of workers, so an interrupted run resumes bit-identically.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .annotation import Annotation
from .families import ALL_NAMES, CLASS_NAMES, FAMILIES, HELDOUT_NAMES, NUM_CLASSES, world_class
from .preprocess import Preprocess
from .world import PALETTES, WORLD_CROP, WORLD_SIZE, label_of, render

VAL_OFFSET = 1 << 30
HELDOUT_OFFSET = 1 << 31
FRONTAL_OFFSET = 3 << 30
SPLITS = ("train", "val", "val_shuffled", "heldout", "val_frontal")
MEAN_RENDERS = 840  # training renders averaged for the mean image: 20 per class
FACE_NAMES = tuple(n for n in FAMILIES["face"] if n in CLASS_NAMES)


def world_index(split: str, i: int) -> int:
    """The render index of item ``i`` of ``split`` (see the table above)."""
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
    off = {"train": 0, "val": VAL_OFFSET, "val_shuffled": VAL_OFFSET, "heldout": HELDOUT_OFFSET,
           "val_frontal": FRONTAL_OFFSET}[split]
    return int(i) + off


def render_item(seed: int, split: str, i: int, omit=(), palette: str = "shared"):
    """Item ``i`` of ``split`` as (uint8 (192, 192, 3), :class:`Annotation`), ``omit`` parts of its main object
    left undrawn (``"*"``: all of it; every other pixel unchanged). ``palette="per-class"`` draws the same scene with
    a colour scheme per class (the shortcut of the course's first world; see :func:`compose`)."""
    idx = world_index(split, i)
    if split == "val_frontal":
        return render(seed, idx, label=FACE_NAMES[i % len(FACE_NAMES)], omit=omit, frontal=True, palette=palette)
    return render(seed, idx, omit=omit, context="shuffled" if split == "val_shuffled" else "habitual",
                  heldout=split == "heldout", palette=palette)


@lru_cache(maxsize=4)
def world_mean(n: int = MEAN_RENDERS, seed: int = 0) -> torch.Tensor:
    """The per-pixel mean μ (3, 192, 192), float32 on the 0–255 scale, of training renders 0..n−1 (§3)."""
    acc = np.zeros((WORLD_SIZE, WORLD_SIZE, 3), dtype=np.float64)
    for i in range(n):
        acc += render(seed, i)[0]
    return torch.from_numpy(acc / n).permute(2, 0, 1).float().contiguous()


def world_preprocess(n: int = MEAN_RENDERS, seed: int = 0) -> Preprocess:
    """World v2's input space: 0–255 RGB minus :func:`world_mean` (paper §3)."""
    return Preprocess(world_mean(n, seed), name=f"0-255 minus per-pixel mean of {n} world training renders")


def crop_input(image: np.ndarray, y: int, x: int, flipped: bool, crop: int, preprocess: Preprocess) -> torch.Tensor:
    """The (3, crop, crop) input-space tensor of the crop of uint8 ``image`` at (y, x), flipped if asked (§3).

    The mean is subtracted before cropping and flipping, as in §3: the mean's window is taken at the same place.
    Same arithmetic as ``preprocess.to_input`` ((k·x − μ)/σ in float32, bit for bit), done in NumPy: on a busy
    2-core machine torch's 2-thread kernels on one image cost milliseconds each in thread wake-ups, which made
    loading (not the model) the bottleneck of CPU training; NumPy stays on the calling thread.
    """
    p = preprocess
    inp = np.ascontiguousarray(image[y:y + crop, x:x + crop].transpose(2, 0, 1), dtype=np.float32)
    if p.scale != 1.0:
        inp *= np.float32(p.scale)
    inp -= p.mean_for(crop, crop, (y, x)).numpy()
    if bool((p.std != 1).any()):
        inp /= p.std.numpy()
    if flipped:
        inp = np.ascontiguousarray(inp[..., ::-1])
    return torch.from_numpy(inp)


class _Renders(Dataset):
    def __init__(self, seed, split, items, palette="shared"):
        self.seed, self.split, self.items, self.palette = seed, split, list(items), palette

    def __len__(self):
        return len(self.items)

    def __getitem__(self, k):
        return torch.from_numpy(render_item(self.seed, self.split, self.items[k], palette=self.palette)[0])


class WorldDataset(Dataset):
    """A split of world v2: items (input-space float tensor (3, 168, 168), label int).

    Args:
        split: one of ``SPLITS``.
        size: number of items; labels cycle through the split's classes, so a multiple of the class count is
            exactly balanced.
        seed: the world's seed.
        augment: random 168 crop + horizontal flip (default: True for ``train`` only; otherwise the centre crop).
        preprocess: default :func:`world_preprocess`.
        cache: pre-render every image once (uint8, 110 kB each).
        workers: processes for pre-rendering.
        progress: progress bar while pre-rendering.
        palette: ``"shared"`` (the world as designed: colours carry no class information) or ``"per-class"`` (the
            same scenes, each class with its own colour scheme — the colour shortcut, for the exercise that shows
            what it does to a model). The input space (:func:`world_preprocess`) is the shared world's either way.
        inject_heldout: ``train`` only — append items 0 … n−1 of the ``heldout`` split after the ``size`` training
            items, each labelled with :func:`stand_in_label` (a pre-training class of its family). This is the
            overlap of §5.2 made on purpose: a few images of the transfer classes inside the pre-training set, as
            some Caltech images were inside ImageNet's training set (the paper found them by normalised correlation
            and retrained without them). The dataset then has ``size + inject_heldout`` items.
    """

    def __init__(self, split: str = "train", size: int = 1000, seed: int = 0, augment: bool | None = None,
                 preprocess: Preprocess | None = None, cache: bool = False, workers: int = 0, progress: bool = True,
                 palette: str = "shared", inject_heldout: int = 0):
        if split not in SPLITS:
            raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
        if not isinstance(size, (int, np.integer)) or not 0 < size <= VAL_OFFSET:
            raise ValueError(f"size: expected an integer in 1..{VAL_OFFSET}, got {size!r}")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
        if palette not in PALETTES:
            raise ValueError(f"palette: expected one of {PALETTES}, got {palette!r}")
        if not isinstance(inject_heldout, (int, np.integer)) or not 0 <= inject_heldout <= VAL_OFFSET:
            raise ValueError(f"inject_heldout: expected a non-negative integer, got {inject_heldout!r}")
        if inject_heldout and split != "train":
            raise ValueError(f"inject_heldout: held-out renders can only be injected into the 'train' split, "
                             f"not {split!r}")
        self.split, self.seed, self.palette = split, int(seed), palette
        self.injected = int(inject_heldout)
        self.size = int(size) + self.injected
        self.augment = (split == "train") if augment is None else bool(augment)
        self.preprocess = preprocess if preprocess is not None else world_preprocess()
        self.classes = list(HELDOUT_NAMES if split == "heldout" else CLASS_NAMES)
        self.epoch = 0
        self.images = None
        if cache:
            from tqdm.auto import tqdm
            self.images = torch.empty((self.size, WORLD_SIZE, WORLD_SIZE, 3), dtype=torch.uint8)
            k = 0
            for part, items in ((split, range(self.size - self.injected)), ("heldout", range(self.injected))):
                loader = DataLoader(_Renders(self.seed, part, items, palette), batch_size=256, num_workers=workers)
                for batch in tqdm(loader, desc=f"rendering {part}", unit="batch",
                                  disable=not progress or not len(items)):
                    self.images[k:k + len(batch)] = batch
                    k += len(batch)

    def __len__(self) -> int:
        return self.size

    def _check(self, i: int) -> int:
        if not -self.size <= i < self.size:
            raise IndexError(f"i: expected an index into a dataset of {self.size} items, got {i}")
        return i % self.size

    def source(self, i: int) -> tuple[str, int]:
        """(split, item) that item ``i`` is drawn from: ``(self.split, i)``, or ``("heldout", j)`` for the j-th
        injected held-out render."""
        i = self._check(i)
        first = self.size - self.injected
        return ("heldout", i - first) if i >= first else (self.split, i)

    def label(self, i: int) -> int:
        """Item ``i``'s label: an index into ``self.classes``."""
        split, j = self.source(i)
        if split != self.split:
            return stand_in_label(HELDOUT_NAMES[label_of(world_index(split, j), heldout=True) - NUM_CLASSES])
        if self.split == "val_frontal":
            return CLASS_NAMES.index(FACE_NAMES[j % len(FACE_NAMES)])
        lab = label_of(world_index(self.split, j), heldout=self.split == "heldout")
        return lab - NUM_CLASSES if self.split == "heldout" else lab

    @property
    def labels(self) -> torch.Tensor:
        """All labels (int64), without rendering."""
        return torch.tensor([self.label(i) for i in range(self.size)], dtype=torch.int64)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose random crops/flips ``__getitem__`` returns."""
        self.epoch = int(epoch)

    def raw(self, i: int) -> tuple[np.ndarray, Annotation]:
        """The full 192×192 render of item ``i`` and its annotation (labels index ``ALL_NAMES``)."""
        split, j = self.source(i)
        return render_item(self.seed, split, j, palette=self.palette)

    def image(self, i: int) -> np.ndarray:
        """The 192×192 uint8 render of item ``i`` (from the cache when there is one)."""
        if self.images is not None:
            return self.images[self._check(i)].numpy()
        return self.raw(i)[0]

    def crop_of(self, i: int) -> tuple[int, int, bool]:
        """(y, x, flipped) of item ``i``'s crop this epoch: random for augmented splits, centred otherwise."""
        if not self.augment:
            c = (WORLD_SIZE - WORLD_CROP) // 2
            return c, c, False
        rng = np.random.default_rng((self.seed, world_index(*self.source(i)), self.epoch, 1))
        y, x = rng.integers(0, WORLD_SIZE - WORLD_CROP + 1, 2).tolist()
        return y, x, bool(rng.integers(2))

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        y, x, flipped = self.crop_of(i)
        return crop_input(self.image(i), y, x, flipped, WORLD_CROP, self.preprocess), self.label(i)

    def object_mask(self, i: int) -> torch.Tensor:
        """The main object's own pixels in item ``i``'s 168 input frame of the current epoch: (168, 168) bool, True
        where the render changes when the object is left undrawn (``omit="*"``) — occluded and hidden pixels are
        not the object's."""
        y, x, flipped = self.crop_of(i)
        full = self.image(i)
        bare = render_item(self.seed, *self.source(i), omit=("*",), palette=self.palette)[0]
        mask = (full != bare).any(-1)[y:y + WORLD_CROP, x:x + WORLD_CROP]
        return torch.from_numpy(np.ascontiguousarray(mask[:, ::-1] if flipped else mask))

    def annotation(self, i: int) -> Annotation:
        """Item ``i``'s annotation in its 168 input frame of the current epoch (crop applied, flip mirrored)."""
        y, x, flipped = self.crop_of(i)
        ann = self.raw(i)[1].shifted(x, y, WORLD_CROP)
        return ann.flipped(WORLD_CROP) if flipped else ann

    def __repr__(self) -> str:
        return (f"WorldDataset(split={self.split!r}, size={self.size}, seed={self.seed}, augment={self.augment}, "
                f"cached={self.images is not None}, classes={len(self.classes)}"
                + (f", inject_heldout={self.injected})" if self.injected else ")"))


def stand_in_label(heldout_class: str) -> int:
    """The pre-training label an injected render of held-out class ``heldout_class`` carries: the first pre-training
    class of the same family in ``CLASS_NAMES`` order (a raccoon face is labelled ``dog_beagle``, a canoe
    ``sailboat``) — as an overlap image inside ImageNet carries an ImageNet label, not its Caltech one."""
    if heldout_class not in HELDOUT_NAMES:
        raise ValueError(f"heldout_class: expected one of {HELDOUT_NAMES}, got {heldout_class!r}")
    family = world_class(heldout_class).family
    return next(k for k, name in enumerate(CLASS_NAMES) if world_class(name).family == family)


__all__ = ["WorldDataset", "stand_in_label", "world_index", "render_item", "world_mean", "world_preprocess",
           "crop_input", "SPLITS", "ALL_NAMES", "VAL_OFFSET", "HELDOUT_OFFSET", "FRONTAL_OFFSET"]
