"""Matplotlib figures shared by the chapters: the one display function, projections, mosaics, feature-map grids,
per-layer bars (§2, Fig. 3; §4, Fig. 2)."""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch

# The book's text column: 688 px at a 1280-px window, i.e. 6.8 in at the 100 dpi figures are saved with. Figures drawn
# no wider are shown at their drawn size, so 10-pt text stays 10 pt (text in the course's figures is never smaller).
COLUMN_INCHES = 6.8
FULL_WIDTH_INCHES = 9.3  # a cell tagged full-width: 936 px at 100 dpi, shown at 1:1 so labels keep their size
MIN_FONT = 10


def to_image(x) -> np.ndarray:
    """The course's one display function: images → RGB in [0, 1] for ``plt.imshow``, passed as ``to_display=``.

    Takes a (…, 3, H, W) tensor (one image or any batch) or an (H, W, 3) array and returns (…, H, W, 3) float32. Each
    image is min–max stretched on its own, v' = (v − min) / (max − min), which is how §4 shows inputs whose scale is
    arbitrary (input space is pixel − mean). For exact colours pass a data source's ``to_display`` instead.

    Example:
        >>> to_image(torch.arange(12.).view(3, 2, 2)).shape
        (2, 2, 3)
        >>> float(to_image(torch.zeros(2, 3, 4, 4)).max())
        0.0
    """
    a = x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float32)
    if a.ndim >= 3 and a.shape[-3] == 3 and a.shape[-1] != 3:
        a = np.moveaxis(a, -3, -1)
    if a.ndim < 3 or a.shape[-1] != 3:
        raise ValueError(f"x: expected RGB images (…, 3, H, W) or (H, W, 3), got shape {a.shape}")
    flat = a.reshape(*a.shape[:-3], -1)
    lo, hi = flat.min(-1)[..., None, None, None], flat.max(-1)[..., None, None, None]
    return ((a - lo) / np.maximum(hi - lo, 1e-12)).astype(np.float32)


def show_projection(p: torch.Tensor) -> np.ndarray:
    """(…, 3, H, W) deconvnet projections → (…, H, W, 3) RGB in [0, 1]: 0.5 + 0.5 · p / max|p|, per projection.

    The way the paper shows projections (§4, Fig. 2): each scaled on its own so that grey is zero and the largest
    |value| reaches black or white (their absolute scale means nothing once the layers have rescaled it).

    Example:
        >>> show_projection(torch.tensor([-2.0, 0, 1]).view(3, 1, 1)).flatten().tolist()
        [0.0, 0.5, 0.75]
    """
    p = p.detach().float().cpu()
    scale = p.flatten(-3).abs().amax(-1).clamp_min(1e-12)[..., None, None, None]
    return (0.5 + 0.5 * p / scale).movedim(-3, -1).numpy()


def mosaic(tiles: np.ndarray, cols: int, gap: int = 1, background: float = 1.0) -> np.ndarray:
    """Lay out (N, h, w, 3) tiles on a grid ``cols`` wide with ``gap`` pixels between them: (H, W, 3).

    Example:
        >>> mosaic(np.zeros((5, 4, 4, 3)), cols=3).shape
        (9, 14, 3)
    """
    n, h, w, c = tiles.shape
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, c), background, dtype=np.float32)
    for i, tile in enumerate(tiles):
        r, q = divmod(i, cols)
        out[r * (h + gap):r * (h + gap) + h, q * (w + gap):q * (w + gap) + w] = tile
    return out


def blocks(views: np.ndarray, maps_per_row: int) -> np.ndarray:
    """(C, k, h, w, 3) → one image: each map's k tiles in a √k-wide block, the blocks ``maps_per_row`` wide (Fig. 2).

    Example:
        >>> blocks(np.zeros((2, 9, 5, 5, 3)), maps_per_row=2).shape
        (17, 36, 3)
    """
    k = views.shape[1]
    side = math.ceil(math.sqrt(k))
    per_map = np.stack([mosaic(v, side) for v in views])
    return mosaic(per_map, maps_per_row, gap=max(2, per_map.shape[1] // 12))


def plot_projections(images: torch.Tensor, projections: dict, names=None, to_display=to_image, captions=None,
                     transpose: bool = False, figsize=None, show=show_projection):
    """Images beside their deconvnet projections (§2.1): one row per image — the image, then one column per entry of
    ``projections`` ({column title: (N, 3, H, W)}, e.g. one per rectify rule), each shown by ``show`` (default
    :func:`show_projection`; e.g. :func:`zfcourse.features.stretch_projection` for chapter 4's contrast).

    ``names`` label the images; ``captions`` ({column title: N strings}) title each projection tile. With
    ``transpose`` the images run along the top row and each entry of ``projections`` fills a row below. The default
    ``figsize`` fits the book's column (:data:`COLUMN_INCHES`); labels are 10 pt. Returns the figure.

    Example:
        >>> x = torch.randn(2, 3, 8, 8)
        >>> len(plot_projections(x, {"deconv": x, "guided": -x}, names=["a", "b"]).axes)
        6
    """
    n, cols = len(images), list(projections)
    if any(len(projections[c]) < n for c in cols):
        raise ValueError(f"projections: expected at least {n} projections per entry, one per image")
    shape = (1 + len(cols), n) if transpose else (n, 1 + len(cols))
    if figsize is None:
        tile = min(2.2 if transpose else 2.25, COLUMN_INCHES / shape[1])
        figsize = (tile * shape[1], (tile + 0.05) * shape[0])
    fig, axes = plt.subplots(*shape, figsize=figsize, squeeze=False)
    axes = axes.T if transpose else axes
    for i in range(n):
        axes[i, 0].imshow(to_display(images[i].cpu()))
        for j, c in enumerate(cols):
            axes[i, j + 1].imshow(show(projections[c][i]))
            if captions and c in captions:
                axes[i, j + 1].set_title(captions[c][i], fontsize=MIN_FONT)
            elif i == 0 and not transpose:
                axes[i, j + 1].set_title(c, fontsize=MIN_FONT)
        if names is not None:
            (axes[i, 0].set_title if transpose else axes[i, 0].set_ylabel)(names[i], fontsize=MIN_FONT)
    for ax in axes.flat:
        if transpose:
            ax.axis("off")
        else:
            ax.set_xticks([])
            ax.set_yticks([])
    return fig


def map_style(values) -> dict:
    """``imshow`` keywords for a feature map: a diverging map centred on 0 (RdBu_r, symmetric limits) when it has
    negative values (a conv output before its ReLU), viridis from 0 otherwise (a rectified map).

    Example:
        >>> map_style(torch.tensor([[-2.0, 1.0]]))["cmap"], map_style(torch.tensor([[0.0, 3.0]]))["vmax"]
        ('RdBu_r', 3.0)
    """
    v = torch.as_tensor(values).detach().float()
    lo, hi = float(v.min()), float(v.max())
    if lo < 0:
        m = max(-lo, hi)
        return {"cmap": "RdBu_r", "vmin": -m, "vmax": m}
    return {"cmap": "viridis", "vmin": 0.0, "vmax": hi if hi > 0 else 1.0}


def note_if_all_zero(ax, values, text: str = "all zero\n(off everywhere\non this image)") -> bool:
    """Write ``text`` on ``ax`` when the map is zero everywhere (a unit off at every position), so a blank panel
    is not mistaken for a drawing error. Returns whether it was."""
    if bool((torch.as_tensor(values) == 0).all()):
        ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=MIN_FONT, color="white")
        return True
    return False


def _short(x: float) -> str:
    """A positive number in at most five characters: 1.4k, 380, 36, 5.7, 0.053."""
    if x >= 999.5:
        return f"{x / 1000:.2g}k" if x < 99500 else f"{x:.0e}".replace("e+0", "e")
    if x >= 9.5:
        return f"{x:.0f}"
    return f"{x:.2g}" if x >= 0.01 else f"{x:.0e}".replace("e-0", "e-")


def feature_map_grid(maps: torch.Tensor, channels=None, ncols: int = 8, title: str | None = None,
                     size: float | None = None):
    """Draw the 2-D maps ``maps[c]`` (maps: (C, H, W)) for ``channels`` (default: the first ncols·2) in a grid.

    Each map gets its own colour scale (activations differ by orders of magnitude between maps): viridis from 0 for
    rectified maps, RdBu_r centred on 0 for signed ones (:func:`map_style`). A colour bar per map would not fit
    beside maps under an inch wide, so each map's title carries its scale instead: ``#c 0–m`` (viridis, 0 to the
    map's largest value m) or ``#c ±m`` (RdBu_r, −m to m). ``size`` is a map's side in inches
    (default: ``ncols`` maps fill the book's column, :data:`COLUMN_INCHES`, at most 1.3 in each). Returns the figure.

    Example:
        >>> bool(feature_map_grid(torch.rand(16, 5, 5)).get_size_inches()[0] <= COLUMN_INCHES)
        True
    """
    size = min(1.3, COLUMN_INCHES / ncols) if size is None else size
    if maps.dim() != 3:
        raise ValueError(f"maps: expected (C, H, W) feature maps of one image, got shape {tuple(maps.shape)}")
    channels = list(range(min(maps.shape[0], 2 * ncols))) if channels is None else list(channels)
    nrows = math.ceil(len(channels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.15) * nrows + (0.4 if title else 0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, c in zip(axes.flat, channels):
        style = map_style(maps[c])
        ax.imshow(maps[c].detach().cpu().numpy(), **style)
        scale = ("±" if style["vmin"] < 0 else "0–") + _short(style["vmax"])
        ax.set_title(f"#{c} {scale}", fontsize=MIN_FONT)
        note_if_all_zero(ax, maps[c], "all 0")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class Table:
    """Rows of cells that a notebook shows as an HTML table (text in a terminal): tables fit the book's column where
    wide fixed-width text would not.

    Example:
        >>> print(Table(("input", "conv5"), [(112, "6×6"), (168, "9×9")]))
        input  conv5
        112    6×6
        168    9×9
    """
    header: tuple
    rows: list
    caption: str = ""

    def _cells(self):
        return [[str(c) for c in self.header]] + [[f"{c:,}" if isinstance(c, int) else str(c) for c in r]
                                                   for r in self.rows]

    def __str__(self) -> str:
        cells = self._cells()
        widths = [max(len(r[k]) for r in cells) for k in range(len(cells[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
        return "\n".join(([self.caption] if self.caption else []) + lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        e = html.escape
        head, *body = self._cells()
        cap = f"<caption>{e(self.caption)}</caption>" if self.caption else ""
        return (f"<table>{cap}<thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in head) + "</tr></thead><tbody>"
                + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in body)
                + "</tbody></table>")


def layer_bars(names, values, ylabel: str, log: bool = False, highlight: str | None = None):
    """A bar per layer (e.g. parameters or multiply-adds), the ``highlight`` layer in red, as wide as the book's
    column (:data:`COLUMN_INCHES`) with 10-pt labels. Returns the figure."""
    fig, ax = plt.subplots(figsize=(COLUMN_INCHES, 2.8))
    colours = ["tab:red" if n == highlight else "tab:blue" for n in names]
    ax.bar(names, values, color=colours)
    ax.set_ylabel(ylabel, fontsize=MIN_FONT)
    if log:
        ax.set_yscale("log")
    ax.tick_params(axis="x", rotation=45, labelsize=MIN_FONT)
    ax.tick_params(axis="y", labelsize=MIN_FONT)
    fig.tight_layout()
    return fig
