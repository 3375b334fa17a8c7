"""Linear classifiers on frozen features (§5.2 softmax, §5.3 linear SVM) and the mean ± sd split protocol."""
import math

import numpy as np
import pytest
import torch

from zfcourse.transfer import (LinearSVM, ProbeResult, SoftmaxClassifier, few_shot_curve, few_shot_splits,
                               holdout_splits, mean_per_class_accuracy, mean_sd, per_class_accuracy,
                               probe_average_precision, probe_layers, probe_splits)

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
    assert good.mean >= 99.0 and len(good.values) == 3 and good.n == 10
    shuffled = np.random.default_rng(0).permutation(y.numpy())   # labels no longer depend on the features
    splits = few_shot_splits(shuffled, 10, n_splits=5, max_test=50, seed=0)
    chance = probe_splits(x, shuffled, splits, classifier, progress=False)
    assert abs(chance.mean - 100 / C) < 5, chance.values


def test_training_is_deterministic_and_weight_decay_shrinks_the_weights():
    x, y = clusters(5, seed=4)
    a, b = SoftmaxClassifier().fit(x, y), SoftmaxClassifier().fit(x, y)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    with torch.no_grad():                                         # fitting needs gradients: it turns them on
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
    assert curve[1].mean < curve[20].mean and all(len(r.values) == 3 for r in curve.values())


def test_probe_layers_ranks_an_informative_layer_above_noise():
    x, y = clusters(20, seed=9)
    noise = torch.randn_like(x)
    splits = few_shot_splits(y.numpy(), 5, n_splits=2, max_test=10)
    out = probe_layers({"layer 7": x, "layer 1": noise}, y.numpy(), splits, "svm", progress=False)
    assert list(out) == ["layer 7", "layer 1"] and out["layer 7"].mean > 95 > 40 > out["layer 1"].mean
    with pytest.raises(ValueError, match="features_by_layer"):
        probe_layers({}, y.numpy(), splits)


def multi_object(n, seed):
    """Images with 1-3 of C objects each; the features are the sum of the objects' centres plus noise."""
    g = torch.Generator().manual_seed(seed)
    labels = (torch.rand(n, C, generator=g) < 0.2).long()
    labels[torch.arange(n), torch.randint(0, C, (n,), generator=g)] = 1
    centres = torch.randn(C, D, generator=torch.Generator().manual_seed(0)) * 2
    return labels.float() @ centres + torch.randn(n, D, generator=g), labels


@pytest.mark.parametrize("classifier", ["svm", "softmax"])
def test_average_precision_protocol_on_multi_object_images(classifier):
    x, labels = multi_object(300, seed=10)
    splits = holdout_splits(300, 100, n_splits=2, seed=0)
    good = probe_average_precision(x, labels, splits, classifier, progress=False)
    assert set(good) == set(range(C)) | {"mAP"} and len(good["mAP"].values) == 2
    assert good["mAP"].mean > 90
    shuffled = labels[torch.randperm(300, generator=torch.Generator().manual_seed(1))]
    chance = probe_average_precision(x, shuffled, splits, classifier, progress=False)
    prevalence = 100 * labels.float().mean()
    assert abs(chance["mAP"].mean - prevalence) < 12
    with pytest.raises(ValueError, match="labels"):
        probe_average_precision(x, labels[:, 0], splits, progress=False)


def test_holdout_splits():
    splits = holdout_splits(50, 20, n_splits=3, seed=4)
    for s in splits:
        assert len(s.train) == s.n == 30 and len(s.test) == 20 and not set(s.train) & set(s.test)
        assert sorted(np.concatenate([s.train, s.test]).tolist()) == list(range(50))
    assert len({tuple(s.test) for s in splits}) == 3
    for kwargs, name in (({"n_test": 50}, "n_test"), ({"n_images": 1}, "n_images"), ({"n_splits": 0}, "n_splits")):
        with pytest.raises(ValueError, match=name):
            holdout_splits(**{"n_images": 50, "n_test": 20, **kwargs})


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
