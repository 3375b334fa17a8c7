"""Sphinx extension: a bibliography whose labels read like the book's author–year citations.

The chapters cite with ``bibtex_reference_style: author_year`` ("Zeiler and Fergus [2014]"); pybtex's default
formatting styles label the bibliography "[ZF14]" (alpha) or "[1]" (plain). This registers the formatting style
``authoryear``: pybtex's ``plain`` entries, sorted by author, year and title, labelled "Zeiler and Fergus, 2014"
(one author: "LeCun, 1989"; three or more: "Krizhevsky et al., 2012"; a, b, … when two entries would share a label).
Enabled from _config.yml (``local_extensions``) and selected with ``bibtex_default_style: authoryear``.
"""
from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle


def _last(person) -> str:
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = []
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_last(p) for p in people]
            who = (names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2
                   else f"{names[0]} et al." if names else entry.fields.get("title", entry.key)[:20])
            labels.append(f"{who}, {entry.fields.get('year', 'n.d.')}")
        seen = {}
        for label in labels:
            seen[label] = seen.get(label, 0) + 1
        counter = {}
        for label in labels:
            if seen[label] > 1:  # "Smith, 2010a", "Smith, 2010b"
                counter[label] = counter.get(label, 0) + 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[counter[label] - 1]
            else:
                yield label


class AuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabelStyle
    default_sorting_style = SortingStyle


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
