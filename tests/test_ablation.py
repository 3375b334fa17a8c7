"""Table 3's ablations (§5.1) as parameters of zfcourse.models.ablation.ablated: shapes, names, parameter counts."""
import pytest
import torch
from torch import nn

from zfcourse.models import course_model, krizhevsky
from zfcourse.models.ablation import TABLE3_ROWS, ablated, table3_configs

# The paper's Table 3 row labels (numbers.md), in order.
PAPER_LABELS = ["Replication of Krizhevsky", "Removed layers 3,4", "Removed layer 7", "Removed layers 6,7",
                "Removed layers 3,4,6,7", "Layers 6,7: 2048 units", "Layers 6,7: 8192 units", "ZF model (Fig. 3)",
                "Layers 6,7: 2048 units", "Layers 6,7: 8192 units", "Layers 3,4,5: 512,1024,512 maps",
                "Layers 6,7: 8192 units and layers 3,4,5: 512,1024,512 maps"]


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def expected_params(convs, fcs, side, num_classes):
    """Count by hand: convs = [(c_in, c_out, k)], fcs = hidden widths, side = pool5 side."""
    total = sum((cin * k * k + 1) * cout for cin, cout, k in convs)
    units = convs[-1][1] * side * side
    for w in list(fcs) + [num_classes]:
        total += (units + 1) * w
        units = w
    return total


def test_rows_follow_the_paper():
    assert [label for _, label, _ in TABLE3_ROWS] == PAPER_LABELS
    assert [b for b, _, _ in TABLE3_ROWS] == ["krizhevsky"] * 7 + ["zf"] * 5


# width 1/8 of the paper on 224² input: Krizhevsky maps 12, 32, 48, 48, 32; ZF the same counts; fc 512; pool5 is 6×6.
SMALL = {
    "Replication of Krizhevsky": ([(3, 12, 11), (12, 32, 5), (32, 48, 3), (48, 48, 3), (48, 32, 3)], [512, 512]),
    "Removed layers 3,4": ([(3, 12, 11), (12, 32, 5), (32, 32, 3)], [512, 512]),
    "Removed layer 7": ([(3, 12, 11), (12, 32, 5), (32, 48, 3), (48, 48, 3), (48, 32, 3)], [512]),
    "Removed layers 6,7": ([(3, 12, 11), (12, 32, 5), (32, 48, 3), (48, 48, 3), (48, 32, 3)], []),
    "Removed layers 3,4,6,7": ([(3, 12, 11), (12, 32, 5), (32, 32, 3)], []),
}


@pytest.mark.parametrize("row", range(12))
def test_every_row_builds_runs_and_counts_its_parameters(row):
    r = table3_configs(width=0.125, num_classes=10)[row]
    m = ablated(**r.kwargs).eval()
    assert m(torch.zeros(2, 3, 224, 224)).shape == (2, 10)
    k = 11 if r.base == "krizhevsky" else 7
    convs = [m.features[i] for i, _ in enumerate(m.features) if isinstance(m.features[i], nn.Conv2d)]
    names = [n for n, _ in m.features.named_children() if n.startswith("conv")]
    fcs = [mod.out_features for n, mod in m.classifier.named_children() if n in ("fc6", "fc7")]
    if r.label in SMALL and r.base == "krizhevsky":
        spec, hidden = SMALL[r.label]
        assert [(c.in_channels, c.out_channels, c.kernel_size[0]) for c in convs] == spec
        assert fcs == hidden
    assert convs[0].kernel_size == (k, k)
    expected = expected_params([(c.in_channels, c.out_channels, c.kernel_size[0]) for c in convs], fcs, 6, 10)
    assert n_params(m) == expected
    dropped = set(r.kwargs["drop_convs"])
    assert names == [f"conv{i}" for i in range(1, 6) if i not in dropped]
    if "2048" in r.label:
        assert fcs == [256, 256]
    if "8192" in r.label:
        assert fcs == [1024, 1024]
    if "512,1024,512" in r.label:
        assert [c.out_channels for c in convs[2:]] == [64, 128, 64]


def test_full_size_counts_by_hand():
    # Krizhevsky et al.'s single dense tower, 1000 classes: 3,747,200 conv + 58,631,144 fc parameters.
    assert n_params(ablated("krizhevsky")) == 62_378_344
    # Layers 3, 4, 6, 7 removed: conv1, conv2, conv5 (256 → 256 maps) and fc8 on 256·6·6 inputs.
    m = ablated("krizhevsky", drop_convs=(3, 4), drop_fcs=(6, 7))
    assert n_params(m) == 34_944 + 614_656 + 590_080 + 9_217_000


def test_base_rows_equal_the_existing_models():
    rows = {(r.base, r.label): r for r in table3_configs(width=0.25, fc_width=512, input_size=168, num_classes=10)}
    zf = ablated(**rows[("zf", "ZF model (Fig. 3)")].kwargs)
    ref = course_model(10)
    assert list(zf.state_dict()) == list(ref.state_dict()) and n_params(zf) == n_params(ref) == 1_028_394
    kr = ablated(**rows[("krizhevsky", "Replication of Krizhevsky")].kwargs)
    ref = krizhevsky(10, width=0.25, fc_units=512, input_size=168)
    assert {k: v.shape for k, v in kr.state_dict().items()} == {k: v.shape for k, v in ref.state_dict().items()}


def test_course_scale_rows_and_init():
    rows = table3_configs(width=0.25, fc_width=512, input_size=168, num_classes=10)
    wide = rows[-1].kwargs
    assert wide["fc_width"] == 1024 and wide["conv_widths"] == (24, 64, 128, 256, 128)
    m = ablated(**rows[4].kwargs)      # Krizhevsky without 3, 4, 6, 7
    assert [n for n, _ in m.classifier.named_children()] == ["fc8"]
    assert m(torch.zeros(1, 3, 168, 168)).shape == (1, 10)
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            assert mod.bias.abs().max() == 0 and abs(mod.weight.std().item() - 0.01) < 3e-3


@pytest.mark.parametrize("kwargs, name", [
    ({"base": "vgg"}, "base"), ({"width": 0}, "width"), ({"drop_convs": (1,)}, "drop_convs"),
    ({"drop_fcs": (8,)}, "drop_fcs"), ({"drop_fcs": 7}, "drop_fcs"), ({"fc_width": 0}, "fc_width"),
    ({"conv_widths": (1, 2, 3, 4)}, "conv_widths"), ({"conv_widths": (1, 2, 3, 4, 0)}, "conv_widths"),
])
def test_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ablated(**{"width": 0.125, "num_classes": 10, **kwargs})
