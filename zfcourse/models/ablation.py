"""Table 3's model-size ablations (Zeiler & Fergus 2014, §5.1) as parameters of one builder.

"In Table 3, we first explore the architecture of (Krizhevsky et al., 2012) by adjusting the size of layers, or
removing them entirely. In each case, the model is trained from scratch with the revised architecture." The rows are
three kinds of change to the eight-layer pattern of :class:`~zfcourse.models.ZFNet`:

* remove conv layers (``drop_convs``, any of 3, 4, 5): the conv and its ReLU go; the next conv takes the channels that
  now arrive. conv3–5 are 3×3/1 with padding 1, so spatial sizes do not change. pool5 always stays (it ends the
  feature extractor);
* remove fully connected layers (``drop_fcs``, any of 6, 7): the layer goes with its dropout and its ReLU; the next
  Linear takes the width that now arrives. With 6 and 7 removed, fc8 reads the flattened pool5 maps directly (a
  linear classifier on conv features — the paper does not say whether dropout stayed; here it goes with its layer);
* change widths: ``fc_width`` units in fc6 and fc7 (the paper: 4096 → 2048 or 8192), ``conv_widths`` maps for
  conv1..conv5 (the paper widens conv3, conv4, conv5 from 384, 384, 256 to 512, 1024, 512).

The result is a :class:`~zfcourse.models.ZFNet` whose ``features``/``classifier`` keep the original layer names (a
model without conv3 and conv4 has conv1, conv2, conv5), so every tool of the course works on it and "layer 5" still
means conv5. It is initialised as §3 says (N(0, 0.01²) weights, zero biases) after the surgery; a base model without
changes draws nothing more than its constructor, so at the same seed it equals :func:`~zfcourse.models.course_model`
or :func:`~zfcourse.models.krizhevsky` weight for weight.

:data:`TABLE3_ROWS` lists the paper's rows, each with a short name (``krizhevsky``, ``zf-fc-double``, … — what
``python -m zfcourse train --table3-row`` takes), and :func:`table3_configs` turns them into builder arguments at any
width: halving/doubling is relative to the base's fc width, and 512/1024/512 is scaled by ``width`` like everything
else.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from .zfnet import FC_UNITS, KRIZHEVSKY_CONVS, ZF_CONVS, ZFNet

BASES = {"zf": ZF_CONVS, "krizhevsky": KRIZHEVSKY_CONVS}
DROPPABLE_CONVS, DROPPABLE_FCS = (3, 4, 5), (6, 7)
PAPER_WIDE_CONVS = (512, 1024, 512)   # Table 3: "Layers 3,4,5: 512,1024,512 maps"


def _layer_set(value, allowed, name) -> set[int]:
    try:
        layers = {int(v) for v in value}
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a tuple of layer numbers from {allowed}, got {value!r}") from None
    if not layers <= set(allowed):
        raise ValueError(f"{name}: only layers {allowed} can be removed, got {sorted(layers)}")
    return layers


def ablated(base: str = "zf", width: float = 1.0, input_size: int = 224, num_classes: int = 1000, drop_convs=(),
            drop_fcs=(), fc_width: int | None = None, conv_widths=None, dropout: float = 0.5) -> ZFNet:
    """A ZF-like network with layers removed or resized, as in the rows of Table 3 (§5.1).

    Args:
        base: ``"zf"`` (Fig. 3: conv1 7×7/2, conv2 5×5/2) or ``"krizhevsky"`` (11×11/4, 5×5/1; §4.1's baseline).
        width: multiplier on the base's maps and fc units (1.0 = the paper; the course model uses 0.25).
        input_size: side of the square input (224 paper, 168 course model).
        num_classes: units of fc8.
        drop_convs: conv layers to remove, from (3, 4, 5).
        drop_fcs: fully connected layers to remove, from (6, 7).
        fc_width: units of fc6 and fc7 (default round(4096 · width)).
        conv_widths: five map counts for conv1..conv5 (default the base's, scaled by ``width``).
        dropout: dropout before each remaining fc6/fc7 (0.5 in §3).

    Example:
        >>> m = ablated("krizhevsky", width=0.125, drop_convs=(3, 4), drop_fcs=(6, 7), num_classes=10)
        >>> [n for n, _ in m.features.named_children()][-4:], [n for n, _ in m.classifier.named_children()]
        (['norm2', 'conv5', 'relu5', 'pool5'], ['fc8'])
    """
    if base not in BASES:
        raise ValueError(f"base: expected one of {tuple(BASES)}, got {base!r}")
    if isinstance(width, bool) or not isinstance(width, (int, float)) or width <= 0:
        raise ValueError(f"width: expected a positive multiplier, got {width!r}")
    gone_convs = _layer_set(drop_convs, DROPPABLE_CONVS, "drop_convs")
    gone_fcs = _layer_set(drop_fcs, DROPPABLE_FCS, "drop_fcs")
    convs = [(max(1, round(c * width)), k, s, p) for c, k, s, p in BASES[base]]
    if conv_widths is not None:
        widths = list(conv_widths)
        if len(widths) != 5 or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths):
            raise ValueError("conv_widths: expected five positive integers (maps of conv1..conv5), "
                             f"got {conv_widths!r}")
        convs = [(w, k, s, p) for w, (_, k, s, p) in zip(widths, convs)]
    fc = max(1, round(FC_UNITS * width)) if fc_width is None else fc_width
    if isinstance(fc, bool) or not isinstance(fc, int) or fc < 1:
        raise ValueError(f"fc_width: expected a positive number of units for fc6 and fc7, got {fc_width!r}")
    model = ZFNet(num_classes, convs=tuple(convs), fc_units=fc, input_size=input_size, dropout=dropout)

    # Remove the chosen layers, keeping every other module (and its name) in place.
    gone = {f"{kind}{i}" for i in gone_convs for kind in ("conv", "relu")}
    gone |= {f"{kind}{i}" for i in gone_fcs for kind in ("drop", "fc", "relu")}
    features = [(n, m) for n, m in model.features.named_children() if n not in gone]
    classifier = [(n, m) for n, m in model.classifier.named_children() if n not in gone]

    # Reconnect: a layer after a gap takes what now arrives (same kernel, stride and padding; new input width).
    channels, replaced = 3, False
    for i, (name, m) in enumerate(features):
        if isinstance(m, nn.Conv2d):
            if m.in_channels != channels:
                features[i] = (name, nn.Conv2d(channels, m.out_channels, m.kernel_size, m.stride, m.padding))
                replaced = True
            channels = m.out_channels
    model.features = nn.Sequential(OrderedDict(features))
    with torch.no_grad():
        units = model.features(torch.zeros(1, 3, input_size, input_size)).numel()
    for i, (name, m) in enumerate(classifier):
        if isinstance(m, nn.Linear):
            if m.in_features != units:
                classifier[i] = (name, nn.Linear(units, m.out_features))
                replaced = True
            units = m.out_features
    model.classifier = nn.Sequential(OrderedDict(classifier))
    if replaced:  # a new layer comes with torch's default init: draw every layer again as §3 says
        model.reset_parameters()
    return model


@dataclass(frozen=True)
class Table3Row:
    """One row of Table 3: its short name, the base model, the paper's label and the arguments of :func:`ablated`."""
    name: str
    base: str
    label: str
    kwargs: dict


# The paper's rows (numbers.md, Table 3), in its order: (short name, base, the paper's label, change). fc_scale
# multiplies the base's fc width; wide_convs asks for 512, 1024, 512 maps in conv3..conv5 (scaled by width).
TABLE3_ROWS = (
    ("krizhevsky", "krizhevsky", "Replication of Krizhevsky", {}),
    ("krizhevsky-no34", "krizhevsky", "Removed layers 3,4", {"drop_convs": (3, 4)}),
    ("krizhevsky-no7", "krizhevsky", "Removed layer 7", {"drop_fcs": (7,)}),
    ("krizhevsky-no67", "krizhevsky", "Removed layers 6,7", {"drop_fcs": (6, 7)}),
    ("krizhevsky-no3467", "krizhevsky", "Removed layers 3,4,6,7", {"drop_convs": (3, 4), "drop_fcs": (6, 7)}),
    ("krizhevsky-fc-half", "krizhevsky", "Layers 6,7: 2048 units", {"fc_scale": 0.5}),
    ("krizhevsky-fc-double", "krizhevsky", "Layers 6,7: 8192 units", {"fc_scale": 2}),
    ("zf", "zf", "ZF model (Fig. 3)", {}),
    ("zf-fc-half", "zf", "Layers 6,7: 2048 units", {"fc_scale": 0.5}),
    ("zf-fc-double", "zf", "Layers 6,7: 8192 units", {"fc_scale": 2}),
    ("zf-wide345", "zf", "Layers 3,4,5: 512,1024,512 maps", {"wide_convs": True}),
    ("zf-wide345-fc-double", "zf", "Layers 6,7: 8192 units and layers 3,4,5: 512,1024,512 maps",
     {"fc_scale": 2, "wide_convs": True}),
)


def table3_configs(width: float = 1.0, fc_width: int | None = None, input_size: int = 224,
                   num_classes: int = 1000) -> list[Table3Row]:
    """Every row of Table 3 as :func:`ablated` arguments at the given scale, in the paper's order (§5.1).

    ``fc_width`` is the base rows' fc6/fc7 width (default round(4096 · width); the course model: 512), so "2048
    units" becomes fc_width/2 and "8192 units" 2·fc_width; "512, 1024, 512 maps" becomes round((512, 1024, 512) ·
    width). Build row r with ``ablated(**r.kwargs)``.

    Example:
        >>> rows = table3_configs(width=0.25, fc_width=512, input_size=168, num_classes=10)
        >>> rows[-1].label, rows[-1].kwargs["fc_width"], rows[-1].kwargs["conv_widths"]
        ('Layers 6,7: 8192 units and layers 3,4,5: 512,1024,512 maps', 1024, (24, 64, 128, 256, 128))
    """
    fc = max(1, round(FC_UNITS * width)) if fc_width is None else fc_width
    rows = []
    for name, base, label, spec in TABLE3_ROWS:
        kw = {"base": base, "width": width, "input_size": input_size, "num_classes": num_classes, "fc_width": fc,
              "drop_convs": spec.get("drop_convs", ()), "drop_fcs": spec.get("drop_fcs", ())}
        if "fc_scale" in spec:
            kw["fc_width"] = max(1, round(fc * spec["fc_scale"]))
        if spec.get("wide_convs"):
            first_two = [max(1, round(c * width)) for c, *_ in BASES[base][:2]]
            kw["conv_widths"] = tuple(first_two + [max(1, round(c * width)) for c in PAPER_WIDE_CONVS])
        rows.append(Table3Row(name, base, label, kw))
    return rows
