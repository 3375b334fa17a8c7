"""Offline stand-ins for everything the ``imagenet`` source downloads, in the exact on-disk layout of the real thing.

``make_fixtures(root)`` writes, under ``root``:

* ``torch_home/hub/checkpoints/<torchvision's file name>`` — a random-init torchvision AlexNet state dict saved under
  the basename of ``AlexNet_Weights.DEFAULT.url`` (``alexnet-owt-7be5be79.pth``). With ``TORCH_HOME`` pointing at
  ``torch_home``, ``torch.hub.get_dir()`` is ``torch_home/hub`` and ``load_state_dict_from_url`` finds the file in
  ``hub/checkpoints`` and loads it without downloading (the hash in the name is checked only on download), so
  ``zfcourse.data.pretrained("alexnet", download=False)`` takes its real cached-file path.
* ``cache/`` — the course's per-user cache (``ZFCOURSE_CACHE``) holding:
  ``imagenette2-160/{train,val}/<wnid>/*.JPEG`` and ``imagewoof2-160/…`` (fast.ai's layout: 10 wnid folders,
  shortest side 160 px); ``caltech101/101_ObjectCategories/<class>/image_0001.jpg`` (with ``BACKGROUND_Google``,
  which torchvision drops); ``caltech256/256_ObjectCategories/001.ak47/001_0001.jpg`` (numbered folders, the
  file prefix equal to the folder's rank, as torchvision reads them); and the chapter-8 photo folder
  ``my_dogs/`` (``zfcourse.correspondence.photo_folder()``) filled by the package's own ``dog_photos`` from the
  Imagewoof stand-in, with a ``faces.json`` keypoint file (eyes and nose) written by ``save_annotations``.

The pictures are simple deterministic drawings (a class colour, a class shape, seeded noise; the dog "faces" have
eyes and a nose exactly where faces.json says). Numbers computed on random weights and drawings mean nothing: the
fixtures exist so that the code a Colab reader runs is executed offline.

It returns the environment to run a chapter with (``TORCH_HOME``, ``ZFCOURSE_CACHE``, ``ZFCOURSE_SOURCE=imagenet``,
``ZFCOURSE_QUICK=1``). A finished fixture folder is reused as it is (a stamp file marks it complete).

Command line: ``python tests/imagenet_fixtures.py DIR`` builds the fixtures in DIR and prints ``export K=V`` lines::

    eval "$(python tests/imagenet_fixtures.py /tmp/fx)"
"""
from __future__ import annotations

import contextlib
import io
import os
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
VERSION = "1"          # bump when the layout changes: an older fixture folder is then rebuilt
MODELS = ("alexnet",)  # torchvision models whose weights the chapters load (VGG: none does yet)
IMAGES_PER_CLASS = 3
SHORT_SIDE = 160       # the -160 variants: shortest side 160 px
# The real datasets' folder names (fast.ai's archives), written here independently of zfcourse.data.real's tables
# so that a wrong wnid there shows up as a test failure rather than a matching fixture.
IMAGENETTE_WNIDS = ("n01440764", "n02102040", "n02979186", "n03000684", "n03028079", "n03394916", "n03417042",
                    "n03425413", "n03445777", "n03888605")
IMAGEWOOF_WNIDS = ("n02086240", "n02087394", "n02088364", "n02089973", "n02093754", "n02096294", "n02099601",
                   "n02105641", "n02111889", "n02115641")
CALTECH101_CLASSES = ("BACKGROUND_Google", "Faces_easy", "Leopards", "Motorbikes", "accordion", "airplanes")
CALTECH256_CLASSES = ("001.ak47", "002.american-flag", "003.backpack", "004.baseball-bat", "005.baseball-glove")
DOG_PHOTOS = 5         # chapter 8 asks dog_photos(n=5)
# (width, height) cycle: landscape, portrait, square, so the shortest-side resize is exercised both ways
SHAPES = ((213, SHORT_SIDE), (SHORT_SIDE, 200), (SHORT_SIDE, SHORT_SIDE))


def _picture(seed: int, size: tuple[int, int], kind: int) -> Image.Image:
    """A class-coloured picture: vertical gradient, seeded noise, one filled shape (``kind``: colour and shape)."""
    w, h = size
    rng = np.random.default_rng(seed)
    hue = np.array([(37 * kind) % 256, (91 * kind + 60) % 256, (151 * kind + 120) % 256], dtype=float)
    ramp = np.linspace(0.55, 1.0, h)[:, None, None]
    pixels = hue * ramp + rng.normal(0, 18, (h, w, 3))
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    cx, cy = w // 2 + int(rng.integers(-15, 16)), h // 2 + int(rng.integers(-15, 16))
    r = int(rng.integers(28, 48))
    fill = tuple(int(255 - v) for v in hue)
    box = (cx - r, cy - r, cx + r, cy + r)
    if kind % 3 == 0:
        draw.ellipse(box, fill=fill)
    elif kind % 3 == 1:
        draw.rectangle(box, fill=fill)
    else:
        draw.polygon([(box[0], box[3]), (box[2], box[3]), (cx, box[1])], fill=fill)
    return img


def dog_face(seed: int, size: tuple[int, int]) -> tuple[Image.Image, dict[str, tuple[float, float]]]:
    """A drawn frontal "dog face" and its keypoints (x, y) in pixels: the eye and nose centres as drawn."""
    w, h = size
    rng = np.random.default_rng(seed)
    fur = rng.integers(90, 200, 3)
    pixels = fur * np.ones((h, w, 3)) + rng.normal(0, 12, (h, w, 3))
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    cx, cy = w / 2 + float(rng.integers(-8, 9)), h / 2 + float(rng.integers(-8, 9))
    draw.ellipse((cx - 52, cy - 58, cx + 52, cy + 52), fill=tuple(int(v) for v in fur // 2 + 100))
    points = {"left_eye": (cx - 22.0, cy - 18.0), "right_eye": (cx + 22.0, cy - 18.0), "nose": (cx, cy + 16.0)}
    for name, (x, y) in points.items():
        r = 6 if name == "nose" else 8
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(20, 20, 20))
    return img, points


def _save_jpeg(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=85)


def _imagenette(cache: Path, variant: str, wnids, faces: bool = False) -> dict[str, dict]:
    """fast.ai's layout: ``<variant>/train/<wnid>/<wnid>_<n>.JPEG`` and ``<variant>/val/<wnid>/ILSVRC2012_val_*.JPEG``.
    Returns the keypoints of the drawn faces by file path (dog faces when ``faces``)."""
    points = {}
    for s, split in enumerate(("train", "val")):
        for k, wnid in enumerate(wnids):
            for i in range(IMAGES_PER_CLASS):
                seed = 1000 * s + 10 * k + i + (500_000 if faces else 0)
                size = SHAPES[(k + i) % len(SHAPES)]
                name = f"{wnid}_{100 + i}.JPEG" if split == "train" else f"ILSVRC2012_val_{1 + 100 * k + i:08d}.JPEG"
                path = cache / variant / split / wnid / name
                if faces:
                    img, points[str(path)] = dog_face(seed, size)
                else:
                    img = _picture(seed, size, k)
                _save_jpeg(img, path)
    return points


def _caltech(cache: Path) -> None:
    """torchvision's Caltech-101 and -256 layouts (what their ``_check_integrity`` and ``__getitem__`` read)."""
    base = cache / "caltech101" / "101_ObjectCategories"
    for k, cls in enumerate(CALTECH101_CLASSES):
        for i in range(1, IMAGES_PER_CLASS + 1):
            _save_jpeg(_picture(2000 + 10 * k + i, (200 + 20 * (i % 2), 150), k), base / cls / f"image_{i:04d}.jpg")
    base = cache / "caltech256" / "256_ObjectCategories"
    for k, cls in enumerate(CALTECH256_CLASSES):
        for i in range(1, IMAGES_PER_CLASS + 1):
            img = _picture(3000 + 10 * k + i, (180, 240 - 40 * (i % 2)), k)
            _save_jpeg(img, base / cls / f"{k + 1:03d}_{i:04d}.jpg")


def _weights(torch_home: Path) -> list[Path]:
    """Random-init torchvision state dicts under the file names torchvision's weights use, in torch.hub's cache."""
    import torch
    import torchvision

    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in MODELS:
        url = torchvision.models.get_model_weights(name).DEFAULT.url
        path = folder / Path(url).name
        state = torch.random.fork_rng(devices=[])
        with state:
            torch.manual_seed(0)
            model = getattr(torchvision.models, name)(weights=None)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        with os.fdopen(fd, "wb") as f:
            torch.save(model.state_dict(), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        written.append(path)
    return written


def _photo_folder(cache: Path, woof_points: dict[str, dict]) -> Path:
    """Chapter 8's photo folder, filled the way a reader's would be: ``dog_photos`` copies the first validation image
    of 5 Imagewoof breeds (from the stand-in), then faces.json gets each copy's keypoints as the tool saves them."""
    from zfcourse.correspondence import photo_folder, save_annotations
    from zfcourse.correspondence.photos import dog_photos
    from zfcourse.data.real import imagenette

    folder = _with_cache(cache, photo_folder)
    with contextlib.redirect_stdout(io.StringIO()):
        names = dog_photos(folder, n=DOG_PHOTOS, root=cache, download=False)
    ds = imagenette("val", "imagewoof2-160", root=cache)
    first = {}
    for path, label in ds.samples:
        first.setdefault(label, path)
    faces = {}
    for label in sorted(first)[:DOG_PHOTOS]:
        name = f"{ds.class_names[label].replace(' ', '_')}{Path(first[label]).suffix.lower()}"
        faces[name] = woof_points[first[label]]
    if sorted(faces) != sorted(names):
        raise RuntimeError(f"photo folder: dog_photos copied {names}, expected {sorted(faces)}")
    save_annotations(folder / "faces.json", faces, backup=False)
    return folder


def _with_cache(cache: Path, fn):
    old = os.environ.get("ZFCOURSE_CACHE")
    os.environ["ZFCOURSE_CACHE"] = str(cache)
    try:
        return fn()
    finally:
        if old is None:
            del os.environ["ZFCOURSE_CACHE"]
        else:
            os.environ["ZFCOURSE_CACHE"] = old


def fixture_env(root) -> dict[str, str]:
    """The environment a chapter runs with on the fixtures in ``root`` (already made)."""
    root = Path(root).resolve()
    return {"TORCH_HOME": str(root / "torch_home"), "ZFCOURSE_CACHE": str(root / "cache"),
            "ZFCOURSE_SOURCE": "imagenet", "ZFCOURSE_QUICK": "1"}


def make_fixtures(root) -> dict[str, str]:
    """Write the weights and dataset stand-ins under ``root`` (see the module docstring) and return the environment
    (``TORCH_HOME``, ``ZFCOURSE_CACHE``, ``ZFCOURSE_SOURCE=imagenet``, ``ZFCOURSE_QUICK=1``). Deterministic; a folder
    already completed by the same fixture version is reused as it is."""
    root = Path(root).resolve()
    env = fixture_env(root)
    stamp = root / ".zfcourse-fixtures"
    if stamp.is_file() and stamp.read_text().strip() == VERSION:
        return env
    if str(ROOT) not in sys.path:  # the CLI runs from tests/: import this checkout's package
        sys.path.insert(0, str(ROOT))
    cache = Path(env["ZFCOURSE_CACHE"])
    _weights(Path(env["TORCH_HOME"]))
    _imagenette(cache, "imagenette2-160", IMAGENETTE_WNIDS)
    woof = _imagenette(cache, "imagewoof2-160", IMAGEWOOF_WNIDS, faces=True)
    _caltech(cache)
    _photo_folder(cache, woof)
    stamp.write_text(VERSION + "\n")
    return env


_SHARED: dict[str, dict[str, str]] = {}


def shared_fixtures(tmp_path_factory) -> dict[str, str]:
    """One fixture folder per pytest session, whichever test module asks first (for session-scoped fixtures)."""
    key = str(tmp_path_factory.getbasetemp())
    if key not in _SHARED:
        _SHARED[key] = make_fixtures(tmp_path_factory.mktemp("imagenet_fixtures"))
    return _SHARED[key]


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python tests/imagenet_fixtures.py DIR   (prints export lines: eval \"$(...)\")", file=sys.stderr)
        return 2
    for key, value in make_fixtures(Path(args[0])).items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
