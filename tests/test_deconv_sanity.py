"""The cascading randomisation check (Adebayo et al. 2018): re-drawn layers, and the two similarities of maps."""
from collections import OrderedDict

import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from zfcourse.deconv import cosine_similarity, randomised, rank_correlation
from zfcourse.models import course_model


def net(seed):
    torch.manual_seed(seed)
    return nn.Sequential(OrderedDict(features=nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(3, 4, 3), relu1=nn.ReLU(), conv2=nn.Conv2d(4, 4, 3), relu2=nn.ReLU()))))


def test_randomised_redraws_exactly_the_named_layers():
    trained, fresh = net(0), net(1)
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    m = randomised(trained, fresh, ["features.conv2"])
    got, new = m.state_dict(), fresh.state_dict()
    for k in got:
        assert torch.equal(got[k], new[k] if k.startswith("features.conv2") else before[k]), k
    assert all(torch.equal(v, before[k]) for k, v in trained.state_dict().items())   # the trained model untouched
    both = randomised(trained, fresh, ["features.conv2", "features.conv1"])          # the next step of the cascade
    assert all(torch.equal(v, new[k]) for k, v in both.state_dict().items())
    assert all(torch.equal(v, before[k]) for k, v in randomised(trained, fresh, []).state_dict().items())


def test_randomised_on_the_course_model_and_bad_layers():
    trained, fresh = course_model(), course_model()
    m = randomised(trained, fresh, ["features.conv5", "features.conv4"])
    assert torch.equal(m.features.conv4.weight, fresh.features.conv4.weight)
    assert torch.equal(m.features.conv3.weight, trained.features.conv3.weight)
    assert torch.equal(m.classifier.fc6.weight, trained.classifier.fc6.weight)
    with pytest.raises(ValueError, match="layers"):
        randomised(trained, fresh, "features.conv5")
    with pytest.raises(ValueError, match="conv9"):
        randomised(trained, fresh, ["features.conv9"])
    with pytest.raises(ValueError, match="fresh"):
        randomised(trained, net(1), ["features.conv2"])                # other shapes


def test_similarities_by_hand():
    a = torch.tensor([[[[1.0, 0.0], [2.0, -1.0]]]])                    # (1, 1, 2, 2)
    assert cosine_similarity(a, 3 * a).item() == pytest.approx(1.0)
    assert cosine_similarity(a, -a).item() == pytest.approx(-1.0)
    b = torch.tensor([[[[0.0, 5.0], [0.0, 0.0]]]])                     # disjoint support: orthogonal
    assert cosine_similarity(a, b).item() == pytest.approx(0.0)
    assert cosine_similarity(a, torch.zeros_like(a)).item() == 0.0
    # rank correlation of |a| and |b| summed over channels, over the pixels where either is non-zero:
    # two channels, |u| = [3, 0, 1, 2] (pixel 1 zero in both maps: left out), |v| = [1, 0, 2, 3]
    u = torch.tensor([[[2.0, 0.0], [1.0, -2.0]], [[-1.0, 0.0], [0.0, 0.0]]])[None]
    v = torch.tensor([[[1.0, 0.0], [-2.0, 3.0]], [[0.0, 0.0], [0.0, 0.0]]])[None]
    want = spearmanr([3, 1, 2], [1, 2, 3]).statistic                   # = −0.5
    assert want == pytest.approx(-0.5)
    got = rank_correlation(torch.cat([u, u]), torch.cat([v, u]))
    assert got.dtype == torch.float64 and got.tolist() == pytest.approx([-0.5, 1.0])
    assert rank_correlation(u[:, 0], v[:, 0]).item() == pytest.approx(spearmanr([2, 1, 2], [1, 2, 3]).statistic)
    with pytest.raises(ValueError, match="shape"):
        cosine_similarity(a, a[0])
    with pytest.raises(ValueError, match="shape"):
        rank_correlation(a[0, 0], a[0, 0])
