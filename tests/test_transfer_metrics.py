"""VOC-style average precision (Table 6), top-k error (Tables 2–3) and the measured-vs-paper table formatter."""
import math

import numpy as np
import pytest
import torch

from zfcourse.transfer import (ProbeResult, average_precision, compare_table, format_value, mean_average_precision,
                               top_k_error)

SCORES = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5])
LABELS = torch.tensor([1, 0, 1, 0, 1])


def test_average_precision_hand_worked_example():
    # ranks 1..5: TP FP TP FP TP → recall 1/3 1/3 2/3 2/3 1, precision 1 1/2 2/3 1/2 3/5;
    # interpolated precision at recall 1/3, 2/3, 1 is 1, 2/3, 3/5 → AP = (1 + 2/3 + 3/5) / 3 = 34/45.
    assert average_precision(SCORES, LABELS) == pytest.approx(34 / 45)
    # VOC 2007: recall levels 0, .1, .2, .3 → 1; .4, .5, .6 → 2/3; .7 … 1 → 3/5.
    assert average_precision(SCORES, LABELS, "11point") == pytest.approx((4 + 3 * 2 / 3 + 4 * 3 / 5) / 11)


def test_perfect_worst_and_tied_rankings():
    assert average_precision(torch.tensor([3.0, 2.0, 1.0]), torch.tensor([1, 1, 0])) == 1.0
    # all positives last: precision 1/3 at recall 1/2 and 2/4 at recall 1 → envelope 1/2 at both
    assert average_precision(torch.tensor([4.0, 3.0, 2.0, 1.0]), torch.tensor([0, 0, 1, 1])) == pytest.approx(0.5)
    # ties enter together, so the order of tied images does not matter: 1 positive among 4 tied → AP = 1/4
    for labels in ([1, 0, 0, 0], [0, 0, 0, 1]):
        assert average_precision(torch.zeros(4), torch.tensor(labels)) == pytest.approx(0.25)


def test_per_class_columns_and_mean_ap():
    scores = torch.stack([SCORES, -SCORES, SCORES], 1)
    labels = torch.stack([LABELS, 1 - LABELS, torch.zeros(5, dtype=torch.long)], 1)
    ap = average_precision(scores, labels)
    assert ap[0] == pytest.approx(34 / 45) and math.isnan(ap[2])
    # class 1: positives at scores −0.8, −0.6 among −0.5 … −0.9: ranks FP TP FP TP FP → AP = (1/2 + 1/2) / 2
    assert ap[1] == pytest.approx(0.5)
    assert mean_average_precision(scores, labels) == pytest.approx((34 / 45 + 0.5) / 2)


@pytest.mark.parametrize("call, name", [
    (lambda: average_precision(SCORES, LABELS[:4]), "labels"),
    (lambda: average_precision(SCORES, LABELS * 2), "labels"),
    (lambda: average_precision(torch.tensor([float("nan")] * 5), LABELS), "scores"),
    (lambda: average_precision(SCORES, LABELS, "voc"), "interpolation"),
    (lambda: average_precision(torch.zeros(0), torch.zeros(0)), "scores"),
    (lambda: mean_average_precision(SCORES, LABELS), "scores"),
    (lambda: mean_average_precision(SCORES[:, None], torch.zeros(5, 1)), "labels"),
])
def test_average_precision_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_top_k_error():
    probs = torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.4, 0.35, 0.25]])
    assert top_k_error(probs, torch.tensor([0, 1, 2]), ks=(1, 2, 3)) == {1: pytest.approx(2 / 3),
                                                                         2: pytest.approx(1 / 3), 3: 0.0}
    with pytest.raises(ValueError, match="ks"):
        top_k_error(probs, torch.tensor([0, 1, 2]), ks=(5,))
    with pytest.raises(ValueError, match="labels"):
        top_k_error(probs, torch.tensor([0, 1]))


def test_format_value_kinds():
    assert format_value(38.44) == "38.4" and format_value(None) == "—" and format_value("n/a") == "n/a"
    assert format_value((83.8, 0.5)) == "83.8 ± 0.5" and format_value((83.8, float("nan"))) == "83.8"
    assert format_value([1.0, 2.0, 3.0], digits=2) == "2.00 ± 1.00" and format_value(np.array([4.0])) == "4.0"
    assert format_value(ProbeResult([80.0, 82.0])) == "81.0 ± 1.4" and format_value(float("nan")) == "—"
    with pytest.raises(ValueError, match="value"):
        format_value({"a": 1})


def test_compare_table_keeps_the_paper_order_and_marks_missing_rows():
    paper = {("zf", "ZF model (Fig. 3)"): {"train top-1": 33.1, "val top-1": 38.4},
             ("zf", "Layers 6,7: 2048 units"): {"train top-1": 38.2, "val top-1": 40.2}}
    measured = {("zf", "Layers 6,7: 2048 units"): {"val top-1": [41.0, 43.0], "train top-1": 30.0},
                ("zf", "extra row"): {"val top-1": 50.0}}
    t = compare_table(measured, paper, title="Table 3")
    assert t.header == ["Model", "val top-1 (course)", "val top-1 (paper)", "train top-1 (course)",
                        "train top-1 (paper)"]
    assert t.rows == [["zf · ZF model (Fig. 3)", "—", "38.4", "—", "33.1"],
                      ["zf · Layers 6,7: 2048 units", "42.0 ± 1.4", "40.2", "30.0", "38.2"],
                      ["zf · extra row", "50.0", "—", "—", "—"]]
    md = t.markdown()
    assert md.splitlines()[0] == "**Table 3**" and "| zf · extra row | 50.0 | — | — | — |" in md
    assert str(t).splitlines()[0] == "Table 3" and t._repr_markdown_() == md
    only = compare_table({"a": {"x": 1.0}}, columns=["x"], rows=["a"])
    assert only.header == ["Model", "x (course)"] and only.rows == [["a", "1.0"]]


def test_compare_table_bad_input():
    with pytest.raises(ValueError, match="measured"):
        compare_table([1, 2])
    with pytest.raises(ValueError, match="paper: row 'a'"):
        compare_table({}, {"a": 3.0})
    with pytest.raises(ValueError, match="columns"):
        compare_table({})


def test_paper_values_without_a_spread_and_the_html_table():
    from zfcourse import paper
    from zfcourse.transfer import compare_table, format_value

    jianchao = paper.value("Table 4", "Jianchao et al.", "15 per class")
    assert format_value(jianchao) == "73.2"
    assert format_value(paper.value("Table 4", "Bo et al.", "30 per class"), 2) == "81.40 ± 0.33"
    t = compare_table({"a <b>": {"x": 1.0}}, {"a <b>": {"x": jianchao}}, title="T & U")
    html = t._repr_html_()
    assert html.startswith("<table><caption>T &amp; U</caption>") and "a &lt;b&gt;" in html
    assert html.count("<tr>") == 2 and "<td>73.2</td>" in html
