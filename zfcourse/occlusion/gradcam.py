"""Grad-CAM (Selvaraju et al. 2017): Fig. 7's question — where in the image is the evidence for a class? — answered
from one backward pass instead of one forward pass per occluder position (§4.2).

With A^k (k = 1 … K) the maps of a late convolutional layer (Z = H'·W' positions each) and y^c the score of class c
before the softmax, Grad-CAM weights each map by how much the score depends on it on average and keeps the positive
part of the sum:

    α^c_k = (1/Z) Σ_{u,v} ∂y^c / ∂A^k_{uv},         L^c = ReLU( Σ_k α^c_k A^k ),

then upsamples L^c (H' × W') bilinearly to the image. The map is *class-discriminative* (another class weights the
same maps differently) and as coarse as the layer's grid — for the course model's relu5, 9 × 9 cells over 168 pixels.
For a network that ends in global average pooling and one linear layer, y^c = Σ_k w_ck (1/Z) Σ_{uv} A^k_{uv} + b_c,
so α^c_k = w_ck / Z and L^c is the class activation map of Zhou et al. (2016) up to that factor.

Occlusion (:func:`~zfcourse.occlusion.occlusion_maps`) changes the input and watches the output; Grad-CAM reads
gradients at one input, so it cannot say what removing the evidence would do. :func:`~zfcourse.occlusion.drop_share`
and :func:`~zfcourse.occlusion.box_mask` read both kinds of map against an object's box.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..models.modes import evaluating


def grad_cam(model: nn.Module, images: torch.Tensor, classes, layer: str = "features.relu5",
             size=None) -> torch.Tensor:
    """Grad-CAM maps L^c (see the module docstring) of ``images`` for one class per image.

    Args:
        model: a classifier returning class scores (logits) (N, C); run in eval mode (dropout off), its modes restored.
        images: (N, 3, H, W) input tensor, on the model's device.
        classes: one class index per image — an int (the same for all), a sequence or a (N,) tensor.
        layer: dotted name of the module whose output are the maps A^k: ``"features.relu5"`` (after the last conv's
            ReLU) for the course model and the ZF / Krizhevsky-layout models; ``"features.11"`` for torchvision's
            AlexNet.
        size: the (height, width) to upsample to (bilinear, ``align_corners=False``); default the images' (H, W).

    Returns:
        (N, height, width) float tensor, ≥ 0, detached. Each image's map depends on that image only: the scores of
        the batch are summed before the backward pass, and in eval mode ∂y_n/∂A_m = 0 for m ≠ n.
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"images: expected an (N, C, H, W) tensor, got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    n = len(images)
    classes = torch.as_tensor(classes, dtype=torch.long, device=images.device)
    if classes.dim() == 0:
        classes = classes.expand(n)
    if classes.shape != (n,):
        raise ValueError(f"classes: expected an int or one class per image ({n}), got shape {tuple(classes.shape)}")
    try:
        target = model.get_submodule(layer)
    except AttributeError as err:
        raise ValueError(f"layer: the model has no module {layer!r}") from err
    kept = {}
    hook = target.register_forward_hook(lambda module, inputs, output: kept.__setitem__("a", output))
    try:
        with evaluating(model), torch.enable_grad():
            scores = model(images.detach().requires_grad_(True))  # so the maps have a gradient if the model is frozen
            if scores.dim() != 2 or not bool(((classes >= 0) & (classes < scores.shape[1])).all()):
                raise ValueError(f"classes: expected indices into the model's {scores.shape[-1]} classes, got "
                                 f"{classes.tolist()}")
            (g,) = torch.autograd.grad(scores[torch.arange(n), classes].sum(), kept["a"])
    finally:
        hook.remove()
    a = kept["a"]
    cam = torch.relu((g.mean((2, 3), keepdim=True) * a).sum(1, keepdim=True))   # ReLU(Σ_k α_k A^k)
    cam = F.interpolate(cam, size=tuple(images.shape[-2:]) if size is None else size, mode="bilinear",
                        align_corners=False)
    return cam[:, 0].detach()
