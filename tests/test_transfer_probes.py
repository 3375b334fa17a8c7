"""Linear classifiers on frozen features (§5.2 softmax, §5.3 linear SVM) and the mean ± sd split protocol."""
import math

import numpy as np
import pytest
import torch

from zfcourse.transfer import (LinearSVM, ProbeResult, SoftmaxClassifier, few_shot_curve, few_shot_splits,
                               mean_per_class_accuracy, mean_sd, per_class_accuracy, probe_splits)

C, D = 10, 32


def clusters(per_class, seed, spread=1.0, separation=4.0):
    """Gaussian clusters: class c around a random centre; well separated for separation ≫ spread."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(C, D, generator=torch.Generator().manual_seed(0)) * separation
    y = torch.arange(C).repeat_interleave(per_class)
    return centres[y] + spread * torch.randn(len(y), D, generator=g), y


@pytest.mark.parametrize("cls", [SoftmaxClassifier, LinearSVM])
@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_separable_features_are_classified_perfectly(cls, optimizer):
    x, y = clusters(5, seed=1)
    xt, yt = clusters(50, seed=2)
    clf = cls(optimizer=optimizer, max_iter=300).fit(x, y)
    assert (clf.predict(xt) == yt).float().mean() >= 0.99
    assert clf.decision_function(xt).shape == (len(xt), C)


@pytest.mark.parametrize("classifier", ["softmax", "svm"])
def test_split_protocol_near_100_on_separable_and_chance_on_shuffled_labels(classifier):
    x, y = clusters(60, seed=3)
    splits = few_shot_splits(y.numpy(), 10, n_splits=3, max_test=50, seed=0)
    good = probe_splits(x, y.numpy(), splits, classifier, progress=False)
    assert good.mean >= 99.0 and len(good.accuracies) == 3 and good.n == 10
    shuffled = np.random.default_rng(0).permutation(y.numpy())   # labels no longer depend on the features
    splits = few_shot_splits(shuffled, 10, n_splits=5, max_test=50, seed=0)
    chance = probe_splits(x, shuffled, splits, classifier, progress=False)
    assert abs(chance.mean - 100 / C) < 5, chance.accuracies


def test_training_is_deterministic_and_weight_decay_shrinks_the_weights():
    x, y = clusters(5, seed=4)
    a, b = SoftmaxClassifier().fit(x, y), SoftmaxClassifier().fit(x, y)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    strong = SoftmaxClassifier(weight_decay=1.0).fit(x, y)
    assert strong.weight.norm() < a.weight.norm()
    assert a.n_iter_ >= 1 and math.isfinite(a.loss_)


def test_probabilities_and_multi_hot_targets():
    x, y = clusters(20, seed=5)
    clf = SoftmaxClassifier().fit(x, y)
    p = clf.predict_proba(x)
    assert torch.allclose(p.sum(1), torch.ones(len(x)))
    # two objects per image: class c and class c + 1; both the SVM and the shared-mass softmax rank both first
    multi = torch.nn.functional.one_hot(y, C) + torch.nn.functional.one_hot((y + 1) % C, C)
    xm = x + torch.roll(clusters(20, seed=6)[0], 20, 0)          # features of c plus those of c + 1
    for cls in (SoftmaxClassifier, LinearSVM):
        s = cls().fit(xm, multi).decision_function(xm)
        top2 = s.topk(2, 1).indices.sort(1).values
        assert (top2 == multi.nonzero()[:, 1].view(-1, 2).sort(1).values).float().mean() > 0.95


def test_per_class_accuracy_weights_classes_equally():
    target = torch.tensor([0, 0, 0, 0, 1, 2])
    pred = torch.tensor([0, 0, 0, 0, 0, 2])
    acc = per_class_accuracy(pred, target, num_classes=4)
    assert acc[:3].tolist() == [1.0, 0.0, 1.0] and math.isnan(acc[3])
    assert mean_per_class_accuracy(pred, target) == pytest.approx(2 / 3)   # plain accuracy would be 5/6


def test_mean_sd_and_probe_result():
    assert mean_sd([1.0, 2.0, 3.0]) == (2.0, 1.0)
    m, s = mean_sd([4.0])
    assert m == 4.0 and math.isnan(s)
    assert str(ProbeResult([80.0, 82.0])) == "81.0 ± 1.4" and str(ProbeResult([80.0])) == "80.0"
    with pytest.raises(ValueError, match="values"):
        mean_sd([])


def test_few_shot_curve_improves_with_more_images():
    x, y = clusters(40, seed=7, spread=4.0)         # overlapping clusters: more images help
    curve = few_shot_curve(x, y.numpy() + 50, shots=(1, 5, 20), n_splits=3, max_test=15, progress=False)
    assert list(curve) == [1, 5, 20]
    assert curve[1].mean < curve[20].mean and all(len(r.accuracies) == 3 for r in curve.values())


@pytest.mark.parametrize("kwargs, name", [
    ({"weight_decay": -1}, "weight_decay"), ({"optimizer": "sgd"}, "optimizer"), ({"max_iter": 0}, "max_iter"),
    ({"lr": 0}, "lr"),
])
def test_bad_settings_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SoftmaxClassifier(**kwargs)


def test_bad_data_names_the_argument():
    x, y = clusters(3, seed=8)
    with pytest.raises(ValueError, match="x:"):
        LinearSVM().fit(torch.full((4, 2), float("nan")), torch.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="y:"):
        LinearSVM().fit(x, y[:-1])
    with pytest.raises(ValueError, match="y:"):
        LinearSVM().fit(x, y.float())
    with pytest.raises(ValueError, match="y:"):
        LinearSVM().fit(x, y, num_classes=3)
    with pytest.raises(RuntimeError, match="fit"):
        LinearSVM().predict(x)
    with pytest.raises(ValueError, match="x:"):
        LinearSVM().fit(x, y).predict(x[:, :5])
    splits = few_shot_splits(y.numpy(), 1, n_splits=1)
    with pytest.raises(ValueError, match="classifier"):
        probe_splits(x, y.numpy(), splits, "knn", progress=False)
    with pytest.raises(ValueError, match="targets"):
        probe_splits(x, y.numpy()[:-1], splits, progress=False)
    with pytest.raises(ValueError, match="splits"):
        probe_splits(x, y.numpy(), [], progress=False)
