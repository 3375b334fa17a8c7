"""Feature scale clipping (§3): every filter ends with RMS ≤ radius; filters already inside are untouched."""
import pytest
import torch
from torch import nn

from zfcourse.models import course_model
from zfcourse.train import PAPER_RADIUS, clip_filter_rms_, conv_layers, filter_rms


def test_filter_rms_is_root_mean_square_of_each_filter():
    w = torch.zeros(2, 3, 2, 2)
    w[0] = 2.0          # every weight 2 → RMS 2
    w[1, 0, 0, 0] = 3.0  # one weight 3 among 12 → RMS 3/√12
    assert torch.allclose(filter_rms(w), torch.tensor([2.0, 3.0 / 12 ** 0.5]))


def test_clipping_bounds_every_filter_and_leaves_small_ones_bit_identical():
    torch.manual_seed(0)
    model = course_model(input_size=112)
    conv1 = conv_layers(model)["conv1"]
    with torch.no_grad():
        conv1.weight[:5] *= 50  # five filters far outside the radius (init RMS ≈ 0.01)
    before = {name: c.weight.detach().clone() for name, c in conv_layers(model).items()}
    clipped = clip_filter_rms_(model, PAPER_RADIUS)
    assert clipped == {"conv1": 5, "conv2": 0, "conv3": 0, "conv4": 0, "conv5": 0}
    rms = filter_rms(conv1.weight)
    assert torch.all(rms <= PAPER_RADIUS * (1 + 1e-6))
    assert torch.allclose(rms[:5], torch.full((5,), PAPER_RADIUS))
    # Direction kept for the clipped filters; untouched filters equal bit for bit.
    cos = nn.functional.cosine_similarity(conv1.weight[:5].flatten(1), before["conv1"][:5].flatten(1))
    assert torch.allclose(cos, torch.ones(5))
    assert torch.equal(conv1.weight[5:], before["conv1"][5:])
    for name in ("conv2", "conv3", "conv4", "conv5"):
        assert torch.equal(conv_layers(model)[name].weight, before[name])


def test_clipping_rejects_a_bad_radius():
    with pytest.raises(ValueError, match="^radius"):
        clip_filter_rms_(course_model(input_size=112), radius=0)
