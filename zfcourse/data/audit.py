"""The world audit: does the embedded world force what ImageNet forces?

A world in which a colour histogram names the class lets a convnet win without parts, and then the paper's part
detectors (§4, Fig. 2), occlusion maps (§4.2) and correspondence (§4.3) cannot appear whatever the tools do. The
audit measures it in two halves:

* **shortcut baselines** (no trained model): a linear softmax classifier on an 8×8×8 colour histogram and on a
  16×16 RGB thumbnail of each render. Both must stay near chance (≤ 2 × 1/K for K classes);
* **with the trained course model**: accuracy with each named part left undrawn, the labels given to scenes
  whose main object is left out, accuracy across object scale, and with habitual vs shuffled context.

Everything here is plain functions; ``bench/world_audit.py`` runs the whole audit and writes ``bench/world.md``.
"""
from __future__ import annotations

import numpy as np
import torch


def colour_histogram(images: np.ndarray, bins: int = 8) -> np.ndarray:
    """(N, bins³) normalised joint RGB histograms of uint8 images (N, H, W, 3)."""
    q = (images.astype(np.int64) * bins) // 256
    code = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]
    n = images.shape[0]
    out = np.zeros((n, bins ** 3), np.float32)
    for i in range(n):
        out[i] = np.bincount(code[i].ravel(), minlength=bins ** 3)
    return out / out.sum(1, keepdims=True)


def thumbnail(images: np.ndarray, side: int = 16) -> np.ndarray:
    """(N, side·side·3) block-averaged thumbnails of uint8 images (N, H, W, 3), H and W divisible by ``side``."""
    n, h, w, _ = images.shape
    if h % side or w % side:
        raise ValueError(f"side: the image size {h}×{w} is not divisible by {side}")
    t = images.reshape(n, side, h // side, side, w // side, 3).astype(np.float32).mean((2, 4))
    return t.reshape(n, -1) / 255.0


def linear_probe(x_train, y_train, x_val, y_val, num_classes: int, weight_decay: float = 1e-3,
                 steps: int = 200) -> float:
    """Validation accuracy of a multinomial logistic regression (softmax, L2 ``weight_decay``) fit by L-BFGS on
    standardised features: p(y | x) = softmax(W x + b)_y, minimising mean cross-entropy + λ‖W‖²."""
    xt = torch.as_tensor(np.asarray(x_train), dtype=torch.float32)
    xv = torch.as_tensor(np.asarray(x_val), dtype=torch.float32)
    mu, sd = xt.mean(0), xt.std(0) + 1e-6
    xt, xv = (xt - mu) / sd, (xv - mu) / sd
    yt = torch.as_tensor(np.asarray(y_train), dtype=torch.int64)
    yv = torch.as_tensor(np.asarray(y_val), dtype=torch.int64)
    g = torch.Generator().manual_seed(0)
    lin = torch.nn.Linear(xt.shape[1], num_classes)
    with torch.no_grad():
        lin.weight.normal_(0, 0.01, generator=g)
        lin.bias.zero_()
    opt = torch.optim.LBFGS(lin.parameters(), lr=1, max_iter=steps, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(lin(xt), yt) + weight_decay * lin.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float((lin(xv).argmax(1) == yv).float().mean())


def shortcut_baselines(seed: int = 0, n_train: int = 2400, n_val: int = 1200, weight_decays=(1e-4, 1e-3, 1e-2),
                       palette: str = "shared"):
    """Accuracy of the two appearance shortcuts on renders of the world, with the best of a few L2 strengths
    chosen *on the validation set* (which favours the shortcut, so the bound is conservative).

    ``palette="per-class"`` audits the same scenes drawn with a colour scheme per class (the shortcut the first
    embedded world had): what the shared palette takes away.

    Returns a dict: ``chance``, ``colour_histogram``, ``thumbnail``, ``palette`` and the numbers of images."""
    from .world import NUM_CLASSES, label_of, render

    def load(start, n):
        imgs = np.stack([render(seed, start + i, palette=palette)[0] for i in range(n)])
        return imgs, np.array([label_of(start + i) for i in range(n)])

    from .world_data import VAL_OFFSET
    xi, yi = load(0, n_train)
    vi, vy = load(VAL_OFFSET, n_val)
    out = {"chance": 1 / NUM_CLASSES, "n_train": n_train, "n_val": n_val, "palette": palette}
    for name, f in (("colour_histogram", colour_histogram), ("thumbnail", thumbnail)):
        a, b = f(xi), f(vi)
        out[name] = max(linear_probe(a, yi, b, vy, NUM_CLASSES, wd) for wd in weight_decays)
    return out


# ---------------------------------------------------------------------------------------------------------------
# the half that needs a trained model


@torch.no_grad()
def predict(model, images: np.ndarray, preprocess, batch_size: int = 128) -> np.ndarray:
    """Softmax probabilities (N, K) of ``model`` on uint8 renders (N, S, S, 3), centre-cropped to the model's input
    side (the test-time crop of §3)."""
    side = getattr(model, "input_size", images.shape[1])
    off = (images.shape[1] - side) // 2
    crop = images[:, off:off + side, off:off + side]
    was = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        out = [torch.softmax(model(preprocess.to_input(crop[i:i + batch_size], offset=(off, off)).to(device)), 1)
               for i in range(0, len(crop), batch_size)]
    finally:
        model.train(was)
    return torch.cat(out).cpu().numpy()


def part_omission(model, preprocess, per_class: int = 10, seed: int = 0, start: int = 1 << 30, progress=True):
    """Accuracy of ``model`` on each pre-training class with each of its named parts left undrawn (every other pixel
    unchanged), beside the intact accuracy: {class: {"intact": acc, part: acc, ...}}. Images are validation renders
    ``start + i`` with the class forced, so no image was trained on."""
    from tqdm.auto import tqdm

    from .families import CLASS_NAMES, world_class
    from .world import render

    out = {}
    for label, name in enumerate(tqdm(CLASS_NAMES, desc="part omission", disable=not progress)):
        idx = [start + label + len(CLASS_NAMES) * i for i in range(per_class)]
        row = {}
        for part in ("intact",) + world_class(name).parts:
            omit = () if part == "intact" else (part,)
            imgs = np.stack([render(seed, i, label=name, omit=omit)[0] for i in idx])
            row[part] = float((predict(model, imgs, preprocess).argmax(1) == label).mean())
        out[name] = row
    return out


def empty_scenes(model, preprocess, n: int = 420, seed: int = 0, start: int = 1 << 30) -> dict:
    """What ``model`` calls a scene whose main object is left undrawn (``omit=("*",)``): the share of each label
    among ``n`` validation scenes, largest first. A world with no "empty scene" class spreads these out."""
    from .families import CLASS_NAMES
    from .world import render

    imgs = np.stack([render(seed, start + i, omit=("*",))[0] for i in range(n)])
    counts = np.bincount(predict(model, imgs, preprocess).argmax(1), minlength=len(CLASS_NAMES)) / n
    order = np.argsort(-counts)
    return {CLASS_NAMES[k]: float(counts[k]) for k in order if counts[k] > 0}


def scale_sweep(model, preprocess, bins=((0.15, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 0.75)),
                n: int = 210, seed: int = 0, start: int = 1 << 30) -> dict:
    """Validation accuracy per object-size bin (diameter / image side); bins outside 0.2–0.6 lie outside training."""
    from .world import label_of, render

    out = {}
    for lo, hi in bins:
        imgs = np.stack([render(seed, start + i, scale_range=(lo, hi))[0] for i in range(n)])
        labels = np.array([label_of(start + i) for i in range(n)])
        out[f"{lo:.2f}-{hi:.2f}"] = float((predict(model, imgs, preprocess).argmax(1) == labels).mean())
    return out


def context_effect(model, preprocess, n: int = 840, seed: int = 0, start: int = 1 << 30) -> dict:
    """Accuracy on the same validation scenes with habitual and with shuffled context, for the classes that have a
    habitual context (vehicles/road, boats/water, dogs/ball) and for the others."""
    from .families import world_class
    from .world import ALL_NAMES, label_of, render

    labels = np.array([label_of(start + i) for i in range(n)])
    habitual = np.array([bool(world_class(ALL_NAMES[y]).context) for y in labels])
    out = {}
    for ctx in ("habitual", "shuffled"):
        imgs = np.stack([render(seed, start + i, context=ctx)[0] for i in range(n)])
        hit = predict(model, imgs, preprocess).argmax(1) == labels
        out[ctx] = {"with habitual context": float(hit[habitual].mean()), "others": float(hit[~habitual].mean())}
    return out


def palette_effect(model, preprocess, n: int = 840, seed: int = 0, start: int = 1 << 30) -> dict:
    """Top-1 accuracy of ``model`` on the same ``n`` validation scenes drawn twice: with the shared palette (the world
    as designed, colour says nothing about the class) and with a colour scheme per class (``palette="per-class"``,
    the shortcut of the course's first world). A model that learned parts scores about the same on both; a model
    that learned the colour schemes loses on the shared ones what colour gave it. Also returns the share of scenes
    whose top-1 label changes between the two drawings."""
    from .world import label_of, render

    labels = np.array([label_of(start + i) for i in range(n)])
    top1 = {}
    for palette in ("shared", "per-class"):
        imgs = np.stack([render(seed, start + i, palette=palette)[0] for i in range(n)])
        top1[palette] = predict(model, imgs, preprocess).argmax(1)
    return {"shared": float((top1["shared"] == labels).mean()),
            "per-class": float((top1["per-class"] == labels).mean()),
            "label changed": float((top1["shared"] != top1["per-class"]).mean()), "n": n}

