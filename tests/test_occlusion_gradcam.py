"""Grad-CAM (Selvaraju et al. 2017) against a hand computation on a model small enough to do it on paper."""
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zfcourse.occlusion import grad_cam


def tiny():
    """One 1×1 conv (1 → 2 maps: x and −x), ReLU, global average pooling, a linear layer to 2 classes:
    A^0 = relu(x), A^1 = relu(−x), y_c = Σ_k w_ck mean(A^k) + b_c, so α^c_k = w_ck / Z."""
    features = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 2, 1, bias=False), relu=nn.ReLU()))
    model = nn.Sequential(OrderedDict(features=features, pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(),
                                      fc=nn.Linear(2, 2), drop=nn.Dropout(0.5)))
    with torch.no_grad():
        features.conv.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
        model.fc.weight.copy_(torch.tensor([[2.0, 1.0], [-1.0, 3.0]]))
        model.fc.bias.copy_(torch.tensor([0.5, -0.5]))
    return model


X = torch.tensor([[1.0, -2.0], [3.0, 0.0]]).view(1, 1, 2, 2)   # A^0 = [[1, 0], [3, 0]], A^1 = [[0, 2], [0, 0]]


def test_grad_cam_is_the_hand_computation():
    model = tiny().train()                                       # dropout on: grad_cam must switch it off
    # class 0: α = (2/4, 1/4) → 0.5·A^0 + 0.25·A^1 = [[0.5, 0.5], [1.5, 0]]
    # class 1: α = (−1/4, 3/4) → [[−0.25, 1.5], [−0.75, 0]], ReLU → [[0, 1.5], [0, 0]]
    want = {0: torch.tensor([[0.5, 0.5], [1.5, 0.0]]), 1: torch.tensor([[0.0, 1.5], [0.0, 0.0]])}
    for c, hand in want.items():
        got = grad_cam(model, X, c, layer="features.relu")
        assert got.shape == (1, 2, 2) and torch.allclose(got[0], hand, atol=1e-6)
    assert model.training and model.drop.training                # modes restored
    assert not model.features.relu._forward_hooks               # hook removed
    assert all(p.grad is None for p in model.parameters())       # no side effect on the model's gradients
    # upsampled bilinearly to a requested size, or to the images' size by default
    big = grad_cam(model, X, 0, layer="features.relu", size=(6, 6))
    assert torch.allclose(big[0], F.interpolate(want[0][None, None], size=(6, 6), mode="bilinear",
                                                align_corners=False)[0, 0], atol=1e-6)


def test_one_map_per_image_and_class_and_a_frozen_model():
    model = tiny()
    for p in model.parameters():
        p.requires_grad_(False)                                  # a frozen model still has gradients w.r.t. A
    batch = torch.cat([X, -X, 2 * X])
    maps = grad_cam(model, batch, torch.tensor([0, 1, 1]), layer="features.relu")
    for i, c in enumerate([0, 1, 1]):                            # each image's map depends on that image only
        assert torch.allclose(maps[i], grad_cam(model, batch[i:i + 1], [c], layer="features.relu")[0])
    assert torch.allclose(maps[2], 2 * grad_cam(model, X, 1, layer="features.relu")[0])   # homogeneous in x
    assert (maps >= 0).all() and not maps.requires_grad


@pytest.mark.parametrize("kwargs, name", [({"images": X[0]}, "images"), ({"classes": [0, 1]}, "classes"),
                                          ({"classes": 2}, "classes"), ({"layer": "features.conv5"}, "layer")])
def test_bad_arguments_name_themselves(kwargs, name):
    args = {"images": X, "classes": 0, "layer": "features.relu"} | kwargs
    with pytest.raises(ValueError, match=name):
        grad_cam(tiny(), **args)
