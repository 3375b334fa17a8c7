"""Run a model in evaluation mode for a while, then give every module back the mode it had."""
from __future__ import annotations

from contextlib import contextmanager

from torch import nn


@contextmanager
def evaluating(model: nn.Module):
    """Context manager: ``model.eval()`` inside (dropout off — every analysis of §4 reads the deterministic test-time
    network), each module's own ``training`` flag restored afterwards, also after an error. Restoring module by module
    keeps a wrapper whose flag differs from its parts' exactly as it was.

    Example:
        >>> m = nn.Sequential(nn.Dropout(0.5))
        >>> with evaluating(m):
        ...     m.training
        False
        >>> m.training
        True
    """
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode
