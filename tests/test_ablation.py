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
    assert [label for _, _, label, _ in TABLE3_ROWS] == PAPER_LABELS
    assert [b for _, b, _, _ in TABLE3_ROWS] == ["krizhevsky"] * 7 + ["zf"] * 5
    names = [n for n, *_ in TABLE3_ROWS]
    assert len(set(names)) == 12 and all(n.startswith(b) for n, b, _, _ in TABLE3_ROWS)
    assert [r.name for r in table3_configs()] == names


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


def test_unchanged_base_rows_draw_the_same_weights_as_the_existing_builders():
    """No surgery, no second draw: at the same seed the base rows are course_model / krizhevsky weight for weight."""
    rows = {r.name: r for r in table3_configs(width=0.25, fc_width=512, input_size=168, num_classes=42)}
    for name, build in [("zf", lambda: course_model(42)),
                        ("krizhevsky", lambda: krizhevsky(42, width=0.25, fc_units=512, input_size=168))]:
        torch.manual_seed(3)
        row = ablated(**rows[name].kwargs).state_dict()
        torch.manual_seed(3)
        ref = build().state_dict()
        assert list(row) == list(ref) and all(torch.equal(row[k], ref[k]) for k in ref), name


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


# --- the command line: python -m zfcourse train --table3-row ROW ---------------------------------------------------

def _train(tmp_path, folder, *extra):
    """Train one epoch on 42 images (one per class) into tmp_path/folder with the CLI; returns (run, its folder)."""
    from zfcourse.train.cli import main

    out = tmp_path / folder
    return main(["--out", str(out), "--epochs", "1", "--train-size", "42", "--val-size", "42", "--batch-size", "42",
                 "--quiet", *extra]), out


@pytest.mark.parametrize("name", [n for n, *_ in TABLE3_ROWS])
def test_every_row_the_cli_offers_builds_at_the_course_scale_and_records_itself(name):
    from zfcourse.train.cli import TABLE3, parser, settings

    row = TABLE3[name]
    m = ablated(**row.kwargs).eval()
    assert m(torch.zeros(1, 3, 168, 168)).shape == (1, 42)
    fcs = [mod.out_features for n, mod in m.classifier.named_children() if n in ("fc6", "fc7")]
    saved = settings(parser().parse_args(["--out", "x", "--table3-row", name]))
    assert saved["table3_row"] == name and saved["input_size"] == 168 and saved["width"] == 0.25
    assert saved["arch"] == ("course" if row.base == "zf" else "krizhevsky")
    assert saved["fc_units"] == {"half": 256, "double": 1024}.get(name.rsplit("-", 1)[-1], 512)
    assert all(f == saved["fc_units"] for f in fcs)       # what it records is what it builds (fc6/fc7 where kept)
    assert name in parser().format_help()


def test_cli_trains_rows_records_them_and_resume_refuses_another_row(tmp_path):
    import json

    from zfcourse.train import load_checkpoint

    run, out = _train(tmp_path, "no3467", "--table3-row", "krizhevsky-no3467")
    saved = json.loads((out / "run.json").read_text())["settings"]
    assert run["epochs"] == 1 and saved["table3_row"] == "krizhevsky-no3467" and saved["arch"] == "krizhevsky"
    weights = load_checkpoint(out / "model.pt")
    assert [k for k in weights if k.endswith("weight")] == ["features.conv1.weight", "features.conv2.weight",
                                                            "features.conv5.weight", "classifier.fc8.weight"]
    with pytest.raises(ValueError, match="^--table3-row: the run in .* 'krizhevsky-no3467', now 'krizhevsky-no34'"):
        _train(tmp_path, "no3467", "--table3-row", "krizhevsky-no34", "--resume", "--epochs", "2")

    # The ZF base row is the course model: same weights after an epoch as --arch course at the same seed.
    _, zf = _train(tmp_path, "zf", "--table3-row", "zf")
    _, course = _train(tmp_path, "course")
    a, b = load_checkpoint(zf / "model.pt"), load_checkpoint(course / "model.pt")
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="^--table3-row: the run in .* 'zf', now None"):
        _train(tmp_path, "zf", "--resume", "--epochs", "2")     # the row left out on resume


@pytest.mark.parametrize("clash", [["--arch", "course"], ["--arch", "krizhevsky"], ["--width", "0.25"],
                                   ["--fc-units", "512"], ["--input-size", "168"]])
def test_options_that_set_the_model_are_refused_beside_a_row(tmp_path, clash):
    with pytest.raises(ValueError, match=f"^--table3-row: row 'zf-fc-half' .* cannot be combined with {clash[0]}; "):
        _train(tmp_path, "r", "--table3-row", "zf-fc-half", *clash)
    assert not (tmp_path / "r").exists()


def test_a_bad_row_name_names_the_option_and_the_choices(tmp_path, capsys):
    from zfcourse.__main__ import main

    with pytest.raises(SystemExit) as exit_:                 # argparse's own error: usage, one line, status 2
        main(["train", "--out", str(tmp_path / "r"), "--table3-row", "zf-deep"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--table3-row" in err and "invalid choice: 'zf-deep'" in err
    assert all(f"'{n}'" in err for n, *_ in TABLE3_ROWS)
