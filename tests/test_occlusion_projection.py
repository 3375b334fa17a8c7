"""Fig. 7(c) (§4.2): the panel shows this image's deconvnet projection beside the map's top projections from a
dataset."""
import numpy as np
import pytest
import torch
from test_occlusion import lively_model

from zfcourse.deconv import project
from zfcourse.features import top_k
from zfcourse.plots import show_projection
from zfcourse.occlusion import dataset_projections, occlusion_maps, projection_panel

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def setting():
    model = lively_model()
    data = 60 * torch.randn(8, 3, 112, 112, generator=torch.Generator().manual_seed(4))
    return model, data, top_k(model, data, "relu5", k=4, progress=False)


def test_dataset_projections_are_the_top_images_projections(setting):
    model, data, top = setting
    k = occlusion_maps(model, data[0], 0, size=32, stride=40, layer="relu5").feature_map
    got = dataset_projections(model, data, top, k)
    assert got.shape == (4, 3, 112, 112)
    for n in range(4):
        i, (y, x) = int(top.image[k, n]), top.position[k, n].tolist()
        expected = project(model, data[i:i + 1], "relu5", k, position=(y, x))[0]
        torch.testing.assert_close(got[n], expected, rtol=1e-4, atol=1e-4)


def test_panel_holds_the_framed_own_projection_and_a_mosaic(setting):
    model, data, top = setting
    image = data[5]
    panel = projection_panel(model, image, top, data, feature_map=2, k=4)
    assert panel.shape[0] == 112 and panel.shape[1] > 112 and panel.min() >= 0 and panel.max() <= 1
    own = show_projection(project(model, image[None], "relu5", 2))[0]
    np.testing.assert_allclose(panel[3:-3, 3:109], own[3:-3, 3:109], atol=1e-6)
    assert (panel[:3, :112] == 0).all()  # the black square around this image's projection


@pytest.mark.parametrize("kwargs, name", [(dict(image=torch.zeros(1, 3, 112, 112)), "image"), (dict(k=0), "k"),
                                          (dict(feature_map=64), "feature_map")])
def test_panel_bad_input_names_the_argument(setting, kwargs, name):
    model, data, top = setting
    args = dict(image=data[0], feature_map=1) | kwargs
    with pytest.raises(ValueError, match=f"^{name}:"):
        projection_panel(model, args["image"], top, data, args["feature_map"], k=args.get("k", 4))


def test_figure_7_rows_course_model(setting):
    from zfcourse.occlusion import figure_7_rows
    model, data, top = setting
    rows, again = figure_7_rows(model, data[:2], [0, 3], data, size=32, stride=40, k=4, top=top,
                                boxes=[(0, 0, 10, 10), None], progress=False)
    assert again is top and len(rows) == 2 and rows[0]["box"] == (0, 0, 10, 10) and rows[1]["box"] is None
    assert rows[1]["maps"].target == 3 and rows[0]["maps"].layer == "features.relu5"
    assert rows[0]["projection"].shape[0] == 112
    with pytest.raises(ValueError, match="^targets:"):
        figure_7_rows(model, data[:2], [0], data, size=32, stride=40, top=top, progress=False)


def test_figure_7_rows_on_torchvision_alexnet():
    """The imagenet path: torchvision's AlexNet (layers by index, in-place ReLUs), relu5 = features.11."""
    import torchvision
    from zfcourse.occlusion import figure_7_rows
    torch.manual_seed(0)
    model = torchvision.models.alexnet(weights=None).eval()
    data = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(5))
    rows, top = figure_7_rows(model, data[:1], [7], data, size=112, stride=112, layer="features.11", k=2,
                              progress=False)
    maps = rows[0]["maps"]
    assert top.layer == maps.layer == "features.11" and maps.prob.shape == (2, 2)
    assert maps.activation.shape == (2, 2) and rows[0]["projection"].shape[0] == 224
