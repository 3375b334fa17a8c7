"""The embedded world v2: scenes where a convnet must use parts, deterministic by (seed, index).

Why this world (see ``families.py`` for the classes): ImageNet gives a network no shortcut around parts — colours,
textures and backgrounds are shared across classes, many classes share a silhouette, objects appear at any scale,
position and pose, truncated, partly hidden and among clutter. The paper's findings (part detectors in Fig. 2, the
occlusion maps of Fig. 7, the eye/nose consistency of Table 1, the transfer of §5) come from that pressure, so the
world reproduces it:

* **No appearance shortcut.** Every object's four slots get colours from one distribution shared by all classes
  (uniform hue, saturation and value, with neighbouring slots alternating light/dark so parts stay visible) and
  textures from one shared bank (flat, stripes, spots, smooth noise, gradient); a random shading ramp lies over
  every object. Backgrounds use textures no object uses (large soft clouds, scribbles, blobs).
* **Pose and clutter.** The object's size is log-uniform over 0.2–0.6 of the image side, its centre anywhere that
  keeps ~80 % of it in view (so truncation happens), mirrored half the time, rotated (faces ±15° and turned ±0.6
  in yaw; discs at any angle), with 0–2 smaller objects of other classes behind it and, in 30 % of the images, an
  occluding blob over part of it.
* **Context.** Vehicles habitually stand on a road band, boats on water, dogs have a ball beside them (70 % of
  their images); other classes meet a road or water band in 15 % of theirs. ``context="shuffled"`` draws the same
  scene with the context chosen independently of the class (same marginal rates), to ask whether the model uses it.
* **Held-out classes** (``HELDOUT_NAMES``) never appear in pre-training renders (main object or distractor), and
  :func:`render_multi` draws 2–4 labelled objects (the PASCAL analogue of §5.2).

``render(seed, index)`` returns ``(uint8 (S, S, 3), Annotation)`` with the class, the box, every part's box,
the keypoints and every labelled object; ``omit=("ears",)`` leaves a part undrawn (``"*"`` the whole main object)
with every other pixel unchanged, because colours and textures are functions of position fixed before drawing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .annotation import Annotation, _swap_side, box_is_empty, clip_box
from .families import (ALL_NAMES, CLASS_NAMES, HELDOUT_NAMES, NUM_CLASSES, SLOTS, PartPen, class_index,
                       world_class)

WORLD_SIZE = 192  # render side; the course model sees 168-px crops (the paper's 256 → 224, × 0.75)
WORLD_CROP = 168
SCALE_RANGE = (0.2, 0.6)  # object diameter / image side, log-uniform
HABIT = 0.7  # share of a habitual class's images that show its context
STRAY = 0.15  # share of the other classes' images that show a road or water band anyway
OCCLUDED = 0.3  # share of images with an occluding blob over the main object
CONTEXTS = ("road", "water", "ball")
_BG_ID = 0
_CLUTTER_ID = 220  # ids ≥ this are background clutter, bands, the ball, the occluder (clouds texture)
_SLOT_STRIDE = 5


@dataclass(frozen=True)
class Placement:
    """Where and how to draw one object: class, centre (x, y) px, scale (px per unit), angle (deg), mirror, yaw."""
    class_name: str
    centre: tuple[float, float]
    scale: float
    angle: float = 0.0
    mirror: bool = False
    yaw: float = 0.0

    @classmethod
    def of_diameter(cls, class_name: str, centre, diameter: float, angle: float = 0.0, mirror: bool = False,
                    yaw: float = 0.0) -> "Placement":
        """The placement of an object ``diameter`` pixels across (the size the world's scale range is stated in:
        an object of scale s spans about 2 × 1.05 × s pixels)."""
        return cls(class_name, (float(centre[0]), float(centre[1])), diameter / 2 / 1.05, float(angle), bool(mirror),
                   float(yaw))


def _rng(seed, index, *stream) -> np.random.Generator:
    if int(seed) < 0 or int(index) < 0:
        raise ValueError(f"seed, index: expected non-negative integers, got seed={seed}, index={index}")
    return np.random.default_rng((int(seed), int(index)) + tuple(stream))


# ---------------------------------------------------------------------------------------------------------------
# appearance: one distribution for every class


def _hsv_to_rgb(h, s, v) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return 255 * np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i])


def palette(rng: np.random.Generator, n: int = SLOTS) -> np.ndarray:
    """``n`` RGB colours (float, 0–255) for one object's slots, the same distribution for every class.

    Hue and saturation are uniform; the value (lightness) of slot k+1 differs from slot k's by 0.25–0.5, up or down
    at random (reflected into [0.1, 0.95]), so neighbouring parts are visible whatever their colours.
    """
    out, v = [], rng.uniform(0.1, 0.95)
    for _ in range(n):
        out.append(_hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.9), v))
        v = v + rng.choice([-1, 1]) * rng.uniform(0.25, 0.5)
        v = 0.2 - (v - 0.1) if v < 0.1 else (1.9 - v if v > 0.95 else v)
        v = float(np.clip(v, 0.1, 0.95))
    return np.stack(out)


TEXTURES = ("flat", "stripes", "spots", "noise", "gradient")


def texture(rng: np.random.Generator):
    """One texture from the shared bank: a function (xs, ys) → mixing weight in [0, 1] between a slot's colour and
    its shade (parameters drawn now, so the pixels do not depend on which parts end up drawn)."""
    kind = TEXTURES[int(rng.integers(len(TEXTURES)))]
    a = rng.uniform(0, math.pi)
    ca, sa = math.cos(a), math.sin(a)
    period = rng.uniform(4, 14)
    ph = rng.uniform(0, 1, 3)
    if kind == "flat":
        return lambda x, y: np.zeros(x.shape, np.float32)
    if kind == "stripes":
        return lambda x, y: ((((ca * x + sa * y) / period + ph[0]) % 1.0) < 0.5).astype(np.float32)
    if kind == "spots":
        r = rng.uniform(0.2, 0.35)

        def spots(x, y):
            u = (ca * x + sa * y) / period + ph[0]
            v = (-sa * x + ca * y) / period + ph[1]
            return (((u % 1 - .5) ** 2 + (v % 1 - .5) ** 2) < r * r).astype(np.float32)
        return spots
    if kind == "noise":
        k = rng.normal(0, 1, (3, 2)) / rng.uniform(3, 10)
        phs = rng.uniform(0, 2 * math.pi, 3)

        def noise(x, y):
            s = sum(np.sin(k[i, 0] * x + k[i, 1] * y + phs[i]) for i in range(3))
            return (0.5 + s / 6).astype(np.float32)
        return noise
    span = rng.uniform(30, 120)
    return lambda x, y: np.clip(((ca * x + sa * y) / span + ph[0]) % 2.0 - 0.5, 0, 1).astype(np.float32)


PALETTES = ("shared", "per-class")


def _class_palette(label: int, rng: np.random.Generator, n: int = SLOTS) -> np.ndarray:
    """World v1's shortcut, kept as a switch: every class has its own fixed colours (jittered by ±20 per channel)."""
    base = palette(np.random.default_rng((2014, int(label))), n)
    return np.clip(base + rng.uniform(-20, 20, base.shape), 0, 255)


class _Looks:
    """Colours, textures and shading of one drawn thing, fixed before drawing (so ``omit`` changes nothing else)."""

    def __init__(self, rng: np.random.Generator, n: int = SLOTS, label: int | None = None):
        self.colours = palette(rng, n) if label is None else _class_palette(label, rng, n)
        self.shades = self.colours * rng.uniform(0.55, 0.8, (n, 1)) + rng.uniform(0, 60, (n, 1)) * (rng.random() < .5)
        self.textures = [texture(rng) for _ in range(n)]
        a = rng.uniform(0, 2 * math.pi)
        self.light = (math.cos(a), math.sin(a), rng.uniform(0.0, 0.35))  # shading direction and depth

    def paint(self, out, ys, xs, slot, centre, scale):
        w = self.textures[slot](xs.astype(np.float32), ys.astype(np.float32))[:, None]
        rgb = self.colours[slot] * (1 - w) + self.shades[slot] * w
        lx, ly, depth = self.light
        ramp = ((xs - centre[0]) * lx + (ys - centre[1]) * ly) / (2 * scale + 1e-6)
        out[ys, xs] = rgb * (1 - depth * np.clip(ramp, -1, 1))[:, None]


# ---------------------------------------------------------------------------------------------------------------
# backgrounds, context and clutter


def _clouds(rng, out, ys, xs):
    """The background texture: large soft two-colour clouds (periods of 40–120 px), used by no object."""
    c1, c2 = palette(rng, 2)
    k = rng.normal(0, 1, (3, 2)) / rng.uniform(40, 120)
    phs = rng.uniform(0, 2 * math.pi, 3)
    w = 0.5 + sum(np.sin(k[i, 0] * xs + k[i, 1] * ys + phs[i]) for i in range(3)) / 6
    out[ys, xs] = c1 * (1 - w[:, None]) + c2 * w[:, None]


def _blob(rng, cx, cy, r):
    n = int(rng.integers(6, 11))
    t = np.sort(rng.uniform(0, 2 * math.pi, n))
    rr = r * rng.uniform(0.5, 1.0, n)
    return np.stack([cx + rr * np.cos(t), cy + rr * np.sin(t)], 1)


def _draw_clutter(rng, draw, size, ids):
    """Blobs and scribbles on the background (ids ≥ _CLUTTER_ID, painted with their own clouds)."""
    for _ in range(int(rng.integers(2, 6))):
        cid = ids.pop()
        if rng.random() < 0.5:
            pts = _blob(rng, *rng.uniform(0, size, 2), rng.uniform(0.05, 0.2) * size)
            draw.polygon(pts.ravel().tolist(), fill=cid)
        else:
            pts = rng.uniform(0, size, (int(rng.integers(3, 6)), 2))
            draw.line(pts.ravel().tolist(), fill=cid, width=int(rng.integers(1, 4)))


def _draw_band(kind, rng, draw, size, y, ids, looks):
    """A road (band with a dashed line) or water (band with wavy lines) from height ``y`` down."""
    road, line = ids
    if kind == "road":
        h = rng.uniform(0.12, 0.22) * size
        draw.rectangle([0, y - h * 0.3, size, y + h * 0.7], fill=road)
        yc, x = y + h * 0.2, rng.uniform(-20, 0)
        while x < size:
            draw.rectangle([x, yc - 1, x + 10, yc + 1], fill=line)
            x += 20
    else:
        draw.rectangle([0, y, size, size], fill=road)
        for yy in np.arange(y + 6, size, rng.uniform(7, 12)):
            xs = np.arange(0, size + 8, 8.0)
            pts = np.stack([xs, yy + 2 * np.sin(xs / 8 * math.pi + rng.uniform(0, 6))], 1)
            draw.line(pts.ravel().tolist(), fill=line, width=1)


def _draw_ball(draw, pen_centre, r, ids):
    body, seam = ids
    cx, cy = pen_centre
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=body)
    for s in (-1, 1):
        draw.arc([cx - r * 1.6 + s * r * 1.1, cy - r, cx + r * 0.4 + s * r * 1.1, cy + r], 300 if s > 0 else 120,
                 60 if s > 0 else 240, fill=seam, width=max(1, int(r / 6)))


# ---------------------------------------------------------------------------------------------------------------
# scenes


def _int_box(box, size):
    x0, y0, x1, y1 = box
    return clip_box((math.floor(x0), math.floor(y0), math.ceil(x1) + 1, math.ceil(y1) + 1), size)


def _draw_object(draw, p: Placement, rng, base, omit=()):
    cls = world_class(p.class_name)
    omit = {_swap_side(o) for o in omit} if p.mirror else set(omit)
    pen = PartPen(draw, p.centre, p.scale, p.angle, p.mirror, omit, base=base, yaw=p.yaw)
    sym = cls.draw(pen, rng)
    kp = pen.keypoints
    parts = pen.part_boxes()
    if p.mirror:
        kp = {_swap_side(k): v for k, v in kp.items()}
        parts = {_swap_side(k): v for k, v in parts.items()}
    return pen.box, kp, parts, (sym if sym is not None else cls.symmetry)


def _pose(rng, cls, size, scale_range=SCALE_RANGE, frontal=False):
    d = size * math.exp(rng.uniform(math.log(scale_range[0]), math.log(scale_range[1])))
    cx, cy = rng.uniform(0.3 * d, size - 0.3 * d, 2)
    mirror = bool(rng.random() < 0.5)
    if cls.family == "face":
        angle, yaw = rng.uniform(-15, 15), rng.uniform(-0.6, 0.6)
        if frontal:
            angle, yaw, mirror = 0.0, 0.0, False
    elif cls.family == "disc":
        angle, yaw = rng.uniform(-180, 180), 0.0
    else:
        angle, yaw = rng.uniform(-20, 20), 0.0
    return Placement.of_diameter(cls.name, (cx, cy), d, angle, mirror, yaw)


def _context_for(label_name: str, rng: np.random.Generator, shuffled: bool) -> str:
    """The context drawn with class ``label_name``: habitual with probability HABIT, a stray band with STRAY; with
    ``shuffled`` the context is drawn from the pre-training marginal, independent of the class."""
    if shuffled:
        pool = [world_class(n).context for n in CLASS_NAMES]
        habit = {c: pool.count(c) * HABIT / len(pool) for c in CONTEXTS}
        share = 1 - sum(habit.values())
        weights = {c: habit[c] + (STRAY / 2 * share if c in ("road", "water") else 0) for c in CONTEXTS}
        u = rng.random()
        for c in CONTEXTS:
            if u < weights[c]:
                return c
            u -= weights[c]
        return ""
    habitual = world_class(label_name).context
    u = rng.random()
    if habitual:
        return habitual if u < HABIT else ""
    return ("road" if rng.random() < 0.5 else "water") if u < STRAY else ""


def compose(main: Placement, distractors=(), seed: int = 0, index: int = 0, size: int = WORLD_SIZE, omit=(),
            context: str = "", occluder: bool | None = None, rng=None, extra_labelled=(), palette: str = "shared"):
    """Draw one scene: background, context, distractors, the main object, its companion, an occluder.

    Args:
        main: the annotated main object.
        distractors: placements drawn before (behind) it.
        seed, index: the random stream of the scene's appearance (or ``rng``).
        omit: parts of the main object not drawn (``"*"`` = all of it); every other pixel is unchanged.
        context: ``""``, ``"road"``, ``"water"`` or ``"ball"``.
        occluder: draw an occluding blob over part of the main object (None: with probability OCCLUDED).
        extra_labelled: placements drawn after the main object that are also labelled (multi-object scenes).
        palette: ``"shared"`` (every class draws colours from one distribution) or ``"per-class"`` (each class has
            its own colours: the appearance shortcut of world v1, for the exercise that shows what it does).

    Returns:
        (uint8 (size, size, 3), :class:`Annotation`).
    """
    if context not in ("",) + CONTEXTS:
        raise ValueError(f"context: expected '', 'road', 'water' or 'ball', got {context!r}")
    if palette not in PALETTES:
        raise ValueError(f"palette: expected one of {PALETTES}, got {palette!r}")
    rng = _rng(seed, index) if rng is None else rng
    ids_img = Image.new("L", (size, size), _BG_ID)
    draw = ImageDraw.Draw(ids_img)
    clutter_ids = list(range(_CLUTTER_ID, 256))
    bg_rng = np.random.default_rng(rng.integers(1 << 62))
    looks_rng = np.random.default_rng(rng.integers(1 << 62))
    _draw_clutter(bg_rng, draw, size, clutter_ids)
    band_ids = (clutter_ids.pop(), clutter_ids.pop())
    ball_ids = (clutter_ids.pop(), clutter_ids.pop())
    if context in ("road", "water"):
        y = main.centre[1] + main.scale * (0.55 if context == "road" else 0.35)
        _draw_band(context, bg_rng, draw, size, y, band_ids, None)
    objects, looks = [], {}
    everything = list(distractors) + [main] + list(extra_labelled)
    main_at = len(distractors)
    ann = None
    for k, p in enumerate(everything):
        base = 1 + _SLOT_STRIDE * k
        per_class = class_index(p.class_name) if palette == "per-class" else None
        looks[base] = (_Looks(looks_rng, label=per_class), p)
        box, kp, parts, sym = _draw_object(draw, p, rng, base, omit if k == main_at else ())
        ibox = _int_box(box, size)
        if not box_is_empty(ibox):
            objects.append((world_class(p.class_name).name, ibox))
        if k == main_at:
            label = class_index(p.class_name)
            ann = Annotation(label, ALL_NAMES[label], ibox, kp, [], sym)
            ann.parts = {n: _int_box(b, size) for n, b in parts.items()}
            ann.context = context
            if context == "ball":
                side = 1 if rng.random() < 0.5 else -1
                r = main.scale * rng.uniform(0.3, 0.45)
                c = (main.centre[0] + side * (main.scale * 0.95 + r), main.centre[1] + main.scale * 0.4)
                _draw_ball(draw, c, r, ball_ids)
    occ = rng.random() < OCCLUDED if occluder is None else bool(occluder)
    occ_id = clutter_ids.pop()
    if occ:
        x0, y0, x1, y1 = ann.box
        a = rng.uniform(0, 2 * math.pi)
        c = ((x0 + x1) / 2 + math.cos(a) * (x1 - x0) * 0.45, (y0 + y1) / 2 + math.sin(a) * (y1 - y0) * 0.45)
        draw.polygon(_blob(rng, *c, main.scale * rng.uniform(0.35, 0.6)).ravel().tolist(), fill=occ_id)
    ann.occluded = bool(occ)
    ann.objects = objects
    return _paint(np.asarray(ids_img), looks, bg_rng), ann


def _paint(ids: np.ndarray, looks: dict, bg_rng) -> np.ndarray:
    size = ids.shape[0]
    out = np.empty((size, size, 3), np.float32)
    flat = ids.ravel()
    order = np.argsort(flat, kind="stable")
    counts = np.bincount(flat, minlength=256)
    starts = np.concatenate([[0], np.cumsum(counts)])
    cloud_seed = int(bg_rng.integers(1 << 62))
    for v in np.nonzero(counts)[0]:
        pix = order[starts[v]:starts[v + 1]]
        ys, xs = pix // size, pix % size
        if v == _BG_ID or v >= _CLUTTER_ID:
            _clouds(np.random.default_rng((cloud_seed, int(v))), out, ys, xs)
            continue
        base = 1 + ((int(v) - 1) // _SLOT_STRIDE) * _SLOT_STRIDE
        lk, p = looks[base]
        lk.paint(out, ys, xs, int(v) - base, p.centre, p.scale)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def random_scene(rng: np.random.Generator, label: int, size: int = WORLD_SIZE, frontal: bool = False,
                 scale_range=SCALE_RANGE):
    """The random layout of one image of class ``label``: (main placement, distractors)."""
    cls = world_class(label)
    main = _pose(rng, cls, size, scale_range=scale_range, frontal=frontal)
    distractors = []
    for _ in range(int(rng.integers(0, 3))):
        other = CLASS_NAMES[int(rng.integers(NUM_CLASSES))]
        if other == cls.name:
            continue
        d = _pose(rng, world_class(other), size, scale_range=(0.1, 0.2))
        if d.scale > 0.7 * main.scale:
            d = Placement(d.class_name, d.centre, 0.7 * main.scale, d.angle, d.mirror, d.yaw)
        distractors.append(d)
    return main, distractors


def label_of(index: int, heldout: bool = False) -> int:
    """The label of render ``index``: ``index mod NUM_CLASSES`` (pre-training) or the held-out class
    ``index mod len(HELDOUT_NAMES)`` as an index into ``ALL_NAMES`` — every split is class-balanced."""
    if heldout:
        return NUM_CLASSES + int(index) % len(HELDOUT_NAMES)
    return int(index) % NUM_CLASSES


def render(seed: int, index: int, label: int | str | None = None, size: int = WORLD_SIZE, omit=(),
           context: str = "habitual", frontal: bool = False, heldout: bool = False, scale_range=SCALE_RANGE,
           palette: str = "shared"):
    """Image ``index`` of the world with seed ``seed``: (uint8 (size, size, 3) RGB, :class:`Annotation`).

    Deterministic in (seed, index). The label is :func:`label_of` ``(index, heldout)`` unless ``label`` is given.
    ``omit`` leaves parts of the main object undrawn (names from its class's ``parts``, keypoint parts such as
    ``"left_eye"``, or ``"*"``) with every other pixel unchanged. ``context="shuffled"`` draws the same scene with
    its context (road, water, ball) chosen independently of the class; ``frontal`` poses faces frontally (Fig. 8).
    ``scale_range`` (object diameter / image side, log-uniform) and ``palette`` (see :func:`compose`) are for the
    audit and the exercises; the defaults are the training distribution.

    Example:
        >>> img, ann = render(0, 3)
        >>> img.shape, img.dtype, ann.class_name
        ((192, 192, 3), dtype('uint8'), 'dog_afghan')
    """
    if context not in ("habitual", "shuffled"):
        raise ValueError(f"context: expected 'habitual' or 'shuffled', got {context!r}")
    lab = label_of(index, heldout) if label is None else class_index(label)
    rng = _rng(seed, index)
    if not 0 < scale_range[0] <= scale_range[1]:
        raise ValueError(f"scale_range: expected 0 < low <= high, got {scale_range}")
    main, distractors = random_scene(rng, lab, size, frontal, scale_range)
    ctx = _context_for(ALL_NAMES[lab], _rng(seed, index, 7), context == "shuffled")
    return compose(main, distractors, size=size, omit=omit, context=ctx, rng=rng, palette=palette)


def render_multi(seed: int, index: int, size: int = WORLD_SIZE):
    """A multi-object image (§5.2's PASCAL analogue): 2–4 pre-training objects of distinct classes, each labelled.

    Returns (uint8 image, :class:`Annotation` of the first object, whose ``objects`` lists every labelled object);
    :func:`multi_labels` gives the multi-hot label vector.
    """
    rng = _rng(seed, index, 11)
    n = int(rng.integers(2, 5))
    names = rng.choice(NUM_CLASSES, n, replace=False)
    cells = rng.permutation(4)[:n]
    placed = []
    for name, cell in zip(names, cells):
        cls = world_class(int(name))
        p = _pose(rng, cls, size, scale_range=(0.3, 0.45))
        cx = (cell % 2 + 0.5) * size / 2 + rng.uniform(-0.08, 0.08) * size
        cy = (cell // 2 + 0.5) * size / 2 + rng.uniform(-0.08, 0.08) * size
        placed.append(Placement(p.class_name, (cx, cy), p.scale, p.angle, p.mirror, p.yaw))
    return compose(placed[0], (), size=size, context="", occluder=False, rng=rng, extra_labelled=placed[1:])


def multi_labels(ann: Annotation) -> np.ndarray:
    """Multi-hot (NUM_CLASSES,) int vector of the classes drawn in a :func:`render_multi` image."""
    y = np.zeros(NUM_CLASSES, np.int64)
    for name, _ in ann.objects:
        y[CLASS_NAMES.index(name)] = 1
    return y


__all__ = ["WORLD_SIZE", "WORLD_CROP", "CLASS_NAMES", "HELDOUT_NAMES", "ALL_NAMES", "NUM_CLASSES", "Placement",
           "compose", "render", "render_multi", "multi_labels", "label_of", "palette", "texture", "random_scene"]
