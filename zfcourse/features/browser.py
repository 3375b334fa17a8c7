"""A channel browser for Fig. 2: pick a layer and a feature map, see its top-k projections beside their patches.

The top-k table of every map is mined once (:func:`~zfcourse.features.top_k_layers`); moving the slider only
projects the nine activations of the chosen map (nine deconvnet passes, a fraction of a second). As every explorer of
the course (:func:`zfcourse.widgets.explorer`), it first draws its default view as an ordinary figure so the static
book shows it.
"""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt

from ..plots import to_image
from ..widgets import explorer
from .figure2 import plot_top_k, top_k_views


def draw_channel(model, data, top, channel: int, to_display=to_image, caption: str | None = None):
    """Draw the top-k projections | patches of map ``channel`` of ``top`` (a :class:`~zfcourse.features.TopK`)."""
    if not 0 <= channel < len(top.values):
        raise ValueError(f"channel: expected 0..{len(top.values) - 1} for {top.layer}, got {channel}")
    views = top_k_views(model, data, top, [channel], progress=False)
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.9))
    plot_top_k(views, maps_per_row=1, to_display=to_display, axes=axes, title=f"{top.layer.split('.')[-1]} #{channel}")
    values = ", ".join(f"{v:.3g}" for v in views.values[0].tolist())
    fig.text(0.5, 0.02, (caption + "\n" if caption else "") + f"activations: {values}", ha="center", fontsize=10)
    fig.tight_layout(rect=(0, 0.11, 1, 1))
    plt.show()
    return fig


def channel_browser(model, data, tops: dict, layer: str | None = None, channel: int = 0, to_display=to_image,
                    describe=None) -> widgets.Widget:
    """Browse Fig. 2 map by map: a layer dropdown and a channel slider over the top-k tables ``tops``
    ({full layer name: TopK}, e.g. from :func:`~zfcourse.features.top_k_layers`) mined on ``data``.

    ``describe(layer, channel) -> str``, if given, adds a caption (e.g. what the top patches land on). The default view
    (``layer``, default the first; ``channel``) is drawn at once as a normal figure; the widget is returned.
    """
    names = list(tops)
    if not names:
        raise ValueError("tops: expected at least one layer's top-k table")
    layer = names[0] if layer is None else next((n for n in names if n == layer or n.endswith("." + layer)), None)
    if layer is None:
        raise KeyError(f"layer: expected one of {names}")
    controls = {"layer": widgets.Dropdown(options=names, value=layer, description="layer"),
                "channel": widgets.IntSlider(value=channel, min=0, max=len(tops[layer].values) - 1, description="map",
                                             continuous_update=False)}

    def before(c):
        c["channel"].max = len(tops[c["layer"].value].values) - 1

    def draw(layer, channel):
        draw_channel(model, data, tops[layer], channel, to_display, describe(layer, channel) if describe else None)

    return explorer(draw, controls, rows=[["layer", "channel"]], before=before)
