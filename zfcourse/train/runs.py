"""Finished training runs on disk: the runs the chapters show, shipped with the course's data or trained on request.

Fig. 6a compares the shipped course model (``course_model/``, trained with feature scale clipping) with a run trained
the same way *without* clipping, shipped in ``course_model_noclip/`` as its ``history.json`` (per-epoch filter RMS),
``run.json`` and the final conv weights (``snapshots/epoch_NNN.pt``). Made by

    python -m zfcourse train --out data/course_model_noclip --no-clip --epochs 11 --seed 0 --quiet

(the first eleven epochs of the shipped model's recipe, clipping off: epoch 11 is one of the shipped run's snapshots).

Both live in the course's data folder (:func:`zfcourse.environment.find_data`). When it is missing nothing is trained
behind the reader's back: :func:`noclip_run` raises :class:`~zfcourse.environment.DataNotFoundError` saying what to do,
and only with ``train_if_missing=True`` trains a stand-in into the per-user cache — after printing what it will train
and about how long that takes (measured on this machine), with progress bars while it runs.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from ..environment import DataNotFoundError, cache_dir, data_dir, missing_data_message
from .checkpoint import load_checkpoint, verify_file
from .snapshots import list_snapshots

NOCLIP_ARGS = ["--no-clip", "--seed", "0"]
QUICK_ARGS = ["--epochs", "2", "--train-size", "840", "--val-size", "420"]


def load_history(folder) -> dict:
    """``folder/history.json`` as a dict (FileNotFoundError naming the folder when it is missing; checked against the
    folder's manifest when it has one)."""
    path = Path(folder) / "history.json"
    if not path.is_file():
        raise FileNotFoundError(f"folder: no history.json in {folder}")
    verify_file(path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"folder: {path} is not a readable history.json ({err})") from err


def final_conv(folder, epoch: int | None = None) -> dict[str, torch.Tensor]:
    """The conv weights of the run in ``folder`` after ``epoch``: its snapshot (float16 → float32), or model.pt when
    ``epoch`` is the run's last (the length of its history.json); by default at the end of the run: the last
    snapshot, else model.pt."""
    snaps = list_snapshots(folder)
    model_pt = Path(folder) / "model.pt"
    if epoch is not None and epoch not in snaps:
        history = Path(folder) / "history.json"
        last = len(load_history(folder)["epoch"]) if history.is_file() else None
        if epoch != last or not model_pt.is_file():
            raise KeyError(f"epoch: no snapshot of epoch {epoch} in {folder} and it is not the run's last epoch "
                           f"({last}) with a model.pt; saved snapshots: {sorted(snaps)}")
        snaps = {}  # the run's last epoch: model.pt
    if snaps:
        snap = load_checkpoint(snaps[max(snaps) if epoch is None else epoch], required=("conv",))
        return {k: v.float() for k, v in snap["conv"].items()}
    if not model_pt.is_file():
        raise FileNotFoundError(f"folder: neither snapshots/ nor model.pt in {folder}")
    return {k: v.float() for k, v in load_checkpoint(model_pt).items() if ".conv" in k}


def noclip_run(cfg=None, train_if_missing: bool = False) -> Path:
    """The folder of the no-clipping run: ``course_model_noclip/`` in the course's data; else, with
    ``train_if_missing``, a stand-in trained into ``<cache>/course_model_noclip`` (quick mode: two epochs;
    full: :data:`NOCLIP_ARGS`).

    Raises:
        DataNotFoundError: the run is not shipped here and ``train_if_missing`` is False (the message says what to do).
    """
    shipped = (Path(cfg.data_dir) if cfg is not None else data_dir()) / "course_model_noclip"
    if (shipped / "history.json").is_file():
        return shipped
    out = cache_dir() / "course_model_noclip"
    if not train_if_missing:
        raise DataNotFoundError(missing_data_message("the no-clipping run (course_model_noclip)",
                                                    missing="course_model_noclip/history.json") +
                                f" Or pass train_if_missing=True to train a stand-in into {out}.")
    return train_stand_in(out, NOCLIP_ARGS, cfg, "no-clipping run")


def estimate_seconds(cli_args: list[str], device=None, probe_steps: int = 2) -> tuple[float, str]:
    """About how long ``python -m zfcourse train`` with ``cli_args`` takes here, measured, and how it was measured:
    (seconds, text). Times ``probe_steps`` training steps of the model on one random batch (after one warm-up step)
    and the rendering of 8 images, then scales by the run's epochs × images (validation counted at a third of a
    training image: a forward pass only)."""
    import torch.nn.functional as F

    from ..data import NUM_CLASSES, WorldDataset
    from ..environment import choose_device
    from ..models.ablation import ablated
    from .cli import EMBEDDED_CROP, TABLE3, build_model, parser

    args = parser().parse_args(["--out", "unused"] + list(cli_args))
    if args.input_size is None:
        args.input_size = EMBEDDED_CROP
    dev = torch.device(device) if device is not None else choose_device(args.device)
    if args.table3_row is not None:  # the row fixes the model (and its input side)
        row = TABLE3[args.table3_row].kwargs
        args.input_size = row["input_size"]
        model = ablated(**row)
    else:
        model = build_model(args.arch, NUM_CLASSES, args.width, args.input_size, args.fc_units)
    model = model.to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    x = torch.randn(args.batch_size, 3, args.input_size, args.input_size, device=dev)
    y = torch.randint(0, NUM_CLASSES, (args.batch_size,), device=dev)
    for i in range(probe_steps + 1):
        if i == 1:
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            t0 = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    per_image = (time.perf_counter() - t0) / (probe_steps * args.batch_size)
    probe = WorldDataset("train", size=8, seed=args.world_seed, progress=False)
    t0 = time.perf_counter()
    for i in range(len(probe)):
        probe[i]
    per_render = (time.perf_counter() - t0) / len(probe)
    seconds = (args.epochs * (args.train_size + args.val_size / 3) * per_image
               + (args.train_size + args.val_size) * per_render)
    how = (f"{args.epochs} epochs × {args.train_size:,} images on {dev}; measured here: {per_image * 1e3:.1f} ms per "
           f"training image, {per_render * 1e3:.1f} ms per rendered image")
    return seconds, how


def train_stand_in(out: Path, args: list[str], cfg=None, label: str = "run") -> Path:
    """Train ``python -m zfcourse train --out out`` with ``args`` unless ``out/model.pt`` exists, and return ``out``:
    resumes a run that was cut off, and says before it starts what it trains and about how long that takes here.
    In quick mode (or with no ``cfg``) :data:`QUICK_ARGS` shrink it to a two-epoch stand-in on 1,200 images."""
    from .cli import main
    from .loop import CHECKPOINT, LEGACY_NEW, PREVIOUS

    out = Path(out)
    if (out / "model.pt").is_file():
        print(f"zfcourse: using the stand-in {label} trained earlier into {out} (not the shipped one)")
        return out
    quick = cfg is None or cfg.quick
    cli_args = ["--out", str(out)] + list(args) + (QUICK_ARGS if quick else [])
    cli_args += ["--device", str(cfg.device)] if cfg is not None else []
    seconds, how = estimate_seconds(cli_args[2:])
    print(f"zfcourse: no shipped {label}: training {'a quick stand-in' if quick else 'a stand-in by the full recipe'} "
          f"into {out} — about {_duration(seconds)} ({how}). Ctrl-C stops it; running this again resumes.", flush=True)
    can_resume = any((out / n).is_file() for n in (CHECKPOINT, PREVIOUS, LEGACY_NEW))
    main(cli_args + (["--resume"] if can_resume else ["--overwrite"]))  # the cache folder is ours to overwrite
    return out


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
