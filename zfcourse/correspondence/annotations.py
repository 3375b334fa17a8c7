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
        raise TypeError("annotations: expected a dict {image name: {keypoint: (x, y)}}, "
                        f"got {type(annotations).__name__}")
    out = {}
    for name, points in annotations.items():
        if not isinstance(points, dict):
            raise TypeError(f"annotations: entry {name!r} must be a dict {{keypoint: (x, y)}}, "
                            f"got {type(points).__name__}")
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


def save_annotations(path, annotations, sizes=None, merge: bool = True, backup: bool = True) -> Path:
    """Write ``annotations`` to ``path`` as JSON; returns the path.

    Nothing already in the file is lost: with ``merge`` (default) the file's other images keep their keypoints and
    only the images in ``annotations`` are replaced; with ``backup`` the file as it was is kept as ``<name>.bak`` (one
    backup, replaced at each save). The points are checked first, then written to a temporary file that is flushed,
    fsync-ed and renamed over ``path``, so a crash never leaves half a file.

    Raises:
        ValueError: a point is malformed or outside its image, or ``path`` exists but is not a keypoint file (then it
            is left untouched: move it away or choose another path).

    Example:
        >>> p = save_annotations(Path(tempfile.mkdtemp()) / "faces.json", {"a.jpg": {"nose": (3, 4)}})
        >>> _ = save_annotations(p, {"b.jpg": {"nose": (5, 6)}})
        >>> sorted(load_annotations(p))
        ['a.jpg', 'b.jpg']
    """
    new = check_annotations(annotations, sizes)
    path = Path(path)
    old = None
    if path.exists():
        try:
            old = load_annotations(path)
        except (ValueError, TypeError) as err:
            raise ValueError(f"path: {path} exists but is not a keypoint file ({err}); it was left untouched — move "
                             "it away or choose another path") from err
    merged = {**old, **new} if merge and old else new
    data = {name: {kp: [x, y] for kp, (x, y) in pts.items()} for name, pts in merged.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    if backup and old is not None:
        _replace_with(path.with_name(path.name + ".bak"), path.read_bytes())
    _replace_with(path, json.dumps(data, indent=1).encode())
    return path


def _replace_with(path: Path, data: bytes) -> None:
    """Atomically make ``path`` hold ``data``: temporary file in the same folder, flush, fsync, ``os.replace``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    if not path.is_file():
        raise ValueError(f"path: {path} is not a file; expected a JSON keypoint file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"path: {path} is not a JSON keypoint file ({type(err).__name__}: {err})") from err
    try:
        out = check_annotations(data, sizes)
    except (TypeError, ValueError) as err:
        raise type(err)(f"path: {path}: {err}") from err
    for name, pts in out.items():
        missing = [kp for kp in required if kp not in pts]
        if missing:
            raise KeyError(f"path: image {name!r} in {path} has no {', '.join(missing)}")
    return out
