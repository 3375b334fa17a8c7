"""Training by §3 of Zeiler & Fergus (2014): SGD with momentum, feature scale clipping, plateau annealing, Fig. 4
snapshots, resumable checkpoints and data-parallel runs. Command line: ``python -m zfcourse train --help``."""
from .checkpoint import CheckpointError, load_checkpoint, save_atomic
from .clipping import PAPER_RADIUS, clip_filter_rms_, conv_layers, filter_rms, filter_rms_by_layer
from .config import TrainConfig
from .init import scaled_init_
from .loop import evaluate, train
from .order import epoch_batches
from .schedule import plateau_annealer, snapshot_epochs
from .snapshots import list_snapshots, load_snapshot, save_snapshot

__all__ = ["TrainConfig", "train", "scaled_init_", "evaluate", "clip_filter_rms_", "filter_rms", "filter_rms_by_layer", "conv_layers",
           "PAPER_RADIUS", "plateau_annealer", "snapshot_epochs", "epoch_batches", "save_atomic", "load_checkpoint",
           "CheckpointError", "save_snapshot", "load_snapshot", "list_snapshots"]
