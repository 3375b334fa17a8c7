"""ImageNet-pretrained torchvision AlexNet / VGG: the real models the ``imagenet`` source analyses.

Zeiler & Fergus's own weights were never released; torchvision's AlexNet (Krizhevsky et al.'s architecture, §4.1's
baseline) and VGG are the closest ImageNet-trained convnets a learner can load. Their layers are addressed by index
(``features.0`` …), which the course's tools accept (``zfcourse.models.resolve``). They expect torchvision's
normalisation: use ``Preprocess.torchvision()``.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import torch
import torchvision
from torch import nn

from ..train.checkpoint import CheckpointError, load_checkpoint

# torchvision's AlexNet names its layers by index; the paper's relu1 … relu5 are these (conv1 = features.0, …).
ALEXNET_RELUS = {"relu1": "features.1", "relu2": "features.4", "relu3": "features.7", "relu4": "features.9",
                 "relu5": "features.11"}
PRETRAINED_NAMES = ("alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn")


def _cached_weights_file(weights) -> Path:
    """Where ``torch.hub`` keeps ``weights``' file once downloaded."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def pretrained(name: str = "alexnet", weights_path=None, download: bool = True, progress: bool = False) -> nn.Module:
    """torchvision model ``name`` with ImageNet weights, in eval mode.

    Args:
        name: one of ``PRETRAINED_NAMES``.
        weights_path: a local state-dict file (``torch.save(model.state_dict(), path)``; a dict holding it under
            ``"state_dict"`` or ``"model"`` also works), loaded with ``weights_only=True``. If None, torchvision's
            ``DEFAULT`` weights: from torch.hub's cache, else downloaded when ``download`` is True.
        download: allow downloading torchvision's weights when they are not cached.
        progress: show the download's progress bar.

    Raises:
        FileNotFoundError: ``weights_path`` does not exist, or the weights are not cached and ``download`` is False.
        ValueError: ``name`` is not a supported model, the file is not a readable state dict (or holds NaN/inf), or
            the state dict does not fit the model.
    """
    if name not in PRETRAINED_NAMES:
        raise ValueError(f"name: expected one of {PRETRAINED_NAMES}, got {name!r}")
    model = getattr(torchvision.models, name)(weights=None)
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"weights_path: no file {path}")
        try:
            state = load_checkpoint(path)  # weights_only; NaN/inf tensors refused, naming the file and the tensor
        except CheckpointError as err:
            raise ValueError(f"weights_path: {err}") from err
        state = state.get("state_dict", state.get("model", state))
    else:
        weights = torchvision.models.get_model_weights(name).DEFAULT
        if not download and not _cached_weights_file(weights).is_file():
            raise FileNotFoundError(f"weights_path: none given and {name}'s torchvision weights are not in "
                                    f"{_cached_weights_file(weights).parent}; pass download=True or a local file")
        try:
            # weights_only: tensors only, never arbitrary pickles (torch < 2.6 defaults to False); check_hash: a
            # download must match the hash in torchvision's file name (a file already cached is loaded as it is)
            state = weights.get_state_dict(progress=progress, check_hash=True, weights_only=True)
        except (RuntimeError, EOFError, ValueError, KeyError, pickle.UnpicklingError) as err:  # a damaged cached file
            raise ValueError(f"weights_path: torchvision's {name} weights file {_cached_weights_file(weights)} is "
                             f"unreadable; delete that file to download them again ({str(err)[:120]})") from err
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as e:
        raise ValueError(f"weights_path: the state dict does not fit torchvision's {name}: {e}") from e
    return model.eval()
