"""Averaging softmax outputs over test crops and over models (§3 and §5.1, Table 2).

Test time in §3: "10 different sub-crops of size 224x224 (corners + center with(out) horizontal flips)" of each
256×256 image; Table 2's "5 convnets", "6 convnets" rows average several separately trained models. Both are the same
operation — the mean of softmax outputs — over crops k = 1..K and models m = 1..M:

    p(c | x) = (1 / (M·K)) Σ_m Σ_k softmax(f_m(crop_k(x)))_c,     ŷ = argmax_c p(c | x),

with K = 10 for ten crops (:func:`zfcourse.data.ten_crop`'s order) or K = 1 for the centre crop, and M = 1 for a
single model. Probabilities are averaged, not scores (a model with larger logits would otherwise dominate), as
Krizhevsky
et al. and the paper do. :func:`top_k_error` turns p into Table 2's top-1/top-5 error.
"""
from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

from ..data.preprocess import centre_crop, ten_crop
from ..models.modes import evaluating
from .features import image_batches


def _as_models(models) -> list[nn.Module]:
    ms = [models] if isinstance(models, nn.Module) else list(models)
    if not ms or not all(isinstance(m, nn.Module) for m in ms):
        raise ValueError("models: expected an nn.Module or a non-empty list of them")
    return ms


@torch.no_grad()
def average_softmax(models, data, crop: int | None = None, ten_crops: bool = False, batch_size: int = 32,
                    device: str | torch.device | None = None, progress: bool = True) -> torch.Tensor:
    """p(c | x) averaged over ``models`` and crops (module docstring): an (N, C) float tensor on the CPU.

    Args:
        models: one model or a list (a seed ensemble); each maps (B, 3, crop, crop) to C class scores, run in eval
            mode (restored afterwards).
        data: (N, 3, S, S) images in input space, a map-style Dataset or an unshuffled DataLoader.
        crop: crop side (224 ImageNet, 168 the embedded world); None = use the images whole (K = 1).
        ten_crops: average the ten crops of §3 (True) or take the centre crop only (False).
        batch_size: images per step (each step runs K·B crops through every model).
        device: where to run (default: the first model's device).

    Example:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
        >>> average_softmax([net, net], torch.randn(2, 3, 6, 6), crop=4, ten_crops=True, progress=False).shape
        torch.Size([2, 5])
    """
    ms = _as_models(models)
    if ten_crops and crop is None:
        raise ValueError("crop: ten_crops=True needs the crop side (e.g. 224)")
    if crop is not None and (isinstance(crop, bool) or not isinstance(crop, int) or crop < 1):
        raise ValueError(f"crop: expected a positive integer side or None, got {crop!r}")
    device = torch.device(device) if device is not None else next(ms[0].parameters()).device
    out = []
    for x in tqdm(image_batches(data, batch_size), desc="softmax average", leave=False, disable=not progress):
        if x.dim() != 4:
            raise ValueError(f"data: expected (N, 3, S, S) image batches, got {tuple(x.shape)}")
        if crop is not None and crop > min(x.shape[-2:]):
            raise ValueError(f"crop: a {crop}×{crop} crop does not fit in {x.shape[-2]}×{x.shape[-1]} images")
        views = ten_crop(x, crop) if ten_crops else (centre_crop(x, crop) if crop else x).unsqueeze(1)
        b, k = views.shape[:2]
        views = views.flatten(0, 1).to(device)                                    # (B·K, 3, crop, crop)
        p = 0
        for m in ms:
            with evaluating(m):
                p = p + m(views).float().softmax(-1).view(b, k, -1).mean(1)
        out.append((p / len(ms)).cpu())
    if not out:
        raise ValueError("data: expected at least one image, got none")
    return torch.cat(out)


def ten_crop_softmax(model: nn.Module, data, crop: int, **kw) -> torch.Tensor:
    """§3's ten-crop prediction of one model: (1/10) Σ_k softmax(f(crop_k(x))), (N, C)."""
    return average_softmax([model], data, crop=crop, ten_crops=True, **kw)


def ensemble_softmax(models, data, crop: int | None = None, ten_crops: bool = False, **kw) -> torch.Tensor:
    """Table 2's "N convnets": the softmax averaged over the models (and over ten crops if ``ten_crops``), (N, C)."""
    return average_softmax(models, data, crop=crop, ten_crops=ten_crops, **kw)


def top_k_error(probs, labels, ks=(1, 5)) -> dict[int, float]:
    """{k: fraction of images whose label is not among the k most probable classes} (Table 2's top-1/top-5 error;
    multiply by 100 for the paper's %). ``probs`` (N, C) scores or probabilities, ``labels`` (N,) integers."""
    probs, labels = torch.as_tensor(probs), torch.as_tensor(labels).long()
    if probs.dim() != 2 or labels.shape != (probs.shape[0],) or probs.shape[0] == 0:
        raise ValueError(f"labels: expected one label per row of probs {tuple(probs.shape)}, got {tuple(labels.shape)}")
    out = {}
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= probs.shape[1]:
            raise ValueError(f"ks: each k must be an integer in [1, {probs.shape[1]}], got {k!r}")
        top = probs.topk(k, dim=1).indices
        out[k] = 1.0 - float((top == labels[:, None]).any(1).double().mean())
    return out
