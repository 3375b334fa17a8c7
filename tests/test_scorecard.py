"""The scorecard (§6): records are written only by the book's own run, read back in the paper's order, and refused
when they are not records."""
import json
from types import SimpleNamespace

import pytest

from zfcourse import scorecard


def test_record_load_and_table_round_trip(tmp_path):
    rec = scorecard.record("fig7", SimpleNamespace(mode="quick", source="embedded"), measured="box holds 49 %",
                           verdict="agrees", why="", numbers={"share": 0.49, "n": 3}, path=tmp_path / "fig7.json")
    assert rec["chapter"] == 7 and json.loads((tmp_path / "fig7.json").read_text()) == rec
    got = scorecard.load(tmp_path)
    assert list(got) == ["fig7"] and got["fig7"]["numbers"] == {"share": 0.49, "n": 3}
    t = scorecard.table(got)
    assert len(t.rows) == len(scorecard.CLAIMS)
    assert t.counts()["agrees"] == 1 and t.counts()["not measured"] == len(scorecard.CLAIMS) - 1
    assert "<td>box holds 49 %</td>" in t._repr_html_()


def test_only_a_full_embedded_run_from_a_clone_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(scorecard, "results_dir", lambda environ=None: tmp_path)
    for mode, source in (("quick", "embedded"), ("full", "imagenet")):
        scorecard.record("fig5", SimpleNamespace(mode=mode, source=source), measured="x", verdict="partly", why="")
    assert not list(tmp_path.iterdir())
    scorecard.record("fig5", SimpleNamespace(mode="full", source="embedded"), measured="x", verdict="partly", why="y")
    assert [p.name for p in tmp_path.iterdir()] == ["fig5.json"]


def test_bad_records_are_refused_naming_what_is_wrong(tmp_path):
    cfg = SimpleNamespace(mode="quick", source="embedded")
    with pytest.raises(ValueError, match="^claim: expected one of"):
        scorecard.record("fig99", cfg, measured="x", verdict="agrees", why="")
    with pytest.raises(ValueError, match="^verdict: expected one of"):
        scorecard.record("fig5", cfg, measured="x", verdict="yes", why="")
    with pytest.raises(ValueError, match="^measured: expected what the course measured"):
        scorecard.record("fig5", cfg, measured=" ", verdict="agrees", why="")
    with pytest.raises(ValueError, match="^numbers: expected finite values"):
        scorecard.record("fig5", cfg, measured="x", verdict="agrees", why="", numbers={"a": float("nan")})
    (tmp_path / "fig2.json").write_text("{not json")
    with pytest.raises(ValueError, match="fig2.json: not a readable scorecard record"):
        scorecard.load(tmp_path)
    (tmp_path / "fig2.json").write_text(json.dumps({"claim": "fig4", "measured": "x", "verdict": "agrees", "why": ""}))
    with pytest.raises(ValueError, match="fig2.json: expected a record of claim 'fig2'"):
        scorecard.load(tmp_path)
