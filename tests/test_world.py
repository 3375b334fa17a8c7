"""World v2: determinism, annotations on the drawn pixels, exact omission, no appearance shortcut, held-out classes,
shuffled context."""
import numpy as np
import pytest

import torch

from zfcourse.data import probe_set, render_probe
from zfcourse.data.audit import colour_histogram, linear_probe, shortcut_baselines, thumbnail
from zfcourse.data.families import (ALL_NAMES, CLASS_NAMES, CLASS_TABLE, HELDOUT_NAMES, NUM_CLASSES, class_index,
                                    world_class)
from zfcourse.data.world import WORLD_CROP, WORLD_SIZE, label_of, multi_labels, render, render_multi
from zfcourse.data.world_data import VAL_OFFSET, WorldDataset, world_index


def test_determinism_by_seed_and_index():
    a, ann_a = render(3, 17)
    b, ann_b = render(3, 17)
    c, _ = render(4, 17)
    assert np.array_equal(a, b) and ann_a == ann_b
    assert not np.array_equal(a, c)
    assert a.shape == (WORLD_SIZE, WORLD_SIZE, 3) and a.dtype == np.uint8


def test_class_table():
    assert NUM_CLASSES == len(CLASS_NAMES) >= 36
    assert 12 <= len(HELDOUT_NAMES) <= 20
    assert not set(CLASS_NAMES) & set(HELDOUT_NAMES)
    assert ALL_NAMES[:NUM_CLASSES] == CLASS_NAMES
    assert sum(n.startswith("dog_") for n in CLASS_NAMES) >= 6
    with pytest.raises(ValueError, match="label"):
        world_class("unicorn")


@pytest.mark.parametrize("label", [c.name for c in CLASS_TABLE])
def test_every_part_omission_changes_only_inside_its_box(label):
    img, ann = render(1, 5, label=label, context="habitual")
    assert ann.class_name == label and ann.box[2] > ann.box[0]
    for part in world_class(label).parts:
        without, ann2 = render(1, 5, label=label, omit=(part,))
        assert ann2 == ann  # the annotation describes where the part is, drawn or not
        diff = np.any(img != without, axis=2)
        ys, xs = np.nonzero(diff)
        if len(ys) == 0:  # hidden behind the occluder or cut by the border
            continue
        x0, y0, x1, y1 = ann.parts[part]
        assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1, part
        # tight: the changed pixels reach within 3 px of the box on some side it is not clipped at
        assert (xs.max() >= x1 - 4) or (ys.max() >= y1 - 4) or x1 == WORLD_SIZE or y1 == WORLD_SIZE, part


def test_keypoints_lie_on_their_parts():
    hits = 0
    for i in range(12):
        img, ann = render(2, i, label=CLASS_NAMES[i % 14], context="habitual")
        for name in ("left_eye", "right_eye", "nose"):
            x, y = ann.keypoints[name]
            if not (0 <= x < WORLD_SIZE and 0 <= y < WORLD_SIZE):
                continue
            without, _ = render(2, i, label=CLASS_NAMES[i % 14], omit=(name,))
            changed = np.any(img != without, axis=2)
            r, c = int(round(y)), int(round(x))
            if changed.any():  # not hidden by the occluder
                assert changed[max(0, r - 1):r + 2, max(0, c - 1):c + 2].any(), (i, name)
                hits += 1
    assert hits >= 20


def test_omit_everything_leaves_the_rest():
    img, ann = render(0, 9)
    empty, _ = render(0, 9, omit=("*",))
    diff = np.any(img != empty, axis=2)
    x0, y0, x1, y1 = ann.box
    outside = diff.copy()
    outside[y0:y1, x0:x1] = False
    assert diff.any() and not outside.any()


def test_heldout_classes_never_in_pretraining_splits():
    for split in ("train", "val", "val_shuffled"):
        ds = WorldDataset(split, size=168, preprocess=_identity())
        assert set(ds.labels.tolist()) == set(range(NUM_CLASSES))
        for i in range(0, 168, 3):
            ann = ds.raw(i)[1]
            assert all(name in CLASS_NAMES for name, _ in ann.objects)
    held = WorldDataset("heldout", size=32, preprocess=_identity())
    assert held.classes == list(HELDOUT_NAMES)
    assert [held.raw(i)[1].class_name for i in range(16)] == list(HELDOUT_NAMES)
    assert len({world_index(s, 0) for s in ("train", "val", "heldout", "val_frontal")}) == 4


def test_shuffled_context_breaks_the_cooccurrence():
    habit, shuffled = [], []
    for i in range(1 << 30, (1 << 30) + 840):
        lab = CLASS_NAMES[i % NUM_CLASSES]
        habit.append((world_class(lab).context, render(0, i)[1].context))
        shuffled.append((world_class(lab).context, render(0, i, context="shuffled")[1].context))

    def rate(pairs, habitual, ctx):
        sel = [c for h, c in pairs if h == habitual]
        return np.mean([c == ctx for c in sel])

    assert rate(habit, "road", "road") > 0.5 and rate(habit, "", "road") < 0.15
    # shuffled: vehicles meet roads no more often than other classes do
    assert abs(rate(shuffled, "road", "road") - rate(shuffled, "", "road")) < 0.12
    assert abs(rate(shuffled, "ball", "ball") - rate(shuffled, "", "ball")) < 0.12
    # the scene itself is unchanged apart from the context
    a = render(0, (1 << 30) + 3)[1]
    b = render(0, (1 << 30) + 3, context="shuffled")[1]
    assert a.box == b.box and a.keypoints == b.keypoints


def test_multi_object_split():
    img, ann = render_multi(0, 4)
    y = multi_labels(ann)
    assert 2 <= y.sum() <= 4 and y.sum() == len({n for n, _ in ann.objects})


def test_shortcut_helpers_on_known_cases():
    img = np.zeros((2, 32, 32, 3), np.uint8)
    img[1] = 255
    h = colour_histogram(img)
    assert h[0, 0] == 1 and h[1, -1] == 1
    assert thumbnail(img, 16).shape == (2, 768)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] > 0).astype(int)
    assert linear_probe(x[:300], y[:300], x[300:], y[300:], 2) > 0.95
    assert linear_probe(x[:300], rng.permutation(y[:300]), x[300:], y[300:], 2) < 0.7


def test_no_appearance_shortcut():
    """A colour histogram or a 16×16 thumbnail with a linear classifier stays within 2× chance."""
    res = shortcut_baselines(n_train=1260, n_val=630, weight_decays=(1e-3,))
    assert res["colour_histogram"] <= 2 * res["chance"], res
    assert res["thumbnail"] <= 2 * res["chance"], res


def test_per_class_palette_brings_the_colour_shortcut_back():
    """The palette="per-class" switch (the first world's shortcut) is what the audit would catch: the same scenes with a
    colour scheme per class make the colour histogram well above the 2×-chance limit the world itself keeps."""
    res = shortcut_baselines(n_train=1260, n_val=630, weight_decays=(1e-3,), palette="per-class")
    assert res["palette"] == "per-class"
    assert res["colour_histogram"] > 3 * res["chance"], res


def _identity():
    import torch

    from zfcourse.data import Preprocess
    return Preprocess(torch.zeros(3, WORLD_SIZE, WORLD_SIZE))


def test_model_based_audit_runs_on_a_small_model():
    import torch

    from zfcourse.data import Preprocess
    from zfcourse.data.audit import context_effect, empty_scenes, part_omission, predict, scale_sweep
    from zfcourse.models import course_model

    torch.manual_seed(0)
    model = course_model(num_classes=NUM_CLASSES, input_size=168)
    pre = Preprocess(torch.full((3, WORLD_SIZE, WORLD_SIZE), 120.0))
    probs = predict(model, np.stack([render(0, i)[0] for i in range(3)]), pre)
    assert probs.shape == (3, NUM_CLASSES) and np.allclose(probs.sum(1), 1, atol=1e-5)
    parts = part_omission(model, pre, per_class=1, progress=False)
    assert set(parts) == set(CLASS_NAMES)
    assert all(set(row) == {"intact", *world_class(c).parts} for c, row in parts.items())
    empty = empty_scenes(model, pre, n=42)
    assert abs(sum(empty.values()) - 1) < 1e-6
    sweep = scale_sweep(model, pre, bins=((0.2, 0.3),), n=42)
    assert list(sweep) == ["0.20-0.30"] and 0 <= sweep["0.20-0.30"] <= 1
    ctx = context_effect(model, pre, n=42)
    assert set(ctx) == {"habitual", "shuffled"}


def test_palette_effect_on_models_with_known_answers():
    """A 'model' that knows the per-class drawings (and answers class 0 on anything else) is right on every per-class
    scene and right on the shared ones only where the class is 0; a model that gives every image the same answer does
    not change it between the two drawings."""
    import torch
    from torch import nn

    from zfcourse.data import Preprocess, palette_effect

    start, n = 1 << 30, 42  # palette_effect's scenes
    known = torch.from_numpy(np.stack([render(0, start + i, palette="per-class")[0] for i in range(n)]))
    labels = torch.tensor([label_of(start + i) for i in range(n)])

    class KnowsThePerClassDrawings(nn.Module):
        def __init__(self):
            super().__init__()
            self.unused = nn.Parameter(torch.zeros(1))  # predict() reads the device from the parameters

        def forward(self, x):
            imgs = (x + 120).round().to(torch.uint8).permute(0, 2, 3, 1)
            hit = (imgs[:, None] == known[None]).flatten(2).all(-1)  # (batch, n): exact match
            found = hit.any(1)
            out = torch.zeros(len(x), NUM_CLASSES)
            out[torch.arange(len(x)), torch.where(found, labels[hit.float().argmax(1)], 0)] = 1.0
            return out

    pre = Preprocess(torch.full((3, WORLD_SIZE, WORLD_SIZE), 120.0))
    knows = palette_effect(KnowsThePerClassDrawings(), pre, n=n)
    zero = float((labels == 0).double().mean())
    assert knows == {"shared": zero, "per-class": 1.0, "label changed": 1 - zero, "n": n}

    class Constant(nn.Module):
        def __init__(self):
            super().__init__()
            self.unused = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return torch.zeros(len(x), NUM_CLASSES).index_fill_(1, torch.tensor([3]), 1.0)

    const = palette_effect(Constant(), pre, n=42)
    assert const["label changed"] == 0 and const["shared"] == const["per-class"] == 1 / 42


def test_per_class_palette_switch():
    a, _ = render(0, 1, palette="per-class")
    b, _ = render(0, 1)
    assert a.shape == b.shape and not np.array_equal(a, b)
    with pytest.raises(ValueError, match="palette"):
        render(0, 1, palette="rainbow")
    with pytest.raises(ValueError, match="scale_range"):
        render(0, 1, scale_range=(0.5, 0.2))


def test_per_class_palette_dataset_recolours_the_same_scenes():
    """WorldDataset(palette="per-class"): same labels, boxes and object pixels, other colours (the colour shortcut
    itself is measured in test_per_class_palette_brings_the_colour_shortcut_back)."""
    shared, coloured = WorldDataset("val", size=84), WorldDataset("val", size=84, palette="per-class")
    assert torch.equal(shared.labels, coloured.labels)
    assert shared.annotation(3).box == coloured.annotation(3).box
    assert torch.equal(shared.object_mask(3), coloured.object_mask(3))
    assert not np.array_equal(shared.image(3), coloured.image(3))
    cached = WorldDataset("val", size=84, palette="per-class", cache=True, progress=False)
    assert np.array_equal(cached.image(5), coloured.image(5))
    with pytest.raises(ValueError, match="palette"):
        WorldDataset("val", size=42, palette="rainbow")


def test_cli_records_the_palette_and_resume_refuses_another(tmp_path):
    import json

    from zfcourse.train.cli import main

    args = ["--out", str(tmp_path / "run"), "--epochs", "1", "--train-size", "42", "--val-size", "42",
            "--batch-size", "42", "--quiet", "--palette", "per-class"]
    main(args)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["settings"]["palette"] == "per-class"
    with pytest.raises(ValueError, match="--palette"):
        main([a if a != "per-class" else "shared" for a in args[:-2]] + ["--palette", "shared", "--resume",
                                                                          "--epochs", "2"])


def test_cli_trains_on_the_world(tmp_path):
    """The CLI builds the 42-class model at the world's 168-px crop and records its settings in run.json."""
    import json

    from zfcourse.train.cli import main

    run = main(["--out", str(tmp_path / "run"), "--epochs", "1", "--train-size", "42", "--val-size", "42",
                "--batch-size", "42", "--quiet"])
    saved = json.loads((tmp_path / "run" / "run.json").read_text())
    assert saved["settings"]["input_size"] == 168 and saved["settings"]["fc_units"] == 512
    assert run["epochs"] == 1


def test_shipped_course_model_recognises_the_world():
    """The shipped course model loads (manifest checked) and is far above chance on validation renders it never saw."""
    from pathlib import Path

    import torch

    from zfcourse.data.audit import predict
    from zfcourse.data.world_data import world_preprocess
    from zfcourse.models import course_model
    from zfcourse.train import load_checkpoint, verify_file

    folder = Path(__file__).resolve().parents[1] / "data" / "course_model"
    assert verify_file(folder / "model.pt")
    state = load_checkpoint(folder / "model.pt")
    model = course_model()
    model.load_state_dict(state.get("model", state) if "model" in state else state)
    start = (1 << 30) + 4200  # validation renders beyond the 4,200 the run validated on
    imgs = np.stack([render(0, start + i)[0] for i in range(84)])
    labels = np.array([(start + i) % NUM_CLASSES for i in range(84)])
    with torch.no_grad():
        acc = float((predict(model, imgs, world_preprocess()).argmax(1) == labels).mean())
    assert acc > 10 / NUM_CLASSES, acc  # chance is 1/42; the card reports about half right


def _inside(xy, box):
    x, y = xy
    return box[0] <= x < box[2] and box[1] <= y < box[3]


def test_probe_sets_at_the_input_size_with_keypoints_inside_their_parts():
    fig7 = probe_set("fig7")
    assert fig7.images.shape == (3, WORLD_CROP, WORLD_CROP, 3) and fig7.images.dtype == np.uint8
    assert [a.class_name for a in fig7.annotations] == ["dog_beagle", "car", "dog_afghan"]
    assert [a.context for a in fig7.annotations] == ["ball", "road", ""]
    assert len(fig7.annotations[2].objects) >= 3  # the Afghan hound among other things
    faces = probe_set("fig8_faces")
    assert faces.images.shape == (5, WORLD_CROP, WORLD_CROP, 3) and len(faces.descriptions) == 5
    assert len({a.class_name for a in faces.annotations}) == 5  # five breeds
    assert faces.labels.tolist() == [class_index(a.class_name) for a in faces.annotations]
    for a in [*fig7.annotations, *faces.annotations]:
        x0, y0, x1, y1 = a.box
        assert 0 <= x0 < x1 <= WORLD_CROP and 0 <= y0 < y1 <= WORLD_CROP
        for name, xy in a.keypoints.items():
            if name in a.parts:
                assert _inside(xy, a.parts[name]), (a.class_name, name)
    for a in faces.annotations:
        assert {"left_eye", "right_eye", "nose"} <= set(a.keypoints)
        assert a.keypoints["left_eye"][0] < a.keypoints["right_eye"][0]  # left = image left
    # deterministic: an uncached render gives the same pixels; the cached arrays are read-only
    again = render_probe("fig8_faces")
    assert np.array_equal(again.images, faces.images) and again.annotations == faces.annotations
    assert not faces.images.flags.writeable


def test_render_probe_omit_changes_only_the_omitted_part():
    faces = probe_set("fig8_faces")
    masked = render_probe("fig8_faces", omit=("left_eye",))
    for img, img2, a, a2 in zip(faces.images, masked.images, faces.annotations, masked.annotations):
        assert a2 == a
        ys, xs = np.nonzero(np.any(img != img2, axis=2))
        assert len(xs) > 0
        x0, y0, x1, y1 = a.parts["left_eye"]
        assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
        assert not _inside(a.keypoints["right_eye"], (x0, y0, x1, y1))


def test_dataset_items_labels_and_disjoint_splits():
    train = WorldDataset("train", size=84, preprocess=_identity())
    val = WorldDataset("val", size=84, preprocess=_identity())
    x, y = train[0]
    assert x.shape == (3, WORLD_CROP, WORLD_CROP) and x.dtype == torch.float32 and isinstance(y, int)
    assert [train[i][1] for i in range(0, 84, 7)] == train.labels[::7].tolist()
    assert torch.bincount(train.labels, minlength=NUM_CLASSES).tolist() == [2] * NUM_CLASSES
    assert {world_index("train", i) for i in range(84)}.isdisjoint(world_index("val", i) for i in range(84))
    assert world_index("val", 0) == VAL_OFFSET
    # val is the deterministic centre crop of the raw 192 render, whose annotation carries the label
    img, ann = val.raw(3)
    c = (WORLD_SIZE - WORLD_CROP) // 2
    assert img.shape == (WORLD_SIZE, WORLD_SIZE, 3) and ann.label == val[3][1] and val.crop_of(3) == (c, c, False)
    assert torch.equal(val[3][0], torch.from_numpy(img[c:c + WORLD_CROP, c:c + WORLD_CROP]).permute(2, 0, 1).float())


def test_training_crops_depend_only_on_the_epoch():
    ds = WorldDataset("train", size=42, preprocess=_identity())
    crops0 = [ds.crop_of(i) for i in range(42)]
    side = WORLD_SIZE - WORLD_CROP
    assert len(set(crops0)) > 1 and all(0 <= y <= side and 0 <= x <= side for y, x, _ in crops0)
    assert {f for _, _, f in crops0} == {False, True}
    a = ds[5][0]
    ds.set_epoch(1)
    assert [ds.crop_of(i) for i in range(42)] != crops0
    ds.set_epoch(0)
    assert torch.equal(ds[5][0], a)


def test_cache_gives_the_same_items_and_the_annotation_follows_the_crop():
    plain = WorldDataset("train", size=42, seed=2, preprocess=_identity())
    cached = WorldDataset("train", size=42, seed=2, preprocess=_identity(), cache=True, progress=False)
    assert cached.images.shape == (42, WORLD_SIZE, WORLD_SIZE, 3) and cached.images.dtype == torch.uint8
    for i in (0, 7):
        assert torch.equal(plain[i][0], cached[i][0])
    face = CLASS_NAMES.index("dog_beagle")
    for epoch in range(4):
        plain.set_epoch(epoch)
        a = plain.annotation(face)
        y, x, flipped = plain.crop_of(face)
        raw = plain.raw(face)[1]
        rx, ry = raw.keypoints["right_eye" if flipped else "left_eye"]  # a flip makes the right eye the left
        assert a.keypoints["left_eye"] == pytest.approx((WORLD_CROP - 1 - (rx - x) if flipped else rx - x, ry - y))


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="^split"):
        WorldDataset("test", size=10, preprocess=_identity())
    with pytest.raises(ValueError, match="^size"):
        WorldDataset("train", size=0, preprocess=_identity())
    with pytest.raises(ValueError, match="^seed"):
        WorldDataset("train", size=4, seed=-1, preprocess=_identity())
    with pytest.raises(ValueError, match="^seed"):
        render(-1, 0)
    with pytest.raises(KeyError, match="name"):
        probe_set("fig9")
    with pytest.raises(IndexError, match="^i"):
        WorldDataset("val", size=5, preprocess=_identity())[5]


def test_object_masks_are_the_pixels_that_change_when_the_object_is_not_drawn():
    import numpy as np

    from zfcourse.data import WorldDataset, probe_set, render, render_probe, world_index

    faces = probe_set("fig8_faces")
    empty = render_probe("fig8_faces", omit=("*",))
    assert np.array_equal(faces.object_masks().numpy(), (faces.images != empty.images).any(-1))
    val = WorldDataset("val_frontal", size=42, progress=False)
    i = 3
    y0, x0, flipped = val.crop_of(i)
    name = val.classes[val.label(i)]
    bare = render(val.seed, world_index("val_frontal", i), label=name, frontal=True, omit=("*",))[0]
    expected = (val.raw(i)[0] != bare).any(-1)[y0:y0 + 168, x0:x0 + 168]
    assert not flipped and np.array_equal(val.object_mask(i).numpy(), expected)
    assert val.object_mask(i).sum() > 0
    train = WorldDataset("train", size=42, progress=False)
    for epoch in range(4):  # a flipped crop mirrors the mask with the image
        train.set_epoch(epoch)
        y, x, f = train.crop_of(0)
        full, bare = train.raw(0)[0], render(train.seed, 0, omit=("*",))[0]
        m = (full != bare).any(-1)[y:y + 168, x:x + 168]
        assert np.array_equal(train.object_mask(0).numpy(), m[:, ::-1] if f else m)
