"""The one setup call every chapter makes first: where am I running, on what data, in which mode, on which device.

Nothing here is from the paper; it is what makes the same notebook run in CI (quick, offline, CPU), on a laptop, and
in Colab (GPU, network). See DESIGN.md "Run modes" and "Two data sources".
"""
from __future__ import annotations

import os
import platform
import random
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

# The single place that holds the repository's address (tests check the notebooks' bootstrap cells against it).
REPO_URL = "https://github.com/zfcourse/zfcourse"
SOURCES = ("auto", "embedded", "imagenet")
MODES = ("quick", "full")
REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"


@dataclass(frozen=True)
class Config:
    """What :func:`setup` decided: data source, run mode, device, seed, and where the shipped data lives."""
    source: str
    mode: str
    device: torch.device
    seed: int
    data_dir: Path
    colab: bool

    @property
    def quick(self) -> bool:
        """True in quick mode (CI, nbval, ``ZFCOURSE_QUICK=1``): small grids, few images, short training."""
        return self.mode == "quick"

    def pick(self, quick, full):
        """``quick`` in quick mode, ``full`` otherwise — for the few numbers a chapter scales down in CI."""
        return quick if self.quick else full


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def choose_mode(mode: str | None = None, environ=os.environ) -> str:
    """Run mode: an explicit ``mode``, else ``ZFCOURSE_MODE``, else quick when ``ZFCOURSE_QUICK=1`` or ``CI`` is set
    (nbval runs get ``ZFCOURSE_QUICK=1`` from the repository's conftest.py), else full."""
    mode = mode or environ.get("ZFCOURSE_MODE")
    if mode is None:
        quick = environ.get("ZFCOURSE_QUICK", "").lower() in ("1", "true", "yes") or bool(environ.get("CI"))
        mode = "quick" if quick else "full"
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    return mode


def network_available(host: str = "download.pytorch.org", timeout: float = 1.5) -> bool:
    """True if a TCP connection to ``host``:443 opens within ``timeout`` seconds (the weights' host)."""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def choose_source(source: str | None = None, mode: str = "full", environ=os.environ, probe=network_available) -> tuple[str, str]:
    """Data source and the reason for it: an explicit ``source``, else ``ZFCOURSE_SOURCE``, else ``auto``.

    ``auto`` means ``imagenet`` when the network answers and we are not in quick mode, ``embedded`` otherwise — quick
    mode never touches the network, so CI is deterministic. Nothing ever fails because a download is impossible.
    """
    source = source or environ.get("ZFCOURSE_SOURCE", "auto")
    if source not in SOURCES:
        raise ValueError(f"source: expected one of {SOURCES}, got {source!r}")
    if source != "auto":
        return source, "requested"
    if mode == "quick":
        return "embedded", "auto: quick mode stays offline"
    if probe():
        return "imagenet", "auto: network available"
    return "embedded", "auto: no network, falling back to the offline embedded world"


def choose_device(device: str | None = None) -> torch.device:
    """``device`` if given, else the best available: cuda > mps > cpu."""
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so quick-mode outputs repeat exactly on CPU."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _colab_data() -> Path:
    """In Colab the package was pip-installed from git (first notebook cell) without data/: clone it once."""
    target = Path.home() / "zfcourse"
    if not (target / "data").exists():
        subprocess.run(["git", "clone", "-q", "--depth", "1", REPO_URL, str(target)], check=True)
    return target / "data"


def setup(source: str | None = None, mode: str | None = None, device: str | None = None, seed: int = 0,
          verbose: bool = True) -> Config:
    """Prepare a chapter: fetch the data in Colab, pick mode, source and device, seed everything, print one line.

    Args:
        source: ``"auto"`` (default; also from ``ZFCOURSE_SOURCE``), ``"embedded"`` or ``"imagenet"``.
        mode: ``"quick"`` or ``"full"``; default from ``ZFCOURSE_MODE`` / ``ZFCOURSE_QUICK`` / ``CI``.
        device: e.g. ``"cpu"``; default cuda > mps > cpu.
        seed: seeds Python, NumPy and torch.
        verbose: print the one-line summary (and the Colab GPU hint when running on a CPU there).

    Example:
        >>> cfg = setup(source="embedded", mode="quick", device="cpu", verbose=False)
        >>> cfg.quick, cfg.source
        (True, 'embedded')
    """
    colab = in_colab()
    data_dir = _colab_data() if colab and not DATA_DIR.exists() else DATA_DIR
    mode = choose_mode(mode)
    source, why = choose_source(source, mode)
    dev = choose_device(device)
    seed_everything(seed)
    if verbose:
        import matplotlib
        import torchvision
        print(f"zfcourse: source={source} ({why}) · mode={mode} · device={dev} · seed={seed} · "
              f"python {platform.python_version()} · torch {torch.__version__} · torchvision {torchvision.__version__} · "
              f"matplotlib {matplotlib.__version__}")
        if colab and dev.type == "cpu":
            print("No GPU: in Colab choose Runtime → Change runtime type → GPU, then run this cell again.")
    return Config(source, mode, dev, seed, data_dir, colab)
