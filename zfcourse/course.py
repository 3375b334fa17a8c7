"""The course model every chapter uses: the trained one shipped with the course's data (``course_model/``).

The shipped model was trained on the embedded world with ``python -m zfcourse train`` (its MODEL_CARD.md gives the
command, seed, accuracy and time). It is found by :func:`zfcourse.environment.find_data`: ``$ZFCOURSE_DATA``, the
repository's ``data/`` in a clone, or the per-user cache that ``zfcourse.setup()`` fills in Colab. Loading checks the
file against its folder's SHA-256 manifest and refuses non-finite weights, naming the file and the tensor.

When the model is in none of those places, :func:`load_course_model` raises
:class:`~zfcourse.environment.DataNotFoundError` with one message saying what to do. Nothing is trained behind the
reader's back: only ``train_if_missing=True`` trains a stand-in into the per-user cache (``<cache>/course_model``) —
the full recipe in full mode, a two-epoch stand-in on 840 images in quick mode (enough for the code paths, not for
the figures) — after saying how long it will take, with progress bars.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .environment import DataNotFoundError, cache_dir, data_dir, missing_data_message
from .models import course_model
from .train.checkpoint import load_checkpoint

CACHE_DIR = cache_dir() / "course_model"  # where a stand-in is trained, in the per-user cache
FINAL = "model.pt"


def course_model_dir(cfg=None) -> Path:
    """The folder holding the shipped model: ``cfg.data_dir/course_model`` (default: the data :func:`find_data`
    finds, or where Colab's fetch puts it)."""
    return (Path(cfg.data_dir) if cfg is not None else data_dir()) / "course_model"


def load_course_model(cfg=None, path=None, train_if_missing: bool = False) -> nn.Module:
    """The trained course model (§2 architecture scaled down, see :func:`zfcourse.models.course_model`), in eval mode.

    Args:
        cfg: the :class:`zfcourse.environment.Config` from ``zfcourse.setup()``: its ``device`` and ``data_dir`` are
            used, and its mode picks the stand-in training run when asked for one.
        path: a ``model.pt`` (a float state dict) or a folder holding one; default the shipped model.
        train_if_missing: when the shipped model is not found, use (or train) a stand-in in the per-user cache
            instead of raising. A stand-in trained by the quick recipe does not make the chapters' figures.

    Raises:
        DataNotFoundError: no shipped model and ``train_if_missing`` is False (the message says what to do).
        FileNotFoundError: ``path`` does not exist, or holds no model.pt.
        CheckpointError: the file is damaged (truncated, manifest mismatch) or holds non-finite weights.

    Example:
        >>> model = load_course_model()
        >>> model(torch.zeros(1, 3, 168, 168)).shape
        torch.Size([1, 42])
    """
    device = torch.device(cfg.device) if cfg is not None else torch.device("cpu")
    if path is not None:
        file = Path(path) / FINAL if Path(path).is_dir() else Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"path: no {FINAL} at {path}")
    else:
        file = course_model_dir(cfg) / FINAL
        if not file.is_file():
            if not train_if_missing:
                raise DataNotFoundError(missing_data_message("the trained course model") +
                                        f" Or pass train_if_missing=True to train a stand-in into {CACHE_DIR}.")
            from .train.runs import train_stand_in

            file = train_stand_in(CACHE_DIR, [], cfg, "course model") / FINAL
    model = course_model()  # the shipped architecture: 42 classes, 168×168 input
    state = load_checkpoint(file)  # weights_only; manifest, truncation and non-finite values checked, file named
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()})
    except (RuntimeError, AttributeError) as err:
        raise ValueError(f"path: {file} does not hold the course model's weights ({str(err).splitlines()[0]})") from err
    return model.to(device).eval()


INJECT_DIR = "course_model_inject80"  # the overlap run of §5.2: the course recipe with 80 held-out renders injected
INJECTED = 80


def overlap_model(cfg=None) -> nn.Module | None:
    """The course model retrained with the first 80 held-out renders injected into pre-training (§5.2's overlap
    control, made on purpose), in eval mode — or None while that run does not exist yet.

    §5.2 found the images Caltech shares with ImageNet by normalised correlation, removed them and retrained "so
    avoiding the possibility of train/test contamination". The course runs it the other way round: the shipped model
    is the clean one, and ``python -m zfcourse train --arch course --seed 0 --inject-heldout 80`` (the shipped recipe
    otherwise, 40 epochs) trains a contaminated one whose training set holds the held-out renders 0–79 under a
    pre-training label of their family (:func:`zfcourse.data.stand_in_label`). Comparing transfer with the two
    models measures what the contamination is worth. The run is looked for in ``<data>/course_model_inject80``;
    nothing is trained here.

    Raises:
        CheckpointError / ValueError: the folder holds a damaged file or another architecture's weights (a file
            that is there but unusable is an error, not a missing run).

    Example:
        >>> m = overlap_model()
        >>> m is None or m(torch.zeros(1, 3, 168, 168)).shape == (1, 42)
        True
    """
    folder = (Path(cfg.data_dir) if cfg is not None else data_dir()) / INJECT_DIR
    if not (folder / FINAL).is_file():
        return None
    return load_course_model(cfg, path=folder)


@dataclass(frozen=True)
class CourseRun:
    """The course model's run as a chapter shows it: the model, its folder, history and run.json, and whether it is
    the shipped model (False: a stand-in, whose numbers do not make the chapter's figures)."""
    model: nn.Module
    folder: Path
    history: dict
    run: dict
    shipped: bool


def course_run(cfg=None, train_if_missing: bool = False) -> CourseRun:
    """:func:`load_course_model` plus what the chapters read beside it (history.json, run.json, which run it is).

    Example:
        >>> run = course_run()
        >>> run.shipped, len(run.history["epoch"]) > 0
        (True, True)
    """
    from .train.runs import load_history

    model = load_course_model(cfg, train_if_missing=train_if_missing)
    shipped = (course_model_dir(cfg) / FINAL).is_file()
    folder = course_model_dir(cfg) if shipped else CACHE_DIR
    run_json = folder / "run.json"
    run = json.loads(run_json.read_text()) if run_json.is_file() else {}
    return CourseRun(model, folder, load_history(folder), run, shipped)
