"""Conv-layer snapshots for Fig. 4 ("evolution of a randomly chosen subset of model features through training").

At each of Fig. 4's epochs (scaled to the run, :func:`~zfcourse.train.snapshot_epochs`) the weights and
biases of every conv layer are saved in float16 — what the deconvnet needs to project features, at a quarter of a
full checkpoint's size (no fc layers, no optimiser state). float16 keeps ~3 significant digits, far below the
visual resolution of a projection.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from .checkpoint import load_checkpoint, save_atomic


def snapshot_path(out_dir: str | os.PathLike, epoch: int) -> Path:
    """``out_dir/snapshots/epoch_NNN.pt``."""
    return Path(out_dir) / "snapshots" / f"epoch_{epoch:03d}.pt"


def conv_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The conv layers' parameters (``features.convK.weight``/``.bias``) from the model's state dict, float16, CPU."""
    model = getattr(model, "module", model)
    convs = {name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    return {k: v.detach().half().cpu().contiguous() for k, v in model.state_dict().items()
            if k.rsplit(".", 1)[0] in convs}


def save_snapshot(model: nn.Module, epoch: int, out_dir: str | os.PathLike) -> Path:
    """Atomically write ``{"epoch": epoch, "conv": conv_state(model)}`` to :func:`snapshot_path`."""
    return save_atomic({"epoch": int(epoch), "conv": conv_state(model)}, snapshot_path(out_dir, epoch))


def list_snapshots(out_dir: str | os.PathLike) -> dict[int, Path]:
    """{epoch: path} of the snapshots saved under ``out_dir``, in epoch order."""
    files = sorted((Path(out_dir) / "snapshots").glob("epoch_*.pt"))
    return {int(p.stem.split("_")[1]): p for p in files}


def load_snapshot(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Copy a snapshot's conv weights into ``model`` (converted to its dtype) and return the model. Other layers
    (fc6–fc8) keep whatever they had — Fig. 4 only projects conv features."""
    snap = load_checkpoint(path, required=("epoch", "conv"))
    missing = set(snap["conv"]) - set(model.state_dict())
    if missing:
        raise KeyError(f"path: snapshot {path} has conv parameters the model lacks: {sorted(missing)}")
    model.load_state_dict(snap["conv"], strict=False)
    return model
