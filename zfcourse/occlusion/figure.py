"""Fig. 7 (§4.2): everything one row shows, computed for several images, and drawn — five panels per image.

(a) the image with the occluder at its most damaging position (and the ground-truth box, when known),
(b) the chosen layer-5 map's total activation, (c) that map's deconvnet projection beside its top projections from
the dataset — the paper's "visualization of this feature map projected down into the input image (black square),
along with visualizations of this map from other images", (d) the correct-class probability, (e) the most probable
label. Panels (b), (d), (e) come from :func:`~zfcourse.occlusion.occlusion_maps` and are drawn at the occluder's
centre: pixel (u, v) shows the value of the occluder centred there, with the image faintly behind, as in the paper.
Panel (c) comes from the deconvnet of §2.1 (:mod:`zfcourse.deconv`): the image's own projection seeds the map's
strongest unit in this image; the others are the map's top-k activations over a dataset
(:func:`zfcourse.features.top_k`).

:func:`figure_7_rows` computes the rows — for the course model on the embedded probes and for torchvision's AlexNet on
real photos alike — and :func:`plot_figure_7` draws them.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import Patch, Rectangle
from torch import nn
from tqdm.auto import tqdm

from ..deconv import project, project_many
from ..features import TopK, images_at, top_k
from ..plots import mosaic, show_projection, to_image
from .maps import occlusion_maps


def figure_7_rows(model: nn.Module, images: torch.Tensor, targets, data, size: int, stride: int,
                  layer: str | int = "relu5", k: int = 9, boxes=None, top: TopK | None = None, fill=0.0,
                  batch_size: int = 64, progress: bool = True) -> tuple[list[dict], TopK]:
    r"""Everything Fig. 7 shows, for each image n of ``images`` (N, 3, H, W) with correct class ``targets[n]``:

    * ``maps``: :func:`occlusion_maps` (size, stride, fill) with panel (b) following the map
      k_n = argmax_c Σ_{u,v} A_l(x_n)[c, u, v] of ``layer`` — the strongest on the unoccluded image;
    * ``projection``: :func:`projection_panel` of that map — its deconvnet projection for x_n beside its
      top-``k`` projections from ``data`` (§2.1, §4);
    * ``image`` and ``box`` (``boxes[n]``, the ground truth when known, else None).

    Args:
        model, size, stride, fill, batch_size: as in :func:`occlusion_maps`.
        images: (N, 3, H, W) in the model's input space (or a list of (3, H, W)).
        targets: N class indices (the correct classes).
        data: the images whose top-k projections fill panel (c): a tensor or a Dataset of (image, label).
        layer: the "layer 5" of panels (b) and (c): ``"relu5"`` for the course model and ZFNet, ``"features.11"``
            for torchvision's AlexNet (the rectified conv5 maps, which the deconvnet projects).
        top: a :func:`zfcourse.features.top_k` result already mined on ``data`` at ``layer`` (else mined here).

    Returns:
        (rows, top): the rows for :func:`plot_figure_7` and the top-k table (reuse it for more images).
    """
    targets = [int(t) for t in targets]
    if len(targets) != len(images):
        raise ValueError(f"targets: expected one class per image ({len(images)}), got {len(targets)}")
    if boxes is not None and len(boxes) != len(images):
        raise ValueError(f"boxes: expected one box (or None) per image ({len(images)}), got {len(boxes)}")
    if top is None:
        top = top_k(model, data, layer, k=k, batch_size=batch_size, progress=progress)
    rows = []
    for n in tqdm(range(len(images)), desc="Fig. 7 rows", disable=not progress, leave=False):
        maps = occlusion_maps(model, images[n], targets[n], size, stride, fill, layer, batch_size, progress=False)
        rows.append(dict(image=images[n], maps=maps, box=None if boxes is None else boxes[n],
                         projection=projection_panel(model, images[n], top, data, maps.feature_map, k)))
    return rows, top


def _tile(p: np.ndarray, side: int) -> np.ndarray:
    """Resize an (h, w, 3) picture to side × side (bilinear; projections are smooth enough)."""
    t = torch.from_numpy(np.ascontiguousarray(p)).permute(2, 0, 1)[None].float()
    return F.interpolate(t, size=(side, side), mode="bilinear", align_corners=False)[0].permute(1, 2, 0).numpy()


@torch.no_grad()
def dataset_projections(model: nn.Module, data, top: TopK, feature_map: int, k: int | None = None,
                        rectify: str = "deconv") -> torch.Tensor:
    """(k, 3, H, W) deconvnet projections of map ``feature_map``'s top-k activations in ``top`` (mined on ``data``),
    strongest first — the "visualizations of this map from other images" of Fig. 7(c), whole frames."""
    k = top.values.shape[1] if k is None else min(k, top.values.shape[1])
    if not 0 <= feature_map < len(top.values):
        raise ValueError(f"feature_map: expected a map of {top.layer} in 0..{len(top.values) - 1}, got {feature_map}")
    targets = top.targets([feature_map])[:k].cpu()
    device = next(model.parameters()).device
    images = images_at(data, targets[:, 0]).to(device)
    local = torch.cat([torch.arange(k)[:, None], targets[:, 1:]], 1).to(device)
    return project_many(model, images, top.layer, local, rectify).cpu()


def projection_panel(model: nn.Module, image: torch.Tensor, top: TopK, data, feature_map: int, k: int = 9,
                     rectify: str = "deconv", frame: int = 3) -> np.ndarray:
    r"""Fig. 7(c) as one (H', W', 3) RGB picture in [0, 1]: on the left, the projection R(a·e_{k,y*,x*}) of map
    ``feature_map``'s strongest unit (y*, x*) = argmax A_l(image)[k] (§2.1) in a black frame; on the right, a
    ⌈√k⌉-wide mosaic of the same map's top-``k`` projections from ``data``, scaled to the same height. Each
    projection is shown as the paper does: grey = 0, its own largest |value| reaching black or white.

    Args:
        model: the convnet (course model, ZFNet, torchvision AlexNet …).
        image: (3, H, W) in the model's input space.
        top: :func:`zfcourse.features.top_k` mined on ``data`` at the layer of panel (b) (e.g. ``"relu5"``).
        data: the tensor / Dataset ``top`` was mined on (images are fetched by index).
        feature_map: the map of panel (b), usually ``maps.feature_map`` from :func:`occlusion_maps`.
        k: how many dataset projections to show (at most ``top``'s k).

    Example:
        >>> import torch
        >>> from zfcourse.models import course_model
        >>> from zfcourse.features import top_k
        >>> model, data = course_model(input_size=112).eval(), 50 * torch.randn(6, 3, 112, 112)
        >>> top = top_k(model, data, "relu5", k=4, progress=False)
        >>> projection_panel(model, data[0], top, data, feature_map=3, k=4).shape
        (112, 228, 3)
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"image: expected one (3, H, W) image in input space, got "
                         f"{tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected a positive integer, got {k!r}")
    if isinstance(feature_map, bool) or not isinstance(feature_map, int) or not 0 <= feature_map < len(top.values):
        raise ValueError(f"feature_map: expected a map of {top.layer} in 0..{len(top.values) - 1}, got {feature_map!r}")
    device = next(model.parameters()).device
    own = show_projection(project(model, image[None].to(device), top.layer, feature_map, rectify=rectify))[0]
    h, w = own.shape[:2]
    own[:frame], own[-frame:], own[:, :frame], own[:, -frame:] = 0, 0, 0, 0  # the paper's black square
    others = show_projection(dataset_projections(model, data, top, feature_map, k, rectify))
    cols = math.ceil(math.sqrt(len(others)))
    gap = max(1, h // 40)
    side = (h - (cols - 1) * gap) // cols
    grid = mosaic(np.stack([_tile(p, side) for p in others]), cols, gap=gap)
    right = np.ones((h, grid.shape[1], 3), dtype=np.float32)
    right[:grid.shape[0]] = grid
    spacer = np.ones((h, 2 * gap, 3), dtype=np.float32)
    return np.concatenate([own.astype(np.float32), spacer, right], 1)


PANELS = ("(a) input + occluder", "(b) total activation", "(c) projections", "(d) p(correct class)",
          "(e) most probable label")


def centre_extent(maps) -> tuple[float, float, float, float]:
    """imshow ``extent`` that puts entry (i, j) at the occluder's centre (ys[i] + size/2, xs[j] + size/2)."""
    h = (maps.stride if len(maps.xs) < 2 else maps.xs[1] - maps.xs[0]) / 2
    half, x, y = maps.size / 2, maps.xs, maps.ys
    return (float(x[0] + half - h - 0.5), float(x[-1] + half + h - 0.5),
            float(y[-1] + half + h - 0.5), float(y[0] + half - h - 0.5))


def _box(ax, box, fill=False, **kw):
    x0, y0, x1, y1 = (float(v) for v in box)
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=fill, **kw))


def _backdrop(ax, picture):
    ax.imshow(picture.mean(-1), cmap="gray", alpha=0.35)


FONT = 10  # points: the book's column shows figures at about their drawn size, so text stays at body size


def draw_row(axes, image, maps, class_names, projection=None, box=None, to_display=to_image, titles=True):
    """Draw the five panels of one Fig. 7 row on ``axes`` (5 axes, in panel order (a)–(e)). ``projection``: an
    (h, w, 3) picture for (c). (b) is drawn with viridis, (d) with cividis on [0, 1], each with its colour bar;
    (e) with a categorical map and a legend naming each label that occurs."""
    picture = to_display(image)
    y, x = (int(v) for v in np.unravel_index(int(maps.prob.argmin()), maps.prob.shape))
    axes[0].imshow(picture)
    _box(axes[0], (maps.xs[x], maps.ys[y], maps.xs[x] + maps.size, maps.ys[y] + maps.size), facecolor="grey",
         edgecolor="white", lw=1, alpha=0.9, fill=True)
    if box is not None:
        _box(axes[0], box, color="lime", lw=1.2, ls="--")
    axes[0].set_xlabel(f"p({class_names[maps.target]}) = {maps.unoccluded_prob:.2f}", fontsize=FONT)
    ext = centre_extent(maps)
    for ax, values, cmap, limits in ((axes[1], maps.activation, "viridis", {}),
                                     (axes[3], maps.prob, "cividis", dict(vmin=0, vmax=1))):
        _backdrop(ax, picture)
        if values is not None:
            im = ax.imshow(values.numpy(), cmap=cmap, extent=ext, alpha=0.85, **limits)
            plt.colorbar(im, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=FONT)
    if maps.feature_map is not None:  # "relu5 map 7"; torchvision's index names keep their prefix ("features.11")
        short = maps.layer.split(".")[-1]
        axes[1].set_xlabel(f"{maps.layer if short.isdigit() else short} map {maps.feature_map}", fontsize=FONT)
    axes[3].set_xlabel(f"p({class_names[maps.target]})", fontsize=FONT)
    _label_panel(axes[4], picture, maps, class_names, ext)
    if projection is not None:
        axes[2].imshow(projection)
        axes[2].set_xlabel("this image | top 9 of the dataset", fontsize=FONT)
    else:
        axes[2].text(0.5, 0.5, "no projection", ha="center", va="center", transform=axes[2].transAxes,
                     fontsize=FONT)
    h, w = maps.image_shape
    for i, ax in enumerate(axes):
        ax.set_xticks([]), ax.set_yticks([])
        if i != 2:  # the maps cover only the occluder centres; keep the whole image in view
            ax.set_xlim(-0.5, w - 0.5), ax.set_ylim(h - 0.5, -0.5)
        if titles:
            ax.set_title(PANELS[i], fontsize=FONT)


def _label_panel(ax, picture, maps, class_names, ext):
    present = sorted(set(maps.label.flatten().tolist()))
    colours = plt.get_cmap("tab10" if len(present) <= 10 else "tab20")
    index = np.searchsorted(present, maps.label.numpy())  # 0..len(present)-1: distinct colours for the labels seen
    rgba = np.array([colours(i % colours.N) for i in range(len(present))])[index]
    _backdrop(ax, picture)
    ax.imshow(rgba, extent=ext, alpha=0.85)
    handles = [Patch(color=colours(i % colours.N), label=class_names[c]) for i, c in enumerate(present)]
    ax.legend(handles=handles, fontsize=FONT, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
              handlelength=1.0, borderaxespad=0.0)


def plot_figure_7(rows, class_names, to_display=to_image, width: float = 6.8):
    """Fig. 7 laid out for a text column ``width`` inches wide (6.8 in at 100 dpi fits the book's 688-px text column):
    each entry of ``rows`` (a dict with keys ``image``, ``maps`` and optionally ``projection``, ``box`` and
    ``title``, see :func:`draw_row`) gets two lines of panels — (a) the image, (b) the layer-5 map's activity and
    (d) p(correct class) above, (c) the projections and (e) the most probable label with its legend below — with
    text at 10 pt; the lower line grows with the number of labels in (e). The paper's one line of five panels per
    image would need twice the column's width. Returns the figure."""
    if not rows:
        raise ValueError("rows: expected at least one Fig. 7 row, got none")
    if width <= 0:
        raise ValueError(f"width: expected a positive width in inches, got {width!r}")
    scale = width / 7.6
    upper = 2.7 * scale
    lower = [max(2.5 * scale, 0.22 * len(set(row["maps"].label.flatten().tolist())) + 0.6) for row in rows]
    fig = plt.figure(figsize=(width, len(rows) * upper + sum(lower)), layout="constrained")
    outer = fig.add_gridspec(len(rows), 1, height_ratios=[upper + low for low in lower])
    for i, row in enumerate(rows):
        lines = outer[i].subgridspec(2, 1, height_ratios=(upper, lower[i]))
        top, bottom = lines[0].subgridspec(1, 3), lines[1].subgridspec(1, 2, width_ratios=(2.0, 2.0))
        a, b, d = (fig.add_subplot(top[j]) for j in range(3))
        c, e = fig.add_subplot(bottom[0]), fig.add_subplot(bottom[1])
        draw_row([a, b, c, d, e], row["image"], row["maps"], class_names, row.get("projection"), row.get("box"),
                 to_display)
        if row.get("title"):
            a.set_ylabel(row["title"], fontsize=FONT, fontweight="bold")
    return fig
