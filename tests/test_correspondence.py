"""Tests of the §4.3 correspondence analysis: the Δ measure, the masks, the features read and Table 1's builder."""
import math

import pytest
import torch

from zfcourse.correspondence import (LAYERS, PAPER_TABLE1, correspondence_table, delta, delta_literal,
                                     feature_changes, hamming_counts, layer_features, mask_part, mask_random,
                                     mask_squares, random_centers, square_box)
from zfcourse.models import course_model


# --- Δ --------------------------------------------------------------------------------------------------------------
def test_delta_is_zero_when_all_rows_equal():
    row = torch.randn(50)
    assert delta(row.expand(5, -1).clone()) == 0.0
    assert delta_literal(row.expand(5, -1).clone()) == 0


def test_delta_of_independent_uniform_signs_is_two_thirds():
    g = torch.Generator().manual_seed(0)
    signs = torch.randint(-1, 2, (6, 20000), generator=g).float()
    assert delta(signs) == pytest.approx(2 / 3, abs=0.01)


def test_delta_small_example_by_hand():
    eps = torch.tensor([[1.0, -2.0, 0.0, 4.0], [3.0, 0.0, 0.0, -1.0], [2.0, -1.0, 0.0, 5.0]])
    # pairs (1,2): 2 of 4 differ; (1,3): 0; (2,3): 2 — mean over ordered pairs = (2+0+2)·2 / (4·6)
    assert hamming_counts(eps).tolist() == [[0, 2, 0], [2, 0, 2], [0, 2, 0]]
    assert delta(eps) == pytest.approx(8 / 24)
    assert delta_literal(eps) == 8


def test_delta_is_symmetric_in_image_order_and_scale_free():
    g = torch.Generator().manual_seed(1)
    eps = torch.randn(5, 300, generator=g) * (torch.rand(5, 300, generator=g) > 0.5)
    perm = torch.randperm(5, generator=g)
    assert delta(eps[perm]) == pytest.approx(delta(eps), abs=1e-12)
    assert delta(eps * 7.5) == pytest.approx(delta(eps), abs=1e-12)
    assert delta(eps * 1e-6) == pytest.approx(delta(eps), abs=1e-12)


def test_literal_equals_normalised_times_dnn():
    g = torch.Generator().manual_seed(2)
    eps = torch.randint(-1, 2, (4, 123), generator=g).float()
    n, d = eps.shape
    assert delta_literal(eps) == pytest.approx(delta(eps) * d * n * (n - 1))


def test_delta_accepts_a_list_of_rows():
    rows = [torch.tensor([1.0, 0.0]), torch.tensor([1.0, -1.0])]
    assert delta(rows) == pytest.approx(0.5)


@pytest.mark.parametrize("eps, message", [
    (torch.zeros(1, 10), "at least 2"),
    (torch.zeros(0, 10), "at least 2"),
    ([torch.zeros(10), torch.zeros(9)], "different lengths"),
    (torch.zeros(3, 4, 5), "(N, D)"),
    (torch.zeros(5), "(N, D)"),
    (torch.tensor([[1.0, float("nan")], [0.0, 1.0]]), "NaN"),
])
def test_delta_bad_input_names_eps(eps, message):
    with pytest.raises(ValueError, match="^eps: ") as err:
        delta(eps)
    assert message in str(err.value)


# --- masks -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x, y, size", [(40, 50, 15), (40.4, 49.6, 15), (10, 100, 8), (70, 20, 1)])
def test_mask_is_centred_on_the_keypoint(x, y, size):
    images = torch.ones(1, 3, 112, 112)
    out = mask_part(images, [{"left_eye": (x, y)}], "left_eye", size)
    rows, cols = torch.nonzero(out[0, 0] == 0, as_tuple=True)
    assert out[0, 0, round(y), round(x)] == 0                        # the keypoint's pixel is masked
    assert len(rows) == size * size                                   # a full square (not clipped here)
    assert (rows.min() + rows.max()) / 2 == pytest.approx(y, abs=0.5)  # centred within half a pixel
    assert (cols.min() + cols.max()) / 2 == pytest.approx(x, abs=0.5)
    assert (out[:, 1:] == 0).sum() == 2 * size * size                 # every channel, nothing else
    assert images.eq(1).all()                                         # input untouched


def test_mask_is_clipped_at_the_border_and_uses_fill():
    out = mask_squares(torch.zeros(1, 3, 20, 20), [(0, 19)], 5, fill=torch.tensor([1.0, 2.0, 3.0]))
    assert square_box((0, 19), 5, 20, 20) == (0, 17, 3, 20)  # (x0, y0, x1, y1)
    assert out[0, :, 17:, :3].flatten(1).unique(dim=1).tolist() == [[1.0], [2.0], [3.0]]
    assert out.ne(0).sum() == 3 * 3 * 3


def test_random_masks_lie_inside_the_object_box_and_are_seeded():
    boxes = [(10, 20, 30, 60), (50, 5, 90, 25)]
    c = random_centers(boxes, 200, seed=3)
    b = torch.tensor(boxes, dtype=torch.float64)
    assert ((c >= b[:, :2]) & (c <= b[:, 2:])).all()
    assert torch.equal(c, random_centers(boxes, 200, seed=3))
    assert not torch.equal(c, random_centers(boxes, 200, seed=4))
    masked = mask_random(torch.ones(2, 3, 112, 112), boxes, 5, n_draws=3, seed=3)
    assert len(masked) == 3 and all(int((m[:, 0] == 0).sum()) == 2 * 25 for m in masked)


def test_keypoint_outside_the_image_is_a_clear_error():
    with pytest.raises(ValueError, match=r"^keypoints: 'nose' of image 1 at \(120, 5\) lies outside"):
        mask_part(torch.zeros(2, 3, 112, 112), [{"nose": (5, 5)}, {"nose": (120, 5)}], "nose", 9)
    with pytest.raises(KeyError, match="keypoints: image 0 has no 'nose'"):
        mask_part(torch.zeros(1, 3, 112, 112), [{"left_eye": (5, 5)}], "nose", 9)
    with pytest.raises(ValueError, match="^size: "):
        mask_squares(torch.zeros(1, 3, 8, 8), [(3, 3)], 0)
    with pytest.raises(ValueError, match="^fill: "):
        mask_squares(torch.zeros(1, 3, 8, 8), [(3, 3)], 3, fill=torch.zeros(2))


# --- features and Table 1 ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return course_model(input_size=112)  # the measure, not the model, is under test: a fixed small input


def test_features_are_relu5_and_relu7_and_unmasked_images_change_nothing(model):
    x = torch.randn(3, 3, 112, 112, generator=torch.Generator().manual_seed(0)) * 60
    feats = layer_features(model, x)
    assert LAYERS == {"Layer 5": "features.relu5", "Layer 7": "classifier.relu7"}
    assert {k: v.shape[1] for k, v in feats.items()} == {"Layer 5": 64 * 6 * 6, "Layer 7": 512}
    assert all((v >= 0).all() for v in feats.values())               # rectified
    eps = feature_changes(model, x, x.clone())
    assert all(e.abs().max() == 0 for e in eps.values())
    assert model.training                                            # eval only while reading


def test_table_has_the_paper_layout_and_sane_values(model):
    g = torch.Generator().manual_seed(0)
    kps = [{"right_eye": (40 + i, 50), "left_eye": (70 + i, 50), "nose": (56, 70 - i)} for i in range(3)]
    t = correspondence_table(model, torch.randn(3, 3, 112, 112, generator=g) * 60, kps, [(20, 20, 90, 90)] * 3,
                             size=11, n_random=2)
    assert t.rows == ("Right eye", "Left eye", "Nose", "Random") and t.layers == ("Layer 5", "Layer 7")
    assert set(t.mean) == set(PAPER_TABLE1)
    assert all(0 <= v <= 1 for v in t.mean.values()) and all(v >= 0 for v in t.spread.values())
    assert t.pairs[("Nose", "Layer 5")].numel() == 3 and t.pairs[("Random", "Layer 7")].numel() == 6
    assert t.mean[("Random", "Layer 5")] == pytest.approx(float(t.draws["Layer 5"].mean()))
    text = str(t)
    assert "Right eye" in text and "0.067 ± 0.007" in text and "Layer 7 paper" in text


def test_table_identical_images_and_masks_give_zero(model):
    x = torch.randn(1, 3, 112, 112, generator=torch.Generator().manual_seed(5)).expand(4, -1, -1, -1) * 60
    kps = [{"right_eye": (40, 50), "left_eye": (70, 50), "nose": (56, 70)}] * 4
    t = correspondence_table(model, x.contiguous(), kps, size=13)
    assert t.rows == ("Right eye", "Left eye", "Nose")
    assert all(math.isclose(v, 0.0) for v in t.mean.values())


def test_table_bad_input(model):
    kps = [{"right_eye": (40, 50), "left_eye": (70, 50), "nose": (56, 70)}]
    with pytest.raises(ValueError, match="^images: .*at least 2"):
        correspondence_table(model, torch.zeros(1, 3, 112, 112), kps)
    with pytest.raises(ValueError, match="^keypoints: expected one annotation per image"):
        correspondence_table(model, torch.zeros(2, 3, 112, 112), kps)


# --- additions: ground truth, chance level, figure -------------------------------------------------------------------
def test_hamming_matrix_is_symmetric_with_zero_diagonal():
    from zfcourse.correspondence import hamming_matrix
    eps = torch.randint(-1, 2, (5, 40), generator=torch.Generator().manual_seed(7)).float()
    hm = hamming_matrix(eps)
    assert torch.equal(hm, hm.T) and hm.diagonal().eq(0).all() and ((hm >= 0) & (hm <= 1)).all()


def test_delta_chance_reference_points():
    from zfcourse.correspondence import delta_chance
    signs = torch.randint(-1, 2, (6, 20000), generator=torch.Generator().manual_seed(0)).float()
    assert delta_chance(signs) == pytest.approx(2 / 3, abs=0.01)
    sparse = torch.zeros(4, 100)
    sparse[:, :10] = 1.0                                   # every image changes the same 10 of 100 units
    assert delta(sparse) == 0.0
    assert delta_chance(sparse) == pytest.approx(1 - (0.1 ** 2 + 0.9 ** 2))   # 0.18: rare changes, not chance 2/3
    with pytest.raises(ValueError, match="^eps: "):
        delta_chance(torch.zeros(1, 3))


@pytest.mark.parametrize("part", ["left_eye", "right_eye", "nose"])
def test_masks_land_on_the_drawn_parts_of_the_fig8_faces(part):
    # Ground truth from world v2: the pixels that change when the part is not drawn at all must all lie
    # under the mask centred on its annotated keypoint (13 px or more: eyes are ~10 px, noses ~12 px wide).
    import numpy as np

    from zfcourse.data import probe_set, render_probe, world_preprocess
    faces, without = probe_set("fig8_faces"), render_probe("fig8_faces", omit=(part,))
    drawn = torch.from_numpy((faces.images != without.images).any(-1))           # (5, 168, 168) the part's pixels
    assert drawn.flatten(1).sum(1).min() > 40
    x = faces.inputs(world_preprocess())
    for size in (13, 15):
        masked = mask_part(x, [a.keypoints for a in faces.annotations], part, size)
        hidden = (masked != x).any(1) | (masked == 0).all(1)                    # pixels set to the fill
        assert not (drawn & ~hidden).any(), f"{part}: drawn pixels left visible by the {size}px mask"
        assert int(hidden.flatten(1).sum(1).max()) <= size * size
    assert np.array_equal(faces.images[0][:20], without.images[0][:20])         # nothing else moved


def test_plot_masks_draws_one_row_per_image_and_one_column_per_mask():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zfcourse.correspondence import plot_masks
    kps = [{"right_eye": (8, 8), "left_eye": (20, 8), "nose": (14, 20)}] * 3
    fig = plot_masks(torch.zeros(3, 3, 32, 32), kps, 5, boxes=[(2, 2, 30, 30)] * 3)
    assert len(fig.axes) == 3 * 5
    assert [ax.get_title() for ax in fig.axes[:5]] == ["Original", "Right eye", "Left eye", "Nose", "Random"]
    plt.close(fig)


def test_table_on_torchvision_alexnet_layers():
    import torchvision

    from zfcourse.correspondence import ALEXNET_LAYERS
    net = torchvision.models.alexnet(weights=None)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    feats = layer_features(net, x, ALEXNET_LAYERS)
    assert {k: v.shape[1] for k, v in feats.items()} == {"Layer 5": 256 * 13 * 13, "Layer 7": 4096}
    kps = [{"right_eye": (80, 90), "left_eye": (140, 90), "nose": (110, 130)}] * 2
    t = correspondence_table(net, x, kps, [(40, 40, 180, 180)] * 2, size=31, layers=ALEXNET_LAYERS, n_random=2)
    assert t.layers == ("Layer 5", "Layer 7") and all(0 <= v <= 1 for v in t.mean.values())
    page = t.to_html(model="AlexNet")                        # the measured columns name the network, never "ZF"
    assert "<th>Layer 5 (AlexNet)</th><th>Layer 5 (paper)</th>" in page and "ZF" not in page
    assert "<th>Layer 7</th><th>Layer 7 (paper)</th>" in t.to_html()


def test_table_bad_random_settings(model):
    kps = [{"right_eye": (40, 50), "left_eye": (70, 50), "nose": (56, 70)}] * 2
    with pytest.raises(ValueError, match="^n_random: "):
        correspondence_table(model, torch.zeros(2, 3, 112, 112), kps, [(20, 20, 90, 90)] * 2, n_random=0)
    with pytest.raises(ValueError, match="^boxes: "):
        correspondence_table(model, torch.zeros(2, 3, 112, 112), kps, [(20, 20, 90, 90)] * 3)


def test_table_diagnostics_and_bar_plot(model):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zfcourse.correspondence import plot_table
    g = torch.Generator().manual_seed(3)
    kps = [{"right_eye": (40 + i, 50), "left_eye": (70 + i, 50), "nose": (56, 70 - i)} for i in range(3)]
    t = correspondence_table(model, torch.randn(3, 3, 112, 112, generator=g) * 60, kps, [(20, 20, 90, 90)] * 3,
                             size=11, n_random=2)
    assert set(t.chance) == set(t.mean) == set(t.changed)
    assert all(0 <= t.chance[k] <= 1 and 0 < t.changed[k] <= 1 for k in t.mean)
    text = t.diagnostics()
    assert "Δ÷chance" in text and "Random" in text and max(map(len, text.splitlines())) <= 100
    fig = plot_table(t)
    assert [ax.get_title() for ax in fig.axes] == ["Layer 5", "Layer 7"]
    plt.close(fig)


# --- the random row on the object's own pixels, away from the parts; subsets ------------------------------------------
def test_random_region_keeps_masks_on_the_object_and_off_the_parts():
    from zfcourse.correspondence import random_region
    obj = torch.zeros(2, 40, 40, dtype=torch.bool)
    obj[:, 5:35, 5:35] = True
    parts = [[(10, 10, 14, 14)], [(20, 20, 22, 30), (8, 8, 9, 9)]]
    size = 5
    region = random_region(obj, parts, size)
    assert not (region & ~obj).any()
    masked = mask_random(torch.ones(2, 3, 40, 40), None, size, n_draws=300, seed=1, region=region)
    for m in masked:
        for i, boxes in enumerate(parts):
            hidden = m[i, 0] == 0
            assert int(hidden.sum()) == size * size
            for x0, y0, x1, y1 in boxes:
                assert not hidden[y0:y1 + 1, x0:x1 + 1].any()
    centers = random_centers(None, 300, seed=1, region=region)
    assert torch.equal(centers, random_centers(None, 300, seed=1, region=region))
    for i in range(2):
        assert region[i, centers[:, i, 1].long(), centers[:, i, 0].long()].all()
    with pytest.raises(ValueError, match="^region: image 0 has no allowed centre"):
        random_centers(None, 1, region=torch.zeros(1, 4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="^objects: "):
        random_region(torch.zeros(2, 4, 4), parts, 3)


def test_random_region_on_the_fig8_faces_covers_only_face_pixels():
    import numpy as np

    from zfcourse.correspondence import random_region
    from zfcourse.data import probe_set, render_probe
    faces, empty = probe_set("fig8_faces"), render_probe("fig8_faces", omit=("*",))
    objects = torch.from_numpy((faces.images != empty.images).any(-1))
    avoid = [[a.parts[p] for p in ("left_eye", "right_eye", "nose")] for a in faces.annotations]
    region = random_region(objects, avoid, 15)
    share = region.flatten(1).sum(1) / objects.flatten(1).sum(1)
    assert (share > 0.2).all() and (share < 0.9).all()             # a real choice of places, parts excluded
    masked = mask_random(torch.ones(5, 3, 168, 168), None, 15, n_draws=20, seed=0, region=region)
    for m in masked:
        hidden = (m[:, 0] == 0).numpy()
        for i, a in enumerate(faces.annotations):
            for p in ("left_eye", "right_eye", "nose"):
                x0, y0, x1, y1 = a.parts[p]
                assert not hidden[i, y0:y1 + 1, x0:x1 + 1].any()
    assert np.array_equal(region.numpy(), random_region(objects, avoid, 15).numpy())


def test_table_random_row_uses_the_region_and_subset_deltas(model):
    from zfcourse.correspondence import subset_deltas
    g = torch.Generator().manual_seed(4)
    n = 6
    kps = [{"right_eye": (40 + i, 50), "left_eye": (70 + i, 50), "nose": (56, 70 - i)} for i in range(n)]
    region = torch.zeros(n, 112, 112, dtype=torch.bool)
    region[:, 80:90, 30:80] = True
    t = correspondence_table(model, torch.randn(n, 3, 112, 112, generator=g) * 60, kps, size=9, n_random=3,
                             region=region, progress=False)
    assert t.rows[-1] == "Random" and t.pairs[("Random", "Layer 5")].numel() == 3 * n * (n - 1) // 2
    sub = subset_deltas(t, k=5, n_subsets=200, seed=0)
    assert set(sub) == set(t.mean) and all(v.shape == (200,) for v in sub.values())
    for key, v in sub.items():      # 6 subsets of 5 exist; their mean over many draws ≈ the 6-image Δ
        assert float(v.mean()) == pytest.approx(t.mean[key], abs=0.1 * t.mean[key] + 1e-9)
    full = subset_deltas(t, k=n, n_subsets=2)
    assert all(torch.allclose(v, torch.full((2,), t.mean[k], dtype=torch.float64)) for k, v in full.items())
    with pytest.raises(ValueError, match="^k: "):
        subset_deltas(t, k=n + 1)


def test_plot_subsets_draws_every_layer_in_rows_of_two(model):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zfcourse.correspondence import plot_subsets, subset_deltas
    g = torch.Generator().manual_seed(6)
    kps = [{"right_eye": (40 + i, 50), "left_eye": (70 + i, 50), "nose": (56, 70 - i)} for i in range(6)]
    layers = {"Layer 3": "features.relu3", "Layer 5": "features.relu5", "Layer 7": "classifier.relu7"}
    t = correspondence_table(model, torch.randn(6, 3, 112, 112, generator=g) * 60, kps, [(20, 20, 90, 90)] * 6,
                             size=9, layers=layers, n_random=2, progress=False)
    fig = plot_subsets(t, subset_deltas(t, k=5, n_subsets=50), small=t)
    assert [ax.get_title() for ax in fig.axes[:3]] == list(layers) and len(fig.axes) == 4
    assert fig.get_size_inches()[0] * fig.dpi <= 800
    assert {t_.get_text() for t_ in fig.legends[0].get_texts()} >= {"all 6 images", "paper"}
    plt.close(fig)
