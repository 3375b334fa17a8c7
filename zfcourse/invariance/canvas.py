"""Canvases for Fig. 5 (§4): one embedded-world object drawn at the centre of a canvas larger than the model's view.

The transformations of :func:`~zfcourse.invariance.transform` move the *content* of a canvas under a fixed window, so
the canvas must reach past the window by the largest translation, the reciprocal of the smallest scale and the
window's diagonal (for a 168-px window: 168 + 2·45 = 258 px, 168/0.6 = 280 px, 168·√2 ≈ 238 px). :func:`probe_canvas`
draws one object with :func:`zfcourse.data.compose` at the centre of a ``size``-px canvas (default 288), its diameter a
fraction of the 192-px render side as in training (0.2–0.6), and no distractor or occluder:

* ``background="world"``: the world's own textured background (and the class's habitual context, if asked);
* ``background="plain"``: the same object on a flat grey. The whole canvas turns under a rotation, so a symmetric
  object on a textured background is not a symmetric *picture*; the plain variant isolates the object. It is made by
  drawing the scene twice, with and without the object (``omit="*"`` leaves every other pixel unchanged), and
  painting grey every pixel the object did not change.

:func:`population_canvases` draws many such canvases, each object posed as in training (diameter log-uniform over
0.2–0.6 of the render side; faces turned up to ±15°, discs at any angle, the rest ±20°; mirrored half the time),
from the validation index range, so none of them is a training image.
"""
from __future__ import annotations

import math

import numpy as np

from ..data import (SCALE_RANGE, VAL_OFFSET, WORLD_SIZE, Placement, class_index, compose, world_class)

BACKGROUNDS = ("world", "plain")
CANVAS = 288  # canvas side: room for every transformation of Fig. 5 around a 168-px window
PLAIN = 128  # the flat grey of the plain background


def probe_canvas(name: str, diameter: float = 0.4, angle: float = 0.0, mirror: bool = False, seed: int = 0,
                 index: int = 0, size: int = CANVAS, background: str = "world", context: str = ""):
    """One object of class ``name`` at the centre of a ``size``-px canvas (§4, Fig. 5's probe images).

    Args:
        name: a class of the world (:data:`zfcourse.data.CLASS_NAMES`).
        diameter: the object's nominal diameter as a fraction of the 192-px render side (training draws 0.2–0.6,
            with the same convention, so the drawn box can be a little smaller), so its size in the model's view is
            the size it had in training.
        angle: its rotation (degrees) before any transformation; ``mirror``: drawn mirrored.
        seed, index: the random stream of its appearance (colours, textures, background).
        size: the canvas side.
        background: ``"world"`` (textured, as in training) or ``"plain"`` (flat grey, for the symmetry check).
        context: ``""``, ``"road"``, ``"water"`` or ``"ball"`` (world background only).

    Returns:
        (uint8 (size, size, 3), :class:`zfcourse.data.Annotation`); ``annotation.symmetry`` is the order of
        rotational symmetry as drawn (a wheel's spoke count).
    """
    class_index(name)  # raises on an unknown class, naming the argument
    if not 0 < diameter <= 1:
        raise ValueError(f"diameter: expected a fraction of the render side in (0, 1], got {diameter!r}")
    if background not in BACKGROUNDS:
        raise ValueError(f"background: expected one of {BACKGROUNDS}, got {background!r}")
    if background == "plain" and context:
        raise ValueError(f"context: a plain background has no context, got {context!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 16:
        raise ValueError(f"size: expected an integer canvas side of at least 16, got {size!r}")
    centre = ((size - 1) / 2, (size - 1) / 2)  # the centre of transform()'s window when size − view is even
    place = Placement.of_diameter(name, centre, diameter * WORLD_SIZE, angle, mirror)
    kw = dict(seed=seed, index=index, size=int(size), context=context, occluder=False)
    image, ann = compose(place, **kw)
    if background == "plain":
        empty, _ = compose(place, omit="*", **kw)
        drawn = (image != empty).any(-1)
        image = np.where(drawn[..., None], image, np.uint8(PLAIN)).astype(np.uint8)
    return image, ann


def _pose(rng: np.random.Generator, name: str):
    """Diameter, angle and mirror drawn as the world draws a training object's pose."""
    lo, hi = SCALE_RANGE
    diameter = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    family = world_class(name).family
    spread = {"face": 15.0, "disc": 180.0}.get(family, 20.0)
    return diameter, float(rng.uniform(-spread, spread)), bool(rng.random() < 0.5)


def population_canvases(names, count: int, seed: int = 0, size: int = CANVAS, background: str = "world"):
    """``count`` canvases for the population version of Fig. 5 (§4): image i shows class ``names[i % len(names)]``
    at the canvas centre, posed as in training (see the module's docstring), with the appearance stream of
    validation render i (index ``VAL_OFFSET + i``), no distractor, occluder or context.

    Returns:
        (list of uint8 canvases, list of class indices, list of annotations).
    """
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("names: expected at least one class name")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count: expected a positive integer, got {count!r}")
    canvases, labels, anns = [], [], []
    for i in range(int(count)):
        name = names[i % len(names)]
        rng = np.random.default_rng((int(seed), VAL_OFFSET + i, 5))
        diameter, angle, mirror = _pose(rng, name)
        image, ann = probe_canvas(name, diameter, angle, mirror, seed, VAL_OFFSET + i, size, background)
        canvases.append(image)
        labels.append(ann.label)
        anns.append(ann)
    return canvases, labels, anns
