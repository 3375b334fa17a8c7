"""The table of Fig. 3 for any sequential convnet: output shapes, receptive fields, parameters and cost (§2).

Receptive-field arithmetic, layer by layer along ``features`` (k kernel, s stride, p padding of a layer;
j the distance in input pixels between neighbouring units, r the receptive-field side, c the input coordinate of the
centre of unit 0):

    j_out = j_in · s,    r_out = r_in + (k − 1) · j_in,    c_out = c_in + ((k − 1)/2 − p) · j_in

starting from j = 1, r = 1, c = 0 at the image. Unit (y, x) of a layer then sees the input square of side r centred
on (c + y·j, c + x·j): :func:`receptive_box` gives it clipped to the image as an end-exclusive box (x0, y0, x1, y1)
(the torchvision.ops convention), :func:`crop` cuts it out unclipped (§4, Fig. 2's patches).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .layers import pair
from .modes import evaluating


@dataclass(frozen=True)
class LayerGeometry:
    """One row of the Fig. 3 table: a layer's output and where its units look in the input."""
    name: str
    kind: str
    kernel: str
    shape: tuple[int, ...]
    params: int
    multiply_adds: int
    receptive_field: int
    jump: int
    centre: float


def _kernel_stride_pad(m: nn.Module):
    if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        k, s, p = pair(m.kernel_size)[0], pair(m.stride)[0], pair(m.padding)[0]
        if isinstance(m, nn.Conv2d) and pair(m.dilation)[0] != 1:
            raise ValueError(f"{m}: dilated convolutions are not covered by this table")
        return k, s, p
    return 1, 1, 0


def _multiply_adds(m: nn.Module, out: torch.Tensor) -> int:
    # A conv output unit costs (in_channels/groups)·k·k multiply-adds; a linear one in_features.
    if isinstance(m, nn.Conv2d):
        return out[0].numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
    if isinstance(m, nn.Linear):
        return m.in_features * m.out_features
    return 0


def input_size_of(model: nn.Module) -> int:
    """The square input side the model expects: ``model.input_size`` for course models, 224 for torchvision's."""
    return int(getattr(model, "input_size", 224))


@torch.no_grad()
def geometry(model: nn.Module, input_size: int | None = None) -> list[LayerGeometry]:
    """Fig. 3's table as data: one :class:`LayerGeometry` per leaf of ``features`` then ``classifier``."""
    if not hasattr(model, "features"):
        raise TypeError("model: expected a torchvision-style model with a `features` Sequential")
    size = input_size or input_size_of(model)
    x = torch.zeros(1, 3, size, size, device=next(model.parameters()).device)
    jump, rf, centre = 1, 1, (0.0)
    rows = []
    with evaluating(model):
        for name, m in model.features.named_children():
            k, s, p = _kernel_stride_pad(m)
            x = m(x.clone())
            rf, centre, jump = rf + (k - 1) * jump, centre + ((k - 1) / 2 - p) * jump, jump * s
            rows.append(LayerGeometry(f"features.{name}", type(m).__name__, f"{k}×{k}/{s}" if k > 1 or s > 1 else "",
                                      tuple(x.shape[1:]), sum(q.numel() for q in m.parameters()), _multiply_adds(m, x),
                                      rf, jump, centre))
        if hasattr(model, "avgpool"):
            x = model.avgpool(x)
        x = torch.flatten(x, 1)
        for name, m in getattr(model, "classifier", nn.Sequential()).named_children():
            x = m(x)
            rows.append(LayerGeometry(f"classifier.{name}", type(m).__name__, "", tuple(x.shape[1:]),
                                      sum(q.numel() for q in m.parameters()), _multiply_adds(m, x), size, 0,
                                      (size - 1) / 2))
    return rows


def receptive_box(row: LayerGeometry, y: int, x: int, image_size: int) -> tuple[int, int, int, int]:
    """Input pixels (x0, y0, x1, y1), end-exclusive, that unit (y, x) of layer ``row`` can see, clipped to the image.

    The square has side r (the receptive field) centred on (c + y·j, c + x·j); see the module docstring. The box
    follows torchvision.ops: ``image[..., y0:y1, x0:x1]`` is what the unit sees.

    Example:
        >>> from zfcourse.models import course_model
        >>> row = layer_geometry(course_model(), "features.conv2")
        >>> row.receptive_field, receptive_box(row, 0, 3, 168)
        (27, (23, 0, 50, 26))
    """
    x0, y0 = origin(row, torch.tensor([[y, x]]))[0].tolist()[::-1]
    r = row.receptive_field
    clip = lambda v: max(0, min(image_size, v))  # noqa: E731
    return clip(x0), clip(y0), clip(x0 + r), clip(y0 + r)


def layer_geometry(model: nn.Module, layer: str) -> LayerGeometry:
    """The :class:`LayerGeometry` row of the full layer name ``layer`` (receptive field, jump and centre do not
    depend on the input size)."""
    rows = {r.name: r for r in geometry(model)}
    if layer not in rows:
        raise KeyError(f"layer: expected a full layer name, one of {', '.join(rows)}; got {layer!r}")
    return rows[layer]


def origin(row: LayerGeometry, pos: torch.Tensor) -> torch.Tensor:
    """Top-left input pixel (N, 2) = (y, x) of the receptive fields of units ``pos`` (N, 2) = (y, x) — may be negative:

    (c + y·j − (r−1)/2, c + x·j − (r−1)/2), rounded.
    """
    start = row.centre - (row.receptive_field - 1) / 2
    return torch.round(start + pos.to(torch.float64) * row.jump).long()


def crop(x: torch.Tensor, row: LayerGeometry, pos: torch.Tensor, index: torch.Tensor | None = None,
         fill: float = 0.0) -> torch.Tensor:
    """Cut the r × r receptive field of unit ``pos[n]`` out of ``x[index[n]]``: (N, C, r, r) (§4, Fig. 2's patches).

    ``x`` is (B, C, H, W) (images or projections), ``pos`` (N, 2) units (y, x) of the layer ``row`` describes,
    ``index`` (N,) which picture each unit belongs to (default: n). Near the border part of the square lies outside the
    picture; those pixels get ``fill`` (0 = the mean image in input space), so every patch of a layer has the same
    size and the unit sits at its centre.

    Example:
        >>> from zfcourse.models import course_model
        >>> row = layer_geometry(course_model(), "features.conv2")
        >>> crop(torch.randn(1, 3, 168, 168), row, torch.tensor([[0, 5]])).shape
        torch.Size([1, 3, 27, 27])
    """
    r = row.receptive_field
    index = torch.arange(len(pos), device=x.device) if index is None else index.to(x.device)
    padded = F.pad(x, (r, r, r, r), value=fill)
    top = origin(row, pos).to(x.device) + r
    ar = torch.arange(r, device=x.device)
    rows, cols = top[:, :1] + ar, top[:, 1:] + ar  # (N, r) each
    out = padded[index[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # (N, r, r, C)
    return out.permute(0, 3, 1, 2)


class Summary(list):
    """A list of :class:`LayerGeometry` that prints as the Fig. 3 table."""

    def __str__(self) -> str:
        head = f"{'layer':<18}{'type':<18}{'kernel/stride':>14}{'output':>16}{'RF':>6}{'params':>13}{'mult-adds':>15}"
        lines = [head, "-" * len(head)]
        for r in self:
            shape = "×".join(str(d) for d in r.shape)
            lines.append(f"{r.name:<18}{r.kind:<18}{r.kernel:>14}{shape:>16}{r.receptive_field:>6}{r.params:>13,}"
                         f"{r.multiply_adds:>15,}")
        lines.append("-" * len(head))
        lines.append(f"{'total':<18}{'':<18}{'':>14}{'':>16}{'':>6}{sum(r.params for r in self):>13,}"
                     f"{sum(r.multiply_adds for r in self):>15,}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """The same table as HTML, so that a notebook shows it within the book's column."""
        from ..plots import Table

        rows = [(r.name, r.kind, r.kernel, "×".join(map(str, r.shape)), r.receptive_field, r.params, r.multiply_adds)
                for r in self]
        rows.append(("total", "", "", "", "", sum(r.params for r in self), sum(r.multiply_adds for r in self)))
        return Table(("layer", "type", "kernel/stride", "output", "RF", "params", "mult-adds"), rows)._repr_html_()


def size_arithmetic(model: nn.Module, input_size: int | None = None) -> list[str]:
    """How each conv/pool of ``features`` turns its input side n into its output side (§2, Fig. 3):

        conv:  n_out = ⌊(n + 2p − k) / s⌋ + 1        pool (ceil mode): n_out = ⌈(n + 2p − k) / s⌉ + 1

    One line per conv/pool layer, e.g. ``features.conv1: (224 + 2·1 − 7)/2 + 1 → 110``.
    """
    side, lines = input_size or input_size_of(model), []
    for row, m in zip(geometry(model, input_size), model.features.children()):
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d)):
            k, s, p = _kernel_stride_pad(m)
            rounding = "⌈⌉" if getattr(m, "ceil_mode", False) else "⌊⌋"
            lines.append(f"{row.name}: {rounding[0]}({side} + 2·{p} − {k})/{s}{rounding[1]} + 1 = {row.shape[-1]}")
            side = row.shape[-1]
    return lines


def summary(model: nn.Module, input_size: int | None = None) -> Summary:
    """The Fig. 3 table (§2) of ``model``: layer, kernel/stride, output shape, receptive field, parameters and
    multiply-adds.

    Works for the course's models and for torchvision AlexNet/VGG. ``print(summary(model))`` shows it.
    """
    return Summary(geometry(model, input_size))
