"""The embedded world as a torch ``Dataset``: train/val splits, the paper's crops and flips, its mean image.

§3 trains on random 224×224 crops (with horizontal flips) of 256×256 images and tests on the centre crop; the
embedded world halves every size: 128×128 renders, 112×112 crops. Item ``i`` of a split is render
``(seed, render_index(i))``; the two splits use disjoint render indices (train 0, 1, 2, …; val ``VAL_OFFSET`` + i),
so no (seed, index) pair is in both.

The random crop and flip of a training item are drawn from ``(seed, render index, epoch)`` rather than from a
global generator: the same epoch always sees the same crops whatever the number of DataLoader workers, which is
what makes an interrupted training run resume bit-identically. Call :meth:`EmbeddedDataset.set_epoch` before each
epoch (with non-persistent workers, the DataLoader copies the dataset when each epoch's iterator starts).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .annotation import Annotation
from .classes import CLASS_NAMES, NUM_CLASSES
from .preprocess import Preprocess
from .scenes import IMAGE_SIZE, label_of, render

CROP_SIZE = 112  # the model's input side: the paper's 224, halved
VAL_OFFSET = 1 << 30  # render index of validation item i; training items use 0 .. VAL_OFFSET − 1
SPLITS = ("train", "val")
DEFAULT_SIZES = {"train": 12_000, "val": 1_200}
MEAN_RENDERS = 600  # training renders averaged for the mean image: 50 per class


def render_index(split: str, i: int) -> int:
    """The render index of item ``i`` of ``split``: ``i`` for train, ``VAL_OFFSET + i`` for val (disjoint)."""
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
    return int(i) + (VAL_OFFSET if split == "val" else 0)


@lru_cache(maxsize=4)
def embedded_mean(n: int = MEAN_RENDERS, seed: int = 0) -> torch.Tensor:
    """The per-pixel mean image μ (3, 128, 128), float32 on the 0–255 scale, of training renders 0..n−1 of ``seed``
    (§3: "subtracting the per-pixel mean"). Deterministic; computed once per process (about a second)."""
    acc = np.zeros((IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float64)
    for i in range(n):
        acc += render(seed, render_index("train", i))[0]
    return torch.from_numpy(acc / n).permute(2, 0, 1).float().contiguous()


def embedded_preprocess(n: int = MEAN_RENDERS, seed: int = 0) -> Preprocess:
    """The embedded world's input space: 0–255 RGB minus :func:`embedded_mean` (paper §3)."""
    return Preprocess(embedded_mean(n, seed), name=f"0-255 minus per-pixel mean of {n} embedded training renders")


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
    """Raw uint8 renders of a list of render indices (for parallel pre-rendering through a DataLoader)."""

    def __init__(self, seed: int, indices):
        self.seed, self.indices = seed, list(indices)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        return torch.from_numpy(render(self.seed, self.indices[i])[0])


def prerender(seed: int, indices, workers: int = 0, progress: bool = True) -> torch.Tensor:
    """Render ``indices`` of ``seed`` into one uint8 tensor (N, 128, 128, 3) — 49 kB per image in memory."""
    from tqdm.auto import tqdm

    loader = DataLoader(_Renders(seed, indices), batch_size=256, num_workers=workers)
    out = torch.empty((len(loader.dataset), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=torch.uint8)
    k = 0
    for batch in tqdm(loader, desc="rendering", unit="batch", disable=not progress):
        out[k:k + len(batch)] = batch
        k += len(batch)
    return out


class EmbeddedDataset(Dataset):
    """The embedded world, split ``split``: items (input-space float tensor (3, 112, 112), label int).

    Args:
        split: ``"train"`` or ``"val"``.
        size: number of items (default 12,000 train / 1,200 val); labels cycle through the 12 classes, so any
            ``size`` that is a multiple of 12 is exactly balanced.
        seed: the world's seed (same seed, same images).
        augment: random 112 crop + horizontal flip (the paper's training crops); default True for train, False
            for val (centre crop).
        preprocess: a :class:`Preprocess`; default :func:`embedded_preprocess` (0–255 minus the mean image).
        cache: pre-render every image into memory once (uint8, 49 kB each: 12,000 images ≈ 590 MB) so epochs cost
            no rendering; otherwise images are rendered on the fly (a few hundred to ~1000 per second per core).
        workers: processes used to pre-render when ``cache`` is set.
        progress: show a progress bar while pre-rendering.

    Example:
        >>> ds = EmbeddedDataset("val", size=24)
        >>> x, y = ds[0]
        >>> tuple(x.shape), x.dtype, ds.classes[y]
        ((3, 112, 112), torch.float32, 'sailboat')
    """

    def __init__(self, split: str = "train", size: int | None = None, seed: int = 0, augment: bool | None = None,
                 preprocess: Preprocess | None = None, cache: bool = False, workers: int = 0, progress: bool = True):
        if split not in SPLITS:
            raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
        size = DEFAULT_SIZES[split] if size is None else size
        if not isinstance(size, (int, np.integer)) or not 0 < size <= VAL_OFFSET:
            raise ValueError(f"size: expected an integer in 1..{VAL_OFFSET}, got {size!r}")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
        self.split, self.size, self.seed = split, int(size), int(seed)
        self.augment = (split == "train") if augment is None else bool(augment)
        self.preprocess = preprocess if preprocess is not None else embedded_preprocess()
        self.classes = list(CLASS_NAMES)
        self.epoch = 0
        self.images = prerender(self.seed, self.render_indices(), workers, progress) if cache else None

    def __len__(self) -> int:
        return self.size

    def render_index(self, i: int) -> int:
        """The render index of item ``i`` (see the module docstring)."""
        if not -self.size <= i < self.size:
            raise IndexError(f"i: expected an index into a dataset of {self.size} items, got {i}")
        return render_index(self.split, i % self.size)

    def render_indices(self) -> range:
        """All render indices of this split, in item order."""
        start = render_index(self.split, 0)
        return range(start, start + self.size)

    @property
    def labels(self) -> torch.Tensor:
        """The labels of all items (int64), without rendering."""
        return torch.tensor([label_of(r) for r in self.render_indices()], dtype=torch.int64)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose random crops/flips ``__getitem__`` returns (deterministic per epoch)."""
        self.epoch = int(epoch)

    def raw(self, i: int) -> tuple[np.ndarray, Annotation]:
        """The full 128×128 uint8 render of item ``i`` and its :class:`Annotation` (128 frame)."""
        return render(self.seed, self.render_index(i))

    def image(self, i: int) -> np.ndarray:
        """The 128×128 uint8 render of item ``i`` (from the cache when there is one)."""
        if self.images is not None:
            return self.images[i].numpy()
        return render(self.seed, self.render_index(i))[0]

    def crop_of(self, i: int) -> tuple[int, int, bool]:
        """(y, x, flipped) of the crop item ``i`` gets in the current epoch: random for augmented splits (drawn from
        (seed, render index, epoch)), centred otherwise."""
        if not self.augment:
            c = (IMAGE_SIZE - CROP_SIZE) // 2
            return c, c, False
        rng = np.random.default_rng((self.seed, self.render_index(i), self.epoch, 1))
        y, x = rng.integers(0, IMAGE_SIZE - CROP_SIZE + 1, 2).tolist()
        return y, x, bool(rng.integers(2))

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        y, x, flipped = self.crop_of(i)
        return crop_input(self.image(i), y, x, flipped, CROP_SIZE, self.preprocess), label_of(self.render_index(i))

    def annotation(self, i: int) -> Annotation:
        """Item ``i``'s annotation in its 112 input frame of the current epoch (crop applied, flip mirrored)."""
        y, x, flipped = self.crop_of(i)
        ann = self.raw(i)[1].shifted(x, y, CROP_SIZE)
        return ann.flipped(CROP_SIZE) if flipped else ann

    def __repr__(self) -> str:
        return (f"EmbeddedDataset(split={self.split!r}, size={self.size}, seed={self.seed}, augment={self.augment}, "
                f"cached={self.images is not None}, classes={NUM_CLASSES})")
