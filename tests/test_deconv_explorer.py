"""Chapter 2's helpers: the worked unpooling example (Fig. 1 bottom) and the projection explorer (§2.1)."""
import matplotlib
import pytest
import torch
from torch import nn

from zfcourse.deconv import (draw_projection, plot_unpooling, project, projectable_layers, projection_explorer,
                             unpooling_example, windows_of)
from zfcourse.models import course_model

matplotlib.use("Agg")
torch.set_num_threads(1)
POOL = nn.MaxPool2d(3, 2, ceil_mode=True)
X = torch.tensor([[1., 0, 2, 0], [0, 3, 0, 10], [2, 0, 9, 0], [0, 1, 0, 12]])


def test_unpooling_adds_where_windows_share_a_switch():
    ex = unpooling_example(X, POOL, signal=[[1., 2], [3, 4]])
    assert ex.switches.tolist() == [[10, 7], [10, 15]]
    assert ex.pooled.tolist() == [[9, 10], [9, 12]]
    assert ex.unpooled[2, 2] == 1 + 3 and ex.unpooled[1, 3] == 2 and ex.unpooled[3, 3] == 4
    assert ex.unpooled.sum() == ex.signal.sum()          # nothing lost: the adjoint keeps every contribution
    assert ex.overwritten.sum() < ex.signal.sum()        # max_unpool2d drops one of the shared writes
    # adjoint identity ⟨U(y), z⟩ = ⟨y, P_s(z)⟩ for any z
    z = torch.randn(4, 4, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close((ex.unpooled * z).sum(), (ex.signal * z.flatten()[ex.switches]).sum())


def test_windows_hold_their_switches_and_cover_the_map():
    g = torch.Generator().manual_seed(1)
    for pool, side in [(POOL, 4), (POOL, 7), (nn.MaxPool2d(2), 6), (nn.MaxPool2d(3, 2, padding=1), 7)]:
        ex = unpooling_example(torch.randn(side, side, generator=g), pool)
        covered = torch.zeros(side, side, dtype=torch.bool)
        for (x0, y0, x1, y1), s in zip(ex.windows, ex.switches.flatten().tolist()):
            y, x = divmod(s, side)
            assert y0 <= y < y1 and x0 <= x < x1
            assert ex.x[y, x] == ex.x[y0:y1, x0:x1].max()
            covered[y0:y1, x0:x1] = True
        assert covered.all()
    assert len(windows_of(POOL, (2, 2), (4, 4))) == 4


def test_unpooling_example_bad_input():
    with pytest.raises(ValueError, match="x: expected a 2-D map"):
        unpooling_example(torch.zeros(1, 4, 4), POOL)
    with pytest.raises(ValueError, match=r"signal: expected the pooled shape \(2, 2\)"):
        unpooling_example(X, POOL, signal=torch.ones(3, 3))
    assert len(plot_unpooling(unpooling_example(X, POOL)).axes) == 5


def test_explorer_draws_the_projection_of_the_strongest_unit(monkeypatch):
    monkeypatch.setattr("matplotlib.pyplot.show", lambda: None)
    torch.manual_seed(0)
    model = course_model(num_classes=12, input_size=112).eval()
    images = torch.randn(3, 3, 112, 112, generator=torch.Generator().manual_seed(2)) * 60
    fig, p, a = draw_projection(model, images, "features.relu3", 5, index=2, rectify="guided")
    torch.testing.assert_close(p, project(model, images[2:3], "relu3", 5, rectify="guided"))
    assert len(fig.axes) == 4 and a >= 0  # image, map, projection, the map's colour bar
    w = projection_explorer(model, images, "conv2", channel=1)
    assert w.children[0].children[0].value == "features.conv2"
    assert "features.pool5" in projectable_layers(model) and "features.norm1" not in projectable_layers(model)
    with pytest.raises(ValueError, match="index: expected 0..2"):
        draw_projection(model, images, "features.relu3", 0, index=3)
    with pytest.raises(KeyError, match="layer: expected one of"):
        projection_explorer(model, images, "norm1")


def test_maps_use_a_diverging_scale_when_signed_and_say_when_all_zero():
    import matplotlib.pyplot as plt

    from zfcourse.plots import map_style, note_if_all_zero

    assert map_style(torch.tensor([[-3.0, 1.0]])) == {"cmap": "RdBu_r", "vmin": -3.0, "vmax": 3.0}
    assert map_style(torch.tensor([[0.0, 2.0]])) == {"cmap": "viridis", "vmin": 0.0, "vmax": 2.0}
    fig, ax = plt.subplots()
    assert not note_if_all_zero(ax, torch.ones(3, 3)) and not ax.texts
    assert note_if_all_zero(ax, torch.zeros(3, 3)) and "all zero" in ax.texts[0].get_text()
    plt.close(fig)


def test_plot_projections_shows_each_projection_with_the_given_display():
    import numpy as np

    from zfcourse.plots import plot_projections

    x, seen = torch.randn(2, 3, 8, 8), []
    fig = plot_projections(x, {"deconv": x}, show=lambda p: seen.append(p) or np.zeros((8, 8, 3)))
    assert len(seen) == 2 and torch.equal(seen[1], x[1]) and len(fig.axes) == 4


def test_explorer_shows_one_plain_line_where_widgets_cannot_run():
    import ipywidgets

    from zfcourse.widgets import explorer

    drawn = []
    w = explorer(lambda n: drawn.append(n), {"n": ipywidgets.IntSlider(value=1, max=3)})
    assert isinstance(w, ipywidgets.VBox) and drawn == [1]
    assert repr(w) == "(Interactive controls: run this notebook in Jupyter or Colab to move them.)"
    w.children[0].value = 2
    assert drawn == [1, 2]
