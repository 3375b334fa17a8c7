import math

import pytest
import torch
from torch import nn

from zfcourse.models import course_model
from zfcourse.train import scaled_init_
from zfcourse.train.cli import parser


def test_scaled_init_keeps_the_paper_scale_at_the_ends_and_fan_in_scale_between():
    torch.manual_seed(0)
    m = scaled_init_(course_model(12, input_size=112))
    layers = [x for x in m.modules() if isinstance(x, (nn.Conv2d, nn.Linear))]
    assert layers[0] is m.features.conv1 and layers[-1] is m.classifier.fc8
    assert abs(layers[0].weight.std().item() - 0.01) < 1e-3
    assert abs(layers[-1].weight.std().item() - 0.01) < 1e-3
    for layer in layers[1:-1]:
        expected = 1 / math.sqrt(layer.weight[0].numel())
        assert abs(layer.weight.std().item() / expected - 1) < 0.05, layer
    assert all((x.bias == 0).all() for x in layers)


def test_scaled_init_keeps_the_signal_alive_where_the_paper_init_does_not():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 112, 112) * 50                      # 0–255 minus the mean: spread ≈ 50
    paper = course_model(12, input_size=112).eval()
    scaled = scaled_init_(course_model(12, input_size=112)).eval()
    with torch.no_grad():
        assert paper(x).std() < 1e-3                           # vanished: the stall the module docstring describes
        assert 1e-2 < scaled(x).std() < 10                     # near unit scale


def test_bad_model_and_cli_default():
    with pytest.raises(ValueError, match="^model: "):
        scaled_init_(nn.Linear(3, 3))
    assert parser().parse_args(["--out", "x"]).init == "scaled"
