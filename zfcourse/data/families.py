"""The classes of the embedded world v2: families that share a silhouette and differ in their parts.

ImageNet forces a convnet to learn parts because many classes share an outline and a palette — a beagle and a
collie are both brown dogs — and differ in ears, muzzle, markings (the dog breeds are a tenth of ImageNet). The
paper's §4 observations (Fig. 2's part detectors in layers 3–5, Fig. 7's occlusion maps on faces and wheels, Table
1's consistency of eyes and noses) need exactly that pressure. So the embedded world is built from *families*:

* ``face`` — one head (an ellipse) with eyes and a nose; the species/breed is in the ears, muzzle, eye shape,
  whiskers, mane, markings. Six dog breeds among the 14 pre-training faces; five more faces are held out.
* ``vehicle`` — one box-like body; car, taxi, van, ambulance, bus, truck, tractor, locomotive differ in cabin,
  wheel count and size, windows, lettering, roof sign, cross.
* ``disc`` — one circle: wheel (spokes), clock (ticks, hands), plate (rim), target (rings), pizza (cuts, toppings),
  star (four points), flower (petals).
* ``lattice`` — one frame: ladder, fence, grille, window, bookshelf.   * ``keypad`` — keyboard, calculator, chessboard.
* ``boat`` — sailboat, motorboat, steamship (habitually on water).   * ``building`` — house, church.

A class here has **no colour**: every drawing refers to *slots* 0..3 of its object, and the scene (``world.py``)
fills each slot with a colour and texture drawn from one distribution shared by all classes. Omitting a
distinguishing part (``omit=("ears",)``) therefore leaves a face that another class could have drawn.

Each class is ``draw(pen, rng)`` in a unit frame (x right, y down, the object within about [-1, 1]²) using a
:class:`PartPen`; it records keypoints (faces: ``left_eye``, ``right_eye``, ``nose`` — *left* is the image's left)
and its rotational symmetry order. Continuous shape variation inside each class comes from ``rng``.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .drawing import Pen

SLOTS = 4  # colour/texture slots per object; slot 0 is the body


class PartPen(Pen):
    """A :class:`~zfcourse.data.drawing.Pen` that draws region ids instead of colours and records part boxes.

    The scene draws into a single-channel id image; slot ``k`` of this object is drawn as ``base + k``, so the scene
    can texture every (object, slot) region afterwards. ``yaw`` (faces only, −1..1) moves the inner features of a face
    sideways, as a head turned away from the camera would. :attr:`parts` maps each part name to the image-pixel
    extent of its primitives (float, unclipped), recorded whether or not the part was omitted.
    """

    def __init__(self, draw, centre, scale, angle=0.0, mirror=False, omit=(), base: int = 1, yaw: float = 0.0):
        super().__init__(draw, centre, scale, angle, mirror, omit)
        self.base, self.yaw = int(base), float(yaw)
        self.parts: dict[str, list[np.ndarray]] = {}

    def _track(self, img_pts: np.ndarray, pad: float = 0.0) -> None:
        n = len(self._extent)
        super()._track(img_pts, pad)
        if self._part is not None:
            self.parts.setdefault(self._part, []).append(self._extent[n])

    def part_boxes(self) -> dict[str, tuple[float, float, float, float]]:
        """(x0, y0, x1, y1) float extent of each named part."""
        out = {}
        for name, pts in self.parts.items():
            p = np.concatenate(pts)
            out[name] = (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))
        return out

    def fill(self, slot: int) -> int:
        return self.base + int(slot)

    # slot-addressed shorthands
    def poly(self, pts, slot):
        self.polygon(pts, self.fill(slot))

    def ell(self, c, rx, ry, slot, tilt=0.0):
        self.ellipse(c, rx, ry, self.fill(slot), tilt)

    def disc(self, c, r, slot):
        self.circle(c, r, self.fill(slot))

    def block(self, x0, y0, x1, y1, slot):
        self.rect(x0, y0, x1, y1, self.fill(slot))

    def stroke(self, pts, slot, width):
        # PIL's wide lines leave gaps at joints and ignore the pen's scale for width < 1 px: draw quads instead.
        pts = np.asarray(pts, dtype=float)
        for a, b in zip(pts[:-1], pts[1:]):
            d = b - a
            n = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-12) * width / 2
            self.polygon([a + n, b + n, b - n, a - n], self.fill(slot))

    def ring(self, c, r_out, r_in, slot, n=24):
        t = np.linspace(0, 2 * math.pi, n, endpoint=False)
        outer = np.stack([np.cos(t), np.sin(t)], 1)
        # a ring as n quads between the two circles (the centre stays undrawn)
        for i in range(n):
            j = (i + 1) % n
            self.polygon([np.add(c, outer[i] * r_out), np.add(c, outer[j] * r_out),
                          np.add(c, outer[j] * r_in), np.add(c, outer[i] * r_in)], self.fill(slot))

    @contextmanager
    def named(self, name):
        with self.part(name):
            yield self


@dataclass(frozen=True)
class WorldClass:
    """One class: its name, family, drawing function, rotational symmetry order and habitual context.

    Attributes:
        name: e.g. ``"dog_beagle"``.
        family: ``face``, ``vehicle``, ``disc``, ``lattice``, ``keypad``, ``boat`` or ``building``.
        draw: ``draw(pen, rng)``; returns the symmetry order when it is drawn per image (wheel spokes), else None.
        parts: the named parts a scene may omit (the distinguishing ones first).
        symmetry: order n of rotational symmetry of the shape (1 = none).
        context: habitual context — ``"road"``, ``"water"``, ``"ball"`` or ``""``.
        heldout: True for classes never used in pre-training (chapter 10's transfer classes).
    """
    name: str
    family: str
    draw: Callable
    parts: tuple[str, ...]
    symmetry: int = 1
    context: str = ""
    heldout: bool = False
    kw: dict = field(default_factory=dict, compare=False)


# ---------------------------------------------------------------------------------------------------------------
# faces


def _u(rng, lo, hi):
    return float(rng.uniform(lo, hi))


def draw_face(pen: PartPen, rng, ears="none", muzzle="none", eyes="round", extras=()) -> None:
    """A face: head ellipse (slot 0) with eyes (slots 1/2), a nose (slot 2) and the class's parts.

    Shape varies within the class (head aspect, ear length and angle, eye spacing, muzzle length); ``pen.yaw``
    shifts the inner features sideways. Keypoints: ``left_eye``, ``right_eye`` (pupil centres), ``nose``.
    """
    hx, hy = _u(rng, 0.6, 0.72), _u(rng, 0.62, 0.78)
    ex, ey = _u(rng, 0.22, 0.32), _u(rng, -0.2, -0.08)
    yaw = pen.yaw

    def inner(x):  # turned head: inner features slide towards the side the head turns to
        return x + 0.3 * yaw * (1 - 0.5 * (x / hx) ** 2)

    if "mane" in extras:
        with pen.named("mane"):
            n = int(rng.integers(12, 18))
            t = np.linspace(0, 2 * math.pi, 2 * n, endpoint=False)
            r = np.where(np.arange(2 * n) % 2 == 0, _u(rng, 1.0, 1.12), 0.8)
            pen.poly(np.stack([np.cos(t) * r * hx / 0.7, np.sin(t) * r * hy / 0.7], 1), 3)
    if "antlers" in extras:
        with pen.named("antlers"):
            for s in (-1, 1):
                base = np.array([s * 0.3, -hy * 0.9])
                tip = base + [s * 0.35, -0.55]
                pen.stroke([base, tip], 3, 0.08)
                for f in (0.4, 0.75):
                    p = base + (tip - base) * f
                    pen.stroke([p, p + [s * 0.22, -0.12]], 3, 0.06)
    with pen.named("ears"):
        _ears(pen, rng, ears, hx, hy)
    with pen.named("head"):
        pen.ell((0, 0), hx, hy, 0)
    if "mask" in extras:
        with pen.named("mask"):
            pen.block(-hx * 0.92, ey - 0.1, hx * 0.92, ey + 0.1, 3)
    if "patches" in extras:
        with pen.named("patches"):
            for s in (-1, 1):
                pen.ell((inner(s * ex), ey + 0.02), 0.16, 0.13, 3, tilt=s * 25)
    if "beard" in extras:
        with pen.named("beard"):
            pen.poly([(-0.3, 0.3), (0.3, 0.3), (0.2, hy + 0.25), (0, hy + 0.35), (-0.2, hy + 0.25)], 3)
    nose_y = _muzzle(pen, rng, muzzle, inner, hy)
    _eyes(pen, rng, eyes, inner, ex, ey)
    with pen.named("nose"):
        if muzzle == "beak":
            pen.poly([(inner(-0.1), nose_y - 0.08), (inner(0.1), nose_y - 0.08), (inner(0), nose_y + 0.2)], 2)
        else:
            r = _u(rng, 0.07, 0.1) if "big_nose" not in extras else _u(rng, 0.13, 0.17)
            pen.ell((inner(0), nose_y), r * 1.3, r, 2)
    pen.mark("nose", (inner(0), nose_y))
    if "whiskers" in extras:
        with pen.named("whiskers"):
            for s in (-1, 1):
                for dy in (-0.07, 0.03, 0.13):
                    pen.stroke([(inner(s * 0.15), nose_y + 0.05), (inner(s * 0.85), nose_y + dy * 2)], 1, 0.025)


def _ears(pen, rng, kind, hx, hy):
    if kind == "none":
        return
    for s in (-1, 1):
        if kind == "floppy" or kind == "floppy_long":
            length = _u(rng, 0.45, 0.6) * (1.5 if kind == "floppy_long" else 1.0)
            pen.ell((s * (hx + 0.02), -0.1 + length * 0.6), 0.2, length, 1, tilt=s * _u(rng, 5, 20))
        elif kind in ("pointed", "pointed_tall", "pointed_short"):
            h = {"pointed": 0.45, "pointed_tall": 0.7, "pointed_short": 0.3}[kind] * _u(rng, 0.85, 1.15)
            x0 = s * _u(rng, 0.15, 0.25)
            pen.poly([(x0, -hy * 0.75), (s * (hx * 0.95), -hy * 0.35), (s * (hx * 0.75), -hy * 0.75 - h)], 1)
        elif kind == "folded":  # a pointed ear whose tip folds forward and down
            x0 = s * _u(rng, 0.15, 0.25)
            pen.poly([(x0, -hy * 0.8), (s * hx * 0.95, -hy * 0.45), (s * hx * 0.9, -hy * 1.05),
                      (s * hx * 0.55, -hy * 1.05)], 1)
            pen.poly([(s * hx * 0.9, -hy * 1.05), (s * hx * 0.55, -hy * 1.05), (s * hx * 0.75, -hy * 0.6)], 3)
        elif kind == "round":
            r = _u(rng, 0.16, 0.22)
            pen.disc((s * hx * 0.72, -hy * 0.82), r, 1)
        elif kind == "side_round":
            r = _u(rng, 0.18, 0.24)
            pen.disc((s * (hx + 0.08), -0.02), r, 1)
        elif kind == "huge_round":
            r = _u(rng, 0.32, 0.4)
            pen.disc((s * hx * 0.85, -hy * 0.75), r, 1)
        elif kind == "tufts":
            pen.poly([(s * 0.25, -hy * 0.7), (s * (hx + 0.05), -hy * 1.3), (s * (hx * 0.8), -hy * 0.5)], 1)
        elif kind == "bat":
            w = _u(rng, 0.2, 0.26)
            cx = s * hx * 0.6
            pen.poly([(cx - w, -hy * 0.6), (cx + w, -hy * 0.6), (cx + s * 0.1 + w * 0.6, -hy * 1.35),
                      (cx + s * 0.1, -hy * 1.45), (cx + s * 0.1 - w * 0.6, -hy * 1.35)], 1)
        elif kind == "long_upright":
            length = _u(rng, 0.5, 0.7)
            pen.ell((s * 0.25, -hy - length * 0.75), 0.13, length, 1, tilt=-s * _u(rng, 0, 15))
        else:
            raise ValueError(f"ears: unknown kind {kind!r}")


def _muzzle(pen, rng, kind, inner, hy):
    """Draw the muzzle; return the nose's y."""
    with pen.named("muzzle"):
        if kind == "short":
            pen.ell((inner(0), 0.3), _u(rng, 0.28, 0.34), _u(rng, 0.2, 0.25), 3)
            return 0.22
        if kind == "long":
            length = _u(rng, 0.4, 0.55)
            pen.ell((inner(0), 0.15 + length * 0.5), 0.24, length, 3)
            return 0.12 + length * 0.8
        if kind == "snout":
            tip = hy + _u(rng, 0.05, 0.25)
            pen.poly([(inner(-0.3), 0.1), (inner(0.3), 0.1), (inner(0), tip)], 3)
            return tip - 0.06
        if kind == "jowls":
            for s in (-1, 1):
                pen.disc((inner(s * 0.2), 0.38), _u(rng, 0.2, 0.25), 3)
            return 0.2
    return 0.2 if kind in ("none", "beak") else None


def _eyes(pen, rng, kind, inner, ex, ey):
    for name, s in (("left_eye", -1), ("right_eye", 1)):
        x = inner(s * ex)
        with pen.named(name):
            if kind == "disc":
                pen.disc((x, ey), 0.24, 3)
                pen.disc((x, ey), 0.13, 1)
                pen.disc((x, ey), 0.07, 2)
            elif kind == "slit":
                pen.ell((x, ey), 0.12, 0.1, 1)
                pen.ell((x, ey), 0.03, 0.09, 2)
            elif kind == "small":
                pen.disc((x, ey), 0.065, 2)
            else:
                pen.disc((x, ey), 0.11, 1)
                pen.disc((x, ey), 0.06, 2)
        pen.mark(name, (x, ey))


# ---------------------------------------------------------------------------------------------------------------
# vehicles


def draw_vehicle(pen: PartPen, rng, body="car", wheels=2, wheel_r=0.22, windows="cabin", extras=()) -> None:
    """A vehicle seen from the side: body (slot 0), windows (slot 1), wheels (tyres slot 2, hubs slot 1), and the
    class's parts — lettering, roof sign, cross, light bar, chimney, cargo box, ladder, pantograph, open bed."""
    length = _u(rng, 0.9, 1.0)
    top = {"car": -0.05, "van": -0.55, "bus": -0.5, "truck": -0.3, "tractor": -0.1, "loco": -0.35}[body]
    top += _u(rng, -0.06, 0.06)
    bottom = 0.35
    wr = wheel_r * _u(rng, 0.9, 1.1)
    with pen.named("body"):
        if body == "truck":
            pen.block(-length, top - 0.25, 0.3, bottom, 0)  # cargo box
            pen.block(0.35, -0.05, length, bottom, 0)  # cab
        elif body == "tractor":
            pen.block(-0.2, -0.05, length, bottom - 0.05, 0)
        else:
            pen.block(-length, top, length, bottom, 0)
        if body in ("car",):
            pen.poly([(-0.55, top), (-0.35, top - 0.42), (0.35, top - 0.42), (0.6, top)], 0)
    with pen.named("windows"):
        if windows == "cabin":
            n = int(extras.count("long")) + 2
            xs = np.linspace(-0.4, 0.4, n + 1)
            for a, b in zip(xs[:-1], xs[1:]):
                pen.block(a + 0.03, top - 0.36, b - 0.03, top - 0.04, 1)
        elif windows == "front":
            pen.block(length - 0.35, top + 0.06, length - 0.06, top + 0.35, 1)
        elif windows == "row":
            n = int(rng.integers(5, 8))
            xs = np.linspace(-length + 0.1, length - 0.1, n + 1)
            for a, b in zip(xs[:-1], xs[1:]):
                pen.block(a + 0.03, top + 0.08, b - 0.03, top + 0.32, 1)
        elif windows == "cab":
            pen.block(0.45, 0.0, length - 0.08, 0.18, 1) if body == "truck" else pen.block(0.1, -0.35, 0.55, -0.1, 1)
        elif windows == "cab_rear":
            pen.block(-length + 0.08, top + 0.06, -length + 0.4, top + 0.3, 1)
    if body == "tractor":
        with pen.named("body"):
            pen.block(0.05, -0.45, 0.6, -0.05, 0)
        with pen.named("windows"):
            pen.block(0.12, -0.38, 0.53, -0.12, 1)
        with pen.named("exhaust"):
            pen.block(0.8, -0.5, 0.86, -0.05, 2)
    with pen.named("wheels"):
        if body == "tractor":
            centres = [(-0.35, bottom - 0.05, 0.5 * _u(rng, 0.9, 1.1)), (0.75, bottom + 0.05, 0.2)]
        else:
            xs = np.linspace(-length + 0.35, length - 0.35, wheels) if wheels > 1 else [0.0]
            centres = [(x, bottom, wr) for x in xs]
        for x, y, r in centres:
            pen.disc((x, y), r, 2)
            pen.disc((x, y), r * 0.45, 1)
        pen.mark("rear_wheel", centres[0][:2])
        pen.mark("front_wheel", centres[-1][:2])
    if "lettering" in extras:
        with pen.named("lettering"):
            y0 = (top + bottom) / 2 + 0.05 if body != "truck" else top
            n = int(rng.integers(4, 7))
            x = -length + 0.2
            for _ in range(n):  # glyph-like marks: a bar with a random stroke
                w = _u(rng, 0.08, 0.14)
                pen.block(x, y0, x + 0.035, y0 + 0.16, 3)
                k = int(rng.integers(3))
                yy = y0 + (0.0, 0.07, 0.13)[k]
                pen.block(x, yy, x + w, yy + 0.035, 3)
                x += w + 0.06
            pen.mark("lettering", (-length + 0.2 + (x + length - 0.2) / 2 - 0.1, y0 + 0.08))
    if "sign" in extras:
        with pen.named("sign"):
            pen.block(-0.15, top - 0.6, 0.15, top - 0.42, 3)
    if "cross" in extras:
        with pen.named("cross"):
            cx, cy = -0.2, (top + bottom) / 2
            pen.block(cx - 0.2, cy - 0.06, cx + 0.2, cy + 0.06, 3)
            pen.block(cx - 0.06, cy - 0.2, cx + 0.06, cy + 0.2, 3)
    if "lightbar" in extras:
        with pen.named("lightbar"):
            pen.block(0.1, top - 0.12, 0.45, top, 3)
    if "chimney" in extras:
        with pen.named("chimney"):
            pen.poly([(0.5, top), (0.65, top), (0.72, top - 0.35), (0.43, top - 0.35)], 3)
    if "ladder" in extras:
        with pen.named("ladder"):
            pen.block(-length, top - 0.42, 0.2, top - 0.38, 3)
            pen.block(-length, top - 0.3, 0.2, top - 0.26, 3)
            for x in np.linspace(-length + 0.05, 0.15, 8):
                pen.block(x, top - 0.42, x + 0.03, top - 0.26, 3)
    if "pantograph" in extras:
        with pen.named("pantograph"):
            pen.stroke([(-0.3, top), (0.0, top - 0.4), (0.3, top)], 3, 0.04)
            pen.block(-0.35, top - 0.44, 0.35, top - 0.38, 3)
    if "bed" in extras:
        with pen.named("bed"):
            pen.block(-length, top - 0.1, -0.45, top - 0.02, 3)
            pen.block(-length, top - 0.3, -length + 0.05, top, 3)


# ---------------------------------------------------------------------------------------------------------------
# discs, lattices, keypads, boats, buildings


def draw_disc(pen: PartPen, rng, kind="plate"):
    """A disc (slot 0) and what is on it; returns the symmetry order drawn when it varies per image."""
    r = 0.9
    with pen.named("disc"):
        pen.disc((0, 0), r, 0)
    sym = None
    with pen.named("inner"):
        if kind == "wheel":
            n = int(rng.choice([5, 6, 8]))
            pen.ring((0, 0), r, r * 0.78, 2)
            for k in range(n):
                a = 2 * math.pi * k / n
                pen.stroke([(0, 0), (math.cos(a) * r * 0.8, math.sin(a) * r * 0.8)], 1, 0.08)
            pen.disc((0, 0), 0.18, 1)
            sym = n
        elif kind == "steering":
            pen.ring((0, 0), r, r * 0.75, 2)
            for a in (90, 210, 330):
                a = math.radians(a)
                pen.stroke([(0, 0), (math.cos(a) * r * 0.8, math.sin(a) * r * 0.8)], 1, 0.2)
            pen.disc((0, 0), 0.25, 1)
            sym = 3
        elif kind == "clock":
            for k in range(12):
                a = 2 * math.pi * k / 12
                pen.stroke([(math.cos(a) * 0.7, math.sin(a) * 0.7), (math.cos(a) * 0.85, math.sin(a) * 0.85)], 2,
                           0.07 if k % 3 == 0 else 0.04)
            h, m = _u(rng, 0, 2 * math.pi), _u(rng, 0, 2 * math.pi)
            pen.stroke([(0, 0), (math.sin(h) * 0.42, -math.cos(h) * 0.42)], 2, 0.09)
            pen.stroke([(0, 0), (math.sin(m) * 0.65, -math.cos(m) * 0.65)], 2, 0.05)
            pen.disc((0, 0), 0.07, 2)
        elif kind == "plate":
            pen.disc((0, 0), r * _u(rng, 0.6, 0.72), 1)
        elif kind == "target":
            for i, f in enumerate((0.75, 0.5, 0.25)):
                pen.disc((0, 0), r * f, 1 + i % 2)
        elif kind == "pizza":
            n = int(rng.choice([6, 8]))
            pen.ring((0, 0), r, r * 0.82, 1)
            for k in range(n):
                a = 2 * math.pi * k / n
                pen.stroke([(0, 0), (math.cos(a) * r * 0.82, math.sin(a) * r * 0.82)], 2, 0.04)
                b = a + math.pi / n
                pen.disc((math.cos(b) * 0.5, math.sin(b) * 0.5), 0.1, 3)
            sym = n
        elif kind == "star":
            t = np.linspace(0, 2 * math.pi, 8, endpoint=False)
            rr = np.where(np.arange(8) % 2 == 0, r * 0.85, r * _u(rng, 0.2, 0.3))
            pen.poly(np.stack([np.cos(t) * rr, np.sin(t) * rr], 1), 1)
            pen.disc((0, 0), 0.1, 2)
        elif kind == "button":
            for a in (45, 135, 225, 315):
                a = math.radians(a)
                pen.disc((math.cos(a) * 0.3, math.sin(a) * 0.3), 0.12, 2)
            pen.ring((0, 0), r * 0.8, r * 0.7, 1)
        elif kind == "flower":
            n = int(rng.choice([5, 6, 7]))
            for k in range(n):
                a = 2 * math.pi * k / n
                pen.ell((math.cos(a) * 0.55, math.sin(a) * 0.55), 0.32, 0.18, 1, tilt=-math.degrees(a))
            pen.disc((0, 0), 0.28, 2)
            sym = n
        else:
            raise ValueError(f"kind: unknown disc {kind!r}")
    return sym


def draw_lattice(pen: PartPen, rng, kind="ladder"):
    """A rectangular frame of bars (slot 0 background panel, bars in slots 1–3); shape varies in aspect and count."""
    w, h = _u(rng, 0.55, 0.8), _u(rng, 0.75, 0.95)
    with pen.named("panel"):
        pen.block(-w, -h, w, h, 0)
    with pen.named("bars"):
        if kind == "ladder":
            for s in (-1, 1):
                pen.block(s * w * 0.75 - 0.07, -h, s * w * 0.75 + 0.07, h, 1)
            for y in np.linspace(-h + 0.15, h - 0.15, int(rng.integers(4, 7))):
                pen.block(-w * 0.75, y - 0.04, w * 0.75, y + 0.04, 2)
        elif kind in ("fence", "gate"):
            n = int(rng.integers(4, 7))
            xs = np.linspace(-w + 0.1, w - 0.1, n)
            pw = (xs[1] - xs[0]) * 0.28
            for x in xs:
                pen.poly([(x - pw, h), (x - pw, -h + 0.2), (x, -h), (x + pw, -h + 0.2), (x + pw, h)], 1)
            for y in (-h * 0.4, h * 0.55):
                pen.block(-w, y - 0.05, w, y + 0.05, 2)
            if kind == "gate":
                pen.stroke([(-w, h * 0.55), (w, -h * 0.4)], 3, 0.1)
        elif kind == "grille":
            for x in np.linspace(-w + 0.08, w - 0.08, int(rng.integers(5, 8))):
                pen.block(x - 0.03, -h, x + 0.03, h, 1)
            for y in np.linspace(-h + 0.08, h - 0.08, int(rng.integers(5, 8))):
                pen.block(-w, y - 0.03, w, y + 0.03, 1)
        elif kind == "window":
            t = 0.08
            for x in (-w + t / 2, 0, w - t / 2):
                pen.block(x - t, -h, x + t, h, 1)
            for y in (-h + t / 2, 0, h - t / 2):
                pen.block(-w, y - t, w, y + t, 1)
        elif kind == "bookshelf":
            ys = np.linspace(-h, h, int(rng.integers(3, 5)))
            for a, b in zip(ys[:-1], ys[1:]):
                x = -w + 0.05
                while x < w - 0.1:
                    bw = _u(rng, 0.06, 0.12)
                    pen.block(x, a + (b - a) * _u(rng, 0.1, 0.35), x + bw, b - 0.05, 2 + int(rng.integers(2)))
                    x += bw + 0.02
                pen.block(-w, b - 0.05, w, b + 0.02, 1)
        elif kind == "radiator":
            for x in np.linspace(-w + 0.1, w - 0.1, int(rng.integers(5, 8))):
                pen.block(x - 0.06, -h + 0.1, x + 0.06, h - 0.1, 1)
                pen.disc((x, -h + 0.1), 0.06, 1)
            pen.block(-w, h - 0.12, w, h - 0.04, 2)
        else:
            raise ValueError(f"kind: unknown lattice {kind!r}")


def draw_keypad(pen: PartPen, rng, kind="keyboard"):
    """A slab (slot 0) covered with keys or squares (slots 1–3)."""
    w, h = _u(rng, 0.7, 0.95), _u(rng, 0.6, 0.9)
    with pen.named("slab"):
        pen.block(-w, -h, w, h, 0)
    with pen.named("keys"):
        if kind == "keyboard":
            rows, cols = 4, int(rng.integers(9, 12))
            _grid(pen, -w + 0.05, -h + 0.05, w - 0.05, h * 0.45, rows, cols, 1, gap=0.25)
            pen.block(-w * 0.45, h * 0.55, w * 0.45, h - 0.08, 1)  # space bar
        elif kind == "calculator":
            pen.block(-w + 0.1, -h + 0.1, w - 0.1, -h * 0.45, 2)  # display
            _grid(pen, -w + 0.1, -h * 0.3, w - 0.1, h - 0.08, 5, 4, 1, gap=0.3)
        elif kind == "chessboard":
            n = 8
            xs, ys = np.linspace(-w, w, n + 1), np.linspace(-h, h, n + 1)
            for i in range(n):
                for j in range(n):
                    if (i + j) % 2:
                        pen.block(xs[j], ys[i], xs[j + 1], ys[i + 1], 1)
        elif kind == "phone":
            pen.block(-w + 0.1, -h + 0.1, w - 0.1, h * 0.55, 2)  # screen
            pen.disc((0, h * 0.78), 0.12, 1)
        else:
            raise ValueError(f"kind: unknown keypad {kind!r}")


def _grid(pen, x0, y0, x1, y1, rows, cols, slot, gap=0.2):
    xs, ys = np.linspace(x0, x1, cols + 1), np.linspace(y0, y1, rows + 1)
    gx, gy = (xs[1] - xs[0]) * gap / 2, (ys[1] - ys[0]) * gap / 2
    for i in range(rows):
        for j in range(cols):
            pen.block(xs[j] + gx, ys[i] + gy, xs[j + 1] - gx, ys[i + 1] - gy, slot)


def draw_boat(pen: PartPen, rng, kind="sailboat"):
    """A hull (slot 0) and its superstructure: sails, cabin, funnels, a paddle."""
    length = _u(rng, 0.85, 1.0)
    deck, keel = 0.25, _u(rng, 0.5, 0.6)
    with pen.named("hull"):
        if kind == "canoe":
            pen.poly([(-length, deck - 0.15), (length, deck - 0.15), (length * 0.7, keel - 0.1),
                      (-length * 0.7, keel - 0.1)], 0)
        else:
            pen.poly([(-length, deck), (length, deck - 0.1), (length * 0.75, keel), (-length * 0.8, keel)], 0)
    with pen.named("superstructure"):
        if kind == "sailboat":
            mast = _u(rng, -0.1, 0.1)
            pen.stroke([(mast, deck), (mast, -0.95)], 2, 0.04)
            pen.poly([(mast - 0.03, -0.9), (mast - 0.03, deck - 0.08), (mast - _u(rng, 0.6, 0.8), deck - 0.08)], 1)
            if rng.random() < 0.7:
                pen.poly([(mast + 0.03, -0.75), (mast + 0.03, deck - 0.08), (mast + _u(rng, 0.4, 0.6), deck - 0.08)], 3)
        elif kind == "motorboat":
            pen.block(-0.3, deck - 0.35, 0.45, deck, 1)
            for x in (-0.2, 0.05, 0.25):
                pen.block(x, deck - 0.28, x + 0.14, deck - 0.12, 2)
        elif kind == "steamship":
            pen.block(-length * 0.7, deck - 0.25, length * 0.6, deck, 1)
            for x in (-0.3, 0.15):
                pen.block(x, deck - 0.7, x + 0.2, deck - 0.25, 3)
                pen.block(x, deck - 0.6, x + 0.2, deck - 0.5, 2)
            for x in np.linspace(-0.7, 0.6, 6):
                pen.disc((x, deck + 0.12), 0.045, 2)
        elif kind == "canoe":
            pen.stroke([(-0.2, -0.6), (0.3, 0.45)], 2, 0.05)
            pen.ell((0.33, 0.45), 0.06, 0.15, 2, tilt=-25)
        else:
            raise ValueError(f"kind: unknown boat {kind!r}")


def draw_building(pen: PartPen, rng, kind="house"):
    """A block (slot 0) with a roof (slot 1), a door and windows (slot 2), and the class's own features."""
    w, h = _u(rng, 0.55, 0.75), _u(rng, 0.4, 0.55)
    base = 0.9
    with pen.named("walls"):
        pen.block(-w, base - 2 * h, w, base, 0)
    with pen.named("roof"):
        top = base - 2 * h
        if kind == "barn":
            pen.poly([(-w - 0.08, top), (-w * 0.7, top - 0.35), (0, top - 0.55), (w * 0.7, top - 0.35),
                      (w + 0.08, top)], 1)
        else:
            pen.poly([(-w - 0.1, top), (0, top - _u(rng, 0.4, 0.6)), (w + 0.1, top)], 1)
    with pen.named("openings"):
        if kind == "barn":
            pen.block(-0.3, base - 0.6, 0.3, base, 2)
            pen.stroke([(-0.3, base - 0.6), (0.3, base)], 3, 0.05)
            pen.stroke([(0.3, base - 0.6), (-0.3, base)], 3, 0.05)
        else:
            dx = _u(rng, -0.2, 0.2)
            pen.block(dx - 0.12, base - 0.4, dx + 0.12, base, 2)
            for x in (-w * 0.6, w * 0.6):
                pen.block(x - 0.12, top + 0.15, x + 0.12, top + 0.38, 2)
    if kind == "church":
        with pen.named("tower"):
            pen.block(w * 0.2, top - 0.5, w * 0.7, base - 0.3, 3)
            pen.poly([(w * 0.15, top - 0.5), (w * 0.45, -1.1), (w * 0.75, top - 0.5)], 1)
            pen.block(w * 0.43, -1.3, w * 0.47, -1.08, 2)
            pen.block(w * 0.37, -1.24, w * 0.53, -1.2, 2)


# ---------------------------------------------------------------------------------------------------------------
# the class table


def _face(name, ears, muzzle, eyes="round", extras=(), heldout=False, context=""):
    def draw(pen, rng):
        draw_face(pen, rng, ears, muzzle, eyes, extras)
    parts = tuple(p for p in ("ears", "muzzle", "mane", "antlers", "mask", "patches", "beard", "whiskers")
                  if p == "ears" and ears != "none" or p == "muzzle" and muzzle not in ("none", "beak") or p in extras)
    return WorldClass(name, "face", draw, parts + ("left_eye", "right_eye", "nose"), 1, context, heldout)


def _vehicle(name, body, wheels, wheel_r, windows, extras=(), heldout=False):
    def draw(pen, rng):
        draw_vehicle(pen, rng, body, wheels, wheel_r, windows, extras)
    named = tuple(e for e in extras if e != "long")
    return WorldClass(name, "vehicle", draw, named + ("wheels", "windows"), 1, "road", heldout)


def _simple(name, family, fn, kind, parts, symmetry=1, context="", heldout=False):
    def draw(pen, rng):
        return fn(pen, rng, kind)
    return WorldClass(name, family, draw, parts, symmetry, context, heldout)


_DOG = "ball"
CLASS_TABLE: tuple[WorldClass, ...] = (
    # faces: six dog breeds and eight other animals on the same head
    _face("dog_beagle", "floppy", "short", context=_DOG),
    _face("dog_husky", "pointed", "short", extras=("patches",), context=_DOG),
    _face("dog_collie", "folded", "long", context=_DOG),
    _face("dog_afghan", "floppy_long", "long", context=_DOG),
    _face("dog_bulldog", "round", "jowls", context=_DOG),
    _face("dog_frenchie", "bat", "short", context=_DOG),
    _face("cat", "pointed_short", "none", "slit", ("whiskers",)),
    _face("fox", "pointed_tall", "snout"),
    _face("owl", "tufts", "beak", "disc"),
    _face("bear", "round", "short", "small"),
    _face("lion", "round", "short", extras=("mane",)),
    _face("rabbit", "long_upright", "none", extras=("whiskers",)),
    _face("mouse", "huge_round", "snout", "small", ("whiskers",)),
    _face("monkey", "side_round", "long", "small"),
    # vehicles: one body, different cabins, wheels, windows, markings
    _vehicle("car", "car", 2, 0.22, "cabin"),
    _vehicle("taxi", "car", 2, 0.22, "cabin", ("sign",)),
    _vehicle("van", "van", 2, 0.22, "front", ("lettering",)),
    _vehicle("ambulance", "van", 2, 0.22, "front", ("cross", "lightbar")),
    _vehicle("bus", "bus", 2, 0.18, "row"),
    _vehicle("truck", "truck", 3, 0.2, "cab", ("lettering",)),
    _vehicle("tractor", "tractor", 2, 0.2, "none", ("exhaust",)),
    _vehicle("locomotive", "loco", 5, 0.13, "cab_rear", ("chimney",)),
    # discs
    _simple("wheel", "disc", draw_disc, "wheel", ("inner",), 0),
    _simple("clock", "disc", draw_disc, "clock", ("inner",), 1),
    _simple("plate", "disc", draw_disc, "plate", ("inner",), 24),
    _simple("target", "disc", draw_disc, "target", ("inner",), 24),
    _simple("pizza", "disc", draw_disc, "pizza", ("inner",), 0),
    _simple("star", "disc", draw_disc, "star", ("inner",), 4),
    _simple("flower", "disc", draw_disc, "flower", ("inner",), 0),
    # lattices
    _simple("ladder", "lattice", draw_lattice, "ladder", ("bars",)),
    _simple("fence", "lattice", draw_lattice, "fence", ("bars",)),
    _simple("grille", "lattice", draw_lattice, "grille", ("bars",)),
    _simple("window", "lattice", draw_lattice, "window", ("bars",)),
    _simple("bookshelf", "lattice", draw_lattice, "bookshelf", ("bars",)),
    # keypads
    _simple("keyboard", "keypad", draw_keypad, "keyboard", ("keys",)),
    _simple("calculator", "keypad", draw_keypad, "calculator", ("keys",)),
    _simple("chessboard", "keypad", draw_keypad, "chessboard", ("keys",)),
    # boats (habitually on water) and buildings
    _simple("sailboat", "boat", draw_boat, "sailboat", ("superstructure",), context="water"),
    _simple("motorboat", "boat", draw_boat, "motorboat", ("superstructure",), context="water"),
    _simple("steamship", "boat", draw_boat, "steamship", ("superstructure",), context="water"),
    _simple("house", "building", draw_building, "house", ("roof", "openings")),
    _simple("church", "building", draw_building, "church", ("tower", "roof", "openings")),
    # held out of pre-training: chapter 10's transfer classes
    _face("dog_terrier", "folded", "short", extras=("beard",), heldout=True),
    _face("raccoon", "pointed", "snout", extras=("mask", "whiskers"), heldout=True),
    _face("koala", "huge_round", "none", extras=("big_nose",), heldout=True),
    _face("deer", "pointed", "long", extras=("antlers",), heldout=True),
    _face("panda", "round", "short", "small", ("patches",), heldout=True),
    _vehicle("pickup", "car", 2, 0.22, "cabin", ("bed",), heldout=True),
    _vehicle("fire_truck", "truck", 3, 0.2, "cab", ("ladder",), heldout=True),
    _vehicle("tram", "bus", 4, 0.12, "row", ("pantograph",), heldout=True),
    _vehicle("limousine", "car", 2, 0.2, "cabin", ("long",), heldout=True),
    _simple("steering_wheel", "disc", draw_disc, "steering", ("inner",), 3, heldout=True),
    _simple("button", "disc", draw_disc, "button", ("inner",), 4, heldout=True),
    _simple("gate", "lattice", draw_lattice, "gate", ("bars",), heldout=True),
    _simple("radiator", "lattice", draw_lattice, "radiator", ("bars",), heldout=True),
    _simple("phone", "keypad", draw_keypad, "phone", ("keys",), heldout=True),
    _simple("canoe", "boat", draw_boat, "canoe", ("superstructure",), context="water", heldout=True),
    _simple("barn", "building", draw_building, "barn", ("roof", "openings"), heldout=True),
)

CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in CLASS_TABLE if not c.heldout)
HELDOUT_NAMES: tuple[str, ...] = tuple(c.name for c in CLASS_TABLE if c.heldout)
ALL_NAMES: tuple[str, ...] = CLASS_NAMES + HELDOUT_NAMES
NUM_CLASSES = len(CLASS_NAMES)
_BY_NAME = {c.name: c for c in CLASS_TABLE}
FAMILIES: dict[str, tuple[str, ...]] = {}
for _c in CLASS_TABLE:
    FAMILIES.setdefault(_c.family, ())
    FAMILIES[_c.family] += (_c.name,)


def world_class(name_or_index) -> WorldClass:
    """The :class:`WorldClass` for a name, or an index into ``ALL_NAMES`` (pre-training classes first)."""
    if isinstance(name_or_index, (int, np.integer)):
        if not 0 <= int(name_or_index) < len(ALL_NAMES):
            raise ValueError(f"label: expected an index in 0..{len(ALL_NAMES) - 1}, got {name_or_index}")
        return _BY_NAME[ALL_NAMES[int(name_or_index)]]
    if name_or_index not in _BY_NAME:
        raise ValueError(f"label: unknown class {name_or_index!r}; expected one of {', '.join(ALL_NAMES)}")
    return _BY_NAME[name_or_index]


def class_index(name_or_index) -> int:
    """Index of a class in ``ALL_NAMES`` (equal to its label for pre-training classes)."""
    return ALL_NAMES.index(world_class(name_or_index).name)

