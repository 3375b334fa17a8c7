"""Checkpoint files: atomic writes, safe loads, clear errors for corrupt files, and exact RNG round trips."""
import random

import numpy as np
import pytest
import torch

from zfcourse.train import CheckpointError, load_checkpoint, save_atomic
from zfcourse.train.checkpoint import rng_state, set_rng_state


def test_save_and_load_round_trip(tmp_path):
    obj = {"w": torch.arange(6.0).view(2, 3), "epoch": 3, "history": {"lr": [0.01, 0.001]}}
    save_atomic(obj, tmp_path / "c.pt")
    back = load_checkpoint(tmp_path / "c.pt", required=("w", "epoch"))
    assert torch.equal(back["w"], obj["w"]) and back["epoch"] == 3 and back["history"] == obj["history"]
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temp file left behind


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_checkpoint_gives_a_clear_error_and_is_left_alone(tmp_path, damage):
    path = tmp_path / "c.pt"
    save_atomic({"w": torch.randn(100, 100)}, path)
    data = path.read_bytes()
    damaged = {"truncate": data[: len(data) // 2], "garbage": b"not a checkpoint" * 10, "empty": b""}[damage]
    path.write_bytes(damaged)
    with pytest.raises(CheckpointError, match="^path: .*c.pt is not a readable checkpoint"):
        load_checkpoint(path)
    assert path.read_bytes() == damaged


def test_missing_file_and_missing_keys(tmp_path):
    with pytest.raises(FileNotFoundError, match="^path"):
        load_checkpoint(tmp_path / "nope.pt")
    save_atomic({"a": 1}, tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match="lacks"):
        load_checkpoint(tmp_path / "c.pt", required=("a", "model"))


def test_a_crash_while_writing_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    save_atomic({"epoch": 1}, path)

    def crash(obj, f, *a, **k):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_atomic({"epoch": 2}, path)
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_rng_state_round_trips_through_a_weights_only_file(tmp_path):
    save_atomic({"rng": rng_state()}, tmp_path / "r.pt")
    first = (random.random(), np.random.rand(), np.random.randn(), torch.rand(3))
    set_rng_state(load_checkpoint(tmp_path / "r.pt")["rng"])
    again = (random.random(), np.random.rand(), np.random.randn(), torch.rand(3))
    assert first[:3] == again[:3] and torch.equal(first[3], again[3])
