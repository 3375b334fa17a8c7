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
    assert ">box holds 49 %</td>" in t._repr_html_()


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


def _records(tmp_path):
    cfg = SimpleNamespace(mode="quick", source="embedded")
    scorecard.record("fig7", cfg, measured="box holds 49 %", verdict="agrees", why="",
                     numbers={"share": 0.4912, "n": 3, "per_scene": [0.38, 0.49]}, path=tmp_path / "fig7.json")
    scorecard.record("table1", cfg, measured="parts = random at layer 5", verdict="differs", why="5 faces <b>",
                     path=tmp_path / "table1.json")
    return scorecard.load(tmp_path)


def test_table_links_each_chapter_to_its_page_and_escapes_text(tmp_path):
    recs = _records(tmp_path)
    page = scorecard.table(recs)._repr_html_()
    assert page.count("<tr>") == len(scorecard.CLAIMS) + 1          # header + one row per claim
    assert '(<a href="07_occlusion.html">ch. 7</a>)' in page and '<a href="10_generalization.html">ch. 10</a>' in page
    assert page.count("<th ") == 4 and page.count("<td ") == 4 * len(scorecard.CLAIMS)
    assert "5 faces &lt;b&gt;" in page and "<b>" not in page
    assert "<a " not in scorecard.table(recs, links=False)._repr_html_()
    assert set(scorecard.CHAPTER_PAGES) >= {c.chapter for c in scorecard.CLAIMS.values()}


def test_reading_lays_out_the_records_with_their_numbers(tmp_path):
    recs = _records(tmp_path)
    r = scorecard.reading(recs, keys=["fig7", "table1", "table2"])
    text = repr(r)
    flat = " ".join(text.split())
    assert "§4.2, Fig. 7 (ch. 7) — agrees. box holds 49 %" in flat
    assert "share = 0.491; n = 3; per_scene = [0.38, 0.49]" in flat          # 3 significant figures
    assert "§5.1, Table 2 (ch. 9) — not measured." in flat
    assert all(len(line) <= 100 for line in text.splitlines())
    page = r._repr_html_()
    assert page.count("<p>") == 3 and '<a href="08_correspondence.html">chapter 8</a>' in page
    assert len(scorecard.reading(recs)._repr_html_().split("<p>")) == len(scorecard.CLAIMS) + 1
    with pytest.raises(ValueError, match="^keys: expected claims of"):
        scorecard.reading(recs, keys=["fig99"])


def test_plot_draws_one_tile_per_claim_in_its_verdicts_colour(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.colors import to_hex
    import matplotlib.pyplot as plt

    from zfcourse.plots import COLUMN_INCHES

    recs = _records(tmp_path)
    fig = scorecard.plot(recs)
    ax = fig.axes[0]
    tiles = {t.get_text(): t for t in ax.texts}
    assert len(ax.patches) == len(scorecard.CLAIMS) and len(tiles) == len(scorecard.CLAIMS)
    colour = {}
    for patch in ax.patches:
        x, y = patch.get_xy()
        label = next(t.get_text() for t in ax.texts if abs(t.get_position()[0] - x - 0.46) < 0.01
                     and abs(t.get_position()[1] - y - 0.46) < 0.01)
        colour[label] = to_hex(patch.get_facecolor())
    assert colour["Fig. 7"] == scorecard.VERDICT_COLOURS["agrees"]
    assert colour["Tab. 1"] == scorecard.VERDICT_COLOURS["differs"]
    assert colour["Tab. 4–5"] == scorecard.VERDICT_COLOURS["not measured"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["agrees (1)", "partly (0)", "differs (1)", f"not measured ({len(scorecard.CLAIMS) - 2})"]
    assert fig.get_size_inches()[0] <= COLUMN_INCHES
    plt.close(fig)


def test_glue_publishes_every_verdict_as_myst_nb_does(tmp_path, monkeypatch):
    recs = _records(tmp_path)
    values = scorecard.glued(recs)
    assert values["verdict-fig7"] == "agrees" and values["verdict-table2"] == "not measured"
    assert values["count-agrees"] == 1 and values["count-not-measured"] == len(scorecard.CLAIMS) - 2
    assert len(values) == len(scorecard.CLAIMS) + len(scorecard.VERDICTS)
    shown = []
    import IPython.display
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append((obj, kw)))
    scorecard.glue(recs)
    assert len(shown) == len(values)
    obj, kw = shown[0]
    assert kw["raw"] is True and kw["metadata"]["scrapbook"] == {"name": "verdict-fig3",
                                                                 "mime_prefix": "application/papermill.record/"}
    assert obj == {"application/papermill.record/text/plain": "'not measured'"}
    try:  # the same output MyST-NB's own glue() writes, where MyST-NB is installed
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    theirs = []
    monkeypatch.setattr("myst_nb.ext.glue.ipy_display", lambda obj, **kw: theirs.append((obj, kw)))
    myst_glue("verdict-fig3", "not measured", display=False)
    assert theirs[0][0] == obj and theirs[0][1]["metadata"]["scrapbook"] == kw["metadata"]["scrapbook"]


def test_reading_cuts_long_numbers_after_whole_entries(tmp_path):
    cfg = SimpleNamespace(mode="quick", source="embedded")
    numbers = {f"layer{i}": {"main object": 0.123456, "background": 0.5, "on a named part": 0.25} for i in range(9)}
    rec = scorecard.record("fig2", cfg, measured="m", verdict="partly", why="", numbers=numbers,
                           path=tmp_path / "fig2.json")
    page = scorecard.reading({"fig2": rec}, keys=["fig2"])._repr_html_()
    recorded = page.split("Recorded: ")[1].split("</small>")[0]
    assert recorded.startswith("layer0 = {main object: 0.123, background: 0.5, on a named part: 0.25}; layer1")
    assert recorded.endswith("; …") and len(recorded) <= 330 and "layer8" not in recorded
