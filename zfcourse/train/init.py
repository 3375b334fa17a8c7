"""Initialisation for training the *narrow* course model: §3's N(0, 0.01²) where it works, a fan-in scale where it
does not.

§3 initialises every weight from N(0, 10⁻²) and every bias to 0 (:class:`zfcourse.models.ZFNet` does exactly that).
A layer with fan-in n multiplies the spread of its input by about σ·√n, halved again in energy by the ReLU, so with
σ = 0.01 the signal shrinks layer after layer. In full ZFNet the fan-ins are 4× larger than in the course model
(width 0.25), so the shrinkage there is 2× milder per layer; with the course model's fan-ins the conv5 output at
init is ~10⁻³ of conv1's and the logits ~10⁻⁵. Trained by §3 on the course's first (12-class) embedded world, that
network sat at chance (loss ln 12 = 2.485) for every one of the epochs we ran — fine for 70 epochs on 1.2 M images,
hopeless for a CPU-sized run.

:func:`scaled_init_` keeps §3's σ = 0.01 for conv1 (it sees 0–255 pixels, so 0.01 keeps its output near unit scale)
and for the classifier fc8 (small logits → a uniform first guess), and gives every layer in between
σ = 1/√fan_in (LeCun's scale), which keeps the spread of the signal roughly constant through the hidden layers.
Biases stay 0. ``He`` scaling (√(2/n)) with these 0–255 inputs made the first steps diverge (loss 86 in epoch 1).
"""
from __future__ import annotations

import math

import torch
from torch import nn

INITS = ("paper", "scaled")


@torch.no_grad()
def scaled_init_(model: nn.Module, first_std: float = 0.01, last_std: float = 0.01) -> nn.Module:
    """Re-initialise ``model``'s conv/linear layers in place: w ~ N(0, σ²), b = 0, with σ = ``first_std`` for the first
    layer, ``last_std`` for the last and 1/√fan_in in between (fan_in = in_channels·kh·kw, or in_features). Returns it.

    Example:
        >>> from zfcourse.models import course_model
        >>> m = scaled_init_(course_model())
        >>> round(m.features.conv2.weight.std().item(), 3)   # 1/√(24·5·5)
        0.041
    """
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if len(layers) < 2:
        raise ValueError(f"model: expected at least two conv/linear layers to initialise, found {len(layers)}")
    for i, layer in enumerate(layers):
        fan_in = layer.weight[0].numel()
        std = first_std if i == 0 else last_std if i == len(layers) - 1 else 1 / math.sqrt(fan_in)
        nn.init.normal_(layer.weight, 0.0, std)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    return model
