"""§5.2's second strategy — the whole network trained from scratch on each split's few images — and the overlap
effect: the probe scored on injected and other test images apart."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from zfcourse.transfer import (ScratchRecipe, few_shot_splits, overlap_effect, scratch_curve, scratch_splits,
                               train_from_scratch)

C = 4


def toy(n_per_class=12, seed=0):
    """(N, 3, 4, 4) inputs whose class is a bright pixel at a class-specific place, plus noise; mirror-invariant."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(C).repeat_interleave(n_per_class)
    x = 0.3 * torch.randn(len(y), 3, 4, 4, generator=g)
    for c in range(C):
        x[y == c, c % 3, c, :] += 3.0           # a whole row lit: the same after a left-right mirror
    return x, y


def tiny():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 16, C))


def test_from_scratch_learns_a_separable_task_and_is_deterministic():
    x, y = toy()
    recipe = ScratchRecipe(steps=60, batch_size=16, lr=0.05)
    a, steps_a = train_from_scratch(tiny, x, y, recipe, seed=1)
    b, steps_b = train_from_scratch(tiny, x, y, recipe, seed=1)
    assert not a.training and steps_a == steps_b == 60          # no stop rule: every update is made
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    with torch.no_grad():
        assert (a(x).argmax(1) == y).float().mean() == 1


def test_stop_rule_fires_once_the_training_set_is_fitted_and_the_cap_holds_otherwise():
    x, y = toy()
    full, n_full = train_from_scratch(tiny, x, y, ScratchRecipe(steps=200, batch_size=16, lr=0.05), seed=1)
    recipe = ScratchRecipe(steps=200, batch_size=16, lr=0.05, fit_target=0.95, check_every=5)
    net, n = train_from_scratch(tiny, x, y, recipe, seed=1)
    assert n_full == 200 and n % 5 == 0 and 0 < n < 200         # stopped at a check, well before the cap
    with torch.no_grad():
        assert (net(x).argmax(1) == y).float().mean() >= 0.95
    # the same run without the stop rule passes through the same weights at update n: the stop only cuts it short
    cut, n_cut = train_from_scratch(tiny, x, y, ScratchRecipe(steps=n, batch_size=16, lr=0.05), seed=1)
    for p, q in zip(net.parameters(), cut.parameters()):
        assert torch.equal(p, q)
    # labels no network can fit from the inputs (pure noise): the cap stops it
    noise = torch.randn(len(y), 3, 4, 4, generator=torch.Generator().manual_seed(3))
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    _, n_cap = train_from_scratch(tiny, noise, shuffled, ScratchRecipe(steps=20, batch_size=16, lr=1e-4,
                                                                       fit_target=1.0, check_every=5), seed=0)
    assert n_cap == 20


def test_scratch_splits_scores_test_and_train_and_never_trains_on_test():
    x, y = toy(n_per_class=10)
    splits = few_shot_splits(y.numpy(), 3, n_splits=2, max_test=5)
    def make():
        return tiny()
    r = scratch_splits(make, x, y, splits, ScratchRecipe(steps=60, batch_size=8, lr=0.05), progress=False)
    assert len(r.values) == 2 and len(r.train_values) == 2 and r.updates == [60, 60]
    assert r.mean > 90 and r.train_mean == 100
    # shuffled labels: the network can fit its few training images, not predict the test ones
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    splits = few_shot_splits(shuffled.numpy(), 3, n_splits=3, max_test=5)
    r = scratch_splits(make, x, shuffled, splits, ScratchRecipe(steps=60, batch_size=8, lr=0.05), progress=False)
    assert r.mean < 60


def test_scratch_curve_cache_is_read_back_only_for_the_same_settings(tmp_path):
    x, y = toy(n_per_class=8)
    path = tmp_path / "scratch.json"
    recipe = ScratchRecipe(steps=5, batch_size=8)
    first = scratch_curve(tiny, x, y, shots=(1, 3), n_splits=2, max_test=4, recipe=recipe, cache=path,
                          what="toy", progress=False)
    stored = json.loads(path.read_text())
    assert set(stored["results"]) == {"1", "3"} and stored["format"] == 2

    def boom():
        raise AssertionError("trained although the cache matched")
    again = scratch_curve(boom, x, y, shots=(1, 3), n_splits=2, max_test=4, recipe=recipe, cache=path,
                          what="toy", progress=False)
    assert {n: r.values for n, r in again.items()} == {n: r.values for n, r in first.items()}
    assert again[3].train_values == first[3].train_values and again[3].updates == first[3].updates == [5, 5]
    assert stored["results"]["3"]["updates"] == [5, 5] and stored["settings"]["recipe"]["fit_target"] is None
    for other in (ScratchRecipe(steps=6, batch_size=8), ScratchRecipe(steps=5, batch_size=8, fit_target=0.95),
                  ScratchRecipe(steps=5, batch_size=8, fit_target=0.95, check_every=10)):
        with pytest.raises(AssertionError, match="trained although"):  # another recipe or stop rule: no match
            scratch_curve(boom, x, y, shots=(1, 3), n_splits=2, max_test=4, recipe=other,
                          cache=path, what="toy", progress=False)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="^cache: "):
        scratch_curve(tiny, x, y, shots=(1,), n_splits=1, recipe=recipe, cache=path, progress=False)


def test_scratch_curve_resumes_an_interrupted_grid_and_trains_only_what_is_missing(tmp_path):
    x, y = toy(n_per_class=8)
    recipe = ScratchRecipe(steps=5, batch_size=8)
    whole = scratch_curve(tiny, x, y, shots=(1, 3), n_splits=3, max_test=4, recipe=recipe, progress=False)
    path = tmp_path / "scratch.json"
    built = []

    def dies_on_the_fourth():
        built.append(1)
        if len(built) == 4:
            raise KeyboardInterrupt  # the session ends while the fourth network trains
        return tiny()
    with pytest.raises(KeyboardInterrupt):
        scratch_curve(dies_on_the_fourth, x, y, shots=(1, 3), n_splits=3, max_test=4, recipe=recipe, cache=path,
                      what="toy", progress=False)
    stored = json.loads(path.read_text())
    assert {n: len(r["test"]) for n, r in stored["results"].items()} == {"1": 3}   # three networks kept
    built.clear()

    def counting():
        built.append(1)
        return tiny()
    resumed = scratch_curve(counting, x, y, shots=(1, 3), n_splits=3, max_test=4, recipe=recipe, cache=path,
                            what="toy", progress=False)
    assert len(built) == 3                                                          # only n = 3's networks
    assert {n: r.values for n, r in resumed.items()} == {n: r.values for n, r in whole.items()}
    built.clear()
    fewer = scratch_curve(counting, x, y, shots=(3,), n_splits=2, max_test=4, recipe=recipe, cache=path,
                          what="toy", progress=False)
    assert not built and fewer[3].values == whole[3].values[:2]                    # a sub-grid: nothing trained
    more = scratch_curve(counting, x, y, shots=(3,), n_splits=4, max_test=4, recipe=recipe, cache=path,
                         what="toy", progress=False)
    assert len(built) == 1 and more[3].values[:3] == whole[3].values                # one more split: one network


def test_scratch_curve_reads_a_file_of_the_first_format(tmp_path):
    """Before per-network entries the file held one grid, its settings with ``shots`` and ``n_splits``."""
    x, y = toy(n_per_class=8)
    recipe = ScratchRecipe(steps=5, batch_size=8)
    first = scratch_curve(tiny, x, y, shots=(3,), n_splits=1, max_test=4, recipe=recipe, what="toy",
                          progress=False)
    from dataclasses import asdict
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"settings": {"shots": [3], "n_splits": 1, "max_test": 4, "seed": 0,
                                             "recipe": asdict(recipe), "n_images": len(x), "what": "toy"},
                                "results": {"3": {"test": first[3].values, "train": first[3].train_values,
                                                  "updates": first[3].updates}}}))

    def boom():
        raise AssertionError("trained although the cache held it")
    again = scratch_curve(boom, x, y, shots=(3,), n_splits=1, max_test=4, recipe=recipe, cache=path, what="toy",
                          progress=False)
    assert again[3].values == first[3].values


@pytest.mark.parametrize("kwargs, name", [({"steps": 0}, "steps"), ({"batch_size": 1.5}, "batch_size"),
                                          ({"lr": 0}, "lr"), ({"momentum": 1.0}, "momentum"),
                                          ({"weight_decay": -1}, "weight_decay"), ({"clip_radius": 0}, "clip_radius"),
                                          ({"fit_target": 0}, "fit_target"), ({"fit_target": 95}, "fit_target"),
                                          ({"check_every": 0}, "check_every")])
def test_bad_recipe_names_the_setting(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}: "):
        ScratchRecipe(**kwargs)


def test_bad_inputs_name_the_argument():
    x, y = toy()
    with pytest.raises(ValueError, match="^inputs: "):
        train_from_scratch(tiny, x[0], y, ScratchRecipe(steps=1))
    with pytest.raises(ValueError, match="^labels: "):
        train_from_scratch(tiny, x, y.float(), ScratchRecipe(steps=1))
    with pytest.raises(ValueError, match="^recipe: "):
        train_from_scratch(tiny, x, y, {"steps": 1})


def test_overlap_effect_scores_injected_and_other_test_images_apart():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(C), 20)
    injected = np.arange(0, len(y), 4)                               # every fourth image, all classes
    informative = np.eye(C)[y] * 4 + rng.normal(size=(len(y), C))
    # "saw them": the injected images carry their class clearly, the others are noise; "clean": noise for all
    saw = rng.normal(size=(len(y), C))
    saw[injected] = np.eye(C)[y[injected]] * 6
    feats = {"clean": torch.tensor(rng.normal(size=(len(y), C)), dtype=torch.float32),
             "saw them": torch.tensor(saw, dtype=torch.float32),
             "informative": torch.tensor(informative, dtype=torch.float32)}
    splits = few_shot_splits(y, 8, n_splits=3, max_test=12)
    out = overlap_effect(feats, y, splits, injected, progress=False)
    assert set(out) == set(feats) and set(out["clean"]) == {"all", "injected", "others"}
    assert out["saw them"]["injected"].mean > 90 and out["saw them"]["others"].mean < 60
    assert out["informative"]["all"].mean > 90
    assert all(0 <= r.mean <= 100 for d in out.values() for r in d.values())
    with pytest.raises(ValueError, match="^injected: "):
        overlap_effect(feats, y, splits, [len(y)], progress=False)
    with pytest.raises(ValueError, match="^features: "):
        overlap_effect({"short": feats["clean"][:10]}, y, splits, injected, progress=False)
