"""ipywidgets explorers. Each draws its default view as an ordinary figure first, so the static book shows it, and
then returns the interactive widget for Jupyter/Colab (DESIGN.md: ``%matplotlib inline`` + ipywidgets, no ipympl)."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch

from .models.activations import activations
from .plots import to_image


def _draw_feature_map(image, acts, name: str, channel: int, to_display=None):
    fmap = acts[name][0, channel]
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
    axes[0].imshow(to_display(image) if to_display else to_image(image))
    axes[0].set_title("input")
    im = axes[1].imshow(fmap.cpu().numpy(), cmap="viridis")
    axes[1].set_title(f"{name} · map {channel} · {tuple(fmap.shape)[0]}×{tuple(fmap.shape)[1]}")
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    plt.show()


def feature_map_explorer(model, image: torch.Tensor, layers=None, layer: str | None = None, channel: int = 0,
                         to_display=None) -> widgets.Widget:
    """Explore the feature maps of one image (§2): pick a layer and a channel, see that map beside the input.

    The activations are computed once (:func:`zfcourse.models.activations`), so moving the sliders is instant.
    The default view (``layer``, ``channel``; default the first layer) is drawn immediately as a normal figure.

    Args:
        model: a torchvision-style convnet.
        image: one (3, H, W) image in the model's input space.
        layers: names to offer (default every layer of ``features``).
        to_display: maps the (3, H, W) input to an (H, W, 3) array in [0, 1]; default a min–max stretch.
    """
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"image: expected one RGB image (3, H, W), got shape {tuple(image.shape)}")
    acts = activations(model, image[None].to(next(model.parameters()).device), layers)
    names = list(acts)
    layer = names[0] if layer is None else next(n for n in names if n == layer or n.endswith("." + str(layer)))
    _draw_feature_map(image, acts, layer, channel, to_display)

    pick_layer = widgets.Dropdown(options=names, value=layer, description="layer")
    pick_channel = widgets.IntSlider(value=channel, min=0, max=acts[layer].shape[1] - 1, description="channel")
    out = widgets.Output()

    def redraw(*_):
        pick_channel.max = acts[pick_layer.value].shape[1] - 1
        with out:
            out.clear_output(wait=True)
            _draw_feature_map(image, acts, pick_layer.value, pick_channel.value, to_display)

    pick_layer.observe(redraw, names="value")
    pick_channel.observe(redraw, names="value")
    return widgets.VBox([widgets.HBox([pick_layer, pick_channel]), out])
