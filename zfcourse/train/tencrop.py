"""Test-time ten-crop evaluation (§3): average the softmax over the corners and centre, with and without flips.

The paper evaluates on "10 different sub-crops of size 224x224 (corners + center with(out) horizontal flips)" of the
256×256 image: p(c | image) = (1/10) Σ_k softmax(f(crop_k))_c, prediction argmax_c p. :func:`ten_crop_accuracy`
returns that accuracy beside the centre crop's alone, so a chapter can show what the nine extra crops buy.
"""
from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

from ..data.preprocess import ten_crop
from ..models.modes import evaluating


@torch.no_grad()
def ten_crop_accuracy(model: nn.Module, images: torch.Tensor, labels, crop: int, batch_size: int = 64,
                      progress: bool = True, preprocess=None) -> dict:
    """Top-1 accuracy of the centre crop, of the ten-crop average, and of each of the ten crops alone.

    Args:
        model: maps (B, 3, crop, crop) to class scores; evaluated in eval mode (restored afterwards).
        images: input-space images (N, 3, S, S), S ≥ crop (256/224 in the paper, 192/168 for the embedded world);
            with ``preprocess``, anything it maps batch by batch to those (e.g. uint8 renders (N, S, S, 3), a tenth
            of the memory of the whole set in input space).
        labels: N integer labels.
        crop: side of the crops.
        preprocess: applied to each batch ``images[i:i + batch_size]`` first, e.g. ``world_preprocess().to_input``.

    Returns:
        {"centre": acc, "ten_crop": acc, "per_crop": [acc_k for the 10 crops in ten_crop_boxes order], "n": N}.
    """
    labels = torch.as_tensor(labels)
    if images.dim() != 4 or len(images) != len(labels):
        raise ValueError(f"images: expected (N, 3, S, S) with one label each, got {tuple(images.shape)} and "
                         f"{len(labels)} labels")
    with evaluating(model):
        device = next(model.parameters()).device
        per_crop = torch.zeros(10)
        mean_hits = 0
        for i in tqdm(range(0, len(images), batch_size), desc="ten crops", leave=False, disable=not progress):
            x = images[i:i + batch_size]
            x = ten_crop(preprocess(x) if preprocess is not None else x, crop)  # (b, 10, 3, crop, crop)
            b = x.shape[0]
            p = model(x.flatten(0, 1).to(device)).softmax(-1).view(b, 10, -1).cpu()
            y = labels[i:i + b]
            per_crop += (p.argmax(-1) == y[:, None]).sum(0).float()
            mean_hits += int((p.mean(1).argmax(-1) == y).sum())
    n = len(labels)
    per_crop = (per_crop / n).tolist()
    return {"centre": per_crop[4], "ten_crop": mean_hits / n, "per_crop": per_crop, "n": n}
