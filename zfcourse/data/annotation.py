"""What the embedded world knows about each image it draws: label, box, keypoints, and every object drawn.

Coordinates are pixels, x to the right, y down, in PIL's convention that the centre of pixel (row r, column c) is
the point (x=c, y=r): the pixel under keypoint (x, y) is ``image[round(y), round(x)]``. Boxes are integer
``(x0, y0, x1, y1)`` with x1, y1 *exclusive*, so ``image[y0:y1, x0:x1]`` is the object (clipped to the image).

Because the generator knows where every part is, the chapters can check the paper's claims against ground truth —
does the occlusion map of §4.2 land on the object, does masking an eye (§4.3) change the features consistently.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

Box = tuple[int, int, int, int]


def _swap_side(name: str) -> str:
    """``left_eye`` ↔ ``right_eye`` (any ``left_``/``right_`` prefix); other names unchanged."""
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name


def clip_box(box, width: int, height: int | None = None) -> Box:
    """Integer end-exclusive box ``(x0, y0, x1, y1)`` clipped to a width × height image (may become empty)."""
    height = width if height is None else height
    x0, y0, x1, y1 = (int(v) for v in box)
    return max(0, min(x0, width)), max(0, min(y0, height)), max(0, min(x1, width)), max(0, min(y1, height))


def box_is_empty(box: Box) -> bool:
    """True when the box covers no pixel."""
    return box[2] <= box[0] or box[3] <= box[1]


@dataclass
class Annotation:
    """Ground truth of one embedded-world image.

    Attributes:
        label: class index of the main object (see ``zfcourse.data.CLASS_NAMES``).
        class_name: its name, e.g. ``"dog_face"``.
        box: (x0, y0, x1, y1) of the main object, pixels, x1/y1 exclusive, clipped to the image.
        keypoints: named points (x, y) of the main object's parts, float pixels (may lie outside a crop). Every
            face class has ``left_eye``, ``right_eye`` and ``nose``; *left* means the eye on the **image's left**
            (smaller x) — the viewer's left, the animal's right. The paper does not say which it means.
        objects: (class_name, box) of everything drawn — distractors first, the main object last (unless a
            scene was given explicitly) — clipped, objects fully outside the image left out.
        symmetry: order of rotational symmetry of the main object as drawn (petal/spoke count for flower/wheel).
        parts: (x0, y0, x1, y1) of each named part of the main object (world v2), clipped; a part hidden under
            another part or object keeps its box.
        context: the habitual context drawn with the object (world v2): ``""``, ``"road"``, ``"water"``, ``"ball"``.
        occluded: whether an occluding blob was drawn over part of the main object (world v2).
    """
    label: int
    class_name: str
    box: Box
    keypoints: dict[str, tuple[float, float]] = field(default_factory=dict)
    objects: list[tuple[str, Box]] = field(default_factory=list)
    symmetry: int = 1
    parts: dict[str, Box] = field(default_factory=dict)
    context: str = ""
    occluded: bool = False

    def shifted(self, dx: float, dy: float, width: int, height: int | None = None) -> "Annotation":
        """The annotation in a crop whose top-left corner is (dx, dy) and size width × height (boxes clipped)."""
        height = width if height is None else height

        def move(b):
            return clip_box((b[0] - dx, b[1] - dy, b[2] - dx, b[3] - dy), width, height)

        objects = [(n, move(b)) for n, b in self.objects]
        return replace(self, box=move(self.box), parts={k: move(b) for k, b in self.parts.items()},
                       keypoints={k: (x - dx, y - dy) for k, (x, y) in self.keypoints.items()},
                       objects=[(n, b) for n, b in objects if not box_is_empty(b)])

    def flipped(self, width: int) -> "Annotation":
        """The annotation of the horizontally flipped image: x → width − 1 − x for points, boxes mirrored, and
        ``left_*``/``right_*`` keypoints renamed so that *left* stays the image's left."""

        def flip(b):
            return (width - b[2], b[1], width - b[0], b[3])

        return replace(self, box=flip(self.box), parts={_swap_side(k): flip(b) for k, b in self.parts.items()},
                       keypoints={_swap_side(k): (width - 1 - x, y) for k, (x, y) in self.keypoints.items()},
                       objects=[(n, flip(b)) for n, b in self.objects])
