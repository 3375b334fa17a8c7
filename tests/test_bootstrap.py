"""The Colab bootstrap, offline: a local git repository stands in for the course's address (git's ``insteadOf`` in a
fresh HOME's .gitconfig), a fake ``google.colab`` module makes the package believe it runs in Colab.

The first cell (``%pip install "zfcourse @ git+<REPO_URL>"``, then ``zfcourse.setup()``) installs the package and
fetches the data into the per-user cache; running it again is harmless; a half-finished earlier fetch is recovered;
a failed fetch ends in one message saying what to do.
"""
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import zfcourse
import zfcourse.environment as environment
from zfcourse.environment import REPO_URL, DataNotFoundError, fetch_data

from test_install import clean_env, package_source

ROOT = Path(__file__).resolve().parents[1]
GIT = ["git", "-c", "user.name=zfcourse tests", "-c", "user.email=tests@example.invalid",
       "-c", "init.defaultBranch=main"]


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    """A git repository holding what a clone of the course needs: the package and data/course_model/model.pt."""
    repo = package_source(tmp_path_factory.mktemp("remote") / "zfcourse")
    model = repo / "data" / "course_model"
    model.mkdir(parents=True)
    (model / "model.pt").write_bytes((ROOT / "data" / "course_model" / "model.pt").read_bytes())
    manifest = (ROOT / "data" / "course_model" / "MANIFEST.sha256").read_text().splitlines()
    (model / "MANIFEST.sha256").write_text("".join(f"{line}\n" for line in manifest if line.endswith("  model.pt")))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "course"]):
        subprocess.run(GIT + args, cwd=repo, check=True, capture_output=True)
    return repo


def fresh_home(tmp_path: Path, target: Path, name: str = "home") -> Path:
    """A HOME whose git fetches ``target`` whenever it is asked for the course's address."""
    home = tmp_path / name
    home.mkdir()
    (home / ".gitconfig").write_text(f'[url "{target.as_uri()}"]\n\tinsteadOf = {REPO_URL}\n')
    return home


def fake_colab(folder: Path) -> Path:
    """A ``google.colab`` package with the one call the course makes (``output.enable_custom_widget_manager``)."""
    colab = folder / "google" / "colab"
    colab.mkdir(parents=True)
    (folder / "google" / "__init__.py").write_text("")
    (colab / "__init__.py").write_text("from . import output\n")
    (colab / "output.py").write_text("def enable_custom_widget_manager():\n    pass\n")
    return folder


FIRST_CELL = """
import json
import google.colab  # noqa: F401  (Colab has imported it before any cell runs)
import zfcourse
cfg = zfcourse.setup(mode="quick", source="embedded", device="cpu")
from zfcourse.course import load_course_model
model = load_course_model(cfg)
print(json.dumps({"data_dir": str(cfg.data_dir), "colab": cfg.colab, "package": zfcourse.__file__}))
"""


def test_first_cell_installs_and_fetches_from_a_fresh_home_and_running_it_again_is_harmless(tmp_path, remote):
    home = fresh_home(tmp_path, remote)
    site, work = tmp_path / "site", tmp_path / "content"
    work.mkdir()
    env = clean_env(home, PYTHONPATH=os.pathsep.join([str(fake_colab(tmp_path / "fake")), str(site)]))
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
               "--disable-pip-version-check", "--target", str(site), f"zfcourse @ git+{REPO_URL}"]
    runs = []
    for _ in range(2):                      # the reader runs the first cell, then runs it again
        subprocess.run(install, env=env, cwd=work, check=True, capture_output=True, text=True)
        done = subprocess.run([sys.executable, "-c", FIRST_CELL], env=env, cwd=work, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    fetched = home / ".cache" / "zfcourse" / "repo"
    assert runs[0] == runs[1] and runs[0]["data_dir"] == str(fetched / "data") and runs[0]["colab"]
    assert runs[0]["package"].startswith(str(site))
    assert (fetched / "data" / "course_model" / "model.pt").is_file()
    assert sorted(p.name for p in fetched.parent.iterdir()) == ["repo"]          # no half-finished copy left


@pytest.fixture
def colab_without_data(tmp_path, monkeypatch, remote):
    """This process as a Colab session would see it: google.colab imported, the package not in a clone, a fresh
    per-user cache, and git fetching the local remote for the course's address."""
    home = fresh_home(tmp_path, remote)
    monkeypatch.setenv("HOME", str(home))
    for name in ("ZFCOURSE_DATA", "ZFCOURSE_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(environment, "in_clone", lambda: False)
    return home / ".cache" / "zfcourse" / "repo"


def test_a_half_finished_fetch_is_recovered(colab_without_data):
    target = colab_without_data
    target.parent.mkdir(parents=True)
    interrupted = target.parent / ".repo.partial-x1y2"                     # a clone killed half-way
    (interrupted / ".git").mkdir(parents=True)
    (interrupted / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (target / "data").mkdir(parents=True)                                  # a copy that lost its model
    cfg = zfcourse.setup(mode="quick", source="embedded", device="cpu", verbose=False)
    assert cfg.colab and cfg.data_dir == target / "data" and (target / "data/course_model/model.pt").is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == ["repo"]
    again = zfcourse.setup(mode="quick", source="embedded", device="cpu", verbose=False)   # reuses it as it is
    assert again.data_dir == cfg.data_dir


def test_a_failed_fetch_gives_one_message_saying_what_to_do(colab_without_data, tmp_path, monkeypatch):
    home = fresh_home(tmp_path, tmp_path / "no-such-repository", name="home2")
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(DataNotFoundError) as err:
        zfcourse.setup(mode="quick", source="embedded", device="cpu", verbose=False)
    text = str(err.value)
    assert text.startswith(f"zfcourse: could not fetch the course data from {REPO_URL} (git: ")
    assert "run this cell again" in text and "ZFCOURSE_DATA" in text and "\n" not in text
    assert err.value.__cause__ is None and err.value.__suppress_context__          # no CalledProcessError chained
    cache = home / ".cache" / "zfcourse"
    assert not cache.exists() or list(cache.iterdir()) == []                     # nothing half-finished left


def test_a_clone_without_the_model_and_a_missing_git_are_named(tmp_path, remote, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "nothing"]):
        subprocess.run(GIT + args, cwd=empty, check=True, capture_output=True)
    with pytest.raises(DataNotFoundError, match=r"holds no data/course_model/model.pt"):
        fetch_data(empty.as_uri(), tmp_path / "cache" / "repo")
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(DataNotFoundError, match="git is not installed"):
        fetch_data(remote.as_uri(), tmp_path / "cache" / "repo")
    assert list((tmp_path / "cache").iterdir()) == []


def test_after_a_failed_fetch_running_the_cell_again_fetches(colab_without_data, tmp_path, monkeypatch):
    """The reader sees the message, fixes the network, runs the cell again: it works, with nothing left over."""
    good_home = Path(os.environ["HOME"])
    monkeypatch.setenv("HOME", str(fresh_home(tmp_path, tmp_path / "unreachable", name="offline")))
    monkeypatch.setenv("ZFCOURSE_CACHE", str(colab_without_data.parent))     # the same cache both times
    with pytest.raises(DataNotFoundError, match="run this cell again"):
        zfcourse.setup(mode="quick", source="embedded", device="cpu", verbose=False)
    monkeypatch.setenv("HOME", str(good_home))
    cfg = zfcourse.setup(mode="quick", source="embedded", device="cpu", verbose=False)
    assert cfg.data_dir == colab_without_data / "data" and (cfg.data_dir / "course_model" / "model.pt").is_file()
    assert sorted(p.name for p in colab_without_data.parent.iterdir()) == ["repo"]


def test_a_fetch_that_hangs_stops_with_one_message(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text("#!/bin/sh\nexec sleep 30\n")             # a clone that never finishes
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(DataNotFoundError) as err:
        fetch_data(REPO_URL, tmp_path / "cache" / "repo", timeout=0.5)
    text = str(err.value)
    assert text.startswith(f"zfcourse: fetching the course data from {REPO_URL} took over 0.5 s.")
    assert "run this cell again" in text and "\n" not in text and err.value.__suppress_context__
    assert list((tmp_path / "cache").iterdir()) == []
