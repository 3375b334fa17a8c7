"""The second strategy of §5.2: the same architecture trained from scratch on the few training images of the new set.

"We also try a second strategy of training a model from scratch, i.e. resetting layers 1-7 to random values and train
them, as well as the softmax, on the training images of the dataset." It "does terribly" in the paper: 46.5 % on
Caltech-101 at 30 images per class against 86.5 % for the ImageNet-pretrained features (Table 4), 38.8 % against
74.2 % on Caltech-256 at 60 (Table 5). The paper gives no recipe for these runs.

The recipe here is one fixed setting, the same for every split and every number of images per class
(:class:`ScratchRecipe`): a freshly initialised network (the caller's ``make_model``, e.g. the course architecture
with :func:`zfcourse.train.scaled_init_`), SGD with momentum on the cross-entropy

    w ← w − η v,   v ← μ v + ∇_w (1/B) Σ_{i ∈ batch} −log p(y_i | x_i),

in updates of B images each (batches drawn by reshuffling the n·C training images every pass), every image mirrored
left-right with probability ½ (the paper's flips; the inputs are already the transfer set's crops), dropout on as in
training, and §3's feature scale clipping after every update.

How long to train is decided by the training set alone, so that "trained from scratch" means a network that has
learned what it was shown: every ``check_every`` updates the network (dropout off) classifies its own un-mirrored
training images, and training stops as soon as their mean per-class accuracy reaches ``fit_target``, or at the cap of
``steps`` updates, whichever comes first. No validation set is held out (the few-shot protocol has none) and the test
images are never looked at while training, so the stop cannot be tuned to them. Each split's network is then scored on
that split's test images, so the result is comparable point for point with :func:`~zfcourse.transfer.few_shot_curve`
on frozen features, and the number of updates it took and its final training accuracy are reported beside it: high
training and low test accuracy is over-fitting; a network stopped by the cap below ``fit_target`` did not fit.

:func:`scratch_curve` runs the grid; with ``cache=`` it stores each network's scores, its updates and the recipe in a
small JSON file as soon as that network is done, and reads them back on the next call with the same settings (the runs
are the only slow part of the chapter, so an interrupted grid resumes where it stopped).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .evaluate import ProbeResult, mean_per_class_accuracy, mean_sd
from .splits import few_shot_splits


@dataclass
class ScratchResult(ProbeResult):
    """A :class:`~zfcourse.transfer.ProbeResult` of test scores (%) plus each split's network scored on its own
    training images (``train_values``, %, mirrored images not counted) and the number of updates each was trained for
    (``updates``): high train and low test is over-fitting, both near chance is a network that did not learn in the
    updates it was given."""
    train_values: list[float] | None = None
    updates: list[int] | None = None

    @property
    def train_mean(self) -> float:
        return mean_sd(self.train_values)[0]


@dataclass(frozen=True)
class ScratchRecipe:
    """One from-scratch training setting (module docstring): at most ``steps`` updates of ``batch_size`` images with
    SGD (``lr``, ``momentum``, ``weight_decay``), random mirroring, and feature scale clipping at ``clip_radius``
    (None: off); every ``check_every`` updates the mean per-class accuracy on the un-mirrored training images is
    measured and training stops once it is ≥ ``fit_target`` (a fraction; None: always run all ``steps``). The
    optimiser defaults are the course model's own recipe (chapter 3) except the batch, which is 32 because the
    training sets here hold 16 to 480 images."""
    steps: int = 300
    batch_size: int = 32
    lr: float = 1e-2
    momentum: float = 0.9
    weight_decay: float = 0.0
    clip_radius: float | None = 0.1
    fit_target: float | None = None
    check_every: int = 50

    def __post_init__(self):
        for name in ("steps", "batch_size", "check_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr: expected a positive learning rate, got {self.lr!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum: expected a value in [0, 1), got {self.momentum!r}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay: expected a value ≥ 0, got {self.weight_decay!r}")
        if self.clip_radius is not None and not self.clip_radius > 0:
            raise ValueError(f"clip_radius: expected a positive radius or None, got {self.clip_radius!r}")
        if self.fit_target is not None and not (isinstance(self.fit_target, (int, float))
                                                and 0 < self.fit_target <= 1):
            raise ValueError(f"fit_target: expected a training accuracy in (0, 1] or None, got {self.fit_target!r}")


def _check_inputs(inputs, labels) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 4 or not inputs.is_floating_point():
        raise ValueError(f"inputs: expected an (N, C, H, W) float tensor of network inputs, got "
                         f"{tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__}")
    y = torch.as_tensor(labels)
    if y.shape != (len(inputs),) or y.is_floating_point() or y.dtype == torch.bool:
        raise ValueError(f"labels: expected {len(inputs)} integer class labels, got shape {tuple(y.shape)} "
                         f"and dtype {y.dtype}")
    return inputs, y.long()


def train_from_scratch(make_model: Callable[[], nn.Module], inputs: torch.Tensor, labels, recipe: ScratchRecipe,
                       seed: int = 0, device: str | torch.device = "cpu",
                       progress: bool = False) -> tuple[nn.Module, int]:
    """Train ``make_model()`` (a fresh, initialised network with as many outputs as classes) on ``inputs`` (N, 3, H,
    W) with ``labels`` (N,) by ``recipe``; returns ``(model in eval mode, updates made)``. With ``recipe.fit_target``
    training stops at the first check (every ``recipe.check_every`` updates) where the mean per-class accuracy on
    ``inputs`` themselves (dropout off, no mirroring) is ≥ ``fit_target``; otherwise, or if it never gets there, after
    ``recipe.steps`` updates. ``seed`` fixes the initialisation (``make_model`` is called right after seeding), the
    batches, the mirroring and dropout."""
    from ..train import clip_filter_rms_

    inputs, y = _check_inputs(inputs, labels)
    if not isinstance(recipe, ScratchRecipe):
        raise ValueError(f"recipe: expected a ScratchRecipe, got {type(recipe).__name__}")
    torch.manual_seed(seed)
    model = make_model().to(device).train()
    rng = np.random.default_rng(seed)
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    b = min(recipe.batch_size, len(inputs))
    order, pos = rng.permutation(len(inputs)), 0
    step = 0
    bar = tqdm(total=recipe.steps, desc="training from scratch", leave=False, disable=not progress)
    while step < recipe.steps:
        if pos + b > len(order):                     # a new pass: reshuffle (a short last batch is dropped)
            order, pos = rng.permutation(len(inputs)), 0
        idx = torch.as_tensor(order[pos:pos + b])
        pos += b
        x = inputs[idx]
        flip = torch.as_tensor(rng.random(len(idx)) < 0.5)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        loss = nn.functional.cross_entropy(model(x.to(device)), y[idx].to(device))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"training from scratch: the loss became {float(loss)}; lower recipe.lr")
        opt.zero_grad()
        loss.backward()
        opt.step()
        if recipe.clip_radius is not None:
            clip_filter_rms_(model, recipe.clip_radius)
        step += 1
        bar.update(1)
        if recipe.fit_target is not None and step % recipe.check_every == 0 and step < recipe.steps:
            fit = mean_per_class_accuracy(_predict(model.eval(), inputs, device), y)
            model.train()
            bar.set_postfix(train=f"{100 * fit:.0f}%")
            if fit >= recipe.fit_target:
                break
    bar.close()
    return model.eval(), step


@torch.no_grad()
def _predict(model: nn.Module, inputs: torch.Tensor, device, batch_size: int = 128) -> torch.Tensor:
    return torch.cat([model(inputs[i:i + batch_size].to(device)).argmax(1).cpu()
                      for i in range(0, len(inputs), batch_size)])


def scratch_splits(make_model, inputs, labels, splits, recipe: ScratchRecipe, device="cpu",
                   progress: bool = True) -> ScratchResult:
    """One network trained from scratch per split (on ``inputs[split.train]``), scored by mean per-class accuracy
    (%) on ``inputs[split.test]`` — :func:`~zfcourse.transfer.probe_splits`'s protocol with the whole network
    trained instead of a classifier on frozen features — and on its own training images, with the number of updates
    each network took (:func:`train_from_scratch`'s stop rule). Split k's network is seeded with ``split.seed``."""
    inputs, y = _check_inputs(inputs, labels)
    classes, y = np.unique(y.numpy(), return_inverse=True)
    y = torch.as_tensor(y)
    if not splits:
        raise ValueError("splits: expected at least one split")
    accs, fits, updates = [], [], []
    for s in tqdm(splits, desc=f"from scratch, n={splits[0].n}", leave=False, disable=not progress):
        net, steps = train_from_scratch(make_model, inputs[s.train], y[s.train], recipe, seed=s.seed,
                                        device=device, progress=progress)
        accs.append(100 * mean_per_class_accuracy(_predict(net, inputs[s.test], device), y[s.test]))
        fits.append(100 * mean_per_class_accuracy(_predict(net, inputs[s.train], device), y[s.train]))
        updates.append(steps)
    return ScratchResult(accs, n=splits[0].n, train_values=fits, updates=updates)


def _settings(max_test, seed, recipe, n_images, what) -> dict:
    return {"max_test": max_test, "seed": int(seed), "recipe": asdict(recipe), "n_images": int(n_images),
            "what": str(what)}


def _read_cache(path: Path, settings: dict) -> dict:
    """{n: {"test": [...], "train": [...], "updates": [...]}} stored for ``settings`` (split k at index k), {} if none.
    Files of the first format (one grid: the settings also held ``shots`` and ``n_splits``) are read the same way:
    split k of n does not depend on how many splits or which other n were asked for (seed + k draws it)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"cache: {path} is not a readable results file ({err}); delete it or pass "
                         "recompute=True") from err
    if not isinstance(stored, dict) or not isinstance(stored.get("settings"), dict):
        raise ValueError(f"cache: {path} has no 'settings'; delete it or pass recompute=True")
    mine = {k: v for k, v in stored["settings"].items() if k not in ("shots", "n_splits")}
    if mine != settings:
        return {}
    out = {}
    for n, r in stored.get("results", {}).items():
        k = min(len(r["test"]), len(r["train"]), len(r["updates"]))
        out[int(n)] = {"test": [float(v) for v in r["test"][:k]], "train": [float(v) for v in r["train"][:k]],
                       "updates": [int(v) for v in r["updates"][:k]]}
    return out


def scratch_curve(make_model, inputs, labels, shots=(5, 15, 30), n_splits: int = 5, max_test: int | None = 50,
                  seed: int = 0, recipe: ScratchRecipe = ScratchRecipe(), device="cpu", cache=None,
                  what: str = "", recompute: bool = False, progress: bool = True) -> dict[int, ScratchResult]:
    """Tables 4–5's "non-pretrained convnet" row on the course's terms: {n: :class:`ProbeResult`} for every n of
    ``shots``, ``n_splits`` splits each, from the same splits as :func:`~zfcourse.transfer.few_shot_curve` with the
    same ``seed`` and ``max_test`` (so the two are compared on identical train and test images).

    Args:
        make_model: builds a fresh initialised network for ``len(unique(labels))`` classes.
        inputs, labels: every image of the labelled set in the network's input space (N, 3, H, W) and its class.
        recipe: :class:`ScratchRecipe`, the same for every n and split (its stop rule included).
        cache: a JSON file of finished networks' scores, one entry per (n, split): each split's test and training
            accuracy with its number of updates, stored with the settings they were made with (``max_test``,
            ``seed``, the whole recipe with its stop rule, the image count, ``what``). Entries made with the same
            settings are reused; the missing ones are trained, and the file is rewritten atomically after every
            network, so an interrupted grid resumes where it stopped and asking for more n or more splits trains
            only those. A file made with other settings is replaced. None: always train, write nothing.
        what: a short description of the model and data, stored with the results and compared on reading.
        recompute: train every network even when the cache holds it (and overwrite the file).
    """
    from ..train import write_json

    inputs, y = _check_inputs(inputs, labels)
    shots = [int(n) for n in shots]
    if not shots:
        raise ValueError("shots: expected at least one number of training images per class")
    settings = _settings(max_test, seed, recipe, len(inputs), what)
    path = Path(cache) if cache is not None else None
    done = _read_cache(path, settings) if path is not None and path.is_file() and not recompute else {}
    missing = sum(max(0, n_splits - len(done.get(n, {}).get("test", []))) for n in shots)
    bar = tqdm(total=missing, desc="from-scratch networks", leave=False, disable=not progress)
    for n in shots:
        splits = few_shot_splits(y.numpy(), n, n_splits=n_splits, max_test=max_test, seed=seed)
        entry = done.setdefault(n, {"test": [], "train": [], "updates": []})
        for s in splits[len(entry["test"]):]:
            r = scratch_splits(make_model, inputs, y, [s], recipe, device, progress=progress)
            entry["test"] += r.values
            entry["train"] += r.train_values
            entry["updates"] += r.updates
            bar.update(1)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_json({"format": 2, "settings": settings,
                            "results": {str(m): done[m] for m in sorted(done)}}, path)
    bar.close()
    return {n: ScratchResult(done[n]["test"][:n_splits], n=n, train_values=done[n]["train"][:n_splits],
                             updates=done[n]["updates"][:n_splits]) for n in shots}


__all__ = ["ScratchRecipe", "ScratchResult", "train_from_scratch", "scratch_splits", "scratch_curve"]
