"""A sanity check of the deconvnet's projections (§2.1) by cascading randomisation (Adebayo et al. 2018).

"Sanity checks for saliency maps" asks of any method that explains a trained network's output: does the picture change
when the network does? Their *cascading randomisation* re-initialises the weights of a trained network layer by layer
from the top (the output) down and recomputes the map for the same input and the same target after each step:

    f_0 = the trained network,   f_k = f_0 with its top k layers' weights re-drawn from the initialisation,
    E_k = the map the method gives for f_k,   s_k = sim(E_0, E_k),   k = 1, …, L.

A method whose map reflects what the layers learned has s_k fall as soon as the layers it depends on are random,
down to the level two unrelated networks reach (sim of the maps of two untrained networks); one whose s_k stays high
while the top layers are random shows something else — the image, or the layers next to the pixels. Adebayo et al.
found the plain gradient and Grad-CAM pass, guided backpropagation fails; Nie et al. (2018) showed why: with
rectification on the way back, deconvnet-like maps largely reconstruct the image whatever the weights above.

* :func:`randomised` — f_k: a copy of a trained model whose named layers take the weights of an untrained one (one
  draw for the whole cascade, so each step adds re-drawn layers to the previous one);
* :func:`cosine_similarity` — sim of two signed maps, per image: 1 the same picture, 0 unrelated, −1 inverted;
* :func:`rank_correlation` — the similarity Adebayo et al. used: Spearman's rank correlation of the |maps|.

The maps themselves come from :func:`~zfcourse.deconv.project` / :func:`~zfcourse.deconv.reverse` with any of the
three rectify rules (``"deconv"``, ``"backprop"`` — the gradient — and ``"guided"``).
"""
from __future__ import annotations

import copy

import torch
from torch import nn


def _module(model: nn.Module, name: str, arg: str) -> nn.Module:
    try:
        return model.get_submodule(name)
    except AttributeError as err:
        raise ValueError(f"{arg}: has no layer {name!r} (expected a dotted module name such as "
                         "'features.conv5')") from err


def randomised(model: nn.Module, fresh: nn.Module, layers) -> nn.Module:
    """A copy of ``model`` whose ``layers`` (dotted module names, e.g. ``["features.conv5", "features.conv4"]``) hold
    the weights and buffers of the same layers of ``fresh`` — an untrained network of the same architecture, drawn from
    the initialisation the trained one started from. Every other layer keeps the trained weights; ``model`` and
    ``fresh`` are left unchanged.

    The step k of a cascading randomisation (see the module docstring) is ``randomised(model, fresh, top[:k])``
    with ``top`` the layers in order from the output down.

    Example:
        >>> from collections import OrderedDict
        >>> def net(): return nn.Sequential(OrderedDict(conv1=nn.Conv2d(1, 2, 3), conv2=nn.Conv2d(2, 2, 3)))
        >>> trained, untrained = net(), net()
        >>> m = randomised(trained, untrained, ["conv2"])
        >>> torch.equal(m.conv2.weight, untrained.conv2.weight), torch.equal(m.conv1.weight, trained.conv1.weight)
        (True, True)
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(fresh, nn.Module):
        raise ValueError(f"fresh: expected an untrained torch.nn.Module of the model's architecture, got "
                         f"{type(fresh).__name__}")
    if isinstance(layers, str) or not all(isinstance(n, str) for n in layers):
        raise ValueError(f"layers: expected a list of dotted module names, got {layers!r}")
    for name in layers:  # check before copying
        _module(model, name, "model"), _module(fresh, name, "fresh")
    out = copy.deepcopy(model)
    for name in layers:
        try:
            _module(out, name, "model").load_state_dict(_module(fresh, name, "fresh").state_dict())
        except RuntimeError as err:
            raise ValueError(f"fresh: its layer {name!r} does not match the model's ({err})") from err
    return out


def _flat(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.shape != b.shape or a.dim() < 2:
        raise ValueError(f"b: expected a tensor of the shape of a, (N, ...), got "
                         f"{tuple(getattr(b, 'shape', ()))} and {tuple(getattr(a, 'shape', ()))}")
    return a.flatten(1), b.flatten(1)


def cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per image, the cosine similarity of two signed maps ``a``, ``b`` of shape (N, …):

        cos(a_n, b_n) = ⟨a_n, b_n⟩ / (‖a_n‖ ‖b_n‖)   ∈ [−1, 1]  (0 where either map is all zero).

    It compares the pictures themselves, signs included, so neither the receptive field's shape nor the image's own
    edges make two unrelated signed maps similar.
    """
    a, b = _flat(a, b)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per image, Spearman's rank correlation of |a| and |b| — Adebayo et al.'s similarity of two maps — with each
    map's magnitude summed over its channels (the colours of a projection), over the pixels where either map is
    non-zero (the pixels no path reaches in both are left out, so they do not tie the ranks). ``a``, ``b``: (N, C, H, W)
    or (N, H, W); returns (N,) float64 (NaN for an image where a map is constant over those pixels).
    """
    from scipy.stats import spearmanr

    _flat(a, b)
    if a.dim() == 3:
        a, b = a[:, None], b[:, None]
    if a.dim() != 4:
        raise ValueError(f"a: expected (N, C, H, W) or (N, H, W) maps, got shape {tuple(a.shape)}")
    a, b = a.abs().sum(1), b.abs().sum(1)
    out = []
    for u, v in zip(a, b):
        keep = (u != 0) | (v != 0)
        out.append(spearmanr(u[keep], v[keep]).statistic)
    return torch.tensor(out, dtype=torch.float64)
