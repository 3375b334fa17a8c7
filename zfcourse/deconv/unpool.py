"""Max-pooling with explicit switches, and unpooling as its exact adjoint (§2.1, Fig. 1 bottom).

Pooling with the switches s held fixed is a linear map P_s: it copies, for every window w, the input value at the
window's argmax s(w). Its adjoint U = P_sᵀ sends each pooled value back to its switch location:

    U(y)[i] = Σ_{w : s(w) = i} y[w]      so that      ⟨U(y), x⟩ = ⟨y, P_s(x)⟩  for all x, y.

With overlapping windows (3×3, stride 2) two windows can share a switch; their contributions *add*.
``torch.nn.functional.max_unpool2d`` writes instead of adding (the last write wins), so it is not used here.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def pool_with_switches(x: torch.Tensor, pool: nn.MaxPool2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``pool`` on ``x`` (B, C, H, W) and also return its switches.

    The switches are, for each output unit, the flat index ``y·W + x`` into its (B, C) input map of the window's maximum
    — the "switch variables" of §2.1. Padding, dilation and ``ceil_mode`` of ``pool`` are honoured.

    Example:
        >>> x = torch.arange(16.).view(1, 1, 4, 4)
        >>> out, s = pool_with_switches(x, nn.MaxPool2d(2))
        >>> s.flatten().tolist()
        [5, 7, 13, 15]
    """
    return F.max_pool2d(x, pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.ceil_mode,
                        return_indices=True)


def unpool(signal: torch.Tensor, switches: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Unpool ``signal`` (N, C, h, w) to (N, C, *size) with ``switches`` (N, C, h, w): U(y)[i] = Σ_{s(w)=i} y[w].

    Each value goes back to the location its window's maximum came from; values whose windows share a switch add up.
    This is the adjoint of max-pooling with the switches held fixed (module docstring), and also what autograd's
    max-pool backward computes.

    Example:
        >>> x = torch.tensor([[[[0., 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]]])
        >>> y, s = pool_with_switches(x, nn.MaxPool2d(3, stride=1))  # the 1 is the max of both 3×3 windows in row 0
        >>> unpool(torch.ones_like(y), s, (4, 4))[0, 0, 0].tolist()
        [0.0, 2.0, 0.0, 0.0]
    """
    n, c = signal.shape[:2]
    out = signal.new_zeros(n, c, size[0] * size[1])
    out.scatter_add_(2, switches.flatten(2), signal.flatten(2))
    return out.view(n, c, *size)
