"""Finished training runs as small result files: the numbers of Tables 2 and 3 (§5.1) without the models.

Table 2 of Zeiler & Fergus (2014) gives, per model, the top-1 and top-5 error on the validation set, for single
models and for averages of several; Table 3 adds the *training* top-1 error, for models with layers removed or
resized. A run of ``python -m zfcourse train`` leaves a folder (``model.pt``, ``run.json``, ``history.json``) of
several MB; twelve rows and their extra seeds would not fit the course's data folder. :func:`evaluate_run` turns such
a folder into a JSON file of a few kB and an ``.npz`` of the per-image validation softmax (float16, a few hundred kB)
beside it, from which every number of both tables — ensembles included — is computed later without the model.

What is measured, with f the trained model in eval mode (dropout off) and softmax probabilities p:

* **val error, centre crop** — the 168×168 centre of each 192×192 validation render (4,200 images, 100 per class):
  top-k error = (1/N) Σ_i [y_i ∉ the k classes of largest p(c | x_i)], k = 1, 5.
* **val error, ten crops** (§3: "corners + center with(out) horizontal flips"):
  p(c | x) = (1/10) Σ_k softmax(f(crop_k(x)))_c, then the same top-k error. The centre crop is crop 4 of the ten
  (:func:`zfcourse.data.ten_crop`'s order), so one pass gives both.
* **train top-1 error** — Table 3's first column: the centre crop of the first :data:`TRAIN_SUBSET` training renders
  (items 0–4,199, 100 per class), eval mode. It is *not* the ``train_acc`` of ``history.json``, which is a running
  average during the epoch with dropout on and random crops.
* **the run's history** — validation accuracy after every epoch (the centre crop on the same 4,200 images); the
  final epoch and the mean of the last five are both reported, because with an lr that is never annealed single
  epochs swing by several points.
* **ensembles** (Table 2's "5 convnets"): :func:`ensemble_errors` averages the cached softmaxes of several results,
  p = (1/M) Σ_m p_m, exactly as :func:`zfcourse.transfer.ensemble_softmax` does with the models.

What the tables support is decided against the spread over seeds: :func:`compare_rows` checks one of §5.1's
conclusions (:data:`TABLE3_CHECKS`) as a difference of two rows, :func:`ensemble_gain` Table 2's gain from averaging
seeds, :func:`claim_verdict` turns the statuses of a claim's checks into the scorecard's verdict.

Command line: ``python -m zfcourse evaluate RUN_DIR --out data/table3/<name>.json`` (``--help`` for the options).
"""
from __future__ import annotations

import io
import json
import math
import os
import platform
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..models.modes import evaluating
from .checkpoint import load_checkpoint
from .loop import FINAL, HISTORY, RUN, write_json

FORMAT = 1
TRAIN_SUBSET = 4_200                # training renders 0..4199 (100 per class) for Table 3's train error
CENTRE = 4                          # index of the centre crop among the ten (zfcourse.data.ten_crop_boxes order)
LAST = 5                            # epochs averaged at the end of a run
# Table 3's recipe: 40 epochs over 42,000 renders at a constant learning rate of 3·10⁻³ (the plateau rule cannot
# fire within 40 epochs). At the shipped models' 10⁻² every row lost almost all of its conv5 units in its first 100
# updates, and the row without layers 3, 4, 6, 7 lost all of them for good (bench/table3.md), so every row — the
# base rows too — is trained at 3·10⁻³. Table 2 compares the shipped models, trained with COURSE_RECIPE (10⁻²; their
# plateau rule never fired either), and their extra seeds.
RECIPE = ["--epochs", "40", "--train-size", "42000", "--val-size", "4200", "--patience", "1000", "--lr", "0.003"]
COURSE_RECIPE = ["--epochs", "40", "--train-size", "42000", "--val-size", "4200", "--patience", "1000"]
TABLE3_LR = float(RECIPE[RECIPE.index("--lr") + 1])


# ----------------------------------------------------------------------------------------------------------------
# The run folder
# ----------------------------------------------------------------------------------------------------------------

def read_run(run_dir) -> tuple[dict, dict, Path]:
    """(run.json, history.json, path of model.pt) of a finished run, or an error naming the missing/broken file."""
    folder = Path(run_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"run_dir: no folder {folder}")
    found = {}
    for name in (RUN, HISTORY):
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"run_dir: {path} is missing; a finished `python -m zfcourse train` run folder "
                                    f"holds {RUN}, {HISTORY} and {FINAL}")
        try:
            found[name] = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"run_dir: {path} is not readable JSON ({err})") from err
    model_pt = folder / FINAL
    if not model_pt.is_file():
        epochs = len(found[HISTORY].get("epoch", []))
        raise FileNotFoundError(f"run_dir: {model_pt} is missing — the run has not finished (its history has "
                                f"{epochs} epochs); evaluate it when `python -m zfcourse train` has written {FINAL}")
    run, history = found[RUN], found[HISTORY]
    if not isinstance(run.get("settings"), dict) and "command" not in run:
        raise ValueError(f"run_dir: {folder / RUN} records neither settings nor the command; cannot rebuild the model")
    if not history.get("val_acc"):
        raise ValueError(f"run_dir: {folder / HISTORY} holds no val_acc per epoch")
    return run, history, model_pt


def run_settings(run: dict) -> dict:
    """The settings that fix the run's model and data (``run.json``'s ``settings``, else parsed from its command)."""
    from .cli import saved_settings

    settings = saved_settings(run)
    if settings is None:
        raise ValueError("run: run.json records no settings and its command is not a `python -m zfcourse train` line")
    return settings


def row_of(settings: dict) -> str | None:
    """The Table 3 row a run trained: its ``table3_row``, or ``zf`` / ``krizhevsky`` for the course model and the
    baseline at the course model's size (the same weights, see ``python -m zfcourse train --help``); else None."""
    if settings.get("table3_row"):
        return settings["table3_row"]
    size = (settings.get("width"), settings.get("fc_units"), settings.get("input_size", 168))
    if settings.get("arch") == "course" and size[1:] == (512, 168):
        return "zf"
    if settings.get("arch") == "krizhevsky" and size == (0.25, 512, 168):
        return "krizhevsky"
    return None


def model_of(settings: dict) -> nn.Module:
    """The untrained model a run's settings build (a Table 3 row, or ``--arch`` at its width and fc units)."""
    from ..data import NUM_CLASSES
    from ..models import ablated
    from .cli import TABLE3, build_model

    if settings.get("table3_row"):
        return ablated(**TABLE3[settings["table3_row"]].kwargs)
    return build_model(settings["arch"], NUM_CLASSES, settings.get("width"), settings.get("input_size", 168),
                       settings.get("fc_units"))


def load_run_model(run_dir, device="cpu") -> nn.Module:
    """The trained model of a finished run folder, in eval mode (weights checked: manifest, finite values)."""
    run, _, model_pt = read_run(run_dir)
    model = model_of(run_settings(run))
    state = load_checkpoint(model_pt)
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()})
    except RuntimeError as err:
        raise ValueError(f"run_dir: {model_pt} does not fit the model its run.json describes "
                         f"({str(err).splitlines()[0]})") from err
    return model.to(device).eval()


# ----------------------------------------------------------------------------------------------------------------
# Softmax over crops
# ----------------------------------------------------------------------------------------------------------------

@torch.no_grad()
def crop_softmax(model: nn.Module, images, crop: int, ten_crops: bool = True, preprocess=None, batch_size: int = 25,
                 device=None, progress: bool = True) -> torch.Tensor:
    """softmax(f(crop_k(x))) for every image x and crop k: (N, K, C) float32 on the CPU, K = 10 (§3's crops in
    :func:`zfcourse.data.ten_crop`'s order; ``[:, 4]`` is the centre crop) or K = 1 (centre crop only).

    ``.mean(1)`` is §3's ten-crop prediction, the same as :func:`zfcourse.transfer.ten_crop_softmax`; computing the
    crops once gives the centre and the ten-crop numbers from one pass.

    Args:
        model: maps (B, 3, crop, crop) to C scores; run in eval mode (restored afterwards).
        images: (N, 3, S, S) input-space images, or anything ``preprocess`` maps batch by batch to those (the world's
            uint8 renders (N, 192, 192, 3)), or a map-style Dataset / unshuffled DataLoader of (image, label) items.
        crop: the crop side (168 for the embedded world, 224 for ImageNet).
        preprocess: applied to each batch of ``images`` first, e.g. ``world_preprocess().to_input``.
    """
    from ..data import centre_crop, ten_crop
    from ..transfer.features import image_batches

    if isinstance(crop, bool) or not isinstance(crop, int) or crop < 1:
        raise ValueError(f"crop: expected a positive integer side, got {crop!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    out = []
    with evaluating(model):
        for x in tqdm(image_batches(images, batch_size), desc="crops", leave=False, disable=not progress):
            x = preprocess(x) if preprocess is not None else x
            if x.dim() != 4 or crop > min(x.shape[-2:]):
                raise ValueError(f"images: expected (N, 3, S, S) batches with S >= crop {crop}, got {tuple(x.shape)}")
            views = ten_crop(x, crop) if ten_crops else centre_crop(x, crop).unsqueeze(1)   # (B, K, 3, crop, crop)
            b, k = views.shape[:2]
            p = model(views.flatten(0, 1).to(device)).float().softmax(-1)
            out.append(p.view(b, k, -1).cpu())
    if not out:
        raise ValueError("images: expected at least one image, got none")
    return torch.cat(out)


def _errors(probs: torch.Tensor, labels: torch.Tensor) -> dict:
    from ..transfer.averaging import top_k_error

    e = top_k_error(probs, labels, ks=(1, 5))
    return {"top1": e[1], "top5": e[5]}


# ----------------------------------------------------------------------------------------------------------------
# Evaluate a run → result file
# ----------------------------------------------------------------------------------------------------------------

def history_summary(history: dict, last: int = LAST) -> dict:
    """Validation accuracy per epoch, its final value, the mean (and sd) of the last ``last`` epochs, the seconds per
    epoch, the learning rate at the end with how often the plateau rule lowered it, and the share of each ReLU's
    units that fired on some validation image after every epoch (``live_units``; runs from before that record: {})."""
    acc, lrs = [float(a) for a in history["val_acc"]], [float(v) for v in history.get("lr", [])]
    tail = acc[-last:]
    mean = sum(tail) / len(tail)
    sd = math.sqrt(sum((a - mean) ** 2 for a in tail) / (len(tail) - 1)) if len(tail) > 1 else 0.0
    return {"epochs": len(acc), "val_acc": [round(a, 5) for a in acc], "final_val_acc": acc[-1],
            "last": len(tail), "last_mean_val_acc": mean, "last_sd_val_acc": sd,
            "best_val_acc": max(acc), "best_epoch": acc.index(max(acc)) + 1,
            "seconds_per_epoch": [round(float(s), 1) for s in history.get("seconds", [])],
            "final_lr": float(lrs[-1]) if lrs else None, "lr_drops": sum(b < a for a, b in zip(lrs, lrs[1:])),
            "live_units": history.get("live_units", {})}


def evaluate_run(run_dir, out=None, train_images: int = TRAIN_SUBSET, val_images: int | None = None,
                 batch_size: int = 25, device=None, progress: bool = True) -> dict:
    """Evaluate a finished run folder for Tables 2 and 3 (§5.1) and, with ``out``, write the result files.

    Args:
        run_dir: a folder ``python -m zfcourse train`` finished (model.pt, run.json, history.json).
        out: ``<name>.json`` to write (atomically), with the softmaxes in ``<name>.npz`` beside it; None: only
            return the result.
        train_images: training renders (items 0 … n−1 of the run's world) for the train top-1 error (Table 3).
        val_images: validation renders (default: the run's own ``val_size``, 4,200 for the course's runs).
        batch_size: images per step (each step runs 10 crops of each).

    Returns:
        the result dict (see the module docstring): row, seed, errors (fractions, not %), history summary, the run's
        command, settings, machine and training time; with ``out``, ``softmax_file`` names the .npz.
    """
    from ..data import WORLD_CROP, WorldDataset, world_preprocess

    for name, n in (("train_images", train_images), ("val_images", val_images)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"{name}: expected a positive number of images, got {n!r}")
    if out is not None and Path(out).suffix != ".json":
        raise ValueError(f"out: expected a path ending in .json (the softmaxes go beside it as .npz), got {out}")
    t0 = time.perf_counter()
    run, history, model_pt = read_run(run_dir)
    settings = run_settings(run)
    if settings.get("input_size", WORLD_CROP) != WORLD_CROP:
        raise ValueError(f"run_dir: the run's input side is {settings['input_size']}; only runs on the world's "
                         f"{WORLD_CROP}-pixel crops can be evaluated here")
    model = load_run_model(run_dir, device or "cpu")
    world = dict(seed=settings.get("world_seed", 0), palette=settings.get("palette", "shared"), cache=True,
                 progress=progress)
    prep = world_preprocess()

    def to_input(batch):                                                          # uint8 renders → input space
        return prep.to_input(batch.numpy())

    val = WorldDataset("val", size=val_images or int(settings.get("val_size", 4200)), **world)
    p_val = crop_softmax(model, val.images, WORLD_CROP, True, to_input, batch_size, progress=progress)
    train = WorldDataset("train", size=train_images, **world)
    p_train = crop_softmax(model, train.images, WORLD_CROP, False, to_input, batch_size, progress=progress)[:, 0]
    centre, ten = p_val[:, CENTRE], p_val.mean(1)
    result = {
        "format": FORMAT, "row": row_of(settings), "seed": settings.get("seed"),
        "parameters": sum(p.numel() for p in model.parameters()),
        "val": {"images": len(val), "split": "val", "centre": _errors(centre, val.labels),
                "ten_crop": _errors(ten, val.labels)},
        "train": {"images": len(train), "split": "train", "items": f"0-{len(train) - 1}", "crop": "centre",
                  "mode": "eval", "top1": _errors(p_train, train.labels)["top1"]},
        "history": history_summary(history),
        "run": {k: run.get(k) for k in ("command", "torch", "python", "machine", "device", "cpu_threads", "gpu",
                                        "train_seconds_total", "epochs", "note", "resumed_with") if k in run},
        "settings": settings,
        "evaluated": {"seconds": round(time.perf_counter() - t0, 1), "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "machine": platform.machine(),
                      "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
    }
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        npz = out.with_suffix(".npz")
        _save_npz(npz, centre=centre.half().numpy(), ten_crop=ten.half().numpy(),
                  labels=val.labels.numpy().astype(np.int16))
        result["softmax_file"] = npz.name
        write_json(result, out)
    return result


def _save_npz(path: Path, **arrays) -> None:
    """``np.savez_compressed`` made atomic as :func:`write_json` is: temporary file, fsync, ``os.replace``."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(buffer.getvalue()), f.flush(), os.fsync(f.fileno())
    os.replace(tmp, path)


# ----------------------------------------------------------------------------------------------------------------
# Result files → tables
# ----------------------------------------------------------------------------------------------------------------

def result_name(row: str, seed: int = 0) -> str:
    """The file stem of a row's result: ``<row>`` for seed 0, ``<row>-seed<k>`` otherwise."""
    return row if seed == 0 else f"{row}-seed{seed}"


def load_result(path) -> dict:
    """A result written by :func:`evaluate_run` (``path``: the .json), with ``path`` added; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no result file {path}")
    try:
        result = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"path: {path} is not readable JSON ({err})") from err
    if not isinstance(result, dict) or result.get("format") != FORMAT or not {"val", "train", "history"} <= set(result):
        raise ValueError(f"path: {path} is not a result of format {FORMAT} (expected the keys val, train, history); "
                         "re-make it with `python -m zfcourse evaluate`")
    result["path"] = str(path)
    return result


def load_results(folder) -> dict[str, dict]:
    """Every result in ``folder`` (``*.json``), keyed by file stem (:func:`result_name`); {} if the folder is absent."""
    folder = Path(folder)
    return {p.stem: load_result(p) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def load_softmax(result: dict) -> dict[str, torch.Tensor]:
    """The cached per-image validation softmax of a result: {"centre", "ten_crop": (N, C) float32, "labels": (N,)}."""
    if "softmax_file" not in result or "path" not in result:
        raise ValueError("result: expected a result loaded by load_result from a file written with out=")
    npz = Path(result["path"]).with_name(result["softmax_file"])
    if not npz.is_file():
        raise FileNotFoundError(f"result: its softmax file {npz} is missing")
    with np.load(npz) as z:
        return {"centre": torch.from_numpy(z["centre"].astype(np.float32)),
                "ten_crop": torch.from_numpy(z["ten_crop"].astype(np.float32)),
                "labels": torch.from_numpy(z["labels"].astype(np.int64))}


def ensemble_errors(results: list[dict]) -> dict:
    """Table 2's "M convnets" from cached softmaxes: p = (1/M) Σ_m p_m over the results, then top-1/top-5 error, for
    the centre crop and for the ten crops. All results must be on the same validation images (same labels)."""
    if not results:
        raise ValueError("results: expected at least one result")
    soft = [load_softmax(r) for r in results]
    labels = soft[0]["labels"]
    for r, s in zip(results, soft):
        if not torch.equal(s["labels"], labels):
            raise ValueError(f"results: {r['path']} was evaluated on other validation images than {results[0]['path']}")
    return {view: _errors(torch.stack([s[view] for s in soft]).mean(0), labels) for view in ("centre", "ten_crop")} | \
        {"members": [Path(r["path"]).stem for r in results]}


def seed_spread(results: list[dict], key=("val", "centre", "top1")) -> float | None:
    """Sample standard deviation over seeds of one number (default: val top-1 error, centre crop) of results of the
    same row; None with fewer than two seeds (no spread can be estimated)."""
    values = [_get(r, key) for r in results]
    if len(values) < 2:
        return None
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def _get(result: dict, key) -> float:
    v = result
    for k in key:
        v = v[k]
    return float(v)


def paired_difference(a: dict, b: dict, view: str = "centre") -> tuple[float, float]:
    """Top-1 error of ``a`` minus that of ``b`` on the same validation images, and its sampling standard error:
    with e_i = [a wrong on i] − [b wrong on i], d = mean(e) and se = sd(e)/√N (paired: the same images, so what
    both get right or wrong cancels). It says how well N images pin the difference down for these two trained
    models — not how much another seed would move it (that is :func:`seed_spread`)."""
    if view not in ("centre", "ten_crop"):
        raise ValueError(f"view: expected 'centre' or 'ten_crop', got {view!r}")
    sa, sb = load_softmax(a), load_softmax(b)
    if not torch.equal(sa["labels"], sb["labels"]):
        raise ValueError(f"b: {b['path']} was evaluated on other validation images than {a['path']}")
    y = sa["labels"]
    e = (sa[view].argmax(1) != y).double() - (sb[view].argmax(1) != y).double()
    return float(e.mean()), float(e.std() / math.sqrt(len(e)))


# Table 2 at the course's scale: (our row, the result files it averages, the paper's row it stands for).
TABLE2_ROWS = (
    ("Krizhevsky layout, 1 convnet", ("krizhevsky",), "Replication of Krizhevsky et al., 1 convnet"),
    ("Krizhevsky layout, 3 convnets (seeds 0-2)", ("krizhevsky", "krizhevsky-seed1", "krizhevsky-seed2"),
     "Krizhevsky et al., 5 convnets"),
    ("ZF course model, 1 convnet", ("zf",), "ZF, 1 convnet (Fig. 3)"),
    ("ZF, 3 convnets (seeds 0-2) (a)", ("zf", "zf-seed1", "zf-seed2"), "ZF, 5 convnets (a)"),
    ("ZF, layers 3,4,5 widened (b; Table 3's run)", ("zf-wide345",), "ZF, layers 3,4,5: 512,1024,512 maps (b)"),
    ("4 convnets, (a) & (b) combined", ("zf", "zf-seed1", "zf-seed2", "zf-wide345"),
     "6 convnets, (a) & (b) combined"),
    ("ZF and Krizhevsky layouts, 2 convnets", ("zf", "krizhevsky"), None),   # no such row in the paper
)
# the members of TABLE2_ROWS that are Table 3's runs (3·10⁻³), not shipped models and their seeds (10⁻²): the
# course does not train the widened model twice
TABLE2_FROM_TABLE3 = ("zf-wide345",)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


# the settings that make two runs of one row "the same recipe" (seeds of one model may differ only in ``seed``)
RECIPE_KEYS = ("arch", "width", "fc_units", "input_size", "train_size", "batch_size", "lr", "momentum", "clip_radius",
               "patience", "inject_heldout")


def _check_one_recipe(label: str, runs: dict[str, dict]) -> None:
    """Refuse a seed ensemble whose members were trained by different recipes (e.g. Table 2's shipped model at 10⁻²
    with Table 3's extra seeds at 3·10⁻³): the average would not be "M convnets" of one model."""
    (first, a), *rest = runs.items()
    for name, b in rest:
        for k in RECIPE_KEYS:
            default = 0 if k == "inject_heldout" else None    # older result files lack it: none injected
            va, vb = a.get("settings", {}).get(k, default), b.get("settings", {}).get(k, default)
            if va != vb:
                raise ValueError(f"results: the seeds of {label!r} must share one recipe, but {first} has {k}={va!r} "
                                 f"and {name} has {k}={vb!r}; pass the runs of one recipe (Table 2's shipped "
                                 "models and their seeds, not Table 3's runs)")


def table2(shipped: dict[str, dict], table3: dict[str, dict] | None = None
           ) -> tuple[HTMLTable, dict[str, list[str]]]:
    """Table 2 (§5.1) from cached results: val top-1/top-5 error (%) with the centre crop and with §3's ten crops,
    single models and softmax averages (:func:`ensemble_errors`), beside the paper's val top-1/top-5. Returns the
    table and, for every row that cannot be computed yet, the result files it waits for.

    ``shipped``: the shipped models and their seeds (the course recipe); ``table3``: Table 3's runs, of which only
    the members named in ``TABLE2_FROM_TABLE3`` (row (b), the widened model) are used — Table 3's extra seeds of
    the base rows are another recipe and are never averaged with the shipped models. Without ``table3`` every
    member is looked up in ``shipped``. A seed ensemble ("3 convnets") must be one recipe's runs: members trained
    with other settings (learning rate, schedule, sizes) raise a ValueError naming the runs and the setting."""
    from .. import paper

    for arg, d in (("shipped", shipped), ("table3", table3)):
        if d is not None and not isinstance(d, dict):
            raise TypeError(f"{arg}: expected a dict of result name -> result, got {type(d).__name__}")
    results = dict(shipped)
    if table3 is not None:            # row (b) only from Table 3, never a shipped run of that name
        for n in TABLE2_FROM_TABLE3:
            results.pop(n, None)
            if n in table3:
                results[n] = table3[n]
    rows, waiting = [], {}
    for label, members, theirs in TABLE2_ROWS:
        missing = [m for m in members if m not in results]
        mine = ["—"] * 4
        if missing:
            waiting[label] = missing
        else:  # one model: its own float32 errors; several: the average of their cached softmaxes
            if len(members) > 1 and len({results[m].get("row") for m in members}) == 1:
                _check_one_recipe(label, {m: results[m] for m in members})
            e = results[members[0]]["val"] if len(members) == 1 else \
                ensemble_errors([results[m] for m in members])
            mine = [_pct(e[v][k]) for v in ("centre", "ten_crop") for k in ("top1", "top5")]
        t2 = paper.table("Table 2")
        ref = "—" if theirs is None else f"{t2.get(theirs, 'val top-1')} / {t2.get(theirs, 'val top-5')}"
        rows.append([label] + mine + [ref, "waiting for " + ", ".join(missing) if missing else "measured"])
    header = ["model", "top-1, centre", "top-5, centre", "top-1, 10 crops", "top-5, 10 crops",
              "the paper's row: top-1 / top-5", "status"]
    return HTMLTable(header, rows, "Validation error, % (4,200 renders of the embedded world; the paper: ImageNet "
                                   "2012 val)"), waiting


def table3(results: dict[str, dict]) -> tuple[HTMLTable, list[str]]:
    """Table 3 (§5.1) row for row from cached results (seed 0): train top-1 error (eval mode, centre crop, 4,200
    training renders), val top-1 / top-5 error with the centre crop and with §3's ten crops, the mean val top-1 of
    the run's last five epochs, its epochs and training time, beside the paper's train / val top-1 / val top-5 (the
    paper does not say whether its Table 3 used one crop or ten). Rows with no result read "not trained yet"; their
    names are returned too."""
    from .. import paper
    from .cli import TABLE3

    t3 = paper.table("Table 3")
    rows, missing = [], []
    for (name, row), theirs in zip(TABLE3.items(), t3.labels):
        r = results.get(name)
        ref = " / ".join(str(t3.get(theirs, c)) for c in t3.columns)
        if r is None:
            missing.append(name)
            rows.append([row.label, name, "not trained yet", "", "", "", "", ref])
            continue
        h, run = r["history"], r["run"]
        hours = run.get("train_seconds_total", float("nan")) / 3600
        v = r["val"]
        rows.append([row.label, name, _pct(r["train"]["top1"]),
                     f"{_pct(v['centre']['top1'])} / {_pct(v['centre']['top5'])}",
                     f"{_pct(v['ten_crop']['top1'])} / {_pct(v['ten_crop']['top5'])}",
                     _pct(1 - h["last_mean_val_acc"]), f"{h['epochs']} · {hours:.1f} h", ref])
    header = ["the paper's row", "name", "train top-1", "val top-1 / top-5, centre crop", "val top-1 / top-5, 10 crops",
              "val top-1, mean of last 5 epochs", "epochs · training time", "the paper: train / val top-1 / top-5"]
    return HTMLTable(header, rows, "Error, % (train: 4,200 training renders; val: 4,200 validation renders; "
                                   "centre crop unless marked)"), missing


def train_command(row: str, seed: int = 0, out: str | None = None, table: int = 3) -> str:
    """The command that trains ``row`` of Table 3 (``table=3``: :data:`RECIPE`, 3·10⁻³) or one of Table 2's
    networks (``table=2``: the shipped models' :data:`COURSE_RECIPE`, 10⁻²; rows ``zf``, ``krizhevsky``)."""
    from .cli import TABLE3

    if table not in (2, 3):
        raise ValueError(f"table: expected 2 or 3, got {table!r}")
    if row not in TABLE3 or (table == 2 and row not in BASE_ROWS):
        allowed = BASE_ROWS if table == 2 else tuple(TABLE3)
        raise ValueError(f"row: expected one of {allowed} for table {table}, got {row!r}")
    out = out or f"runs/table{table}/{result_name(row, seed)}"
    recipe = RECIPE if table == 3 else COURSE_RECIPE
    return f"python -m zfcourse train --table3-row {row} --seed {seed} --out {out} " + " ".join(recipe)


def first_updates(row: str, train_set, lr: float, batch_size: int = 128, seed: int = 0, on_step=None) -> nn.Module:
    """Table 3's ``row`` (§5.1) from the initial weights of its ``seed`` run, after one pass of SGD over ``train_set``
    (⌊N/batch_size⌋ updates, the course's loop and clipping, constant ``lr``): how a row starts, for the test of
    Table 3's learning rate. The initial weights are those ``python -m zfcourse train --table3-row ROW --seed SEED``
    draws (the course's scaled initialisation). ``on_step(epoch, step)`` is called after every update.

    Read the result with :func:`zfcourse.architecture.dead_filters`: a conv layer whose maps never fire on any image
    passes no gradient, so it and every layer below it are dead for good.
    """
    import tempfile

    from ..environment import seed_everything
    from ..models import ablated
    from .cli import TABLE3
    from .init import scaled_init_
    from .loop import TrainConfig, train

    if row not in TABLE3:
        raise ValueError(f"row: expected one of {tuple(TABLE3)}, got {row!r}")
    seed_everything(seed)
    model = scaled_init_(ablated(**TABLE3[row].kwargs))
    with tempfile.TemporaryDirectory() as scratch:
        train(model, train_set, None, scratch, TrainConfig(epochs=1, batch_size=batch_size, lr=lr, seed=seed,
                                                           anneal_patience=1000, progress=False), on_step=on_step)
    return model


def train_and_evaluate(row: str, out_dir, seed: int = 0, epochs: int = 1, train_size: int = 84,
                       val_size: int = 42, train_images: int = 42, batch_size: int = 42,
                       progress: bool = False) -> dict:
    """Train Table 3's ``row`` with ``python -m zfcourse train`` into ``out_dir`` (skipped if it finished there
    before) and evaluate it: the whole path of a row, at a size chosen by the caller (the defaults: a one-epoch run on
    84 images in batches of 42, for tests and quick mode — its numbers mean nothing)."""
    from .cli import main

    out_dir = Path(out_dir)
    if not (out_dir / FINAL).is_file():
        main(["--table3-row", row, "--seed", str(seed), "--out", str(out_dir), "--epochs", str(epochs),
              "--lr", str(TABLE3_LR),
              "--train-size", str(train_size), "--val-size", str(val_size), "--batch-size", str(batch_size),
              "--overwrite"]
             + ([] if progress else ["--quiet"]))
    return evaluate_run(out_dir, out_dir / "result.json", train_images=train_images, progress=progress)


# ----------------------------------------------------------------------------------------------------------------
# What the tables support: differences between rows against the seed spread
# ----------------------------------------------------------------------------------------------------------------

class Check(NamedTuple):
    """One of the paper's conclusions from Table 3 as a comparison of two rows (result names): the paper's
    error(a) − error(b) is ``">"`` positive (a worse), ``"<"`` negative (a better) or ``"="`` about zero."""

    claim: str
    a: str
    b: str
    expect: str


# §5.1's conclusions from Table 3, each as two rows and the sign the paper's numbers give their difference: "having a
# minimum depth ... rather than any individual section, is vital" (removing layers 3,4,6,7 is much worse than removing
# either pair), the size of the fully connected layers "makes little difference", widening conv3-5 "gives a useful
# gain", and widening them and the fully connected layers together over-fits.
TABLE3_CHECKS = (
    Check("depth: removing 3,4,6,7 is worse than 3,4", "krizhevsky-no3467", "krizhevsky-no34", ">"),
    Check("depth: removing 3,4,6,7 is worse than 6,7", "krizhevsky-no3467", "krizhevsky-no67", ">"),
    Check("fc width matters little: Krizhevsky, 2048 units", "krizhevsky-fc-half", "krizhevsky", "="),
    Check("fc width matters little: Krizhevsky, 8192 units", "krizhevsky-fc-double", "krizhevsky", "="),
    Check("fc width matters little: ZF, 2048 units", "zf-fc-half", "zf", "="),
    Check("fc width matters little: ZF, 8192 units", "zf-fc-double", "zf", "="),
    Check("wider conv3-5 help", "zf-wide345", "zf", "<"),
    Check("widening conv3-5 and fc over-fits", "zf-wide345-fc-double", "zf-wide345", ">"),
)
BASE_ROWS = ("krizhevsky", "zf")    # every row of Table 3 is a variant of one of these (its name's first word)
SEEDS = 3                           # seeds 0, 1, 2 of each base row


class Comparison(NamedTuple):
    """The outcome of a check: ``status`` (``"agrees"``, ``"differs"``, ``"within the seed spread"``, ``"no seed
    spread yet"`` or ``"waiting for <result names>"``), the measured ``difference`` of val top-1 error (a fraction;
    None while waiting) and its ``sampling_error`` on these images (None while waiting, or where none applies)."""

    status: str
    difference: float | None
    sampling_error: float | None

    def points(self) -> str:
        """The difference and its sampling error in points of error, e.g. ``"+1.0 points ± 0.8"`` (``"—"`` if
        none)."""
        return "—" if self.difference is None else \
            f"{100 * self.difference:+.1f} points ± {100 * self.sampling_error:.1f}"


def seed_runs(results: dict[str, dict], base: str, seeds: int = SEEDS) -> list[dict]:
    """The results of ``base``'s seeds 0 … seeds−1 that exist (:func:`result_name`), in seed order."""
    names = [result_name(base, k) for k in range(seeds)]
    return [results[n] for n in names if n in results]


def seed_spreads(results: dict[str, dict], bases=BASE_ROWS, seeds: int = SEEDS) -> dict[str, float | None]:
    """{base row: :func:`seed_spread` of its seeds' val top-1 error (centre crop)}: s, the sample standard deviation
    over seeds, None with fewer than two seeds."""
    return {base: seed_spread(seed_runs(results, base, seeds)) for base in bases}


def _waiting(results: dict, names) -> str | None:
    missing = [n for n in names if n not in results]
    return "waiting for " + ", ".join(missing) if missing else None


def compare_rows(results: dict[str, dict], spread: dict[str, float | None], a: str, b: str,
                 expect: str) -> Comparison:
    """Check one conclusion of Table 3 (§5.1): does error(a) − error(b) have the sign the paper found, beyond what the
    choice of seed alone does?

    With d the difference of val top-1 error (centre crop) of the two results and se its sampling error
    (:func:`paired_difference`), and s_a, s_b the seed spreads of the rows' base models (``spread``, keyed by the
    first word of a row's name, from :func:`seed_spreads`), the noise a difference of two single runs has from the
    seed alone is taken as twice its standard deviation, n = 2·√(s_a² + s_b²). Then

    * ``expect=">"`` (a worse): *agrees* if d > n, *differs* if d < −n, else *within the seed spread*;
    * ``expect="<"`` (a better): *agrees* if d < −n, *differs* if d > n, else *within the seed spread*;
    * ``expect="="`` (about equal): *agrees* if |d| ≤ n, else *differs*.

    Without a spread for either base (fewer than two seeds) the status is *no seed spread yet*, however large d is:
    se says how well these images pin the difference down for these two trained networks, not how far another seed
    would move it. A row without a result gives *waiting for <names>*.
    """
    if expect not in (">", "<", "="):
        raise ValueError(f"expect: expected '>', '<' or '=', got {expect!r}")
    waiting = _waiting(results, (a, b))
    if waiting:
        return Comparison(waiting, None, None)
    d, se = paired_difference(results[a], results[b])
    bases = [r.split("-")[0] for r in (a, b)]
    for base in bases:
        if base not in spread:
            raise ValueError(f"spread: expected a seed spread (or None) for the base row {base!r}, "
                             f"got keys {sorted(spread)}")
    s = [spread[base] for base in bases]
    if None in s:
        return Comparison("no seed spread yet", d, se)
    noise = 2 * math.sqrt(s[0] ** 2 + s[1] ** 2)
    if expect == "=":
        return Comparison("agrees" if abs(d) <= noise else "differs", d, se)
    beyond = d > noise if expect == ">" else d < -noise
    against = d < -noise if expect == ">" else d > noise
    return Comparison("agrees" if beyond else "differs" if against else "within the seed spread", d, se)


def ensemble_gain(results: dict[str, dict], spread: dict[str, float | None], base: str,
                  seeds: int = SEEDS) -> Comparison:
    """Table 2's claim that averaging several networks lowers the error (§5.1), for the seeds of one base row.

    With e_ens the val top-1 error (centre crop) of the average of the softmaxes of ``base``'s ``seeds`` runs
    (:func:`ensemble_errors`), ē the mean of their single errors and s their seed spread (``spread[base]``), the
    difference d = e_ens − ē is compared with twice the standard deviation of a mean of that many runs,
    n = 2·s/√seeds: *agrees* if d < −n, *differs* if d > n, else *within the seed spread*. ``sampling_error`` is
    None. While a seed is missing: *waiting for <names>*.
    """
    names = [result_name(base, k) for k in range(seeds)]
    waiting = _waiting(results, names)
    if waiting:
        return Comparison(waiting, None, None)
    members = [results[n] for n in names]
    single = sum(m["val"]["centre"]["top1"] for m in members) / seeds
    d = ensemble_errors(members)["centre"]["top1"] - single
    if spread.get(base) is None:
        return Comparison("no seed spread yet", d, None)
    noise = 2 * spread[base] / seeds ** 0.5
    return Comparison("agrees" if d < -noise else "differs" if d > noise else "within the seed spread", d, None)


class Verdict(NamedTuple):
    """A claim's verdict from the statuses of its parts (:func:`claim_verdict`)."""

    verdict: str
    open_parts: list[str]     # the distinct statuses that decided nothing, sorted
    counts: dict[str, int]    # how many parts have each kind of status ("waiting for a, b" counts as "waiting")


def claim_verdict(statuses) -> Verdict:
    """The scorecard's verdict on a claim from the statuses of its checks (:func:`compare_rows`,
    :func:`ensemble_gain`): *agrees* when every part was decided (agrees or differs) and all agree; *differs* when
    every part was decided and all differ; *partly* when some were decided and they disagree or some are still open;
    *not measured* when none was decided."""
    statuses = list(statuses)
    if not statuses or not all(isinstance(s, str) for s in statuses):
        raise ValueError(f"statuses: expected a non-empty list of status strings, got {statuses!r}")
    decided = [s for s in statuses if s in ("agrees", "differs")]
    if not decided:
        verdict = "not measured"
    elif len(decided) == len(statuses) and len(set(decided)) == 1:
        verdict = decided[0]
    else:
        verdict = "partly"
    kinds = [s.split(" for ")[0] for s in statuses]
    return Verdict(verdict, sorted({s for s in statuses if s not in ("agrees", "differs")}),
                   {k: kinds.count(k) for k in sorted(set(kinds))})


def row_numbers(results: dict[str, dict]) -> dict[str, dict]:
    """What the scorecard keeps of each result: train top-1 error, the val errors, and the mean val top-1 error of
    the run's last five epochs."""
    return {n: {"train_top1": r["train"]["top1"], "val": r["val"],
                "last5_val_top1": 1 - r["history"]["last_mean_val_acc"]} for n, r in results.items()}


class HTMLTable:
    """Rows of cells shown as an HTML table in a notebook (and as text elsewhere)."""

    def __init__(self, header, rows, caption: str = ""):
        self.header, self.rows, self.caption = list(header), [list(r) for r in rows], caption

    def _repr_html_(self) -> str:
        import html

        def e(c):
            return html.escape(str(c))

        cap = f"<caption>{e(self.caption)}</caption>" if self.caption else ""
        head = "".join(f"<th>{e(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in self.rows)
        return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        return "\n".join(" | ".join(str(c) for c in r) for r in [self.header] + self.rows)


# ----------------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------------

def main(argv=None) -> dict:
    """``python -m zfcourse evaluate RUN_DIR --out NAME.json``: evaluate a finished run (see the module docstring)."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m zfcourse evaluate",
                                description="Evaluate a finished training run for Tables 2 and 3 (§5.1): train "
                                            "top-1, val top-1/top-5 with the centre crop and §3's ten crops, and the "
                                            "per-image val softmax (float16 .npz beside the .json).")
    p.add_argument("run_dir", help="a finished run folder (model.pt, run.json, history.json)")
    p.add_argument("--out", required=True, help="the result file, NAME.json (NAME.npz is written beside it)")
    p.add_argument("--train-images", type=int, default=TRAIN_SUBSET,
                   help=f"training renders 0..n-1 for the train error (default {TRAIN_SUBSET})")
    p.add_argument("--val-images", type=int, default=None, help="validation renders (default: the run's val size)")
    p.add_argument("--batch-size", type=int, default=25, help="images per step (10 crops each)")
    p.add_argument("--device", default=None, help="cpu, cuda or mps (default cpu)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    result = evaluate_run(args.run_dir, args.out, args.train_images, args.val_images, args.batch_size, args.device,
                          progress=not args.quiet)
    v, t = result["val"], result["train"]
    print(f"{args.out}: row {result['row']} seed {result['seed']}: train top-1 {t['top1']:.1%}; val top-1/top-5 "
          f"centre {v['centre']['top1']:.1%}/{v['centre']['top5']:.1%}, ten crops {v['ten_crop']['top1']:.1%}/"
          f"{v['ten_crop']['top5']:.1%} ({result['evaluated']['seconds']:.0f} s)")
    return result
