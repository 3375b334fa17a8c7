"""The linear SVM of §5.3 (Table 7: "place either a linear SVM or softmax classifier on top"), one-vs-rest.

The paper does not say which SVM formulation it used. This one is the common linear one-vs-rest SVM with the squared
hinge loss (as LIBLINEAR's default L2-loss SVM): for every class c a separate linear scorer s_c = w_c^T z + b_c is
asked to put images of c on the positive side with margin 1 and all others on the negative side,

    ℓ(s, y) = Σ_c max(0, 1 − t_c s_c)²,   t_c = +1 if the image shows class c, −1 otherwise,

with J = (1/N) Σ_i ℓ(s_i, y_i) + (λ/2)‖W‖². The squared hinge is differentiable, so the same full-batch L-BFGS as the
softmax applies. LIBLINEAR writes C Σ_i ℓ_i + ½‖w‖²: the same minimiser for λ = 1/(C·N).

Because each class is scored on its own, multi-hot targets (several objects in one image) need no change: this is the
classifier to read per-class average precision from (:func:`~zfcourse.transfer.average_precision`). A prediction
among exclusive classes is argmax_c s_c.
"""
from __future__ import annotations

import torch

from .linear import LinearProbe


class LinearSVM(LinearProbe):
    """One-vs-rest linear SVM with the squared hinge loss on frozen features (§5.3, Table 7).

    Args: see :class:`~zfcourse.transfer.linear.LinearProbe` (``weight_decay`` = λ, ``optimizer``, ``max_iter``, ...).

    Example:
        >>> x = torch.tensor([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.2]])
        >>> LinearSVM(weight_decay=1e-2).fit(x, torch.tensor([0, 0, 1, 1])).predict(x).tolist()
        [0, 0, 1, 1]
    """

    def loss_terms(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        t = 2 * targets - 1                      # ±1 per class
        return (1 - t * scores).clamp_min(0).pow(2).sum(1)
