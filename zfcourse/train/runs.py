"""Finished training runs on disk: "load it if it exists, else train it" for the runs the chapters show.

Fig. 6a compares the shipped course model (``data/course_model``, trained with feature scale clipping) with a run
trained the same way *without* clipping, shipped in ``data/course_model_noclip`` as its ``history.json`` (per-epoch
filter RMS), ``run.json`` and the final conv weights (``snapshots/epoch_NNN.pt``). Made by

    python -m zfcourse train --out data/course_model_noclip --no-clip --epochs 10 --seed 0 --quiet

When a folder is missing, :func:`noclip_run` trains into ``cache/`` instead: that command in full mode, a two-epoch
stand-in on 1,200 images in quick mode.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from ..environment import DATA_DIR, REPO_ROOT
from .checkpoint import load_checkpoint
from .snapshots import list_snapshots

NOCLIP_ARGS = ["--no-clip", "--epochs", "10", "--seed", "0"]
QUICK_ARGS = ["--epochs", "2", "--train-size", "1200", "--val-size", "240"]


def load_history(folder) -> dict:
    """``folder/history.json`` as a dict (FileNotFoundError naming the folder when it is missing)."""
    path = Path(folder) / "history.json"
    if not path.is_file():
        raise FileNotFoundError(f"folder: no history.json in {folder}")
    return json.loads(path.read_text())


def final_conv(folder, epoch: int | None = None) -> dict[str, torch.Tensor]:
    """The conv weights of the run in ``folder`` after ``epoch`` (its snapshot, float16 → float32); by default at the
    end of the run: the last snapshot, else model.pt."""
    snaps = list_snapshots(folder)
    if epoch is not None and epoch not in snaps:
        raise KeyError(f"epoch: no snapshot of epoch {epoch} in {folder}; saved: {sorted(snaps)}")
    if snaps:
        snap = load_checkpoint(snaps[max(snaps) if epoch is None else epoch], required=("conv",))
        return {k: v.float() for k, v in snap["conv"].items()}
    path = Path(folder) / "model.pt"
    if not path.is_file():
        raise FileNotFoundError(f"folder: neither snapshots/ nor model.pt in {folder}")
    return {k: v.float() for k, v in load_checkpoint(path).items() if ".conv" in k}


def noclip_run(cfg=None) -> Path:
    """The folder of the no-clipping run: ``data/course_model_noclip`` when shipped, else trained into
    ``cache/course_model_noclip`` (quick mode: a two-epoch stand-in; full: :data:`NOCLIP_ARGS`)."""
    data = Path(cfg.data_dir) if cfg is not None else DATA_DIR
    shipped = data / "course_model_noclip"
    if (shipped / "history.json").is_file():
        return shipped
    return train_if_missing(REPO_ROOT / "cache" / "course_model_noclip", NOCLIP_ARGS, cfg, "no-clipping run")


def train_if_missing(out: Path, args: list[str], cfg=None, label: str = "run") -> Path:
    """"Load it if it exists, else train it": run ``python -m zfcourse train --out out`` with ``args`` unless
    ``out/model.pt`` exists (resuming a run that was cut off), and return ``out``. In quick mode (or with no ``cfg``)
    :data:`QUICK_ARGS` shrink it to a two-epoch stand-in on 1,200 images; ``cfg.device`` is used when given."""
    if not (out / "model.pt").is_file():
        from .cli import main

        quick = cfg is None or cfg.quick
        cli_args = ["--out", str(out), "--quiet"] + list(args) + (QUICK_ARGS if quick else [])
        cli_args += ["--device", str(cfg.device)] if cfg is not None else []
        print(f"No shipped {label}: training {'a quick stand-in' if quick else 'it'} into {out} …")
        main(cli_args + (["--resume"] if (out / "checkpoint.pt").exists() else []))
    return out
