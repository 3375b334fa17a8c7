"""``python -m zfcourse train``: train the course model (or ZFNet) on the embedded world by §3's recipe.

The shipped course model in ``data/course_model`` was made with exactly this command (see its MODEL_CARD.md). Under
``torchrun --nproc_per_node=N -m zfcourse train …`` every process runs this same code and takes 1/N of each batch.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from ..models import course_model
from .clipping import PAPER_RADIUS
from .config import TrainConfig
from .init import INITS, scaled_init_
from .loop import train

ARCHS = {"course": course_model}  # the embedded world is rendered at 112×112, the course model's input


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m zfcourse train`` (defaults: the paper's §3 values where they apply)."""
    p = argparse.ArgumentParser(prog="python -m zfcourse train",
                                description="Train on the embedded world with SGD, feature scale clipping and "
                                            "plateau annealing (Zeiler & Fergus 2014, §3).")
    p.add_argument("--out", required=True, help="output folder (checkpoints, history.json, snapshots/, model.pt)")
    p.add_argument("--arch", choices=sorted(ARCHS), default="course", help="model to train (the embedded world's 112 crops fit the course model)")
    p.add_argument("--init", choices=INITS, default="scaled",
                   help="paper: N(0, 0.01²) everywhere (§3); scaled: 0.01 for conv1/fc8, 1/√fan_in between "
                        "(default; see zfcourse.train.init for why)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--train-size", type=int, default=12_000, help="training images (default 12,000)")
    p.add_argument("--val-size", type=int, default=1_200, help="validation images (default 1,200)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--clip-radius", type=float, default=PAPER_RADIUS)
    p.add_argument("--no-clip", action="store_true", help="turn feature scale clipping off (Fig. 6a's comparison)")
    p.add_argument("--patience", type=int, default=2, help="epochs without a better val error before lr ×0.1")
    p.add_argument("--seed", type=int, default=0, help="seeds the model init, data order, crops and dropout")
    p.add_argument("--world-seed", type=int, default=0, help="seed of the embedded world's images")
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers")
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--no-bf16", action="store_true", help="no bfloat16 autocast on CUDA")
    p.add_argument("--no-channels-last", action="store_true", help="no channels_last on CUDA")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv=None) -> dict:
    """Parse ``argv``, build the datasets and model, train, and write ``run.json`` (command, machine, wall time)."""
    from ..data import NUM_CLASSES, EmbeddedDataset
    from ..environment import choose_device

    args = parser().parse_args(argv)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, momentum=args.momentum,
                         clip_radius=None if args.no_clip else args.clip_radius, anneal_patience=args.patience,
                         seed=args.seed, num_workers=args.workers, bf16=not args.no_bf16,
                         channels_last=not args.no_channels_last, progress=not args.quiet)
    device = torch.device(args.device) if args.device else choose_device(None)
    torch.manual_seed(args.seed)  # the model's §3 initialisation
    model = ARCHS[args.arch](num_classes=NUM_CLASSES)  # §3 init, N(0, 0.01²)
    if args.init == "scaled":
        scaled_init_(model)
    t0 = time.perf_counter()
    train_set = EmbeddedDataset("train", size=args.train_size, seed=args.world_seed, cache=True,
                                progress=not args.quiet)
    val_set = EmbeddedDataset("val", size=args.val_size, seed=args.world_seed, cache=True, progress=not args.quiet)
    render_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    history = train(model, train_set, val_set, args.out, config, resume=args.resume, device=device)
    wall = time.perf_counter() - t0
    run = {"command": "python -m zfcourse train " + " ".join(argv if argv is not None else sys.argv[1:]),
           "torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
           "device": str(device), "cpu_threads": torch.get_num_threads(),
           "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
           "render_seconds": round(render_s, 1), "train_seconds_this_call": round(wall, 1),
           "train_seconds_total": round(sum(history["seconds"]), 1),
           "final_train_acc": history["train_acc"][-1], "final_val_acc": history["val_acc"][-1],
           "epochs": len(history["epoch"])}
    out = Path(args.out)
    if out.exists() and int(os.environ.get("RANK", "0")) == 0:  # under torchrun only rank 0 writes
        (out / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    return run
