"""Pick an object, a transformation and an amount; see what the model sees, how far each layer's feature vector moved
and what the classifier now says (§4, Fig. 5): the widget of chapter 5."""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt

from ..models.summary import input_size_of
from ..plots import MIN_FONT
from .figure import AXIS, _tile, layer_label
from .measure import IDENTITY, KINDS, measure_invariance, paper_grid


def draw_transformed(model, canvas, kind: str, amount: float, target: int, class_names, preprocess=None, layers=None,
                     view=None, pad: str = "error", to_display=None, top: int = 5, name: str = ""):
    """Three panels for one transformed image: the window the model sees, the relative feature distance
    r_ℓ = ‖φ_ℓ(Tx) − φ_ℓ(x)‖ / ‖φ_ℓ(x)‖ at each layer, and the ``top`` class probabilities (the true class in red,
    always shown). Returns the :class:`~zfcourse.invariance.InvarianceCurves` of this single amount."""
    c = measure_invariance(model, canvas, kind, [amount], target, preprocess, layers, view, pad, label=name)
    p = c.probs[0]
    fig, axes = plt.subplots(1, 3, figsize=(6.8, 3.0), gridspec_kw={"width_ratios": (1, 0.9, 1.3)})
    axes[0].imshow(_tile(c.images[0], to_display))
    axes[0].set_title(f"{name + ': ' if name else ''}{kind} {amount:g} {c.unit}", fontsize=10)
    axes[0].set_axis_off()
    names = [layer_label(n) for n in c.layers]
    values = [float(c.relative[n][0]) for n in c.layers]
    axes[1].bar(names, values, color="tab:purple")
    axes[1].set_ylabel("‖φ(Tx) − φ(x)‖ / ‖φ(x)‖", fontsize=10)
    axes[1].tick_params(labelsize=MIN_FONT)
    axes[1].set_ylim(0, max(1.0, max(values) * 1.1))
    for k, v in enumerate(values):
        axes[1].text(k, v, f"{v:.2f}", ha="center", va="bottom", fontsize=10)
    axes[1].set_title("distance to original", fontsize=10)
    order = p.argsort(descending=True)[:top].tolist()
    order = order if target in order else order[:-1] + [target]
    axes[2].barh(range(len(order)), p[order].numpy(), color=["tab:red" if k == target else "tab:blue" for k in order])
    axes[2].set_yticks(range(len(order)), [class_names[k] for k in order], fontsize=10)
    axes[2].invert_yaxis()
    axes[2].set_xlim(0, 1)
    axes[2].set_xlabel("probability", fontsize=10)
    axes[2].set_title(f"p({class_names[target]}) = {p[target]:.3f}", fontsize=10)
    fig.tight_layout()
    plt.show()
    return c


def invariance_explorer(model, canvases, targets, class_names, preprocess=None, kind: str = "rotation",
                        amount: float | None = None, index: int = 0, layers=None, view=None, pad: str = "error",
                        to_display=None) -> widgets.Widget:
    """Explore Fig. 5 by hand (§4): an object, a transformation (vertical translation, scale, rotation) and an amount
    → the transformed image, the feature distances at each layer, the class probabilities. One forward pass of two
    images per move. The default view (``index``, ``kind``, ``amount``; default amount: a third of the grid's
    range) is drawn first as an ordinary figure, then the widget is returned for Jupyter/Colab.

    Args:
        canvases: {name: canvas} or a sequence of canvases (see :func:`zfcourse.invariance.transform`).
        targets: the true class of each canvas (same order).
        class_names: names of the model's classes.
        preprocess, layers, view, pad: as in :func:`zfcourse.invariance.measure_invariance`.
        to_display: picture function for float (input-space) canvases.
    """
    names = list(canvases) if isinstance(canvases, dict) else [f"image {i}" for i in range(len(canvases))]
    items = list(canvases.values()) if isinstance(canvases, dict) else list(canvases)
    targets = list(targets.values()) if isinstance(targets, dict) else list(targets)
    if not items:
        raise ValueError("canvases: expected at least one image")
    if len(targets) != len(items):
        raise ValueError(f"targets: expected one class per canvas ({len(items)}), got {len(targets)}")
    if not 0 <= index < len(items):
        raise ValueError(f"index: expected 0..{len(items) - 1}, got {index}")
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    size = input_size_of(model)

    def grid_of(k):
        g = paper_grid(k, size)
        return round(float(g.min()), 6), round(float(g.max()), 6), round(float(g[1] - g[0]), 6)

    lo, hi, step = grid_of(kind)
    amount = float(round(IDENTITY[kind] + (hi - IDENTITY[kind]) / 3, 2) if amount is None else amount)

    def draw(i, k, a):
        try:
            draw_transformed(model, items[i], k, a, int(targets[i]), class_names, preprocess, layers, view, pad,
                             to_display, name=names[i])
        except ValueError as err:  # e.g. a canvas too small for this amount: say so instead of a traceback
            print(err)

    draw(index, kind, amount)
    pick = widgets.Dropdown(options=[(n, i) for i, n in enumerate(names)], value=index, description="object")
    pick_kind = widgets.Dropdown(options=list(KINDS), value=kind, description="transform")
    slider = widgets.FloatSlider(value=amount, min=lo, max=hi, step=step, description="amount",
                                 continuous_update=False)
    out = widgets.Output()
    busy = {"on": False}

    def redraw(*_):
        if busy["on"]:
            return
        with out:
            out.clear_output(wait=True)
            draw(pick.value, pick_kind.value, slider.value)

    def new_kind(change):
        busy["on"] = True  # move the slider to the new grid without drawing every intermediate value
        lo, hi, step = grid_of(change["new"])
        slider.min, slider.max = min(lo, slider.min), max(hi, slider.max)
        slider.step, slider.value = step, round(IDENTITY[change["new"]] + (hi - IDENTITY[change["new"]]) / 3, 2)
        slider.min, slider.max = lo, hi
        slider.description = AXIS[change["new"]].split(" (")[0][:12]
        busy["on"] = False
        redraw()

    pick.observe(redraw, names="value")
    slider.observe(redraw, names="value")
    pick_kind.observe(new_kind, names="value")
    return widgets.VBox([widgets.HBox([pick, pick_kind, slider]), out])
