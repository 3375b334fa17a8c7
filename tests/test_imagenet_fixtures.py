"""The offline stand-ins of the ``imagenet`` source (tests/imagenet_fixtures.py) take the package's real code paths:
torchvision's cached-weights file through torch.hub, Imagenette/Imagewoof/Caltech folders through torchvision, and
chapter 8's photo folder with its keypoint file — no download, no fallback to the embedded world."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

import imagenet_fixtures as fx
from zfcourse.correspondence import load_annotations, load_photos, photo_folder, read_folder
from zfcourse.data import Preprocess, load_source, pretrained
from zfcourse.data import real

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def imagenet_env(tmp_path_factory):
    return fx.shared_fixtures(tmp_path_factory)


@pytest.fixture
def on_fixtures(imagenet_env, monkeypatch):
    """This process with the fixture environment, and any download attempt an error."""
    for key, value in imagenet_env.items():
        monkeypatch.setenv(key, value)

    def no_network(*args, **kwargs):
        raise AssertionError(f"a download was attempted: {args[:1]}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    monkeypatch.setattr(real, "download_and_extract_archive", no_network)
    return imagenet_env


def test_the_environment_points_torch_hub_and_the_course_cache_at_the_fixtures(on_fixtures):
    assert set(on_fixtures) == {"TORCH_HOME", "ZFCOURSE_CACHE", "ZFCOURSE_SOURCE", "ZFCOURSE_QUICK"}
    assert on_fixtures["ZFCOURSE_SOURCE"] == "imagenet" and on_fixtures["ZFCOURSE_QUICK"] == "1"
    assert Path(torch.hub.get_dir()) == Path(on_fixtures["TORCH_HOME"]) / "hub"
    weights = torchvision.models.AlexNet_Weights.DEFAULT
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    assert cached.name == "alexnet-owt-7be5be79.pth" and cached.is_file()


def test_pretrained_alexnet_loads_the_cached_fixture_weights(on_fixtures):
    model = pretrained("alexnet", download=False)
    weights = torchvision.models.AlexNet_Weights.DEFAULT
    saved = torch.load(Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name, weights_only=True)
    assert not model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key]), key
    fresh = torchvision.models.alexnet(weights=None)        # not just the constructor's own random init
    assert not torch.equal(fresh.features[0].weight, model.features[0].weight)
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 224, 224))
    assert out.shape == (1, 1000) and torch.isfinite(out).all()


def test_load_source_takes_the_imagenet_path_on_imagenette(on_fixtures, capsys):
    src = load_source("imagenet", split="val", dataset="imagenette", model="alexnet", download=False)
    said = capsys.readouterr().out
    assert src.name == "imagenet" and "unavailable" not in said and "embedded world" not in said
    assert said.startswith("zfcourse data: imagenette, val split, 30 images, pretrained alexnet")
    assert len(src.dataset) == 10 * fx.IMAGES_PER_CLASS and src.model is not None
    assert src.dataset.classes == list(fx.IMAGENETTE_WNIDS)
    assert src.classes[0] == "tench" and int(src.dataset.imagenet_index[0]) == 0
    x, y = src.dataset[len(src.dataset) - 1]
    assert x.shape == (3, 224, 224) and y == 9 and torch.isfinite(x).all()
    train = load_source("imagenet", split="train", dataset="imagewoof", download=False, verbose=False)
    assert train.name == "imagenet" and len(train.dataset) == 10 * fx.IMAGES_PER_CLASS


def test_a_cfg_in_quick_mode_does_not_download_and_still_gets_the_real_path(on_fixtures):
    import zfcourse

    cfg = zfcourse.setup(device="cpu", verbose=False)         # source and mode from the fixture environment
    assert cfg.source == "imagenet" and cfg.quick
    src = load_source(cfg, dataset="imagenette", model="alexnet", verbose=False)
    assert src.name == "imagenet" and src.model is not None


def test_the_fixture_folders_match_the_course_tables(on_fixtures):
    assert sorted(real.IMAGENETTE_CLASSES) == list(fx.IMAGENETTE_WNIDS)
    assert sorted(real.IMAGEWOOF_CLASSES) == list(fx.IMAGEWOOF_WNIDS)
    cache = Path(on_fixtures["ZFCOURSE_CACHE"])
    sides = {min(Image.open(p).size) for p in (cache / "imagenette2-160").rglob("*.JPEG")}
    assert sides == {fx.SHORT_SIDE}


def test_caltech_101_and_256_load_through_torchvision(on_fixtures):
    c101 = load_source("imagenet", dataset="caltech101", download=False, verbose=False)
    assert c101.name == "imagenet" and "BACKGROUND_Google" not in c101.classes
    assert len(c101.classes) == len(fx.CALTECH101_CLASSES) - 1
    assert len(c101.dataset) == len(c101.classes) * fx.IMAGES_PER_CLASS
    x, y = c101.dataset[len(c101.dataset) - 1]
    assert x.shape == (3, 224, 224) and y == len(c101.classes) - 1
    c256 = load_source("imagenet", dataset="caltech256", download=False, verbose=False)
    assert c256.name == "imagenet" and c256.classes == list(fx.CALTECH256_CLASSES)
    assert np.bincount(real.dataset_targets(c256.dataset)).tolist() == [fx.IMAGES_PER_CLASS] * len(c256.classes)
    for i in range(len(c256.dataset)):                   # every file name torchvision derives exists
        assert c256.dataset[i][0].shape == (3, 224, 224)
    train, test = real.few_shot_split(real.dataset_targets(c101.dataset), n_train=2, max_test=5)
    assert len(train) == 2 * len(c101.classes) and len(test) == len(c101.classes)


def test_the_photo_folder_holds_dog_faces_with_their_keypoints(on_fixtures):
    folder = photo_folder()
    assert folder == Path(on_fixtures["ZFCOURSE_CACHE"]) / "my_dogs"
    images, names = read_folder(folder)
    assert len(images) == fx.DOG_PHOTOS and "Shih-Tzu.jpeg" in names
    x, keypoints, boxes, annotated = load_photos(folder, folder / "faces.json", Preprocess.torchvision(), size=224)
    assert x.shape == (fx.DOG_PHOTOS, 3, 224, 224) and sorted(annotated) == sorted(names)
    for image, name in zip(images, names):                 # faces.json marks the drawn eyes and nose (dark discs)
        for px, py in load_annotations(folder / "faces.json")[name].values():
            assert image[int(round(py)), int(round(px))].mean() < 60, (name, px, py)
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()


def test_the_pictures_are_deterministic(tmp_path):
    for run in ("a", "b"):
        fx._imagenette(tmp_path / run, "imagenette2-160", fx.IMAGENETTE_WNIDS[:2])
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.JPEG"))
    assert len(files) == 2 * 2 * fx.IMAGES_PER_CLASS
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


def test_the_command_line_prints_export_lines_and_reuses_a_finished_folder(imagenet_env, tmp_path):
    root = Path(imagenet_env["TORCH_HOME"]).parent       # already built: the stamp makes this instant
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "imagenet_fixtures.py"), str(root)], env=env,
                          capture_output=True, text=True, check=True)
    lines = done.stdout.strip().splitlines()
    assert lines == [f"export {k}={v}" for k, v in imagenet_env.items()]
    usage = subprocess.run([sys.executable, str(ROOT / "tests" / "imagenet_fixtures.py")], env=env,
                           capture_output=True, text=True)
    assert usage.returncode == 2 and "usage:" in usage.stderr


class NotATensor:
    """Something a state dict never holds: ``weights_only`` loading must refuse it."""


@pytest.mark.parametrize("damage", ["garbage", "pickle"])
def test_a_damaged_cached_weights_file_is_named_and_load_source_falls_back(damage, imagenet_env, tmp_path,
                                                                            monkeypatch, capsys):
    checkpoints = tmp_path / "torch_home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    cached = checkpoints / Path(torchvision.models.AlexNet_Weights.DEFAULT.url).name
    if damage == "garbage":
        cached.write_bytes(b"\x00not a checkpoint\xff" * 100)
    else:
        torch.save({"features.0.weight": NotATensor()}, cached)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("ZFCOURSE_CACHE", imagenet_env["ZFCOURSE_CACHE"])
    with pytest.raises(ValueError, match="unreadable.*delete that file") as err:
        pretrained("alexnet", download=False)
    assert str(cached) in str(err.value)
    src = load_source("imagenet", dataset="imagenette", model="alexnet", download=False, size=10)
    said = capsys.readouterr().out
    assert src.name == "embedded" and said.startswith("zfcourse: imagenette unavailable (weights_path: ")
    assert "delete that file" in said and said.count("\n") == 1
