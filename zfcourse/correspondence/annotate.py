"""An ipywidgets tool to place left eye, right eye and nose on your own images, for §4.3 on real photos (e.g. in Colab).

Pick the image and the keypoint in the dropdowns, then either *click* on the picture (when the ``ipyevents`` package
can be imported; it works in Jupyter and, with its custom widget manager, which the tool switches on, in Colab) or move
the x/y sliders (always there: the fallback where clicks are not available, and for fine adjustment). The preview is an
``ipywidgets.Image``: the picture with the points — and, with ``size``, the mask square §4.3 will use — drawn by
matplotlib into a PNG of a known size, so a click's position in the PNG converts back to image pixels. A click puts the
chosen keypoint on the pixel under the pointer and moves on to the next keypoint (left eye → right eye → nose → left
eye), so three clicks annotate an image. "Save" merges the points into the JSON file that
:func:`~zfcourse.correspondence.load_annotations` reads (other images' points are kept, the old file kept as .bak).

For the static book, :meth:`AnnotationTool.draw` draws the default view once as an ordinary figure.

Example (in a notebook):
    >>> tool = AnnotationTool([photo1, photo2], names=["dog1.jpg", "dog2.jpg"],     # doctest: +SKIP
    ...                       path="my_dogs.json", size=31)
    >>> tool.draw(); display(tool.widget)     # doctest: +SKIP

The keypoint file carries the points from the tool to the analysis (§4.3 on your own images): JSON with one entry
per image, keypoints in pixels of the image as shown ((0, 0) = centre of the top-left pixel,
x to the right, y down). ``left_eye`` is the eye on the *image's* left (smaller x: the viewer's left, the animal's
right), as in ``zfcourse.data``'s annotations:

    {"dog1.jpg": {"left_eye": [88.0, 97.0], "right_eye": [141.0, 96.5], "nose": [113.0, 140.0]}, ...}
"""
from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from .measure import square_box

KEYPOINTS = ("left_eye", "right_eye", "nose")

# Where a keypoint starts before you move it, as fractions (x/W, y/H) of a frontal face filling the image.
_START = {"left_eye": (0.35, 0.4), "right_eye": (0.65, 0.4), "nose": (0.5, 0.62)}
_COLOURS = {"left_eye": "tab:cyan", "right_eye": "tab:orange", "nose": "tab:pink"}
_VIEW_PX = 448         # the preview PNG's longer side in screen pixels (a 112-pixel face is shown 4× enlarged)
_VIEW_DPI = 100


# ---- the keypoint file -----------------------------------------------------------------------------------------------

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


# ---- drawing and the tool --------------------------------------------------------------------------------------------

def as_display(image) -> np.ndarray:
    """An (H, W, 3) float array in [0, 1] for imshow from a PIL image, an (H, W, 3) uint8/float array, or a (3, H, W)
    tensor in [0, 1] or 0–255 (display space; convert input-space tensors with the data source's preprocessing
    first)."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
        if image.ndim == 3 and image.shape[0] in (1, 3):
            image = image.transpose(1, 2, 0)
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"images: expected (H, W, 3) pictures or (3, H, W) tensors, got shape {a.shape}")
    a = a[..., :3].astype(np.float64)
    return np.clip(a / 255.0 if a.max() > 1.0 else a, 0.0, 1.0)


def draw_keypoints(image, points: dict, size: int | None = None, ax=None, title: str | None = None,
                   highlight: str | None = None):
    """Draw ``image`` with its keypoints (x, y) marked and labelled and, with ``size``, the size×size mask square
    §4.3 puts on each (see :func:`~zfcourse.correspondence.square_box`). Returns the axes.

    ``highlight`` names the keypoint being placed (the tool's selected one): it gets a ringed marker, a thicker square
    and a bold label, so it stands out from the others. Labels are 10 pt.

    Example:
        >>> ax = draw_keypoints(np.zeros((20, 20, 3)), {"nose": (10, 12)}, size=5, highlight="nose")   # doctest: +SKIP
    """
    img = as_display(image)
    if highlight is not None and highlight not in points:
        raise ValueError(f"highlight: expected one of the keypoints {sorted(points)}, got {highlight!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(img, interpolation="nearest")
    lowest = max(y for _, y in points.values()) if points else None
    for name, (x, y) in points.items():
        colour = _COLOURS.get(name, "tab:green")
        chosen = name == highlight
        if size:
            x0, y0, x1, y1 = square_box((x, y), size, *img.shape[:2])
            # Pixel edges are half a pixel outside the first/last covered pixel centre.
            ax.add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=colour,
                                       lw=3.0 if chosen else 1.5))
        if chosen:          # a white ring with the keypoint's colour inside it
            ax.plot([x], [y], "o", mfc="none", mec="white", ms=22, mew=4)
            ax.plot([x], [y], "o", mfc="none", mec=colour, ms=22, mew=2)
        ax.plot([x], [y], "+", color=colour, ms=14 if chosen else 12, mew=3 if chosen else 2)
        # Labels away from the face's middle, so the two eyes' labels do not overlap; the lowest point's (the nose)
        # label goes below it, clear of the eyes' rings.
        left, below = x < img.shape[1] / 2, len(points) > 1 and y == lowest
        ax.annotate(name, (x, y), xytext=(0, -14) if below else (-8 if left else 8, 9), textcoords="offset points",
                    color=colour, fontsize=10, fontweight="bold" if chosen else "normal",
                    ha="center" if below else "right" if left else "left", va="top" if below else "baseline",
                    bbox=dict(boxstyle="round,pad=0.15", fc="black", ec=colour if chosen else "none",
                              alpha=0.85 if chosen else 0.55))
    ax.set_title(title or "", fontsize=10)
    ax.set_axis_off()
    return ax


def _click_events():
    """ipyevents' ``Event`` widget class, or None where the package cannot be imported (then: sliders only)."""
    try:
        from ipyevents import Event
    except ImportError:
        return None
    if "google.colab" in sys.modules:      # Colab draws third-party widgets only with its custom widget manager
        try:
            from google.colab import output
            output.enable_custom_widget_manager()
        except Exception:                  # an older Colab: clicks may not arrive; the sliders still work
            pass
    return Event


class AnnotationTool:
    """Place ``keypoints`` on ``images`` by clicking (with ``ipyevents``) or with sliders, with a live preview; save
    them as JSON for §4.3's analysis on your own photos.

    Args:
        images: pictures in display space (PIL images, (H, W, 3) arrays, or (3, H, W) tensors).
        names: one name per image (the JSON keys; e.g. file names). Default ``image_0``, ``image_1``, ...
        path: the JSON file; if it exists its points are the starting positions, and "Save" writes it.
        keypoints: names to place (default left_eye, right_eye, nose; left = the image's left).
        size: if given, the preview also shows the size×size mask square on each keypoint.
        crop: the side the model sees each image at after :func:`~zfcourse.correspondence.load_photos`' resize
            (its shortest side to ``crop``, e.g. 224 for AlexNet); with it, ``size`` counts pixels of that input and
            the preview draws the square at the size it has on the photo, size·min(H, W)/crop (so a 31-pixel mask
            of AlexNet's 224 input shows as 22 pixels on a 160-pixel photo). Default: pixels of the image itself.
        annotations: starting points {name: {keypoint: (x, y)}} (override the file).

    Attributes: ``annotations`` (the current points, updated live), ``widget`` (built on first access),
    ``clicks`` (whether the widget takes clicks: ``ipyevents`` could be imported; set when the widget is built).
    """

    def __init__(self, images, names=None, path=None, keypoints=KEYPOINTS, size: int | None = None, annotations=None,
                 crop: int | None = None):
        self.images = [as_display(im) for im in images]
        if not self.images:
            raise ValueError("images: expected at least one picture to annotate")
        self.names = [str(n) for n in names] if names is not None else [f"image_{i}" for i in range(len(self.images))]
        if len(self.names) != len(self.images) or len(set(self.names)) != len(self.names):
            raise ValueError(f"names: expected {len(self.images)} distinct names, got {self.names}")
        self.path = Path(path) if path is not None else None
        self.keypoints, self.size = tuple(keypoints), size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise ValueError(f"size: expected a positive integer mask side in pixels, or None, got {size!r}")
        if crop is not None and (isinstance(crop, bool) or not isinstance(crop, int) or crop < 1):
            raise ValueError(f"crop: expected the model's input side in pixels (a positive integer), or None, "
                             f"got {crop!r}")
        self.crop = crop
        if not self.keypoints:
            raise ValueError("keypoints: expected at least one keypoint name to place")
        sizes = {n: im.shape[:2] for n, im in zip(self.names, self.images)}
        start = load_annotations(self.path, sizes) if self.path is not None and self.path.exists() else {}
        start.update(check_annotations(annotations, sizes) if annotations else {})
        self.annotations = {}
        for name, im in zip(self.names, self.images):
            h, w = im.shape[:2]
            default = {kp: (round(fx * (w - 1)), round(fy * (h - 1))) for kp, (fx, fy) in
                       ((kp, _START.get(kp, (0.5, 0.5))) for kp in self.keypoints)}
            self.annotations[name] = {**default, **start.get(name, {})}
        self._widget, self._events, self.clicks = None, None, False
        self._index, self._point = 0, self.keypoints[0]       # what a click places: image index, keypoint name

    def draw(self, index: int = 0, ax=None):
        """Draw image ``index`` with its current keypoints once, as an ordinary figure (the tool's default view: the
        keypoint the next click places is highlighted)."""
        name = self.names[index]
        own = ax is None
        ax = draw_keypoints(self.images[index], self.annotations[name], self.square(index), ax=ax, title=name,
                            highlight=self._point)
        if own:            # inline backend: show now, so the figure lands in this cell
            plt.show()
        return ax

    def save(self, path=None) -> Path:
        """Write the current points to ``path`` (default: the tool's path) as JSON, merged into what the file holds:
        other images' keypoints are kept, and the file as it was is kept as ``<name>.bak``
        (see :func:`~zfcourse.correspondence.save_annotations`)."""
        path = Path(path) if path is not None else self.path
        if path is None:
            raise ValueError("path: the tool was made without a path; pass one to save()")
        sizes = {n: im.shape[:2] for n, im in zip(self.names, self.images)}
        return save_annotations(path, self.annotations, sizes)

    def square(self, index: int = 0) -> int | None:
        """The mask square's side in pixels of image ``index`` as the preview draws it: ``size``, or with ``crop``
        size·min(H, W)/crop rounded (at least 1); None without ``size``."""
        if self.size is None:
            return None
        if self.crop is None:
            return self.size
        return max(1, round(self.size * min(self.images[index].shape[:2]) / self.crop))

    def _view_shape(self, index: int = 0) -> tuple[int, int]:
        """(height, width) in screen pixels of the preview PNG of image ``index``: the image scaled so its longer side
        is 448 pixels (aspect kept, each side at least 1)."""
        h, w = self.images[index].shape[:2]
        scale = _VIEW_PX / max(h, w)
        return max(1, round(h * scale)), max(1, round(w * scale))

    def _render(self, index: int = 0, highlight: str | None = None) -> bytes:
        """PNG bytes of image ``index`` with its current keypoints (and mask squares), ``highlight`` (a keypoint name)
        standing out, exactly :meth:`_view_shape` pixels, the image filling it edge to edge — the preview that clicks
        are placed on."""
        from matplotlib.figure import Figure
        from PIL import Image

        vh, vw = self._view_shape(index)
        h, w = self.images[index].shape[:2]
        fig = Figure(figsize=((vw + 0.01) / _VIEW_DPI, (vh + 0.01) / _VIEW_DPI), dpi=_VIEW_DPI)   # +0.01: no truncation
        ax = fig.add_axes((0, 0, 1, 1))
        draw_keypoints(self.images[index], self.annotations[self.names[index]], self.square(index), ax=ax,
                       highlight=highlight)
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        ax.set_aspect("auto")                  # fill the figure: its aspect is the image's up to rounding
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=_VIEW_DPI)
        png = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        if png.size != (vw, vh):               # never seen; keeps the click arithmetic exact regardless
            png = png.resize((vw, vh))
        buf = io.BytesIO()
        png.save(buf, format="png")
        return buf.getvalue()

    def _click_pixel(self, event: dict, index: int = 0) -> tuple[float, float] | None:
        """The pixel (x, y) of image ``index`` under a click on its preview, or None for a click outside the picture.

        ``event`` is the dict ipyevents sends: ``dataX``/``dataY`` are the position in the PNG's own pixels (ipyevents
        rescales by the size shown on the page), else ``relativeX``/``relativeY`` with ``boundingRectWidth``/``Height``
        (the position and size on the page). A position u (0 = the picture's left edge, V = its right edge, V the
        PNG's width) lies over image column floor(u·W/V), W the image's width; a click exactly on the right or bottom
        edge is put on the last pixel.
        """
        if not isinstance(event, dict):
            raise TypeError(f"event: expected the dict an ipyevents click sends, got {type(event).__name__}")
        vh, vw = self._view_shape(index)
        h, w = self.images[index].shape[:2]
        try:
            if event.get("dataX") is not None and event.get("dataY") is not None:
                u, v = float(event["dataX"]), float(event["dataY"])
            else:
                u = float(event["relativeX"]) * vw / float(event["boundingRectWidth"])
                v = float(event["relativeY"]) * vh / float(event["boundingRectHeight"])
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as err:
            raise ValueError("event: expected dataX/dataY, or relativeX/relativeY with boundingRectWidth/Height "
                             f"(an ipyevents click), got keys {sorted(event)}") from err
        if not (math.isfinite(u) and math.isfinite(v) and 0 <= u <= vw and 0 <= v <= vh):
            return None
        return float(min(math.floor(u * w / vw), w - 1)), float(min(math.floor(v * h / vh), h - 1))

    def _on_click(self, event: dict):
        """Put the current keypoint of the current image on the clicked pixel and move on to the next keypoint
        (wrapping round). Returns (keypoint, (x, y)) placed, or None (click outside the picture: nothing changes)."""
        xy = self._click_pixel(event, self._index)
        if xy is None:
            return None
        placed = self._point
        self.annotations[self.names[self._index]][placed] = xy
        self._point = self.keypoints[(self.keypoints.index(placed) + 1) % len(self.keypoints)]
        return placed, xy

    @property
    def widget(self):
        """The ipywidgets UI (image and keypoint dropdowns, x/y sliders, Save and a status line, the preview picture —
        clickable when ipyevents is installed), built once."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

    def _describe(self) -> str:
        """The status line for the current image and keypoint: which image, where the selected keypoint is, and how
        to move it."""
        name, (x, y) = self.names[self._index], self.annotations[self.names[self._index]][self._point]
        how = "click on the picture or move the sliders" if self.clicks else "move the sliders"
        return f"{name} ({self._index + 1} of {len(self.names)}): {self._point} at ({x:g}, {y:g}) — {how}"

    def _build(self):
        import ipywidgets as W
        image = W.Dropdown(options=[(n, i) for i, n in enumerate(self.names)], value=self._index, description="image")
        point = W.Dropdown(options=list(self.keypoints), value=self._point, description="keypoint")
        x = W.IntSlider(description="x", continuous_update=False)
        y = W.IntSlider(description="y", continuous_update=False)
        save, status = W.Button(description="Save", icon="save"), W.Label()
        # The preview keeps its own size (the PNG's pixels, set per image below): left to the page, the output area
        # stretches it to the full width, and a 448-pixel face then pushes its nose below the fold.
        picture = W.Image(format="png", layout=W.Layout(align_self="flex-start"))
        syncing = [False]      # set while sliders are moved by code, so that does not count as an edit
        Event = _click_events()
        self.clicks = Event is not None

        def redraw():
            picture.value = self._render(image.value, highlight=point.value)

        def select(_=None):
            self._index, self._point = image.value, point.value
            h, w = self.images[image.value].shape[:2]
            vh, vw = self._view_shape(image.value)
            picture.layout.width, picture.layout.height = f"{vw}px", f"{vh}px"
            px, py = self.annotations[self.names[image.value]][point.value]
            syncing[0] = True
            x.max, y.max = w - 1, h - 1
            x.value, y.value = int(round(px)), int(round(py))
            syncing[0] = False
            redraw()
            status.value = self._describe()

        def move(_=None):
            if not syncing[0]:
                self.annotations[self.names[image.value]][point.value] = (float(x.value), float(y.value))
                redraw()
                status.value = self._describe()

        def clicked(event):
            done = self._on_click(event)
            if done is None:
                status.value = f"{self.names[self._index]}: that click was outside the picture"
                return
            placed, (px, py) = done
            if point.value != self._point:
                point.value = self._point          # observers: sliders, preview and status follow
            else:
                select()
            status.value = f"{self.names[self._index]}: {placed} at ({px:g}, {py:g}); next: {self._point}"

        def on_save(_):
            try:
                status.value = f"saved {self.save()}"
            except (ValueError, TypeError) as err:
                status.value = str(err)

        image.observe(select, "value")
        point.observe(select, "value")
        x.observe(move, "value")
        y.observe(move, "value")
        save.on_click(on_save)
        if self.clicks:
            self._events = Event(source=picture, watched_events=["click"])
            self._events.on_dom_event(clicked)
        select()
        return W.VBox([W.HBox([image, point]), W.HBox([x, y]), W.HBox([save, status]), picture])
