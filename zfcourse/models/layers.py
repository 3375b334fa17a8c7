"""Finding a layer of a model by the names a reader would use (§2: the paper talks of "layer 5", "conv5", ...).

Named models (ZFNet) answer to ``"conv5"``, ``"features.conv5"``; torchvision's AlexNet/VGG answer to index paths
such as ``"features.11"`` (or the integer 11, an index into ``features``). Every failure lists the valid names.
"""
from __future__ import annotations

from torch import nn


def pair(v) -> tuple:
    """``(v, v)`` for a number, ``tuple(v)`` for a pair: a module's ``kernel_size``, ``stride``, ... as (height, width).

    Example:
        >>> pair(3), pair((5, 7))
        ((3, 3), (5, 7))
    """
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def layer_names(model: nn.Module) -> list[str]:
    """Full dotted names of every leaf module of ``model`` (e.g. ``features.conv1``, ``classifier.fc8``)."""
    return [name for name, m in model.named_modules() if name and not list(m.children())]


def resolve(model: nn.Module, name: str | int) -> tuple[str, nn.Module]:
    """Return ``(full_name, module)`` for a layer given by full name, short name or index into ``features``.

    Accepted forms: ``"features.conv5"``, ``"conv5"`` (when exactly one leaf ends with it), ``"features.11"``,
    ``11`` or ``"11"`` (index into ``model.features``; ZFNet's ``features.0`` is ``features.conv1``). Raises KeyError
    listing the valid names otherwise.
    """
    modules = dict(model.named_modules())
    if isinstance(name, bool) or not isinstance(name, (str, int)):
        raise TypeError(f"name: expected a layer name (str) or an index (int), got {type(name).__name__}")
    key = str(name)
    index = key[len("features."):] if key.startswith("features.") else key
    if index.lstrip("-").isdigit() and hasattr(model, "features") and key not in modules:
        # An index into `features`, also for named Sequentials (ZFNet's features.0 is features.conv1).
        children = [child for child, _ in model.features.named_children()]
        i = int(index)
        if not -len(children) <= i < len(children):
            raise KeyError(f"name: index {i} is outside model.features (0..{len(children) - 1}); valid names: "
                           + ", ".join(layer_names(model)))
        key = f"features.{children[i]}"
    if key in modules and key:
        return key, modules[key]
    matches = [full for full in layer_names(model) if full.split(".")[-1] == key]
    if len(matches) == 1:
        return matches[0], modules[matches[0]]
    reason = f"{key!r} is ambiguous ({', '.join(matches)})" if matches else f"no layer named {key!r}"
    raise KeyError(f"name: {reason}; valid names: " + ", ".join(layer_names(model)))


def layer(model: nn.Module, name: str | int) -> nn.Module:
    """The module of ``model`` called ``name`` (see :func:`resolve` for the accepted forms)."""
    return resolve(model, name)[1]
