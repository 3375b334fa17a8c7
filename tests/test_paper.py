"""zfcourse.paper: the paper's numbers as data, checked against the collected paper numbers and the package's copies."""
import doctest
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from zfcourse import paper

NUMBERS = Path(__file__).resolve().parents[1].parent / "shared" / "paper" / "numbers.md"


def test_doctests():
    result = doctest.testmod(paper, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2 and result.failed == 0


def test_every_table_is_complete_and_sourced():
    assert list(paper.TABLES) == [f"Table {i}" for i in range(1, 8)]
    for t in paper.TABLES.values():
        assert t.section.startswith("§") and t.source == f"{t.key} ({t.section})"
        assert t.rows and len(set(t.labels)) == len(t.labels), t.key
        for label, values in t.rows:
            assert len(values) == len(t.columns), (t.key, label)
            assert any(v is not None for v in values), (t.key, label)


def test_spot_values():
    assert paper.value("Table 2", "ZF, 1 convnet (Fig. 3)", "val top-1").mean == 38.4
    assert paper.value("Table 2", "6 convnets, (a) & (b) combined", "test top-5").mean == 14.8
    assert paper.value("Table 2", "Gunji et al. (best non-convnet)", "val top-1") is None
    assert paper.value("Table 1", "Random", "Layer 5") == paper.Value(0.107, 0.017)
    assert paper.value(3, "ZF, layers 6,7: 8192 units and layers 3,4,5: 512,1024,512 maps", "train top-1").mean == 10.0
    assert paper.value("Table 4", "Bo et al.", "30 per class") == paper.Value(81.4, 0.33)
    assert str(paper.value("Table 4", "Bo et al.", "30 per class")) == "81.4 ± 0.33"
    assert str(paper.value("Table 3", "ZF, layers 6,7: 8192 units", "val top-5")) == "17.0"  # decimals kept
    assert paper.setting("clip radius").value == 0.1 and paper.setting("clip radius").source == "§3"


def _numbers_in(text):
    return sorted(float(x) for x in re.findall(r"(?<![\w.])\d+\.\d+", text))


@pytest.mark.skipif(not NUMBERS.is_file(), reason="the collected paper numbers are not beside this checkout")
def test_tables_match_the_collected_paper_numbers():
    """Every decimal number in each table section of the collected numbers equals one in our table, and back."""
    text = NUMBERS.read_text(encoding="utf-8")
    sections = re.split(r"\n## ", text)
    checked = 0
    for t in paper.TABLES.values():
        section = next(s for s in sections if re.search(rf"\b{t.key}\b", s.split("\n")[0])
                       or (t.key == "Table 1" and s.startswith("Correspondence")))
        body = section.split("\n", 1)[1] if t.key != "Table 6" else section
        expected = _numbers_in(body.replace("(* trained on ImageNet 2011 + 2012)", ""))
        ours = sorted(x for _, vals in t.rows for v in vals if v is not None
                      for x in ((v.mean,) if v.sd is None else (v.mean, v.sd)))
        assert sorted(set(expected)) == sorted(set(ours)), t.key
        checked += 1
    assert checked == 7


def test_package_copies_agree():
    from zfcourse.correspondence import PAPER_TABLE1
    from zfcourse.train import PAPER_RADIUS
    from zfcourse.train.schedule import FIG4_EPOCHS, PAPER_EPOCHS

    t1 = paper.table("Table 1")
    assert PAPER_TABLE1 == {(row, col): (t1.get(row, col).mean, t1.get(row, col).sd)
                            for row in t1.labels for col in t1.columns}
    assert PAPER_RADIUS == paper.setting("clip radius").value
    assert FIG4_EPOCHS == paper.setting("Fig. 4 epochs").value
    assert PAPER_EPOCHS == paper.setting("epochs").value


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.caption, self._in = [], "", None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        self._in = tag

    def handle_data(self, data):
        if self._in in ("td", "th") and self.rows:
            self.rows[-1].append(data)
        elif self._in in ("caption", "small"):
            self.caption += data


def test_show_renders_text_and_html():
    t = paper.show("Table 2", rows=["ZF, 1 convnet (Fig. 3)", "Krizhevsky et al., 1 convnet"])
    assert t.labels == ("ZF, 1 convnet (Fig. 3)", "Krizhevsky et al., 1 convnet")
    text = str(t).splitlines()
    assert text[0].startswith("Table 2 (§5.1)") and text[2].split()[-2:] == ["16.5", "—"]
    cells = _Cells()
    cells.feed(t._repr_html_())
    assert cells.rows[0] == ["Model", "val top-1", "val top-5", "test top-5"]
    assert cells.rows[1] == ["ZF, 1 convnet (Fig. 3)", "38.4", "16.5", "—"]
    assert "Table 2 (§5.1)" in cells.caption and "2011 + 2012" in cells.caption
    full = paper.show(5)
    assert full is paper.table("Table 5") and len(full.rows) == 4


def test_bad_input_names_the_argument():
    with pytest.raises(KeyError, match="key='Table 9'.*Table 1"):
        paper.table("Table 9")
    with pytest.raises(KeyError, match="row='ZF'"):
        paper.value("Table 2", "ZF", "val top-1")
    with pytest.raises(KeyError, match="column='top-1'"):
        paper.value("Table 2", "ZF, 1 convnet (Fig. 3)", "top-1")
    with pytest.raises(KeyError, match="rows=\\['Nope'\\]"):
        paper.show("Table 1", rows=["Nope"])
    with pytest.raises(KeyError, match="name='lr'"):
        paper.setting("lr")
    with pytest.raises(ValueError, match="row 'x': 1 values for 2 columns"):
        paper._table("Table X", "§0", "", ["a", "b"], [("x", [1.0])])
