"""zfcourse.transfer: frozen features at named layers (§5.2–5.3) and few-shot splits (§5.2, Fig. 9)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader, SubsetRandomSampler, TensorDataset

from zfcourse.models import activations, course_model
from zfcourse.models.ablation import ablated
from zfcourse.transfer import (PAPER_SHOTS, assert_disjoint, check_split, extract_features, extract_layers,
                               few_shot_grid, few_shot_splits, paper_layers, pool_maps)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    m = course_model(10)
    for p in m.parameters():          # larger weights than §3's 0.01 so that every layer carries signal
        torch.nn.init.normal_(p, std=0.1)
    return m


@pytest.fixture(scope="module")
def images():
    return torch.randn(6, 3, 168, 168, generator=torch.Generator().manual_seed(1))


# ---------------------------------------------------------------------------------------------- which layer is "l"

def test_paper_layers_of_zfnet_alexnet_and_an_ablated_model():
    assert dict(paper_layers(course_model())) == {
        1: "features.norm1", 2: "features.norm2", 3: "features.relu3", 4: "features.relu4", 5: "features.pool5",
        6: "classifier.relu6", 7: "classifier.relu7"}
    alex = torchvision.models.alexnet(weights=None)
    assert dict(paper_layers(alex)) == {1: "features.2", 2: "features.5", 3: "features.7", 4: "features.9",
                                        5: "features.12", 6: "classifier.2", 7: "classifier.5"}
    small = ablated("krizhevsky", width=0.125, num_classes=10, drop_convs=(3, 4), drop_fcs=(7,))
    assert dict(paper_layers(small)) == {1: "features.norm1", 2: "features.norm2", 5: "features.pool5",
                                         6: "classifier.relu6"}
    with pytest.raises(TypeError, match="model"):
        paper_layers(torch.nn.Linear(2, 2))


# ------------------------------------------------------------------------------------------------ feature values

def test_pooled_features_match_the_recorded_activations(net, images):
    acts = activations(net, images, ["relu2", "pool5", "relu7"])
    f = extract_layers(net, images, ["relu2", "pool5", "relu7"], pool="max", progress=False)
    assert list(f) == ["features.relu2", "features.pool5", "classifier.relu7"]
    assert torch.allclose(f["features.relu2"], acts["features.relu2"].amax((2, 3)))
    assert torch.allclose(f["features.pool5"], acts["features.pool5"].amax((2, 3)))
    assert torch.equal(f["classifier.relu7"], acts["classifier.relu7"])
    avg = extract_features(net, images, "relu2", pool="avg", grid=3, progress=False)
    assert avg.shape == (6, 64 * 9)
    assert torch.allclose(avg, F.adaptive_avg_pool2d(acts["features.relu2"], 3).flatten(1))
    flat = extract_features(net, images, "pool5", pool="flatten", progress=False)
    assert torch.allclose(flat, acts["features.pool5"].flatten(1))


def test_in_place_relu_does_not_overwrite_a_pre_relu_layer(net, images):
    conv1 = extract_features(net, images, "conv1", pool="flatten", progress=False)
    assert conv1.min() < 0                           # relu1 runs in place right after conv1


def test_stops_after_the_deepest_requested_layer(net, images):
    calls = []
    h = net.classifier.fc8.register_forward_hook(lambda *a: calls.append(1))
    try:
        extract_features(net, images, "pool5", progress=False)
        assert calls == []
        extract_features(net, images, "relu7", progress=False)
        assert calls == []
    finally:
        h.remove()


def test_tensor_dataset_and_loader_give_the_same_rows_and_the_mode_is_restored(net, images):
    net.train()
    a = extract_features(net, images, "relu7", batch_size=4, progress=False)
    b = extract_features(net, TensorDataset(images, torch.arange(6)), "relu7", batch_size=5, progress=False)
    c = extract_features(net, DataLoader(TensorDataset(images), batch_size=2), "relu7", progress=False)
    assert torch.allclose(a, b, rtol=1e-4, atol=1e-4) and torch.allclose(a, c, rtol=1e-4, atol=1e-4)
    assert net.training and net.classifier.drop7.training
    net.eval()
    with pytest.raises(ValueError, match="shuffle"):
        extract_features(net, DataLoader(TensorDataset(images), shuffle=True), "relu7", progress=False)


def test_a_loader_with_a_random_sampler_is_refused_too(net, images):
    # Row i must be image i: any sampler other than the sequential one breaks that, not only shuffle=True.
    loader = DataLoader(TensorDataset(images), sampler=SubsetRandomSampler(range(len(images))))
    with pytest.raises(ValueError, match="^data: the DataLoader shuffles or samples"):
        extract_features(net, loader, "relu7", progress=False)


@pytest.mark.parametrize("kwargs, name", [  # relu5 maps are 9×9: a 10×10 grid does not fit
    ({"pool": "median"}, "pool"), ({"grid": 0}, "grid"), ({"grid": 10}, "grid"), ({"batch_size": 0}, "batch_size"),
])
def test_bad_pooling_arguments_name_themselves(net, images, kwargs, name):
    with pytest.raises(ValueError, match=name):
        extract_features(net, images, "relu5", progress=False, **kwargs)


def test_bad_layers_and_data(net, images):
    with pytest.raises(KeyError, match="valid names"):
        extract_features(net, images, "conv9", progress=False)
    with pytest.raises(ValueError, match="layers"):
        extract_layers(net, images, "relu7", progress=False)
    with pytest.raises(ValueError, match="data"):
        extract_features(net, [1, 2, 3], "relu7", progress=False)
    with pytest.raises(ValueError, match="a:"):
        pool_maps(torch.zeros(2, 3, 4))


# ------------------------------------------------------------------------------------------------------- splits

def labelled_set(per_class=(40, 35, 60, 31, 45), offset=100):
    """Class c has per_class[c] images, labelled offset + c (labels need not start at 0), shuffled."""
    t = np.concatenate([np.full(k, offset + c) for c, k in enumerate(per_class)])
    return np.random.default_rng(5).permutation(t)


def test_few_shot_grid_respects_n_and_never_shares_an_image():
    t = labelled_set()
    grid = few_shot_grid(t, PAPER_SHOTS, n_splits=5, max_test=20, seed=3)
    assert list(grid) == list(PAPER_SHOTS)
    for n, splits in grid.items():
        assert len(splits) == 5 and len({tuple(s.train) for s in splits}) == 5   # five different draws
        for s in splits:
            assert s.n == n and not set(s.train) & set(s.test)
            assert np.bincount(t[s.train] - 100).tolist() == [n] * 5
            test_counts = np.bincount(t[s.test] - 100, minlength=5)
            assert (test_counts == np.minimum(20, np.array([40, 35, 60, 31, 45]) - n)).all()
            assert s.train.max() < len(t) and s.test.max() < len(t)
    # the same split index adds images as n grows (nested training sets), whatever n
    for k in range(5):
        sets = [set(grid[n][k].train) for n in PAPER_SHOTS]
        assert all(a < b for a, b in zip(sets, sets[1:]))


def test_max_test_none_uses_every_remaining_image():
    t = labelled_set()
    s = few_shot_splits(t, 30, n_splits=1, max_test=None)[0]
    assert len(s.train) + len(s.test) == len(t)


def test_check_split_catches_a_leak_and_a_wrong_count():
    t = labelled_set()
    s = few_shot_splits(t, 5, n_splits=1)[0]
    leaky = type(s)(n=5, seed=0, train=s.train, test=np.append(s.test, s.train[0]))
    with pytest.raises(AssertionError, match="share 1 item"):
        check_split(leaky, t)
    short = type(s)(n=5, seed=0, train=s.train[1:], test=s.test)
    with pytest.raises(AssertionError, match="5 training images per class"):
        check_split(short, t)


def test_held_out_classes_never_in_the_pre_training_labels():
    pretrain_labels = np.repeat(np.arange(10), 3)
    held_out = np.arange(10, 15)
    assert_disjoint(np.unique(pretrain_labels), held_out, names=("pre-training classes", "held-out classes"))
    with pytest.raises(AssertionError, match=r"pre-training classes and held-out classes share 2 item\(s\): \[3, 7\]"):
        assert_disjoint(pretrain_labels, [3, 7, 12], names=("pre-training classes", "held-out classes"))
    with pytest.raises(AssertionError, match="'fox'"):
        assert_disjoint(["cat", "dog", "fox"], ["fox"])


@pytest.mark.parametrize("kwargs, name", [
    ({"n": 0}, "n"), ({"n": 31}, "n"), ({"n": 2.5}, "n"), ({"n_splits": 0}, "n_splits"), ({"max_test": 0}, "max_test"),
    ({"targets": [0.5, 1.5]}, "targets"), ({"targets": []}, "targets"),
])
def test_bad_split_arguments_name_themselves(kwargs, name):
    args = {"targets": labelled_set(), "n": 5, **kwargs}
    with pytest.raises(ValueError, match=name):
        few_shot_splits(**args)
