"""The course model every chapter uses: load the trained one shipped in ``data/course_model``, else train it.

This is the notebooks' "load the checkpoint if it exists, else train" step. The shipped model was trained on the
embedded world with ``python -m zfcourse train`` (its MODEL_CARD.md gives the command, seed, accuracy and time). When
it is missing (e.g. a reader deleted it) :func:`load_course_model` trains one into ``cache/course_model``: the full
recipe in full mode, a two-epoch stand-in on 1,200 images in quick mode (enough for the code paths, not for the
figures — the chapters say so when that happens).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .environment import DATA_DIR, REPO_ROOT
from .models import course_model
from .train.checkpoint import load_checkpoint

COURSE_MODEL_DIR = DATA_DIR / "course_model"
CACHE_DIR = REPO_ROOT / "cache" / "course_model"
FINAL = "model.pt"


def course_model_dir(cfg=None) -> Path:
    """The folder holding the shipped model: ``cfg.data_dir/course_model`` (Colab clones data/ elsewhere)."""
    return (Path(cfg.data_dir) if cfg is not None else DATA_DIR) / "course_model"


def load_course_model(cfg=None, path=None, train_if_missing: bool = True) -> nn.Module:
    """The trained course model (§2 architecture scaled down, see :func:`zfcourse.models.course_model`), in eval mode.

    Args:
        cfg: the :class:`zfcourse.environment.Config` from ``zfcourse.setup()``: its ``device`` and ``data_dir`` are
            used, and its mode picks the stand-in training run when the shipped model is missing.
        path: a ``model.pt`` (a float state dict) or a folder holding one; default the shipped model.
        train_if_missing: train when nothing is found (otherwise FileNotFoundError).

    Example:
        >>> model = load_course_model()
        >>> model(torch.zeros(1, 3, 112, 112)).shape
        torch.Size([1, 12])
    """
    from .data import NUM_CLASSES

    device = torch.device(cfg.device) if cfg is not None else torch.device("cpu")
    file = _find(path, cfg)
    if file is None:
        if not train_if_missing:
            raise FileNotFoundError(f"path: no {FINAL} in {path or course_model_dir(cfg)} and train_if_missing=False")
        file = _train_stand_in(cfg)
    model = course_model(num_classes=NUM_CLASSES)
    state = load_checkpoint(file)  # weights_only; a truncated file gets an error naming it
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.to(device).eval()


def _find(path, cfg) -> Path | None:
    candidates = [Path(path)] if path is not None else [course_model_dir(cfg), CACHE_DIR]
    for c in candidates:
        f = c / FINAL if c.is_dir() else c
        if f.is_file():
            return f
    if path is not None and not Path(path).exists():
        raise FileNotFoundError(f"path: {path} does not exist")
    return None


def _train_stand_in(cfg) -> Path:
    from .train.runs import train_if_missing

    return train_if_missing(CACHE_DIR, [], cfg, "course model") / FINAL
