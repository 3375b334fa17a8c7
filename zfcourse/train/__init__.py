"""Training by §3 of Zeiler & Fergus (2014): SGD with momentum, feature scale clipping, plateau annealing, Fig. 4
snapshots, resumable checkpoints and data-parallel runs. Command line: ``python -m zfcourse train --help``.

    loop.py        the run's settings (TrainConfig), data order, the loop, evaluation, the run folder
    schedule.py    when things happen: §3's lr annealing, Fig. 4's snapshot epochs
    clipping.py    feature scale clipping (§3, Fig. 6a)
    init.py        §3's initialisation and the scaled one the narrow course model needs
    checkpoint.py  atomic writes, safe loads (non-finite, manifest), RNG states
    snapshots.py   Fig. 4's conv snapshots
    collate.py     batching without torch's thread pool (a speed-up)
    ddp.py         several processes (torchrun)
    tencrop.py     §3's ten-crop test evaluation
    figures.py     learning curves, filters, Fig. 6a's RMS plots, Table 3's validation curves
    runs.py        finished runs on disk (the no-clipping run of Fig. 6a)
    results.py     finished runs → small result files for Tables 2 and 3 (§5.1); ``python -m zfcourse evaluate``
    cli.py         ``python -m zfcourse train``
"""
from .checkpoint import CheckpointError, check_finite, load_checkpoint, save_atomic, verify_file, write_manifest
from .clipping import PAPER_RADIUS, clip_filter_rms_, conv_layers, filter_rms, filter_rms_by_layer
from .init import scaled_init_
from .loop import TrainConfig, epoch_batches, evaluate, live_units, newest_checkpoint, train, write_json
from .schedule import FIG4_EPOCHS, PAPER_EPOCHS, plateau_annealer, snapshot_epochs
from .snapshots import list_snapshots, load_snapshot, save_snapshot
from .tencrop import ten_crop_accuracy
from .figures import dominance, plot_filter_rms, plot_filters, plot_history, plot_val_curves
from .runs import final_conv, load_history, noclip_run
from .results import (TABLE3_CHECKS, Check, Comparison, HTMLTable, Verdict, claim_verdict, compare_rows,
                      crop_softmax, ensemble_errors, ensemble_gain, evaluate_run, first_updates, load_result,
                      load_results, load_run_model, load_softmax, paired_difference, result_name, row_numbers,
                      row_of, seed_runs, seed_spread, seed_spreads, table2, table3, train_and_evaluate, train_command)

__all__ = ["TrainConfig", "train", "scaled_init_", "evaluate", "clip_filter_rms_", "filter_rms", "filter_rms_by_layer",
           "conv_layers", "PAPER_RADIUS", "plateau_annealer", "snapshot_epochs", "FIG4_EPOCHS", "PAPER_EPOCHS",
           "epoch_batches", "save_atomic", "live_units",
           "load_checkpoint", "CheckpointError", "check_finite", "verify_file", "write_manifest", "newest_checkpoint",
           "write_json", "save_snapshot", "load_snapshot", "list_snapshots", "ten_crop_accuracy", "dominance",
           "plot_filter_rms", "plot_filters", "plot_history", "plot_val_curves", "final_conv", "load_history",
           "noclip_run",
           "evaluate_run", "first_updates", "load_result", "load_results", "load_softmax", "ensemble_errors",
           "seed_spread", "crop_softmax", "load_run_model", "result_name", "row_of", "train_command",
           "train_and_evaluate",
           "HTMLTable", "paired_difference", "table2", "table3", "TABLE3_CHECKS", "Check", "Comparison", "compare_rows",
           "ensemble_gain", "claim_verdict", "Verdict", "row_numbers", "seed_runs", "seed_spreads"]
