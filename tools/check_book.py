"""Check the built book as a reader sees it: every page of _build/html in headless Chromium.

    python tools/check_book.py [--html _build/html] [--screens _build/screens] [--no-browser] [--page PAGE …]

Static checks on each page's HTML (no browser needed, also run by tests/test_book_html.py):
  - every exercise answer is hidden: each code cell under an "Exercises" heading is tagged hide-cell, and its code *and*
    output sit inside a closed <details> toggle;
  - no nbval marker (``NBVAL_CHECK_OUTPUT`` …, ``nbval-check-output`` …) in the text a reader sees;
  - no authoring path (``/work/``, ``shared/paper``, ``numbers.md``, ``../shared``, ``book/NN_x.ipynb``,
    ``tests/test_x``, ``bench/x.md``) in the text a reader sees;
  - every captioned figure is numbered with its chapter ("Figure 7.2"), never like the paper's own "Fig. 7";
  - figure text, on the pages in FIGURE_TEXT_REQUIRED (or all pages with --figure-text all; elsewhere it is counted
    and reported, not failed): every image has alt text (not empty, not the file name MyST-NB puts there by default),
    and every figure a notebook cell draws has a numbered caption — except a widget's default view and the images of
    a cell that draws several (the book's convention leaves those uncaptioned).
In the browser (Debian's /usr/bin/chromium driven by Playwright; a fresh profile per run), at 1280×900 and at a
phone-sized 390×844:
  - no JavaScript error (uncaught exception or console error) and no failed request for a file of the book;
  - every image loads (complete, naturalWidth > 0);
  - no code block or text output wider than its column (its content would run off the right edge: scrollWidth >
    clientWidth);
  - no figure wider than its column: an image's intended width (its width attribute, else its natural width in CSS
    pixels) must fit the width its cell has (the text column, or 136 % of it for a cell tagged full-width); shown at
    less than 90 % of that width, its labels shrink with it and it fails. Figures in WIDE_FIGURES_ALLOWED are
    reported but do not fail: see that list;
  - the page does not scroll sideways on the phone-sized window;
  - label size (LABELLED_FIGURES: the paper's Fig. 7 and Fig. 2): the labels of those figures, as shown at 1280 px, are
    at least as tall as the x-height of the body text. The body's x-height is the ink height of an "x" in the
    paragraphs' computed font (canvas measureText); a label's height is measured in the PNG (label_heights: the height
    of its capitals and digits, found as dark glyphs on the figure's white background) and multiplied by the scale the
    image is shown at (rendered width / natural width);
and a screenshot of each page at 1280 px (full page) and of the top of each page at 390 px goes to _build/screens/.

Exit status 0 when every check passes, 1 otherwise; one line per problem on stdout and a summary line at the end.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Figures that are wider than the text column (688 px at a 1280-px window) in the committed notebook outputs, by the
# content hash Jupyter Book gives each image. Each one is drawn by a code cell that the next full-mode re-execution of
# its chapter re-draws for the column; a re-drawn figure gets a new hash, so it is checked again and this list goes
# stale on its own (stale entries are reported, not failed). Only figures a re-execution will fix may be listed here.
WIDE_FIGURES_ALLOWED: dict[str, str] = {}
# Console errors that are not faults of the book: pydata-sphinx-theme logs this once when a fresh browser profile has
# no stored light/dark choice yet, and then uses "auto", which is what it should do.
HARMLESS_CONSOLE = ("Got invalid theme mode: . Resetting to auto.",)

# Pages whose figure text (alt text on every image, a caption on every figure) is enforced; "*" enforces it on all.
# A chapter is added here once its figures have their captions and alt text (MyST-NB cell metadata).
FIGURE_TEXT_REQUIRED = {"book/01_convnet.html", "book/02_deconvnet.html", "book/03_training.html",
                        "book/04_feature_visualization.html", "book/05_invariance.html", "book/06_architecture.html",
                        "book/07_occlusion.html", "book/08_correspondence.html", "book/09_imagenet_results.html",
                        "book/10_generalization.html", "book/11_discussion.html"}
# The paper's figures whose labels must stay legible in the book: page -> the paper's figure. The book's figures of it
# are the images in a section whose heading names it ("Fig. 7, re-made") or whose caption cites it ("the paper's
# Fig. 7"); a page where none is found fails.
LABELLED_FIGURES = {"book/07_occlusion.html": "Fig. 7", "book/04_feature_visualization.html": "Fig. 2"}

MIN_SCALE = 0.9  # a figure may be shown at 90 % of its drawn size, not less
EXERCISE_SECTION = re.compile(r"^exercises?(-\d+)?$")
NBVAL_MARKER = re.compile(r"NBVAL_[A-Z_]+|nbval-(?:check-output|ignore-output|skip|raises-exception)")
AUTHORING_PATH = re.compile(
    r"/work/|shared/paper|\.\./shared|\bnumbers\.md\b|\bbook/\d\d_\w+\.ipynb|\btests/test_\w+|\bbench/\w+\.(?:md|py)\b")
BOOK_FIGURE_NUMBER = re.compile(r"^Figure \d+\.\d+\b")  # _config.yml's numfig_format, with the chapter's number


@dataclass(frozen=True)
class Problem:
    page: str
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.check}: {self.detail}"


# --------------------------------------------------------------------------------------------------- static checks
def _article(html):
    """The article of a page, given as HTML text or as a parsed BeautifulSoup (parsed once for all checks)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser") if isinstance(html, str) else html
    return soup.find("article") or soup.body or soup


def static_problems(html, page: str) -> list[Problem]:
    """Problems visible in a page's HTML alone: unhidden exercise answers, nbval markers, authoring paths, figure
    numbers without their chapter."""
    article = _article(html)
    problems = []
    for section in article.find_all("section", id=EXERCISE_SECTION):
        for n, cell in enumerate(section.find_all("div", class_="cell"), 1):
            classes = cell.get("class", [])
            parts = cell.find_all("div", class_=["cell_input", "cell_output"])
            hidden = all(p.find_parent("details") is not None and p.find_parent("details").get("open") is None
                         and cell in p.find_parent("details").parents for p in parts)
            if "tag_hide-cell" not in classes or not hidden:
                code = cell.find("div", class_="cell_input")
                first = code.get_text(" ", strip=True)[:60] if code else ""
                problems.append(Problem(page, "exercise answer not hidden", f"cell {n} of the exercises ({first!r})"))
    text = article.get_text(" ")
    for m in sorted(set(NBVAL_MARKER.findall(text))):
        problems.append(Problem(page, "nbval marker visible", m))
    for m in sorted(set(AUTHORING_PATH.findall(text))):
        context = text[max(0, text.find(m) - 40): text.find(m) + 40].replace("\n", " ")
        problems.append(Problem(page, "authoring path visible", f"{m!r} in …{context}…"))
    for number in article.select("figure figcaption span.caption-number"):
        if not BOOK_FIGURE_NUMBER.match(number.get_text(" ", strip=True)):
            problems.append(Problem(page, "figure number reads like the paper's", number.get_text(" ", strip=True)))
    return problems


def _missing_alt(img) -> bool:
    """No alt text, or only the image's file name (what MyST-NB writes when a cell has no ``mystnb.image.alt``)."""
    alt = (img.get("alt") or "").strip()
    return not alt or alt == img.get("src", "").strip() or bool(re.fullmatch(r"\S+\.(?:png|jpe?g|svg|gif)", alt))


def figure_text_problems(html, page: str) -> list[Problem]:
    """Images without alt text, and notebook figures without a caption, on one page.

    A figure is an image in a code cell's output. Not asked to have a caption: a widget's default view (the cell's
    output carries the widget) and the images of a cell that draws several — one caption would be repeated, with a
    number each, under every one of them.
    """
    article = _article(html)
    problems = []
    for img in article.find_all("img"):
        if _missing_alt(img):
            problems.append(Problem(page, "image without alt text", Path(img.get("src", "?")).name))
    for n, cell in enumerate(article.find_all("div", class_="cell"), 1):
        output = cell.find("div", class_="cell_output")
        images = output.find_all("img") if output else []
        widget = output is not None and output.find("script", type="application/vnd.jupyter.widget-view+json")
        if len(images) != 1 or widget:
            continue
        figure = images[0].find_parent("figure")
        caption = figure.find("figcaption") if figure else None
        if caption is None or not caption.get_text(" ", strip=True):
            problems.append(Problem(page, "figure without caption", f"code cell {n}: {Path(images[0]['src']).name}"))
        elif caption.find("span", class_="caption-number") is None:  # a figure without a name gets no number
            problems.append(Problem(page, "figure caption without a number",
                                    f"code cell {n} (its mystnb.figure metadata needs a name)"))
    return problems


def pages(html_dir: Path) -> list[Path]:
    """The book's content pages (not the search page, the index or the redirect)."""
    skip = {"search.html", "genindex.html", "index.html"}
    return sorted(p for p in html_dir.rglob("*.html") if p.name not in skip and "_static" not in p.parts
                  and "_sources" not in p.parts)


# ---------------------------------------------------------------------------------------------- label heights
@dataclass(frozen=True)
class Labels:
    """The smallest text of a figure, in its PNG's pixels: ``cap`` is the height of its capitals and digits (the
    height of a label), ``x`` its x-height (None when no line mixes short and tall letters); ``lines`` the number of
    text lines measured."""
    cap: float | None
    x: float | None
    lines: int


def label_heights(png: Path) -> Labels:
    """Measure a matplotlib figure's label heights in its PNG, by finding its text as glyphs.

    Glyphs: connected groups (8-neighbour) of dark neutral pixels (max channel ≤ 150, channels within 40 of each
    other) at least 4 px tall, not much wider than tall (not a line), not a solid block, whose box grown by 2 px holds
    only neutral pixels and whose surrounding ring is mostly (≥ 60 %) white — text on the figure's white background,
    not dark pixels inside a photo, a map or a grey panel. A glyph's top and bottom are measured to a fraction of a
    pixel from the anti-aliasing: the darkness (0 white … 1 the glyph's darkest) of the row just outside its box
    moves the edge out, a partly dark edge row moves it in. Glyphs whose vertical extents overlap by half and whose
    gap is under 0.6 of their height form a line (a horizontal label; rotated labels are not measured); a line needs
    two glyphs. A line's baseline is its glyphs' most common bottom; of the glyphs on it, the tallest gives the line's
    cap height ("d", "5", "A": ascenders are within a pixel of capitals at these sizes), those at most 0.85 of that
    its x-height. A line whose glyphs are all one height is all tall ("100") or all short ("car", "size"): where that
    height is within a pixel of a mixed line's x-height, the spacing of its glyphs tells. Digits are tabular: their
    centres are 0.636 em apart, 0.87 of their height, every one; short letters are spaced unevenly (0.75 to 1.8 of
    their height: "r", "i", "m"). A line whose every gap between neighbouring centres is within max(0.8 px, 6 %) of
    0.87 of its height, and whose glyphs are all at least 0.35 of it wide (not an "i"), is digits, and its height is
    its cap height; otherwise it is a short word and takes the smallest cap height of the mixed lines with that
    x-height. Other one-height lines: their height is their cap height. Returns the smallest over lines, in PNG
    pixels.
    """
    import numpy as np
    from PIL import Image
    from scipy import ndimage

    rgb = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
    hi, lo = rgb.max(2), rgb.min(2)
    neutral, white = hi - lo <= 40, lo >= 235
    dark = np.pad((255 - hi) / 255, 1)  # with a white border: every glyph has a row above and below it
    labels, _ = ndimage.label(neutral & (hi <= 150), structure=np.ones((3, 3)))
    glyphs = []  # (top, bottom, left, right), top and bottom to a fraction of a pixel
    for k, (ys, xs) in enumerate(ndimage.find_objects(labels), 1):
        h, w = ys.stop - ys.start, xs.stop - xs.start
        if not 4 <= h <= 60 or w > 2 * h + 4 or ((labels[ys, xs] == k).mean() > 0.85 and w >= 4):
            continue
        y0, y1, x0, x1 = max(ys.start - 2, 0), ys.stop + 2, max(xs.start - 2, 0), xs.stop + 2
        ring = np.ones(white[y0:y1, x0:x1].shape, bool)
        ring[ys.start - y0: ys.stop - y0, xs.start - x0: xs.stop - x0] = False
        if not (neutral[y0:y1, x0:x1].all() and white[y0:y1, x0:x1][ring].mean() >= 0.6):
            continue
        rows = dark[ys.start: ys.stop + 2, xs.start + 1: xs.stop + 1].max(1)  # the glyph's rows and one either side
        above, first, last, below = rows[[0, 1, -2, -1]] / rows.max()
        glyphs.append((ys.start + (1 - first) - above, ys.stop - (1 - last) + below, xs.start, xs.stop))
    lines: list[list[tuple]] = []
    for g in sorted(glyphs, key=lambda g: g[2]):
        for line in lines:
            top, bottom, right = min(t[0] for t in line), max(t[1] for t in line), max(t[3] for t in line)
            overlap = min(bottom, g[1]) - max(top, g[0])
            if overlap >= 0.5 * min(bottom - top, g[1] - g[0]) and 0 <= g[2] - right <= 0.6 * (g[1] - g[0]):
                line.append(g)
                break
        else:
            lines.append([g])
    mixed, uniform = [], []  # (cap, x) of lines with short and tall letters; (height, digits?) of one-height lines
    for line in (ln for ln in lines if len(ln) >= 2):
        bottoms = [round(g[1]) for g in line]
        base = max(set(bottoms), key=bottoms.count)
        on = [g for g in line if abs(g[1] - base) <= 0.75]
        heights = [g[1] - g[0] for g in on]
        tall, short = max(heights), [h for h in heights if h <= 0.85 * max(heights)]
        if short:
            mixed.append((tall, float(np.median(short))))
        elif len(on) >= 2:
            gaps = np.diff([(g[2] + g[3]) / 2 for g in on])
            even = np.all(np.abs(gaps - 0.87 * tall) <= max(0.8, 0.06 * tall))
            uniform.append((tall, bool(even and all(g[3] - g[2] >= 0.35 * tall for g in on))))
    caps = [c for c, _ in mixed]
    for h, digits in uniform:
        as_x = [c for c, x in mixed if abs(x - h) <= 1]
        caps.append(min(as_x) if as_x and not digits else h)
    return Labels(float(min(caps)) if caps else None, float(min(x for _, x in mixed)) if mixed else None, len(caps))


# -------------------------------------------------------------------------------------------------- browser checks
_MEASURE = """() => {
  const art = document.querySelector('article') || document.body;
  const col = art.clientWidth;
  const pres = [...art.querySelectorAll('pre')].filter(p => p.offsetParent !== null);
  const wide = pres.filter(p => p.scrollWidth > p.clientWidth + 1).map(p => ({
      over: p.scrollWidth - p.clientWidth,
      text: p.innerText.split('\\n').sort((a, b) => b.length - a.length)[0].slice(0, 70)}));
  const imgs = [...art.querySelectorAll('img')];
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));
  const figs = imgs.filter(i => i.naturalWidth > 0 && i.closest('.cell_output, figure')).map(i => ({
      src: i.getAttribute('src'), natural: i.naturalWidth,
      heading: (i.closest('section')?.querySelector('h1, h2, h3, h4')?.innerText || ''),
      caption: (i.closest('figure')?.querySelector('figcaption')?.innerText || ''),
      room: (i.closest('div.cell') || i.closest('figure') || art).getBoundingClientRect().width,
      intended: parseFloat(i.getAttribute('width')) || i.naturalWidth, shown: i.getBoundingClientRect().width}));
  return {col, wide, broken, figs, pageWide: document.documentElement.scrollWidth > window.innerWidth + 1};
}"""
# The body text's x-height in CSS px: the ink height of an "x" in the paragraphs' computed font, drawn on a canvas.
_X_HEIGHT = """async () => {
  await document.fonts.ready;
  const cs = getComputedStyle(document.querySelector('article p') || document.body);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
  const m = ctx.measureText('x');
  return {xHeight: m.actualBoundingBoxAscent + m.actualBoundingBoxDescent, font: ctx.font};
}"""


def _serve(html_dir: Path):
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def find_chromium() -> str | None:
    """Debian's /usr/bin/chromium, else whichever Chromium or Chrome is on the PATH (a GitHub runner's)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def label_problems(label: str, paper: str, figs: list[dict], body: dict, page_dir: Path):
    """The paper's figure ``paper`` on one page: its labels, as shown, against the body text's x-height.

    ``figs``: the page's figure images as _MEASURE gives them (src, natural and shown width, the heading of their
    section, their caption); ``body``: _X_HEIGHT's answer. Returns (problems, info lines with the measured numbers).
    """
    named = re.compile(rf"{re.escape(paper)}(?!\d)")
    cited = re.compile(rf"paper[’']s {re.escape(paper)}(?!\d)")
    targets = [f for f in figs if named.match(f["heading"].strip()) or cited.search(f["caption"])]
    if not targets:
        return [Problem(label, "label size", f"no figure of the paper's {paper} found (a section headed "
                                             f"'{paper} …' or a caption citing the paper's {paper})")], []
    problems, info = [], []
    x_body = body["xHeight"]
    for f in targets:
        png = (page_dir / f["src"]).resolve()
        scale = f["shown"] / f["natural"]
        found = label_heights(png)
        if found.cap is None:
            problems.append(Problem(label, "label size", f"{png.name}: no text found in the figure"))
            continue
        shown = found.cap * scale
        x_part = f" (x-height {found.x:.1f} px)" if found.x is not None else ""
        info.append(f"{label}: the paper's {paper}, {png.name[-20:]}: smallest label {found.cap:.1f} px tall in the "
                    f"PNG{x_part}; shown at {scale:.0%}: {shown:.1f} px on screen; body x-height {x_body:.1f} px "
                    f"({body['font'][:40]}); {found.lines} labels measured")
        if shown < x_body:
            problems.append(Problem(label, "label smaller than the body text's x-height",
                                    f"the paper's {paper}, {png.name}: {shown:.1f} px < {x_body:.1f} px"))
    return problems, info


def browser_problems(html_dir: Path, screens: Path | None, chromium: str = "/usr/bin/chromium",
                     phone: bool = True, only: list[Path] | None = None) -> tuple[list[Problem], list[str]]:
    """Open every page in headless Chromium; return the problems and an info list (allowed wide figures, timings)."""
    from playwright.sync_api import sync_playwright

    problems, info = [], []
    server = _serve(html_dir)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    seen_allowed = set()
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="check_book_") as profile:
            context = pw.chromium.launch_persistent_context(profile, executable_path=chromium, headless=True,
                                                            args=args, viewport={"width": 1280, "height": 900})
            for path in only or pages(html_dir):
                name = path.relative_to(html_dir).as_posix()
                t0 = time.perf_counter()
                for width, height in ((1280, 900), (390, 844)) if phone else ((1280, 900),):
                    page = context.new_page()
                    page.set_viewport_size({"width": width, "height": height})
                    errors = []
                    page.on("pageerror", lambda e, errors=errors: errors.append(f"uncaught: {e}"))
                    # "Failed to load resource" for a file of the book is reported by requestfailed below; for an
                    # outside resource (a CDN, the launch buttons' icons) it only says that the check runs offline.
                    page.on("console", lambda m, errors=errors: errors.append(f"console: {m.text}")
                            if m.type == "error" and not m.text.startswith("Failed to load resource")
                            and m.text not in HARMLESS_CONSOLE else None)
                    page.on("requestfailed", lambda r, errors=errors: errors.append(f"request failed: {r.url}")
                            if r.url.startswith(base) else None)
                    page.goto(base + name, wait_until="load")
                    page.evaluate("""async () => {
                        for (const i of document.images) { i.loading = 'eager'; }
                        await Promise.all([...document.images].map(i => i.decode().catch(() => null))); }""")
                    m = page.evaluate(_MEASURE)
                    label = f"{name} @{width}px"
                    problems += [Problem(label, "JavaScript error", e[:160]) for e in dict.fromkeys(errors)]
                    problems += [Problem(label, "image did not load", src) for src in m["broken"]]
                    if width == 1280:
                        problems += [Problem(label, "code/output wider than its column",
                                             f"{w['over']} px too wide: {w['text']!r}") for w in m["wide"]]
                        for f in m["figs"]:
                            if f["shown"] < MIN_SCALE * f["intended"] - 1:
                                key = Path(f["src"]).stem
                                what = (f"{Path(f['src']).name}: {f['intended']:.0f} px wide with {f['room']:.0f} px "
                                        f"of room, shown at {f['shown'] / f['intended']:.0%}")
                                if key in WIDE_FIGURES_ALLOWED:
                                    seen_allowed.add(key)
                                    info.append(f"{label}: allowed wide figure ({WIDE_FIGURES_ALLOWED[key]}): {what}")
                                else:
                                    problems.append(Problem(label, "figure wider than its column", what))
                        if name in LABELLED_FIGURES:
                            body = page.evaluate(_X_HEIGHT)
                            more, lines = label_problems(label, LABELLED_FIGURES[name], m["figs"], body,
                                                         (html_dir / name).parent)
                            problems += more
                            info += lines
                    elif m["pageWide"]:
                        problems.append(Problem(label, "page scrolls sideways", "document wider than the window"))
                    if screens is not None:
                        shot = screens / (name.replace("/", "__").removesuffix(".html") + f"@{width}.png")
                        shot.parent.mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(shot), full_page=width == 1280)
                    page.close()
                info.append(f"{name}: {time.perf_counter() - t0:.1f} s")
            context.close()
    finally:
        server.shutdown()
    info += [f"stale allow-list entry (figure no longer in the book): {k}" for k in WIDE_FIGURES_ALLOWED
             if k not in seen_allowed]
    return problems, info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument("--screens", type=Path, default=ROOT / "_build" / "screens")
    ap.add_argument("--chromium", default=None, help="the browser to drive (default: chromium on the PATH)")
    ap.add_argument("--no-browser", action="store_true", help="static HTML checks only")
    ap.add_argument("--no-phone", action="store_true", help="skip the 390-px pass")
    ap.add_argument("--page", action="append", default=[], help="check only PAGE (e.g. book/07_occlusion.html)")
    ap.add_argument("--figure-text", action="append", default=[], metavar="PAGE",
                    help="also enforce alt text and captions on PAGE (e.g. book/07_occlusion.html; 'all': every page)")
    args = ap.parse_args(argv)
    if not (args.html / "book" / "intro.html").is_file():
        print(f"check_book: no built book in {args.html} (run jupyter-book build . first)")
        return 1
    from bs4 import BeautifulSoup

    t0 = time.perf_counter()
    found = [p for p in pages(args.html) if not args.page or p.relative_to(args.html).as_posix() in args.page]
    required = FIGURE_TEXT_REQUIRED | set(args.figure_text)
    problems, pending = [], []
    for path in found:
        name, html = path.relative_to(args.html).as_posix(), BeautifulSoup(path.read_bytes(), "html.parser")
        problems += static_problems(html, name)
        figure_text = figure_text_problems(html, name)
        if required & {"*", "all", name}:
            problems += figure_text
        elif figure_text:
            pending.append(f"figure text not yet enforced on {name}: " + ", ".join(
                f"{c}: {n}" for c in dict.fromkeys(p.check for p in figure_text)
                if (n := sum(p.check == c for p in figure_text))))
    info = []
    if not args.no_browser:
        chromium = args.chromium or find_chromium()
        if chromium is None:
            print("check_book: no Chromium found (Debian: apt-get install chromium)")
            return 1
        more, info = browser_problems(args.html, args.screens, chromium, phone=not args.no_phone, only=found)
        problems += more
    for line in pending + info:
        print("  " + line)
    for p in problems:
        print(p)
    print(f"check_book: {len(found)} pages, {len(problems)} problems, {time.perf_counter() - t0:.0f} s"
          + ("" if args.no_browser else f"; screenshots in {args.screens}"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
