"""Finished runs → result files for Tables 2 and 3 (§5.1): crops and ensembles averaged as §3 and Table 2 say, an
evaluate round trip on a tiny run made with the command line, and bad inputs named."""
import json
import shutil

import numpy as np
import pytest
import torch

from zfcourse.__main__ import main as cli
from zfcourse.data import WorldDataset
from zfcourse.train import (TABLE3_CHECKS, claim_verdict, compare_rows, crop_softmax, ensemble_errors, ensemble_gain,
                            evaluate_run, load_result, load_results, load_softmax, paired_difference, result_name,
                            row_numbers, row_of, seed_spread, seed_spreads, table2, table3, train_command)
from zfcourse.train.results import model_of, write_json
from zfcourse.transfer import average_softmax, ensemble_softmax, ten_crop_softmax, top_k_error

from test_transfer_averaging import toy  # the same toy models as the averaging tests


@pytest.fixture(scope="module")
def images():
    return torch.randn(7, 3, 6, 6, generator=torch.Generator().manual_seed(1))


def test_one_pass_gives_the_centre_and_the_ten_crop_softmax(images):
    m = toy(1).train()
    p = crop_softmax(m, images, crop=4, batch_size=4, progress=False)              # (7, 10, 5)
    assert p.shape == (7, 10, 5) and m.training                                  # train mode restored
    assert torch.allclose(p.mean(1), ten_crop_softmax(m, images, crop=4, progress=False), atol=1e-6)
    assert torch.allclose(p[:, 4], average_softmax(m, images, crop=4, progress=False), atol=1e-6)
    only_centre = crop_softmax(m, images, crop=4, ten_crops=False, progress=False)
    assert only_centre.shape == (7, 1, 5) and torch.allclose(only_centre[:, 0], p[:, 4], atol=1e-6)
    # a preprocess runs per batch: uint8 (N, H, W, 3) renders → input space, as for the world's cached images
    raw = (images.movedim(1, -1) * 20 + 128).clamp(0, 255).to(torch.uint8)

    def prep(batch):
        return batch.movedim(-1, 1).float() / 10

    assert torch.allclose(crop_softmax(m, raw, 4, preprocess=prep, progress=False),
                          crop_softmax(m, prep(raw), 4, progress=False), atol=1e-6)


def _fake_result(folder, name, probs_centre, probs_ten, labels):
    """A result file pair as evaluate_run writes it, from given softmaxes (for the ensemble arithmetic)."""
    np.savez_compressed(folder / f"{name}.npz", centre=probs_centre.half().numpy(), ten_crop=probs_ten.half().numpy(),
                        labels=labels.numpy().astype(np.int16))

    def e(p):
        return dict(zip(("top1", "top5"), top_k_error(p, labels, ks=(1, 5)).values()))

    write_json({"format": 1, "row": "toy", "seed": 0, "softmax_file": f"{name}.npz",
                "val": {"centre": e(probs_centre), "ten_crop": e(probs_ten)}, "train": {"top1": 0.5},
                "history": {"final_val_acc": 0.5, "last_mean_val_acc": 0.25, "epochs": 40},
                "run": {"train_seconds_total": 7200}}, folder / f"{name}.json")
    return load_result(folder / f"{name}.json")


def test_ensemble_of_cached_softmaxes_is_the_ensemble_of_the_models(images, tmp_path):
    labels = torch.arange(7) % 5
    models = [toy(s) for s in (3, 4, 5)]
    results = [_fake_result(tmp_path, f"toy-seed{i}", average_softmax(m, images, crop=4, progress=False),
                            ten_crop_softmax(m, images, crop=4, progress=False), labels) for i, m in enumerate(models)]
    got = ensemble_errors(results)
    for view, ten in (("centre", False), ("ten_crop", True)):
        want = top_k_error(ensemble_softmax(models, images, crop=4, ten_crops=ten, progress=False), labels)
        assert got[view] == pytest.approx({"top1": want[1], "top5": want[5]}, abs=1e-9)
    assert got["members"] == ["toy-seed0", "toy-seed1", "toy-seed2"]
    single = ensemble_errors(results[:1])
    assert single["centre"]["top1"] == pytest.approx(results[0]["val"]["centre"]["top1"])
    assert set(load_results(tmp_path)) == {"toy-seed0", "toy-seed1", "toy-seed2"}
    assert seed_spread(results) == pytest.approx(float(torch.tensor(
        [r["val"]["centre"]["top1"] for r in results], dtype=torch.float64).std()))
    assert seed_spread(results[:1]) is None
    # paired difference of two results on the same images: the mean of [a wrong] − [b wrong] and its standard error
    d, se = paired_difference(results[0], results[1])
    wrong = [(load_softmax(r)["centre"].argmax(1) != labels).double() for r in results[:2]]
    assert d == pytest.approx(float((wrong[0] - wrong[1]).mean()))
    assert se == pytest.approx(float((wrong[0] - wrong[1]).std() / 7 ** 0.5))


def test_tables_show_what_exists_and_name_what_is_missing(images, tmp_path):
    labels = torch.arange(7) % 5
    p = [average_softmax(toy(s), images, crop=4, progress=False) for s in range(3)]
    results = {n: _fake_result(tmp_path, n, q, q, labels) for n, q in zip(("zf", "zf-seed1", "krizhevsky"), p)}
    t2, waiting = table2(results)
    assert waiting["ZF, 3 convnets (seeds 0-2) (a)"] == ["zf-seed2"]
    assert "ZF course model, 1 convnet" not in waiting and "Krizhevsky layout, 1 convnet" not in waiting
    one = next(r for r in t2.rows if r[0] == "ZF course model, 1 convnet")
    assert one[1] == f"{100 * results['zf']['val']['centre']['top1']:.1f}" and one[-1] == "measured"
    assert "waiting for zf-seed2" in t2._repr_html_()
    t3, missing = table3(results)
    assert len(t3.rows) == 12 and "zf" not in missing and "krizhevsky-no34" in missing and len(missing) == 10
    assert [r[2] for r in t3.rows].count("not trained yet") == 10
    assert next(r for r in t3.rows if r[1] == "zf")[5:7] == ["75.0", "40 · 2.0 h"]


def test_ensemble_refuses_results_on_other_images(images, tmp_path):
    p = average_softmax(toy(0), images, crop=4, progress=False)
    a = _fake_result(tmp_path, "a-seed0", p, p, torch.arange(7) % 5)
    b = _fake_result(tmp_path, "b-seed1", p, p, torch.arange(7) % 3)
    with pytest.raises(ValueError, match="other validation images"):
        ensemble_errors([a, b])
    with pytest.raises(ValueError, match="results"):
        ensemble_errors([])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A one-epoch run of Table 3's cheapest row on 84 images, made with the command line."""
    out = tmp_path_factory.mktemp("runs") / "krizhevsky-no3467"
    code = cli(["train", "--table3-row", "krizhevsky-no3467", "--out", str(out), "--epochs", "1", "--train-size",
                "84", "--val-size", "42", "--batch-size", "42", "--quiet"])
    assert code == 0
    return out


def test_evaluate_round_trip_on_a_tiny_run(tiny_run, tmp_path, capsys):
    target = tmp_path / "table3" / "krizhevsky-no3467.json"
    assert cli(["evaluate", str(tiny_run), "--out", str(target), "--train-images", "42", "--quiet"]) == 0
    assert "train top-1" in capsys.readouterr().out
    r = load_result(target)
    assert (r["row"], r["seed"], r["val"]["images"], r["train"]["images"]) == ("krizhevsky-no3467", 0, 42, 42)
    assert r["run"]["command"].startswith("python -m zfcourse train --table3-row krizhevsky-no3467")
    assert r["run"]["epochs"] == 1 and r["run"]["train_seconds_total"] > 0
    assert (r["history"]["final_lr"], r["history"]["lr_drops"], r["history"]["epochs"]) == (0.01, 0, 1)
    assert r["parameters"] == sum(p.numel() for p in model_of(r["settings"]).parameters())
    # the final epoch's validation accuracy (the loop's centre crop, eval mode) is the evaluated centre error
    assert 1 - r["val"]["centre"]["top1"] == pytest.approx(r["history"]["final_val_acc"], abs=1.5 / 42)
    s = load_softmax(r)
    labels = WorldDataset("val", size=42, progress=False).labels
    assert torch.equal(s["labels"], labels) and s["centre"].shape == s["ten_crop"].shape == (42, 42)
    assert torch.allclose(s["ten_crop"].sum(1), torch.ones(42), atol=0.02)
    for view in ("centre", "ten_crop"):   # float16 storage keeps the errors (up to a tie)
        e = top_k_error(s[view], labels)
        assert e[1] == pytest.approx(r["val"][view]["top1"], abs=1 / 42)
        assert e[5] == pytest.approx(r["val"][view]["top5"], abs=1 / 42)
    assert target.stat().st_size < 20_000 and target.with_suffix(".npz").stat().st_size < 20_000
    assert not list(target.parent.glob(".*tmp"))                                  # atomic: no temporaries left


def test_missing_or_broken_run_files_are_named(tiny_run, tmp_path):
    for missing in ("model.pt", "history.json", "run.json"):
        broken = tmp_path / missing.replace(".", "_")
        shutil.copytree(tiny_run, broken)
        (broken / missing).unlink()
        with pytest.raises(FileNotFoundError, match=missing.replace(".", r"\.")):
            evaluate_run(broken, progress=False)
    bad = tmp_path / "bad_json"
    shutil.copytree(tiny_run, bad)
    (bad / "history.json").write_text("{not json")
    with pytest.raises(ValueError, match="history.json"):
        evaluate_run(bad, progress=False)
    with pytest.raises(FileNotFoundError, match="run_dir"):
        evaluate_run(tmp_path / "nowhere", progress=False)
    with pytest.raises(ValueError, match="out"):
        evaluate_run(tiny_run, tmp_path / "x.txt", progress=False)
    with pytest.raises(ValueError, match="train_images"):
        evaluate_run(tiny_run, train_images=0, progress=False)


def test_bad_result_files_and_arguments(tmp_path, images):
    (tmp_path / "junk.json").write_text(json.dumps({"format": 1}))
    with pytest.raises(ValueError, match="junk.json"):
        load_result(tmp_path / "junk.json")
    with pytest.raises(FileNotFoundError, match="nothing.json"):
        load_result(tmp_path / "nothing.json")
    with pytest.raises(ValueError, match="crop"):
        crop_softmax(toy(0), images, crop=0, progress=False)
    with pytest.raises(ValueError, match="images"):
        crop_softmax(toy(0), images, crop=8, progress=False)
    with pytest.raises(ValueError, match="row"):
        train_command("krizhevsky-no5")
    assert cli(["evaluate", str(tmp_path / "none"), "--out", str(tmp_path / "r.json")]) == 2


def test_rows_names_and_commands():
    course = {"arch": "course", "width": 0.25, "fc_units": 512, "input_size": 168}
    assert row_of(course) == "zf" and row_of({**course, "arch": "krizhevsky"}) == "krizhevsky"
    assert row_of({**course, "table3_row": "zf-fc-half"}) == "zf-fc-half"
    assert row_of({**course, "arch": "zfnet", "width": 1.0}) is None
    assert result_name("zf") == "zf" and result_name("zf", 2) == "zf-seed2"
    cmd = train_command("krizhevsky-no34", seed=1)
    assert "--table3-row krizhevsky-no34 --seed 1" in cmd and "--epochs 40" in cmd
    assert "--lr 0.003" in cmd and "--patience 1000" in cmd and "runs/table3/krizhevsky-no34-seed1" in cmd
    shipped = train_command("zf", seed=2, table=2)  # Table 2: the shipped models' recipe, lr 10⁻² (the default)
    assert "--lr" not in shipped and "--patience 1000" in shipped and "runs/table2/zf-seed2" in shipped
    with pytest.raises(ValueError, match="^row: .*table 2"):
        train_command("zf-fc-half", table=2)
    with pytest.raises(ValueError, match="^table"):
        train_command("zf", table=4)


def _answers(folder, name, labels, wrong, classes=5, confidence=1.0):
    """A result whose centre-crop answer is wrong exactly on the images where ``wrong`` is True: probability
    ``confidence`` on the answer (label + 1 where wrong), the rest on the true class."""
    p = torch.zeros(len(labels), classes)
    answer = torch.where(torch.as_tensor(wrong), (labels + 1) % classes, labels)
    p[torch.arange(len(labels)), labels] += 1 - confidence
    p[torch.arange(len(labels)), answer] += confidence
    return _fake_result(folder, name, p, p, labels)


def test_compare_rows_against_a_hand_worked_seed_spread(tmp_path):
    labels = torch.arange(20) % 5
    a = _answers(tmp_path, "zf-fc-half", labels, torch.arange(20) < 10)      # 10 of 20 wrong
    b = _answers(tmp_path, "zf", labels, torch.arange(20) < 4)               # 4 of 20 wrong, among a's
    results = {"zf-fc-half": a, "zf": b}
    e = torch.tensor([1.0] * 6 + [0.0] * 14)                                 # [a wrong] − [b wrong]
    d, se = 0.3, float(e.std() / 20 ** 0.5)
    tight, loose = {"zf": 0.05}, {"zf": 0.2}    # noise 2·√(2·0.05²) = 0.141 < 0.3 < 2·√(2·0.2²) = 0.566
    for spread, expect, status in ((tight, ">", "agrees"), (tight, "<", "differs"), (tight, "=", "differs"),
                                   (loose, ">", "within the seed spread"), (loose, "<", "within the seed spread"),
                                   (loose, "=", "agrees"), ({"zf": None}, ">", "no seed spread yet")):
        got = compare_rows(results, spread, "zf-fc-half", "zf", expect)
        assert got.status == status, (spread, expect)
        assert got.difference == pytest.approx(d) and got.sampling_error == pytest.approx(se)
    # b worse than a: the mirror image
    assert compare_rows(results, tight, "zf", "zf-fc-half", "<").status == "agrees"
    assert compare_rows(results, tight, "zf-fc-half", "zf", ">").points() == f"+30.0 points ± {100 * se:.1f}"
    waiting = compare_rows(results, tight, "zf-wide345", "zf", "<")
    assert waiting == ("waiting for zf-wide345", None, None) and waiting.points() == "—"
    assert compare_rows(results, tight, "zf-wide345-fc-double", "zf-wide345", ">").status == \
        "waiting for zf-wide345-fc-double, zf-wide345"
    with pytest.raises(ValueError, match="expect"):
        compare_rows(results, tight, "zf-fc-half", "zf", "better")
    with pytest.raises(ValueError, match="spread"):
        compare_rows(results, {"krizhevsky": 0.1}, "zf-fc-half", "zf", ">")


def test_seed_spreads_and_the_ensemble_gain_of_three_seeds(tmp_path):
    labels = torch.arange(6)
    thirds = torch.arange(6) // 2
    # seed k is wrong (0.6 on label + 1) on its own third of the images and sure elsewhere: each single network
    # is wrong on 1/3, their average on none (the true class gets (0.4 + 1 + 1)/3, the wrong one 0.2)
    results = {result_name("zf", k): _answers(tmp_path, result_name("zf", k), labels, thirds == k, classes=6,
                                              confidence=0.6) for k in range(3)}
    assert [r["val"]["centre"]["top1"] for r in results.values()] == pytest.approx([1 / 3] * 3)
    assert ensemble_errors(list(results.values()))["centre"]["top1"] == 0
    spread = seed_spreads(results)
    assert spread == {"krizhevsky": None, "zf": pytest.approx(0.0)}
    gain = ensemble_gain(results, spread, "zf")
    assert gain.status == "agrees" and gain.difference == pytest.approx(-1 / 3) and gain.sampling_error is None
    assert ensemble_gain(results, {"zf": 0.5}, "zf").status == "within the seed spread"   # 2·0.5/√3 = 0.58 > 1/3
    assert ensemble_gain(results, spread, "krizhevsky").status == \
        "waiting for krizhevsky, krizhevsky-seed1, krizhevsky-seed2"
    two = {k: v for k, v in results.items() if k != "zf-seed2"}
    assert ensemble_gain(two, seed_spreads(two), "zf").status == "waiting for zf-seed2"
    kept = row_numbers(results)["zf"]
    assert kept == {"train_top1": 0.5, "val": results["zf"]["val"], "last5_val_top1": 0.75}


def test_claim_verdict_and_the_paper_conclusions():
    assert claim_verdict(["agrees", "agrees"]).verdict == "agrees"
    assert claim_verdict(["differs"]).verdict == "differs"
    assert claim_verdict(["agrees", "differs"]).verdict == "partly"
    assert claim_verdict(["agrees", "within the seed spread"]).verdict == "partly"
    v = claim_verdict(["waiting for a, b", "no seed spread yet", "waiting for c", "waiting for c"])
    assert v.verdict == "not measured"
    assert v.open_parts == ["no seed spread yet", "waiting for a, b", "waiting for c"]
    assert v.counts == {"no seed spread yet": 1, "waiting": 3}
    with pytest.raises(ValueError, match="statuses"):
        claim_verdict([])
    from zfcourse.train.cli import TABLE3
    assert len(TABLE3_CHECKS) == 8 and {c.expect for c in TABLE3_CHECKS} == {">", "<", "="}
    assert all(c.a in TABLE3 and c.b in TABLE3 and c.a != c.b for c in TABLE3_CHECKS)


def test_first_updates_start_a_row_from_its_seed_and_repeat_exactly():
    from torch.utils.data import TensorDataset

    from zfcourse.environment import seed_everything
    from zfcourse.models import ablated
    from zfcourse.train import first_updates, scaled_init_
    from zfcourse.train.cli import TABLE3

    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(4, 3, 168, 168, generator=g) * 50, torch.tensor([0, 1, 2, 3]))
    steps = []
    a = first_updates("krizhevsky-no3467", data, 1e-2, batch_size=2, on_step=lambda e, s: steps.append(s))
    b = first_updates("krizhevsky-no3467", data, 1e-2, batch_size=2)
    assert steps == [1, 2]
    assert [n for n, _ in a.features.named_children()][-3:] == ["conv5", "relu5", "pool5"]
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name
    seed_everything(0)  # the weights the training command draws at seed 0, before any update
    start = scaled_init_(ablated(**TABLE3["krizhevsky-no3467"].kwargs))
    assert not torch.equal(start.features.conv1.weight, a.features.conv1.weight)
    with pytest.raises(ValueError, match="^row"):
        first_updates("krizhevsky-no5", data, 1e-2)


def test_table2_refuses_a_seed_ensemble_of_two_recipes(images, tmp_path):
    """Table 3's extra seeds (3·10⁻³) must not be averaged with Table 2's shipped model (10⁻²) as "3 convnets"."""
    labels = torch.arange(7) % 5
    p = [average_softmax(toy(s), images, crop=4, progress=False) for s in range(3)]
    runs = {n: _fake_result(tmp_path, n, q, q, labels)
            for n, q in zip(("krizhevsky", "krizhevsky-seed1", "krizhevsky-seed2"), p)}
    for seed, r in enumerate(runs.values()):
        r["row"], r["settings"] = "krizhevsky", {"arch": "krizhevsky", "lr": 0.003, "seed": seed, "patience": 1000}
    t2, waiting = table2(runs)                                     # one recipe: the ensemble is measured
    assert "Krizhevsky layout, 3 convnets (seeds 0-2)" not in waiting
    runs["krizhevsky"]["settings"] = {"arch": "krizhevsky", "lr": 0.01, "seed": 0, "patience": 4}
    with pytest.raises(ValueError, match=r"share one recipe, but krizhevsky has lr=0\.01 and krizhevsky-seed1 has "
                                         r"lr=0\.003"):
        table2(runs)
    del runs["krizhevsky-seed2"]                                   # incomplete: waits, nothing is averaged
    assert table2(runs)[1]["Krizhevsky layout, 3 convnets (seeds 0-2)"] == ["krizhevsky-seed2"]


def test_table2_takes_only_row_b_from_table3(images, tmp_path):
    """Table 3's widened run fills row (b); Table 3's extra seeds of a base row never join the shipped ensemble."""
    labels = torch.arange(7) % 5
    p = [average_softmax(toy(s), images, crop=4, progress=False) for s in range(3)]
    shipped = {"zf": _fake_result(tmp_path, "zf", p[0], p[0], labels)}
    t3 = {n: _fake_result(tmp_path, "t3-" + n, q, q, labels) for n, q in zip(("zf-wide345", "zf-seed1", "zf-seed2"), p)}
    t2, waiting = table2(shipped, t3)
    assert "ZF, layers 3,4,5 widened (b; Table 3's run)" not in waiting
    assert waiting["ZF, 3 convnets (seeds 0-2) (a)"] == ["zf-seed1", "zf-seed2"]     # not taken from Table 3
    b = next(r for r in t2.rows if r[0].startswith("ZF, layers 3,4,5 widened"))
    assert b[1] == f"{100 * t3['zf-wide345']['val']['centre']['top1']:.1f}"
    assert "ZF, layers 3,4,5 widened (b; Table 3's run)" in table2(shipped)[1]       # no table3: waits
    with pytest.raises(TypeError, match="table3: expected a dict"):
        table2(shipped, list(t3.values()))
