"""The course's measured scorecard (§6 of Zeiler & Fergus 2014): each chapter records what it measured against one of
the paper's claims, and the discussion chapter gathers the records into one table.

§6 sums the paper up in a handful of claims — the features are compositional and grow more invariant and
discriminative with depth; visualisation found a better architecture; the model is sensitive to local structure; depth
matters more than any single section; the features transfer. Every chapter checks some of them. So that the closing
table is computed and never typed, a chapter ends its check with::

    scorecard.record("fig5", cfg, measured="layer 7 moves 0.41× as far as layer 1 under translation …",
                     verdict=verdict, why="…", numbers={"ratio_translation": 0.41, …})

where ``verdict`` comes from a rule the chapter states in code beside the numbers (``"agrees"``, ``"partly"``,
``"differs"``). A record is written to the shipped data folder (``data/results/<claim>.json``, atomically) only by a
full-mode run on the embedded source from a clone — the run whose outputs the book shows; quick mode (CI) and the
``imagenet`` source return the record without writing, so a test never overwrites the book's results, and a Colab
session on AlexNet never files AlexNet's numbers under the course model. :func:`load` reads every record;
:func:`table` lays them out in the paper's order with the claims of :data:`CLAIMS` (each chapter linked to its page,
:data:`CHAPTER_PAGES`); :func:`reading` gives one paragraph per claim with the numbers its verdict rests on;
:func:`plot` draws the verdicts chapter by chapter; :func:`glue` publishes each verdict under a name other pages of
the book paste (the introduction's table of claims shows them).
"""
from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Claim", "CLAIMS", "VERDICTS", "CHAPTER_PAGES", "record", "load", "table", "reading", "plot", "glue",
           "glued", "results_dir"]

VERDICTS = ("agrees", "partly", "differs", "not measured")
# Blue / light orange / dark red (told apart by lightness too, so red-green colour blindness does not matter).
VERDICT_COLOURS = {"agrees": "#2166ac", "partly": "#f4a582", "differs": "#b2182b", "not measured": "#d9d9d9"}

# The book's page of each chapter (the toc's file names, without extension): the table links its chapter column there.
CHAPTER_PAGES = {1: "01_convnet", 2: "02_deconvnet", 3: "03_training", 4: "04_feature_visualization",
                 5: "05_invariance", 6: "06_architecture", 7: "07_occlusion", 8: "08_correspondence",
                 9: "09_imagenet_results", 10: "10_generalization", 11: "11_discussion"}


@dataclass(frozen=True)
class Claim:
    """One claim of the paper: where it is made, what it says (paraphrased), and which chapter checks it."""

    key: str
    where: str
    claim: str
    chapter: int


CLAIMS: dict[str, Claim] = {c.key: c for c in (
    Claim("fig3", "§2, Fig. 3", "The ZF model's layer sizes: 224 → 110 → 55 → 26 → 13 → 6, 96/256/384/384/256 maps, "
          "fc 4096", 1),
    Claim("fig1", "§2.1, Fig. 1", "The deconvnet (unpool with switches, rectify, transposed filters) maps one "
          "activation back to pixels", 2),
    Claim("fig6a", "§3, Fig. 6(a)", "Without feature scale clipping a few layer-1 filters come to dominate", 3),
    Claim("fig2", "§4, Fig. 2", "Features form a hierarchy: edges and colours, conjunctions and textures, "
          "class-specific parts, whole objects", 4),
    Claim("fig4", "§4, Fig. 4", "Lower layers converge within a few epochs, upper layers only after many", 4),
    Claim("fig5", "§4, Fig. 5", "Small transformations change layer 1 a lot and layer 7 less; the output is stable "
          "to translation and scaling, not to rotation except for symmetric objects", 5),
    Claim("fig6", "§4.1, Fig. 6", "Krizhevsky et al.'s 11×11 stride-4 first layer aliases and leaves dead filters; "
          "7×7 stride 2 fixes both", 6),
    Claim("fig7", "§4.2, Fig. 7", "Covering the object drops the true class's probability: the model localises "
          "the object, not only the context", 7),
    Claim("table1", "§4.3, Table 1", "Masking the same part in different dogs changes layer-5 features more "
          "consistently than random masks", 8),
    Claim("table2", "§5.1, Table 2", "The ZF model beats Krizhevsky et al.'s single model; ensembles lower the error "
          "further", 9),
    Claim("table3", "§5.1, Table 3", "Depth matters more than any single section; wider middle conv layers help, "
          "wider fc layers over-fit", 9),
    Claim("table4-5", "§5.2, Tables 4–5, Fig. 9", "Pre-trained features with a new softmax beat training from "
          "scratch by far, and need few images per class", 10),
    Claim("table6", "§5.2, Table 6", "On multi-object images a single-label softmax on the features does less "
          "well", 10),
    Claim("table7", "§5.3, Table 7", "Features get more discriminative with depth", 10),
    Claim("overlap", "§5.2, footnote 2", "Transfer images that are also in the pre-training set can be found by "
          "normalised correlation, and removing them leaves the transfer result intact", 10),
)}


def results_dir(environ=os.environ) -> Path:
    """Where records live: ``<data>/results`` of the data folder :func:`zfcourse.environment.data_dir` finds."""
    from .environment import data_dir

    return Path(data_dir(environ)) / "results"


def _writes(cfg) -> bool:
    from .environment import in_clone

    return (getattr(cfg, "mode", None) == "full" and getattr(cfg, "source", None) == "embedded" and in_clone())


def _plain(x):
    """numbers → JSON-safe plain Python (numpy/torch scalars to float/int, NaN refused)."""
    import math

    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (str, bool)) or x is None:
        return x
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, int):
        return x
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"numbers: expected finite values, got {x}")
    return x


def record(claim: str, cfg, measured: str, verdict: str, why: str, numbers: dict | None = None,
           path: str | os.PathLike | None = None) -> dict:
    """Record the course's result for ``claim`` (a key of :data:`CLAIMS`) and return the record.

    Args:
        claim: which of the paper's claims (``CLAIMS[claim].chapter`` must be the chapter recording it).
        cfg: the chapter's :func:`zfcourse.setup` config; the record is written only in full mode on the embedded
            source from a clone (see the module docstring), else just returned.
        measured: one or two sentences: what the course measured, with its numbers.
        verdict: one of :data:`VERDICTS`, computed by the chapter from ``numbers`` by a rule it shows.
        why: where the course differs from the paper, why (scale, world, schedule); may be empty when it agrees.
        numbers: the measured values the verdict rests on (finite numbers, strings, lists, dicts).
        path: write here instead of ``results_dir()/<claim>.json`` (tests).
    """
    if claim not in CLAIMS:
        raise ValueError(f"claim: expected one of {tuple(CLAIMS)}, got {claim!r}")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict: expected one of {VERDICTS}, got {verdict!r}")
    for name, text in (("measured", measured), ("why", why)):
        if not isinstance(text, str):
            raise ValueError(f"{name}: expected a string, got {type(text).__name__}")
    if not measured.strip():
        raise ValueError("measured: expected what the course measured, got an empty string")
    rec = {"claim": claim, "chapter": CLAIMS[claim].chapter, "measured": measured.strip(), "verdict": verdict,
           "why": why.strip(), "numbers": _plain(numbers or {})}
    if path is not None or _writes(cfg):
        target = Path(path) if path is not None else results_dir() / f"{claim}.json"
        from .train import write_json  # atomic: temporary file, fsync, os.replace

        target.parent.mkdir(parents=True, exist_ok=True)
        write_json(rec, target)
    return rec


def load(folder: str | os.PathLike | None = None) -> dict[str, dict]:
    """Every record in ``folder`` (default :func:`results_dir`), keyed by claim, in :data:`CLAIMS` order.

    A file that is not a readable record raises ``ValueError`` naming the file; claims with no record are absent."""
    folder = Path(folder) if folder is not None else results_dir()
    out = {}
    for key in CLAIMS:
        p = folder / f"{key}.json"
        if not p.is_file():
            continue
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{p}: not a readable scorecard record ({err}); re-run its chapter in full mode") from err
        missing = {"claim", "measured", "verdict", "why"} - set(rec)
        if missing or rec.get("claim") != key or rec.get("verdict") not in VERDICTS:
            raise ValueError(f"{p}: expected a record of claim {key!r} with measured, verdict and why; "
                             f"re-run its chapter in full mode")
        out[key] = rec
    return out


def _chapter_link(chapter: int, links: bool) -> str:
    page = CHAPTER_PAGES.get(chapter)
    return f'<a href="{page}.html">ch. {chapter}</a>' if links and page else f"ch. {chapter}"


class _Table:
    """The scorecard's rows (where, claim, chapter, measured, verdict, why); shown as an HTML table in a notebook, in
    four columns so that it fits a book's text column: the claim (where, which chapter, what), what the course
    measured, the verdict, why it differs."""

    HEAD = ("The paper's claim", "The course measured", "Verdict", "Why it differs")

    def __init__(self, rows, links: bool = True):
        self.rows = rows
        self.links = links

    def _repr_html_(self) -> str:
        top = ' style="vertical-align: top; text-align: left"'
        head = "".join(f"<th{top}>{h}</th>" for h in self.HEAD)
        body = ""
        for where, claim, chapter, measured, verdict, why in self.rows:
            first = (f"<strong>{html.escape(where)}</strong> ({_chapter_link(chapter, self.links)})<br>"
                     f"{html.escape(claim)}")
            cells = (first, html.escape(measured), f"<strong>{html.escape(verdict)}</strong>", html.escape(why))
            body += "<tr>" + "".join(f"<td{top}>{c}</td>" for c in cells) + "</tr>"
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        return "\n".join(" | ".join(str(c) for c in r) for r in self.rows)

    def counts(self) -> dict[str, int]:
        """How many claims have each verdict."""
        return {v: sum(r[4] == v for r in self.rows) for v in VERDICTS}


def table(records: dict[str, dict] | None = None, links: bool = True) -> _Table:
    """The scorecard: one row per claim of :data:`CLAIMS` — where, claim, chapter, measured, verdict, why; a claim
    with no record reads "not measured" (its chapter has not been run in full mode). With ``links`` the chapter
    column links to the chapter's page of the book (:data:`CHAPTER_PAGES`)."""
    records = load() if records is None else records
    rows = []
    for key, c in CLAIMS.items():
        r = records.get(key)
        rows.append((c.where, c.claim, c.chapter, r["measured"] if r else "—",
                     r["verdict"] if r else "not measured", r["why"] if r else "its chapter has not recorded a result"))
    return _Table(rows, links=links)


def _number_text(value) -> str:
    """One recorded value as a reader reads it: 3 significant figures for floats, lists and dicts inline."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_number_text(v) for v in value[:8])
        return f"[{inner}{', …' if len(value) > 8 else ''}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_number_text(v)}" for k, v in list(value.items())[:8]) + \
               (", …" if len(value) > 8 else "") + "}"
    return str(value)


def _numbers_line(numbers: dict, limit: int = 320) -> str:
    """``name = value; …`` for a record's numbers, cut after whole entries at about ``limit`` characters (the
    record itself keeps them all)."""
    line = ""
    for k, v in numbers.items():
        entry = f"{k} = {_number_text(v)}"
        if line and len(line) + len(entry) + 2 > limit:
            return line + "; …"
        line = f"{line}; {entry}" if line else entry
    return line


class _Reading:
    """One paragraph per claim: its verdict, what was measured, why it differs, and the recorded numbers."""

    def __init__(self, items, links: bool = True):
        self.items = items  # (key, Claim, record or None)
        self.links = links

    def _repr_html_(self) -> str:
        out = []
        for _key, c, r in self.items:
            where = html.escape(c.where)
            ch = (f'<a href="{CHAPTER_PAGES[c.chapter]}.html">chapter {c.chapter}</a>'
                  if self.links and c.chapter in CHAPTER_PAGES else f"chapter {c.chapter}")
            if r is None:
                out.append(f"<p><strong>{where}</strong> ({ch}) — <em>not measured</em>: its chapter has not "
                           f"recorded a result.</p>")
                continue
            text = f"<p><strong>{where}</strong> ({ch}) — <strong>{html.escape(r['verdict'])}</strong>. "
            text += html.escape(r["measured"])
            if r["why"]:
                text += f" <em>Why:</em> {html.escape(r['why'])}"
            if r.get("numbers"):
                text += f"<br><small>Recorded: {html.escape(_numbers_line(r['numbers']))}</small>"
            out.append(text + "</p>")
        return "\n".join(out)

    def __repr__(self) -> str:
        import textwrap

        lines = []
        for _key, c, r in self.items:
            if r is None:
                para = f"{c.where} (ch. {c.chapter}) — not measured."
            else:
                para = f"{c.where} (ch. {c.chapter}) — {r['verdict']}. {r['measured']}"
                if r["why"]:
                    para += f" Why: {r['why']}"
                if r.get("numbers"):
                    para += " Recorded: " + _numbers_line(r["numbers"])
            lines += textwrap.wrap(para, 100) + [""]
        return "\n".join(lines).rstrip()


def reading(records: dict[str, dict] | None = None, keys=None, links: bool = True) -> _Reading:
    """A reading of the scorecard, claim by claim (``keys``, default every claim of :data:`CLAIMS`, in the paper's
    order): where the claim is made, its chapter (linked), the verdict, what the course measured, why it differs, and
    the numbers the chapter recorded beside its verdict. Nothing in it is typed: it is the records, laid out."""
    records = load() if records is None else records
    keys = list(CLAIMS) if keys is None else list(keys)
    for k in keys:
        if k not in CLAIMS:
            raise ValueError(f"keys: expected claims of {tuple(CLAIMS)}, got {k!r}")
    return _Reading([(k, CLAIMS[k], records.get(k)) for k in keys], links=links)


def _short(key: str) -> str:
    """A claim's tile label: "Fig. 6a", "Tab. 4–5", "overlap"."""
    if key.startswith("fig"):
        return "Fig. " + key[3:]
    if key.startswith("table"):
        return "Tab. " + key[5:].replace("-", "–")
    return key


def plot(records: dict[str, dict] | None = None, width: float | None = None):
    """The verdicts at a glance: one tile per claim, in a column per chapter (the paper's order from left to right),
    coloured by verdict and labelled with where the paper makes the claim. Returns the figure (the book's column
    width by default, 10-pt text)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    from .plots import COLUMN_INCHES

    records = load() if records is None else records
    chapters = sorted({c.chapter for c in CLAIMS.values()})
    by_chapter = {ch: [k for k, c in CLAIMS.items() if c.chapter == ch] for ch in chapters}
    depth = max(len(v) for v in by_chapter.values())
    width = COLUMN_INCHES if width is None else width
    fig, ax = plt.subplots(figsize=(width, 0.62 * depth + 1.3))
    for i, ch in enumerate(chapters):
        for j, key in enumerate(by_chapter[ch]):
            verdict = records[key]["verdict"] if key in records else "not measured"
            ax.add_patch(Rectangle((i + 0.04, depth - j - 0.96), 0.92, 0.92, color=VERDICT_COLOURS[verdict]))
            dark = verdict in ("agrees", "differs")
            ax.text(i + 0.5, depth - j - 0.5, _short(key), ha="center", va="center", fontsize=10,
                    color="white" if dark else "black")
    ax.set_xlim(0, len(chapters))
    ax.set_ylim(0, depth)
    ax.set_xticks([i + 0.5 for i in range(len(chapters))], [str(ch) for ch in chapters], fontsize=10)
    ax.set_xlabel("chapter", fontsize=10)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    counts = {v: sum((records[k]["verdict"] if k in records else "not measured") == v for k in CLAIMS)
              for v in VERDICTS}
    ax.legend(handles=[Patch(color=VERDICT_COLOURS[v], label=f"{v} ({counts[v]})") for v in VERDICTS],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, fontsize=10, frameon=False)
    fig.tight_layout()
    return fig


GLUE_PREFIX = "application/papermill.record/"  # MyST-NB's mime prefix for a value glued without being displayed


def glued(records: dict[str, dict] | None = None) -> dict[str, object]:
    """The values :func:`glue` publishes: ``verdict-<claim>`` for every claim of :data:`CLAIMS` ("not measured"
    when it has no record) and ``count-<verdict>`` (spaces as dashes) for every verdict of :data:`VERDICTS`."""
    records = load() if records is None else records
    out = {f"verdict-{k}": records[k]["verdict"] if k in records else "not measured" for k in CLAIMS}
    counts = table(records).counts()
    out |= {f"count-{v.replace(' ', '-')}": n for v, n in counts.items()}
    return out


def glue(records: dict[str, dict] | None = None) -> dict[str, object]:
    """Publish :func:`glued`'s values the way MyST-NB's ``glue(name, value, display=False)`` does — an invisible output
    carrying the value's text under the name — so that a page of the book can paste one with
    ``{glue:text}`11_discussion.ipynb::verdict-fig7:s```. Needs only IPython (no MyST-NB, e.g. in Colab); shows
    nothing. Returns the values."""
    from IPython.display import display

    values = glued(records)
    for name, value in values.items():
        display({GLUE_PREFIX + "text/plain": repr(value)}, raw=True,
                metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}})
    return values
