"""A non-editable install (``pip install --no-deps --target …``), imported from another folder: the data lookup finds
the course data through ``ZFCOURSE_DATA`` and otherwise says what to do — and nothing is written into the install."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, zfcourse
from zfcourse.environment import find_data, in_clone
from zfcourse.course import load_course_model
out = {"file": zfcourse.__file__, "in_clone": in_clone(), "found": str(find_data())}
try:
    out["params"] = sum(p.numel() for p in load_course_model().parameters())
except zfcourse.DataNotFoundError as err:
    out["error"] = str(err)
cfg = zfcourse.setup(mode="quick", source="embedded", device="cpu")
out["data_dir"] = str(cfg.data_dir)
print(json.dumps(out))
"""


def clean_env(home: Path, **extra) -> dict:
    """The test process's environment without the course's variables, with a fresh HOME and no bytecode writing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZFCOURSE_") and k not in ("XDG_CACHE_HOME",
                                                                                             "PYTHONPATH")}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1", ZFCOURSE_QUICK="1", **extra)
    return env


def package_source(dest: Path) -> Path:
    """A copy of what a git install builds from (pyproject.toml, README.md, zfcourse/), so pip writes nothing here."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "zfcourse", dest / "zfcourse", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("install")
    site = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(site), str(package_source(tmp / "src"))],
                   check=True, capture_output=True, text=True)
    return tmp, site


def run_probe(tmp: Path, site: Path, **extra) -> dict:
    home = tmp / f"home{len(list(tmp.glob('home*')))}"
    work = tmp / "elsewhere"
    home.mkdir()
    work.mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=work, capture_output=True, text=True,
                          env=clean_env(home, PYTHONPATH=str(site), **extra))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["home_files"] = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    result["setup_line"] = done.stdout.strip().splitlines()[0]
    return result


def test_installed_copy_without_data_says_what_to_do_and_writes_nothing(installed):
    tmp, site = installed
    before = tree(site)
    got = run_probe(tmp, site)
    assert got["file"].startswith(str(site)) and not got["in_clone"] and got["found"] == "None"
    assert got["error"].startswith("zfcourse: the trained course model was not found")
    assert "ZFCOURSE_DATA" in got["error"] and "git clone" in got["error"] and "zfcourse.fetch_data()" in got["error"]
    assert "data=not found" in got["setup_line"]
    assert tree(site) == before and not (site / "data").exists() and not (site / "cache").exists()
    assert not [f for f in got["home_files"] if "zfcourse" in f]   # no stand-in trained, no cache filled


def test_installed_copy_finds_the_data_through_zfcourse_data(installed):
    tmp, site = installed
    before = tree(site)
    got = run_probe(tmp, site, ZFCOURSE_DATA=str(ROOT / "data"))
    assert got["found"] == str(ROOT / "data") == got["data_dir"] and got["params"] > 0 and "error" not in got
    assert "data=$ZFCOURSE_DATA" in got["setup_line"]
    assert tree(site) == before and not [f for f in got["home_files"] if "zfcourse" in f]
