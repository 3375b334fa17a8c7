"""Architecture selection (§4.1, Fig. 6): dead filters, aliasing, radial spectra, shift sensitivity, the figure."""
import math
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from zfcourse.architecture import (aliasing, dead_filters, error_rates, filter_power, first_conv,  # noqa: E402
                                   krizhevsky_model_dir, load_krizhevsky_model, nth_relu, plot_figure_6,
                                   radial_spectrum, shift_sensitivity)
from zfcourse.models import course_model, krizhevsky  # noqa: E402

# The measures are under test, not the shipped model's input size: every model here takes 112-px input.

torch.set_num_threads(1)


def sinusoid_filter(f: float, k: int = 33) -> torch.Tensor:
    """A (1, 3, k, k) filter cos(2π f x) along x under a 2-D Hann window (the window keeps leakage across the
    Nyquist line small, so "just below" and "just above" are told apart)."""
    x = torch.arange(k) - (k - 1) / 2
    win = torch.hann_window(k + 2, periodic=False)[1:-1]
    return (win[:, None] * (torch.cos(2 * math.pi * f * x) * win)[None, :])[None, None].repeat(1, 3, 1, 1)


def test_aliasing_of_sinusoids_just_below_and_above_nyquist():
    for stride in (2, 4):
        nyquist = 1 / (2 * stride)
        below = aliasing(sinusoid_filter(0.9 * nyquist, 17 * stride), stride)
        above = aliasing(sinusoid_filter(1.1 * nyquist, 17 * stride), stride)
        assert below.item() < 0.1 and above.item() > 0.85, (stride, below, above)
    shares = torch.cat([aliasing(sinusoid_filter(r / 4, 33), 2) for r in (0.2, 0.6, 0.9, 1.1, 1.4, 2.0)])
    assert (shares.diff() > 0).all()  # more aliasing the higher the frequency
    # A smooth blob (Gaussian, σ = 4 px: spectral σ ≈ 0.04 cycles/pixel) has nothing above Nyquist; the same blob
    # times a checkerboard (frequency ½, ½) has everything there.
    x = torch.arange(33) - 16.0
    blob = torch.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * 4.0 ** 2)).expand(1, 3, 33, 33)
    checker = blob * ((torch.arange(33)[:, None] + torch.arange(33)[None, :]) % 2 * 2 - 1.0)
    assert aliasing(blob, 2).item() == pytest.approx(0, abs=1e-6)
    assert aliasing(checker, 2).item() == pytest.approx(1, abs=1e-6)
    assert aliasing(torch.ones(1, 3, 7, 7), 2).item() > 0.05  # a box filter's side lobes do alias
    assert aliasing(torch.zeros(2, 3, 5, 5), 4).tolist() == [0, 0]


def test_white_noise_filters_alias_one_minus_one_over_stride_squared():
    # A white filter spreads its power evenly over the DFT square; stride s keeps the central 1/s² of it.
    w = torch.randn(400, 3, 11, 11, generator=torch.Generator().manual_seed(0))
    for s in (2, 4):
        assert aliasing(w, s).mean().item() == pytest.approx(1 - 1 / s ** 2, abs=0.02)
    conv = nn.Conv2d(3, 8, 11, stride=4)
    assert torch.equal(aliasing(conv), aliasing(conv.weight, 4))


def test_filter_power_obeys_parseval_and_radial_spectrum_finds_the_frequency():
    w = torch.randn(5, 3, 7, 7)
    f, p = filter_power(w, 32)
    assert f.shape == (32,) and p.shape == (5, 32, 32)
    assert torch.allclose(p.flatten(1).sum(1), 32 * 32 * w.flatten(1).pow(2).sum(1), rtol=1e-4)
    low, high = sinusoid_filter(0.05), sinusoid_filter(0.4)
    spec = radial_spectrum(torch.cat([low, high, torch.zeros(1, 3, 33, 33)]), bins=14)
    assert torch.allclose(spec.power[:2].sum(1), torch.ones(2)) and spec.power[2].sum() == 0
    assert abs(spec.peak[0] - 0.05) < 0.03 and abs(spec.peak[1] - 0.4) < 0.03
    assert abs(spec.centroid[0] - 0.05) < 0.03 and abs(spec.centroid[1] - 0.4) < 0.03
    mixed = radial_spectrum(torch.cat([low, high, sinusoid_filter(0.45), sinusoid_filter(0.02)]))
    assert mixed.bands() == {"low": 0.5, "mid": 0.0, "high": 0.5}  # the paper's "high and low, little mid"


@pytest.fixture(scope="module")
def images():
    return torch.randn(6, 3, 112, 112, generator=torch.Generator().manual_seed(1)) * 50


def test_dead_filters_finds_zeroed_silenced_and_weak_filters(images):
    torch.manual_seed(0)
    model = course_model(input_size=112)
    conv = model.features.conv1
    with torch.no_grad():
        conv.weight[3] = 0
        conv.bias[3] = 0          # zeroed: never active and no weight
        conv.bias[5] = -1e4       # silenced: normal weights, never above 0
        conv.weight[7] *= 0.01    # weak: RMS 1 % of the others, still active
    d = dead_filters(model, images, "conv1", progress=False)
    assert d.layer == "features.conv1" and d.images == 6
    assert d.indices() == [3, 5, 7] and d.count == 3
    assert torch.nonzero(d.never_active).flatten().tolist() == [3, 5]
    assert torch.nonzero(d.weak).flatten().tolist() == [3, 7]
    assert d.active_share[3] == 0 and d.active_share[0] == 1 and d.max_activation[5] < -1e3
    # The same from an iterable of (images, labels) batches, and the RMS criterion alone without images.
    again = dead_filters(model, [(images[:4], None), (images[4:], None)], progress=False)
    assert again.indices() == [3, 5, 7] and torch.allclose(again.max_activation, d.max_activation)
    assert dead_filters(model, None, "conv1").indices() == [3, 7]
    healthy = dead_filters(krizhevsky(num_classes=10, width=0.25, fc_units=64, input_size=112), images, "conv2",
                           progress=False)
    assert healthy.layer == "features.conv2" and not healthy.weak.any()  # §3 init: every RMS ≈ 0.01
    assert torch.equal(healthy.never_active, healthy.max_activation <= 0)


class Sampler(nn.Module):
    """Layer 1 reads channel 0 through a 1×1 conv of stride ``stride``; layer 2 copies it (a known case)."""

    def __init__(self, stride: int):
        super().__init__()
        self.input_size = 8
        conv1, conv2 = nn.Conv2d(3, 1, 1, stride=stride), nn.Conv2d(1, 1, 1)
        with torch.no_grad():
            conv1.weight.copy_(torch.tensor([1.0, 0, 0]).view(1, 3, 1, 1))
            conv2.weight.fill_(1)
            conv1.bias.zero_()
            conv2.bias.zero_()
        self.features = nn.Sequential(OrderedDict(conv1=conv1, relu1=nn.ReLU(), conv2=conv2, relu2=nn.ReLU()))

    def forward(self, x):
        return self.features(x).flatten(1)


def test_shift_sensitivity_known_cases():
    # Vertical stripes 1, 3, 1, 3, … (column 0 = 1). The 12-pixel image leaves room for shifts up to 3 of the 8-pixel
    # window at offset 0.
    stripes = (1 + 2 * (torch.arange(12) % 2)).float().expand(1, 3, 12, 12).clone()
    # Stride 2 samples columns 0, 2, 4, 6 (all 1s); one pixel over it samples the 3s: relative change |3 − 1|/1 = 2.
    s = shift_sensitivity(Sampler(2), stripes, shifts=(1, 2, 3), directions=("x",), progress=False)
    assert s.layer == "features.relu2"
    assert torch.allclose(s.change[0], torch.tensor([2.0, 0.0, 2.0]))
    assert torch.allclose(s.pooled_change[0], torch.tensor([2.0, 0.0, 2.0]))
    # Along the stripes nothing changes; both directions average the two.
    assert torch.equal(shift_sensitivity(Sampler(2), stripes, directions=("y",), progress=False).change[0],
                       torch.zeros(3))
    both = shift_sensitivity(Sampler(2), stripes, progress=False)
    assert torch.allclose(both.mean(), torch.tensor([1.0, 0.0, 1.0]))
    # Stride 1 is shift-equivariant: the maps move (1,3,… becomes 3,1,…) but their means do not.
    eq = shift_sensitivity(Sampler(1), stripes, directions=("x",), progress=False)
    assert torch.allclose(eq.change[0], torch.tensor([16 / 320 ** 0.5, 0.0, 16 / 320 ** 0.5]))
    assert torch.allclose(eq.pooled_change[0], torch.zeros(3))


def test_shift_sensitivity_on_the_course_models(images):
    torch.manual_seed(0)
    big = torch.randn(2, 3, 118, 118, generator=torch.Generator().manual_seed(2)) * 50
    for model in (course_model(input_size=112), krizhevsky(num_classes=10, width=0.25, fc_units=64, input_size=112)):
        s = shift_sensitivity(model, big, progress=False)
        assert s.change.shape == (2, 3) and (s.change > 0).all() and (s.pooled_change >= 0).all()
        assert s.layer == "features.relu2"


def test_layer_helpers_on_torchvision_alexnet():
    from torchvision.models import alexnet
    m = alexnet(weights=None)
    assert first_conv(m)[0] == "features.0" and nth_relu(m, 2) == "features.4"
    assert aliasing(first_conv(m)[1]).shape == (64,)


def test_figure_6_side_by_side():
    torch.manual_seed(0)
    k, z = krizhevsky(num_classes=10, width=0.25, fc_units=64, input_size=112), course_model(input_size=112)
    with torch.no_grad():
        k.features.conv1.weight[[1, 4]] = 0
    dead = {"Krizhevsky 11×11/4": dead_filters(k, None)}
    fig = plot_figure_6({"Krizhevsky 11×11/4": k, "ZF 7×7/2": z.features.conv1}, dead=dead)
    assert len(fig.axes) == 4
    assert "2 dead" in fig.axes[0].get_title() and "stride 4" in fig.axes[0].get_title()
    assert len(fig.axes[0].patches) == 2 and "Nyquist" in fig.axes[2].get_legend().get_texts()[1].get_text()
    plt.close(fig)


def test_bad_input_names_the_argument(images):
    model = course_model(input_size=112)
    with pytest.raises(ValueError, match="stride"):
        aliasing(torch.randn(2, 3, 5, 5))
    with pytest.raises(ValueError, match="weight"):
        aliasing(torch.randn(3, 5, 5), 2)
    with pytest.raises(ValueError, match="n_fft"):
        filter_power(torch.randn(2, 3, 7, 7), 4)
    with pytest.raises(ValueError, match="bins"):
        radial_spectrum(torch.randn(2, 3, 7, 7), bins=0)
    with pytest.raises(ValueError, match="by"):
        radial_spectrum(torch.randn(2, 3, 7, 7)).bands(by="mean")
    with pytest.raises(ValueError, match="layer: features.relu1 is a ReLU"):
        dead_filters(model, images, "relu1", progress=False)
    with pytest.raises(KeyError, match="valid names"):
        dead_filters(model, images, "conv9", progress=False)
    with pytest.raises(ValueError, match="rms_fraction"):
        dead_filters(model, None, rms_fraction=2)
    with pytest.raises(ValueError, match="images: 112×112 is too small.*115×115"):
        shift_sensitivity(model, images, progress=False)
    with pytest.raises(ValueError, match="shifts"):
        shift_sensitivity(model, images, shifts=(0,), progress=False)
    with pytest.raises(ValueError, match="directions"):
        shift_sensitivity(model, images, directions=("z",), progress=False)
    with pytest.raises(ValueError, match="n: expected 1..5"):
        nth_relu(model, 6)
    with pytest.raises(ValueError, match="convs"):
        plot_figure_6({})


def test_error_rates_counts_top_k_misses():
    class Fixed(nn.Module):  # scores class c highest, then c + 1, … : label y is in the top k iff (y − c) mod 5 < k
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            c = x[:, 0, 0, 0].long()
            return -((torch.arange(5)[None] - c[:, None]) % 5).float() + self.w

    data = [(torch.full((3, 2, 2), float(c)), y) for c, y in [(0, 0), (0, 1), (0, 2), (3, 3), (3, 1)]]
    model = Fixed().train()
    errs = error_rates(model, data, ks=(1, 2, 5), batch_size=2, progress=False)
    assert errs == {1: 0.6, 2: 0.4, 5: 0.0} and model.training  # misses 1, 2, 1 → top-1 3/5; 2, 1 → top-2 2/5
    with pytest.raises(ValueError, match="ks"):
        error_rates(model, data, ks=(0,), progress=False)
    with pytest.raises(ValueError, match="ks: expected k ≤ 5"):
        error_rates(model, data, ks=(6,), progress=False)
    with pytest.raises(ValueError, match="data"):
        error_rates(model, [], progress=False)


def test_the_shipped_krizhevsky_model_loads_with_its_card_layout(tmp_path):
    from zfcourse.environment import find_data
    if find_data() is None or not (krizhevsky_model_dir() / "model.pt").is_file():
        pytest.skip("the shipped data is not here")
    model = load_krizhevsky_model()
    conv1, conv2 = model.features.conv1, model.features.conv2
    assert (conv1.kernel_size, conv1.stride, conv2.kernel_size, conv2.stride) == ((11, 11), (4, 4), (5, 5), (1, 1))
    assert sum(p.numel() for p in model.parameters()) == 1_344_906 and not model.training  # the card's count
    with pytest.raises(FileNotFoundError, match="path"):
        load_krizhevsky_model(path=tmp_path)
    torch.save(course_model().state_dict(), tmp_path / "model.pt")
    with pytest.raises(Exception, match="path|manifest|MANIFEST"):
        load_krizhevsky_model(path=tmp_path)
