"""The order in which a training run sees its images: a pure function of (seed, epoch).

Because the permutation of epoch e is drawn from a generator seeded with (seed, e) alone, the data order needs no saved
state: a run resumed at the start of epoch e sees exactly the batches the uninterrupted run saw. Each epoch visits
⌊N/B⌋ full global batches of B images (the last partial batch is dropped, so every step — and every process's share
under DDP — has the same size).
"""
from __future__ import annotations

import torch


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The global mini-batches (lists of dataset indices) of epoch ``epoch`` (1-based): a seeded permutation of
    range(n), cut into ⌊n/batch_size⌋ batches."""
    if batch_size < 1:
        raise ValueError(f"batch_size: expected a positive batch size, got {batch_size}")
    if n < batch_size:
        raise ValueError(f"batch_size: {batch_size} is larger than the training set ({n} images)")
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    perm = torch.randperm(n, generator=g).tolist()
    return [perm[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]
