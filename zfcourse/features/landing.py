"""What a top activation lands on: the embedded world's annotations read at the centre of the unit's receptive field.

Fig. 2 is read by eye ("layer 4 ... dog faces; bird's legs"). The embedded world knows every object and part it drew,
so the same reading can be counted: unit (y, x) of a layer with jump j and centre c is centred on input pixel
(c + y·j, c + x·j) (:func:`zfcourse.models.geometry`); the object drawn topmost at that pixel (or the
background) and the main object's nearest named part (its part boxes: ``left_eye``, ``nose``, a wheel, the
lettering, the keys …) say what it looked at.
Objects are known by their boxes, not their outlines, so a box corner outside a round face still counts as the
face. For deep layers the receptive field covers most of the image, so "the centre" is where the unit is centred,
not all it sees.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch

from ..models import LayerGeometry
from .topk import TopK

BACKGROUND = "background"


@dataclass
class Landing:
    """One top activation: ``thing`` is the class drawn topmost under the unit's centre (or ``"background"``),
    ``main`` whether that is the image's main object, ``part`` the main object's nearest keypoint within ``reach``
    pixels of the centre (else None)."""
    thing: str
    main: bool
    part: str | None


def unit_centre(row: LayerGeometry, pos: torch.Tensor) -> torch.Tensor:
    """Input pixel (N, 2) = (y, x) at the centre of the receptive fields of units ``pos`` (N, 2) of layer ``row``."""
    return row.centre + pos.to(torch.float64) * row.jump


def landing_of(annotation, y: float, x: float, reach: float) -> Landing:
    """What ``annotation`` (an :class:`~zfcourse.data.Annotation` in the model's input frame) has at pixel (y, x): the
    object drawn topmost there and, on the main object, its nearest named part within ``reach`` pixels."""
    for k, (name, (x0, y0, x1, y1)) in enumerate(reversed(annotation.objects)):   # drawn last = on top
        if x0 <= x < x1 and y0 <= y < y1:
            is_main = k == 0 and name == annotation.class_name  # the main object is drawn last
            part = None
            if is_main:
                part = _nearest_part(annotation, x, y, reach)
            return Landing(name, is_main, part)
    return Landing(BACKGROUND, False, None)


def _nearest_part(annotation, x: float, y: float, reach: float) -> str | None:
    """The main object's named part nearest to (x, y) within ``reach`` pixels.

    World v2 annotates parts by boxes: the distance to a box is 0 inside it, ties go to the smaller box (an eye inside
    the head), and parts whose box covers half the object's box or more (``head``, ``body``, ``disc``, ``keys`` …)
    are left out — they name the object, not a part of it. Annotations with keypoints only use those points."""
    if annotation.parts:
        x0, y0, x1, y1 = annotation.box
        whole = max((x1 - x0) * (y1 - y0), 1)
        dist = {p: (max(a - x, 0, x - c) ** 2 + max(b - y, 0, y - d) ** 2) ** 0.5 + 1e-6 * (c - a) * (d - b)
                for p, (a, b, c, d) in annotation.parts.items() if (c - a) * (d - b) < whole / 2}
    else:
        dist = {p: ((px - x) ** 2 + (py - y) ** 2) ** 0.5 for p, (px, py) in annotation.keypoints.items()}
    if not dist:
        return None
    nearest = min(dist, key=dist.get)
    return nearest if dist[nearest] <= reach else None


def landings(annotations, top: TopK, row: LayerGeometry, channels=None,
             reach: float | None = None) -> list[list[Landing]]:
    """For each map in ``channels`` (default all) and each of its top-k activations, its :class:`Landing`.

    ``annotations`` is indexable by image index (e.g. ``[dataset.annotation(i) for i in range(n)]`` or a function
    wrapped in a dict); ``reach`` (default: a quarter of the receptive field, at least 4 px) is how close a part
    (its box, or its keypoint) must be to count.
    """
    if row.name != top.layer:
        raise ValueError(f"row: geometry of {row.name} given for top-k activations of {top.layer}")
    reach = max(4.0, row.receptive_field / 4) if reach is None else reach
    channels = range(len(top.values)) if channels is None else [int(c) for c in channels]
    out = []
    for c in channels:
        centres = unit_centre(row, top.position[c].cpu())
        out.append([landing_of(annotations[int(i)], float(cy), float(cx), reach)
                    for i, (cy, cx) in zip(top.image[c].tolist(), centres.tolist())])
    return out


def describe(marks: list[Landing], most: int = 2) -> str:
    """One line for a map's top-k landings, e.g. ``"owl_face 6/9 (left_eye 3), background 2/9"``."""
    n = len(marks)
    things = Counter(m.thing for m in marks)
    parts = []
    for thing, count in things.most_common(most):
        sub = Counter(m.part for m in marks if m.thing == thing and m.part)
        extra = f" ({sub.most_common(1)[0][0]} {sub.most_common(1)[0][1]})" if sub else ""
        parts.append(f"{thing} {count}/{n}{extra}")
    return ", ".join(parts)


def landing_table(marks_by_map: list[list[Landing]]) -> dict[str, float]:
    """Shares over all maps' top activations: on the main object, on a distractor, on the background; and the mean
    *purity* — per map, the share of its top-k that land on its most common thing (1 = one kind of thing)."""
    flat = [m for marks in marks_by_map for m in marks]
    n = max(len(flat), 1)
    purity = [Counter(m.thing for m in marks).most_common(1)[0][1] / len(marks) for marks in marks_by_map if marks]
    return {"main object": sum(m.main for m in flat) / n,
            "distractor": sum((not m.main) and m.thing != BACKGROUND for m in flat) / n,
            "background": sum(m.thing == BACKGROUND for m in flat) / n,
            "on a named part": sum(m.part is not None for m in flat) / n,
            "purity": sum(purity) / max(len(purity), 1)}
