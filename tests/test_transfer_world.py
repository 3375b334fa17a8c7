"""Transfer on the embedded world v2 (§5.2): held-out classes never reach pre-training, and the whole pipeline —
frozen features at the paper's layers, few-shot splits, linear probes — runs on held-out renders."""
import numpy as np
import pytest
import torch

from zfcourse.data.families import CLASS_NAMES, HELDOUT_NAMES
from zfcourse.data.preprocess import Preprocess
from zfcourse.data.world import render_multi
from zfcourse.data.world_data import WorldDataset, render_item
from zfcourse.models.ablation import ablated
from zfcourse.transfer import assert_disjoint, extract_layers, few_shot_splits, paper_layers, probe_layers

PLAIN = Preprocess(mean=(127.5, 127.5, 127.5))          # no world mean needed: nothing here is trained


def test_held_out_classes_never_appear_in_pre_training():
    assert_disjoint(CLASS_NAMES, HELDOUT_NAMES, names=("pre-training classes", "held-out classes"))
    for split in ("train", "val", "val_shuffled"):
        d = WorldDataset(split, size=3 * len(CLASS_NAMES), preprocess=PLAIN)
        used = {d.classes[i] for i in d.labels.tolist()}
        assert used == set(CLASS_NAMES)
        assert_disjoint(sorted(used), HELDOUT_NAMES, names=(f"{split} labels", "held-out classes"))
    held = WorldDataset("heldout", size=2 * len(HELDOUT_NAMES), preprocess=PLAIN)
    assert {held.classes[i] for i in held.labels.tolist()} == set(HELDOUT_NAMES)
    # every object drawn in a pre-training image — main object, distractors, multi-object scenes — is a
    # pre-training class
    drawn = [name for i in range(24) for name, _ in render_item(0, "train", i)[1].objects]
    drawn += [name for i in range(6) for name, _ in render_multi(0, i)[1].objects]
    assert len(drawn) > 30
    assert_disjoint(drawn, HELDOUT_NAMES, names=("objects in pre-training renders", "held-out classes"))


def test_pipeline_on_held_out_renders():
    torch.manual_seed(0)
    model = ablated("zf", width=0.125, input_size=168, num_classes=len(CLASS_NAMES), fc_width=64)
    held = WorldDataset("heldout", size=3 * len(HELDOUT_NAMES), preprocess=PLAIN)   # 3 images per class
    layers = paper_layers(model)
    feats = extract_layers(model, held, [layers[k] for k in (1, 5, 7)], pool="max", batch_size=16, progress=False)
    assert [f.shape for f in feats.values()] == [(48, 12), (48, 32), (48, 64)]
    targets = held.labels.numpy()
    splits = few_shot_splits(targets, 2, n_splits=2, max_test=1)
    for s in splits:
        assert len(s.train) == 32 and len(s.test) == 16
    table = probe_layers(feats, targets, splits, "softmax", progress=False)
    assert list(table) == list(feats)
    assert all(len(r.values) == 2 and 0 <= r.mean <= 100 for r in table.values())
    assert np.isfinite([r.mean for r in table.values()]).all()


def test_injected_held_out_renders_are_the_held_out_images_under_a_family_label():
    """WorldDataset(inject_heldout=n): the overlap of §5.2 on purpose — the first n held-out renders appended to the
    training items, pixel for pixel, each labelled with the first pre-training class of its family."""
    from zfcourse.data import FAMILIES, stand_in_label, world_class
    base = WorldDataset("train", size=42, preprocess=PLAIN)
    dirty = WorldDataset("train", size=42, preprocess=PLAIN, inject_heldout=20, cache=True, progress=False)
    held = WorldDataset("heldout", size=20, preprocess=PLAIN)
    assert len(dirty) == 62 and dirty.source(41) == ("train", 41) and dirty.source(42) == ("heldout", 0)
    assert torch.equal(dirty.labels[:42], base.labels)
    np.testing.assert_array_equal(dirty.image(5), base.image(5))
    for j in (0, 7, 19):
        np.testing.assert_array_equal(dirty.image(42 + j), held.image(j))     # the cache holds the held-out render
        np.testing.assert_array_equal(dirty.raw(42 + j)[0], held.image(j))
        name = held.classes[held.label(j)]
        lab = dirty.label(42 + j)
        assert CLASS_NAMES[lab] in FAMILIES[world_class(name).family] and lab == stand_in_label(name)
    assert CLASS_NAMES[stand_in_label("canoe")] == "sailboat"
    x, y = dirty[50]
    assert x.shape == (3, 168, 168) and y == stand_in_label(held.classes[held.label(8)])
    with pytest.raises(ValueError, match="^inject_heldout: held-out renders can only be injected into the 'train'"):
        WorldDataset("val", size=42, inject_heldout=3)
    with pytest.raises(ValueError, match="^inject_heldout: expected a non-negative integer"):
        WorldDataset("train", size=42, inject_heldout=-1)
    with pytest.raises(ValueError, match="^heldout_class: expected one of"):
        stand_in_label("dog_beagle")


def test_overlap_search_finds_exactly_the_injected_held_out_renders():
    """§5.2's overlap control on the world: held-out renders injected into a pre-training set are found by normalised
    correlation of thumbnails (the transfer copy re-sampled to another size), with a threshold set from the clean
    part of the set, and nothing else is flagged."""
    import torch.nn.functional as F

    from zfcourse.transfer import find_overlaps, thumbnails

    inject, size = 6, 84
    dirty = WorldDataset("train", size=size, preprocess=PLAIN, inject_heldout=inject, cache=True, progress=False)
    held = WorldDataset("heldout", size=32, preprocess=PLAIN, cache=True, progress=False)
    stored = thumbnails(dirty.images.permute(0, 3, 1, 2))
    resized = F.interpolate(held.images.permute(0, 3, 1, 2).float(), size=168, mode="bilinear", antialias=True)
    query = thumbnails(resized)
    clean = find_overlaps(query, stored[:size], threshold=1.0, progress=False)
    highest = float(clean.top_corr[:, 0].max())
    assert highest < 0.99
    found = find_overlaps(query, stored, threshold=(1 + highest) / 2, progress=False)
    assert found.pairs.tolist() == [[j, size + j] for j in range(inject)]
