"""The hyper-parameters of a training run, with the paper's values (§3) as defaults."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .clipping import PAPER_RADIUS

# Fields a resumed run may change without changing what it computes (or only extending it).
RESUMABLE_CHANGES = ("epochs", "snapshots", "progress")


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Defaults are §3's: SGD, batch 128, lr 10⁻², momentum 0.9, clipping radius 0.1, lr ×0.1 on a
    validation plateau, 70 epochs.

    Args:
        epochs: number of passes over the training set (70 in the paper).
        batch_size: the *global* mini-batch B (split evenly over processes under DDP).
        lr, momentum: SGD with momentum, v ← μv + ∇L, w ← w − ηv (torch's form of the paper's update).
        weight_decay: L2 penalty; the paper states none, so 0.
        clip_radius: feature scale clipping radius r (§3); ``None`` turns clipping off (Fig. 6a).
        anneal_factor, anneal_patience: lr ← lr·factor after ``patience`` epochs without a better validation error.
        seed: seeds the data order, augmentation and dropout (the model's init is seeded by whoever builds it).
        num_workers: DataLoader worker processes.
        eval_batch_size: batch size for validation.
        snapshots: epochs at which conv weights are saved for Fig. 4; ``None`` = Fig. 4's epochs scaled to ``epochs``.
        bf16: bfloat16 autocast — used on CUDA only.
        channels_last: NHWC memory layout — used on CUDA only.
        progress: tqdm bars and one printed line per epoch (rank 0 only).
    """
    epochs: int = 70
    batch_size: int = 128
    lr: float = 1e-2
    momentum: float = 0.9
    weight_decay: float = 0.0
    clip_radius: float | None = PAPER_RADIUS
    anneal_factor: float = 0.1
    anneal_patience: int = 2
    seed: int = 0
    num_workers: int = 0
    eval_batch_size: int = 256
    snapshots: tuple[int, ...] | None = None
    bf16: bool = True
    channels_last: bool = True
    progress: bool = True

    def __post_init__(self):
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "eval_batch_size": self.eval_batch_size}
        for name, value in positive.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not self.lr > 0:
            raise ValueError(f"lr: expected a positive learning rate, got {self.lr}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum: expected a value in [0, 1), got {self.momentum}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay: expected a non-negative value, got {self.weight_decay}")
        if self.clip_radius is not None and not self.clip_radius > 0:
            raise ValueError(f"clip_radius: expected a positive radius or None (no clipping), got {self.clip_radius}")
        if not 0 < self.anneal_factor < 1:
            raise ValueError(f"anneal_factor: expected a multiplier in (0, 1), got {self.anneal_factor}")
        if self.anneal_patience < 0:
            raise ValueError(f"anneal_patience: expected a non-negative number of epochs, got {self.anneal_patience}")
        if self.num_workers < 0:
            raise ValueError(f"num_workers: expected a non-negative integer, got {self.num_workers}")
        if self.snapshots is not None:
            object.__setattr__(self, "snapshots", tuple(int(e) for e in self.snapshots))
            if any(e < 1 for e in self.snapshots):
                raise ValueError(f"snapshots: expected epochs ≥ 1, got {self.snapshots}")

    def to_dict(self) -> dict:
        """Plain dict (saved in checkpoints and history)."""
        return asdict(self)

    def check_resumable(self, saved: dict) -> None:
        """Raise ValueError naming every field that differs from the ``saved`` run's and would change its result."""
        diff = [f.name for f in fields(self) if f.name not in RESUMABLE_CHANGES
                and f.name in saved and _norm(saved[f.name]) != _norm(getattr(self, f.name))]
        if diff:
            pairs = ", ".join(f"{n}={saved[n]!r} (now {getattr(self, n)!r})" for n in diff)
            raise ValueError(f"config: resuming needs the saved run's settings; these differ: {pairs}")


def _norm(value):
    return list(value) if isinstance(value, (tuple, list)) else value
