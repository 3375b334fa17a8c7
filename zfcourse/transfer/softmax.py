"""The softmax classifier of §5.2: "we keep layers 1-7 of our ImageNet-trained model fixed and train a new softmax
classifier on top (for the appropriate number of classes)".

On standardised features z (see :mod:`.linear`) the model is p(c | x) = exp(s_c) / Σ_k exp(s_k), s = W^T z + b, and
the loss is the cross-entropy

    ℓ(s, y) = − Σ_c q_c log p(c | x),   q = y                for a single label (one-hot y),
                                         q = y / Σ_c y_c     for several labels (multi-hot y, §5.2's PASCAL case).

The second line is how a single softmax can be trained on images holding several objects: the target mass is shared
among the objects present. The paper notes why this fits PASCAL badly — "our model just provides a single exclusive
prediction for each image" — whereas one-vs-rest classifiers (:class:`~zfcourse.transfer.LinearSVM`) score every
class independently.
"""
from __future__ import annotations

import torch

from .linear import LinearProbe


class SoftmaxClassifier(LinearProbe):
    """Multinomial logistic regression on frozen features, fitted full-batch with weight decay (§5.2, Table 7).

    Args: see :class:`~zfcourse.transfer.linear.LinearProbe` (``weight_decay``, ``optimizer``, ``max_iter``, ...).

    Example:
        >>> x = torch.tensor([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.2]])
        >>> clf = SoftmaxClassifier(weight_decay=1e-2).fit(x, torch.tensor([0, 0, 1, 1]))
        >>> clf.predict(x).tolist()
        [0, 0, 1, 1]
    """

    def loss_terms(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        q = targets / targets.sum(1, keepdim=True).clamp_min(1)
        return -(q * scores.log_softmax(1)).sum(1)

    def predict_proba(self, x) -> torch.Tensor:
        """p(c | x) for every class, (N, C); rows sum to 1."""
        return self.decision_function(x).softmax(1)
