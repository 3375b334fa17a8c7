"""Issue 12's table, row by row, plus the package's other public entry points: each bad input or mishap gives the
error type it should, and the message names the argument, file or environment variable (or what to do).

The deconvnet's and occlusion's own input checks are tested beside them (test_deconv_errors.py, test_occlusion*.py);
the install without a clone is tested in test_install.py, the Colab bootstrap in test_bootstrap.py, the annotation
merge in test_annotate.py and the checkpoint window in test_train.py.
"""
import json
import shutil
from pathlib import Path

import pytest
import torch

from zfcourse.environment import Config, DataNotFoundError, choose_mode, choose_source, env_flag, find_data
from zfcourse.models import activations, course_model
from zfcourse.train import CheckpointError, TrainConfig, evaluate, load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "course_model"
OFFLINE = staticmethod(lambda: False)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return course_model().eval()  # 42 classes, 168×168 input


def _x(n=2, size=168, **kw):
    return torch.zeros(n, 3, size, size, **kw)


# --- images into the activation / feature helpers -------------------------------------------------------------------

def _layer_features(model, x, **kw):
    from zfcourse.correspondence import layer_features
    return layer_features(model, x, **kw)


def _feature_changes(model, x, **kw):
    from zfcourse.correspondence import feature_changes
    return feature_changes(model, _x(), x, **kw)


nan = _x()
nan[1, 0, 5, 5] = float("nan")
inf = _x()
inf[0, 2, 0, 0] = float("inf")
BAD_IMAGES = [  # (images, exception, pattern the message must match)
    (nan, ValueError, r"NaN or inf .*image \[1\]"),
    (inf, ValueError, r"NaN or inf .*image \[0\]"),
    (_x(dtype=torch.float64), TypeError, r"torch.float64, the model computes in torch.float32"),
    (_x(dtype=torch.float16), TypeError, r"torch.float16, the model computes in torch.float32"),
    (_x(dtype=torch.uint8), TypeError, r"expected floating-point .*torch.uint8 .*preprocess.to_input"),
    (_x(size=20), ValueError, r"takes 168×168 images, got 20×20"),
    (_x(0), ValueError, r"empty batch"),
    (torch.zeros(3, 168, 168), ValueError, r"\(B, 3, H, W\).*single image"),
    ([[0.0]], TypeError, r"expected a \(B, 3, H, W\) torch.Tensor, got list"),
]


@pytest.mark.parametrize("helper, name", [(activations, "images"), (_layer_features, "images"),
                                          (_feature_changes, "masked")])
@pytest.mark.parametrize("images, error, pattern", BAD_IMAGES,
                         ids=["nan", "inf", "float64", "float16", "uint8", "too-small", "empty", "3d", "list"])
def test_bad_images_into_feature_helpers(net, helper, name, images, error, pattern):
    with pytest.raises(error, match=f"^{name}: .*{pattern}" if name != "masked" or not isinstance(images, list)
                       else f"^{name}: "):
        helper(net, images)


def test_images_too_small_for_a_model_without_a_fixed_size_say_the_minimum():
    import torchvision
    alexnet = torchvision.models.alexnet().eval()
    with pytest.raises(ValueError, match=r"^images: 40×40 is too small .*minimum is 63×63"):
        activations(alexnet, _x(1, 40))


def test_a_tensor_on_another_device_names_both_devices(net):
    with pytest.raises(ValueError, match=r"^images: on device meta, the model on cpu"):
        activations(net, _x(device="meta"))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_zero_or_bad_batch_sizes(net, batch_size):
    from zfcourse.correspondence import layer_features
    with pytest.raises(ValueError, match="^batch_size: expected a positive integer"):
        layer_features(net, _x(), batch_size=batch_size)
    with pytest.raises(ValueError, match="^batch_size: expected a positive integer"):
        evaluate(net, torch.utils.data.TensorDataset(_x(), torch.zeros(2, dtype=torch.long)), batch_size=batch_size)


def test_an_empty_dataset_into_evaluate(net):
    with pytest.raises(ValueError, match="^dataset: expected a non-empty dataset"):
        evaluate(net, torch.utils.data.TensorDataset(_x(0), torch.zeros(0, dtype=torch.long)))


# --- weight files ---------------------------------------------------------------------------------------------------

def _shipped_copy(tmp_path):
    folder = tmp_path / "course_model"
    folder.mkdir()
    for name in ("model.pt", "MANIFEST.sha256"):
        shutil.copy(SHIPPED / name, folder / name)
    (folder / "MANIFEST.sha256").write_text("".join(line + "\n" for line in (folder / "MANIFEST.sha256").read_text()
                                                    .splitlines() if line.endswith("  model.pt")))
    return folder


def test_shipped_files_match_their_manifests():
    from zfcourse.train import verify_file
    folders = sorted(m.parent for m in (ROOT / "data").glob("*/MANIFEST.sha256"))
    assert SHIPPED in folders and ROOT / "data" / "krizhevsky_model" in folders
    for folder in folders:
        listed = (folder / "MANIFEST.sha256").read_text().splitlines()
        assert listed and all(verify_file(folder / line.split("  ", 1)[1]) for line in listed)


def test_model_file_with_4kb_overwritten_in_the_middle_is_caught_by_the_manifest(tmp_path):
    from zfcourse.course import load_course_model
    folder = _shipped_copy(tmp_path)
    data = bytearray((folder / "model.pt").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4096] = bytes(4096)
    (folder / "model.pt").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"^path: .*model.pt does not match .*MANIFEST.sha256 .*damaged"):
        load_course_model(path=folder)


def test_a_nan_weight_names_the_file_and_the_tensor(tmp_path):
    from zfcourse.course import load_course_model
    state = {k: v.clone() for k, v in torch.load(SHIPPED / "model.pt", weights_only=True).items()}
    state["features.conv3.weight"][0, 0, 0, 0] = float("nan")
    state["classifier.fc8.bias"][1] = float("inf")
    torch.save(state, tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match=r"^path: .*model.pt: tensor 'features.conv3.weight' holds 1 non-finite"):
        load_course_model(path=tmp_path / "model.pt")


@pytest.mark.parametrize("content", [b"just some text\n", b"", bytes(range(256)) * 4])
def test_a_file_that_is_not_a_model(tmp_path, content):
    from zfcourse.course import load_course_model
    (tmp_path / "model.pt").write_bytes(content)
    with pytest.raises(CheckpointError, match=r"^path: .*model.pt is not a readable checkpoint"):
        load_course_model(path=tmp_path)


def test_weights_of_another_model(tmp_path):
    from zfcourse.course import load_course_model
    torch.save({"w": torch.zeros(3)}, tmp_path / "model.pt")
    with pytest.raises(ValueError, match=r"^path: .*model.pt does not hold the course model's weights"):
        load_course_model(path=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"^path: no model.pt at"):
        load_course_model(path=tmp_path / "elsewhere")


def test_no_shipped_model_gives_one_message_saying_what_to_do_and_trains_nothing(tmp_path, monkeypatch):
    from zfcourse.course import load_course_model
    from zfcourse.train.runs import noclip_run
    monkeypatch.setenv("ZFCOURSE_CACHE", str(tmp_path / "cache"))
    cfg = Config("embedded", "quick", torch.device("cpu"), 0, tmp_path / "nothing", False)
    for call, what in ((lambda: load_course_model(cfg), "the trained course model"),
                       (lambda: noclip_run(cfg), "the no-clipping run")):
        with pytest.raises(DataNotFoundError) as err:
            call()
        text = str(err.value)
        assert text.startswith(f"zfcourse: {what}") and " was not found. Looked in: $ZFCOURSE_DATA" in text
        assert "git clone" in text
        assert "train_if_missing=True" in text
    assert not (tmp_path / "cache").exists()   # nothing trained, nothing written


def test_zfcourse_data_pointing_nowhere_is_named(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"^ZFCOURSE_DATA: expected a folder holding course_model/model.pt"):
        find_data({"ZFCOURSE_DATA": str(tmp_path)})
    assert find_data({"ZFCOURSE_DATA": str(SHIPPED.parent)}) == SHIPPED.parent


# --- environment variables ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("environ, mode", [
    ({"CI": "false"}, "full"), ({"CI": "0"}, "full"), ({"CI": "true"}, "quick"), ({"CI": "1"}, "quick"),
    ({"ZFCOURSE_QUICK": "on"}, "quick"), ({"ZFCOURSE_QUICK": " YES "}, "quick"), ({"ZFCOURSE_QUICK": "off"}, "full"),
    ({"ZFCOURSE_QUICK": "no", "CI": "true"}, "full"), ({"ZFCOURSE_QUICK": "", "CI": "yes"}, "quick"),
    ({"ZFCOURSE_MODE": "Quick"}, "quick"), ({}, "full"),
])
def test_one_boolean_parser_for_ci_and_quick(environ, mode):
    assert choose_mode(None, environ) == mode


@pytest.mark.parametrize("call, pattern", [
    (lambda: choose_mode(None, {"ZFCOURSE_MODE": "bogus"}),
     r"^ZFCOURSE_MODE: expected one of quick, full, got 'bogus'"),
    (lambda: choose_source(None, "full", {"ZFCOURSE_SOURCE": "bogus"}, lambda: False),
     r"^ZFCOURSE_SOURCE: expected one of auto, embedded, imagenet, got 'bogus'"),
    (lambda: choose_mode(None, {"ZFCOURSE_QUICK": "maybe"}),
     r"^ZFCOURSE_QUICK: expected one of 1/true/yes/on \(true\) or 0/false/no/off \(false\), got 'maybe'"),
    (lambda: choose_mode(None, {"CI": "sometimes"}), r"^CI: expected one of 1/true/yes/on"),
    (lambda: env_flag("X", {"X": "2"}), r"^X: expected"),
    (lambda: choose_mode("fast", {}), r"^mode: expected one of"),
    (lambda: choose_source("cifar", "full", {}, lambda: False), r"^source: expected one of"),
], ids=["mode", "source", "quick", "ci", "flag", "mode-arg", "source-arg"])
def test_bad_environment_values_name_the_variable_and_the_accepted_values(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


# --- the command line -----------------------------------------------------------------------------------------------

def test_help_shows_the_defaults(capsys):
    from zfcourse.train.cli import parser
    text = " ".join(parser().format_help().split("options:")[1].split())          # one line, single spaces
    for option, default in [("--epochs", "40"), ("--train-size", "42000"), ("--val-size", "4200"),
                            ("--batch-size", "128"), ("--lr", "0.01"), ("--clip-radius", "0.1"), ("--patience", "4"),
                            ("--arch", "course")]:
        entry = text.split(f" {option} ")[1].split(" --")[0]
        assert f"(default: {default})" in entry, (option, entry)
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "{course,zfnet,krizhevsky}" in text and "--overwrite" in text and "--width" in text
    assert "--fc-units" in text and "--world " not in text
    assert "the world's crop side, 168" in text  # --input-size defaults to the world's crop side


@pytest.mark.parametrize("arch, width, size, maps", [("course", None, 168, 64), ("zfnet", 0.05, 168, 13),
                                                     ("krizhevsky", 0.05, 168, 13), ("zfnet", 0.05, 140, 13)])
def test_every_arch_the_docstring_promises_builds_and_runs(arch, width, size, maps):
    from zfcourse.train.cli import build_model
    model = build_model(arch, 42, width, size).eval()
    assert model.input_size == size and model.features.conv5.out_channels == maps
    assert model(_x(1, size)).shape == (1, 42)


def test_the_course_model_has_its_own_width():
    from zfcourse.train.cli import build_model
    with pytest.raises(ValueError, match="^--width: the course model's width is fixed"):
        build_model("course", 42, 0.5)


def _run_folder(tmp_path, argv):
    """A folder as `python -m zfcourse train` leaves it: run.json with the command's settings, a checkpoint file."""
    from zfcourse.train.cli import parser, settings
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"command": "x", "settings": settings(parser().parse_args(argv))}))
    (out / "checkpoint.pt").write_bytes(b"")
    return out


@pytest.mark.parametrize("option, now", [("--train-size", "1200"), ("--val-size", "240"), ("--world-seed", "1"),
                                         ("--arch", "zfnet"), ("--lr", "0.1"), ("--no-clip", None),
                                         ("--inject-heldout", "80")])
def test_resume_with_other_data_model_or_schedule_settings_is_refused_naming_the_option(tmp_path, capsys, option, now):
    from zfcourse.__main__ import main
    out = _run_folder(tmp_path, ["--out", "x"])
    argv = ["train", "--out", str(out), "--resume", option] + ([now] if now else [])
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"python -m zfcourse train: error: {option}: the run in ") and "\n" not in err


def test_resume_reads_the_settings_of_an_earlier_versions_run_json_from_its_command(tmp_path):
    from zfcourse.train.cli import check_resume, parser
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"command": "python -m zfcourse train --out runs/x --epochs 15 --quiet"}))
    (out / "checkpoint.pt").write_bytes(b"")
    check_resume(out, parser().parse_args(["--out", str(out), "--epochs", "20"]))    # more epochs: fine
    with pytest.raises(ValueError, match="^--train-size: the run in .* was made with --train-size 42000, now 600"):
        check_resume(out, parser().parse_args(["--out", str(out), "--train-size", "600"]))


def test_resume_without_a_checkpoint_is_refused_before_the_world_is_rendered(tmp_path, capsys, monkeypatch):
    import zfcourse.train.cli as cli
    from zfcourse.__main__ import main

    def no_render(*args, **kwargs):
        raise AssertionError("the world was rendered before --resume was checked")
    monkeypatch.setattr(cli, "WorldDataset", no_render)
    for folder in (tmp_path / "missing", tmp_path):    # a folder that does not exist, and one without a checkpoint
        assert main(["train", "--out", str(folder), "--resume"]) == 2
        err = capsys.readouterr().err.strip()
        assert err == (f"python -m zfcourse train: error: --resume: no checkpoint.pt in {folder} to resume from; "
                       "start the run without --resume")


def test_a_new_run_into_a_folder_holding_a_run_is_refused(tmp_path, capsys):
    from zfcourse.__main__ import main
    out = _run_folder(tmp_path, ["--out", "x"])
    assert main(["train", "--out", str(out)]) == 2
    assert "already holds a run" in capsys.readouterr().err and (out / "checkpoint.pt").exists()


def test_ctrl_c_prints_one_line_on_how_to_resume(tmp_path, capsys, monkeypatch):
    import zfcourse.train.cli as cli
    from zfcourse.__main__ import main

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "train", interrupted)
    argv = ["train", "--out", str(tmp_path / "r"), "--train-size", "12", "--val-size", "12", "--quiet", "--overwrite"]
    assert main(argv) == 130
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "Traceback" not in err[0]
    assert err[0].startswith("Interrupted.")
    assert err[0].endswith(f"--out {tmp_path / 'r'} --train-size 12 --val-size 12 --quiet --resume")


# --- files the course writes ----------------------------------------------------------------------------------------

def test_a_training_config_with_bad_values_names_the_field():
    for bad, name in [({"batch_size": 0}, "batch_size"), ({"eval_batch_size": 0}, "eval_batch_size"),
                      ({"num_workers": -1}, "num_workers"), ({"snapshots": (0,)}, "snapshots")]:
        with pytest.raises(ValueError, match=f"^{name}: "):
            TrainConfig(**bad)


def test_a_checkpoint_that_is_not_a_dict_or_is_missing(tmp_path):
    torch.save([1, 2], tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match=r"^path: .*c.pt holds a list, expected a checkpoint dict"):
        load_checkpoint(tmp_path / "c.pt")
    with pytest.raises(FileNotFoundError, match="^path: no checkpoint file"):
        load_checkpoint(tmp_path / "none.pt")


def test_history_that_is_not_json(tmp_path):
    from zfcourse.train.runs import load_history
    (tmp_path / "history.json").write_bytes(b"\x80\x81 not json")
    with pytest.raises(ValueError, match=r"^folder: .*history.json is not a readable history.json"):
        load_history(tmp_path)


def test_chapter_8s_photo_folder_is_not_in_the_working_folder(tmp_path, monkeypatch):
    from zfcourse.correspondence import photo_folder
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZFCOURSE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert photo_folder() == tmp_path / "xdg" / "zfcourse" / "my_dogs" and not photo_folder().exists()


def test_a_stand_in_says_how_long_it_takes_before_it_starts_and_is_named_when_reused(tmp_path, capsys):
    from zfcourse.train.runs import estimate_seconds, train_stand_in
    tiny = ["--epochs", "1", "--train-size", "24", "--val-size", "12", "--batch-size", "12", "--quiet"]
    seconds, how = estimate_seconds(tiny, "cpu", probe_steps=1)
    assert seconds > 0 and how.startswith("1 epochs × 24 images on cpu; measured here: ")
    cfg = Config("embedded", "full", torch.device("cpu"), 0, tmp_path / "nothing", False)
    out = train_stand_in(tmp_path / "cache" / "course_model", tiny, cfg, "course model")
    said = capsys.readouterr().out
    assert said.startswith(f"zfcourse: no shipped course model: training a stand-in by the full recipe into {out} — "
                           "about ") and "Ctrl-C stops it" in said
    assert (out / "model.pt").is_file() and json.loads((out / "run.json").read_text())["settings"]["train_size"] == 24
    assert train_stand_in(out, tiny, cfg, "course model") == out
    assert capsys.readouterr().out.startswith(f"zfcourse: using the stand-in course model trained earlier into {out}")


def test_the_estimate_of_a_table3_row_times_that_rows_model(monkeypatch):
    import zfcourse.models.ablation as ablation
    from zfcourse.train.cli import TABLE3
    from zfcourse.train.runs import estimate_seconds
    built = []
    real = ablation.ablated
    monkeypatch.setattr(ablation, "ablated", lambda **kw: built.append(kw) or real(**kw))
    tiny = ["--epochs", "1", "--train-size", "24", "--val-size", "12", "--batch-size", "4", "--quiet"]
    seconds, _ = estimate_seconds(tiny + ["--table3-row", "krizhevsky-no3467"], "cpu", probe_steps=1)
    assert seconds > 0 and built == [TABLE3["krizhevsky-no3467"].kwargs]


@pytest.mark.parametrize("content, pattern", [(b"text, not weights", r"is not a readable checkpoint"),
                                              (None, r"tensor 'features.0.weight' holds 2 non-finite")])
def test_pretrained_weights_from_a_bad_file_name_the_argument_and_the_file(tmp_path, content, pattern):
    from zfcourse.data import pretrained
    path = tmp_path / "alexnet.pt"
    if content is None:
        torch.save({"features.0.weight": torch.full((2, 2), float("nan")).fill_diagonal_(0)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=f"^weights_path: path: .*alexnet.pt.*{pattern}"):
        pretrained("alexnet", weights_path=path)
