"""The Colab path, executed offline: every chapter notebook runs with ``ZFCOURSE_SOURCE=imagenet`` in quick mode
against the fixtures of tests/imagenet_fixtures.py (random-init AlexNet in a torch hub cache under torchvision's own
file name; Imagenette/Imagewoof/Caltech folders and chapter 8's photo folder in their real layouts).

A chapter passes when no cell raises and no output says "skipped" (any case) or carries the line
``load_source`` prints when it falls back ("… unavailable (…); using the embedded world instead"): every
``imagenet`` cell really ran. The numbers mean nothing on random weights; the code path is what is tested.

Each notebook is executed from a temporary copy (the committed outputs are never touched) by nbclient, in a kernel
running this interpreter with this checkout first on ``PYTHONPATH``. Cells tagged ``nbval-skip`` are left out, as
nbval leaves them out.
"""
import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

import imagenet_fixtures as fx

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT = 900                                      # seconds, as nbval's --nbval-cell-timeout in pyproject.toml
SKIPPED = re.compile(r"skipped", re.IGNORECASE)
FALLBACK = re.compile(r"unavailable\b.*\bembedded world", re.IGNORECASE | re.DOTALL)
KERNEL = "zfcourse-imagenet-pass"


@pytest.fixture(scope="session")
def imagenet_env(tmp_path_factory):
    return fx.shared_fixtures(tmp_path_factory)


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory):
    """A kernelspec that starts this interpreter (not whatever ``python3`` kernel the machine has installed)."""
    data = tmp_path_factory.mktemp("jupyter")
    spec = data / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "zfcourse imagenet pass", "language": "python"}))
    return data


def output_texts(cell) -> list[str]:
    """Everything a reader would read in a code cell's outputs: streams, text/plain and text/html, error lines."""
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            texts.append(f"{out.get('ename')}: {out.get('evalue')}")
        else:
            data = out.get("data", {})
            texts.extend(str(data[k]) for k in ("text/plain", "text/html", "text/markdown") if k in data)
    return ["".join(t) if isinstance(t, list) else t for t in texts]


def complaints(nb) -> list[str]:
    """The outputs that show an ``imagenet`` cell did not really run: a "skipped" or the fallback line."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for text in output_texts(cell):
            for line in text.splitlines() or [text]:
                if SKIPPED.search(line) or FALLBACK.search(line):
                    found.append(f"cell {i}: {line.strip()[:200]}")
    return found


def test_complaints_finds_skips_and_the_fallback_line():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="ImageNet path Skipped: no net\n")]
    assert complaints(nb) == ["cell 0: ImageNet path Skipped: no net"]
    nb.cells[0].outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text="zfcourse: imagenette unavailable (root: x); using the embedded world instead\n")]
    assert len(complaints(nb)) == 1
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=1)]
    assert complaints(nb) == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_its_imagenet_cells_on_the_fixtures(chapter, imagenet_env, kernel_dir, tmp_path, monkeypatch):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env = {**imagenet_env, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "2", "JUPYTER_PATH": str(kernel_dir)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ZFCOURSE_MODE", raising=False)     # ZFCOURSE_QUICK=1 decides: quick mode
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    work = tmp_path / "book"
    work.mkdir()
    copy = work / chapter.name
    shutil.copy(chapter, copy)
    nb = nbformat.read(copy, as_version=4)
    nb.cells = [c for c in nb.cells if "nbval-skip" not in c.get("metadata", {}).get("tags", [])]
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT, allow_errors=False,
                            resources={"metadata": {"path": str(work)}})
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{chapter.name} on the imagenet fixtures: a cell raised\n{str(err)[-3000:]}")
    bad = complaints(nb)
    assert not bad, f"{chapter.name} on the imagenet fixtures did not run its imagenet cells:\n" + "\n".join(bad)
