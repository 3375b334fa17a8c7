"""Fixed probe images for the chapters that re-do Figs. 5, 7 and 8, already at the model's input size (112×112).

Each probe is rendered at 128×128 from explicit :class:`~zfcourse.data.scenes.ObjectSpec` s with a fixed seed, then
centre-cropped to 112×112 (the crop the model sees at test time); the annotations are shifted into that frame.

* ``"fig7"`` (§4.2, occlusion): three scenes like Fig. 7's rows — a dog face beside a tennis ball (the Pomeranian
  and its ball), a car with lettering on its side (the car wheel row), and several objects with the labelled dog
  face among other faces and things (the Afghan hound beside a person).
* ``"fig8_faces"`` (§4.3, correspondence): five frontal dog faces (no rotation) of different colours and sizes,
  each with ``left_eye``, ``right_eye`` and ``nose`` keypoints (left = image left).
* ``"fig5"`` (§4, invariance): five single objects, three asymmetric and two rotationally symmetric, small and
  centred so that vertical translation, scaling and rotation keep them in view.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .annotation import Annotation
from .classes import CLASSES, class_index
from .scenes import IMAGE_SIZE, ObjectSpec, render_scene

PROBE_SEED = 2014  # the paper's year: probes never share a stream with training renders (seed 0..)
PROBE_SIZE = 112
_OFFSET = (IMAGE_SIZE - PROBE_SIZE) // 2


def _fig7():
    return [
        ("dog face beside a tennis ball",
         [ObjectSpec("dog_face", (47, 64), 27), ObjectSpec("tennis_ball", (99, 72), 16)], 0),
        ("car with lettering on its side",
         [ObjectSpec("tree", (108, 36), 14, 5), ObjectSpec("car", (62, 66), 38, -3)], 1),
        ("several objects: a dog face among other faces and things",
         [ObjectSpec("dog_face", (48, 54), 24, 4), ObjectSpec("cat_face", (96, 44), 17, -6),
          ObjectSpec("house", (93, 94), 15), ObjectSpec("flower", (38, 100), 13, 20)], 0),
    ], 0


def _fig8():
    sizes = (36, 33, 38, 34, 37)
    return [(f"frontal dog face {k + 1}", [ObjectSpec("dog_face", (64 + (k - 2), 64 + (k % 2) * 2), s)], 0)
            for k, s in enumerate(sizes)], 10


def _fig5():
    names = ("car", "dog_face", "house", "flower", "wheel")
    return [(f"{n} ({'symmetric' if CLASSES[class_index(n)].symmetric else 'asymmetric'})",
             [ObjectSpec(n, (64, 64), 22)], 0) for n in names], 20


_PROBES = {"fig7": _fig7, "fig8_faces": _fig8, "fig5": _fig5}
PROBE_NAMES = tuple(_PROBES)


@dataclass
class ProbeSet:
    """Probe images and their ground truth, in the model's 112×112 frame.

    Attributes:
        name: ``"fig7"``, ``"fig8_faces"`` or ``"fig5"``.
        images: uint8 numpy (N, 112, 112, 3).
        annotations: one :class:`Annotation` per image (boxes/keypoints in the 112 frame).
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

    def inputs(self, preprocess) -> torch.Tensor:
        """All images in input space, (N, 3, 112, 112), through ``preprocess`` (a :class:`Preprocess`)."""
        return preprocess.to_input(self.images)


def render_probe(name: str, omit=()) -> ProbeSet:
    """Render probe set ``name`` (uncached), leaving ``omit`` parts of each main object undrawn — e.g.
    ``omit=("left_eye",)`` gives Fig. 8's faces with the left eye removed, every other pixel unchanged."""
    if name not in _PROBES:
        raise KeyError(f"name: unknown probe set {name!r}; valid names: {', '.join(PROBE_NAMES)}")
    scenes, first_index = _PROBES[name]()
    images, annotations, descriptions = [], [], []
    for k, (description, specs, main) in enumerate(scenes):
        img, ann = render_scene(specs, PROBE_SEED, first_index + k, main=main, omit=omit)
        images.append(img[_OFFSET:_OFFSET + PROBE_SIZE, _OFFSET:_OFFSET + PROBE_SIZE])
        annotations.append(ann.shifted(_OFFSET, _OFFSET, PROBE_SIZE))
        descriptions.append(description)
    return ProbeSet(name, np.stack(images), annotations, descriptions)


@lru_cache(maxsize=None)
def _cached(name: str) -> ProbeSet:
    return render_probe(name)


def probe_set(name: str) -> ProbeSet:
    """The fixed probe set ``name`` — ``"fig7"`` (3 scenes), ``"fig8_faces"`` (5 faces) or ``"fig5"`` (5 objects) —
    as uint8 images (N, 112, 112, 3) with annotations in that frame. Cached; the arrays are read-only."""
    ps = _cached(name) if name in _PROBES else render_probe(name)
    ps.images.setflags(write=False)
    return ps
