"""When things happen during training: the learning-rate annealing of §3 and the epochs Fig. 4 snapshots.

§3: "starting with a learning rate of 10⁻², ... We anneal the learning rate throughout training manually when the
validation error plateaus." We automate "manually" the usual way: multiply the learning rate by 0.1 when the
validation error has not improved by at least ``threshold`` (absolute) for ``patience`` epochs — torch's
ReduceLROnPlateau, whose state is saved in every checkpoint so a resumed run anneals at the same epochs.

Fig. 4 shows features "at epochs [1, 2, 5, 10, 20, 30, 40, 64]" of a 70-epoch run; :func:`snapshot_epochs` scales that
list to a run of any length.
"""
from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import ReduceLROnPlateau

from .. import paper

PAPER_EPOCHS = paper.setting("epochs").value              # §3: 70 epochs
FIG4_EPOCHS = paper.setting("Fig. 4 epochs").value        # (1, 2, 5, 10, 20, 30, 40, 64)


def plateau_annealer(optimizer: Optimizer, factor: float = 0.1, patience: int = 2, threshold: float = 1e-3,
                     min_lr: float = 1e-6) -> ReduceLROnPlateau:
    """lr ← lr·factor when the validation error e has not fallen below (best e − threshold) for ``patience`` epochs.

    The automated version of §3's manual annealing "when the validation error plateaus"; call ``.step(val_error)``
    once per epoch. factor 0.1 is the usual ×0.1 step; the paper gives neither factor nor patience.
    """
    if not 0 < factor < 1:
        raise ValueError(f"factor: expected a multiplier in (0, 1), got {factor}")
    if patience < 0:
        raise ValueError(f"patience: expected a non-negative number of epochs, got {patience}")
    return ReduceLROnPlateau(optimizer, mode="min", factor=factor, patience=patience, threshold=threshold,
                             threshold_mode="abs", min_lr=min_lr)


def snapshot_epochs(epochs: int, paper_epochs=FIG4_EPOCHS, paper_total: int = PAPER_EPOCHS) -> tuple[int, ...]:
    """Fig. 4's epochs (1, 2, 5, 10, 20, 30, 40, 64 of 70) scaled to a run of ``epochs`` epochs.

    e ↦ max(1, round(e·epochs/70)), then bumped to keep the list strictly increasing (so a short run still gets its
    earliest epochs, where the paper's lower layers change most), and cut at ``epochs``. 70 epochs gives the paper's
    list; 20 gives (1, 2, 3, 4, 6, 9, 11, 18); 8 or fewer gives every epoch.
    """
    if epochs < 1:
        raise ValueError(f"epochs: expected a positive number of epochs, got {epochs}")
    out = []
    for e in paper_epochs:
        scaled = max(1, round(e * epochs / paper_total), out[-1] + 1 if out else 1)
        if scaled <= epochs:
            out.append(scaled)
    return tuple(out)
