"""Move and resize the occluder by hand and watch the classifier's answer (§4.2, Fig. 7): the widget of chapter 7."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch

from ..models.modes import evaluating
from ..plots import to_image
from .figure import _box


@torch.no_grad()
def occluded_probs(model, image, y: int, x: int, size: int, fill=0.0) -> torch.Tensor:
    """softmax(f(x̃)) for ``image`` with the square [y, y+size) × [x, x+size) set to ``fill`` (one forward pass)."""
    occluded = image.clone()
    occluded[:, y:y + size, x:x + size] = torch.as_tensor(fill, dtype=image.dtype).reshape(-1, 1, 1)
    with evaluating(model):
        device = next(model.parameters()).device
        return model(occluded[None].to(device))[0].softmax(-1).cpu()


def draw_occluder(model, image, target: int, class_names, y: int, x: int, size: int, fill=0.0,
                  to_display=to_image, box=None, top: int = 5):
    """The image with the occluder at (y, x) beside the ``top`` class probabilities (``target`` in red)."""
    p, p0 = occluded_probs(model, image, y, x, size, fill), occluded_probs(model, image, 0, 0, 0, fill)
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.5, 3.2), gridspec_kw=dict(width_ratios=(1, 1.3)))
    left.imshow(to_display(image))
    _box(left, (x, y, x + size, y + size), fill=True, facecolor="grey", edgecolor="white", alpha=0.95)
    if box is not None:
        _box(left, box, edgecolor="lime", lw=1.2, ls="--")
    left.set_axis_off()
    order = p.argsort(descending=True)[:top].tolist()
    order = order if target in order else order[:-1] + [target]
    right.barh(range(len(order)), p[order].numpy(), color=["tab:red" if c == target else "tab:blue" for c in order])
    right.set_yticks(range(len(order)), [class_names[c] for c in order], fontsize=10)
    right.invert_yaxis(), right.set_xlim(0, 1), right.set_xlabel("probability", fontsize=10)
    right.tick_params(labelsize=10)
    right.set_title(f"p({class_names[target]}) = {p[target]:.3f}  (unoccluded {p0[target]:.3f})", fontsize=10)
    fig.tight_layout()
    plt.show()


def occlusion_explorer(model, image, target: int, class_names, size: int = 16, y: int = 0, x: int = 0, fill=0.0,
                       to_display=to_image, box=None) -> widgets.Widget:
    """Sliders for the occluder's top-left corner and side; each move costs one forward pass. The default view is
    drawn first as an ordinary figure (for the static book), then the widget is returned for Jupyter/Colab."""
    h, w = image.shape[1:]
    draw_occluder(model, image, target, class_names, y, x, size, fill, to_display, box)
    sliders = dict(y=widgets.IntSlider(y, 0, h - 1, description="y"), x=widgets.IntSlider(x, 0, w - 1, description="x"),
                   size=widgets.IntSlider(size, 1, min(h, w), description="size"))
    out = widgets.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            v = {k: s.value for k, s in sliders.items()}
            draw_occluder(model, image, target, class_names, v["y"], v["x"], v["size"], fill, to_display, box)

    for s in sliders.values():
        s.observe(redraw, names="value")
    return widgets.VBox([widgets.HBox(list(sliders.values())), out])
