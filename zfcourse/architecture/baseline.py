"""The §4.1 baseline beside the course model: the shipped Krizhevsky-layout model and the errors both are compared by.

§4.1 compares Krizhevsky et al.'s first layers (conv1 11×11 stride 4, conv2 5×5 stride 1) with the ZF model's
(7×7 stride 2, conv2 stride 2) and §5.1 (Table 2) their ImageNet errors. The course ships one model of each layout,
trained on the same world with the same recipe and seed; this file loads the baseline and measures the top-k error
of either on a dataset.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ..environment import DataNotFoundError, data_dir, missing_data_message
from ..models import krizhevsky
from ..train.checkpoint import load_checkpoint

#: The shipped baseline's build arguments (its model card): the course model's width, fc size, input and classes.
KRIZHEVSKY_ARGS = {"num_classes": 42, "width": 0.25, "fc_units": 512, "input_size": 168}


def krizhevsky_model_dir(cfg=None) -> Path:
    """The folder holding the shipped Krizhevsky-layout model: ``cfg.data_dir/krizhevsky_model`` (default: the
    course's data folder that :func:`zfcourse.environment.data_dir` finds)."""
    return (Path(cfg.data_dir) if cfg is not None else data_dir()) / "krizhevsky_model"


def load_krizhevsky_model(cfg=None, path=None) -> nn.Module:
    """The trained Krizhevsky-layout model of §4.1 at the course model's size, in eval mode on ``cfg.device``:
    ``zfcourse.models.krizhevsky(num_classes=42, width=0.25, fc_units=512, input_size=168)`` with the shipped weights.

    Args:
        cfg: the :class:`zfcourse.environment.Config` from ``zfcourse.setup()`` (its ``data_dir`` and ``device``).
        path: a ``model.pt`` or a folder holding one; default the shipped model.

    Raises:
        DataNotFoundError: the shipped model is not found (the message says where it looked and what to do).
        FileNotFoundError: ``path`` holds no model.pt.
        ValueError: the file does not hold this layout's weights.

    Example:
        >>> model = load_krizhevsky_model()
        >>> model.features.conv1.kernel_size, model.features.conv1.stride, model(torch.zeros(1, 3, 168, 168)).shape
        ((11, 11), (4, 4), torch.Size([1, 42]))
    """
    device = torch.device(cfg.device) if cfg is not None else torch.device("cpu")
    if path is not None:
        file = Path(path) / "model.pt" if Path(path).is_dir() else Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"path: no model.pt at {path}")
    else:
        file = krizhevsky_model_dir(cfg) / "model.pt"
        if not file.is_file():
            raise DataNotFoundError(missing_data_message("the Krizhevsky-layout model (krizhevsky_model)",
                                                        missing="krizhevsky_model/model.pt"))
    model = krizhevsky(**KRIZHEVSKY_ARGS)
    state = load_checkpoint(file)  # weights_only; manifest, truncation and non-finite values checked
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()})
    except (RuntimeError, AttributeError) as err:
        raise ValueError(f"path: {file} does not hold the Krizhevsky-layout weights "
                         f"({str(err).splitlines()[0]})") from err
    return model.to(device).eval()


@torch.no_grad()
def error_rates(model: nn.Module, data, ks=(1, 5), batch_size: int = 128, progress: bool = True) -> dict[int, float]:
    """Top-k classification error of ``model`` on ``data`` (§5.1, Table 2's "top-1" and "top-5"), in eval mode:

        err_k = (1/N) Σ_i [ y_i ∉ the k highest-scoring classes of f(x_i) ].

    Args:
        data: a Dataset of (image, label) items in input space (e.g. ``WorldDataset("val", …)``).
        ks: the k's, positive integers no larger than the number of classes.

    Returns:
        {k: error in [0, 1]}.

    Example:
        >>> from zfcourse.models import course_model
        >>> data = [(torch.zeros(3, 168, 168), c) for c in range(42)]
        >>> errs = error_rates(course_model(), data, ks=(1, 42), progress=False)
        >>> round(errs[1], 3), errs[42]
        (0.976, 0.0)
    """
    ks = [int(k) for k in ks]
    if not ks or any(k < 1 for k in ks):
        raise ValueError(f"ks: expected positive integers, got {ks}")
    if data is None or len(data) == 0:
        raise ValueError("data: expected a non-empty dataset of (image, label) items")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    wrong = torch.zeros(len(ks))
    try:
        for b in tqdm(range(0, len(data), batch_size), desc="error rates", disable=not progress, leave=False):
            items = [data[i] for i in range(b, min(b + batch_size, len(data)))]
            x = torch.stack([x for x, _ in items]).to(device)
            y = torch.as_tensor([int(y) for _, y in items], device=device)
            scores = model(x).float()
            if max(ks) > scores.shape[1]:
                raise ValueError(f"ks: expected k ≤ {scores.shape[1]} (the number of classes), got {max(ks)}")
            ranked = scores.topk(max(ks), dim=1).indices
            for j, k in enumerate(ks):
                wrong[j] += float((ranked[:, :k] != y[:, None]).all(1).sum())
    finally:
        model.train(was_training)
    return {k: float(w) / len(data) for k, w in zip(ks, wrong)}
