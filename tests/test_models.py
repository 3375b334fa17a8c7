"""ZFNet (Fig. 3), the Krizhevsky baseline (§4.1), the course model, layer lookup and the Fig. 3 summary."""
import pytest
import torch
import torchvision

from zfcourse.models import (activations, course_model, geometry, krizhevsky, layer, layer_names, resolve,
                             size_arithmetic, summary, zfnet)


def spatial_sizes(model, size):
    """Side of every conv/pool output of `features` for a (1, 3, size, size) input."""
    x, sides = torch.zeros(1, 3, size, size), []
    for name, m in model.features.named_children():
        x = m(x)
        if name.startswith(("conv", "pool")):
            sides.append(x.shape[-1])
    return sides


@pytest.fixture(scope="module")
def zf():
    return zfnet().eval()


def test_zfnet_matches_fig3(zf):
    assert spatial_sizes(zf, 224) == [110, 55, 26, 13, 13, 13, 13, 6]
    assert sum(p.numel() for p in zf.parameters()) == 62_357_608
    assert [zf.features.conv1.kernel_size, zf.features.conv1.stride] == [(7, 7), (2, 2)]
    assert zf.features.conv2.stride == (2, 2)
    assert [m.out_channels for m in zf.features if isinstance(m, torch.nn.Conv2d)] == [96, 256, 384, 384, 256]
    assert zf(torch.zeros(2, 3, 224, 224)).shape == (2, 1000)


def test_zfnet_init_follows_section3(zf):
    w = zf.classifier.fc6.weight
    assert abs(w.std().item() - 0.01) < 2e-4 and abs(w.mean().item()) < 2e-4
    assert all(m.bias.abs().max() == 0 for m in zf.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))


def test_layer_names_follow_torchvision_layout(zf):
    names = layer_names(zf)
    assert names[:4] == ["features.conv1", "features.relu1", "features.pool1", "features.norm1"]
    assert "classifier.fc6" in names and names[-1] == "classifier.fc8"


def test_krizhevsky_shapes():
    m = krizhevsky().eval()
    assert spatial_sizes(m, 224) == [55, 27, 27, 13, 13, 13, 13, 6]
    assert m.features.conv1.kernel_size == (11, 11) and m.features.conv1.stride == (4, 4)
    assert m.features.conv2.stride == (1, 1)
    assert m(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)


def test_course_model_is_small_and_same_pattern():
    m = course_model().eval()
    assert m.input_size == 168 and m.classifier.fc8.out_features == 42
    assert spatial_sizes(m, 168) == [82, 41, 19, 9, 9, 9, 9, 4]
    assert sum(p.numel() for p in m.parameters()) == 1_044_810
    assert [n.split(".")[-1] for n in layer_names(m)] == [n.split(".")[-1] for n in layer_names(zfnet())]


def test_summary_shows_as_an_html_table():
    rows = summary(course_model())
    page = rows._repr_html_()
    assert page.count("<tr>") == 1 + len(rows) + 1  # header, one row per layer, total
    assert "<td>features.conv5</td>" in page and "<td>1,044,810</td>" in page
    assert repr(rows) == str(rows)


def test_width_scales_maps():
    m = zfnet(num_classes=10, width=0.5)
    assert m.features.conv1.out_channels == 48 and m.classifier.fc6.out_features == 2048
    with pytest.raises(ValueError, match="width"):
        zfnet(width=0)


@pytest.mark.parametrize("shape", [(1, 3, 200, 200), (1, 1, 224, 224), (3, 224, 224)])
def test_wrong_input_shape_says_what_was_expected(zf, shape):
    with pytest.raises(ValueError, match=r"x: expected .*\(B, 3, 224, 224\)"):
        zf(torch.zeros(shape))


def test_layer_lookup_forms(zf):
    assert layer(zf, "conv5") is zf.features.conv5
    assert layer(zf, "features.relu5") is zf.features.relu5
    assert layer(zf, 0) is zf.features.conv1
    assert layer(zf, "fc8") is zf.classifier.fc8
    assert layer(zf, "features.4") is zf.features.conv2
    alex = torchvision.models.alexnet(weights=None)
    assert resolve(alex, "features.11") == ("features.11", alex.features[11])
    assert resolve(alex, "10") == ("features.10", alex.features[10])


@pytest.mark.parametrize("bad", ["conv9", "features.99", 42, "relu"])
def test_unknown_layer_lists_valid_names(zf, bad):
    with pytest.raises(KeyError, match="valid names: features.conv1, features.relu1"):
        layer(zf, bad)


def test_summary_of_torchvision_alexnet():
    rows = geometry(torchvision.models.alexnet(weights=None))
    by_name = {r.name: r for r in rows}
    assert by_name["features.0"].shape == (64, 55, 55) and by_name["features.0"].receptive_field == 11
    assert by_name["features.12"].shape == (256, 6, 6) and by_name["features.12"].receptive_field == 195
    assert sum(r.params for r in rows) == 61_100_840
    text = str(summary(torchvision.models.alexnet(weights=None)))
    assert "features.12" in text and "61,100,840" in text


def test_summary_receptive_fields_of_zfnet(zf):
    rf = {r.name: r.receptive_field for r in geometry(zf)}
    names = ("conv1", "pool1", "conv2", "pool2", "conv5", "pool5")
    assert [rf[f"features.{n}"] for n in names] == [7, 11, 27, 43, 139, 171]
    assert "62,357,608" in str(summary(zf))


def test_summary_of_vgg11():
    rows = geometry(torchvision.models.vgg11(weights=None))
    assert rows[-1].shape == (1000,) and sum(r.params for r in rows) == 132_863_336


def test_size_arithmetic_spells_out_fig3(zf):
    lines = size_arithmetic(zf)
    assert lines[0] == "features.conv1: ⌊(224 + 2·1 − 7)/2⌋ + 1 = 110"
    assert lines[-1] == "features.pool5: ⌈(13 + 2·0 − 3)/2⌉ + 1 = 6"


def test_multiply_adds_match_hand_count(zf):
    rows = {r.name: r for r in geometry(zf)}
    assert rows["features.conv1"].multiply_adds == 96 * 110 * 110 * 3 * 7 * 7
    assert rows["classifier.fc6"].multiply_adds == 9216 * 4096


def test_activations_are_recorded_in_forward_order_and_survive_inplace_relu(zf):
    x = torch.randn(2, 3, 224, 224)
    acts = activations(zf, x, ["relu1", "conv1"])
    assert list(acts) == ["features.conv1", "features.relu1"]
    assert (acts["features.conv1"] < 0).any()  # the in-place ReLU after conv1 did not overwrite the record
    assert torch.equal(acts["features.relu1"], acts["features.conv1"].clamp(min=0))
    with pytest.raises(ValueError, match="images: expected"):
        activations(zf, torch.zeros(1, 1, 224, 224))
