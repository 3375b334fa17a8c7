"""Feature evolution during training (§4, Fig. 4): the strongest activation of a few feature maps per layer, projected
to pixels with the deconvnet, at each saved epoch — and two numbers that say when each layer settles.

Fig. 4 of the paper shows, for a few maps of layers 1–5 and epochs 1, 2, 5, 10, 20, 30, 40, 64, the projection of "the
strongest activation (across all training examples) within a given feature map". The paper reads it by eye: "the
lower layers of the model can be seen to converge within a few epochs. However, the upper layers only develop after a
considerable number of epochs (40–50)". To check that on the course model this module also measures, per layer,

* :func:`weight_correlation` — the Pearson correlation ρ_l(e) = corr(vec W_l(e), vec W_l(final)) of each epoch's conv
  weights with the final ones (1 = the filters have arrived; a layer has converged when ρ stops moving towards 1);
* :func:`weight_progress` — π_l(e) = 1 − ‖W_l(e) − W_l(final)‖ / ‖W_l(first) − W_l(final)‖, the share of its own path
  a layer has travelled (ρ flatters layers that stay near their random start; π puts every layer on its own scale);
* :func:`projection_similarity` — the cosine similarity of each epoch's projection with the last epoch's, per map
  (what the figure shows, as a number); and :func:`settled_epoch` — the first epoch from which a map's strongest
  image no longer changes (the paper's "sudden jumps in appearance" are changes of that image).

Snapshots hold conv weights only (:mod:`zfcourse.train.snapshots`): projection never touches fc6–fc8.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..deconv import path, project_many
from ..plots import MIN_FONT, mosaic
from ..train import load_checkpoint
from .figure2 import stretch_projection
from .topk import images_at, top_k_layers


@dataclass
class Evolution:
    """Fig. 4's data. For each full layer name in ``layers``: ``channels[l]`` (M,), and per epoch (row) and map
    (column) of the strongest activation: ``values[l]`` (E, M), ``image[l]`` (E, M) (index into the data),
    ``position[l]`` (E, M, 2) (y, x), ``projections[l]`` (E, M, 3, r, r) cut to the receptive field.
    ``epochs`` are the column labels (ints, or a string such as ``"final"``)."""
    epochs: list
    layers: list[str]
    channels: dict[str, torch.Tensor]
    values: dict[str, torch.Tensor]
    image: dict[str, torch.Tensor]
    position: dict[str, torch.Tensor]
    projections: dict[str, torch.Tensor]


def conv_weights(source) -> dict[str, torch.Tensor]:
    """The conv parameters ``{"features.convK.weight": …, "features.convK.bias": …}`` (float32) of ``source``: an
    nn.Module (its weights as they are, not rounded to float16 like a snapshot), a snapshot file (``{"epoch", "conv"}``,
    see :func:`zfcourse.train.save_snapshot`), such a dict, or a plain state dict (only conv entries are kept when a
    model is given)."""
    if isinstance(source, nn.Module):
        source = getattr(source, "module", source)
        convs = {name for name, m in source.named_modules() if isinstance(m, nn.Conv2d)}
        state = {k: v.detach().cpu() for k, v in source.state_dict().items() if k.rsplit(".", 1)[0] in convs}
    elif isinstance(source, (str, os.PathLike)):
        state = load_checkpoint(source, required=("epoch", "conv"))["conv"]
    elif isinstance(source, dict):
        state = source["conv"] if "conv" in source else source
    else:
        raise TypeError(f"source: expected a model, a snapshot path or a state dict, got {type(source).__name__}")
    return {k: v.float() for k, v in state.items()}


def _layer_of(key: str) -> str:
    return key.rsplit(".", 2)[-2]  # "features.conv3.weight" → "conv3"


def weight_correlation(snapshots: dict, final) -> dict[str, list[float]]:
    r"""ρ_l(e) = Σ (w − w̄)(v − v̄) / (‖w − w̄‖ ‖v − v̄‖) over all weights of conv layer l, with w = W_l(epoch e) and
    v = W_l(final), for every epoch of ``snapshots`` ({epoch: model | snapshot path | state dict}).

    Returns {"conv1": [ρ(e) for e in snapshots], …}. Biases are left out (they are initialised at 0, §3).

    Example:
        >>> from zfcourse.models import course_model
        >>> a, b = course_model(input_size=112), course_model(input_size=112)
        >>> rho = weight_correlation({1: a, 2: b}, b)
        >>> round(rho["conv1"][1], 6), abs(rho["conv1"][0]) < 0.2
        (1.0, True)
    """
    last = {_layer_of(k): v for k, v in conv_weights(final).items() if k.endswith("weight")}
    out: dict[str, list[float]] = {name: [] for name in last}
    for epoch, snap in snapshots.items():
        weights = {_layer_of(k): v for k, v in conv_weights(snap).items() if k.endswith("weight")}
        for name, v in last.items():
            if name not in weights or weights[name].shape != v.shape:
                raise ValueError(f"snapshots: epoch {epoch} has no {name} weights of shape {tuple(v.shape)}")
            w, u = weights[name].double().flatten(), v.double().flatten()
            w, u = w - w.mean(), u - u.mean()
            out[name].append(float(w @ u / (w.norm() * u.norm()).clamp_min(1e-12)))
    return out


def weight_progress(snapshots: dict, final) -> dict[str, list[float]]:
    r"""How far along its own path each conv layer is: π_l(e) = 1 − ‖W_l(e) − W_l(final)‖ / ‖W_l(first) − W_l(final)‖,
    with "first" the first epoch of ``snapshots`` (0 there, 1 at the final weights).

    :func:`weight_correlation` compares weights to the final ones, so a layer whose weights stay close to their random
    initialisation (wide layers move little, relative to their size) looks "converged" from the start; π measures
    each layer's travel on its own scale, which makes layers comparable.

    Example:
        >>> from zfcourse.models import course_model
        >>> a, b = course_model(input_size=112), course_model(input_size=112)
        >>> [round(v, 6) for v in weight_progress({1: a, 2: b}, b)["conv3"]]
        [0.0, 1.0]
    """
    last = {_layer_of(k): v.double() for k, v in conv_weights(final).items() if k.endswith("weight")}
    states = [{_layer_of(k): v.double() for k, v in conv_weights(s).items() if k.endswith("weight")}
              for s in snapshots.values()]
    if not states:
        raise ValueError("snapshots: expected at least one epoch")
    out = {}
    for name, v in last.items():
        if any(name not in st or st[name].shape != v.shape for st in states):
            raise ValueError(f"snapshots: every epoch needs {name} weights of shape {tuple(v.shape)}")
        start = (states[0][name] - v).norm().clamp_min(1e-12)
        out[name] = [float(1 - (st[name] - v).norm() / start) for st in states]
    return out


def _check_channels(model: nn.Module, channels: dict) -> dict[str, torch.Tensor]:
    if not isinstance(channels, dict) or not channels:
        raise ValueError("channels: expected a dict {layer: [map, …]} with at least one layer")
    out = {}
    for layer, maps in channels.items():
        full, chain = path(model, layer)
        n = next(m.out_channels for _, m in reversed(chain) if isinstance(m, nn.Conv2d))
        c = torch.as_tensor(maps).long().flatten()
        if len(c) == 0 or c.min() < 0 or c.max() >= n:
            raise ValueError(f"channels: maps of {full} must lie in 0..{n - 1}, got {c.tolist()}")
        out[full] = c
    return out


def feature_evolution(model: nn.Module, snapshots: dict, data, channels: dict, rectify: str = "deconv",
                      batch_size: int = 64, chunk: int = 32, progress: bool = True) -> Evolution:
    r"""Fig. 4: for each epoch of ``snapshots`` and each map c of each layer l in ``channels``, the strongest activation
    over ``data``, (i*, y*, x*) = argmax_{i,y,x} A_l(i)[c, y, x] under that epoch's conv weights, projected to pixels
    with the deconvnet (§2.1) under the same weights, cut to the unit's receptive field.

    Args:
        model: the architecture (e.g. the course model); it is copied, never changed. Only its conv weights are
            replaced, epoch by epoch.
        snapshots: {epoch label: snapshot path | model | state dict}, in the order the columns should appear —
            e.g. :func:`zfcourse.train.list_snapshots` plus ``{"final": trained_model}``.
        data: what :func:`~zfcourse.features.top_k` reads (tensor, Dataset, unshuffled DataLoader); "all training
            examples" in the paper.
        channels: {layer: maps}, e.g. ``{"relu1": [0, 5], "relu5": [3, 9]}``.
        rectify: the deconvnet's rectification (see :func:`~zfcourse.deconv.project`).

    Example:
        >>> from zfcourse.models import course_model
        >>> a, b = course_model(input_size=112).eval(), course_model(input_size=112).eval()
        >>> evo = feature_evolution(a, {1: a, 2: b}, torch.randn(6, 3, 112, 112), {"relu2": [0, 3]}, progress=False)
        >>> evo.projections["features.relu2"].shape
        torch.Size([2, 2, 3, 27, 27])
    """
    if not snapshots:
        raise ValueError("snapshots: expected at least one epoch")
    chans = _check_channels(model, channels)
    net = copy.deepcopy(model).eval()
    keep = set(net.state_dict())
    values, image, position, projections = ({name: [] for name in chans} for _ in range(4))
    for epoch, snap in tqdm(snapshots.items(), desc="epochs", disable=not progress):
        state = conv_weights(snap)
        extra = set(state) - keep
        if extra:
            raise ValueError(f"snapshots: epoch {epoch} has parameters the model lacks: {sorted(extra)}")
        net.load_state_dict(state, strict=False)
        tops = top_k_layers(net, data, list(chans), k=1, batch_size=batch_size, progress=False)
        for layer, c in chans.items():
            top = tops[layer]
            img, pos = top.image[c, 0].cpu(), top.position[c, 0].cpu()
            unique, local = img.unique(return_inverse=True)
            targets = torch.cat([local[:, None], c[:, None], pos], 1)
            device = next(net.parameters()).device
            p = project_many(net, images_at(data, unique).to(device), layer, targets.to(device), rectify, chunk,
                             crop_to_field=True)
            values[layer].append(top.values[c, 0].cpu())
            image[layer].append(img)
            position[layer].append(pos)
            projections[layer].append(p.cpu())

    def stack(d):
        return {name: torch.stack(v) for name, v in d.items()}

    return Evolution(list(snapshots), list(chans), chans, stack(values), stack(image), stack(position),
                     stack(projections))


def projection_similarity(evo: Evolution) -> dict[str, torch.Tensor]:
    r"""Per layer, (E, M): cos(p_e, p_last) = ⟨p_e, p_last⟩ / (‖p_e‖ ‖p_last‖) between each epoch's projection and
    the last epoch's, per map, over the receptive-field square (pixels stay aligned: every crop is centred on its unit).
    A map whose picture has settled scores near 1 from then on."""
    out = {}
    for layer, p in evo.projections.items():
        flat = p.flatten(2)
        last = flat[-1:]
        out[layer] = (flat * last).sum(-1) / (flat.norm(dim=-1) * last.norm(dim=-1)).clamp_min(1e-12)
    return out


def settled_epoch(evo: Evolution) -> dict[str, list]:
    """Per layer, per map: the first epoch label from which the strongest activation's image stays the same as in the
    last column (the paper's "sudden jumps in appearance result from a change in the image")."""
    out = {}
    for layer, img in evo.image.items():
        same = img == img[-1:]                                   # (E, M)
        # first epoch index e such that same[e:] is all True
        tail_ok = same.flip(0).cumprod(0).flip(0).bool()
        first = tail_ok.float().argmax(0)
        out[layer] = [evo.epochs[int(e)] for e in first]
    return out


def plot_evolution(evo: Evolution, layers=None, height_per_row: float = 0.62, title: str | None = None,
                   contrast: str = "clipped", fontsize: float = 10):
    """Draw Fig. 4: one row per feature map (grouped by layer), one column per epoch, each tile the projection of that
    epoch's strongest activation, stretched on its own (:func:`~zfcourse.features.stretch_projection`, grey = 0).
    Returns the figure."""
    if layers is not None:
        layers = [name for name in evo.layers if name in layers or name.split(".")[-1] in layers]
    layers = evo.layers if layers is None else layers
    rows = [(name, j) for name in layers for j in range(len(evo.channels[name]))]
    n_epochs = len(evo.epochs)
    fig, axes = plt.subplots(len(rows), 1, figsize=(1.7 + 0.62 * n_epochs, 0.55 + height_per_row * len(rows)),
                             squeeze=False, gridspec_kw={"hspace": 0.08})
    for ax, (layer, j) in zip(axes[:, 0], rows):
        tiles = stretch_projection(evo.projections[layer][:, j], contrast)      # (E, r, r, 3)
        gap = max(1, tiles.shape[1] // 10)
        # every row spans n_epochs × 1 data units whatever the tile size, so rows of all layers line up
        ax.imshow(mosaic(tiles, n_epochs, gap=gap), interpolation="nearest", extent=(0, n_epochs, 1, 0))
        ax.set_xticks([e + 0.5 for e in range(n_epochs)])
        ax.set_xticklabels([str(e) for e in evo.epochs] if ax is axes[0, 0] else [], fontsize=fontsize)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        ax.set_yticks([])
        ax.set_ylabel(f"{layer.split('.')[-1]} #{int(evo.channels[layer][j])}", rotation=0, ha="right",
                      va="center", fontsize=fontsize)
        for s in ax.spines.values():
            s.set_visible(False)
    fig.suptitle(title or "strongest activation per map, projected, at each saved epoch", fontsize=fontsize,
                 y=1 - 0.08 / fig.get_figheight())
    fig.subplots_adjust(left=1.4 / fig.get_figwidth(), right=0.98, top=1 - 0.55 / fig.get_figheight(), bottom=0.01)
    return fig


def plot_convergence(epochs, series: dict[str, list[float]], ylabel: str, ax=None, title: str | None = None):
    """Line plot of one number per layer against epoch (e.g. :func:`weight_correlation`). Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 3.2))
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(series)))
    for (name, ys), colour in zip(series.items(), colours):
        ax.plot(list(epochs)[:len(ys)], ys, "o-", color=colour, label=name, ms=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=MIN_FONT)
    if title:
        ax.set_title(title, fontsize=MIN_FONT)
    return ax
