"""Figures of a training run (§3, Fig. 6a): learning curves, layer-1 filters, and the RMS of every filter; and the
validation curves of Table 3's rows side by side (§5.1).

Everything here reads what :func:`zfcourse.train.train` writes: ``history.json`` (per-epoch losses, accuracies,
learning rate, and ``filter_rms[layer][epoch][filter]``, the RMS rms_j = sqrt(mean_i W[j]_i²) of every conv filter
after each epoch) and conv weights (a snapshot or the final model).
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch


def plot_history(history: dict, title: str | None = None, width: float = 7.5):
    """Loss and top-1 accuracy per epoch (train and validation) side by side, the learning rate in a short strip
    below; ``width`` in inches (7.5 fits a ~780-px text column at 100 dpi). Returns the figure."""
    epochs = history["epoch"]
    fig = plt.figure(figsize=(width, 0.53 * width))
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 1])
    loss, acc, lr = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])
    loss.plot(epochs, history["train_loss"], "o-", ms=3, label="train (dropout on)")
    acc.plot(epochs, [100 * a for a in history["train_acc"]], "o-", ms=3, label="train")
    if any(v is not None for v in history.get("val_loss", [])):
        loss.plot(epochs, history["val_loss"], "s-", ms=3, label="validation")
        acc.plot(epochs, [100 * a for a in history["val_acc"]], "s-", ms=3, label="validation")
    loss.set_ylabel("cross-entropy")
    acc.set_ylabel("top-1 accuracy (%)")
    lr.step(epochs, history["lr"], where="post")
    lr.set_yscale("log")
    lr.set_ylabel("learning rate")
    for ax in (loss, acc, lr):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    loss.legend(fontsize=10)
    acc.legend(fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_val_curves(results: dict, shipped: dict | None = None, chance: float | None = None,
                    figsize: tuple[float, float] = (6.8, 3.6)):
    """Validation top-1 error (%) after every epoch for a set of evaluated runs (§5.1, Table 3's rows), one figure.

    ``results`` and ``shipped`` map a run's name to its result file as :func:`zfcourse.train.load_results` reads it
    (``row``, ``seed`` and ``history`` with ``val_acc`` per epoch and ``last``, the window of the last-epochs mean).
    Runs are drawn (and listed) in Table 3's order, a row's seeds after it. Each row of Table 3 gets one colour, shared
    by its seeds (seed 0 thick, others thin) and by its ``shipped`` models (dashed); each run's last
    ``history["last"]`` epochs are drawn as a thick pale band — the window the Table 3 analogue averages. ``chance``
    (a probability, e.g. 1/classes) adds a dotted line at 100·(1 − chance). The legend sits outside the axes, so
    ``figsize`` (inches; 6.8 wide fits a ~690-px column at 100 dpi) holds the legend too. Returns the figure."""
    from ..models import TABLE3_ROWS

    names = [row[0] for row in TABLE3_ROWS]
    colour = dict(zip(names, [f"C{i}" for i in range(10)] + ["black", "darkgoldenrod"]))
    fig, ax = plt.subplots(figsize=figsize)
    for runs, style, tag in ((results, "-", ""), (shipped or {}, "--", ", shipped (10⁻²)")):
        for name, r in runs.items():
            if r.get("row") not in colour:
                raise ValueError(f"results[{name!r}]: row {r.get('row')!r} is not a row of Table 3 (expected one of "
                                 f"{', '.join(names)})")
        # in Table 3's order, each row's seeds after it
        for name, r in sorted(runs.items(), key=lambda kv: (names.index(kv[1]["row"]), kv[1].get("seed", 0))):
            err = 100 * (1 - np.asarray(r["history"]["val_acc"], dtype=float))
            epochs = np.arange(1, len(err) + 1)
            last = int(r["history"].get("last", 5))
            c = colour[r["row"]]
            ax.plot(epochs, err, style, lw=1.4 if r.get("seed", 0) == 0 else 0.9, color=c, label=name + tag)
            ax.plot(epochs[-last:], err[-last:], lw=5, alpha=0.3, color=c)
    if chance is not None:
        if not 0 < chance < 1:
            raise ValueError(f"chance: expected a probability in (0, 1), got {chance!r}")
        ax.axhline(100 * (1 - chance), color="0.7", ls=":", lw=1.2, label="chance")
    ax.set_xlabel("epoch", fontsize=10)
    ax.set_ylabel("val top-1 error, %", fontsize=10)
    ax.tick_params(labelsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def filter_tiles(weight: torch.Tensor, common_scale: bool = True) -> np.ndarray:
    """Conv1 filters (C_out, 3, k, k) → RGB tiles (C_out, k, k, 3) in [0, 1], grey = 0.

    ``common_scale``: one scale for all filters, w ↦ 0.5 + w / (2·max|W|), so a filter that has grown larger than
    the others stands out (as in Fig. 6a); otherwise each filter is stretched to its own range.
    """
    if weight.dim() != 4 or weight.shape[1] != 3:
        raise ValueError(f"weight: expected first-layer filters (C_out, 3, k, k), got {tuple(weight.shape)}")
    w = weight.detach().float().cpu().permute(0, 2, 3, 1).numpy()
    if common_scale:
        return 0.5 + w / (2 * max(np.abs(w).max(), 1e-12))
    m = np.abs(w).reshape(len(w), -1).max(1).clip(1e-12)[:, None, None, None]
    return 0.5 + w / (2 * m)


def plot_filters(weights: dict, ncols: int = 12, common_scale: bool = True, size: float = 0.62):
    """One block of first-layer filter tiles per entry of ``weights`` ({title: (C_out, 3, k, k) tensor}), each
    block on its own common scale. Returns the figure."""
    n = max(w.shape[0] for w in weights.values())
    rows = math.ceil(n / ncols)
    fig, axes = plt.subplots(rows * len(weights), ncols, figsize=(size * ncols, size * rows * len(weights) + 0.5),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for b, (title, w) in enumerate(weights.items()):
        for j, tile in enumerate(filter_tiles(w, common_scale)):
            ax = axes[b * rows + j // ncols, j % ncols]
            ax.imshow(tile.clip(0, 1), interpolation="nearest")
        axes[b * rows, 0].set_title(title, fontsize=10, loc="left")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.35 / fig.get_figheight(), wspace=0.08,
                        hspace=0.5)
    return fig


def rms_table(history: dict, layer: str = "conv1") -> np.ndarray:
    """(epochs, filters) array of per-filter RMS after each epoch from ``history['filter_rms'][layer]``."""
    if layer not in history.get("filter_rms", {}):
        raise KeyError(f"layer: no filter RMS recorded for {layer!r}; "
                       f"recorded: {sorted(history.get('filter_rms', {}))}")
    return np.asarray(history["filter_rms"][layer], dtype=np.float64)


def plot_filter_rms(histories: dict, layer: str = "conv1", radius: float | None = 0.1, init: float | None = 0.01,
                    epoch: int | None = None, width: float = 7.5):
    """Per-filter RMS of ``layer`` for each run in ``histories`` ({title: history}), two panels stacked for a text
    column ``width`` inches wide: top, every filter's RMS per epoch (one thin line per filter, the largest after
    ``epoch`` drawn thick); bottom, every filter's RMS after ``epoch`` (default: each run's last), sorted. The clipping
    radius and the §3 initial RMS are drawn as dashed lines. Returns the figure."""
    fig, axes = plt.subplots(2, 1, figsize=(width, 0.8 * width))
    colours = plt.cm.tab10(np.arange(len(histories)))
    for (title, h), c in zip(histories.items(), colours):
        rms = rms_table(h, layer)
        if epoch is not None and not 1 <= epoch <= len(rms):
            raise ValueError(f"epoch: expected 1..{len(rms)} for {title!r}, got {epoch}")
        at = rms[-1 if epoch is None else epoch - 1]
        epochs = h["epoch"]
        top = int(at.argmax())
        for j in range(rms.shape[1]):
            axes[0].plot(epochs, rms[:, j], color=c, alpha=0.35, lw=0.8)
        axes[0].plot(epochs, rms[:, top], color=c, lw=2, label=f"{title} (largest: #{top})")
        final = np.sort(at)[::-1]
        axes[1].plot(np.arange(1, len(final) + 1), final, "o-", ms=3, color=c, label=title)
    for ax in axes:
        if radius is not None:
            ax.axhline(radius, color="k", ls="--", lw=1)
            ax.text(ax.get_xlim()[0], radius, f" radius {radius:g}", va="bottom", fontsize=10)
        if init is not None:
            ax.axhline(init, color="0.5", ls=":", lw=1)
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=10)
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel(f"{layer} filter RMS")
    axes[1].set_xlabel(f"{layer} filters, largest first")
    axes[1].set_ylabel("RMS after " + ("the last epoch" if epoch is None else f"epoch {epoch}"))
    fig.tight_layout()
    return fig


def dominance(history: dict, layer: str = "conv1", epoch: int | None = None) -> dict:
    """How much the largest filter stands out after ``epoch`` (1-based; default the last): max, median and max/median
    of the filter RMS, and the largest filter's share of Σ_j rms_j² (its share of the layer's total squared weight)."""
    table = rms_table(history, layer)
    if epoch is not None and not 1 <= epoch <= len(table):
        raise ValueError(f"epoch: expected 1..{len(table)}, got {epoch}")
    final = table[-1 if epoch is None else epoch - 1]
    sq = final ** 2
    return {"max": float(final.max()), "median": float(np.median(final)),
            "max_over_median": float(final.max() / np.median(final)), "top_share": float(sq.max() / sq.sum()),
            "largest": int(final.argmax())}
