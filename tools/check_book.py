"""Check the built book as a reader sees it: every page of _build/html in headless Chromium.

    python tools/check_book.py [--html _build/html] [--screens _build/screens] [--no-browser]

Static checks on each page's HTML (no browser needed, also run by tests/test_book_html.py):
  - every exercise answer is hidden: each code cell under an "Exercises" heading is tagged hide-cell, and its code *and*
    output sit inside a closed <details> toggle;
  - no nbval marker (``NBVAL_CHECK_OUTPUT`` …, ``nbval-check-output`` …) in the text a reader sees;
  - no authoring path (``/work/``, ``shared/paper``, ``numbers.md``, ``../shared``, ``book/NN_x.ipynb``,
    ``tests/test_x``, ``bench/x.md``) in the text a reader sees.
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

MIN_SCALE = 0.9  # a figure may be shown at 90 % of its drawn size, not less
EXERCISE_SECTION = re.compile(r"^exercises?(-\d+)?$")
NBVAL_MARKER = re.compile(r"NBVAL_[A-Z_]+|nbval-(?:check-output|ignore-output|skip|raises-exception)")
AUTHORING_PATH = re.compile(
    r"/work/|shared/paper|\.\./shared|\bnumbers\.md\b|\bbook/\d\d_\w+\.ipynb|\btests/test_\w+|\bbench/\w+\.(?:md|py)\b")


@dataclass(frozen=True)
class Problem:
    page: str
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.check}: {self.detail}"


# --------------------------------------------------------------------------------------------------- static checks
def _article(soup):
    return soup.find("article") or soup.body or soup


def static_problems(html: str, page: str) -> list[Problem]:
    """Problems visible in a page's HTML alone: unhidden exercise answers, nbval markers, authoring paths."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    article = _article(soup)
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
    return problems


def pages(html_dir: Path) -> list[Path]:
    """The book's content pages (not the search page, the index or the redirect)."""
    skip = {"search.html", "genindex.html", "index.html"}
    return sorted(p for p in html_dir.rglob("*.html") if p.name not in skip and "_static" not in p.parts
                  and "_sources" not in p.parts)


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
      room: (i.closest('div.cell') || i.closest('figure') || art).getBoundingClientRect().width,
      intended: parseFloat(i.getAttribute('width')) || i.naturalWidth, shown: i.getBoundingClientRect().width}));
  return {col, wide, broken, figs, pageWide: document.documentElement.scrollWidth > window.innerWidth + 1};
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


def browser_problems(html_dir: Path, screens: Path | None, chromium: str = "/usr/bin/chromium",
                     phone: bool = True) -> tuple[list[Problem], list[str]]:
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
            for path in pages(html_dir):
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
    args = ap.parse_args(argv)
    if not (args.html / "book" / "intro.html").is_file():
        print(f"check_book: no built book in {args.html} (run jupyter-book build . first)")
        return 1
    t0 = time.perf_counter()
    found = pages(args.html)
    problems = [p for path in found
                for p in static_problems(path.read_text(encoding="utf-8"), path.relative_to(args.html).as_posix())]
    info = []
    if not args.no_browser:
        chromium = args.chromium or find_chromium()
        if chromium is None:
            print("check_book: no Chromium found (Debian: apt-get install chromium)")
            return 1
        more, info = browser_problems(args.html, args.screens, chromium, phone=not args.no_phone)
        problems += more
    for line in info:
        print("  " + line)
    for p in problems:
        print(p)
    print(f"check_book: {len(found)} pages, {len(problems)} problems, {time.perf_counter() - t0:.0f} s"
          + ("" if args.no_browser else f"; screenshots in {args.screens}"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
