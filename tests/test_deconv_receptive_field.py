"""Receptive-field boxes (zfcourse.models.receptive_box, used for Fig. 2's patches) against brute force.

Brute force: make a copy of the trunk where a pixel's influence can only show, never cancel or hide — positive
weights, no biases, ReLU/LRN → identity, max-pool → average-pool with the same windows — and light one pixel on a black
image. The units that change (become non-zero) are exactly those whose receptive field holds that pixel.

Input sizes are ones where no layer drops trailing rows (floor-mode stride remainders): there the clipped nominal box
is exact. (E.g. AlexNet at 131×131: pool1 ignores conv1's last row, so the nominal boxes of the bottom units of later
layers reach a few pixel rows that in fact no longer feed them.)
"""
import pytest
import torch
import torchvision
from torch import nn

from zfcourse.models import crop, geometry, krizhevsky, receptive_box, zfnet
from zfcourse.models.summary import origin

torch.set_num_threads(1)


def see_through(features: nn.Sequential) -> list[nn.Module]:
    """The trunk's geometry with nothing that can hide a change: 2 maps per conv, positive weights, no bias."""
    layers, channels = [], 3
    for m in features:
        if isinstance(m, nn.Conv2d):
            conv = nn.Conv2d(channels, 2, m.kernel_size, m.stride, m.padding, m.dilation, bias=False).double()
            nn.init.uniform_(conv.weight, 0.5, 1.5)
            layers.append(conv)
            channels = 2
        elif isinstance(m, nn.MaxPool2d):
            layers.append(nn.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode))
        else:
            layers.append(nn.Identity())
    return layers


MODELS = {"zfnet": (lambda: zfnet(width=0.25), 112), "krizhevsky": (lambda: krizhevsky(width=0.25), 131),
          "alexnet": (lambda: torchvision.models.alexnet(weights=None), 224),
          "vgg11": (lambda: torchvision.models.vgg11(weights=None), 64)}


@pytest.mark.parametrize("name", MODELS)
def test_receptive_box_matches_brute_force(name):
    build, size = MODELS[name]
    model = build()
    rows = [r for r in geometry(model) if r.name.startswith("features.")]
    layers = see_through(model.features)
    for py, px in [(0, 0), (size - 1, size - 1), (0, size // 2), (size // 3, size - 2), (size // 2, size // 2)]:
        x = torch.zeros(1, 3, size, size, dtype=torch.float64)
        x[0, :, py, px] = 1.0
        with torch.no_grad():
            for row, layer in zip(rows, layers):
                x = layer(x)
                changed = (x[0] != 0).any(0)
                h, w = changed.shape
                # boxes are separable: unit (y, x) sees the pixel iff row y's span holds py and column x's holds px
                rows_ok = torch.tensor([(lambda b: b[1] <= py < b[3])(receptive_box(row, y, 0, size))
                                        for y in range(h)])
                cols_ok = torch.tensor([(lambda b: b[0] <= px < b[2])(receptive_box(row, 0, x, size))
                                        for x in range(w)])
                expected = rows_ok[:, None] & cols_ok[None, :]
                assert torch.equal(changed, expected), f"{name} {row.name} pixel {(py, px)}"


def test_crop_is_the_receptive_box_padded():
    row = [r for r in geometry(zfnet(width=0.25)) if r.name == "features.pool2"][0]
    image = torch.arange(3 * 112 * 112, dtype=torch.float32).view(1, 3, 112, 112) + 1
    for y, x in [(0, 0), (3, 5), (5, 5)]:
        patch = crop(image, row, torch.tensor([[y, x]]))[0]
        x0, y0, x1, y1 = receptive_box(row, y, x, 112)
        oy, ox = origin(row, torch.tensor([[y, x]]))[0].tolist()
        assert patch.shape == (3, row.receptive_field, row.receptive_field)
        inside = patch[:, y0 - oy:y1 - oy, x0 - ox:x1 - ox]
        assert torch.equal(inside, image[0, :, y0:y1, x0:x1])
        assert (patch != 0).sum() == inside.numel()  # the rest is the zero fill
