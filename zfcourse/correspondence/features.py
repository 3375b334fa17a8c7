"""The feature vectors x_i^l that §4.3 compares: which tensor "layer 5" and "layer 7" are, and how to read them.

The paper says only "features from layer l=5 and l=7". We take the *rectified* outputs:

* layer 5 = ``features.relu5``: conv5 after its ReLU, before pool5. These are the "layer 5 feature maps" of Figs. 2, 4
  and 7 — what the deconvnet projects and what §4.2 sums when it tracks "the total activation in one layer 5 feature
  map" — at the full conv5 resolution (13×13×256 in Fig. 3, 6×6×64 in the course model), so a small mask still moves
  a local activation.
* layer 7 = ``classifier.relu7``: fc7 after its ReLU (4096 units in Fig. 3, 512 in the course model): the last hidden
  layer, the one the classifier reads and §5.2's transfer experiments use as "the features".

Rectified values matter for Δ: most of them are 0 before and after masking, so sign(ε) = 0 agrees across images, which
is what puts Table 1 near 0.1 rather than near 2/3 (see ``delta.py``). Both choices are parameters (``layers``), so a
reader can rerun Table 1 on ``pool5`` or the pre-ReLU ``conv5``/``fc7`` (hooks clone the tensor, so in-place ReLUs
do not overwrite what was captured).
"""
from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm

from ..models import resolve
from ..models.activations import check_images
from ..models.modes import evaluating

# Table 1's column label → the layer read. Use torchvision AlexNet indices for pretrained models, e.g.
# {"Layer 5": "features.11", "Layer 7": "classifier.5"} (relu5 and relu7 there).
LAYERS = {"Layer 5": "features.relu5", "Layer 7": "classifier.relu7"}


def layer_features(model: nn.Module, images: torch.Tensor, layers=LAYERS, batch_size: int = 64,
                   progress: bool = False) -> dict[str, torch.Tensor]:
    """Flattened activations x^l of ``images`` at each of ``layers``: {label: (N, D_l) tensor} (§4.3).

    One forward pass per batch fills every layer through forward hooks, in eval mode (no dropout) and without gradients.

    Args:
        model: a ZFNet (``course_model()``, ``zfnet()``) or a torchvision AlexNet/VGG.
        images: (N, 3, S, S) in the model's input space: finite, N ≥ 1, the model's dtype and a size it accepts
            (:func:`zfcourse.models.activations.check_images`); they may stay on the CPU (each batch is moved to the
            model's device, results come back on the CPU).
        layers: {label: layer name} (names as :func:`zfcourse.models.resolve` accepts), or a sequence of names
            (then each name is its own label).
        batch_size: images per forward pass (a positive integer).
        progress: a progress bar over the batches (for long runs such as Table 1 on many random draws).

    Example:
        >>> from zfcourse.models import course_model
        >>> feats = layer_features(course_model(), torch.zeros(2, 3, 112, 112))
        >>> {k: tuple(v.shape) for k, v in feats.items()}
        {'Layer 5': (2, 2304), 'Layer 7': (2, 512)}
    """
    if not isinstance(layers, dict):
        layers = {str(name): name for name in layers}
    if not layers:
        raise ValueError("layers: expected at least one layer")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}")
    check_images(images, model, same_device=False)
    modules = {label: resolve(model, name)[1] for label, name in layers.items()}
    captured: dict[str, list[torch.Tensor]] = {label: [] for label in layers}
    def keep(label):
        return lambda _m, _i, out: captured[label].append(out.detach().flatten(1).clone())

    hooks = [m.register_forward_hook(keep(label)) for label, m in modules.items()]
    device = next(model.parameters()).device
    try:
        with evaluating(model), torch.no_grad():  # no dropout: x_i and x̃_i must differ only by the mask
            for start in tqdm(range(0, images.shape[0], batch_size), desc="features", leave=False,
                              disable=not progress):
                batch = images[start:start + batch_size]
                # Pad the last batch to full size: the same image then goes through the same kernels whatever its
                # position, so unchanged pixels give bit-identical activations (ε = 0 exactly, not rounding noise).
                pad = batch_size - batch.shape[0] if images.shape[0] > batch_size else 0
                model(torch.cat([batch, batch[:1].expand(pad, -1, -1, -1)]).to(device))
    finally:
        for h in hooks:
            h.remove()
    n = images.shape[0]
    return {label: torch.cat(chunks)[:n].cpu() for label, chunks in captured.items()}


def feature_changes(model: nn.Module, images: torch.Tensor, masked: torch.Tensor, layers=LAYERS,
                    batch_size: int = 64) -> dict[str, torch.Tensor]:
    """ε_i^l = x_i^l − x̃_i^l for every layer (§4.3): {label: (N, D_l)}, the rows :func:`delta` compares.

    ``images`` and ``masked`` go through the network in two passes of identical batch shapes, so image i and its
    masked copy sit at the same position of same-sized batches: identical pixels then give bit-identical activations
    and unaffected units get ε = 0 exactly. (Putting both in one batch is not enough: CPU matrix kernels may round
    rows at different batch positions differently.)

    Example:
        >>> from zfcourse.models import course_model
        >>> x = torch.randn(2, 3, 112, 112)
        >>> feature_changes(course_model(), x, x)["Layer 7"].abs().max().item()
        0.0
    """
    check_images(images, model, same_device=False)
    check_images(masked, model, "masked", same_device=False)
    if masked.shape != images.shape:
        raise ValueError(f"masked: expected the same shape as images {tuple(images.shape)}, "
                         f"got {tuple(masked.shape) if isinstance(masked, torch.Tensor) else type(masked).__name__}")
    feats = layer_features(model, images, layers, batch_size)
    feats_masked = layer_features(model, masked, layers, batch_size)
    return {label: feats[label] - feats_masked[label] for label in feats}
