"""The paper's own numbers, each with the table, figure or section it comes from.

Zeiler & Fergus (2014) report their results in seven tables and a handful of settings in the text. The course
compares its measurements with them, so they live here once, as data, and every chapter prints them from here:

    >>> from zfcourse import paper
    >>> paper.value("Table 2", "ZF, 1 convnet (Fig. 3)", "val top-5")
    Value(mean=16.5, sd=None)
    >>> print(paper.table("Table 1").to_text())  # doctest: +NORMALIZE_WHITESPACE
    Table 1 (§4.3): correspondence Δ, mean feature sign change (lower = more consistent)
    Occlusion location  Layer 5        Layer 7
    Right eye           0.067 ± 0.007  0.069 ± 0.015
    Left eye            0.069 ± 0.007  0.068 ± 0.013
    Nose                0.079 ± 0.017  0.069 ± 0.011
    Random              0.107 ± 0.017  0.073 ± 0.014

``paper.show("Table 3")`` returns the same table as an object that a notebook renders as an HTML table.

Table numbers are those of the ECCV 2014 / arXiv v3 text; in arXiv v1 Table 1 is Table 3. Entries the paper
leaves empty ("—") are ``None``. A ``Value`` is a mean with its ± when the paper gives one; the paper never says
what its ± is taken over (folds for Tables 4, 5 and 7; unstated for Table 1).
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["Value", "Table", "Setting", "TABLES", "SETTINGS", "table", "value", "setting", "show"]


@dataclass(frozen=True)
class Value:
    """One number of a table: ``mean`` and, where the paper prints one, its ``± sd``; ``places`` and ``sd_places``
    are the decimals the paper prints them with (40.0 stays "40.0")."""

    mean: float
    sd: float | None = None
    places: int = field(default=1, compare=False, repr=False)
    sd_places: int = field(default=1, compare=False, repr=False)

    def __str__(self) -> str:
        m = f"{self.mean:.{self.places}f}"
        return m if self.sd is None else f"{m} ± {self.sd:.{self.sd_places}f}"


def _places(x: float) -> int:
    """Decimals of a literal as written: 40.0 → 1, 0.33 → 2 (repr keeps them for the paper's short numbers)."""
    return len(repr(float(x)).split(".")[1])


def _v(x):
    """Table literal → Value: a number, a (mean, sd) pair, or None for the paper's "—"."""
    if x is None:
        return None
    if isinstance(x, tuple):
        return Value(float(x[0]), float(x[1]), _places(x[0]), _places(x[1]))
    return Value(float(x), None, _places(x))


@dataclass(frozen=True)
class Table:
    """One of the paper's tables: its number (``key``), the section it belongs to, a caption, its column names,
    and its rows as ``(row label, values)`` with one ``Value`` (or ``None`` for "—") per column."""

    key: str
    section: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Value | None, ...]], ...]
    row_header: str = ""
    note: str = ""

    @property
    def source(self) -> str:
        """Where the numbers come from, e.g. ``"Table 2 (§5.1)"``."""
        return f"{self.key} ({self.section})"

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for label, _ in self.rows)

    def get(self, row: str, column: str) -> Value | None:
        """The entry in ``row`` and ``column`` (``None`` where the paper prints "—")."""
        labels = dict(self.rows)
        if row not in labels:
            raise KeyError(f"row={row!r}: {self.key} has rows {list(labels)}")
        if column not in self.columns:
            raise KeyError(f"column={column!r}: {self.key} has columns {list(self.columns)}")
        return labels[row][self.columns.index(column)]

    def _cells(self) -> list[list[str]]:
        return [[label] + ["—" if v is None else str(v) for v in values] for label, values in self.rows]

    def to_text(self) -> str:
        """The table as aligned plain text, caption first."""
        head = [self.row_header] + list(self.columns)
        body = self._cells()
        widths = [max(len(r[j]) for r in [head] + body) for j in range(len(head))]

        def line(r):
            return "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()

        out = [f"{self.source}: {self.caption}", line(head)] + [line(r) for r in body]
        return "\n".join(out + ([self.note] if self.note else []))

    def _repr_html_(self) -> str:
        e = html.escape
        head = "".join(f"<th>{e(c)}</th>" for c in [self.row_header] + list(self.columns))
        body = "".join("<tr>" + f"<th style='text-align:left'>{e(r[0])}</th>"
                       + "".join(f"<td>{e(c)}</td>" for c in r[1:]) + "</tr>" for r in self._cells())
        note = f"<br><small>{e(self.note)}</small>" if self.note else ""
        return (f"<table class='zf-paper-table'><caption>The paper's {e(self.source)}: {e(self.caption)}{note}"
                f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def __str__(self) -> str:
        return self.to_text()


def _table(key, section, caption, columns, rows, row_header="", note=""):
    cols = tuple(columns)
    built = []
    for label, values in rows:
        if len(values) != len(cols):  # a typo in the literals below must not go unnoticed
            raise ValueError(f"{key}, row {label!r}: {len(values)} values for {len(cols)} columns")
        built.append((label, tuple(_v(x) for x in values)))
    return Table(key, section, caption, cols, tuple(built), row_header, note)


TABLES: dict[str, Table] = {t.key: t for t in (
    _table("Table 1", "§4.3", "correspondence Δ, mean feature sign change (lower = more consistent)",
           ["Layer 5", "Layer 7"],
           [("Right eye", [(0.067, 0.007), (0.069, 0.015)]),
            ("Left eye", [(0.069, 0.007), (0.068, 0.013)]),
            ("Nose", [(0.079, 0.017), (0.069, 0.011)]),
            ("Random", [(0.107, 0.017), (0.073, 0.014)])],
           row_header="Occlusion location"),
    _table("Table 2", "§5.1", "ImageNet 2012 classification error, %",
           ["val top-1", "val top-5", "test top-5"],
           [("Krizhevsky et al., 1 convnet", [40.7, 18.2, None]),
            ("Krizhevsky et al., 5 convnets", [38.1, 16.4, 16.4]),
            ("Krizhevsky et al.*, 1 convnet", [39.0, 16.6, None]),
            ("Krizhevsky et al.*, 7 convnets", [36.7, 15.4, 15.3]),
            ("Replication of Krizhevsky et al., 1 convnet", [40.5, 18.1, None]),
            ("ZF, 1 convnet (Fig. 3)", [38.4, 16.5, None]),
            ("ZF, 5 convnets (a)", [36.7, 15.3, 15.3]),
            ("ZF, layers 3,4,5: 512,1024,512 maps (b)", [37.5, 16.0, 16.1]),
            ("6 convnets, (a) & (b) combined", [36.0, 14.7, 14.8]),
            ("Gunji et al. (best non-convnet)", [None, None, 26.2])],
           row_header="Model", note="* trained on ImageNet 2011 + 2012"),
    _table("Table 3", "§5.1", "model-size ablations on ImageNet 2012, error %",
           ["train top-1", "val top-1", "val top-5"],
           [("Replication of Krizhevsky et al.", [35.1, 40.5, 18.1]),
            ("Krizhevsky et al., removed layers 3,4", [41.8, 45.4, 22.1]),
            ("Krizhevsky et al., removed layer 7", [27.4, 40.0, 18.4]),
            ("Krizhevsky et al., removed layers 6,7", [27.4, 44.8, 22.4]),
            ("Krizhevsky et al., removed layers 3,4,6,7", [71.1, 71.3, 50.1]),
            ("Krizhevsky et al., layers 6,7: 2048 units", [40.3, 41.7, 18.8]),
            ("Krizhevsky et al., layers 6,7: 8192 units", [26.8, 40.0, 18.1]),
            ("ZF model (Fig. 3)", [33.1, 38.4, 16.5]),
            ("ZF, layers 6,7: 2048 units", [38.2, 40.2, 17.6]),
            ("ZF, layers 6,7: 8192 units", [22.0, 38.8, 17.0]),
            ("ZF, layers 3,4,5: 512,1024,512 maps", [18.8, 37.5, 16.0]),
            ("ZF, layers 6,7: 8192 units and layers 3,4,5: 512,1024,512 maps", [10.0, 38.3, 16.9])],
           row_header="Model"),
    _table("Table 4", "§5.2", "Caltech-101 accuracy, % (5 train/test folds, up to 50 test images per class)",
           ["15 per class", "30 per class"],
           [("Bo et al.", [None, (81.4, 0.33)]),
            ("Jianchao et al.", [73.2, 84.3]),
            ("non-pretrained convnet", [(22.8, 1.5), (46.5, 1.7)]),
            ("ImageNet-pretrained convnet", [(83.8, 0.5), (86.5, 0.5)])],
           row_header="Training images"),
    _table("Table 5", "§5.2", "Caltech-256 accuracy, %",
           ["15 per class", "30 per class", "45 per class", "60 per class"],
           [("Sohn et al.", [35.1, 42.1, 45.7, 47.9]),
            ("Bo et al.", [(40.5, 0.4), (48.0, 0.2), (51.9, 0.2), (55.2, 0.3)]),
            ("non-pretrained convnet", [(9.0, 1.4), (22.5, 0.7), (31.2, 0.5), (38.8, 1.4)]),
            ("ImageNet-pretrained convnet", [(65.7, 0.2), (70.6, 0.2), (72.7, 0.4), (74.2, 0.3)])],
           row_header="Training images"),
    _table("Table 6", "§5.2", "PASCAL VOC 2012, mean accuracy over 20 classes, %",
           ["mean"],
           [("ImageNet-pretrained convnet, 20-way softmax", [79.0]),
            ("leading method, lower", [74.3]),
            ("leading method, higher", [82.2])],
           row_header="Method", note="The per-class rows of Table 6 are not reproduced here."),
    _table("Table 7", "§5.3", "classifiers on the features of one layer of the ImageNet-pretrained model, accuracy %",
           ["Caltech-101 (30/class)", "Caltech-256 (60/class)"],
           [("SVM (1)", [(44.8, 0.7), (24.6, 0.4)]),
            ("SVM (2)", [(66.2, 0.5), (39.6, 0.3)]),
            ("SVM (3)", [(72.3, 0.4), (46.0, 0.3)]),
            ("SVM (4)", [(76.6, 0.4), (51.3, 0.1)]),
            ("SVM (5)", [(86.2, 0.8), (65.6, 0.3)]),
            ("SVM (7)", [(85.5, 0.4), (71.7, 0.2)]),
            ("Softmax (5)", [(82.9, 0.4), (65.7, 0.5)]),
            ("Softmax (7)", [(85.4, 0.4), (72.6, 0.1)])],
           row_header="Classifier (layer)"),
)}


class Setting(NamedTuple):
    """A single number or choice the paper states in its text or figures, with where it says so."""

    value: object
    unit: str
    source: str

    def __str__(self) -> str:
        return f"{self.value}{' ' + self.unit if self.unit else ''} ({self.source})"


SETTINGS: dict[str, Setting] = {
    "input size": Setting(224, "px", "Fig. 3"),
    "conv1": Setting("96 filters 7×7, stride 2", "", "Fig. 3, §4.1"),
    "conv2": Setting("256 filters 5×5, stride 2", "", "Fig. 3, §4.1"),
    "spatial sizes": Setting((110, 55, 26, 13, 13, 13, 13, 6), "px", "Fig. 3"),
    "Krizhevsky conv1": Setting("11×11, stride 4", "", "§4.1"),
    "training images": Setting(1_300_000, "", "§3"),
    "classes": Setting(1000, "", "§3"),
    "batch size": Setting(128, "", "§3"),
    "learning rate": Setting(1e-2, "", "§3"),
    "momentum": Setting(0.9, "", "§3"),
    "dropout": Setting(0.5, "", "§3"),
    "weight init": Setting(1e-2, "", "§3"),
    "clip radius": Setting(0.1, "RMS", "§3"),
    "epochs": Setting(70, "", "§3"),
    "training time": Setting(12, "days on one GTX580", "§3"),
    "Fig. 4 epochs": Setting((1, 2, 5, 10, 20, 30, 40, 64), "", "Fig. 4"),
    "upper layers develop after": Setting((40, 50), "epochs", "§4, Fig. 4"),
    "correspondence images": Setting(5, "dog faces", "§4.3"),
    "Caltech-101 overlap removed": Setting((44, 9144), "images", "§5.2"),
    "Caltech-256 overlap removed": Setting((243, 30607), "images", "§5.2"),
    "one-shot Caltech-256": Setting(6, "training images per class to beat the leading method", "§5.2, Fig. 9"),
}


def table(key: str) -> Table:
    """The paper's table ``key`` ("Table 1" … "Table 7"; "1" or 1 also work)."""
    name = f"Table {key}" if isinstance(key, int) or str(key).strip().isdigit() else str(key).strip()
    if name not in TABLES:
        raise KeyError(f"key={key!r}: expected one of {list(TABLES)}")
    return TABLES[name]


def value(key: str, row: str, column: str) -> Value | None:
    """One entry of one table, e.g. ``value("Table 2", "ZF, 1 convnet (Fig. 3)", "val top-1")``."""
    return table(key).get(row, column)


def setting(name: str) -> Setting:
    """A setting from the paper's text, e.g. ``setting("clip radius")`` → 0.1 RMS (§3)."""
    if name not in SETTINGS:
        raise KeyError(f"name={name!r}: expected one of {list(SETTINGS)}")
    return SETTINGS[name]


def show(key: str, rows: list[str] | None = None) -> Table:
    """Table ``key`` for display: a notebook renders it as an HTML table, ``print`` as text. ``rows`` keeps only
    those rows (by label, in the given order)."""
    t = table(key)
    if rows is None:
        return t
    have = dict(t.rows)
    missing = [r for r in rows if r not in have]
    if missing:
        raise KeyError(f"rows={missing!r}: {t.key} has rows {list(have)}")
    return Table(t.key, t.section, t.caption, t.columns, tuple((r, have[r]) for r in rows), t.row_header, t.note)
