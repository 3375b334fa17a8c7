"""The training loop of §3: SGD with momentum on mini-batches, feature scale clipping after every step, lr annealing
on a validation plateau, Fig. 4 conv snapshots, and checkpoints that resume bit for bit.

What one epoch e does (every process, under DDP each on its share of every global batch):
  for each global batch b of B images (order: :func:`epoch_batches`, a function of (seed, e) only):
      L = mean cross-entropy of softmax(f(x)) over b,  v ← μv + ∇L,  w ← w − ηv,  then clip conv filters (§3)
  then validation loss/error, lr ← lr·0.1 if the error has plateaued (``schedule.py``), and on rank 0:
  history.json, the Fig. 4 snapshot if e is one of its epochs, and ``checkpoint.pt``
  (model, optimiser, annealer, every rank's RNG states, history).

Nothing is lost to an interruption. The previous checkpoint is kept as ``checkpoint.prev.pt`` (a hard link, or a copy,
made before the new one is written) and the new one replaces ``checkpoint.pt`` atomically: at every instant
``checkpoint.pt`` is a complete checkpoint. Resuming takes the newest complete one among them and starts at epoch e+1
with every generator restored, so it computes exactly what the uninterrupted run would have; an interruption inside an
epoch loses only that epoch's progress. A new run into a folder that holds a run is refused unless told to overwrite
it; temporary files left by a killed write are removed when a run starts.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ..environment import seed_everything
from ..models.modes import evaluating
from .checkpoint import MANIFEST, CheckpointError, _fsync_dir, load_checkpoint, rng_state, save_atomic, set_rng_state
from .clipping import PAPER_RADIUS, clip_filter_rms_, filter_rms_by_layer
from .collate import stack_collate
from .ddp import Distributed, all_gather, all_sum, barrier, init_distributed, local_device, shard, wrap
from .schedule import plateau_annealer, snapshot_epochs
from .snapshots import save_snapshot

CHECKPOINT, PREVIOUS, HISTORY = "checkpoint.pt", "checkpoint.prev.pt", "history.json"
FINAL, RUN = "model.pt", "run.json"
LEGACY_NEW = "checkpoint.pt.new"  # written by earlier versions between their two renames; may hold the newest epoch
_REQUIRED = ("format", "epoch", "model", "optimizer", "scheduler", "rng", "config", "history")


# ----------------------------------------------------------------------------------------------------------------
# The settings of a run
# ----------------------------------------------------------------------------------------------------------------

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
        warmup_steps: the first ``warmup_steps`` updates use lr·s/warmup_steps at update s (linear warm-up; not in the
            paper, whose default 0 this keeps). The annealer and the checkpoint see the full lr only. Measured on the
            Table 3 row without layers 3, 4, 6, 7 at 10⁻²: a warm-up over one epoch (328 updates) did not keep its
            conv5 units alive (0.5 % of them fired at update 200), so Table 3 uses a lower constant lr instead.
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
    warmup_steps: int = 0
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
        if not isinstance(self.warmup_steps, int) or isinstance(self.warmup_steps, bool) or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps: expected a non-negative number of updates, got {self.warmup_steps!r}")
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


# ----------------------------------------------------------------------------------------------------------------
# The order in which a run sees its images: a pure function of (seed, epoch). The permutation of epoch e is drawn
# from a generator seeded with (seed, e) alone, so a run resumed at the start of epoch e sees exactly the batches the
# uninterrupted run saw. Each epoch visits ⌊N/B⌋ full global batches (the last partial batch is dropped, so every step —
# and every process's share under DDP — has the same size).
# ----------------------------------------------------------------------------------------------------------------

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


def train(model: nn.Module, train_set: Dataset, val_set: Dataset | None, out_dir: str | os.PathLike,
          config: TrainConfig = TrainConfig(), resume: bool = False, device: str | torch.device | None = None,
          on_step: Callable[[int, int], None] | None = None, overwrite: bool = False) -> dict:
    """Train ``model`` in place by §3's recipe and return its history (also written to ``out_dir/history.json``).

    Args:
        model: an nn.Module mapping (B, 3, S, S) to class scores (e.g. ``course_model()``), already initialised.
        train_set, val_set: datasets of (image tensor, integer label); ``val_set=None`` skips validation and annealing.
        out_dir: folder for checkpoint.pt, checkpoint.prev.pt, history.json, snapshots/epoch_NNN.pt and model.pt.
        config: :class:`TrainConfig` (paper defaults).
        resume: continue from the newest complete checkpoint in ``out_dir`` (see :func:`newest_checkpoint`).
        device: default: the model's device. Under torchrun each process uses cuda:LOCAL_RANK.
        on_step: called as ``on_step(epoch, step)`` after every optimiser step (progress hooks; tests interrupt here).
        overwrite: start afresh in a folder that holds a run, deleting that run's files first. Without it (and without
            ``resume``) such a folder is refused: nothing is ever overwritten by accident.

    Returns:
        dict of per-epoch lists: epoch, train_loss, train_acc, val_loss, val_acc, lr, seconds, images_per_s; and
        ``filter_rms[layer]`` (per-filter RMS after each epoch, Fig. 6a) and ``clipped[layer]`` (filters renormalised).

    Raises:
        FileExistsError: ``out_dir`` holds a run and neither ``resume`` nor ``overwrite`` is set.
        FileNotFoundError: ``resume`` but there is no checkpoint.
        CheckpointError: every checkpoint is truncated or corrupt (they are left as they are).
        ValueError: a setting differs from the checkpoint's, or the batch size does not fit the data.
        FloatingPointError: the training loss became NaN or infinite (the last good checkpoint is kept).
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config: expected a TrainConfig, got {type(config).__name__}")
    if resume and overwrite:
        raise ValueError("overwrite: cannot both resume a run and overwrite it; choose one")
    if len(train_set) < config.batch_size:
        raise ValueError(f"batch_size: {config.batch_size} is larger than the training set ({len(train_set)} images)")
    out = Path(out_dir)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    ctx = init_distributed(device)
    device = local_device(device, ctx)
    if config.batch_size % ctx.world_size:
        raise ValueError(f"batch_size: {config.batch_size} does not split evenly over {ctx.world_size} processes")
    prepare_out_dir(out, resume=resume, overwrite=overwrite, main=ctx.main)
    barrier(ctx)
    cuda = device.type == "cuda"
    model.to(device)
    if cuda and config.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    scheduler = plateau_annealer(optimizer, config.anneal_factor, config.anneal_patience)

    current_ok = True  # checkpoint.pt is a good checkpoint worth keeping as checkpoint.prev.pt at the next save
    if resume:
        path, state = newest_checkpoint(out, verbose=ctx.main)
        current_ok = path.name == CHECKPOINT
        config.check_resumable(state["config"])
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, start = state["history"], state["epoch"] + 1
        rngs = state["rng"]
        # Exact continuation needs this rank's own generators; a different process count can only approximate.
        set_rng_state(rngs[ctx.rank] if len(rngs) == ctx.world_size else rngs[0])
    else:
        seed_everything(config.seed + 1000 * ctx.rank)  # dropout masks differ between ranks, as on one big batch
        history, start = _new_history(config, ctx), 1

    net = wrap(model, ctx)
    snaps = set(config.snapshots if config.snapshots is not None else snapshot_epochs(config.epochs))
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if cuda and config.bf16 else nullcontext()
    for epoch in range(start, config.epochs + 1):
        t0 = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        batches = [shard(b, ctx) for b in epoch_batches(len(train_set), config.batch_size, config.seed, epoch)]
        if hasattr(train_set, "set_epoch"):  # fresh random crops/flips every epoch (a function of the epoch only)
            train_set.set_epoch(epoch)
        loader = DataLoader(train_set, batch_sampler=batches, num_workers=config.num_workers, pin_memory=cuda,
                            collate_fn=stack_collate)
        bar = tqdm(loader, desc=f"epoch {epoch}/{config.epochs}", leave=False,
                   disable=not (config.progress and ctx.main))
        sums = torch.zeros(3, dtype=torch.float64, device=device)  # loss·n, correct, n
        clipped = dict.fromkeys(filter_rms_by_layer(model), 0)
        net.train()
        for step, (x, y) in enumerate(bar, start=1):
            x, y = _to(x, device, cuda and config.channels_last), y.to(device, non_blocking=True)
            with amp:
                scores = net(x)
                loss = F.cross_entropy(scores.float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            update = (epoch - 1) * len(batches) + step  # 1-based count of updates since the run began
            if update <= config.warmup_steps:
                for group in optimizer.param_groups:
                    group["lr"] = lr * update / config.warmup_steps
            optimizer.step()
            if config.clip_radius is not None:
                for name, n in clip_filter_rms_(model, config.clip_radius).items():
                    clipped[name] += n
            sums += torch.stack([loss.detach().double() * len(y), (scores.argmax(1) == y).sum().double(),
                                 torch.tensor(float(len(y)), dtype=torch.float64, device=device)])
            if on_step is not None:
                on_step(epoch, step)
        for group in optimizer.param_groups:  # the epoch's lr again (warm-up over): annealer and checkpoint see it
            group["lr"] = lr
        loss_sum, correct, n = all_sum(sums.tolist(), ctx, device)
        if not math.isfinite(loss_sum):  # checked once per epoch: no extra GPU sync per step
            raise FloatingPointError(f"lr: the training loss became {loss_sum / n} in epoch {epoch} at lr {lr:g}; "
                                     f"nothing of this epoch was saved (the last good checkpoint in {out} is kept). "
                                     "Try a smaller learning rate, or keep feature scale clipping on.")
        train_seconds = time.perf_counter() - t0
        with live_units(model) as alive:  # which ReLU units fire on some validation image (dead layers show as 0)
            val_loss, val_acc = (evaluate(model, val_set, config.eval_batch_size, device, ctx) if val_set
                                 else (None, None))
        if val_set:
            for name, fraction in alive.fractions(ctx, device).items():
                history.setdefault("live_units", {}).setdefault(name, []).append(fraction)
        if val_acc is not None:
            scheduler.step(1.0 - val_acc)  # §3 anneals on the validation *error*
        _record(history, epoch=epoch, train_loss=loss_sum / n, train_acc=correct / n, val_loss=val_loss,
                val_acc=val_acc, lr=lr, seconds=time.perf_counter() - t0, images_per_s=n / train_seconds)
        for name, values in filter_rms_by_layer(model).items():
            history["filter_rms"].setdefault(name, []).append(values)
            history["clipped"].setdefault(name, []).append(clipped[name])
        rngs = all_gather(rng_state(), ctx)
        if ctx.main:
            if epoch in snaps:
                save_snapshot(model, epoch, out)
            write_json(history, out / HISTORY)
            rotate_and_save(out, {"format": 1, "epoch": epoch, "model": model.state_dict(),
                                  "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                                  "rng": rngs, "config": config.to_dict(), "history": history}, current_ok)
            current_ok = True
            if config.progress:
                val = f" · val loss {val_loss:.4f} acc {val_acc:.3f}" if val_acc is not None else ""
                print(f"epoch {epoch}/{config.epochs} · lr {lr:.0e} · train loss {loss_sum / n:.4f} acc "
                      f"{correct / n:.3f}{val}" f" · {n / train_seconds:.0f} img/s", flush=True)
        barrier(ctx)
    if ctx.main:
        save_atomic({k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}, out / FINAL)
    barrier(ctx)
    return history


# ----------------------------------------------------------------------------------------------------------------
# The run folder: what counts as a run, the newest complete checkpoint, writes that survive a kill
# ----------------------------------------------------------------------------------------------------------------

def run_files(out_dir: str | os.PathLike) -> list[Path]:
    """The files in ``out_dir`` that make it hold a run: checkpoints, history.json, model.pt, snapshots/*.pt."""
    out = Path(out_dir)
    names = [out / n for n in (CHECKPOINT, PREVIOUS, LEGACY_NEW, HISTORY, FINAL)]
    return [p for p in names if p.is_file()] + sorted((out / "snapshots").glob("epoch_*.pt"))


def stale_temporaries(out_dir: str | os.PathLike) -> list[Path]:
    """Temporary files a killed write left in ``out_dir`` or its snapshots/ (``.<name>.*.tmp``, ``.<name>.tmp``)."""
    out = Path(out_dir)
    return sorted(p for folder in (out, out / "snapshots") if folder.is_dir()
                  for p in folder.glob(".*.tmp") if p.is_file())


def prepare_out_dir(out_dir: str | os.PathLike, resume: bool = False, overwrite: bool = False,
                    main: bool = True) -> None:
    """Check and tidy ``out_dir`` before a run writes into it.

    A folder holding a run (:func:`run_files`) is refused unless ``resume`` or ``overwrite``; with ``overwrite`` that
    run's files (and run.json, the manifest) are deleted. Stale temporary files are removed in every case. A manifest
    (``MANIFEST.sha256``) is removed whenever the run will change the files it describes. Only ``main`` (rank 0)
    deletes.

    Raises:
        FileExistsError: the folder holds a run and neither ``resume`` nor ``overwrite`` is set; the message names it.
    """
    out = Path(out_dir)
    existing = run_files(out)
    if existing and not (resume or overwrite):
        raise FileExistsError(f"out_dir: {out} already holds a run ({', '.join(p.name for p in existing[:4])}"
                              f"{', …' if len(existing) > 4 else ''}); resume it (--resume), overwrite it "
                              "(--overwrite), or choose another folder")
    if not main:
        return
    doomed = stale_temporaries(out)
    if overwrite:
        doomed += existing + [p for p in (out / RUN, out / MANIFEST) if p.is_file()]
    elif resume and (out / MANIFEST).is_file():
        doomed.append(out / MANIFEST)
    for p in doomed:
        p.unlink(missing_ok=True)


def newest_checkpoint(out_dir: str | os.PathLike, verbose: bool = True) -> tuple[Path, dict]:
    """The newest complete checkpoint in ``out_dir`` and its contents: of checkpoint.pt, checkpoint.prev.pt (and an
    earlier version's checkpoint.pt.new), the readable one with the highest epoch. Unreadable ones are skipped (and
    named, when ``verbose``) and left untouched.

    Raises:
        FileNotFoundError: there is no checkpoint at all.
        CheckpointError: there are checkpoints but none is readable; every one is named with what is wrong.
    """
    out = Path(out_dir)
    candidates = [out / n for n in (CHECKPOINT, LEGACY_NEW, PREVIOUS) if (out / n).is_file()]
    if not candidates:
        raise FileNotFoundError(f"resume: no {CHECKPOINT} in {out} to resume from")
    good, bad = [], []
    for path in candidates:
        try:
            good.append((load_checkpoint(path, required=_REQUIRED)["epoch"], path))
        except CheckpointError as err:
            bad.append(str(err))
    if not good:
        raise CheckpointError("resume: no readable checkpoint in " f"{out}: " + " | ".join(bad))
    epoch, path = max(good, key=lambda t: t[0])
    if bad and verbose:
        print(f"resume: skipped an unreadable checkpoint ({bad[0][:160]}); resuming from {path.name} (epoch {epoch})")
    return path, load_checkpoint(path, required=_REQUIRED)


def write_json(obj, path: str | os.PathLike) -> Path:
    """Write ``obj`` as JSON (UTF-8, non-ASCII kept as it is, a final newline) to ``path`` atomically: temporary
    file, flush, fsync, ``os.replace``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return path


def rotate_and_save(out: Path, state: dict, keep_current: bool = True) -> None:
    """Keep the current checkpoint as checkpoint.prev.pt, then write ``state`` as checkpoint.pt.

    The old checkpoint is first *linked* (or, where hard links are not supported, copied) to a temporary name and
    renamed over checkpoint.prev.pt; then the new one goes through :func:`save_atomic`. checkpoint.pt is therefore a
    complete checkpoint at every instant — before the first rename, between the two writes and after.
    ``keep_current=False`` (the run resumed from checkpoint.prev.pt because checkpoint.pt was unreadable) leaves
    checkpoint.prev.pt as it is and lets the new checkpoint replace the unreadable one.
    """
    current, previous = out / CHECKPOINT, out / PREVIOUS
    same = previous.is_file() and current.is_file() and os.path.samefile(current, previous)  # already linked
    if keep_current and current.is_file() and not same:
        tmp = out / f".{PREVIOUS}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        try:
            os.link(current, tmp)
        except OSError:
            shutil.copyfile(current, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, previous)
    save_atomic(state, current)


@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 256, device: str | torch.device | None = None,
             ctx: Distributed | None = None) -> tuple[float, float]:
    """Mean cross-entropy and top-1 accuracy of ``model`` on ``dataset`` (eval mode: no dropout).

    loss = (1/N) Σ_i −log softmax(f(x_i))_{y_i},  acc = (1/N) Σ_i [argmax f(x_i) = y_i]. Under DDP each rank takes
    every W-th image and the sums are all-reduced, so every rank returns the same numbers (``ctx``: this process's
    place in a torchrun group; default one process).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    if dataset is None or len(dataset) == 0:
        raise ValueError("dataset: expected a non-empty dataset of (image, label) items, got an empty one")
    ctx = ctx if ctx is not None else Distributed()
    device = torch.device(device) if device is not None else next(model.parameters()).device
    with evaluating(model):
        indices = list(range(ctx.rank, len(dataset), ctx.world_size))
        loader = DataLoader(torch.utils.data.Subset(dataset, indices), batch_size=batch_size, collate_fn=stack_collate)
        cuda = device.type == "cuda"
        sums = torch.zeros(3, dtype=torch.float64, device=device)
        for x, y in loader:
            x, y = _to(x, device, cuda and _is_channels_last(model)), y.to(device)
            with torch.autocast("cuda", dtype=torch.bfloat16) if cuda else nullcontext():
                scores = model(x).float()
            sums += torch.stack([F.cross_entropy(scores, y, reduction="sum").double(),
                                 (scores.argmax(1) == y).sum().double(),
                                 torch.tensor(float(len(y)), dtype=torch.float64, device=device)])
    loss_sum, correct, n = all_sum(sums.tolist(), ctx, device)
    return loss_sum / n, correct / n


class live_units:
    """Context manager: while open, record which units of every ``nn.ReLU`` in ``model`` are positive on at least one
    input (a channel of a conv map counts as one unit: positive anywhere in the map). :meth:`fractions` gives, per
    ReLU, the share of its units that fired. A layer at 0 is dead for good: ∂ReLU/∂x = 0 for every input, so no
    gradient reaches it or anything below it, and SGD cannot bring it back.

    Example:
        >>> from torch import nn
        >>> m = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        >>> with torch.no_grad():
        ...     _ = m[0].weight.copy_(torch.tensor([[1., 0.], [0., 1.], [-1., -1.]])), m[0].bias.zero_()
        >>> with live_units(m) as alive:
        ...     _ = m(torch.tensor([[1., 0.], [0., 2.]]))
        >>> alive.fractions()
        {'1': 0.6667}
    """

    def __init__(self, model: nn.Module):
        self.model, self.fired, self.handles = model, {}, []

    def __enter__(self):
        for name, m in self.model.named_modules():
            if isinstance(m, nn.ReLU):
                self.handles.append(m.register_forward_hook(self._hook(name)))
        return self

    def _hook(self, name):
        def hook(module, inputs, out):
            fired = (out.detach() > 0).flatten(2).any(2) if out.dim() > 2 else out.detach() > 0
            fired = fired.any(0)
            self.fired[name] = fired if name not in self.fired else self.fired[name] | fired
        return hook

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()
        self.handles = []

    def fractions(self, ctx: Distributed | None = None, device=None) -> dict[str, float]:
        """{ReLU name: share of its units that fired}, rounded to 4 places; under DDP a unit counts if it fired on
        any rank."""
        out = {}
        for name, fired in self.fired.items():
            if ctx is not None and ctx.enabled:
                fired = torch.tensor(all_sum(fired.double().tolist(), ctx, device)) > 0
            out[name] = round(float(fired.float().mean()), 4)
        return out


def _to(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    x = x.to(device, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def _is_channels_last(model: nn.Module) -> bool:
    w = next((p for p in model.parameters() if p.dim() == 4), None)
    return w is not None and w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()


def _new_history(config: TrainConfig, ctx: Distributed) -> dict:
    keys = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "images_per_s")
    return {**{k: [] for k in keys}, "filter_rms": {}, "clipped": {}, "config": config.to_dict(),
            "world_size": ctx.world_size}


def _record(history: dict, **values) -> None:
    for k, v in values.items():
        history[k].append(v)
