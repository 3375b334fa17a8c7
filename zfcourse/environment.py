"""The one setup call every chapter makes first: where am I running, on what data, in which mode, on which device.

Nothing here is from the paper; it is what makes the same notebook run in CI (quick, offline, CPU), on a laptop, and
in Colab (GPU, network).

Where the course's data lives (the trained course model, the no-clipping run): the first of

1. ``$ZFCOURSE_DATA`` — a folder holding ``course_model/`` (e.g. the ``data/`` folder of a clone);
2. the repository's ``data/`` — when the package runs from a clone (or an editable install of one);
3. the per-user cache ``<cache>/repo/data`` — a shallow clone :func:`fetch_data` made (Colab does this on its own),

where ``<cache>`` is :func:`cache_dir`: ``$ZFCOURSE_CACHE``, else ``$XDG_CACHE_HOME/zfcourse``, else
``~/.cache/zfcourse``. Stand-in models trained when the shipped one is missing, and downloaded datasets, go to that
cache too — never into the installed package or the repository's ``book/``. When none of the three holds the data,
loading the course model raises :class:`DataNotFoundError` with one message that says what to do.

Environment variables: ``ZFCOURSE_SOURCE`` (``auto``/``embedded``/``imagenet``), ``ZFCOURSE_MODE`` (``quick``/``full``),
the booleans ``ZFCOURSE_QUICK`` and ``CI`` (read by :func:`env_flag`: ``1/true/yes/on`` or ``0/false/no/off``),
``ZFCOURSE_DATA`` and ``ZFCOURSE_CACHE``. A bad value is an error naming the variable and the values it accepts.
"""
from __future__ import annotations

import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

# The single place that holds the repository's address (tests check the notebooks' bootstrap cells against it).
# A fork changes it here and in the first cell of each chapter (see README.md, "Colab from a fork").
REPO_URL = "https://github.com/zfcourse/zfcourse"
SOURCES = ("auto", "embedded", "imagenet")
MODES = ("quick", "full")
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"  # the repository's data/; only there in a clone (see find_data)
SHIPPED_MODEL = Path("course_model") / "model.pt"


class DataNotFoundError(FileNotFoundError):
    """The course's shipped data (trained course model, no-clipping run) is in none of the places looked at, or
    fetching it failed. The message says where it looked and what to do."""


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


def env_flag(name: str, environ=os.environ, default: bool = False) -> bool:
    """The boolean environment variable ``name``: ``1/true/yes/on`` → True, ``0/false/no/off`` → False (any case,
    spaces ignored); unset or empty → ``default``. Anything else is a ValueError naming the variable.

    Example:
        >>> env_flag("CI", {"CI": "false"}), env_flag("ZFCOURSE_QUICK", {"ZFCOURSE_QUICK": "On"})
        (False, True)
    """
    raw = environ.get(name)
    value = "" if raw is None else str(raw).strip().lower()
    if value == "":
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueError(f"{name}: expected one of {'/'.join(TRUE_WORDS)} (true) or {'/'.join(FALSE_WORDS)} (false), "
                     f"got {raw!r}")


def _env_choice(name: str, choices, environ) -> str | None:
    value = environ.get(name)
    if value is None or not value.strip():
        return None
    value = value.strip().lower()
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(choices)}, got {environ.get(name)!r}")
    return value


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def choose_mode(mode: str | None = None, environ=os.environ) -> str:
    """Run mode: an explicit ``mode``, else ``ZFCOURSE_MODE``, else ``ZFCOURSE_QUICK`` when set, else quick when ``CI``
    is true (both read by :func:`env_flag`), else full. nbval runs get ``ZFCOURSE_QUICK=1`` from conftest.py."""
    if mode is None:
        mode = _env_choice("ZFCOURSE_MODE", MODES, environ)
    if mode is None:
        quick = env_flag("ZFCOURSE_QUICK", environ, default=env_flag("CI", environ))
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


def choose_source(source: str | None = None, mode: str = "full", environ=os.environ,
                  probe=network_available) -> tuple[str, str]:
    """Data source and the reason for it: an explicit ``source``, else ``ZFCOURSE_SOURCE``, else ``auto``.

    ``auto`` means ``imagenet`` when the network answers and we are not in quick mode, ``embedded`` otherwise — quick
    mode never touches the network, so CI is deterministic. Nothing ever fails because a download is impossible.
    """
    if source is None:
        source = _env_choice("ZFCOURSE_SOURCE", SOURCES, environ) or "auto"
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
    """Seed Python, NumPy and torch (all devices) so quick-mode outputs repeat exactly on CPU. The one seeding
    function of the package (training seeds each process with it too)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------------------------------------------
# Where the data lives
# ----------------------------------------------------------------------------------------------------------------

def cache_dir(environ=os.environ) -> Path:
    """The per-user cache: ``$ZFCOURSE_CACHE``, else ``$XDG_CACHE_HOME/zfcourse``, else ``~/.cache/zfcourse``.
    Downloads, fetched data and stand-in models go here (never into the installed package)."""
    if environ.get("ZFCOURSE_CACHE", "").strip():
        return Path(environ["ZFCOURSE_CACHE"]).expanduser()
    if environ.get("XDG_CACHE_HOME", "").strip():
        return Path(environ["XDG_CACHE_HOME"]).expanduser() / "zfcourse"
    return Path.home() / ".cache" / "zfcourse"


def fetched_repo(environ=os.environ) -> Path:
    """Where :func:`fetch_data` keeps its shallow clone: ``<cache>/repo``."""
    return cache_dir(environ) / "repo"


def in_clone() -> bool:
    """True when the package runs from a source tree (a clone or an editable install), i.e. next to its
    ``pyproject.toml`` — not from an installed copy in site-packages."""
    return (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "zfcourse" / "__init__.py").is_file()


def find_data(environ=os.environ) -> Path | None:
    """The folder holding the course's shipped data (``course_model/`` …): ``$ZFCOURSE_DATA``, else the repository's
    ``data/`` in a clone, else the per-user cache's fetched copy; None when none holds the shipped model.

    Raises:
        DataNotFoundError: ``ZFCOURSE_DATA`` is set but is not a folder holding ``course_model/model.pt``.
    """
    given = environ.get("ZFCOURSE_DATA", "").strip()
    if given:
        folder = Path(given).expanduser()
        if not (folder / SHIPPED_MODEL).is_file():
            raise DataNotFoundError(f"ZFCOURSE_DATA: expected a folder holding {SHIPPED_MODEL} (the data/ folder of a "
                                    f"clone of {REPO_URL}), got {given!r}")
        return folder
    if in_clone() and (DATA_DIR / SHIPPED_MODEL).is_file():
        return DATA_DIR
    fetched = fetched_repo(environ) / "data"
    if (fetched / SHIPPED_MODEL).is_file():
        return fetched
    return None


def data_dir(environ=os.environ) -> Path:
    """:func:`find_data`, or where :func:`fetch_data` would put the data when nothing is found yet."""
    return find_data(environ) or fetched_repo(environ) / "data"


def missing_data_message(what: str = "the trained course model", environ=os.environ,
                         missing: str = SHIPPED_MODEL) -> str:
    """The one message for "the shipped data is not here": where it looked (for the file ``missing``, relative to
    data/) and the three ways to fix it."""
    clone = (f"{DATA_DIR} (holds no {missing})" if in_clone()
             else f"the repository's data/ (this install at {REPO_ROOT / 'zfcourse'} is not a clone)")
    return (f"zfcourse: {what} was not found. Looked in: $ZFCOURSE_DATA (not set); {clone}; the per-user cache "
            f"{fetched_repo(environ) / 'data'} (empty). To fix it, do one of: (1) clone the course and run from the "
            f"clone: git clone {REPO_URL} && pip install -e ./zfcourse; (2) set ZFCOURSE_DATA to the data/ folder of "
            f"a clone; (3) run zfcourse.fetch_data() (needs git and a network; Colab does this in setup()).")


def _complete(repo: Path) -> bool:
    return (repo / "data" / SHIPPED_MODEL).is_file()


def fetch_data(url: str = REPO_URL, target: str | os.PathLike | None = None, timeout: float = 600) -> Path:
    """Shallow-clone the course repository into the per-user cache (``<cache>/repo``) and return its ``data/``.

    Safe to call again: a complete earlier fetch is reused as it is. The clone goes to a temporary folder beside the
    target and is renamed into place only when complete, so an interrupted fetch never looks finished; a half-finished
    one (that temporary folder, or a target without the model) is removed and the fetch starts over.

    Raises:
        DataNotFoundError: git is missing, the clone failed (no network, wrong address), or the clone holds no model —
            with git's last words and what to do.
    """
    target = Path(target).expanduser() if target is not None else fetched_repo()
    if _complete(target):
        return target / "data"
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.partial-*"):  # an interrupted earlier fetch
        shutil.rmtree(stale, ignore_errors=True)
    if target.exists():  # half-finished (e.g. files deleted by hand): start over
        shutil.rmtree(target)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    what_to_do = (f"Check the network connection (in Colab: Runtime → Restart session), then run this cell again; or "
                  f"clone {url} yourself and set ZFCOURSE_DATA to its data/ folder.")
    try:
        subprocess.run(["git", "clone", "-q", "--depth", "1", url, str(partial)], check=True, capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if not _complete(partial):
            raise DataNotFoundError(f"zfcourse: fetched {url}, but it holds no data/{SHIPPED_MODEL.as_posix()}. "
                                    f"{what_to_do}")
        try:
            os.replace(partial, target)
        except OSError:
            if not _complete(target):  # another process did not finish it first: a real failure
                raise
    except FileNotFoundError as err:
        if isinstance(err, DataNotFoundError):
            raise
        raise DataNotFoundError("zfcourse: could not fetch the course data: git is not installed. "
                                f"{what_to_do}") from None
    except subprocess.CalledProcessError as err:
        said = (err.stderr or "").strip().splitlines()
        raise DataNotFoundError(f"zfcourse: could not fetch the course data from {url} (git: "
                                f"{said[-1] if said else f'exit status {err.returncode}'}). {what_to_do}") from None
    except subprocess.TimeoutExpired:
        raise DataNotFoundError(f"zfcourse: fetching the course data from {url} took over {timeout:g} s. "
                                f"{what_to_do}") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target / "data"


def _data_label(found: Path | None) -> str:
    """Which of the three places the data came from, for setup()'s line (no machine-specific paths in the book)."""
    if found is None:
        return "not found"
    if os.environ.get("ZFCOURSE_DATA", "").strip():
        return "$ZFCOURSE_DATA"
    return "clone" if found == DATA_DIR else "fetched"


BANNER_WIDTH = 100


def banner(items, width: int = BANNER_WIDTH, head: str = "zfcourse: ", indent: str = "  ") -> str:
    """``items`` joined with " · " after ``head``, wrapped between items into lines of at most ``width`` characters
    (continuation lines start with ``indent``); an item longer than a line gets a line of its own.

    Example:
        >>> print(banner(["source=embedded (requested)", "mode=quick", "device=cpu"], width=40))
        zfcourse: source=embedded (requested)
          mode=quick · device=cpu
    """
    lines, line = [], head
    for item in items:
        if line not in (head, indent) and len(line) + len(" · ") + len(item) > width:
            lines.append(line)
            line = indent
        line += item if line in (head, indent) else " · " + item
    lines.append(line)
    return "\n".join(lines)


def setup(source: str | None = None, mode: str | None = None, device: str | None = None, seed: int = 0,
          verbose: bool = True, fetch: bool | None = None) -> Config:
    """Prepare a chapter: find (in Colab: fetch) the data, pick mode, source and device, seed everything, print what
    was picked (:func:`banner`: lines of at most 100 characters).

    Args:
        source: ``"auto"`` (default; also from ``ZFCOURSE_SOURCE``), ``"embedded"`` or ``"imagenet"``.
        mode: ``"quick"`` or ``"full"``; default from ``ZFCOURSE_MODE`` / ``ZFCOURSE_QUICK`` / ``CI``.
        device: e.g. ``"cpu"``; default cuda > mps > cpu.
        seed: seeds Python, NumPy and torch.
        verbose: print the summary (and the Colab GPU hint when running on a CPU there).
        fetch: fetch the data (:func:`fetch_data`) when :func:`find_data` finds none; default: only in Colab.

    Raises:
        DataNotFoundError: the fetch failed (the message says what to do).
        ValueError: a bad argument or environment variable (named in the message).

    Example:
        >>> cfg = setup(source="embedded", mode="quick", device="cpu", verbose=False)
        >>> cfg.quick, cfg.source
        (True, 'embedded')
    """
    colab = in_colab()
    mode = choose_mode(mode)
    source, why = choose_source(source, mode)
    dev = choose_device(device)
    found = find_data()
    if found is None and (colab if fetch is None else fetch):
        found = fetch_data()
    seed_everything(seed)
    if verbose:
        import matplotlib
        import torchvision
        print(banner([f"source={source} ({why})", f"mode={mode}", f"device={dev}", f"seed={seed}",
                      f"data={_data_label(found)}", f"python {platform.python_version()}", f"torch {torch.__version__}",
                      f"torchvision {torchvision.__version__}", f"matplotlib {matplotlib.__version__}"]))
        if colab and dev.type == "cpu":
            print("No GPU: in Colab choose Runtime → Change runtime type → GPU, then run this cell again.")
    return Config(source, mode, dev, seed, found or data_dir(), colab)
