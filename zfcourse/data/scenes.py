"""Composing scenes: a textured background, distractor objects, and the main object — deterministic by (seed, index).

:func:`render` is the embedded world's one source of images: ``render(seed, index)`` always returns the same
128×128 uint8 RGB image and :class:`~zfcourse.data.annotation.Annotation`, on any machine (numpy's
``default_rng((seed, index))`` drives every choice; PIL draws the polygons). :func:`render_scene` draws a scene
from explicit :class:`ObjectSpec` s — the probe sets for Fig. 5/7/8 are built with it.

The recipe mirrors what makes ImageNet hard enough for the paper's observations to show: the class is defined by a
*composition of parts* (not a colour); size, position, pose, colour and texture vary; the background is cluttered;
other classes appear as smaller, partly visible distractors (so the occlusion experiment of §4.2 can tell "the
model looks at the object" from "the model looks at context").
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .annotation import Annotation, _swap_side, box_is_empty, clip_box
from .backgrounds import background
from .classes import CLASSES, NUM_CLASSES, class_index
from .drawing import Pen

IMAGE_SIZE = 128  # the render size (the paper's 256, halved)


@dataclass(frozen=True)
class ObjectSpec:
    """Where and how to draw one object.

    Attributes:
        class_name: a name from ``CLASS_NAMES`` (or a label).
        centre: (x, y) of the object's unit-frame origin, in pixels.
        scale: pixels per unit; the object is about ``2 * scale`` pixels across.
        angle: rotation in degrees, counter-clockwise on screen.
        mirror: draw mirrored left–right.
    """
    class_name: str | int
    centre: tuple[float, float]
    scale: float
    angle: float = 0.0
    mirror: bool = False


def _rng(seed: int, index: int) -> np.random.Generator:
    if int(seed) < 0 or int(index) < 0:
        raise ValueError(f"seed, index: expected non-negative integers, got seed={seed}, index={index}")
    return np.random.default_rng((int(seed), int(index)))


def draw_object(draw: ImageDraw.ImageDraw, spec: ObjectSpec, rng: np.random.Generator, omit=()):
    """Draw one object; return (float box, keypoints in image left/right convention, symmetry order).

    ``omit`` names parts in the *image* convention (``left_eye`` = the eye that ends up on the image's left), so a
    mirrored face has its part names translated before drawing.
    """
    cls = CLASSES[class_index(spec.class_name)]
    omit = {_swap_side(p) for p in omit} if spec.mirror else set(omit)
    pen = Pen(draw, spec.centre, spec.scale, spec.angle, spec.mirror, omit)
    cls.draw(pen, rng)
    keypoints = pen.keypoints
    if spec.mirror:
        keypoints = {_swap_side(k): v for k, v in keypoints.items()}
    return pen.box, keypoints, pen.symmetry or cls.symmetry


def _int_box(box, size: int):
    # Pixels whose centres the polygon covers lie within [floor(lo), ceil(hi)]; +1 makes the end exclusive.
    x0, y0, x1, y1 = box
    return clip_box((math.floor(x0), math.floor(y0), math.ceil(x1) + 1, math.ceil(y1) + 1), size)


def render_scene(specs, seed: int = 0, index: int = 0, size: int = IMAGE_SIZE, main: int = 0, omit=(),
                 background_on: bool = True, rng: np.random.Generator | None = None):
    """Draw the objects ``specs`` (in order, later ones on top) on a textured background.

    Args:
        specs: a list of :class:`ObjectSpec`.
        seed, index: the random stream for the background and the objects' appearance.
        rng: continue this generator instead (then ``seed``/``index`` are ignored).
        size: image side in pixels.
        main: which spec is the annotated main object (label, box, keypoints).
        omit: parts of the main object not to draw (``"*"`` for all of it) — everything else stays identical.
        background_on: False draws on mid-grey (for figures that need a clean object).

    Returns:
        (image uint8 (size, size, 3), :class:`Annotation`).
    """
    if not specs:
        raise ValueError("specs: expected at least one ObjectSpec, got none")
    if not 0 <= main < len(specs):
        raise ValueError(f"main: expected an index into specs (0..{len(specs) - 1}), got {main}")
    rng = _rng(seed, index) if rng is None else rng
    img = background(rng, size) if background_on else Image.new("RGB", (size, size), (128, 128, 128))
    draw = ImageDraw.Draw(img)
    objects, ann = [], None
    for i, spec in enumerate(specs):
        box, keypoints, symmetry = draw_object(draw, spec, rng, omit if i == main else ())
        ibox = _int_box(box, size)
        if not box_is_empty(ibox):
            objects.append((CLASSES[class_index(spec.class_name)].name, ibox))
        if i == main:
            label = class_index(spec.class_name)
            ann = Annotation(label, CLASSES[label].name, ibox, keypoints, [], symmetry)
    ann.objects = objects
    return np.array(img), ann  # a writable copy


def random_specs(rng: np.random.Generator, label: int, size: int = IMAGE_SIZE) -> list[ObjectSpec]:
    """The random layout of one training image: 0–3 distractors of other classes near the border, then the main
    object of class ``label`` near the centre (drawn last, on top).

    Main object: about 66–92 px across (scale 0.26–0.36 × size), centre within ±10% of the image centre, rotated
    ±8° for faces (kept near frontal), ±20° for asymmetric objects, any angle for symmetric ones; mirrored half the
    time. Distractors: 26–46 px across, centred 30–60% of the side away from the centre, so they are often cut by
    the border or the 112 crop — smaller and partly visible.
    """
    cls = CLASSES[label]
    scale = size * rng.uniform(0.26, 0.36)
    centre = tuple(size / 2 + size * rng.uniform(-0.1, 0.1, 2))
    angle = rng.uniform(-8, 8) if cls.face else (rng.uniform(-180, 180) if cls.symmetric else rng.uniform(-20, 20))
    main = ObjectSpec(cls.name, centre, scale, angle, bool(rng.random() < 0.5))
    specs = []
    for _ in range(int(rng.integers(0, 4))):
        other = (label + 1 + int(rng.integers(NUM_CLASSES - 1))) % NUM_CLASSES
        a, r = rng.uniform(0, 2 * math.pi), size * rng.uniform(0.3, 0.6)
        specs.append(ObjectSpec(CLASSES[other].name, (size / 2 + r * math.cos(a), size / 2 + r * math.sin(a)),
                                size * rng.uniform(0.1, 0.18), rng.uniform(-30, 30), bool(rng.random() < 0.5)))
    return specs + [main]


def label_of(index: int) -> int:
    """The label of render ``index``: ``index mod NUM_CLASSES`` — every split is class-balanced by construction."""
    return int(index) % NUM_CLASSES


def render(seed: int, index: int, label: int | str | None = None, size: int = IMAGE_SIZE, omit=()):
    """Image ``index`` of the embedded world with seed ``seed``: (uint8 (size, size, 3) RGB, :class:`Annotation`).

    Deterministic: the same (seed, index) gives the same pixels and annotation on every machine. The label is
    ``index mod NUM_CLASSES`` unless ``label`` is given. ``omit`` leaves parts of the main object undrawn
    (e.g. ``("left_eye",)``, or ``("*",)`` for the whole object) while keeping every other pixel identical.

    Example:
        >>> img, ann = render(0, 3)
        >>> img.shape, img.dtype, ann.class_name
        ((128, 128, 3), dtype('uint8'), 'car')
    """
    lab = label_of(index) if label is None else class_index(label)
    rng = _rng(seed, index)
    specs = random_specs(rng, lab, size)
    return render_scene(specs, size=size, main=len(specs) - 1, omit=omit, rng=rng)
