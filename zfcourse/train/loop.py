"""The training loop of §3: SGD with momentum on mini-batches, feature scale clipping after every step, lr annealing
on a validation plateau, Fig. 4 conv snapshots, and checkpoints that resume bit for bit.

What one epoch e does (every process, under DDP each on its share of every global batch):
  for each global batch b of B images (order: :func:`epoch_batches`, a function of (seed, e) only):
      L = mean cross-entropy of softmax(f(x)) over b,  v ← μv + ∇L,  w ← w − ηv,  then clip conv filters (§3)
  then validation loss/error, lr ← lr·0.1 if the error has plateaued, and on rank 0: history.json, the Fig. 4
  snapshot if e is one of its epochs, and ``checkpoint.pt`` (model, optimiser, annealer, every rank's RNG states,
  history) — rotated so the previous one survives as ``checkpoint.prev.pt``.

Resuming loads ``checkpoint.pt`` and starts at epoch e+1 with every generator restored, so it computes exactly what
the uninterrupted run would have. An interruption inside an epoch loses that epoch's progress; the resumed run redoes
it identically.
"""
from __future__ import annotations

import json
import os
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ..models.modes import evaluating
from .checkpoint import load_checkpoint, rng_state, save_atomic, set_rng_state
from .clipping import clip_filter_rms_, filter_rms_by_layer
from .collate import stack_collate
from .config import TrainConfig
from .ddp import Distributed, all_gather, all_sum, barrier, init_distributed, local_device, shard, wrap
from .order import epoch_batches
from .schedule import plateau_annealer, snapshot_epochs
from .snapshots import save_snapshot

CHECKPOINT, PREVIOUS, HISTORY, FINAL = "checkpoint.pt", "checkpoint.prev.pt", "history.json", "model.pt"
_REQUIRED = ("format", "epoch", "model", "optimizer", "scheduler", "rng", "config", "history")


def train(model: nn.Module, train_set: Dataset, val_set: Dataset | None, out_dir: str | os.PathLike,
          config: TrainConfig = TrainConfig(), resume: bool = False, device: str | torch.device | None = None,
          on_step: Callable[[int, int], None] | None = None) -> dict:
    """Train ``model`` in place by §3's recipe and return its history (also written to ``out_dir/history.json``).

    Args:
        model: an nn.Module mapping (B, 3, S, S) to class scores (e.g. ``course_model()``), already initialised.
        train_set, val_set: datasets of (image tensor, integer label); ``val_set=None`` skips validation and annealing.
        out_dir: folder for checkpoint.pt, checkpoint.prev.pt, history.json, snapshots/epoch_NNN.pt and model.pt.
        config: :class:`TrainConfig` (paper defaults).
        resume: continue from ``out_dir/checkpoint.pt``. Without it, a folder that already holds a checkpoint is refused
            (nothing is ever overwritten by accident).
        device: default: the model's device. Under torchrun each process uses cuda:LOCAL_RANK.
        on_step: called as ``on_step(epoch, step)`` after every optimiser step (progress hooks; tests interrupt here).

    Returns:
        dict of per-epoch lists: epoch, train_loss, train_acc, val_loss, val_acc, lr, seconds, images_per_s; and
        ``filter_rms[layer]`` (per-filter RMS after each epoch, Fig. 6a) and ``clipped[layer]`` (filters renormalised).

    Raises:
        FileExistsError: ``out_dir`` holds a checkpoint and ``resume`` is False.
        FileNotFoundError: ``resume`` but there is no checkpoint.
        CheckpointError: the checkpoint is truncated or corrupt (it is left as it is).
        ValueError: a setting differs from the checkpoint's, or the batch size does not fit the data.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config: expected a TrainConfig, got {type(config).__name__}")
    if len(train_set) < config.batch_size:
        raise ValueError(f"batch_size: {config.batch_size} is larger than the training set ({len(train_set)} images)")
    out = Path(out_dir)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    ctx = init_distributed(device)
    device = local_device(device, ctx)
    if config.batch_size % ctx.world_size:
        raise ValueError(f"batch_size: {config.batch_size} does not split evenly over {ctx.world_size} processes")
    cuda = device.type == "cuda"
    model.to(device)
    if cuda and config.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    scheduler = plateau_annealer(optimizer, config.anneal_factor, config.anneal_patience)

    if resume:
        if not (out / CHECKPOINT).exists():
            raise FileNotFoundError(f"resume: no {CHECKPOINT} in {out} to resume from")
        state = load_checkpoint(out / CHECKPOINT, required=_REQUIRED)
        config.check_resumable(state["config"])
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, start = state["history"], state["epoch"] + 1
        rngs = state["rng"]
        # Exact continuation needs this rank's own generators; a different process count can only approximate.
        set_rng_state(rngs[ctx.rank] if len(rngs) == ctx.world_size else rngs[0])
    else:
        if (out / CHECKPOINT).exists():
            raise FileExistsError(f"out_dir: {out} already holds {CHECKPOINT}; pass resume=True (--resume) to continue "
                                  "it, or choose another folder")
        _seed(config.seed + 1000 * ctx.rank)  # dropout masks differ between ranks, as on one big batch
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
            optimizer.step()
            if config.clip_radius is not None:
                for name, n in clip_filter_rms_(model, config.clip_radius).items():
                    clipped[name] += n
            sums += torch.stack([loss.detach().double() * len(y), (scores.argmax(1) == y).sum().double(),
                                 torch.tensor(float(len(y)), dtype=torch.float64, device=device)])
            if on_step is not None:
                on_step(epoch, step)
        loss_sum, correct, n = all_sum(sums.tolist(), ctx, device)
        train_seconds = time.perf_counter() - t0
        val_loss, val_acc = evaluate(model, val_set, config.eval_batch_size, device, ctx) if val_set else (None, None)
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
            _write_json(history, out / HISTORY)
            _rotate_and_save(out, {"format": 1, "epoch": epoch, "model": model.state_dict(),
                                   "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                                   "rng": rngs, "config": config.to_dict(), "history": history})
            if config.progress:
                val = f" · val loss {val_loss:.4f} acc {val_acc:.3f}" if val_acc is not None else ""
                print(f"epoch {epoch}/{config.epochs} · lr {lr:.0e} · train loss {loss_sum / n:.4f} acc "
                      f"{correct / n:.3f}{val}" f" · {n / train_seconds:.0f} img/s", flush=True)
        barrier(ctx)
    if ctx.main:
        save_atomic({k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}, out / FINAL)
    barrier(ctx)
    return history


@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 256, device: str | torch.device | None = None,
             ctx: Distributed = Distributed()) -> tuple[float, float]:
    """Mean cross-entropy and top-1 accuracy of ``model`` on ``dataset`` (eval mode: no dropout).

    loss = (1/N) Σ_i −log softmax(f(x_i))_{y_i},  acc = (1/N) Σ_i [argmax f(x_i) = y_i]. Under DDP each rank takes
    every W-th image and the sums are all-reduced, so every rank returns the same numbers.
    """
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


def _seed(seed: int) -> None:
    import random

    import numpy as np
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


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


def _write_json(obj, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def _rotate_and_save(out: Path, state: dict) -> None:
    # The new checkpoint is fully written (to a temp file) before anything moves; then the old one becomes .prev.
    tmp = save_atomic(state, out / (CHECKPOINT + ".new"))
    if (out / CHECKPOINT).exists():
        os.replace(out / CHECKPOINT, out / PREVIOUS)
    os.replace(tmp, out / CHECKPOINT)
