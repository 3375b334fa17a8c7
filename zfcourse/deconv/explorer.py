"""Explore deconvnet projections (§2.1): pick a layer, a feature map, an image and a rectify rule; see the projection.

As every explorer of the course (:func:`zfcourse.widgets.explorer`), it first draws its default view as an ordinary
figure so the static book shows it, then returns the ipywidgets controls.
"""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle
from torch import nn

from ..models import layer_geometry, receptive_box, resolve
from ..plots import FULL_WIDTH_INCHES, map_style, note_if_all_zero, show_projection, to_image
from ..widgets import explorer
from .deconvnet import RECTIFY, project, record


def projectable_layers(model: nn.Module) -> list[str]:
    """The conv, ReLU and max-pool layers of ``model.features`` (full names), the ones worth projecting from."""
    return [f"features.{n}" for n, m in model.features.named_children()
            if isinstance(m, (nn.Conv2d, nn.ReLU, nn.MaxPool2d))]


def draw_projection(model: nn.Module, images: torch.Tensor, layer: str, channel: int, index: int = 0,
                    rectify: str = "deconv", to_display=to_image, names=None, show=show_projection):
    r"""Draw image ``index`` of ``images`` with the receptive field of its strongest unit in map ``channel`` of
    ``layer``, that map with the unit marked, and the unit's projection R(a·e) (:func:`~zfcourse.deconv.project`).

    Projections are shown by ``show``: default grey = 0, scaled by their largest |value|
    (:func:`zfcourse.plots.show_projection`).
    ``names`` (optional) labels each image. Returns (figure, projection (1, 3, H, W), activation value a).
    """
    if not 0 <= index < len(images):
        raise ValueError(f"index: expected 0..{len(images) - 1}, got {index}")
    x = images[index:index + 1].to(next(model.parameters()).device)
    trace = record(model, x, layer)
    fmap = trace.activation[0, channel] if 0 <= channel < trace.activation.shape[1] else None
    p = project(model, x, layer, channel, rectify=rectify)  # raises for a bad channel, naming it
    h, w = fmap.shape
    y, xx = divmod(int(fmap.flatten().argmax()), w)
    a = float(fmap[y, xx])
    x0, y0, x1, y1 = receptive_box(layer_geometry(model, trace.layer), y, xx, x.shape[-1])
    fig, axes = plt.subplots(1, 3, figsize=(FULL_WIDTH_INCHES, 3.4))  # a full-width cell, shown 1:1
    axes[0].imshow(to_display(x[0].cpu()))
    axes[0].set_title(names[index] if names else f"image {index}", fontsize=10)
    im = axes[1].imshow(fmap.cpu().numpy(), **map_style(fmap))
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    axes[1].plot(xx, y, "r+", ms=14, mew=2)
    axes[1].set_title(f"{trace.layer.split('.')[-1]} · map {channel} ({h}×{w})\nmax {a:.3g} at ({y}, {xx})",
                      fontsize=10)
    if note_if_all_zero(axes[1], fmap):
        axes[2].text(0.5, 0.5, "nothing to project", transform=axes[2].transAxes, ha="center", fontsize=10)
    axes[2].imshow(show(p[0]))
    axes[2].set_title(f"projection ({rectify})", fontsize=10)
    for ax in (axes[0], axes[2]):
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor="red", lw=1.2, ls="--"))
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    plt.show()
    return fig, p, a


def projection_explorer(model: nn.Module, images: torch.Tensor, layer: str = "relu5", channel: int = 0, index: int = 0,
                        rectify: str = "deconv", to_display=to_image, names=None, layers=None,
                        show=show_projection) -> widgets.Widget:
    """Pick a layer, a map, an image and a rectify rule (§2.1); see the strongest unit's projection.

    Draws the default view (``layer``, ``channel``, image ``index``, ``rectify``) at once as a normal figure and
    returns the widget. ``layers`` defaults to :func:`projectable_layers`; ``show`` displays projections as in
    :func:`draw_projection`.

    Example:
        >>> from zfcourse.models import course_model
        >>> w = projection_explorer(course_model().eval(), torch.randn(2, 3, 168, 168) * 60, "conv2", 3)
    """
    names_of_layers = layers or projectable_layers(model)
    layer, _ = resolve(model, layer)
    if layer not in names_of_layers:
        raise KeyError(f"layer: expected one of {names_of_layers}, got {layer!r}")
    maps = {n: record(model, images[:1].to(next(model.parameters()).device), n).activation.shape[1]
            for n in names_of_layers}
    controls = {"layer": widgets.Dropdown(options=names_of_layers, value=layer, description="layer"),
                "channel": widgets.IntSlider(value=channel, min=0, max=maps[layer] - 1, description="map",
                                             continuous_update=False),
                "index": widgets.IntSlider(value=index, min=0, max=len(images) - 1, description="image",
                                           continuous_update=False),
                "rectify": widgets.ToggleButtons(options=list(RECTIFY), value=rectify, description="rectify")}

    def before(c):
        c["channel"].max = maps[c["layer"].value] - 1

    def draw(layer, channel, index, rectify):
        draw_projection(model, images, layer, channel, index, rectify, to_display, names, show)

    return explorer(draw, controls, rows=[["layer", "channel", "index"], ["rectify"]], before=before)
