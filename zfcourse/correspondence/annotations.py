"""The small JSON file that carries keypoints from the annotation tool to the analysis (§4.3 on your own images).

Format — one entry per image, keypoints in pixels of the image as shown ((0, 0) = centre of the top-left pixel,
x to the right, y down). ``left_eye`` is the eye on the *image's* left (smaller x: the viewer's left, the animal's
right), as in ``zfcourse.data``'s annotations:

    {"dog1.jpg": {"left_eye": [88.0, 97.0], "right_eye": [141.0, 96.5], "nose": [113.0, 140.0]}, ...}
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

KEYPOINTS = ("left_eye", "right_eye", "nose")


def check_annotations(annotations, sizes=None) -> dict[str, dict[str, tuple[float, float]]]:
    """``annotations`` ({image name: {keypoint: (x, y)}}) with float coordinates, checked; with ``sizes``
    ({image name: (height, width)}), every point must lie inside its image (−½ ≤ x < W − ½, −½ ≤ y < H − ½).

    Example:
        >>> check_annotations({"a.jpg": {"nose": [3, 4]}}, sizes={"a.jpg": (10, 10)})
        {'a.jpg': {'nose': (3.0, 4.0)}}
    """
    if not isinstance(annotations, dict):
        raise TypeError(f"annotations: expected a dict {{image name: {{keypoint: (x, y)}}}}, got {type(annotations).__name__}")
    out = {}
    for name, points in annotations.items():
        if not isinstance(points, dict):
            raise TypeError(f"annotations: entry {name!r} must be a dict {{keypoint: (x, y)}}, got {type(points).__name__}")
        out[str(name)] = {}
        for kp, xy in points.items():
            try:
                x, y = (float(v) for v in xy)
            except (TypeError, ValueError) as err:
                raise ValueError(f"annotations: {name!r} {kp!r} must be a pair (x, y) of numbers, got {xy!r}") from err
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError(f"annotations: {name!r} {kp!r} has a non-finite coordinate ({x}, {y})")
            if sizes is not None and name in sizes:
                h, w = sizes[name]
                if not (-0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5):
                    raise ValueError(f"annotations: {name!r} {kp!r} at ({x:g}, {y:g}) lies outside the {h}×{w} image")
            out[str(name)][str(kp)] = (x, y)
    return out


def save_annotations(path, annotations, sizes=None) -> Path:
    """Write ``annotations`` to ``path`` as JSON (checked first, written to a temporary file then renamed, so a crash
    never leaves half a file). Returns the path.

    Example:
        >>> p = save_annotations(Path(tempfile.mkdtemp()) / "faces.json", {"a.jpg": {"nose": (3, 4)}})
        >>> load_annotations(p)
        {'a.jpg': {'nose': (3.0, 4.0)}}
    """
    data = {name: {kp: [x, y] for kp, (x, y) in pts.items()} for name, pts in check_annotations(annotations, sizes).items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)
    return path


def load_annotations(path, sizes=None, required=()) -> dict[str, dict[str, tuple[float, float]]]:
    """Read a keypoint file written by :func:`save_annotations` or the annotation tool.

    Args:
        path: the JSON file.
        sizes: optional {image name: (height, width)}; points outside their image raise ValueError.
        required: keypoint names every image must have (e.g. ``KEYPOINTS``); a missing one raises KeyError.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path: no annotation file at {path}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"path: {path} is not valid JSON ({err})") from err
    out = check_annotations(data, sizes)
    for name, pts in out.items():
        missing = [kp for kp in required if kp not in pts]
        if missing:
            raise KeyError(f"path: image {name!r} in {path} has no {', '.join(missing)}")
    return out
