"""§4.3 on your own photos: read the images an annotation file names, crop them for the model, and move the keypoints.

Each photo is resized so its shortest side is ``size`` and centre-cropped to ``size``×``size`` (the paper's test crop,
§3, without the 256 → 224 step: annotated parts must stay in view). A keypoint (x, y) moves with the pixel centres:
x' = (x + ½)·s − ½ − offset_x with s the resize factor. The "object" of the random baseline is the face the keypoints
outline: their bounding box widened by ``margin`` × (eye distance) on every side, clipped to the crop.

For torchvision's pretrained AlexNet, "layer 5" and "layer 7" are ``features.11`` (relu5) and ``classifier.5``
(relu7): :data:`ALEXNET_LAYERS`. :func:`read_folder` gives the tool its pictures; :func:`dog_photos` fills an empty
folder with a few dog photos from Imagewoof (downloaded) so a reader without photos of their own can start. The
default folder is :func:`photo_folder`, in the per-user cache — never inside the installed package or the book.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data import ALEXNET_RELUS
from ..environment import cache_dir
from .annotate import KEYPOINTS, load_annotations
from .measure import check_inside

# Table 1's layers in torchvision's AlexNet (addressed by index): relu5 and relu7, as LAYERS in the course model.
ALEXNET_LAYERS = {"Layer 5": ALEXNET_RELUS["relu5"], "Layer 7": "classifier.5"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def photo_folder() -> Path:
    """The default folder for your own photos: ``my_dogs/`` in the per-user cache
    (:func:`zfcourse.environment.cache_dir`, e.g. ``~/.cache/zfcourse/my_dogs``)."""
    return cache_dir() / "my_dogs"


def read_folder(folder=None, limit: int | None = None) -> tuple[list[np.ndarray], list[str]]:
    """The pictures in ``folder`` (files ending in :data:`IMAGE_SUFFIXES`, sorted by name; at most ``limit``) as
    uint8 (H, W, 3) arrays, and their file names — what :class:`~zfcourse.correspondence.AnnotationTool` takes.
    ``folder`` defaults to :func:`photo_folder`.

    Example:
        >>> images, names = read_folder("my_dogs")          # doctest: +SKIP
    """
    folder = Path(folder) if folder is not None else photo_folder()
    if not folder.is_dir():
        raise FileNotFoundError(f"folder: {folder} is not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    if not files:
        raise FileNotFoundError(f"folder: no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return [np.asarray(Image.open(p).convert("RGB")) for p in files], [p.name for p in files]


def dog_photos(folder=None, n: int = 5, root=None, download: bool = True) -> list[str]:
    """Make sure ``folder`` (default :func:`photo_folder`) holds dog photos for §4.3 on real images: if it has none,
    copy the first validation image of ``n`` different Imagewoof breeds (10 ImageNet dog classes; downloaded into
    ``root``, default the course's cache, when ``download``) and say where they went. Returns the image names.

    The paper used 5 *frontal* dog faces; Imagewoof photos are not all frontal — look at them in the annotation tool
    and replace any that is not with a photo of your own before annotating.
    """
    from shutil import copyfile

    from ..data.real import imagenette

    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 10:
        raise ValueError(f"n: expected between 2 and 10 photos (Δ needs pairs; Imagewoof has 10 breeds), got {n!r}")
    folder = Path(folder) if folder is not None else photo_folder()
    if folder.is_dir():
        have = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if have:
            return have
    ds = imagenette("val", "imagewoof2-160", root=root, download=download)  # before mkdir: a failure leaves no folder
    folder.mkdir(parents=True, exist_ok=True)
    first = {}
    for path, label in ds.samples:
        first.setdefault(label, path)
    for label in sorted(first)[:n]:
        src = Path(first[label])
        copyfile(src, folder / f"{ds.class_names[label].replace(' ', '_')}{src.suffix.lower()}")
    print(f"zfcourse: copied {min(n, len(first))} Imagewoof dog photos into {folder}; "
          "put your own photos there instead")
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def keypoint_box(points: dict, margin: float = 0.75, size: int | None = None) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) around ``points`` widened by ``margin``·(left–right eye distance, or the box's larger side)
    on each side — an estimate of the face for the "Random" row of Table 1 (§4.3). Clipped to [0, size) if given.

    Example:
        >>> keypoint_box({"left_eye": (40, 50), "right_eye": (60, 50), "nose": (50, 65)}, margin=0.5)
        (30.0, 40.0, 70.0, 75.0)
    """
    xy = np.array(list(points.values()), dtype=float)
    lo, hi = xy.min(0), xy.max(0)
    if "left_eye" in points and "right_eye" in points:
        span = float(np.hypot(*np.subtract(points["left_eye"], points["right_eye"])))
    else:
        span = float((hi - lo).max())
    lo, hi = lo - margin * span, hi + margin * span
    if size is not None:
        lo, hi = np.clip(lo, 0, size - 1), np.clip(hi, 0, size - 1)
    return tuple(float(v) for v in (*lo, *hi))


def load_photos(folder, annotations, preprocess, size: int = 224, required=KEYPOINTS, margin: float = 0.75):
    """The inputs of :func:`~zfcourse.correspondence.correspondence_table` for annotated photos (§4.3).

    Args:
        folder: where the images named in the annotation file are.
        annotations: the JSON file written by :class:`~zfcourse.correspondence.AnnotationTool` (or its dict).
        preprocess: converts uint8 images to the model's input space (``zfcourse.data.Preprocess.torchvision()``
            for torchvision's AlexNet).
        size: the model's input side (224 for AlexNet).

    Returns ``(images (N, 3, size, size), keypoints [N dicts], boxes (N, 4), names)``.
    """
    folder = Path(folder)
    if not isinstance(annotations, dict):
        annotations = load_annotations(annotations, required=required)
    images, keypoints, boxes = [], [], []
    for name, points in annotations.items():
        path = folder / name
        if not path.exists():
            raise FileNotFoundError(f"folder: {path} (named in the annotations) does not exist")
        img = Image.open(path).convert("RGB")
        w, h = img.size
        s = size / min(w, h)
        rw, rh = max(size, round(w * s)), max(size, round(h * s))
        ox, oy = (rw - size) // 2, (rh - size) // 2
        crop = np.asarray(img.resize((rw, rh), Image.BILINEAR))[oy:oy + size, ox:ox + size]
        moved = {k: ((x + 0.5) * rw / w - 0.5 - ox, (y + 0.5) * rh / h - 0.5 - oy) for k, (x, y) in points.items()}
        for k, (x, y) in moved.items():
            check_inside(x, y, size, size, f"annotations: {name!r} {k!r} (after the centre crop)")
        images.append(crop)
        keypoints.append(moved)
        boxes.append(keypoint_box(moved, margin, size))
    if not images:
        raise ValueError("annotations: no images annotated")
    return preprocess.to_input(np.stack(images)), keypoints, torch.tensor(boxes, dtype=torch.float64), list(annotations)
