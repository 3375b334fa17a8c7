"""Checkpoint files that survive interruptions: atomic writes, safe loads, clear errors, and the RNG states that
make a resumed run continue bit for bit.

* Writes go to a temporary file in the same folder, are flushed to disk, then ``os.replace``-d over the target: a crash
  mid-write leaves the previous file intact, never a half-written one.
* Loads use ``torch.load(..., weights_only=True)`` (no arbitrary pickles), and turn a truncated or corrupt file into a
  :class:`CheckpointError` that names the file — the training loop then refuses to start rather than overwrite it.
  A tensor holding NaN or ±inf is an error too, naming the file and the tensor: a diverged or damaged model never
  loads silently.
* Shipped folders (``data/course_model``…) carry ``MANIFEST.sha256`` (``sha256sum`` format, written by
  :func:`write_manifest`); loading a file it lists checks the file's SHA-256, so damage in the middle of a file — which
  the zip container may not notice — is caught.
* :func:`rng_state` / :func:`set_rng_state` capture Python's, NumPy's and torch's (CPU and CUDA) generators as tensors
  and plain lists, which is what ``weights_only`` loading accepts.
"""
from __future__ import annotations

import hashlib
import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch


MANIFEST = "MANIFEST.sha256"


class CheckpointError(RuntimeError):
    """A checkpoint file exists but cannot be read (truncated, corrupt, non-finite, or not of this format)."""


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
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX: fsync the directory); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(folder: str | os.PathLike, suffixes=(".pt", ".json")) -> Path:
    """Write ``folder/MANIFEST.sha256``: one ``<sha256>  <relative path>`` line per data file under ``folder`` (names
    ending in ``suffixes``: weights and histories, not the prose beside them; sorted; dot-files left out) — the format
    ``sha256sum -c`` reads. Run it again after changing a shipped run. Returns its path."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    text = "".join(f"{sha256(p)}  {p.relative_to(folder).as_posix()}\n" for p in files)
    path = folder / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def read_manifest(folder: str | os.PathLike) -> dict[str, str]:
    """{relative path: sha256} from ``folder/MANIFEST.sha256`` ({} when there is none)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    out = {}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise CheckpointError(f"path: {path} line {n} is not '<sha256>  <file>': {line!r}")
        out[name] = digest
    return out


def verify_file(path: str | os.PathLike) -> bool:
    """Check ``path`` against the manifest of its folder or the folder above (``snapshots/`` files are listed in the
    run folder's). Returns True if a manifest lists it (and it matched), False if none does.

    Raises:
        CheckpointError: the file's SHA-256 differs from the manifest's (damaged or replaced), naming the file.
    """
    path = Path(path)
    for folder in (path.parent, path.parent.parent):
        listed = read_manifest(folder)
        name = path.resolve().relative_to(folder.resolve()).as_posix()
        if name in listed:
            got = sha256(path)
            if got != listed[name]:
                raise CheckpointError(f"path: {path} does not match {folder / MANIFEST} (sha256 {got[:12]}…, expected "
                                      f"{listed[name][:12]}…): the file is damaged or was replaced. Restore it (e.g. "
                                      "git checkout, or fetch the course data again).")
            return True
    return False


def check_finite(obj, path: str | os.PathLike, prefix: str = "") -> None:
    """Raise :class:`CheckpointError` naming ``path`` and the tensor when any floating tensor in ``obj`` (nested dicts,
    lists, tuples) holds NaN or ±inf."""
    if isinstance(obj, torch.Tensor):
        if obj.is_floating_point() or obj.is_complex():
            bad = int((~torch.isfinite(obj)).sum())
            if bad:
                raise CheckpointError(f"path: {path}: tensor {prefix or '(top level)'!r} holds {bad} non-finite "
                                      f"value{'s' if bad > 1 else ''} (NaN or inf) of {obj.numel()}; the file is "
                                      "damaged "
                                      "or the run diverged. Use another checkpoint or retrain.")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            check_finite(v, path, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            check_finite(v, path, f"{prefix}[{i}]")


def load_checkpoint(path: str | os.PathLike, required=(), map_location="cpu", finite: bool = True) -> dict:
    """Load a dict saved by :func:`save_atomic` with ``weights_only=True``; check it against its folder's manifest
    (if one lists it), that it holds the ``required`` keys, and (``finite``) that no tensor holds NaN or ±inf.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is truncated/corrupt, does not match the manifest, lacks a required key, or holds a
            non-finite tensor; the message names the file (and the tensor).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no checkpoint file at {path}")
    verify_file(path)
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch.load's many ways to fail on a damaged or foreign file (KeyError on text, …)
        raise CheckpointError(f"path: {path} is not a readable checkpoint (truncated or corrupt: {err}). "
                              "It was left untouched; delete it or resume from another checkpoint.") from err
    if not isinstance(obj, dict):
        raise CheckpointError(f"path: {path} holds a {type(obj).__name__}, expected a checkpoint dict")
    missing = [k for k in required if k not in obj]
    if missing:
        raise CheckpointError(f"path: {path} lacks {missing}; it is not a training checkpoint of this format")
    if finite:
        check_finite(obj, path)
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
