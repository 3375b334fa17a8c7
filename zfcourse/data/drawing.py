"""A pen that draws one object's parts in the object's own coordinate frame onto a PIL image.

Every class of the embedded world (see ``families.py``) is described in a *unit frame*: the object spans roughly
[-1, 1] × [-1, 1], x to the right, y down (image convention). A :class:`Pen` maps that frame to pixels with a
similarity transform — centre (cx, cy), scale s (pixels per unit), rotation θ, optional mirror:

    p_image = c + s · R(θ) · (m · p_unit),   R(θ) = [[cos θ, sin θ], [-sin θ, cos θ]],  m = diag(±1, 1)

so a positive θ turns the object counter-clockwise *as seen on screen* (y points down). Because every shape is a
polygon transformed exactly, the keypoints and boxes the generator reports are exact, and rotation costs nothing
(no image resampling). Circles and ellipses are drawn as 24-gons.

Parts can be switched off (``omit``): the pen then draws nothing for that part but the class code runs unchanged,
so the random numbers drawn — and hence everything else in the image — stay the same. Tests use this to check that a
keypoint lies on its part (render with and without the part), and chapters can use it to mask a part exactly.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
from PIL import ImageDraw

_N_VERTICES = 24
_ANGLES = np.linspace(0.0, 2.0 * math.pi, _N_VERTICES, endpoint=False)
UNIT_CIRCLE = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)  # (24, 2)


def rotation(theta: float) -> np.ndarray:
    """R(θ) for image coordinates (y down): a positive θ turns counter-clockwise on screen."""
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, s], [-s, c]])


class Pen:
    """Draws the parts of one object, given in its unit frame, onto ``draw`` (a ``PIL.ImageDraw.ImageDraw``).

    Args:
        draw: where to draw.
        centre: (cx, cy) in pixels — where the unit frame's origin lands.
        scale: pixels per unit (an object of half-size 1 is ``2 * scale`` pixels wide).
        angle: rotation θ in degrees, counter-clockwise on screen.
        mirror: mirror the unit frame left–right before rotating (``x → -x``).
        omit: names of parts not to draw (``"*"`` omits the whole object).

    After drawing, :attr:`box` is the (x0, y0, x1, y1) float extent of everything drawn (unclipped) and
    :attr:`keypoints` the named points recorded with :meth:`mark`.
    """

    def __init__(self, draw: ImageDraw.ImageDraw, centre, scale: float, angle: float = 0.0, mirror: bool = False,
                 omit=()):
        self.draw = draw
        self.centre = np.asarray(centre, dtype=float)
        self.scale = float(scale)
        # One matrix for mirror, rotation and scale: p_image = centre + p_unit @ M.T
        m = np.diag([-1.0 if mirror else 1.0, 1.0])
        self.matrix = self.scale * rotation(math.radians(angle)) @ m
        self._matrix_t = np.ascontiguousarray(self.matrix.T)
        self.omit = frozenset(omit)
        self._all_off = "*" in self.omit
        self._part = None
        self._off = self._all_off
        self._extent: list[np.ndarray] = []  # image points of every primitive; the box is their extent
        self.keypoints: dict[str, tuple[float, float]] = {}
        self.symmetry: int | None = None  # set by classes whose symmetry order is drawn per image (flower, wheel)

    # --- frames -------------------------------------------------------------------------------------------------
    def to_image(self, pts) -> np.ndarray:
        """Unit-frame points (N, 2) → image points (N, 2)."""
        return self.centre + np.asarray(pts, dtype=float) @ self._matrix_t

    @contextmanager
    def part(self, name: str):
        """Everything drawn inside ``with pen.part(name):`` belongs to part ``name`` (and is skipped if omitted)."""
        previous, previous_off = self._part, self._off
        self._part, self._off = name, self._all_off or name in self.omit
        try:
            yield self
        finally:
            self._part, self._off = previous, previous_off

    def mark(self, name: str, pt) -> None:
        """Record keypoint ``name`` at unit-frame point ``pt`` (recorded even when the part is omitted)."""
        x, y = self.to_image(np.asarray(pt, dtype=float)[None])[0]
        self.keypoints[name] = (float(x), float(y))

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Extent of everything drawn so far, in image pixels (unclipped floats)."""
        if not self._extent:
            raise ValueError("box: nothing was drawn with this pen")
        pts = np.concatenate(self._extent)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])

    def _track(self, img_pts: np.ndarray, pad: float = 0.0) -> None:
        # The box grows even for omitted parts: it describes where the object *is*, not what happened to be drawn.
        # Lines are padded by half their width: the four corners of each point's pad square stand in for the stroke.
        if pad:
            corners = np.array([[-pad, -pad], [pad, pad], [-pad, pad], [pad, -pad]])
            img_pts = (img_pts[:, None, :] + corners).reshape(-1, 2)
        self._extent.append(img_pts)

    # --- primitives (all in unit-frame coordinates) --------------------------------------------------------------
    def polygon(self, pts, fill) -> None:
        """A filled polygon with vertices ``pts`` (N, 2)."""
        img = self.to_image(pts)
        self._track(img)
        if not self._off:
            self.draw.polygon(img.ravel().tolist(), fill=fill)

    def ellipse(self, centre, rx: float, ry: float, fill, tilt: float = 0.0) -> None:
        """A filled ellipse with semi-axes (rx, ry), tilted by ``tilt`` degrees within the object's frame."""
        pts = UNIT_CIRCLE * (rx, ry)
        if tilt:
            pts = pts @ rotation(math.radians(tilt)).T
        self.polygon(pts + centre, fill)

    def circle(self, centre, r: float, fill) -> None:
        """A filled disc of radius ``r``."""
        self.polygon(UNIT_CIRCLE * r + centre, fill)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill) -> None:
        """A filled rectangle (a polygon, so it rotates with the object)."""
        self.polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], fill)

    def line(self, pts, fill, width: float) -> None:
        """A polyline through ``pts`` with stroke ``width`` in units (at least one pixel)."""
        img = self.to_image(pts)
        w = max(1, int(round(width * self.scale)))
        self._track(img, pad=w / 2)
        if not self._off:
            self.draw.line(img.ravel().tolist(), fill=fill, width=w)
