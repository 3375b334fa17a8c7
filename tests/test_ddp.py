"""Data-parallel training (the torchrun path) on 2 CPU processes with gloo: the same global batch split over two ranks
follows the single-process trajectory (DDP averages the per-rank mean gradients, which is the global mean gradient),
only rank 0 writes files, and a batch that does not split evenly is refused with a clear error."""
import json
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import TensorDataset

from zfcourse.models import course_model
from zfcourse.train import TrainConfig, load_checkpoint, train
from zfcourse.train.ddp import Distributed, all_sum, shard

N, B, EPOCHS = 48, 16, 2  # 3 global steps per epoch, 8 images per rank per step


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N + 16, 3, 112, 112, generator=g) * 60  # input space: roughly ±128
    y = torch.arange(N + 16) % 10
    return TensorDataset(x[:N], y[:N]), TensorDataset(x[N:], y[N:])


def _model():
    torch.manual_seed(0)
    # no dropout: its masks are per rank, not per global batch
    return course_model(num_classes=10, dropout=0.0, input_size=112)


def _config():
    # clip_radius below some filters' init RMS: clipping acts
    return TrainConfig(epochs=EPOCHS, batch_size=B, progress=False, clip_radius=0.0105)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: str) -> None:
    """One torchrun-like process: the environment torchrun would set, then the ordinary training call."""
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    try:
        train_set, val_set = _data()
        train(_model(), train_set, val_set, out, _config(), device="cpu")
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_two_gloo_processes_match_one_process_on_the_same_global_batch(tmp_path):
    train_set, val_set = _data()
    single = _model()
    h_single = train(single, train_set, val_set, tmp_path / "single", _config(), device="cpu")

    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path / "ddp")), nprocs=2, join=True)

    state = torch.load(tmp_path / "ddp" / "model.pt", weights_only=True)
    for name, a in single.state_dict().items():
        assert torch.allclose(state[name], a, rtol=1e-4, atol=1e-6), name
    h_ddp = json.loads((tmp_path / "ddp" / "history.json").read_text())
    assert h_ddp["world_size"] == 2 and h_single["world_size"] == 1
    assert h_ddp["epoch"] == h_single["epoch"] == [1, 2]
    for key in ("train_loss", "val_loss"):
        assert h_ddp[key] == pytest.approx(h_single[key], rel=1e-4), key
    for key in ("train_acc", "val_acc", "lr", "clipped"):
        assert h_ddp[key] == h_single[key], key
    assert sum(sum(v) for v in h_single["clipped"].values()) > 0  # the radius was small enough to act
    checkpoint = load_checkpoint(tmp_path / "ddp" / "checkpoint.pt")
    assert len(checkpoint["rng"]) == 2  # each rank's generators, so a 2-process resume continues exactly
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir() if not p.name.startswith(".")) == \
        sorted(p.name for p in (tmp_path / "single").iterdir() if not p.name.startswith("."))


def test_shards_are_contiguous_equal_shares_of_the_global_batch():
    batch = list(range(8))
    assert shard(batch, Distributed(0, 2)) + shard(batch, Distributed(1, 2)) == batch
    assert shard(batch, Distributed(1, 4)) == [2, 3]
    assert shard(batch, Distributed()) == batch
    assert all_sum([1.0, 2.0], Distributed(), torch.device("cpu")) == [1.0, 2.0]
    with pytest.raises(ValueError, match="^batch_size: "):
        shard(list(range(7)), Distributed(0, 2))
