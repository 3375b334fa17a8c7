"""The embedded world: determinism, annotations that match the pixels, probe sets, the Dataset and its splits."""
import numpy as np
import pytest
import torch

from zfcourse.data import (CLASS_NAMES, CLASSES, FACE_CLASSES, NUM_CLASSES, SYMMETRIC_CLASSES, VAL_OFFSET,
                           EmbeddedDataset, ObjectSpec, class_index, class_table, probe_set, render, render_probe,
                           render_scene)

# keypoint → the part drawn under it
ON_PART = {"left_eye": "left_eye", "right_eye": "right_eye", "nose": "nose", "front_wheel": "front_wheel",
           "rear_wheel": "rear_wheel"}
CENTRE_PART = {"flower": "centre", "wheel": "hub", "tennis_ball": "ball"}


def pixel(img, xy):
    x, y = xy
    return img[int(round(y)), int(round(x))]


def test_class_table_has_symmetric_asymmetric_and_faces():
    assert NUM_CLASSES >= 10 and len(CLASS_NAMES) == len(set(CLASS_NAMES))
    assert len(FACE_CLASSES) >= 2 and len(SYMMETRIC_CLASSES) >= 2
    assert any(not c.symmetric for c in CLASSES)
    rows = class_table()
    assert [r["name"] for r in rows] == list(CLASS_NAMES)
    for c in CLASSES:
        if c.face:
            assert {"left_eye", "right_eye", "nose"} <= set(c.keypoints)


def test_render_is_deterministic_by_seed_and_index():
    a, ann_a = render(0, 17)
    b, ann_b = render(0, 17)
    assert a.shape == (128, 128, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and ann_a == ann_b
    assert not np.array_equal(a, render(1, 17)[0])
    assert not np.array_equal(a, render(0, 18)[0])
    assert ann_a.label == 17 % NUM_CLASSES and ann_a.class_name == CLASS_NAMES[ann_a.label]


@pytest.mark.parametrize("index", range(0, 36))
def test_keypoints_lie_on_their_parts(index):
    # Omitting a part changes the pixel under its keypoint, and nothing else about the image's random draws.
    img, ann = render(3, index)
    cls = CLASSES[ann.label]
    checks = {k: p for k, p in ON_PART.items() if k in ann.keypoints}
    if cls.name in CENTRE_PART:
        checks["centre"] = CENTRE_PART[cls.name]
    for key, part in checks.items():
        without, ann2 = render(3, index, omit=(part,))
        assert ann2.keypoints == ann.keypoints
        assert not np.array_equal(pixel(img, ann.keypoints[key]), pixel(without, ann.keypoints[key])), (cls.name, key)
    if cls.face:
        # left = image left: faces stay near frontal (±8°), so the left eye has the smaller x
        assert ann.keypoints["left_eye"][0] < ann.keypoints["right_eye"][0]
        assert ann.keypoints["left_eye"][1] < ann.keypoints["nose"][1]


@pytest.mark.parametrize("index", range(0, 24))
def test_box_contains_every_pixel_of_the_main_object(index):
    img, ann = render(5, index)
    without, _ = render(5, index, omit=("*",))
    ys, xs = np.nonzero((img != without).any(-1))
    assert len(xs) > 200
    x0, y0, x1, y1 = ann.box
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
    # and it is tight: no more than 3 px of slack on any side
    assert xs.min() - x0 <= 3 and x1 - 1 - xs.max() <= 3 and ys.min() - y0 <= 3 and y1 - 1 - ys.max() <= 3
    assert ann.objects[-1] == (ann.class_name, ann.box)


def test_mirrored_face_keeps_image_left_convention():
    spec = ObjectSpec("cat_face", (64, 64), 35, 0, mirror=True)
    img, ann = render_scene([spec], seed=1, index=2)
    assert ann.keypoints["left_eye"][0] < ann.keypoints["right_eye"][0]
    without, _ = render_scene([spec], seed=1, index=2, omit=("left_eye",))
    diff = np.nonzero((img != without).any(-1))[1]
    assert diff.max() < 64  # the omitted eye is the one on the image's left


def test_probe_sets_sizes_and_annotations():
    expected = {"fig7": 3, "fig8_faces": 5, "fig5": 5}
    for name, n in expected.items():
        ps = probe_set(name)
        assert len(ps) == n and ps.images.shape == (n, 112, 112, 3) and ps.images.dtype == np.uint8
        assert len(ps.annotations) == len(ps.descriptions) == n
        for a in ps.annotations:
            x0, y0, x1, y1 = a.box
            assert 0 <= x0 < x1 <= 112 and 0 <= y0 < y1 <= 112
    fig7 = probe_set("fig7")
    assert [a.class_name for a in fig7.annotations] == ["dog_face", "car", "dog_face"]
    assert "tennis_ball" in [n for n, _ in fig7.annotations[0].objects]
    assert len(fig7.annotations[2].objects) >= 3
    faces = probe_set("fig8_faces")
    assert len({a.class_name for a in faces.annotations}) == 1 and faces.annotations[0].class_name in FACE_CLASSES
    masked = render_probe("fig8_faces", omit=("left_eye",))
    for img, img2, a in zip(faces.images, masked.images, faces.annotations):
        for key in ("left_eye", "right_eye", "nose"):
            x, y = a.keypoints[key]
            assert 0 <= x < 112 and 0 <= y < 112
        assert not np.array_equal(pixel(img, a.keypoints["left_eye"]), pixel(img2, a.keypoints["left_eye"]))
        assert np.array_equal(pixel(img, a.keypoints["right_eye"]), pixel(img2, a.keypoints["right_eye"]))
    fig5 = probe_set("fig5")
    sym = [CLASSES[a.label].symmetric for a in fig5.annotations]
    assert any(sym) and not all(sym)
    for a in fig5.annotations:  # room around the object for translation, scaling and rotation
        x0, y0, x1, y1 = a.box
        assert x0 >= 20 and y0 >= 20 and x1 <= 92 and y1 <= 92


def test_dataset_items_shapes_and_disjoint_splits():
    train = EmbeddedDataset("train", size=24, seed=0)
    val = EmbeddedDataset("val", size=24, seed=0)
    x, y = train[0]
    assert x.shape == (3, 112, 112) and x.dtype == torch.float32 and isinstance(y, int)
    assert -200 < float(x.min()) < 0 < float(x.max()) < 200  # 0–255 minus the mean image
    assert set(train.render_indices()).isdisjoint(val.render_indices())
    assert val.render_index(0) == VAL_OFFSET
    assert train.labels.tolist() == [train[i][1] for i in range(24)]
    assert torch.bincount(train.labels, minlength=NUM_CLASSES).tolist() == [2] * NUM_CLASSES
    # val is the deterministic centre crop
    assert torch.equal(val[3][0], val[3][0])
    img, ann = val.raw(3)
    assert img.shape == (128, 128, 3) and ann.label == val[3][1]


def test_training_crops_depend_only_on_epoch():
    ds = EmbeddedDataset("train", size=12, seed=0)
    crops0 = [ds.crop_of(i) for i in range(12)]
    assert len(set(crops0)) > 1 and all(0 <= y <= 16 and 0 <= x <= 16 for y, x, _ in crops0)
    a = ds[5][0]
    ds.set_epoch(1)
    assert [ds.crop_of(i) for i in range(12)] != crops0
    ds.set_epoch(0)
    assert torch.equal(ds[5][0], a)


def test_cache_gives_the_same_items_and_annotation_follows_the_crop():
    plain = EmbeddedDataset("train", size=12, seed=2, progress=False)
    cached = EmbeddedDataset("train", size=12, seed=2, cache=True, progress=False)
    assert cached.images.shape == (12, 128, 128, 3) and cached.images.dtype == torch.uint8
    for i in (0, 7):
        assert torch.equal(plain[i][0], cached[i][0])
    face = next(i for i in range(12) if plain.classes[plain[i][1]] == "dog_face")
    for epoch in range(4):
        plain.set_epoch(epoch)
        a = plain.annotation(face)
        assert a.keypoints["left_eye"][0] < a.keypoints["right_eye"][0]
        y, x, flipped = plain.crop_of(face)
        raw = plain.raw(face)[1]
        ex = raw.keypoints["left_eye" if not flipped else "right_eye"][0] - x
        assert a.keypoints["left_eye"][0] == pytest.approx(111 - ex if flipped else ex)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="^split"):
        EmbeddedDataset("test", size=10)
    with pytest.raises(ValueError, match="^size"):
        EmbeddedDataset("train", size=0)
    with pytest.raises(ValueError, match="^seed"):
        render(-1, 0)
    with pytest.raises(KeyError, match="name"):
        probe_set("fig9")
    with pytest.raises(KeyError, match="class_name.*dog_face"):
        class_index("zebra")
    with pytest.raises(IndexError, match="^i"):
        EmbeddedDataset("val", size=5)[5]
