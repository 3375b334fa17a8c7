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
    for name in check_book.FIGURE_TEXT_REQUIRED:  # the chapters whose figure text is enforced have it
        assert check_book.figure_text_problems((BUILT / name).read_text(encoding="utf-8"), name) == []


# ------------------------------------------------------------------------------------- figure text: alt, captions
def _cell(output: str) -> str:
    return f"""<div class="cell docutils container"><div class="cell_input"><pre>plot()</pre></div>
    <div class="cell_output docutils container">{output}</div></div>"""


CAPTIONED = _cell("""<figure class="align-default" id="fig-07-demo"><a href="../_images/a.png">
<img alt="Three maps of the probability of the true class." src="../_images/a.png"/></a>
<figcaption><p><span class="caption-number">Figure 7.1 </span><span class="caption-text">The paper's Fig. 7 re-made.
</span></p></figcaption></figure>""")
UNCAPTIONED = _cell('<a href="../_images/b.png"><img alt="../_images/b.png" src="../_images/b.png"/></a>')


def _figure_checks(*cells: str) -> list[str]:
    html = f"<html><body><article>{''.join(cells)}</article></body></html>"
    return [p.check for p in check_book.figure_text_problems(html, "book/07_occlusion.html")]


def test_captioned_figure_with_alt_text_passes():
    assert _figure_checks(CAPTIONED) == []


def test_default_alt_and_missing_caption_fail():
    """MyST-NB writes the file name as alt text when a cell has none: that is no alt text."""
    assert _figure_checks(CAPTIONED, UNCAPTIONED) == ["image without alt text", "figure without caption"]
    empty_alt = UNCAPTIONED.replace('alt="../_images/b.png"', 'alt=" "')
    assert _figure_checks(empty_alt) == ["image without alt text", "figure without caption"]
    alt_only = UNCAPTIONED.replace('alt="../_images/b.png"', 'alt="A bar chart of the errors."')
    assert _figure_checks(alt_only) == ["figure without caption"]


def test_caption_without_number_fails():
    """A caption without a name in the cell's metadata is not numbered (no "Figure 7.1")."""
    unnamed = CAPTIONED.replace('<span class="caption-number">Figure 7.1 </span>', "")
    assert _figure_checks(unnamed) == ["figure caption without a number"]


def test_widget_and_multi_figure_cells_need_alt_text_only():
    widget = _cell('<img alt="The explorer\'s default view." src="../_images/w.png"/>'
                   '<script type="application/vnd.jupyter.widget-view+json">{"model_id": "1"}</script>')
    several = _cell('<img alt="Layer 1." src="../_images/l1.png"/><img alt="Layer 2." src="../_images/l2.png"/>')
    assert _figure_checks(widget, several) == []
    assert _figure_checks(several.replace('alt="Layer 2."', "")) == ["image without alt text"]


def test_markdown_image_needs_alt_text():
    assert _figure_checks('<p><img alt="" src="../_images/diagram.svg"/></p>') == ["image without alt text"]


@pytest.mark.parametrize("number, ok", [("Figure 7.1", True), ("Figure 11.12", True), ("Figure 7", False),
                                        ("Fig. 7", False)])
def test_book_figure_numbers_carry_their_chapter(number, ok):
    """numfig_format in _config.yml with the toc's chapter numbers: "Figure 7.1" never reads like the paper's Fig. 7."""
    html = _page(HIDDEN, CAPTIONED.replace("Figure 7.1 ", number + " "))
    assert _checks(html) == ([] if ok else ["figure number reads like the paper's"])


def test_config_numbers_figures_as_book_figures():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]
    assert config["numfig"] is True and config["numfig_secnum_depth"] == 1
    assert config["numfig_format"]["figure"] == "Figure %s"
    assert check_book.BOOK_FIGURE_NUMBER.match(config["numfig_format"]["figure"] % "7.1")


# ------------------------------------------------------------------------------------- label heights in figures
DEJAVU_CAP = 0.729  # DejaVu Sans (matplotlib's default font): cap height and x-height as fractions of the em
DEJAVU_X = 0.547


def _figure_png(path, title_pt=10, tick_pt=10, dpi=100):
    """A figure like the book's: titled image panels (a photo-like noise image, a grey panel, a colour map) and a plot
    with tick labels, text at known point sizes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 4, figsize=(6.8, 2.2), dpi=dpi)
    axes[0].imshow(rng.random((32, 32, 3)))
    axes[1].imshow(np.full((32, 32), 0.3), cmap="gray", vmin=0, vmax=1)
    axes[2].imshow(rng.random((16, 16)), cmap="viridis")
    for ax, title in zip(axes[:3], ["input + occluder", "car", "relu5 map 2"]):
        ax.set_title(title, fontsize=title_pt)
        ax.set_axis_off()
    axes[3].plot([0, 100, 200], [0.2, 0.8, 0.5])
    axes[3].set_title("size", fontsize=title_pt)
    axes[3].tick_params(labelsize=tick_pt)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


@pytest.mark.parametrize("title_pt, tick_pt, dpi", [(10, 10, 100), (10, 6, 100), (12, 9, 150)])
def test_label_heights_match_the_font_size(tmp_path, title_pt, tick_pt, dpi):
    """The smallest text's cap height is its point size × dpi/72 × the font's cap height (to a pixel). The titles
    "car" and "size" have no capital, digit or ascender: they are read as short words of the titles' font, not as
    8-px labels; the tick labels "100", "200" as digits."""
    found = check_book.label_heights(_figure_png(tmp_path / "f.png", title_pt, tick_pt, dpi))
    smallest = min(title_pt, tick_pt) * dpi / 72
    assert abs(found.cap - DEJAVU_CAP * smallest) <= 1.1
    assert abs(found.x - DEJAVU_X * title_pt * dpi / 72) <= 1.1  # only the titles mix short and tall letters
    assert found.lines >= 6


def test_label_heights_ignore_pictures(tmp_path):
    """Dark pixels inside photos, grey panels and colour maps are not text: a figure without text has no labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 3, figsize=(6, 2), dpi=100)
    rng = np.random.default_rng(1)
    for ax, image in zip(axes, [rng.random((40, 40, 3)), rng.random((40, 40)) * 0.4, np.eye(40)]):
        ax.imshow(image, cmap="gray")
        ax.set_axis_off()
    fig.savefig(tmp_path / "g.png")
    plt.close(fig)
    assert check_book.label_heights(tmp_path / "g.png") == check_book.Labels(None, None, 0)


def _fig(src, natural, shown, heading="Fig. 7, re-made", caption=""):
    return {"src": src, "natural": natural, "shown": shown, "heading": heading, "caption": caption}


def test_label_problems_compare_shown_labels_with_the_body_x_height(tmp_path):
    _figure_png(tmp_path / "fig7.png")  # 680 px wide, labels 10 px tall
    body = {"xHeight": 8.5, "font": "16px sans-serif"}
    problems, info = check_book.label_problems("p @1280px", "Fig. 7", [_fig("fig7.png", 680, 680)], body, tmp_path)
    assert problems == [] and len(info) == 1
    assert "smallest label 10.0 px tall in the PNG" in info[0] and "body x-height 8.5 px" in info[0]
    # the same figure shown at 46 % (a 1494-px figure in the 688-px column): labels 4.6 px tall
    problems, _ = check_book.label_problems("p @1280px", "Fig. 7", [_fig("fig7.png", 1494, 688)], body, tmp_path)
    assert [p.check for p in problems] == ["label smaller than the body text's x-height"]


def test_label_problems_find_the_paper_figure_by_heading_or_caption(tmp_path):
    png = _figure_png(tmp_path / "fig2.png")
    body = {"xHeight": 8.5, "font": "16px sans-serif"}
    other = _fig(png.name, 680, 300, heading="Browse any map")  # small, but not the paper's Fig. 2
    cited = _fig(png.name, 680, 680, heading="Layer 1", caption="Figure 4.2 The paper’s Fig. 2 for layer 1.")
    problems, info = check_book.label_problems("p", "Fig. 2", [other, cited], body, tmp_path)
    assert problems == [] and len(info) == 1
    problems, _ = check_book.label_problems("p", "Fig. 2", [other, _fig(png.name, 680, 680, "Fig. 20")], body,
                                            tmp_path)
    assert [p.check for p in problems] == ["label size"]  # Fig. 20 is not Fig. 2: no figure found
