"""The built book's HTML as readers get it: exercise answers hidden, no nbval markers, no authoring paths.

The checks live in tools/check_book.py (which .ci/run runs on the freshly built book, together with the browser
checks). Here they are tested on small pages made for the purpose, and on _build/html when a build is present.
"""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import check_book  # noqa: E402

sys.path.pop(0)
BUILT = ROOT / "_build" / "html"


def _page(exercise_cell: str, text: str = "") -> str:
    return f"""<html><body><article class="bd-article"><section id="intro"><p>Intro. {text}</p></section>
    <section id="exercises"><h2>Exercises</h2><p><strong>Exercise 1.</strong> Predict first.</p>
    {exercise_cell}</section>
    </article></body></html>"""


HIDDEN = """<div class="cell tag_hide-cell docutils container"><details class="admonition hide above-input">
<summary>Show code cell content</summary><div class="cell_input"><pre>print(42)</pre></div>
<div class="cell_output"><pre>42</pre></div></details></div>"""
CODE_ONLY_HIDDEN = """<div class="cell tag_hide-input docutils container"><details class="hide above-input">
<summary>Show code cell source</summary><div class="cell_input"><pre>print(42)</pre></div></details>
<div class="cell_output"><pre>42</pre></div></div>"""
OPEN = HIDDEN.replace("<details class", "<details open class")


def _checks(html):
    return [p.check for p in check_book.static_problems(html, "page.html")]


def test_hidden_answer_passes():
    assert _checks(_page(HIDDEN)) == []


@pytest.mark.parametrize("cell", [CODE_ONLY_HIDDEN, OPEN, HIDDEN.replace("tag_hide-cell", "tag_other")])
def test_visible_answer_fails(cell):
    assert _checks(_page(cell)) == ["exercise answer not hidden"]


@pytest.mark.parametrize("text", ["# NBVAL_CHECK_OUTPUT", "tagged nbval-ignore-output"])
def test_nbval_marker_fails(text):
    assert _checks(_page(HIDDEN, text)) == ["nbval marker visible"]


@pytest.mark.parametrize("text", ["Paper values from `numbers.md`", "see ../shared/paper/numbers.md",
                                  "/work/main/data", "open book/03_training.ipynb", "tests/test_deconv.py",
                                  "bench/occlusion.md"])
def test_authoring_path_fails(text):
    assert "authoring path visible" in _checks(_page(HIDDEN, text))


def test_reader_paths_pass():
    """Paths a reader needs to run the course (the shipped data, the package) are not authoring paths."""
    assert _checks(_page(HIDDEN, "the model card in data/course_model/, `zfcourse.paper`, a .ipynb download")) == []


def _exercise_cells(nb_path):
    """Code cells after the '## Exercises' heading of a notebook."""
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    start = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                  and "## Exercises" in "".join(c["source"]).splitlines()), None)
    if start is None:
        return []
    end = next((i for i in range(start + 1, len(cells)) if cells[i]["cell_type"] == "markdown"
                and "".join(cells[i]["source"]).lstrip().startswith("## ")), len(cells))
    return [c for c in cells[start:end] if c["cell_type"] == "code"]


def test_every_exercise_solution_is_tagged_hide_cell():
    notebooks = sorted((ROOT / "book").glob("*.ipynb"))
    solutions = [c for nb in notebooks for c in _exercise_cells(nb)]
    assert len(solutions) >= 21
    assert all("hide-cell" in c["metadata"].get("tags", []) for c in solutions)
    for nb in notebooks:  # markers are tags now, never comments a reader would see
        for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            assert "NBVAL_" not in "".join(c["source"]), nb.name


@pytest.mark.skipif(not (BUILT / "book" / "intro.html").is_file(), reason="the book is not built (_build/html)")
def test_built_book_has_no_static_problems():
    pages = check_book.pages(BUILT)
    assert len(pages) >= 13
    problems = [str(p) for page in pages
                for p in check_book.static_problems(page.read_text(encoding="utf-8"), page.name)]
    assert problems == []
    chapter = (BUILT / "book" / "01_convnet.html").read_text(encoding="utf-8")
    assert chapter.count("tag_hide-cell") >= 3
