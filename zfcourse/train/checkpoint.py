"""Checkpoint files that survive interruptions: atomic writes, safe loads, clear errors, and the RNG states that
make a resumed run continue bit for bit.

* Writes go to a temporary file in the same folder, are flushed to disk, then ``os.replace``-d over the target: a crash
  mid-write leaves the previous file intact, never a half-written one.
* Loads use ``torch.load(..., weights_only=True)`` (no arbitrary pickles), and turn a truncated or corrupt file into a
  :class:`CheckpointError` that names the file — the training loop then refuses to start rather than overwrite it.
* :func:`rng_state` / :func:`set_rng_state` capture Python's, NumPy's and torch's (CPU and CUDA) generators as tensors
  and plain lists, which is what ``weights_only`` loading accepts.
"""
from __future__ import annotations

import os
import pickle
import random
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch


class CheckpointError(RuntimeError):
    """A checkpoint file exists but cannot be read (truncated, corrupt, or not a checkpoint of this format)."""


def save_atomic(obj, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` via a temporary file in the same folder and an atomic ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; checkpoints are ordinary shared files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, required=(), map_location="cpu") -> dict:
    """Load a dict saved by :func:`save_atomic` with ``weights_only=True``; check it holds the ``required`` keys.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is truncated/corrupt or lacks a required key; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no checkpoint file at {path}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"path: {path} is not a readable checkpoint (truncated or corrupt: {err}). "
                              "It was left untouched; delete it or resume from another checkpoint.") from err
    if not isinstance(obj, dict):
        raise CheckpointError(f"path: {path} holds a {type(obj).__name__}, expected a checkpoint dict")
    missing = [k for k in required if k not in obj]
    if missing:
        raise CheckpointError(f"path: {path} lacks {missing}; it is not a training checkpoint of this format")
    return obj


def rng_state() -> dict:
    """The state of every random generator training touches: Python, NumPy, torch CPU and (if present) CUDA."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "python": [list(x) if isinstance(x, tuple) else x for x in random.getstate()],
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos), "has_gauss": int(has_gauss),
                  "gauss": float(gauss)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore the generators saved by :func:`rng_state` (the inverse, exactly)."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
