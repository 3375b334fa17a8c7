"""Top-k mining (§4, Fig. 2) against a brute-force sort, and the views built on it."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from zfcourse.deconv import project
from zfcourse.features import top_k, top_k_views
from zfcourse.models import crop, layer_geometry
from zfcourse.models import zfnet

torch.set_num_threads(1)
torch.manual_seed(0)
MODEL = zfnet(width=0.25).eval()
DATA = torch.randn(11, 3, 112, 112, generator=torch.Generator().manual_seed(1)) * 60


def brute_force(layer_index, k):
    a = MODEL.features[:layer_index + 1](DATA.clone())      # (N, C, h, w), all at once
    best, where = a.flatten(2).max(2)                        # strongest unit per image and map
    values, image = best.T.sort(dim=1, descending=True, stable=True)
    image = image[:, :k]
    pos = where.T.gather(1, image)
    return values[:, :k], image, torch.stack([pos // a.shape[-1], pos % a.shape[-1]], 2)


@pytest.mark.parametrize("layer, index", [("conv2", 4), ("pool5", 14)])
@pytest.mark.parametrize("feed", ["tensor", "dataset", "loader"])
def test_top_k_equals_brute_force_sort(layer, index, feed):
    data = {"tensor": DATA, "dataset": TensorDataset(DATA, torch.zeros(11)),
            "loader": DataLoader(TensorDataset(DATA, torch.zeros(11)), batch_size=4)}[feed]
    top = top_k(MODEL, data, layer, k=4, batch_size=3, progress=False)
    values, image, pos = brute_force(index, 4)
    torch.testing.assert_close(top.values, values)
    assert torch.equal(top.image, image)
    assert torch.equal(top.position, pos)


def test_k_larger_than_dataset_keeps_all_images():
    top = top_k(MODEL, DATA[:3], "conv1", k=9, progress=False)
    assert top.values.shape == (24, 3)
    assert (top.values[:, :-1] >= top.values[:, 1:]).all()


def test_bad_input():
    with pytest.raises(ValueError, match="k: expected a positive integer"):
        top_k(MODEL, DATA, "conv1", k=0)
    with pytest.raises(ValueError, match="data: the DataLoader shuffles"):
        top_k(MODEL, DataLoader(TensorDataset(DATA), shuffle=True), "conv1", progress=False)
    with pytest.raises(KeyError, match="layer: no layer named 'conv7'"):
        top_k(MODEL, DATA, "conv7")


def test_views_are_projections_and_patches_of_the_top_units():
    top = top_k(MODEL, DATA, "relu3", k=3, progress=False)
    views = top_k_views(MODEL, DATA, top, channels=[2, 7], chunk=2, progress=False)
    row = layer_geometry(MODEL, "features.relu3")
    assert views.projections.shape == views.patches.shape == (2, 3, 3, row.receptive_field, row.receptive_field)
    for i, c in enumerate([2, 7]):
        for j in range(3):
            n, pos = top.image[c, j], top.position[c, j]
            full = project(MODEL, DATA[n:n + 1], "relu3", c, tuple(pos.tolist()))
            torch.testing.assert_close(views.projections[i, j], crop(full, row, pos[None])[0])
            torch.testing.assert_close(views.patches[i, j], crop(DATA[n:n + 1], row, pos[None])[0])


def test_figure_2_grid_draws():
    import matplotlib
    matplotlib.use("Agg")
    from zfcourse.features import plot_figure_2
    views = [top_k_views(MODEL, DATA, top_k(MODEL, DATA, layer, k=4, progress=False), [0, 1, 2], progress=False)
             for layer in ("relu1", "relu2")]
    fig = plot_figure_2(views, maps_per_row=3)
    assert len(fig.axes) == 4 and fig.axes[0].get_title() == "features.relu1: projections"


def test_figure_2_grid_carries_map_numbers_and_full_contrast_projections():
    import matplotlib
    matplotlib.use("Agg")
    from zfcourse.features import plot_top_k
    views = top_k_views(MODEL, DATA, top_k(MODEL, DATA, "relu2", k=4, progress=False), [3, 7], progress=False)
    fig = plot_top_k(views, maps_per_row=2, contrast="full")
    assert [t.get_text() for t in fig.axes[0].texts] == ["#3", "#7"] == [t.get_text() for t in fig.axes[1].texts]
    grid = fig.axes[0].images[0].get_array()
    r = views.projections.shape[-1]
    band = max(6, (2 * r + 1) // 4)
    first = grid[band:band + r, :r]                    # map #3's first projection: stretched to black … white
    assert abs(float(first.min())) < 1e-6 and abs(float(first.max()) - 1) < 1e-6
    with pytest.raises(ValueError, match="contrast: expected one of"):
        plot_top_k(views, contrast="auto")


def test_clipped_stretch_keeps_zero_grey_and_saturates_only_the_strongest_pixels():
    from zfcourse.features import stretch_projection
    p = torch.randn(4, 3, 20, 20, generator=torch.Generator().manual_seed(5)) ** 3      # heavy-tailed, like relu5's
    v = stretch_projection(p, "clipped", saturate=0.01)
    assert v.shape == (4, 20, 20, 3) and v.min() >= 0 and v.max() <= 1
    saturated = ((v == 0) | (v == 1)).reshape(4, -1).mean(1)
    assert (saturated <= 0.011).all() and (saturated > 0).all()
    assert stretch_projection(torch.zeros(1, 3, 2, 2)).tolist() == [[[[0.5] * 3] * 2] * 2]
    mid = torch.tensor(v.reshape(4, -1)).sub(0.5).abs().mean()
    assert mid > torch.tensor(stretch_projection(p, "signed").reshape(4, -1)).sub(0.5).abs().mean()


def test_figure_2_takes_a_data_source_to_display_for_its_patches():
    # Preprocess.to_display takes (3, H, W) or (N, 3, H, W); plot_top_k must hand it a batch, not (C, k, 3, r, r).
    import matplotlib
    matplotlib.use("Agg")
    from zfcourse.data import Preprocess
    from zfcourse.features import plot_top_k
    pre = Preprocess.torchvision()
    views = top_k_views(MODEL, DATA, top_k(MODEL, DATA, "relu2", k=4, progress=False), [3, 7], progress=False)
    fig = plot_top_k(views, maps_per_row=2, to_display=pre.to_display)
    grid = fig.axes[1].images[0].get_array()
    r = views.patches.shape[-1]
    band = max(6, (2 * r + 1) // 4)
    first = grid[band:band + r, :r]                    # map #3's first patch, in the source's exact colours
    expected = pre.to_display(views.patches[0])        # (k, r, r, 3); the 2×2 block's top-left tile is entry 0
    np.testing.assert_allclose(np.asarray(first), expected[0], atol=1e-6)
