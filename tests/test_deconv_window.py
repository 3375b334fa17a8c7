"""The windowed way down (zfcourse.deconv.reverse_windows) equals the full-map way down (reverse) to float rounding."""
import pytest
import torch
import torchvision

from zfcourse.deconv import RECTIFY, record, reverse, reverse_windows, seeds
from zfcourse.models import zfnet


def targets(trace, n, g):
    c, h, w = trace.activation.shape[1:]
    image = torch.randint(0, len(trace.activation), (n,), generator=g)
    channel = torch.randint(0, c, (n,), generator=g)
    pos = torch.stack([torch.randint(0, h, (n,), generator=g), torch.randint(0, w, (n,), generator=g)], 1)
    pos[:4] = torch.tensor([[0, 0], [h - 1, w - 1], [0, w - 1], [h - 1, 0]])  # the corners: windows partly outside
    return image, channel, pos


@pytest.mark.parametrize("unpool", ["add", "overwrite"])
@pytest.mark.parametrize("rectify", RECTIFY)
@pytest.mark.parametrize("name, layer", [("zfnet", "relu5"), ("zfnet", "pool5"), ("zfnet", "conv3"),
                                         ("zfnet", "pool2"), ("alexnet", "features.10")])
def test_windows_equal_full_maps(name, layer, rectify, unpool):
    torch.manual_seed(0)
    model = (zfnet(width=0.25) if name == "zfnet" else torchvision.models.alexnet()).eval()
    g = torch.Generator().manual_seed(1)
    x = 60 * torch.randn(2, 3, 224, 224, generator=g)
    trace = record(model, x, layer, masks=rectify != "deconv")
    image, channel, pos = targets(trace, 8, g)
    full = reverse(trace, seeds(trace, image, channel, pos), image, rectify, unpool)
    torch.testing.assert_close(reverse_windows(trace, image, channel, pos, rectify, unpool), full,
                               rtol=1e-5, atol=1e-6 * full.abs().max().item())
