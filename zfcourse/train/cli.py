"""``python -m zfcourse train``: train the course model, ZFNet or the Krizhevsky baseline on the embedded world by §3.

``--arch course`` (default) is Fig. 3 at a quarter of the width on 168×168 crops; ``--arch zfnet`` is Fig. 3 itself and
``--arch krizhevsky`` the §4.1 baseline, both at ``--width`` (1.0 = the paper's) — on a CPU use a small width
(``--arch krizhevsky --width 0.25 --fc-units 512`` is the baseline at the course model's size). The embedded world's
crops are 168×168; another ``--input-size`` resizes them (bilinear) to that side. ``--table3-row NAME`` trains a row
of Table 3 (§5.1, :data:`zfcourse.models.TABLE3_ROWS`) at the course model's scale instead; the row fixes the model, so
``--arch``, ``--width``, ``--fc-units`` and ``--input-size`` are refused beside it. Its base rows ``zf`` and
``krizhevsky`` build the same weights as ``--arch course`` and the baseline command above at the same ``--seed``.

The shipped course model in ``data/course_model`` was made with this command (see its MODEL_CARD.md). Under
``torchrun --nproc_per_node=N -m zfcourse train …`` every process runs this same code and takes 1/N of each batch.

``run.json`` in the output folder records the command, the settings and (when the run ends) the machine and times.
``--resume`` compares the data, model and schedule settings with it and refuses a mismatch, naming the option; a new
run into a folder that holds a run is refused unless ``--overwrite``. Ctrl-C stops with one line saying how to resume.
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..data import NUM_CLASSES, PALETTES, WORLD_CROP, WorldDataset
from ..models import ablated, course_model, krizhevsky, table3_configs, zfnet
from ..models.zfnet import COURSE_FC_UNITS, COURSE_WIDTH
from .clipping import PAPER_RADIUS
from .init import INITS, scaled_init_
from .loop import CHECKPOINT, LEGACY_NEW, PREVIOUS, RUN, TrainConfig, prepare_out_dir, train, write_json

ARCHS = ("course", "zfnet", "krizhevsky")
EMBEDDED_CROP = WORLD_CROP  # the embedded world's crops (its renders are 192×192)
# The options that fix what a run computes (data, model, schedule): --resume must repeat them.
SETTINGS = ("arch", "width", "fc_units", "input_size", "init", "train_size", "val_size", "world_seed", "palette",
            "seed", "batch_size", "lr", "momentum", "clip_radius", "no_clip", "patience", "table3_row",
            "inject_heldout", "warmup_steps")
# Table 3's rows (§5.1) at the course model's scale: width 0.25, fc 512 before the row's change, the world's crop side.
TABLE3 = {r.name: r for r in table3_configs(COURSE_WIDTH, COURSE_FC_UNITS, EMBEDDED_CROP, NUM_CLASSES)}
ROW_FIXES = ("arch", "width", "fc_units", "input_size")  # the options a --table3-row sets itself


class _Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows each option's default, except where there is none to show (None, or an off switch)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m zfcourse train`` (defaults: the paper's §3 values where they apply)."""
    p = argparse.ArgumentParser(prog="python -m zfcourse train", formatter_class=_Defaults,
                                description="Train on the embedded world with SGD, feature scale clipping and "
                                            "plateau annealing (Zeiler & Fergus 2014, §3).")
    p.add_argument("--out", required=True,
                   help="output folder (checkpoints, history.json, snapshots/, model.pt, run.json)")
    p.add_argument("--arch", choices=ARCHS, default="course",
                   help="course: Fig. 3 at width 0.25 on 168² (CPU-sized); zfnet: Fig. 3; krizhevsky: §4.1's baseline")
    p.add_argument("--width", type=float, default=None,
                   help="zfnet/krizhevsky: multiplier of every layer's maps and units (1.0 = the paper's; "
                        "default 1.0). "
                        f"The course model's width is fixed at {COURSE_WIDTH}")
    p.add_argument("--fc-units", type=int, default=None,
                   help="units of fc6 and fc7 (default: 512 for the course model, 4096 × --width otherwise); "
                        "--arch krizhevsky --width 0.25 --fc-units 512 is §4.1's baseline at the course model's size")
    p.add_argument("--input-size", type=int, default=None,
                   help=f"the model's input side (default: the world's crop side, {EMBEDDED_CROP}); "
                        "the world's crops are resized to it")
    p.add_argument("--init", choices=INITS, default="scaled",
                   help="paper: N(0, 0.01²) everywhere (§3); scaled: 0.01 for conv1/fc8, 1/√fan_in between "
                        "(see zfcourse.train.init for why)")
    p.add_argument("--epochs", type=int, default=40, help="passes over the training set (70 in the paper)")
    p.add_argument("--train-size", type=int, default=42_000, help="training images (1,000 per class)")
    p.add_argument("--val-size", type=int, default=4_200, help="validation images (100 per class)")
    p.add_argument("--batch-size", type=int, default=128, help="global mini-batch (§3: 128)")
    p.add_argument("--lr", type=float, default=1e-2, help="initial learning rate (§3: 10⁻²)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (§3: 0.9)")
    p.add_argument("--clip-radius", type=float, default=PAPER_RADIUS, help="feature scale clipping radius (§3: 0.1)")
    p.add_argument("--no-clip", action="store_true", help="turn feature scale clipping off (Fig. 6a's comparison)")
    p.add_argument("--patience", type=int, default=4, help="epochs without a better val error before lr ×0.1")
    p.add_argument("--warmup-steps", type=int, default=0, metavar="N",
                   help="raise the lr linearly over the first N updates (not in the paper; 0: none)")
    p.add_argument("--seed", type=int, default=0, help="seeds the model init, data order, crops and dropout")
    p.add_argument("--world-seed", type=int, default=0, help="seed of the embedded world's images")
    p.add_argument("--palette", choices=PALETTES, default="shared",
                   help="the world's colours: shared by every class (as designed) or per class (the colour shortcut "
                        "of the course's first world, for the exercise in the training chapter)")
    p.add_argument("--table3-row", choices=TABLE3, default=None, metavar="ROW",
                   help="train this row of Table 3 (§5.1) instead of --arch: the row sets the model, at the course "
                        "model's scale (the paper's widths × 0.25, fc 512 for its 4096). Rows, with the paper's "
                        "labels: " + "; ".join(f"{n}: {r.label}" for n, r in TABLE3.items()))
    p.add_argument("--inject-heldout", type=int, default=0, metavar="N",
                   help="append the first N renders of the held-out classes to the training set, each labelled with "
                        "a pre-training class of its family: the overlap control of §5.2 (a few transfer images "
                        "inside the pre-training set), made on purpose")
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers")
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--no-bf16", action="store_true", help="no bfloat16 autocast on CUDA")
    p.add_argument("--no-channels-last", action="store_true", help="no channels_last on CUDA")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its newest complete checkpoint")
    p.add_argument("--overwrite", action="store_true", help="start afresh in an --out that holds a run, deleting it")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def build_model(arch: str, num_classes: int, width: float | None = None, input_size: int = EMBEDDED_CROP,
                fc_units: int | None = None):
    """The model ``--arch`` names, at ``width`` (zfnet/krizhevsky), ``fc_units`` (fc6/fc7; None: the builder's
    default) and ``input_size``, §3-initialised."""
    if arch not in ARCHS:
        raise ValueError(f"arch: expected one of {ARCHS}, got {arch!r}")
    if fc_units is not None and fc_units < 1:
        raise ValueError(f"--fc-units: expected a positive number of units, got {fc_units}")
    kw = {} if fc_units is None else {"fc_units": int(fc_units)}
    if arch == "course":
        if width is not None and width != COURSE_WIDTH:
            raise ValueError(f"--width: the course model's width is fixed at {COURSE_WIDTH}; use --arch zfnet "
                             f"--width {width} for another width")
        return course_model(num_classes=num_classes, input_size=input_size, **kw)
    make = zfnet if arch == "zfnet" else krizhevsky
    return make(num_classes=num_classes, width=1.0 if width is None else width, input_size=input_size, **kw)


class Resized(Dataset):
    """A dataset whose (3, s, s) images are resized (bilinear) to (3, size, size) — the embedded world's 168² crops
    for a model with another input side. Epoch-dependent crops pass through ``set_epoch``."""

    def __init__(self, dataset, size: int):
        self.dataset, self.size = dataset, int(size)

    def __len__(self):
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)

    def __getitem__(self, i):
        x, y = self.dataset[i]
        return F.interpolate(x[None], size=(self.size, self.size), mode="bilinear", align_corners=False)[0], y


def given(argv: list[str]) -> set[str]:
    """The options written in ``argv`` (as their dests), whatever their values: ``--arch course`` is there, the default
    is not."""
    p = parser()
    for action in p._actions:
        action.default = argparse.SUPPRESS
    return set(vars(p.parse_args(argv)))


def check_table3_row(args: argparse.Namespace, argv: list[str]) -> None:
    """Refuse ``--table3-row`` beside an option that sets the model (:data:`ROW_FIXES`), naming both."""
    if args.table3_row is None:
        return
    clash = [f"--{k.replace('_', '-')}" for k in ROW_FIXES if k in given(argv)]
    if clash:
        raise ValueError(f"--table3-row: row {args.table3_row!r} sets the model itself (Table 3 at the course model's "
                         f"scale) and cannot be combined with {', '.join(clash)}; drop {', '.join(clash)}")


def settings(args: argparse.Namespace) -> dict:
    """The options of ``args`` that fix what the run computes (:data:`SETTINGS`), as saved in run.json (``width``
    resolved to the value the model is built with; for a ``--table3-row`` the row's arch, width, fc units and side)."""
    out = {k: getattr(args, k) for k in SETTINGS}
    if out["table3_row"] is not None:
        row = TABLE3[out["table3_row"]].kwargs
        out.update(arch="course" if row["base"] == "zf" else row["base"], width=row["width"],
                   fc_units=row["fc_width"], input_size=row["input_size"])
    if out["input_size"] is None:
        out["input_size"] = EMBEDDED_CROP
    if out["width"] is None:
        out["width"] = COURSE_WIDTH if args.arch == "course" else 1.0
    if out["fc_units"] is None:
        out["fc_units"] = COURSE_FC_UNITS if args.arch == "course" else max(1, round(4096 * out["width"]))
    return out


def saved_settings(run: dict) -> dict | None:
    """The settings a run.json records: its ``settings``, else (run.json of an earlier version) those parsed back
    from its ``command``; None when neither can be read."""
    if isinstance(run.get("settings"), dict):
        return run["settings"]
    words = shlex.split(run.get("command", ""))
    if words[:4] != ["python", "-m", "zfcourse", "train"]:
        return None
    try:
        return settings(parser().parse_args(words[4:]))
    except SystemExit:
        return None


def check_resume(out: Path, args: argparse.Namespace) -> None:
    """Refuse ``--resume`` when ``out`` holds no checkpoint (before the minutes of rendering the world), or when an
    option in :data:`SETTINGS` differs from the run's run.json (naming the option)."""
    import json

    if not any((out / name).is_file() for name in (CHECKPOINT, LEGACY_NEW, PREVIOUS)):
        raise FileNotFoundError(f"--resume: no {CHECKPOINT} in {out} to resume from; start the run without --resume")
    path = out / RUN
    if not path.is_file():
        return  # nothing recorded (an interrupted run of an earlier version): the checkpoint's own check remains
    try:
        saved = saved_settings(json.loads(path.read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"--resume: {path} is not readable JSON ({err}); fix or delete it to resume") from err
    if saved is None:
        return
    now = settings(args)
    for key in SETTINGS:
        if key in saved and saved[key] != now[key]:
            flag = "--" + key.replace("_", "-")
            raise ValueError(f"{flag}: the run in {out} was made with {flag} {saved[key]!r}, now {now[key]!r}; resume "
                             "with the same value, or start a new run (another --out, or --overwrite)")


def main(argv=None) -> dict:
    """Parse ``argv``, build the datasets and model, train, and write ``run.json`` (command, settings, machine, time).

    Ctrl-C prints one line saying how to resume, then re-raises KeyboardInterrupt (``python -m zfcourse`` turns it
    into exit status 130 without a traceback)."""
    from ..environment import choose_device, seed_everything

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    crop = EMBEDDED_CROP
    if args.input_size is None:
        args.input_size = crop
    if args.resume and args.overwrite:
        raise ValueError("--overwrite: cannot be combined with --resume; choose one")
    check_table3_row(args, argv)
    if args.input_size < 1:
        raise ValueError(f"--input-size: expected a positive side in pixels, got {args.input_size}")
    if args.inject_heldout < 0:
        raise ValueError(f"--inject-heldout: expected a number of held-out renders >= 0, got {args.inject_heldout}")
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, momentum=args.momentum,
                         clip_radius=None if args.no_clip else args.clip_radius, anneal_patience=args.patience,
                         warmup_steps=args.warmup_steps,
                         seed=args.seed, num_workers=args.workers, bf16=not args.no_bf16,
                         channels_last=not args.no_channels_last, progress=not args.quiet)
    out = Path(args.out)
    main_rank = int(os.environ.get("RANK", "0")) == 0  # under torchrun only rank 0 writes
    prepare_out_dir(out, resume=args.resume, overwrite=args.overwrite, main=main_rank)
    if args.resume:
        check_resume(out, args)
    device = torch.device(args.device) if args.device else choose_device(None)
    seed_everything(args.seed)  # the model's §3 initialisation (torch's generator, as for every run so far)
    if args.table3_row is not None:
        model = ablated(**TABLE3[args.table3_row].kwargs)
    else:
        model = build_model(args.arch, NUM_CLASSES, args.width, args.input_size, args.fc_units)
    if args.init == "scaled":
        scaled_init_(model)
    command = "python -m zfcourse train " + " ".join(shlex.quote(a) for a in argv)
    run = {"command": command, "settings": settings(args)}
    if main_rank and not args.resume:
        out.mkdir(parents=True, exist_ok=True)
        write_json(run, out / RUN)
    t0 = time.perf_counter()
    train_set = WorldDataset("train", size=args.train_size, seed=args.world_seed, cache=True, progress=not args.quiet,
                             palette=args.palette, inject_heldout=args.inject_heldout)
    val_set = WorldDataset("val", size=args.val_size, seed=args.world_seed, cache=True, progress=not args.quiet,
                           palette=args.palette)
    if args.input_size != crop:
        train_set, val_set = Resized(train_set, args.input_size), Resized(val_set, args.input_size)
    render_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        history = train(model, train_set, val_set, out, config, resume=args.resume, device=device)
    except KeyboardInterrupt:
        if main_rank:
            again = [a for a in argv if a not in ("--overwrite", "--resume")] + ["--resume"]
            print(f"\nInterrupted. Completed epochs are saved in {out}; continue with: python -m zfcourse train "
                  f"{' '.join(shlex.quote(a) for a in again)}", file=sys.stderr, flush=True)
        raise
    wall = time.perf_counter() - t0
    run.update({"torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
                "device": str(device), "cpu_threads": torch.get_num_threads(),
                "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
                "render_seconds": round(render_s, 1), "train_seconds_this_call": round(wall, 1),
                "train_seconds_total": round(sum(history["seconds"]), 1),
                "final_train_acc": history["train_acc"][-1], "final_val_acc": history["val_acc"][-1],
                "epochs": len(history["epoch"])})
    if main_rank:
        if args.resume and (out / RUN).is_file():  # keep the original command and settings, record this call too
            import json
            first = json.loads((out / RUN).read_text())
            run["command"], run["settings"] = first.get("command", command), first.get("settings", run["settings"])
            run["resumed_with"] = first.get("resumed_with", []) + [command]
        write_json(run, out / RUN)
    return run
