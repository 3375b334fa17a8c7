"""Feature scale clipping (§3): renormalise every conv filter whose RMS exceeds a fixed radius.

The paper: "we renormalize each filter in the convolutional layers whose RMS value exceeds a fixed radius of 10⁻¹ to
this fixed radius. This is crucial, especially in the first layer of the model, where the input images are roughly in
the [-128,128] range." Without it a few layer-1 filters grow until they dominate (Fig. 6a).

What RMS means here. A conv layer's weight has shape (C_out, C_in, k, k); filter j is the slice W[j], n = C_in·k·k
numbers. Its RMS is  rms_j = sqrt( (1/n) Σ_i W[j]_i² ),  the root of the mean of its squared weights (for conv1 of
Fig. 3, n = 3·7·7 = 147). Clipping is the projection  W[j] ← W[j] · min(1, r / rms_j):  filters inside the ball of
radius r are left exactly as they are; filters outside are scaled back onto it (direction kept).

Why r = 0.1 carries over to this course. A filter's response to an input patch x is bounded by Cauchy–Schwarz:
|W[j]·x| ≤ ‖W[j]‖·‖x‖ = n · rms_j · rms(x). The radius therefore caps a filter's gain *relative to the input's scale*:
if inputs were scaled by s (e.g. divided by 255, s = 1/255) the same cap would need r/s. Our inputs use the paper's
scale — RGB on 0–255 minus the per-pixel mean, roughly [-128, 128] — and conv1 of the course model has the paper's
7×7×3 filters (same n), so the paper's r = 0.1 is the right radius unchanged. For scale, the §3 initialisation
N(0, 0.01²) gives rms ≈ 0.01: clipping only acts once a filter has grown tenfold. The paper applies one radius to every
conv layer; so do we (deeper course layers have n four times smaller than the paper's, which makes the cap on ‖W[j]‖ =
√n·r looser, not tighter).
"""
from __future__ import annotations

import torch
from torch import nn

from .. import paper

PAPER_RADIUS = paper.setting("clip radius").value  # §3: 0.1, for inputs roughly in [-128, 128]


def conv_layers(model: nn.Module) -> dict[str, nn.Conv2d]:
    """The model's conv layers by short name (``conv1``… for ZFNet, the full module path otherwise).

    A ``DistributedDataParallel`` wrapper is looked through, so names are the same on one process and on many.
    """
    model = getattr(model, "module", model)
    convs = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            convs[name.rsplit(".", 1)[-1] if name.startswith("features.conv") else name] = module
    return convs


def filter_rms(weight: torch.Tensor) -> torch.Tensor:
    """Per-filter RMS of a conv weight (C_out, C_in, k, k): rms_j = sqrt(mean_i W[j]_i²), shape (C_out,). §3."""
    if weight.dim() < 2:
        raise ValueError(f"weight: expected a conv weight (C_out, C_in, k, k), got shape {tuple(weight.shape)}")
    return weight.detach().float().flatten(1).pow(2).mean(1).sqrt()


@torch.no_grad()
def clip_filter_rms_(model: nn.Module, radius: float = PAPER_RADIUS) -> dict[str, int]:
    """Feature scale clipping (§3), in place: W[j] ← W[j]·r/rms_j for every conv filter with rms_j > r.

    Filters with rms_j ≤ r are not touched at all (bit for bit). Called after every optimiser step.

    Args:
        model: any module; all its ``nn.Conv2d`` layers are clipped (a DDP wrapper is looked through).
        radius: r > 0; 0.1 in the paper for inputs roughly in [-128, 128] (see the module docstring).

    Returns:
        How many filters were renormalised in each conv layer, e.g. ``{"conv1": 2, "conv2": 0, …}``.
    """
    if not radius > 0:
        raise ValueError(f"radius: expected a positive RMS radius, got {radius}")
    clipped = {}
    for name, conv in conv_layers(model).items():
        w = conv.weight
        rms = filter_rms(w)
        over = rms > radius
        clipped[name] = int(over.sum())
        if clipped[name]:
            # Scale only the offending filters; the others keep their exact values.
            w[over] = (w[over].float() * (radius / rms[over]).view(-1, *([1] * (w.dim() - 1)))).to(w.dtype)
    return clipped


def filter_rms_by_layer(model: nn.Module) -> dict[str, list[float]]:
    """Per-filter RMS of every conv layer as plain lists (what the training history records each epoch for Fig. 6a)."""
    return {name: filter_rms(conv.weight).tolist() for name, conv in conv_layers(model).items()}
