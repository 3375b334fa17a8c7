"""Measured results beside the paper's, row for row (Tables 2–7): one formatter for every table of §5.

A cell value may be a number, a ``(mean, sd)`` pair, a list of per-seed or per-split numbers (shown as mean ± sample
sd), anything with ``mean`` and ``sd`` attributes (:class:`~zfcourse.transfer.ProbeResult`), a string (shown as it is)
or None (shown as "—"). The paper's numbers are passed in by the caller, never typed here, so the same helper formats
Table 3's errors, Table 4's accuracies and Table 6's APs.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

DASH = "—"


def format_value(value, digits: int = 1) -> str:
    """One cell as text: ``38.4``, ``83.8 ± 0.5``, ``—`` (see the module docstring for the accepted values)."""
    if value is None:
        return DASH
    if isinstance(value, str):
        return value
    if hasattr(value, "mean") and hasattr(value, "sd") and not isinstance(value, np.ndarray):
        value = (value.mean, float("nan") if value.sd is None else value.sd)   # a paper Value may have no ±
    elif isinstance(value, (list, np.ndarray)) or (hasattr(value, "tolist") and not isinstance(value, Real)):
        v = np.asarray(value, dtype=float).ravel()
        if v.size == 0:
            return DASH
        value = (float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan"))
    if isinstance(value, tuple) and len(value) == 2:
        mean, sd = (float(x) for x in value)
        if math.isnan(mean):
            return DASH
        return f"{mean:.{digits}f}" if math.isnan(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"
    if isinstance(value, Real) and not isinstance(value, bool):
        return DASH if math.isnan(float(value)) else f"{float(value):.{digits}f}"
    raise ValueError(f"value: cannot format {type(value).__name__} {value!r} as a table cell "
                     "(expected a number, (mean, sd), a list of numbers, a string or None)")


def _label(row) -> str:
    return " · ".join(str(part) for part in row) if isinstance(row, tuple) else str(row)


@dataclass
class ComparisonTable:
    """A formatted table: ``header`` and ``rows`` of strings; ``values`` keeps the raw cells by (row, column, side)."""
    header: list[str]
    rows: list[list[str]]
    title: str | None = None
    values: dict = field(default_factory=dict)

    def markdown(self) -> str:
        """The table as GitHub/MyST markdown (a title line first, if any)."""
        lines = [f"**{self.title}**", ""] if self.title else []
        lines += ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_html_(self) -> str:
        """The table as HTML (what a notebook shows; the book's tables are HTML)."""
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in self.rows)
        caption = f"<caption>{esc(self.title)}</caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __str__(self) -> str:
        widths = [max(len(r[i]) for r in [self.header, *self.rows]) for i in range(len(self.header))]

        def fmt(r):  # first column left-aligned, numbers right-aligned
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        lines = [self.title] if self.title else []
        return "\n".join(lines + [fmt(self.header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in self.rows])


def compare_table(measured: dict, paper: dict | None = None, columns=None, rows=None, measured_label: str = "course",
                  paper_label: str = "paper", digits: int = 1, title: str | None = None) -> ComparisonTable:
    """Measured rows beside the paper's: for each column, a "<column> (course)" and a "<column> (paper)" cell.

    Args:
        measured: {row: {column: value}} — the course's results (rows may be strings or tuples, e.g. (base, label)).
        paper: {row: {column: value}} — the paper's numbers for the same rows and columns (None: measured only).
        columns: which columns, in order (default: every column seen, measured first).
        rows: which rows, in order (default: the paper's rows in its order, then measured rows it lacks). A row with
            no measurement yet shows "—".
        measured_label, paper_label: the tags after each column name.
        digits: decimals shown.
        title: a caption line.

    Example:
        >>> t = compare_table({"ZF model": {"val top-1": [38.0, 39.0]}}, {"ZF model": {"val top-1": 38.4}})
        >>> t.rows
        [['ZF model', '38.5 ± 0.7', '38.4']]
    """
    if not isinstance(measured, dict) or (paper is not None and not isinstance(paper, dict)):
        raise ValueError("measured: expected {row: {column: value}} dictionaries for measured and paper")
    paper = paper or {}
    for name, table in (("measured", measured), ("paper", paper)):
        bad = [r for r, cells in table.items() if not isinstance(cells, dict)]
        if bad:
            raise ValueError(f"{name}: row {bad[0]!r} maps to {type(table[bad[0]]).__name__}, "
                             "expected {column: value}")
    if columns is None:
        columns = list(dict.fromkeys(c for t in (measured, paper) for cells in t.values() for c in cells))
    if rows is None:
        rows = list(paper) + [r for r in measured if r not in paper]
    if not columns or not rows:
        raise ValueError("columns: nothing to show (no columns or no rows)")
    header = ["Model"]
    for c in columns:
        header += [f"{c} ({measured_label})"] + ([f"{c} ({paper_label})"] if paper else [])
    body, values = [], {}
    for r in rows:
        line = [_label(r)]
        for c in columns:
            sides = [("measured", measured)] + ([("paper", paper)] if paper else [])
            for side, table in sides:
                v = table.get(r, {}).get(c)
                values[(r, c, side)] = v
                line.append(format_value(v, digits))
        body.append(line)
    return ComparisonTable(header, body, title, values)
