"""Feature invariance (§4, Fig. 5): transformations, distances, p(true class), population, symmetry, figure, widget."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from zfcourse.invariance import (KINDS, default_layers, extract, invariance_explorer, measure_invariance,  # noqa: E402
                                 paper_grid, plot_figure_5, plot_population, population_invariance,
                                 rotation_angles, symmetry_check, transform)
from zfcourse.models import course_model, krizhevsky  # noqa: E402


def star(n: int, size: int = 200, r0: float = 38, amp: float = 0.35, lopsided: bool = False) -> np.ndarray:
    """An n-armed star with soft edges (uint8, size × size × 3), centred on the canvas centre: symmetric under turns
    of 360°/n. ``lopsided`` draws instead an irregular blob (harmonics 1–3 of the angle only) with an off-centre
    disc beside it: no rotational symmetry at all."""
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    r, phi = np.hypot(x, y), np.arctan2(y, x)
    if lopsided:
        rs = r0 * (1 + 0.3 * np.cos(phi) + 0.25 * np.sin(2 * phi + 1) + 0.2 * np.cos(3 * phi + 2))
    else:
        rs = r0 * (1 + amp * np.cos(n * phi))
    v = 1 / (1 + np.exp(-(rs - r) / 1.5))
    if lopsided:
        v = np.maximum(v, 1 / (1 + np.exp(-(10 - np.hypot(x + 30, y - 35)) / 1.5)))
    return np.stack([60 + 150 * v, 80 + 100 * v, 200 - 120 * v], -1).round().astype(np.uint8)


def to_input(u: torch.Tensor) -> torch.Tensor:
    return u.float() - 128.0


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    # Random init, pinned to a 112-px, 10-class course model: the measurement is under test, not the shipped size.
    return course_model(num_classes=10, input_size=112)


def test_identity_gives_distance_zero(model):
    canvas = star(5)
    for kind, identity in (("translation", 0.0), ("scale", 1.0), ("rotation", 0.0)):
        c = measure_invariance(model, canvas, kind, [identity], target=3, preprocess=to_input,
                               layers=["input", "relu1", "relu5", "relu7"])
        for layer in c.layers:
            assert c.distance[layer][0] == 0, (kind, layer)
            assert c.norm[layer] > 0
        assert torch.allclose(c.probs[0].sum(), torch.tensor(1.0))


def test_identity_window_is_the_centre_crop():
    canvas = torch.randint(0, 256, (150, 137, 3), dtype=torch.uint8)
    out = transform(canvas, "scale", 1.0, 112)[0]
    oy, ox = (150 - 112) // 2, (137 - 112) // 2
    assert torch.equal(out, canvas[oy:oy + 112, ox:ox + 112].permute(2, 0, 1))


def test_translation_moves_content_down_by_whole_pixels():
    canvas = torch.randint(0, 256, (3, 160, 160), dtype=torch.uint8)
    out = transform(canvas, "translation", [7, -5], 112)
    o = (160 - 112) // 2
    assert torch.equal(out[0], canvas[:, o - 7:o - 7 + 112, o:o + 112])
    assert torch.equal(out[1], canvas[:, o + 5:o + 5 + 112, o:o + 112])


def test_quarter_turn_is_counter_clockwise_rot90():
    canvas = torch.randint(0, 256, (3, 170, 170), dtype=torch.uint8)
    o = (170 - 112) // 2
    window = canvas[:, o:o + 112, o:o + 112]
    assert torch.equal(transform(canvas, "rotation", 90, 112)[0], torch.rot90(window, 1, dims=(1, 2)))


def test_sampling_formula_on_a_coordinate_canvas():
    # Channel 0 holds each pixel's x, channel 1 its y: bilinear sampling of a linear function is exact, so the output
    # shows where each window pixel p was sampled, q = c + R(−θ)(p − t)/s.
    h = w = 160
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    canvas = torch.stack([xx, yy, torch.zeros_like(xx)])
    c = (h - 112) // 2 + 55.5
    p = torch.arange(112, dtype=torch.float32) - 55.5
    big = transform(canvas, "scale", 2.0, 112)[0]
    assert torch.allclose(big[0, 0], c + p / 2, atol=1e-3) and torch.allclose(big[1, :, 0], c + p / 2, atol=1e-3)
    turned = transform(canvas, "rotation", 30.0, 112)[0]
    th = torch.deg2rad(torch.tensor(30.0))
    px, py = p[None, :].expand(112, 112), p[:, None].expand(112, 112)
    assert torch.allclose(turned[0], c + torch.cos(th) * px - torch.sin(th) * py, atol=1e-3)
    assert torch.allclose(turned[1], c + torch.sin(th) * px + torch.cos(th) * py, atol=1e-3)
    half = transform(canvas, "translation", 10.0, 112, view=56)[0]  # 10 input pixels = 5 canvas pixels at view 56
    assert torch.allclose(half[1, :, 0], (h - 56) // 2 + 27.5 + (p / 2) - 5, atol=1e-3)


def test_translation_in_paper_units_scales_with_input_size():
    assert paper_grid("translation", 224).abs().max() == 60
    assert paper_grid("translation", 112).abs().max() == 30
    assert torch.allclose(paper_grid("translation", 112), paper_grid("translation", 224) / 2)
    s = paper_grid("scale")
    assert s[0] == pytest.approx(0.6) and s[-1] == pytest.approx(1.4) and (s == 1).any()
    r = paper_grid("rotation")
    assert r[0] == 0 and r[-1] == 360 and len(r) == 37
    assert (rotation_angles(7) - 360 / 7).abs().min() < 1e-4 and (rotation_angles(7) == 50).any()


def test_n_fold_symmetric_object_returns_to_itself_after_360_over_n(model):
    sym, asym = star(5), star(5, lopsided=True)
    layers = ["input", "relu1", "relu7"]
    a = measure_invariance(model, sym, "rotation", [72.0, 144.0, 36.0], 0, to_input, layers)
    b = measure_invariance(model, asym, "rotation", [72.0, 144.0, 36.0], 0, to_input, layers)
    for layer in a.layers:
        assert a.relative[layer][:2].max() < 0.03, layer          # a turn by k·360°/5: (almost) the same picture
        assert a.relative[layer][2] > 5 * a.relative[layer][0], layer  # half-way between: a different picture
        assert b.relative[layer][:2].min() > 0.1, layer           # no symmetry: 72° is a real change
    # The symmetry check over the full turn, on the grid that includes the multiples of 72°.
    angles = rotation_angles(5)
    sym_curve = measure_invariance(model, sym, "rotation", angles, 0, to_input, ["input"])
    asym_curve = measure_invariance(model, asym, "rotation", angles, 0, to_input, ["input"])
    ok = symmetry_check(angles, sym_curve.relative["input"], 5)
    assert ok.holds and all(ok.hits) and ok.ratio < 0.1, ok
    assert ok.expected == pytest.approx([72, 144, 216, 288])
    bad = symmetry_check(angles, asym_curve.relative["input"], 5)
    assert not bad.holds and bad.ratio > 0.5, bad
    # Order 1 expects nothing and so never "holds".
    assert not symmetry_check(angles, sym_curve.relative["input"], 1).holds


def test_symmetry_check_on_a_synthetic_curve():
    angles = torch.arange(0, 361, 10.0)
    curve = 1 - torch.cos(torch.deg2rad(angles) * 4)  # zeros at multiples of 90°
    c = symmetry_check(angles, curve, 4)
    assert c.minima == [90.0, 180.0, 270.0] and c.holds and c.at_symmetry == pytest.approx(0, abs=1e-9)
    assert not symmetry_check(angles, curve, 3).holds


def test_relative_distance_and_top_layer_is_steadier(model):
    c = measure_invariance(model, star(4), "translation", paper_grid("translation", 112), 1, to_input)
    assert [n.split(".")[-1] for n in c.layers] == ["relu1", "relu5", "relu7"]
    for layer in c.layers:
        assert torch.allclose(c.relative[layer], c.distance[layer] / c.norm[layer])
    assert c.images.dtype == torch.uint8 and c.images.shape == (31, 3, 112, 112)
    assert c.p_true.shape == (31,) and torch.allclose(c.p_true, c.probs[:, 1])


def test_extract_matches_a_plain_forward_pass(model):
    x = torch.randn(3, 3, 112, 112) * 50
    feats, probs = extract(model, x, ["relu1", "relu7"], batch_size=2)
    with torch.no_grad():
        model.eval()
        ref1 = model.features.relu1(model.features.conv1(x)).flatten(1)
        logits = model(x)
    assert torch.allclose(feats["features.relu1"], ref1, atol=1e-4)
    assert torch.allclose(probs, logits.softmax(-1), atol=1e-6)
    assert feats["classifier.relu7"].shape == (3, 512)


def test_default_layers_for_torchvision_alexnet_and_krizhevsky():
    from torchvision.models import alexnet

    from zfcourse.data import Preprocess
    torch.manual_seed(0)
    net = alexnet(weights=None)
    assert default_layers(net) == ["features.1", "features.11", "classifier.5"]
    c = measure_invariance(net, star(5, size=330), "rotation", [0.0, 72.0, 36.0], 3, Preprocess.torchvision())
    assert c.layers == ["features.1", "features.11", "classifier.5"] and c.probs.shape == (3, 1000)
    assert c.distance["features.1"][0] == 0 and c.relative["features.1"][1] < 0.05 < c.relative["features.1"][2]
    k = krizhevsky(num_classes=10, width=0.25, fc_units=64, input_size=112)
    assert default_layers(k) == ["features.relu1", "features.relu5", "classifier.relu7"]
    c = measure_invariance(k, star(3, size=160).astype(np.float32) - 128, "scale", [0.8, 1.2], 2)
    assert all((c.distance[n] > 0).all() for n in c.layers)


def test_population_mean_and_sd(model):
    canvases = [star(3), star(4), star(6)]
    pop = population_invariance(model, canvases, "scale", [0, 1, 2], [0.8, 1.0, 1.2], to_input, ["relu1", "relu7"],
                                label="stars", progress=False)
    assert len(pop) == 3 and pop.relative["features.relu1"].shape == (3, 3)
    single = measure_invariance(model, canvases[1], "scale", [0.8, 1.0, 1.2], 1, to_input, ["relu1", "relu7"])
    assert torch.allclose(pop.relative["features.relu1"][1], single.relative["features.relu1"])
    assert torch.allclose(pop.mean("relu1"), pop.relative["features.relu1"].mean(0))
    assert torch.allclose(pop.sd("relu7"), pop.relative["classifier.relu7"].std(0))
    assert pop.mean("relu1")[1] == 0 and pop.mean(None).shape == (3,)


def test_figure_and_explorer_render(model, monkeypatch):
    curves = {k: [measure_invariance(model, star(5), k, target=0, preprocess=to_input, label="star"),
                  measure_invariance(model, star(5, lopsided=True), k, target=0, preprocess=to_input, label="lopsided")]
              for k in KINDS}
    fig = plot_figure_5(curves)
    assert len(fig.axes) == 12
    assert "relu1" in fig.axes[1].get_title() and "relu7" in fig.axes[2].get_title()
    assert "relative" in fig.axes[1].get_ylabel()
    plt.close(fig)
    fig = plot_figure_5(curves, layers=["relu1", "relu5", "relu7"], relative=False, examples=0)
    assert len(fig.axes) == 12 and fig.axes[0].get_ylabel() == "distance" and "relu5" in fig.axes[1].get_title()
    plt.close(fig)
    pop = {k: [population_invariance(model, [star(5), star(6)], k, [0, 0], preprocess=to_input, progress=False,
                                     label="stars")] for k in ("rotation",)}
    fig = plot_population(pop)
    assert len(fig.axes) == 3
    plt.close(fig)
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    w = invariance_explorer(model, {"star": star(5), "lopsided": star(5, lopsided=True)}, [0, 1],
                            [f"class {i}" for i in range(10)], to_input, kind="scale")
    assert len(shown) == 1 and len(shown[0].axes) == 3  # the default view, drawn as an ordinary figure
    assert "scale 1.13" in shown[0].axes[0].get_title() and "p(class 0)" in shown[0].axes[2].get_title()
    picker, kind, amount = w.children[0].children
    kind.value = "rotation"  # the slider moves to the rotation grid and the view is redrawn once
    assert (amount.min, amount.max, amount.step) == (0, 360, 10) and len(shown) == 2
    assert "rotation 120" in shown[1].axes[0].get_title()
    plt.close("all")


def test_bad_input_names_the_argument(model):
    canvas = star(4)
    with pytest.raises(ValueError, match="kind"):
        measure_invariance(model, canvas, "shear", [1], preprocess=to_input)
    with pytest.raises(ValueError, match="preprocess"):
        measure_invariance(model, canvas, "scale", [1.1])
    with pytest.raises(ValueError, match="target"):
        measure_invariance(model, canvas, "scale", [1.1], target=10, preprocess=to_input)
    with pytest.raises(KeyError, match="layer.*valid names"):
        measure_invariance(model, canvas, "scale", [1.1], preprocess=to_input, layers=["relu9"])
    with pytest.raises(ValueError, match="canvas: a 120×120 canvas is too small"):
        measure_invariance(model, canvas[:120, :120], "scale", [0.6], preprocess=to_input)
    padded = transform(canvas[:120, :120], "scale", [0.6], 112, pad="border")
    assert padded.shape == (1, 3, 112, 112)
    with pytest.raises(ValueError, match="canvas: expected one RGB image"):
        transform(np.zeros((50, 50), np.uint8), "scale", 1, 32)
    with pytest.raises(TypeError, match="canvas"):
        transform(torch.zeros(3, 50, 50, dtype=torch.int32), "scale", 1, 32)
    with pytest.raises(ValueError, match="amounts"):
        transform(canvas, "scale", [0.0], 32)
    with pytest.raises(ValueError, match="view"):
        transform(canvas, "scale", 1, 32, view=500)
    with pytest.raises(ValueError, match="targets"):
        population_invariance(model, [canvas, canvas], "scale", [0], preprocess=to_input, progress=False)
    with pytest.raises(ValueError, match="order"):
        symmetry_check([0, 90, 180, 270], [0, 1, 1, 1], 0)
    with pytest.raises(ValueError, match="images"):
        extract(model, torch.zeros(3, 112, 112))


def test_probe_canvas_plain_background_keeps_the_object():
    from zfcourse.invariance import PLAIN, population_canvases, probe_canvas
    world, ann = probe_canvas("star", diameter=0.4, index=3)
    plain, ann2 = probe_canvas("star", diameter=0.4, index=3, background="plain")
    assert world.shape == plain.shape == (288, 288, 3) and ann.symmetry == ann2.symmetry == 4
    x0, y0, x1, y1 = ann.box
    assert abs((x0 + x1) / 2 - 143.5) <= 1.5 and abs((y0 + y1) / 2 - 143.5) <= 1.5  # centred on the window
    assert 0.8 * 0.4 * 192 < x1 - x0 <= 0.4 * 192 + 1  # the world's nominal diameter: a fraction of the 192-px side
    object_px = (plain != PLAIN).any(-1)
    assert 0.035 < object_px.mean() < 0.05  # the disc of the 68-px box: π·34² px of 288²
    assert np.array_equal(plain[object_px], world[object_px])  # object pixels unchanged
    assert (plain[~object_px] == PLAIN).all() and (world[~object_px] != PLAIN).any()
    wheel = probe_canvas("wheel", background="plain")[1]
    assert wheel.symmetry > 1  # the spoke count drawn
    canvases, labels, anns = population_canvases(["car", "star"], 4, size=260)
    assert [a.class_name for a in anns] == ["car", "star", "car", "star"] and labels == [a.label for a in anns]
    again = population_canvases(["car", "star"], 2, size=260)[0]
    assert all(np.array_equal(a, b) for a, b in zip(canvases, again)) and canvases[0].shape == (260, 260, 3)
    with pytest.raises(ValueError, match="background"):
        probe_canvas("star", background="white")
    with pytest.raises(ValueError, match="diameter"):
        probe_canvas("star", diameter=0)
    with pytest.raises(ValueError, match="context"):
        probe_canvas("car", background="plain", context="road")
    with pytest.raises(ValueError, match="count"):
        population_canvases(["car"], 0)


def test_rendered_symmetric_object_dips_at_its_symmetry_angle():
    from zfcourse.invariance import probe_canvas
    star4, _ = probe_canvas("star", background="plain")
    house, _ = probe_canvas("house", background="plain")
    a = transform(star4, "rotation", [0, 45, 90], 168).float()
    b = transform(house, "rotation", [0, 45, 90], 168).float()
    d_star = [(a[i] - a[0]).norm() / a[0].norm() for i in (1, 2)]
    d_house = [(b[i] - b[0]).norm() / b[0].norm() for i in (1, 2)]
    assert d_star[1] < 0.75 * d_star[0]  # a quarter turn brings the star closer to itself than an eighth
    assert d_house[1] > 0.9 * d_house[0]  # the house has no such dip
