"""Fig. 7 drawing and the occluder explorer (§4.2) run and draw what they should."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from test_occlusion import lively_model  # noqa: E402

from zfcourse.occlusion import occluded_probs, occlusion_explorer, occlusion_maps, plot_figure_7  # noqa: E402
from zfcourse.occlusion.figure import centre_extent  # noqa: E402
from zfcourse.plots import to_image  # noqa: E402

NAMES = [f"class {i}" for i in range(10)]


def test_figure_7_has_five_panels_per_row():
    model, image = lively_model(), 60 * torch.randn(3, 112, 112, generator=torch.Generator().manual_seed(2))
    maps = occlusion_maps(model, image, 3, size=32, stride=16)
    pictured = []
    fig = plot_figure_7([dict(image=image, maps=maps, box=(10, 10, 50, 60)),
                         dict(image=image, maps=maps, projection=torch.rand(20, 40, 3).numpy())], NAMES,
                        to_display=lambda t: pictured.append(t) or to_image(t))
    assert len(fig.axes) == 10 + 4  # five panels per row plus the colour bars of (b) and (d)
    assert len(pictured) == 2 and all(p is image for p in pictured)  # to_display= draws each row's image once
    assert fig.get_size_inches()[0] * 100 <= 780  # the book's ~780-px text column at 100 dpi
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text() and t.get_visible()]
    assert sizes and min(sizes) >= 10  # titles, labels, colour-bar ticks and the legend at body size
    plt.close(fig)


def test_centre_extent_puts_values_at_occluder_centres():
    maps = occlusion_maps(lively_model(), torch.zeros(3, 112, 112), 0, size=32, stride=16, layer=None)
    left, right, bottom, top = centre_extent(maps)
    assert (left + 0.5 + 8, top + 0.5 + 8) == (16, 16)  # first cell centred on pixel 16 = 0 + size / 2
    assert right - left == 6 * 16


def test_explorer_draws_its_default_view_and_matches_occlusion_maps(monkeypatch):
    model, image = lively_model(), 60 * torch.randn(3, 112, 112, generator=torch.Generator().manual_seed(3))
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    pictured = []
    widget = occlusion_explorer(model, image, 3, NAMES, size=32, y=16, x=48,
                                to_display=lambda t: pictured.append(t) or to_image(t))
    assert len(shown) == 1 and len(widget.children) == 2 and len(pictured) == 1
    maps = occlusion_maps(model, image, 3, size=32, stride=16)
    torch.testing.assert_close(occluded_probs(model, image, 16, 48, 32)[3], maps.prob[1, 3], atol=1e-6, rtol=1e-4)
    plt.close("all")
