"""Fixed probe images for the chapters that re-do Figs. 7 and 8, at the model's input size (168×168).

Each probe is a world scene drawn from explicit :class:`~zfcourse.data.world.Placement` s with a fixed seed — the
same painter, colours, textures and backgrounds as the training renders — at 192×192, then centre-cropped to the
168×168 the model sees at test time; the annotations are shifted into that frame. Every main object is drawn inside
the training size range (diameter 0.2–0.6 of the render side) and without the random occluder, so that a probe
tests the trained model on the distribution it was trained on. The probes were fixed before the model's answers on
them were looked at; the chapters report those answers as they come.

* ``"fig7"`` (§4.2, occlusion): three scenes like Fig. 7's rows — a dog face with its ball (the Pomeranian row),
  a car on a road band (the car-wheel row), and an Afghan-hound face among other faces and things (the Afghan
  hound row, where the paper's image also shows a person).
* ``"fig8_faces"`` (§4.3, correspondence): five frontal dog faces of five breeds, each with ``left_eye``,
  ``right_eye`` and ``nose`` keypoints (left = image left) and part boxes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .annotation import Annotation
from .world import WORLD_CROP, WORLD_SIZE, Placement, compose

PROBE_SEED = 2014  # the paper's year: probes never share a stream with training renders (seed 0..)
PROBE_SIZE = WORLD_CROP
_OFFSET = (WORLD_SIZE - PROBE_SIZE) // 2


def _at(name: str, x: float, y: float, diameter: float, angle: float = 0.0, mirror: bool = False) -> Placement:
    """``name`` centred at (x, y) in the 192 render, ``diameter`` pixels across."""
    return Placement.of_diameter(name, (x, y), diameter, angle, mirror)


def _fig7():
    return [
        ("dog face with its ball", _at("dog_beagle", 84, 88, 78), [], "ball"),
        ("car on a road", _at("car", 96, 92, 100), [_at("fence", 40, 40, 34)], "road"),
        ("several objects: an Afghan-hound face among other faces and things", _at("dog_afghan", 78, 84, 74),
         [_at("monkey", 148, 56, 40), _at("house", 146, 140, 38), _at("clock", 44, 150, 32, 20)], ""),
    ], 0


def _fig8():
    breeds = ("dog_beagle", "dog_husky", "dog_collie", "dog_bulldog", "dog_frenchie")
    diameters = (86, 80, 90, 82, 88)
    return [(f"frontal {b[4:]} face", _at(b, 96 + (k - 2), 96 + (k % 2) * 3, d), [], "")
            for k, (b, d) in enumerate(zip(breeds, diameters))], 10


_PROBES = {"fig7": _fig7, "fig8_faces": _fig8}
PROBE_NAMES = tuple(_PROBES)


@dataclass
class ProbeSet:
    """Probe images and their ground truth, in the model's 168×168 frame.

    Attributes:
        name: ``"fig7"`` or ``"fig8_faces"``.
        images: uint8 numpy (N, 168, 168, 3).
        annotations: one :class:`Annotation` per image (boxes, part boxes and keypoints in the 168 frame).
        descriptions: one line per image.
    """
    name: str
    images: np.ndarray
    annotations: list[Annotation]
    descriptions: list[str]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def labels(self) -> torch.Tensor:
        """The main objects' labels (int64)."""
        return torch.tensor([a.label for a in self.annotations], dtype=torch.int64)

    def object_masks(self) -> torch.Tensor:
        """Each main object's own pixels, (N, 168, 168) bool: True where the probe changes when the object is left
        undrawn (:func:`render_probe` with ``omit=("*",)``)."""
        return torch.from_numpy((self.images != render_probe(self.name, omit=("*",)).images).any(-1))

    def inputs(self, preprocess) -> torch.Tensor:
        """All images in input space, (N, 3, 168, 168), through ``preprocess`` (a :class:`Preprocess`)."""
        return preprocess.to_input(self.images)


def render_probe(name: str, omit=()) -> ProbeSet:
    """Render probe set ``name`` (uncached), leaving ``omit`` parts of each main object undrawn — e.g.
    ``omit=("left_eye",)`` gives Fig. 8's faces with the left eye removed, every other pixel unchanged."""
    if name not in _PROBES:
        raise KeyError(f"name: unknown probe set {name!r}; valid names: {', '.join(PROBE_NAMES)}")
    scenes, first_index = _PROBES[name]()
    images, annotations, descriptions = [], [], []
    for k, (description, main, distractors, context) in enumerate(scenes):
        img, ann = compose(main, distractors, seed=PROBE_SEED, index=first_index + k, omit=omit, context=context,
                           occluder=False)
        images.append(img[_OFFSET:_OFFSET + PROBE_SIZE, _OFFSET:_OFFSET + PROBE_SIZE])
        annotations.append(ann.shifted(_OFFSET, _OFFSET, PROBE_SIZE))
        descriptions.append(description)
    return ProbeSet(name, np.stack(images), annotations, descriptions)


@lru_cache(maxsize=None)
def _cached(name: str) -> ProbeSet:
    return render_probe(name)


def probe_set(name: str) -> ProbeSet:
    """The fixed probe set ``name`` — ``"fig7"`` (3 scenes) or ``"fig8_faces"`` (5 frontal faces) — as uint8 images
    (N, 168, 168, 3) with annotations in that frame. Cached; the arrays are read-only.

    Example:
        >>> ps = probe_set("fig8_faces")
        >>> ps.images.shape, sorted(ps.annotations[0].keypoints)
        ((5, 168, 168, 3), ['left_eye', 'nose', 'right_eye'])
    """
    ps = _cached(name) if name in _PROBES else render_probe(name)
    ps.images.setflags(write=False)
    return ps
