"""The classes of the embedded world: each one a composition of parts drawn in a unit frame.

Zeiler & Fergus's experiments need objects with *parts* whose position matters — faces with two eyes and a nose
(§4.3, Fig. 8), lettering on a vehicle and a ball beside a face (§4.2, Fig. 7), objects with and without rotational
symmetry (§4, Fig. 5). Each class below is a short function ``draw(pen, rng)`` that draws its parts with a
:class:`~zfcourse.data.drawing.Pen` (unit frame: x right, y down, object within about [-1, 1]²) and marks its
keypoints. Appearance (colours, part sizes, counts, texture) is drawn from ``rng``; pose (position, scale, rotation,
mirror) is the pen's.

``symmetry`` in the table is the order n of the shape's rotational symmetry: the drawing looks the same after a turn
of 360°/n (1 = asymmetric). Appearance jitter (e.g. a texture spot) can break it slightly; the *shape* has it.

Keypoint convention: ``left_eye`` is the eye on the **image's left** (smaller x) in the upright, unmirrored pose —
the viewer's left, i.e. the animal's right eye. The paper does not say which it means; the course uses the viewer's
convention throughout. When a face is mirrored (training flips, or ``mirror=True``) the names are swapped so that
``left_eye`` is still the eye on the image's left.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .drawing import Pen

# ---------------------------------------------------------------------------------------------------------------
# colour helpers


def _jitter(rng: np.random.Generator, base, amount: int = 25) -> tuple[int, int, int]:
    """``base`` RGB plus uniform noise in [-amount, amount] per channel, clipped to 0..255."""
    d = rng.integers(-amount, amount + 1, 3).tolist()
    return tuple(min(255, max(0, int(b) + int(e))) for b, e in zip(base, d))


def _pick(rng: np.random.Generator, palette, amount: int = 25) -> tuple[int, int, int]:
    """One colour from ``palette``, jittered."""
    return _jitter(rng, palette[int(rng.integers(len(palette)))], amount)


def _shade(c, f: float) -> tuple[int, int, int]:
    """Colour ``c`` scaled by ``f`` (darker for f < 1, lighter for f > 1), clipped."""
    return tuple(int(min(255, max(0, v * f))) for v in c)


BLACK = (15, 12, 10)
WHITE = (245, 245, 240)

# ---------------------------------------------------------------------------------------------------------------
# faces: two eyes and a nose in a class-specific layout, plus ears of a class-specific shape


def _eye(pen: Pen, name: str, x: float, y: float, sclera_r: float, pupil, sclera=WHITE, pupil_rx=None,
         pupil_ry=None) -> None:
    """An eye as a part: sclera/iris disc, then a pupil whose centre is the keypoint (pupil colour at the point)."""
    with pen.part(name):
        pen.circle((x, y), sclera_r, sclera)
        rx = pupil_rx if pupil_rx is not None else sclera_r * 0.55
        ry = pupil_ry if pupil_ry is not None else rx
        pen.ellipse((x, y), rx, ry, pupil)
    pen.mark(name, (x, y))


def draw_dog_face(pen: Pen, rng: np.random.Generator) -> None:
    """Dog face: round head, floppy ears hanging at the sides, light muzzle, dark round eyes, big black nose."""
    fur = _pick(rng, [(150, 95, 45), (200, 160, 100), (90, 60, 40), (230, 220, 200), (60, 50, 45)])
    ear = _shade(fur, 0.6 + 0.2 * rng.random())
    muzzle = _shade(fur, 1.35)
    ex, ey = 0.27 + 0.05 * rng.random(), -0.12 - 0.05 * rng.random()
    with pen.part("ears"):
        droop = 10 + 15 * rng.random()
        pen.ellipse((-0.72, 0.1), 0.24, 0.55, ear, tilt=-droop)
        pen.ellipse((0.72, 0.1), 0.24, 0.55, ear, tilt=droop)
    with pen.part("head"):
        pen.ellipse((0, 0.02), 0.7, 0.78, fur)
        if rng.random() < 0.5:  # a patch over one eye: texture that breaks left/right symmetry
            side = -1 if rng.random() < 0.5 else 1
            pen.ellipse((side * ex, ey), 0.24, 0.22, _shade(fur, 0.55))
        pen.ellipse((0, 0.42), 0.36, 0.3, muzzle)
        pen.line([(0, 0.36), (0, 0.5), (-0.12, 0.58)], BLACK, 0.035)
        pen.line([(0, 0.5), (0.12, 0.58)], BLACK, 0.035)
    pupil = _pick(rng, [(60, 35, 20), (25, 20, 15)], 10)
    _eye(pen, "left_eye", -ex, ey, 0.12, pupil)
    _eye(pen, "right_eye", ex, ey, 0.12, pupil)
    with pen.part("nose"):
        pen.ellipse((0, 0.3), 0.15, 0.1, BLACK)
    pen.mark("nose", (0, 0.3))


def draw_cat_face(pen: Pen, rng: np.random.Generator) -> None:
    """Cat face: wide head, pointed triangular ears, green/yellow eyes with slit pupils, small pink nose, whiskers."""
    fur = _pick(rng, [(120, 120, 125), (210, 140, 60), (70, 65, 60), (225, 215, 200)])
    stripe = _shade(fur, 0.6)
    with pen.part("ears"):
        for s in (-1, 1):
            pen.polygon([(s * 0.25, -0.45), (s * 0.72, -0.95), (s * 0.72, -0.25)], fur)
            pen.polygon([(s * 0.38, -0.45), (s * 0.65, -0.8), (s * 0.65, -0.38)], (230, 150, 160))
    with pen.part("head"):
        pen.ellipse((0, 0.05), 0.78, 0.62, fur)
        for k in (-0.15, 0.0, 0.15):  # tabby stripes on the forehead
            pen.line([(k, -0.52), (k * 1.2, -0.3)], stripe, 0.05)
    iris = _pick(rng, [(110, 190, 60), (220, 190, 40), (80, 160, 170)], 20)
    ex, ey = 0.3 + 0.04 * rng.random(), -0.08
    for name, x in (("left_eye", -ex), ("right_eye", ex)):
        _eye(pen, name, x, ey, 0.13, BLACK, sclera=iris, pupil_rx=0.035, pupil_ry=0.11)
    with pen.part("nose"):
        pen.polygon([(-0.09, 0.17), (0.09, 0.17), (0, 0.28)], (225, 120, 140))
    pen.mark("nose", (0, 0.21))
    with pen.part("whiskers"):
        for s in (-1, 1):
            for dy in (-0.06, 0.02, 0.1):
                pen.line([(s * 0.2, 0.3), (s * 0.85, 0.3 + dy * 2)], WHITE, 0.02)


def draw_owl_face(pen: Pen, rng: np.random.Generator) -> None:
    """Owl face: feathered head with ear tufts, two large pale facial discs, big orange/yellow eyes, hooked beak."""
    feathers = _pick(rng, [(120, 90, 60), (150, 140, 130), (170, 120, 70)])
    disc = _shade(feathers, 1.6)
    with pen.part("ears"):  # the "ear" tufts
        for s in (-1, 1):
            pen.polygon([(s * 0.3, -0.6), (s * 0.7, -1.0), (s * 0.75, -0.45)], _shade(feathers, 0.7))
    with pen.part("head"):
        pen.ellipse((0, 0.05), 0.8, 0.85, feathers)
        for row in range(3):  # feather chevrons on the chest
            y = 0.55 + 0.12 * row
            for x in (-0.3, 0.0, 0.3):
                pen.line([(x - 0.08, y), (x, y + 0.06), (x + 0.08, y)], _shade(feathers, 0.6), 0.03)
        ex = 0.34
        pen.circle((-ex, -0.05), 0.33, disc)
        pen.circle((ex, -0.05), 0.33, disc)
    iris = _pick(rng, [(250, 160, 20), (240, 210, 30)], 15)
    for name, x in (("left_eye", -ex), ("right_eye", ex)):
        _eye(pen, name, x, -0.05, 0.18, BLACK, sclera=iris, pupil_rx=0.1)
    with pen.part("nose"):  # the beak plays the nose
        pen.polygon([(-0.08, 0.14), (0.08, 0.14), (0, 0.38)], (200, 160, 60))
    pen.mark("nose", (0, 0.22))


# ---------------------------------------------------------------------------------------------------------------
# objects with lettering


def _glyphs(pen: Pen, rng: np.random.Generator, x0: float, x1: float, y0: float, y1: float, colour, n: int) -> None:
    """``n`` letter-like glyphs (2–3 strokes each between corners/mid-points of a cell) along [x0, x1] × [y0, y1]."""
    w = (x1 - x0) / n
    nodes = np.array([(0, 0), (0.5, 0), (1, 0), (0, 0.5), (1, 0.5), (0, 1), (0.5, 1), (1, 1)])
    stroke = 0.12 * (y1 - y0) + 0.02
    for i in range(n):
        cell = nodes * (0.7 * w, y1 - y0) + (x0 + i * w + 0.15 * w, y0)
        strokes = 2 + int(rng.integers(2))
        ends = rng.integers(0, 8, (strokes, 2))
        ends[:, 1] = (ends[:, 0] + 1 + ends[:, 1] % 7) % 8  # a different node: every stroke has a length
        for a, b in ends.tolist():
            pen.line(cell[[a, b]], colour, stroke)


def draw_car(pen: Pen, rng: np.random.Generator) -> None:
    """Car in side view: body, cabin with windows, two wheels, and lettering along the door."""
    body = _pick(rng, [(200, 30, 30), (30, 70, 200), (240, 200, 30), (40, 140, 60), (230, 230, 230)])
    letters = BLACK if sum(body) > 400 else WHITE
    with pen.part("body"):
        pen.polygon([(-0.55, -0.12), (-0.35, -0.5), (0.35, -0.5), (0.62, -0.12)], _shade(body, 0.85))
        pen.polygon([(-0.45, -0.15), (-0.3, -0.43), (-0.03, -0.43), (-0.03, -0.15)], (170, 210, 240))
        pen.polygon([(0.03, -0.15), (0.03, -0.43), (0.3, -0.43), (0.5, -0.15)], (170, 210, 240))
        pen.rect(-1.0, -0.15, 1.0, 0.42, body)
        pen.rect(0.88, -0.05, 1.0, 0.08, (255, 240, 150))  # headlight: the car faces +x before mirroring
    with pen.part("lettering"):
        _glyphs(pen, rng, -0.7, 0.7, 0.0, 0.28, letters, 4 + int(rng.integers(3)))
    pen.mark("lettering", (0.0, 0.14))
    for name, x in (("rear_wheel", -0.58), ("front_wheel", 0.58)):
        with pen.part(name):
            pen.circle((x, 0.45), 0.25, (25, 25, 25))
            pen.circle((x, 0.45), 0.11, (170, 170, 175))
        pen.mark(name, (x, 0.45))


def draw_sailboat(pen: Pen, rng: np.random.Generator) -> None:
    """Sailboat: hull, mast, a triangular sail carrying a sail number (lettering)."""
    hull = _pick(rng, [(120, 60, 30), (30, 40, 90), (200, 40, 40), (240, 240, 235)])
    sail = _pick(rng, [(245, 245, 235), (240, 200, 120), (220, 90, 60)], 15)
    with pen.part("hull"):
        pen.polygon([(-0.95, 0.45), (0.95, 0.45), (0.65, 0.85), (-0.6, 0.85)], hull)
    with pen.part("sail"):
        pen.line([(0.0, 0.45), (0.0, -1.0)], (80, 60, 40), 0.05)
        pen.polygon([(-0.05, -0.95), (-0.05, 0.35), (-0.85, 0.35)], sail)
        pen.polygon([(0.05, -0.7), (0.05, 0.35), (0.6, 0.35)], _shade(sail, 0.9))
    with pen.part("lettering"):
        _glyphs(pen, rng, -0.55, -0.12, -0.05, 0.2, BLACK, 2)
    pen.mark("lettering", (-0.32, 0.08))


# ---------------------------------------------------------------------------------------------------------------
# rotationally symmetric objects


def draw_tennis_ball(pen: Pen, rng: np.random.Generator) -> None:
    """Tennis ball: fuzzy yellow-green disc with the two curved white seams (symmetric under a half turn)."""
    felt = _pick(rng, [(200, 225, 40), (215, 235, 70), (180, 210, 30)], 15)
    with pen.part("ball"):
        pen.circle((0, 0), 0.9, felt)
        for _ in range(6):  # fuzz texture
            a, r = rng.random() * 2 * math.pi, 0.7 * rng.random()
            pen.circle((r * math.cos(a), r * math.sin(a)), 0.08, _shade(felt, 0.9))
    with pen.part("seams"):
        pen.line(_SEAM, WHITE, 0.07)
        pen.line(-_SEAM, WHITE, 0.07)
    pen.mark("centre", (0, 0))


# A seam: the arc of a circle of radius 0.8 centred at (-1.25, 0) that lies inside the ball (radius 0.9).
_t = np.linspace(-1.0, 1.0, 13)
_SEAM = np.stack([-1.25 + 0.8 * np.cos(_t), 0.8 * np.sin(_t)], axis=1)


def draw_flower(pen: Pen, rng: np.random.Generator) -> None:
    """Flower seen from above: n = 5..8 identical petals around a disc (rotational symmetry of order n)."""
    petal = _pick(rng, [(230, 60, 110), (240, 240, 245), (250, 200, 40), (150, 90, 210), (250, 130, 40)])
    centre = _pick(rng, [(250, 210, 40), (110, 70, 30)], 15)
    n = int(rng.integers(5, 9))
    length = 0.35 + 0.1 * rng.random()
    pen.symmetry = n
    with pen.part("petals"):
        for k in range(n):
            a = 2 * math.pi * k / n
            c = (0.25 + length) * np.array([math.cos(a), math.sin(a)])
            pen.ellipse(c, length, 0.18, petal, tilt=-math.degrees(a))
    with pen.part("centre"):
        pen.circle((0, 0), 0.28, centre)
        for k in range(n):
            a = 2 * math.pi * (k + 0.5) / n
            pen.circle((0.15 * math.cos(a), 0.15 * math.sin(a)), 0.04, _shade(centre, 0.6))
    pen.mark("centre", (0, 0))


def draw_wheel(pen: Pen, rng: np.random.Generator) -> None:
    """Wheel: tyre, rim, k = 4..8 spokes and a hub (rotational symmetry of order k)."""
    rim = _pick(rng, [(190, 190, 195), (200, 170, 60), (200, 50, 40)], 15)
    k = int(rng.integers(4, 9))
    pen.symmetry = k
    with pen.part("tyre"):
        pen.circle((0, 0), 0.95, (30, 30, 32))
        pen.circle((0, 0), 0.75, rim)
        pen.circle((0, 0), 0.66, (55, 55, 60))
    with pen.part("spokes"):
        for j in range(k):
            a = 2 * math.pi * j / k
            pen.line([(0, 0), (0.7 * math.cos(a), 0.7 * math.sin(a))], rim, 0.09)
    with pen.part("hub"):
        pen.circle((0, 0), 0.17, _shade(rim, 0.8))
    pen.mark("centre", (0, 0))


def draw_keyboard(pen: Pen, rng: np.random.Generator) -> None:
    """Keyboard: a grid of equal keys in a frame (rows × columns; symmetric under a half turn)."""
    frame = _pick(rng, [(50, 50, 55), (200, 200, 195), (30, 30, 35)], 10)
    key = _shade(frame, 1.8) if sum(frame) < 300 else _shade(frame, 0.6)
    rows, cols = int(rng.integers(3, 6)), int(rng.integers(8, 13))
    with pen.part("frame"):
        pen.rect(-1.0, -0.55, 1.0, 0.55, frame)
    with pen.part("keys"):
        w, h = 1.84 / cols, 0.94 / rows
        for r in range(rows):
            for c in range(cols):
                x, y = -0.92 + c * w, -0.47 + r * h
                pen.rect(x + 0.15 * w, y + 0.15 * h, x + 0.85 * w, y + 0.85 * h, key)
    pen.mark("centre", (0, 0))


def draw_ladder(pen: Pen, rng: np.random.Generator) -> None:
    """Ladder: two rails and 5–7 evenly spaced rungs (symmetric under a half turn)."""
    wood = _pick(rng, [(160, 110, 60), (190, 190, 200), (200, 160, 90)], 15)
    n = int(rng.integers(5, 8))
    with pen.part("rails"):
        pen.rect(-0.45, -1.0, -0.33, 1.0, wood)
        pen.rect(0.33, -1.0, 0.45, 1.0, wood)
    with pen.part("rungs"):
        for i in range(n):
            y = -1.0 + 2.0 * (i + 0.5) / n
            pen.rect(-0.36, y - 0.04, 0.36, y + 0.04, _shade(wood, 0.85))
    pen.mark("centre", (0, 0))


# ---------------------------------------------------------------------------------------------------------------
# other asymmetric objects


def draw_house(pen: Pen, rng: np.random.Generator) -> None:
    """House: walls, a triangular roof with chimney, a door and windows."""
    wall = _pick(rng, [(230, 220, 190), (200, 120, 90), (170, 190, 210), (240, 240, 240)])
    roof = _pick(rng, [(160, 40, 30), (70, 70, 80), (110, 70, 40)])
    door_side = -1 if rng.random() < 0.5 else 1
    with pen.part("roof"):
        pen.rect(0.35, -0.85, 0.55, -0.4, _shade(roof, 0.8))  # chimney
        pen.polygon([(-0.95, -0.1), (0.0, -0.9), (0.95, -0.1)], roof)
    with pen.part("walls"):
        pen.rect(-0.72, -0.1, 0.72, 0.92, wall)
    with pen.part("door"):
        pen.rect(door_side * 0.35 - 0.15, 0.42, door_side * 0.35 + 0.15, 0.92, (110, 70, 40))
    pen.mark("door", (door_side * 0.35, 0.67))
    with pen.part("windows"):
        for x in (-0.35, 0.35):
            pen.rect(x - 0.15, 0.05, x + 0.15, 0.3, (160, 210, 240))
        pen.rect(-door_side * 0.35 - 0.15, 0.5, -door_side * 0.35 + 0.15, 0.75, (160, 210, 240))


def draw_tree(pen: Pen, rng: np.random.Generator) -> None:
    """Fir tree: brown trunk below three stacked green triangles, sometimes with baubles."""
    green = _pick(rng, [(30, 120, 50), (60, 150, 60), (20, 90, 60)], 20)
    with pen.part("trunk"):
        pen.rect(-0.12, 0.55, 0.12, 1.0, (100, 65, 35))
    with pen.part("crown"):
        for i, (top, bottom, half) in enumerate(((-1.0, -0.25, 0.45), (-0.6, 0.15, 0.62), (-0.2, 0.6, 0.8))):
            pen.polygon([(0, top), (half, bottom), (-half, bottom)], _shade(green, 1.0 + 0.1 * i))
        if rng.random() < 0.5:
            for _ in range(4):
                y = -0.3 + 0.8 * rng.random()
                x = (rng.random() - 0.5) * (0.4 + 0.9 * (y + 0.3))
                pen.circle((x, y), 0.06, _pick(rng, [(230, 30, 30), (240, 200, 30)], 10))
    pen.mark("top", (0, -1.0))


# ---------------------------------------------------------------------------------------------------------------
# the class table


@dataclass(frozen=True)
class ObjectClass:
    """One class of the embedded world.

    Attributes:
        name: e.g. ``"dog_face"``.
        draw: ``draw(pen, rng)`` — draws the parts in the unit frame and marks the keypoints.
        symmetry: order n of rotational symmetry of the shape (1 = asymmetric); Fig. 5 contrasts the two kinds.
        face: True for the face classes (``left_eye``, ``right_eye``, ``nose`` keypoints; kept near frontal).
        parts: the part names ``draw`` uses (for ``omit=``).
        keypoints: the keypoint names it marks.
    """
    name: str
    draw: Callable[[Pen, np.random.Generator], None]
    symmetry: int
    face: bool
    parts: tuple[str, ...]
    keypoints: tuple[str, ...]

    @property
    def symmetric(self) -> bool:
        """True when the shape has rotational symmetry (order ≥ 2)."""
        return self.symmetry >= 2


_FACE_KEYPOINTS = ("left_eye", "right_eye", "nose")
CLASSES: tuple[ObjectClass, ...] = (
    ObjectClass("dog_face", draw_dog_face, 1, True, ("ears", "head", "left_eye", "right_eye", "nose"), _FACE_KEYPOINTS),
    ObjectClass("cat_face", draw_cat_face, 1, True,
                ("ears", "head", "left_eye", "right_eye", "nose", "whiskers"), _FACE_KEYPOINTS),
    ObjectClass("owl_face", draw_owl_face, 1, True, ("ears", "head", "left_eye", "right_eye", "nose"), _FACE_KEYPOINTS),
    ObjectClass("car", draw_car, 1, False, ("body", "lettering", "rear_wheel", "front_wheel"),
                ("lettering", "rear_wheel", "front_wheel")),
    ObjectClass("sailboat", draw_sailboat, 1, False, ("hull", "sail", "lettering"), ("lettering",)),
    ObjectClass("house", draw_house, 1, False, ("roof", "walls", "door", "windows"), ("door",)),
    ObjectClass("tree", draw_tree, 1, False, ("trunk", "crown"), ("top",)),
    ObjectClass("tennis_ball", draw_tennis_ball, 2, False, ("ball", "seams"), ("centre",)),
    ObjectClass("keyboard", draw_keyboard, 2, False, ("frame", "keys"), ("centre",)),
    ObjectClass("ladder", draw_ladder, 2, False, ("rails", "rungs"), ("centre",)),
    ObjectClass("flower", draw_flower, 5, False, ("petals", "centre"), ("centre",)),  # order n = its petal count
    ObjectClass("wheel", draw_wheel, 4, False, ("tyre", "spokes", "hub"), ("centre",)),  # order k = its spoke count
)
CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in CLASSES)
NUM_CLASSES = len(CLASSES)
FACE_CLASSES: tuple[str, ...] = tuple(c.name for c in CLASSES if c.face)
SYMMETRIC_CLASSES: tuple[str, ...] = tuple(c.name for c in CLASSES if c.symmetric)


def class_index(name_or_label) -> int:
    """The label of a class given its name (or a label, checked). Raises ``KeyError`` naming the valid names."""
    if isinstance(name_or_label, (int, np.integer)):
        if not 0 <= int(name_or_label) < NUM_CLASSES:
            raise KeyError(f"label: expected 0..{NUM_CLASSES - 1}, got {name_or_label}")
        return int(name_or_label)
    try:
        return CLASS_NAMES.index(name_or_label)
    except ValueError:
        raise KeyError(f"class_name: unknown class {name_or_label!r}; valid names: {', '.join(CLASS_NAMES)}") from None


def class_table() -> list[dict]:
    """The class table as rows (label, name, symmetric, symmetry order, face, parts, keypoints) for display.

    Flower and wheel have order ≥ 5 and ≥ 4: their exact order is drawn per image (petal / spoke count); the
    table gives the smallest.
    """
    return [dict(label=i, name=c.name, symmetric=c.symmetric, symmetry=c.symmetry, face=c.face,
                 parts=", ".join(c.parts), keypoints=", ".join(c.keypoints)) for i, c in enumerate(CLASSES)]
