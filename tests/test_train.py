"""The §3 training loop: a step lowers the loss, interrupt + resume == uninterrupted (bit for bit on CPU),
checkpoints rotate and are never overwritten by accident, bad settings get clear errors."""
import json

import pytest
import torch
from torch.utils.data import Dataset, TensorDataset

from zfcourse.models import course_model
from zfcourse.train import CheckpointError, TrainConfig, evaluate, list_snapshots, train

N, B = 48, 16


class NoisyFlips(Dataset):
    """Random images whose augmentation (flip + noise) draws from the global torch RNG, like a real training set."""

    def __init__(self, n=N, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 3, 112, 112, generator=g) * 60
        self.y = torch.randint(0, 10, (n,), generator=g)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        x = self.x[i].flip(-1) if torch.rand(()) < 0.5 else self.x[i]
        return x + torch.randn(()) , self.y[i]


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return course_model(**{"input_size": 112, **kw})


def _cfg(**kw):
    return TrainConfig(**{"epochs": 3, "batch_size": B, "progress": False, **kw})


def test_one_training_step_lowers_the_loss_on_its_batch(tmp_path):
    torch.manual_seed(0)
    batch = TensorDataset(torch.randn(B, 3, 112, 112) * 60, torch.arange(B) % 10)
    model = _model(dropout=0.0)
    before, _ = evaluate(model, batch)
    train(model, batch, None, tmp_path, _cfg(epochs=1), device="cpu")
    after, _ = evaluate(model, batch)
    assert after < before


def test_interrupt_and_resume_equals_an_uninterrupted_run_bit_for_bit(tmp_path):
    data, val = NoisyFlips(), NoisyFlips(B, seed=1)
    full = _model()
    h_full = train(full, data, val, tmp_path / "full", _cfg(), device="cpu")

    def interrupt(epoch, step):
        if (epoch, step) == (2, 2):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_model(), data, val, tmp_path / "cut", _cfg(), device="cpu", on_step=interrupt)
    # A fresh process would rebuild the model from scratch (any weights) and let the checkpoint decide.
    resumed = _model(seed=123)
    h_resumed = train(resumed, data, val, tmp_path / "cut", _cfg(), resume=True, device="cpu")
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    drop = ("seconds", "images_per_s")
    assert {k: v for k, v in h_full.items() if k not in drop} == {k: v for k, v in h_resumed.items() if k not in drop}


def test_outputs_history_snapshots_and_checkpoint_rotation(tmp_path):
    history = train(_model(), NoisyFlips(), NoisyFlips(B, seed=1), tmp_path, _cfg(snapshots=(1, 3)), device="cpu")
    names = {p.name for p in tmp_path.iterdir()}
    assert {"checkpoint.pt", "checkpoint.prev.pt", "history.json", "model.pt", "snapshots"} <= names
    on_disk = json.loads((tmp_path / "history.json").read_text())
    assert on_disk["epoch"] == [1, 2, 3] == history["epoch"]
    assert len(on_disk["filter_rms"]["conv1"]) == 3 and len(on_disk["filter_rms"]["conv1"][0]) == 24
    assert list(list_snapshots(tmp_path)) == [1, 3]
    prev = torch.load(tmp_path / "checkpoint.prev.pt", weights_only=True)
    assert prev["epoch"] == 2


def test_a_corrupt_checkpoint_is_skipped_for_the_previous_one_and_kept_when_nothing_else_is_left(tmp_path, capsys):
    data = NoisyFlips()
    train(_model(), data, None, tmp_path, _cfg(epochs=2), device="cpu")
    ckpt, prev = tmp_path / "checkpoint.pt", tmp_path / "checkpoint.prev.pt"
    good_prev = prev.read_bytes()
    truncated = ckpt.read_bytes()[:1000]
    ckpt.write_bytes(truncated)
    prev.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="^resume: no readable checkpoint .*checkpoint.pt is not a readable"):
        train(_model(), data, None, tmp_path, _cfg(epochs=3), resume=True, device="cpu")
    assert ckpt.read_bytes() == truncated and prev.read_bytes() == b"not a checkpoint"   # both left as they were
    prev.write_bytes(good_prev)                                                          # epoch 1 is readable again
    h = train(_model(), data, None, tmp_path, _cfg(epochs=3), resume=True, device="cpu")
    assert "skipped an unreadable checkpoint" in capsys.readouterr().out and h["epoch"] == [1, 2, 3]
    assert torch.load(ckpt, weights_only=True)["epoch"] == 3 and torch.load(prev, weights_only=True)["epoch"] == 2


def test_bad_settings_give_errors_that_name_the_argument(tmp_path):
    data = NoisyFlips()
    for bad, name in [({"batch_size": 0}, "batch_size"), ({"lr": -1.0}, "lr"), ({"momentum": 1.0}, "momentum"),
                      ({"clip_radius": 0.0}, "clip_radius"), ({"epochs": 0}, "epochs")]:
        with pytest.raises(ValueError, match=f"^{name}"):
            _cfg(**bad)
    with pytest.raises(ValueError, match="^batch_size: 64 is larger than the training set"):
        train(_model(), data, None, tmp_path, _cfg(batch_size=64), device="cpu")
    with pytest.raises(FileNotFoundError, match="^resume"):
        train(_model(), data, None, tmp_path, _cfg(), resume=True, device="cpu")
    train(_model(), data, None, tmp_path, _cfg(epochs=1), device="cpu")
    with pytest.raises(FileExistsError, match="^out_dir"):
        train(_model(), data, None, tmp_path, _cfg(epochs=2), device="cpu")
    with pytest.raises(ValueError, match="^config: .*lr=0.01"):
        train(_model(), data, None, tmp_path, _cfg(epochs=2, lr=0.1), resume=True, device="cpu")
    with pytest.raises(TypeError, match="^config"):
        train(_model(), data, None, tmp_path, {"epochs": 2}, device="cpu")


def test_a_kill_between_the_two_checkpoint_writes_loses_nothing(tmp_path, monkeypatch):
    """checkpoint.pt exists and is complete at every instant: kill the run after checkpoint.prev.pt was updated and
    while checkpoint.pt's replacement is half written (its temporary file stays behind, as after kill -9)."""
    import zfcourse.train.loop as loop

    data, val = NoisyFlips(), NoisyFlips(B, seed=1)
    full = _model()
    train(full, data, val, tmp_path / "full", _cfg(), device="cpu")
    real_save = loop.save_atomic

    def killed_at_epoch_3(state, path):
        if getattr(state, "get", lambda k: None)("epoch") == 3:
            (path.parent / f".{path.name}.a1b2c3.tmp").write_bytes(b"half a checkpoint")
            raise SystemExit("killed")
        return real_save(state, path)

    monkeypatch.setattr(loop, "save_atomic", killed_at_epoch_3)
    out = tmp_path / "cut"
    with pytest.raises(SystemExit):
        train(_model(), data, val, out, _cfg(), device="cpu")
    monkeypatch.undo()
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] == 2      # the last good one, in place
    assert torch.load(out / "checkpoint.prev.pt", weights_only=True)["epoch"] == 2
    assert (out / ".checkpoint.pt.a1b2c3.tmp").exists()
    with pytest.raises(FileExistsError, match="^out_dir: .*already holds a run"):     # a new run is refused
        train(_model(), data, val, out, _cfg(), device="cpu")
    resumed = _model(seed=123)
    train(resumed, data, val, out, _cfg(), resume=True, device="cpu")
    assert not list(out.glob(".*.tmp"))                                               # stale temporary removed
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_resume_takes_the_newest_complete_checkpoint_and_overwrite_starts_afresh(tmp_path, capsys):
    data = NoisyFlips()
    train(_model(), data, None, tmp_path, _cfg(epochs=2), device="cpu")
    # The state an earlier version's kill left: checkpoint.pt gone, the newest epoch under checkpoint.pt.new.
    (tmp_path / "checkpoint.pt").rename(tmp_path / "checkpoint.pt.new")
    h = train(_model(), data, None, tmp_path, _cfg(epochs=3), resume=True, device="cpu")
    assert h["epoch"] == [1, 2, 3]
    with pytest.raises(ValueError, match="^overwrite: "):
        train(_model(), data, None, tmp_path, _cfg(epochs=1), resume=True, overwrite=True, device="cpu")
    (tmp_path / "MANIFEST.sha256").write_text("")
    h = train(_model(), data, None, tmp_path, _cfg(epochs=1), overwrite=True, device="cpu")
    assert h["epoch"] == [1] and json.loads((tmp_path / "history.json").read_text())["epoch"] == [1]
    assert not (tmp_path / "checkpoint.pt.new").exists() and not (tmp_path / "MANIFEST.sha256").exists()
    assert sorted(list_snapshots(tmp_path)) == [1]


def test_a_diverging_run_stops_before_saving_nan(tmp_path):
    data = NoisyFlips()
    model = _model()
    with torch.no_grad():
        model.classifier.fc8.weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="^lr: the training loss became nan in epoch 1"):
        train(model, data, None, tmp_path, _cfg(epochs=1, clip_radius=None), device="cpu")
    assert not (tmp_path / "checkpoint.pt").exists() and not (tmp_path / "model.pt").exists()


def test_warmup_raises_the_lr_linearly_then_holds_it_and_resumes_exactly(tmp_path, monkeypatch):
    data, val = NoisyFlips(), NoisyFlips(B, seed=1)  # 3 updates per epoch
    model = _model()
    opt_lrs = []

    class Spy(torch.optim.SGD):  # records the lr each update uses
        def step(self, *a, **kw):
            opt_lrs.append(self.param_groups[0]["lr"])
            return super().step(*a, **kw)

    monkeypatch.setattr(torch.optim, "SGD", Spy)
    history = train(model, data, val, tmp_path / "w", _cfg(warmup_steps=4, lr=0.01), device="cpu")
    monkeypatch.undo()
    assert opt_lrs == pytest.approx([0.0025, 0.005, 0.0075, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])
    assert history["lr"] == [0.01, 0.01, 0.01]  # the epoch's lr, as the annealer sees it
    ckpt = torch.load(tmp_path / "w" / "checkpoint.pt", weights_only=False)
    assert ckpt["optimizer"]["param_groups"][0]["lr"] == 0.01 and ckpt["config"]["warmup_steps"] == 4

    def interrupt(epoch, step):
        if (epoch, step) == (2, 1):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # cut inside the warm-up: the resumed run redoes epoch 2's warm-up
        train(_model(), data, val, tmp_path / "cut", _cfg(warmup_steps=4), device="cpu", on_step=interrupt)
    resumed = _model(seed=5)
    train(resumed, data, val, tmp_path / "cut", _cfg(warmup_steps=4), resume=True, device="cpu")
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    with pytest.raises(ValueError, match="^warmup_steps"):
        _cfg(warmup_steps=-1)
    with pytest.raises(ValueError, match="^config: .*warmup_steps=4"):
        train(_model(), data, val, tmp_path / "cut", _cfg(epochs=4, warmup_steps=0), resume=True, device="cpu")


def test_live_units_names_a_dead_layer_and_the_history_records_them(tmp_path):
    from zfcourse.train import live_units

    model = _model()
    history = train(model, NoisyFlips(), NoisyFlips(B, seed=1), tmp_path, _cfg(epochs=1), device="cpu")
    assert set(history["live_units"]) == ({f"features.relu{i}" for i in range(1, 6)}
                                            | {"classifier.relu6", "classifier.relu7"})
    assert all(0 < v[0] <= 1 for v in history["live_units"].values())
    with torch.no_grad():  # every conv5 unit off for every input: a dead layer
        model.features.conv5.bias.fill_(-1e9)
    with live_units(model) as alive:
        evaluate(model, NoisyFlips(B, seed=2))
    shares = alive.fractions()
    assert shares["features.relu5"] == 0.0 and shares["features.relu4"] > 0
    grads = torch.autograd.grad(model(NoisyFlips(B, seed=2).x[:4]).sum(), model.features.conv4.weight,
                                allow_unused=True)[0]
    assert grads is None or torch.count_nonzero(grads) == 0  # nothing reaches below a dead layer
