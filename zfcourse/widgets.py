"""ipywidgets explorers: one helper, :func:`explorer`, and the feature-map explorer of §2 built on it.

Every explorer of the course draws its default view as an ordinary figure first, so the static book shows it, and then
returns the interactive widget for Jupyter/Colab (``%matplotlib inline`` + ipywidgets, no ipympl; ``plt.show()`` inside
the drawing function).
"""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import display
from IPython.utils.capture import capture_output

from .models.activations import activations
from .plots import map_style, note_if_all_zero, to_image


def explorer(draw, controls: dict, rows=None, before=None) -> widgets.Widget:
    """Draw ``draw(**values)`` now as a normal figure; return the controls and an output area that redraws on change.

    The default view is shown as ordinary outputs (what the static book shows); at the first change it is cleared
    and the live view below the controls takes its place.

    Args:
        draw: draws one view from the controls' values, by keyword (``draw(layer=..., channel=...)``), calling
            ``plt.show()`` itself.
        controls: {keyword: ipywidget with a ``value``}, in display order.
        rows: how to lay the controls out: a list of rows, each a list of keywords (a row of several is an HBox);
            default all in one row.
        before: called with ``controls`` before each redraw, e.g. to change a slider's range when a dropdown changes.

    Example:
        >>> shown = []
        >>> w = explorer(lambda n: shown.append(n), {"n": widgets.IntSlider(value=2, max=5)})
        >>> shown, [type(c).__name__ for c in w.children]     # drawn once at once; the slider, then the output area
        ([2], ['IntSlider', 'Output'])
    """
    if not controls:
        raise ValueError("controls: expected at least one widget")
    rows = [list(controls)] if rows is None else rows
    values = lambda: {k: c.value for k, c in controls.items()}  # noqa: E731
    with capture_output(stdout=False, stderr=False) as drawn:  # the default view, kept as ordinary outputs
        draw(**values())
    static = [display(o.data, metadata=o.metadata, raw=True, display_id=True) for o in drawn.outputs]
    out = widgets.Output()

    def redraw(*_):
        while static:  # the live view takes the static default's place
            static.pop().update({"text/plain": ""}, raw=True)
        if before is not None:
            before(controls)
        with out:
            out.clear_output(wait=True)
            draw(**values())

    for control in controls.values():
        control.observe(redraw, names="value")
    laid = [widgets.HBox([controls[k] for k in row]) if len(row) > 1 else controls[row[0]] for row in rows]
    return Explorer([*laid, out])


class Explorer(widgets.VBox):
    """An explorer's controls and live view; where widgets cannot run (a static page, a notebook opened without its
    kernel) it shows one plain line instead of the widget tree."""

    def __repr__(self) -> str:
        return "(Interactive controls: run this notebook in Jupyter or Colab to move them.)"


def _draw_feature_map(image, acts, name: str, channel: int, to_display=to_image):
    fmap = acts[name][0, channel]
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
    axes[0].imshow(to_display(image))
    axes[0].set_title("input")
    im = axes[1].imshow(fmap.cpu().numpy(), **map_style(fmap))
    axes[1].set_title(f"{name} · map {channel} · {tuple(fmap.shape)[0]}×{tuple(fmap.shape)[1]}")
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    note_if_all_zero(axes[1], fmap)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    plt.show()


def feature_map_explorer(model, image: torch.Tensor, layers=None, layer: str | None = None, channel: int = 0,
                         to_display=to_image) -> widgets.Widget:
    """Explore the feature maps of one image (§2): pick a layer and a channel, see that map beside the input.

    The activations are computed once (:func:`zfcourse.models.activations`), so moving the sliders is instant.
    The default view (``layer``, ``channel``; default the first layer) is drawn immediately as a normal figure.

    Args:
        model: a torchvision-style convnet.
        image: one (3, H, W) image in the model's input space.
        layers: names to offer (default every layer of ``features``).
        to_display: maps the (3, H, W) input to an (H, W, 3) array in [0, 1] (default :func:`zfcourse.plots.to_image`).
    """
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"image: expected one RGB image (3, H, W), got shape {tuple(image.shape)}")
    acts = activations(model, image[None].to(next(model.parameters()).device), layers)
    names = list(acts)
    layer = names[0] if layer is None else next(n for n in names if n == layer or n.endswith("." + str(layer)))
    controls = {"name": widgets.Dropdown(options=names, value=layer, description="layer"),
                "channel": widgets.IntSlider(value=channel, min=0, max=acts[layer].shape[1] - 1,
                                             description="channel")}

    def before(c):
        c["channel"].max = acts[c["name"].value].shape[1] - 1

    return explorer(lambda name, channel: _draw_feature_map(image, acts, name, channel, to_display), controls,
                    before=before)
