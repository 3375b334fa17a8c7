"""What the softmax classifier and the linear SVM of §5.2–5.3 share: a linear map on standardised frozen features,
fitted full-batch and deterministically.

Both classifiers score a feature vector x ∈ R^D for each of C classes with

    s(x) = W^T z(x) + b,   z(x) = (x − μ) / σ   (μ, σ: per-dimension mean and standard deviation of the training
                                                   features; σ = 1 where a dimension is constant),

and minimise a data term plus weight decay on W (not on b):

    J(W, b) = (1/N) Σ_i ℓ(s(x_i), y_i) + (λ/2) ‖W‖²_F.

Only ℓ differs (:mod:`.softmax`: cross-entropy; :mod:`.svm`: one-vs-rest squared hinge). Standardising makes one λ
fit every layer: raw activations of conv1 and fc7 differ in scale by orders of magnitude. J is convex and smooth, so
full-batch L-BFGS from W = 0, b = 0 converges to the same minimiser every run (no data order, no random init); Adam
is offered for problems too big for L-BFGS's memory.
"""
from __future__ import annotations

import torch

OPTIMIZERS = ("lbfgs", "adam")


def as_features(x, name: str = "x") -> torch.Tensor:
    """``x`` as a finite (N, D) float tensor, or a ValueError naming ``name``."""
    x = torch.as_tensor(x)
    if x.dim() != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty (N, D) matrix of feature vectors, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        x = x.float()
    if not torch.isfinite(x).all():
        raise ValueError(f"{name}: features must be finite (found NaN or inf)")
    return x


def as_targets(y, n: int, num_classes: int | None) -> tuple[torch.Tensor, int]:
    """Targets as an (N, C) float matrix: one-hot rows from (N,) class indices, or a given (N, C) multi-hot matrix
    (several objects per image, §5.2's PASCAL case). Returns (matrix, C)."""
    y = torch.as_tensor(y)
    if y.shape[:1] != (n,) or y.dim() not in (1, 2):
        raise ValueError(f"y: expected {n} class indices (N,) or an (N, C) multi-hot matrix, "
                         f"got shape {tuple(y.shape)}")
    if y.dim() == 1:
        if y.is_floating_point() or y.dtype == torch.bool:
            raise ValueError(f"y: class indices must be integers, got dtype {y.dtype}")
        c = int(y.max()) + 1 if num_classes is None else num_classes
        if int(y.min()) < 0 or int(y.max()) >= c:
            raise ValueError(f"y: class indices must lie in [0, {c}), got [{int(y.min())}, {int(y.max())}]")
        return torch.nn.functional.one_hot(y.long(), c).float(), c
    y = y.float()
    if num_classes is not None and y.shape[1] != num_classes:
        raise ValueError(f"y: expected {num_classes} columns (num_classes), got {y.shape[1]}")
    if not ((y == 0) | (y == 1)).all():
        raise ValueError("y: a (N, C) target matrix must hold 0/1 labels")
    return y, y.shape[1]


class LinearProbe:
    """A linear classifier s(x) = W^T z(x) + b on standardised frozen features; subclasses define the loss ℓ.

    Args:
        weight_decay: λ ≥ 0 in J (module docstring).
        optimizer: ``"lbfgs"`` (full batch, strong-Wolfe line search) or ``"adam"`` (full batch, ``lr``).
        max_iter: L-BFGS iterations or Adam steps.
        lr: Adam's step size (ignored by L-BFGS).
        standardize: divide by σ after subtracting μ (True) or only centre (False).
    """

    def __init__(self, weight_decay: float = 1e-3, optimizer: str = "lbfgs", max_iter: int = 500, lr: float = 1e-2,
                 standardize: bool = True):
        if not (isinstance(weight_decay, (int, float)) and weight_decay >= 0):
            raise ValueError(f"weight_decay: expected a number ≥ 0, got {weight_decay!r}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, got {optimizer!r}")
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
            raise ValueError(f"max_iter: expected a positive integer, got {max_iter!r}")
        if not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"lr: expected a positive step size, got {lr!r}")
        self.weight_decay, self.optimizer, self.max_iter, self.lr = float(weight_decay), optimizer, max_iter, float(lr)
        self.standardize = standardize
        self.weight = self.bias = self.mean = self.scale = None

    def loss_terms(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """ℓ(s_i, y_i) for every row: (N,) from scores (N, C) and 0/1 targets (N, C). Defined by each classifier."""
        raise NotImplementedError

    def fit(self, x, y, num_classes: int | None = None) -> "LinearProbe":
        """Minimise J on features ``x`` (N, D) with labels ``y`` ((N,) indices or (N, C) multi-hot); returns self.

        ``num_classes`` fixes C when some classes may be absent from ``y``. Sets ``loss_`` (final J) and ``n_iter_``.
        """
        x = as_features(x)
        targets, c = as_targets(y, len(x), num_classes)
        targets = targets.to(x.device, x.dtype)
        self.mean = x.mean(0)
        sd = x.std(0, unbiased=False) if self.standardize else torch.ones_like(self.mean)
        self.scale = torch.where(sd > 1e-12, sd, torch.ones_like(sd))
        z = (x - self.mean) / self.scale
        w = torch.zeros(x.shape[1], c, dtype=x.dtype, device=x.device, requires_grad=True)
        b = torch.zeros(c, dtype=x.dtype, device=x.device, requires_grad=True)

        def objective():
            return self.loss_terms(z @ w + b, targets).mean() + 0.5 * self.weight_decay * (w * w).sum()

        self.n_iter_ = 0
        with torch.enable_grad():  # also when a caller fits inside torch.no_grad()
            self._minimise(objective, w, b)
        with torch.no_grad():
            self.loss_ = float(objective())
        self.weight, self.bias = w.detach(), b.detach()
        return self

    def _minimise(self, objective, w: torch.Tensor, b: torch.Tensor) -> None:
        if self.optimizer == "lbfgs":
            opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=self.max_iter, history_size=20,
                                    tolerance_grad=1e-7, tolerance_change=1e-10, line_search_fn="strong_wolfe")

            def closure():
                opt.zero_grad()
                j = objective()
                j.backward()
                return j
            opt.step(closure)
            self.n_iter_ = int(opt.state[w]["n_iter"])
        else:
            opt = torch.optim.Adam([w, b], lr=self.lr)
            for it in range(1, self.max_iter + 1):
                opt.zero_grad()
                objective().backward()
                opt.step()
                self.n_iter_ = it

    def decision_function(self, x) -> torch.Tensor:
        """Scores s(x) = W^T z(x) + b, (N, C)."""
        if self.weight is None:
            raise RuntimeError("fit the classifier before asking it for scores")
        x = as_features(x)
        if x.shape[1] != self.weight.shape[0]:
            raise ValueError(f"x: expected {self.weight.shape[0]} features per row (as in fit), got {x.shape[1]}")
        return ((x.to(self.mean) - self.mean) / self.scale) @ self.weight + self.bias

    def predict(self, x) -> torch.Tensor:
        """The class of highest score, argmax_c s_c(x), (N,)."""
        return self.decision_function(x).argmax(1)
