"""Tests of the keypoint JSON file and the ipywidgets annotation tool (§4.3 on your own images)."""
import io
import json
import sys

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


def _click_at(tool, x, y, index=0):
    """The ipyevents click dict for the centre of image pixel (x, y) on the preview (dataX/dataY: PNG pixels)."""
    vh, vw = tool._view_shape(index)
    h, w = tool.images[index].shape[:2]
    return {"event": "click", "dataX": round((x + 0.5) * vw / w), "dataY": round((y + 0.5) * vh / h)}


def test_preview_png_has_the_known_size_and_pixels_line_up():
    from PIL import Image

    img = np.zeros((40, 60, 3), np.uint8)
    img[20, 10] = 255                                                            # one white pixel at (x=10, y=20)
    tool = AnnotationTool([img], keypoints=("nose",), annotations={"image_0": {"nose": (50, 5)}})
    png = np.asarray(Image.open(io.BytesIO(tool._render(0))).convert("RGB"))
    assert png.shape[:2] == tool._view_shape(0) == (299, 448)                   # longer side 448, aspect kept
    ys, xs = np.nonzero((png > 200).all(axis=2)[:, :200])     # the white pixel, enlarged (not the label)
    assert {tool._click_pixel({"dataX": u + 0.5, "dataY": v + 0.5}) for u, v in zip(xs, ys)} == {(10.0, 20.0)}


def test_click_places_the_keypoint_and_moves_on():
    tool = AnnotationTool([np.zeros((40, 60, 3), np.uint8), np.zeros((50, 50, 3), np.uint8)], names=["a", "b"])
    assert tool._point == "left_eye"
    assert tool._on_click(_click_at(tool, 12, 7)) == ("left_eye", (12.0, 7.0))
    assert tool.annotations["a"]["left_eye"] == (12.0, 7.0) and tool._point == "right_eye"
    assert tool._on_click(_click_at(tool, 40, 8))[0] == "right_eye"
    assert tool._on_click(_click_at(tool, 26, 30)) == ("nose", (26.0, 30.0))
    assert tool._point == "left_eye"                                             # wraps round after the last one
    assert tool.annotations["b"] == AnnotationTool([np.zeros((50, 50, 3))], names=["b"]).annotations["b"]  # untouched
    # relativeX/relativeY: page pixels, here the 448-pixel preview shown at half size (224×149.5 on the page)
    page = {"relativeX": 112.0, "relativeY": 74.75, "boundingRectWidth": 224.0, "boundingRectHeight": 149.5}
    assert tool._click_pixel(page) == (30.0, 20.0)


def test_clicks_outside_the_picture_are_ignored_and_edges_clamped():
    tool = AnnotationTool([np.zeros((40, 60, 3), np.uint8)])
    before = dict(tool.annotations["image_0"])
    vh, vw = tool._view_shape(0)
    for event in ({"dataX": -1, "dataY": 10}, {"dataX": 10, "dataY": vh + 1}, {"dataX": vw + 3, "dataY": -2},
                  {"dataX": float("nan"), "dataY": 3}):
        assert tool._on_click(event) is None
    assert tool.annotations["image_0"] == before and tool._point == "left_eye"      # nothing moved, same keypoint
    assert tool._click_pixel({"dataX": vw, "dataY": vh}) == (59.0, 39.0)           # the far edge: the last pixel
    assert tool._click_pixel({"dataX": 0, "dataY": 0}) == (0.0, 0.0)
    with pytest.raises(ValueError, match="^event: expected dataX/dataY"):
        tool._on_click({"x": 3})
    with pytest.raises(TypeError, match="^event: "):
        tool._on_click([3, 4])


def test_widget_click_updates_keypoint_sliders_and_preview():
    pytest.importorskip("ipyevents")
    tool = AnnotationTool([np.zeros((40, 60, 3), np.uint8), np.zeros((50, 50, 3), np.uint8)], names=["a", "b"])
    ui = tool.widget
    (image, point), (x, y) = ui.children[0].children, ui.children[1].children
    status, picture = ui.children[2].children[1], ui.children[3]
    assert tool.clicks and "click" in status.value
    image.value = 1
    shown = picture.value
    tool._events._handle_mouse_msg(None, _click_at(tool, 33, 21, index=1), None)   # what ipyevents calls on a click
    assert tool.annotations["b"]["left_eye"] == (33.0, 21.0)
    assert point.value == "right_eye"
    assert (x.value, y.value) == tuple(int(v) for v in tool.annotations["b"]["right_eye"])
    assert picture.value != shown and "left_eye at (33, 21); next: right_eye" in status.value
    tool._events._handle_mouse_msg(None, {"event": "click", "dataX": -5, "dataY": 3}, None)
    assert point.value == "right_eye" and "outside" in status.value
    point.value = "nose"                                                         # choosing a keypoint by hand
    tool._events._handle_mouse_msg(None, _click_at(tool, 25, 40, index=1), None)
    assert tool.annotations["b"]["nose"] == (25.0, 40.0) and point.value == "left_eye"


def test_tool_works_without_ipyevents(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ipyevents", None)                          # `import ipyevents` now fails
    tool = AnnotationTool([np.zeros((40, 60, 3), np.uint8)], names=["a.png"], path=tmp_path / "a.json", size=5)
    ui = tool.widget
    assert not tool.clicks and tool._events is None
    (_, point), (x, y) = ui.children[0].children, ui.children[1].children
    assert "sliders" in ui.children[2].children[1].value and "click" not in ui.children[2].children[1].value
    shown = ui.children[3].value
    point.value = "nose"
    x.value, y.value = 3, 38
    assert tool.annotations["a.png"]["nose"] == (3.0, 38.0) and ui.children[3].value != shown   # live preview
    ui.children[2].children[0].click()                                          # Save
    assert load_annotations(tmp_path / "a.json")["a.png"]["nose"] == (3.0, 38.0)


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
    assert not (tmp_path / "other").exists()                    # a failed fetch leaves no empty folder behind
    with pytest.raises(FileNotFoundError, match="^folder: .*other is not a folder"):
        read_folder(tmp_path / "other")
    (tmp_path / "other").mkdir()
    with pytest.raises(FileNotFoundError, match="^folder: no images"):
        read_folder(tmp_path / "other")


def test_own_photos_default_to_the_per_user_cache_not_the_working_folder(tmp_path, monkeypatch):
    from PIL import Image

    from zfcourse.correspondence import dog_photos, photo_folder, read_folder

    root = tmp_path / "datasets"
    d = root / "imagewoof2-160" / "val" / "n02088364"
    d.mkdir(parents=True)
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(d / "a.JPEG")
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / "b.png")
    monkeypatch.setenv("ZFCOURSE_CACHE", str(tmp_path / "cache"))
    work = tmp_path / "book"
    work.mkdir()
    monkeypatch.chdir(work)
    assert photo_folder() == tmp_path / "cache" / "my_dogs"
    assert dog_photos(n=2, root=root, download=False) == ["beagle.jpeg"]
    assert read_folder()[1] == ["beagle.jpeg"] and list(work.iterdir()) == []


def test_saving_some_images_keeps_the_others_and_one_backup(tmp_path):
    """The tool opened on 2 of a file's 5 images must not drop the other 3 when it saves."""
    path = tmp_path / "faces.json"
    five = {f"dog{i}.jpg": {"left_eye": (10 + i, 20), "right_eye": (30, 20), "nose": (20, 30)} for i in range(5)}
    save_annotations(path, five)
    before = path.read_bytes()
    tool = AnnotationTool([np.zeros((64, 64, 3), np.uint8)] * 2, names=["dog0.jpg", "dog1.jpg"], path=path)
    tool.annotations["dog1.jpg"]["nose"] = (40.0, 41.0)
    tool.save()
    back = load_annotations(path, required=KEYPOINTS)
    assert sorted(back) == sorted(five)                                        # all five images still there
    assert back["dog1.jpg"]["nose"] == (40.0, 41.0)
    assert back["dog4.jpg"] == {k: tuple(map(float, v)) for k, v in five["dog4.jpg"].items()}
    assert (tmp_path / "faces.json.bak").read_bytes() == before                # the file as it was, once
    tool.save()
    assert (tmp_path / "faces.json.bak").read_bytes() != before                 # one backup: replaced, not piled up
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faces.json", "faces.json.bak"]   # no temporary left


def test_a_file_that_is_not_a_keypoint_file_is_named_and_never_overwritten(tmp_path):
    path = tmp_path / "faces.json"
    path.write_bytes(bytes(range(256)))                                        # binary
    with pytest.raises(ValueError, match=r"^path: .*faces.json is not a JSON keypoint file"):
        load_annotations(path)
    with pytest.raises(ValueError, match=r"^path: .*faces.json exists but is not a keypoint file"):
        save_annotations(path, {"a.jpg": {"nose": (1, 2)}})
    assert path.read_bytes() == bytes(range(256))
    path.write_text("[1, 2]")
    with pytest.raises(TypeError, match=r"^path: .*faces.json: annotations: expected a dict"):
        load_annotations(path)


# ---- issue 16: the widget as a student meets it (own preview size, a status line that follows, a highlighted point)

def _ui(tool):
    """The widget's controls by role: image and keypoint dropdowns, x/y sliders, status line, preview picture."""
    ui = tool.widget
    (image, point), (x, y) = ui.children[0].children, ui.children[1].children
    return image, point, x, y, ui.children[2].children[1], ui.children[3]


def test_preview_has_its_own_size_not_the_output_width():
    from PIL import Image

    tool = AnnotationTool([np.zeros((40, 60, 3), np.uint8), np.zeros((50, 50, 3), np.uint8)], names=["a", "b"])
    image, _, _, _, _, picture = _ui(tool)
    for index, (h, w) in ((0, (299, 448)), (1, (448, 448))):
        image.value = index
        assert (picture.layout.width, picture.layout.height) == (f"{w}px", f"{h}px")   # follows each image
        assert Image.open(io.BytesIO(picture.value)).size == (w, h)                   # shown 1:1, not stretched
    assert picture.layout.align_self == "flex-start"                                   # not stretched by the VBox


def test_status_line_follows_the_image_and_keypoint():
    tool = AnnotationTool([np.zeros((40, 60, 3), np.uint8), np.zeros((50, 50, 3), np.uint8)], names=["a", "b"],
                          annotations={"b": {"left_eye": (17, 20), "nose": (25, 33)}})
    image, point, x, _, status, _ = _ui(tool)
    assert status.value.startswith("a (1 of 2): left_eye at (21, 16) — ")
    x.value = 5
    assert status.value.startswith("a (1 of 2): left_eye at (5, 16) — ")                # a move is described
    image.value = 1
    assert status.value.startswith("b (2 of 2): left_eye at (17, 20) — ")               # the new image, not a's
    point.value = "nose"
    assert status.value.startswith("b (2 of 2): nose at (25, 33) — ")
    if tool.clicks:                                                                     # after a click, then a switch
        tool._events._handle_mouse_msg(None, _click_at(tool, 30, 10, index=1), None)
        assert status.value == "b: nose at (30, 10); next: left_eye"
        image.value = 0
        assert status.value.startswith("a (1 of 2): left_eye at (5, 16) — ") and "nose" not in status.value


def test_selected_keypoint_is_highlighted_in_the_preview():
    from PIL import Image

    from zfcourse.correspondence import draw_keypoints

    points = {"left_eye": (8, 8), "right_eye": (52, 8), "nose": (30, 34)}
    tool = AnnotationTool([np.full((40, 60, 3), 90, np.uint8)], names=["a"], size=5, annotations={"a": points})
    _, point, _, _, _, picture = _ui(tool)
    png = {}
    for name in ("left_eye", "nose"):
        point.value = name
        png[name] = np.asarray(Image.open(io.BytesIO(picture.value)).convert("RGB")).astype(int)
    assert tool.annotations["a"] == {k: tuple(map(float, v)) for k, v in points.items()}   # only the selection moved
    ys, xs = np.nonzero((png["left_eye"] != png["nose"]).any(-1))
    assert len(xs) > 200                                                                # a visible change
    vh, vw = tool._view_shape(0)
    centre = {k: ((px + 0.5) * vw / 60, (py + 0.5) * vh / 40) for k, (px, py) in points.items()}
    dist = {k: np.hypot(xs - cx, ys - cy) for k, (cx, cy) in centre.items()}
    assert (np.minimum(dist["left_eye"], dist["nose"]) < 110).all()      # it changed around those two points only
    assert (dist["left_eye"] < 110).sum() > 100 and (dist["nose"] < 110).sum() > 100      # one lost it, one gained it
    assert tool._render(0, highlight="nose") == picture.value
    assert tool._render(0) != picture.value                                             # unhighlighted differs
    with pytest.raises(ValueError, match="^highlight: expected one of the keypoints"):
        draw_keypoints(np.zeros((8, 8, 3)), {"nose": (3, 3)}, highlight="tail")


def test_preview_square_is_the_mask_the_model_input_will_get():
    """With ``crop`` (the model's input side after load_photos' shortest-side resize) the preview's square is the
    mask's size on the photo: 31 px of a 224 input is 22 px on a 160-px photo, 62 px on a 448-px one."""
    tool = AnnotationTool([np.zeros((160, 213, 3), np.uint8), np.zeros((600, 448, 3), np.uint8)], size=31, crop=224)
    assert (tool.square(0), tool.square(1)) == (22, 62)
    assert AnnotationTool([np.zeros((160, 213, 3), np.uint8)], size=31).square(0) == 31      # default: own pixels
    assert AnnotationTool([np.zeros((160, 213, 3), np.uint8)], crop=224).square(0) is None   # no size: no square
    for bad in ({"crop": 0}, {"crop": 22.4}, {"size": True}):
        with pytest.raises(ValueError, match=f"^{next(iter(bad))}: "):
            AnnotationTool([np.zeros((8, 8, 3), np.uint8)], **bad)
