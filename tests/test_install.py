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
    result["setup_text"] = "\n".join(done.stdout.strip().splitlines()[:-1])   # setup()'s lines, before the JSON
    return result


def test_installed_copy_without_data_says_what_to_do_and_writes_nothing(installed):
    tmp, site = installed
    before = tree(site)
    got = run_probe(tmp, site)
    assert got["file"].startswith(str(site)) and not got["in_clone"] and got["found"] == "None"
    assert got["error"].startswith("zfcourse: the trained course model was not found")
    assert "ZFCOURSE_DATA" in got["error"] and "git clone" in got["error"] and "zfcourse.fetch_data()" in got["error"]
    assert "data=not found" in got["setup_text"]
    assert tree(site) == before and not (site / "data").exists() and not (site / "cache").exists()
    assert not [f for f in got["home_files"] if "zfcourse" in f]   # no stand-in trained, no cache filled


def test_installed_copy_finds_the_data_through_zfcourse_data(installed):
    tmp, site = installed
    before = tree(site)
    got = run_probe(tmp, site, ZFCOURSE_DATA=str(ROOT / "data"))
    assert got["found"] == str(ROOT / "data") == got["data_dir"] and got["params"] > 0 and "error" not in got
    assert "data=$ZFCOURSE_DATA" in got["setup_text"]
    assert tree(site) == before and not [f for f in got["home_files"] if "zfcourse" in f]


# What a Colab runtime has before the first cell runs — googlecolab/backend-info, pip-freeze.gpu.txt at commit
# 4647a1df5425c1f7b244eb7378c55348fd0dd100 (GPU runtime, early 2026; cp312 wheels; its README lists the 2026.01
# runtime as Python 3.12.12, numpy 2.0.2, PyTorch 2.9.0). Colab moved to Python 3.13 in August 2026
# (googlecolab/colabtools#6081); 3.12 stays available as a pinned runtime version.
COLAB = {"python": "3.12.12", "torch": "2.10.0+cu128", "torchvision": "0.25.0+cu128", "numpy": "2.0.2",
         "matplotlib": "3.10.0", "pillow": "11.3.0", "tqdm": "4.67.3", "ipywidgets": "7.7.1", "ipyevents": "2.0.4",
         "scipy": "1.16.3", "ipykernel": "6.17.1"}


def project_table() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirement_lines() -> list[str]:
    lines = (line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def test_colab_already_satisfies_every_dependency_so_the_first_cell_installs_only_the_course():
    """``%pip install "zfcourse @ git+…"`` resolves pyproject's dependencies: when Colab's preinstalled versions
    satisfy them all, pip keeps torch, torchvision, numpy and the widget stack as they are (no download, no rebuild,
    no kernel restart)."""
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    project = project_table()
    assert Version(COLAB["python"]) in SpecifierSet(project["requires-python"])
    assert Version("3.13.0") in SpecifierSet(project["requires-python"])
    deps = [Requirement(d) for d in project["dependencies"]]
    assert {d.name.lower() for d in deps} <= set(COLAB), "a dependency Colab does not preinstall: add it to COLAB"
    for dep in deps:
        have = Version(COLAB[dep.name.lower()])
        assert dep.specifier.contains(have, prereleases=True), f"Colab has {dep.name} {have}, course asks {dep}"
        assert not any(s.operator in ("<", "<=", "==", "~=", "===") for s in dep.specifier), f"{dep}: lower bounds only"


def test_requirements_txt_agrees_with_the_package_on_what_colab_has():
    from packaging.requirements import Requirement
    from packaging.version import Version

    package = {Requirement(d).name.lower(): Requirement(d).specifier for d in project_table()["dependencies"]}
    listed = {Requirement(line).name.lower(): Requirement(line).specifier for line in requirement_lines()}
    assert set(package) <= set(listed), "requirements.txt must list every package dependency"
    for name, spec in listed.items():
        if name in package:
            assert spec == package[name], f"{name}: requirements.txt says {spec}, pyproject.toml {package[name]}"
        if name in COLAB:
            assert spec.contains(Version(COLAB[name]), prereleases=True), f"Colab has {name} {COLAB[name]}"
