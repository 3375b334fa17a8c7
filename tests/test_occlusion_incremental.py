"""Incremental occlusion (§4.2): the same maps as re-running the whole network, from windows over what changed."""
import pytest
import torch
from torch import nn

from zfcourse.models import course_model, geometry, krizhevsky, zfnet
from zfcourse.occlusion import changed_regions, occlusion_cost, occlusion_maps, plot_changed_regions


def lively(model, seed=0, gain=20.0):
    """PyTorch's default init and a ``gain``× last layer, for logits a few units apart: §3's N(0, 0.01²) gives
    near-uniform softmax outputs and ties, which would make the comparison of probabilities and labels vacuous."""
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            type(m).reset_parameters(m)
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    last.weight.data *= gain
    return model.eval()


class Odd(nn.Module):
    """What the course's models do not exercise: dilation, groups, batch norm, padded ceil-mode pooling, avgpool."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, 1, 2, dilation=2), nn.BatchNorm2d(8), nn.LeakyReLU(0.1),
            nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), nn.Conv2d(8, 12, 4, 2, 1, groups=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2, ceil_mode=True))
        self.avgpool = nn.AdaptiveAvgPool2d(3)
        self.classifier = nn.Sequential(nn.Linear(12 * 9, 7))
        bn = self.features[1]
        bn.running_mean.uniform_(-1, 1), bn.running_var.uniform_(0.5, 2), bn.weight.data.uniform_(0.5, 2)

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def torchvision_model(name):
    tv = pytest.importorskip("torchvision.models")
    return lively(getattr(tv, name)(num_classes=20))


MODELS = {
    "course": lambda: lively(course_model(input_size=112)),
    "zfnet": lambda: lively(zfnet(20, width=0.125)),
    "krizhevsky": lambda: lively(krizhevsky(20, width=0.125)),
    "alexnet": lambda: torchvision_model("alexnet"),
    "vgg11": lambda: torchvision_model("vgg11"),
    "odd": lambda: lively(Odd(), gain=0.1),  # unnormalised, its logits are 100× the others'; brought back in line
}
RGB = torch.tensor([12.0, -30.0, 4.0])
CASES = [  # model, (H, W), size, stride, fill, layer
    ("course", (112, 112), 16, 8, 0.0, "conv5"),       # every corner and edge: 0 … 96 in steps of 8
    ("course", (112, 112), 40, 24, RGB, "relu5"),      # a square larger than every layer's stride, at the borders
    ("course", (112, 112), 5, 13, 0.0, "norm1"),       # 107 is no multiple of 13: the last row stops short
    ("course", (112, 112), 24, 11, -50.0, "classifier.fc6"),
    ("zfnet", (224, 224), 32, 24, 0.0, "pool5"),
    ("krizhevsky", (224, 224), 3, 37, RGB, "conv1"),   # smaller than conv1's stride of 4
    ("alexnet", (127, 131), 20, 13, RGB, "features.11"),
    ("alexnet", (127, 131), 48, 20, 0.0, "avgpool"),
    ("vgg11", (48, 56), 12, 9, 0.0, "features.10"),
    ("odd", (37, 45), 6, 5, RGB, "features.5"),
]


def rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("name, shape, size, stride, fill, layer", CASES)
def test_incremental_equals_full(name, shape, size, stride, fill, layer):
    model = MODELS[name]()
    image = 60 * torch.randn(3, *shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():  # the predicted class: a tail probability (1e-4) would amplify logit rounding 1e4-fold
        target = int(model(image[None]).argmax())
    full = occlusion_maps(model, image, target, size, stride, fill, layer, batch_size=16, method="full")
    inc = occlusion_maps(model, image, target, size, stride, fill, layer, batch_size=16, method="incremental")
    assert (full.method, inc.method) == ("full", "incremental")
    # The occluder matters (by more than 1 % somewhere), so the comparison is not vacuous.
    assert (full.prob - full.unoccluded_prob).abs().max() > 1e-2 * full.unoccluded_prob
    assert rel(inc.prob, full.prob) <= 1e-5 and rel(inc.activation, full.activation) <= 1e-5
    assert torch.equal(inc.label, full.label) and inc.feature_map == full.feature_map
    assert inc.unoccluded_prob == full.unoccluded_prob and inc.unoccluded_label == full.unoccluded_label
    assert inc.unoccluded_activation == full.unoccluded_activation
    assert torch.equal(inc.ys, full.ys) and torch.equal(inc.xs, full.xs)


def test_auto_is_incremental_and_batch_size_does_not_matter():
    model = MODELS["course"]()
    image = 60 * torch.randn(3, 112, 112, generator=torch.Generator().manual_seed(3))
    maps = [occlusion_maps(model, image, 1, 20, 7, batch_size=b, layer="relu4") for b in (1, 5, 64, 1000)]
    assert {m.method for m in maps} == {"incremental"}
    for m in maps[1:]:
        assert rel(m.prob, maps[0].prob) <= 1e-5 and rel(m.activation, maps[0].activation) <= 1e-5
        assert torch.equal(m.label, maps[0].label)


def test_float64_model_and_image():
    model = MODELS["course"]().double()
    image = 60 * torch.randn(3, 112, 112, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    full = occlusion_maps(model, image, 2, 16, 16, method="full")
    inc = occlusion_maps(model, image, 2, 16, 16, method="incremental")
    assert inc.prob.dtype == torch.float64 and rel(inc.prob, full.prob) <= 1e-12


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv(x)


class WithResidual(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, 2), Residual(4), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(4 * 7 * 7, 5))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class Rescaled(nn.Module):
    """features → classifier, but the forward rescales the input first: not the composition incremental assumes."""

    def __init__(self):
        super().__init__()
        self.net = lively(course_model(input_size=112))
        self.features, self.classifier = self.net.features, self.net.classifier

    def forward(self, x):
        return self.net(x / 2)


@pytest.mark.parametrize("model, image, named", [
    (WithResidual(), torch.randn(3, 30, 30), r"features\.1 \(Residual\)"),
    (Rescaled(), 60 * torch.randn(3, 112, 112), r"forward is not features"),
    (nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(2 * 28 * 28, 4)), torch.randn(3, 30, 30),
     r"Sequential is not features"),
])
def test_models_it_cannot_run_fall_back_or_raise(model, image, named):
    with pytest.warns(UserWarning, match=r"^occlusion_maps: method='full', as incremental cannot: .*" + named):
        auto = occlusion_maps(model, image, 0, 8, 6, layer=None)
    full = occlusion_maps(model, image, 0, 8, 6, layer=None, method="full")
    assert auto.method == "full" and torch.equal(auto.prob, full.prob)
    with pytest.raises(ValueError, match=r"^method: 'incremental' cannot run on this model: .*" + named):
        occlusion_maps(model, image, 0, 8, 6, layer=None, method="incremental")


def test_changed_regions_are_where_activations_change():
    """Occlude, run both images through float64 features, and find the units that differ: they lie in the predicted
    region, and for every conv layer (pre-ReLU) they fill its bounding box."""
    model = MODELS["course"]().double()
    image = 60 * torch.randn(3, 112, 112, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    for size, y, x in ((16, 48, 40), (24, 0, 88), (9, 103, 0)):
        occluded = image.clone()
        occluded[:, y:y + size, x:x + size] = 0
        regions = {r.layer: r for r in changed_regions(course_model(input_size=112), size, y, x)}  # any weights
        a = torch.stack([image, occluded])
        for name, m in model.features.named_children():
            with torch.no_grad():
                a = m(a)
            if f"features.{name}" not in regions:
                continue
            diff = (a[0] - a[1]).abs().amax(0) > 1e-9 * float(a.abs().max())
            x0, y0, x1, y1 = regions[f"features.{name}"].box
            inside = torch.zeros_like(diff)
            inside[y0:y1, x0:x1] = True
            assert diff.any() and not (diff & ~inside).any(), name
            if isinstance(m, nn.Conv2d):
                rows, cols = diff.any(1).nonzero().flatten(), diff.any(0).nonzero().flatten()
                assert (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1) == (x0, y0, x1, y1), name


def test_changed_regions_in_the_middle_of_zfnet():
    """The figures that motivate the method: a 32-px square in the middle of a 224² ZFNet input changes 3 %, 9.5 %,
    29 %, 48 % and 72 % of conv1 … conv5's outputs (widths do not matter to the geometry)."""
    regions = [r for r in changed_regions(zfnet(width=0.0625), 32, 96, 96) if "conv" in r.layer]
    assert [round(100 * r.share, 1) for r in regions] == [3.0, 9.5, 29.0, 47.9, 71.6]
    assert [r.box for r in regions] == [(46, 46, 65, 65), (9, 9, 17, 17), (3, 3, 10, 10), (2, 2, 11, 11),
                                        (1, 1, 12, 12)]
    conv1 = regions[0]
    assert conv1.pixels[0] < 96 and conv1.pixels[2] > 128  # the cells of the changed units cover the occluder
    assert conv1.multiply_adds == round(conv1.full_multiply_adds * conv1.share)


def test_occlusion_cost_against_the_fig3_table():
    model = zfnet(width=0.125)
    cost = occlusion_cost(model, 32, 8)
    assert cost.full == sum(r.multiply_adds for r in geometry(model))
    assert cost.bound < cost.incremental < cost.full
    assert cost.speedup() == cost.full / cost.bound and cost.speedup("incremental") > 2
    whole = occlusion_cost(model, 224, 8)  # one position covering everything: nothing to save
    assert whole.bound == whole.full


def test_plot_changed_regions_draws_each_conv_layer():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    model = course_model(input_size=112)
    regions = [r for r in changed_regions(model, 16, 0, 40) if r.full_multiply_adds]
    fig = plot_changed_regions(model, 16, 0, 40, image=torch.zeros(3, 112, 112))
    left, right = fig.axes
    assert len([p for p in left.patches if isinstance(p, Rectangle)]) == len(regions) + 1 == 6
    heights = [b.get_height() for b in right.patches][len(regions):]  # after the grey 100 % bars
    assert heights == pytest.approx([100 * r.share for r in regions])
    assert [t.get_text() for t in right.get_xticklabels()] == ["conv1", "conv2", "conv3", "conv4", "conv5"]
    plt.close(fig)


@pytest.mark.parametrize("kwargs, name", [
    (dict(size=0), "size"), (dict(y=100), "y, x"), (dict(image_shape=(5,)), "image_shape")])
def test_changed_regions_bad_input(kwargs, name):
    args = dict(size=16, y=0, x=0) | kwargs
    with pytest.raises(ValueError, match=f"^{name}:"):
        changed_regions(course_model(input_size=112), **args)


def test_an_image_too_small_for_the_model_names_the_image():
    with pytest.raises(ValueError, match=r"^image: the model cannot run on a \(3, 40, 40\) image"):
        occlusion_maps(torchvision_model("alexnet"), torch.zeros(3, 40, 40), 0, 8, 8, layer="features.10")
