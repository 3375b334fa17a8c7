"""Tests of the keypoint JSON file and the ipywidgets annotation tool (§4.3 on your own images)."""
import json

import matplotlib
import numpy as np
import pytest
import torch

from zfcourse.correspondence import AnnotationTool, KEYPOINTS, load_annotations, save_annotations

matplotlib.use("Agg")


def test_json_round_trip(tmp_path):
    points = {"dog1.jpg": {"left_eye": (10.5, 20), "right_eye": (30, 20.25), "nose": (20, 35)},
              "dog2.jpg": {"left_eye": [1, 2], "right_eye": [3, 4], "nose": [5, 6]}}
    path = save_annotations(tmp_path / "faces.json", points, sizes={"dog1.jpg": (64, 48)})
    assert json.loads(path.read_text())["dog2.jpg"]["nose"] == [5.0, 6.0]       # plain JSON lists
    back = load_annotations(path, required=KEYPOINTS)
    assert back == {name: {k: tuple(float(v) for v in xy) for k, xy in pts.items()} for name, pts in points.items()}
    assert not list(tmp_path.glob("*.tmp"))                                      # atomic write left no temp file


def test_bad_annotation_files(tmp_path):
    with pytest.raises(ValueError, match="^annotations: 'a' 'nose' at \\(70, 5\\) lies outside the 64×64 image"):
        save_annotations(tmp_path / "x.json", {"a": {"nose": (70, 5)}}, sizes={"a": (64, 64)})
    with pytest.raises(ValueError, match="^annotations: 'a' 'nose' must be a pair"):
        save_annotations(tmp_path / "x.json", {"a": {"nose": (1, 2, 3)}})
    (tmp_path / "partial.json").write_text('{"a": {"nose": [1, 2]}}')
    with pytest.raises(KeyError, match="has no left_eye, right_eye"):
        load_annotations(tmp_path / "partial.json", required=KEYPOINTS)
    with pytest.raises(FileNotFoundError, match="^path: "):
        load_annotations(tmp_path / "missing.json")


def test_tool_edits_saves_and_reloads(tmp_path):
    images = [np.zeros((40, 60, 3), np.uint8), np.full((50, 50, 3), 200, np.uint8)]
    path = tmp_path / "mine.json"
    tool = AnnotationTool(images, names=["a.png", "b.png"], path=path, size=7)
    assert set(tool.annotations["a.png"]) == set(KEYPOINTS)
    assert tool.draw() is not None                                              # the static default view
    ui = tool.widget
    (image, point), (x, y) = ui.children[0].children, ui.children[1].children
    image.value, point.value = 1, "nose"
    x.value, y.value = 12, 33
    assert tool.annotations["b.png"]["nose"] == (12.0, 33.0)
    assert x.max == 49
    ui.children[2].children[0].click()                                          # Save
    assert "saved" in ui.children[2].children[1].value
    again = AnnotationTool(images, names=["a.png", "b.png"], path=path)
    assert again.annotations == tool.annotations


def test_tool_bad_input():
    with pytest.raises(ValueError, match="^names: "):
        AnnotationTool([np.zeros((4, 4, 3))], names=["a", "b"])
    with pytest.raises(ValueError, match="^images: "):
        AnnotationTool([np.zeros((4, 4, 5))])
    with pytest.raises(ValueError, match="^path: "):
        AnnotationTool([np.zeros((4, 4, 3))]).save()


def test_photos_keypoints_follow_resize_and_crop(tmp_path):
    from PIL import Image

    from zfcourse.correspondence import load_photos
    from zfcourse.data import Preprocess

    pic = np.zeros((60, 90, 3), np.uint8)
    pic[29:32, 59:62] = 255                                                      # a white dot at (60, 30)
    Image.fromarray(pic).save(tmp_path / "dog.png")
    save_annotations(tmp_path / "a.json", {"dog.png": {"left_eye": (45, 25), "right_eye": (60, 30), "nose": (50, 40)}})
    x, kps, boxes, names = load_photos(tmp_path, tmp_path / "a.json", Preprocess(torch.zeros(3)), size=30)
    assert x.shape == (1, 3, 30, 30) and names == ["dog.png"]
    rx, ry = kps[0]["right_eye"]                                                  # 60→ 60·½ − 7.5 offset
    assert x[0, 0, round(ry), round(rx)] > 100                                   # still on the dot
    assert boxes.shape == (1, 4)
    save_annotations(tmp_path / "b.json", {"dog.png": {"left_eye": (2, 25), "right_eye": (60, 30), "nose": (50, 40)}})
    with pytest.raises(ValueError, match="^annotations: 'dog.png' 'left_eye' \\(after the centre crop\\)"):
        load_photos(tmp_path, tmp_path / "b.json", Preprocess(torch.zeros(3)), size=30)


def test_read_folder_and_dog_photos_from_an_imagewoof_fixture(tmp_path):
    from PIL import Image

    from zfcourse.correspondence import dog_photos, read_folder

    root = tmp_path / "cache"
    for wnid in ("n02086240", "n02088364", "n02099601"):                   # Shih-Tzu, beagle, golden retriever
        d = root / "imagewoof2-160" / "val" / wnid
        d.mkdir(parents=True)
        for k in range(2):
            Image.fromarray(np.full((20, 30, 3), 40 * k, np.uint8)).save(d / f"{wnid}_{k}.JPEG")
    names = dog_photos(tmp_path / "dogs", n=2, root=root, download=False)
    assert names == ["Shih-Tzu.jpeg", "beagle.jpeg"]
    assert dog_photos(tmp_path / "dogs", n=5, root=root, download=False) == names     # a filled folder is kept
    images, got = read_folder(tmp_path / "dogs")
    assert got == names and images[0].shape == (20, 30, 3) and images[0].dtype == np.uint8
    with pytest.raises(ValueError, match="^n: "):
        dog_photos(tmp_path / "other", n=1, root=root, download=False)
    with pytest.raises(FileNotFoundError, match="^root: "):
        dog_photos(tmp_path / "other", n=2, root=tmp_path / "nowhere", download=False)
    with pytest.raises(FileNotFoundError, match="^folder: no images"):
        read_folder(tmp_path / "other")
