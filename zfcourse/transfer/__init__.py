"""Transfer of frozen features and the measurements of §5 (Zeiler & Fergus 2014, Tables 2–7, Fig. 9).

* Features — :func:`extract_features` / :func:`extract_layers` read a trained network at any layer (conv maps pooled
  globally, to a grid, or flattened), :func:`paper_layers` says which module is "layer l".
* Splits — :func:`few_shot_splits` / :func:`few_shot_grid` (n images per class, several random splits, train and test
  disjoint), :func:`holdout_splits` (multi-object sets), :func:`assert_disjoint` (also for held-out classes vs the
  pre-training labels).
* Classifiers on frozen features — :class:`SoftmaxClassifier` (§5.2) and :class:`LinearSVM` (one-vs-rest squared
  hinge, §5.3), fitted full-batch and deterministically; :func:`probe_splits` / :func:`few_shot_curve` /
  :func:`probe_layers` give mean ± sd per-class accuracy over splits (Tables 4, 5, 7, Fig. 9);
  :func:`average_precision` / :func:`mean_average_precision` / :func:`probe_average_precision` score multi-object
  sets VOC-style (Table 6).
* From scratch (§5.2's second strategy) — :func:`scratch_curve` / :func:`scratch_splits` train the whole network on
  each split's few images by one fixed :class:`ScratchRecipe`, scored like the probes; results cached in a small file.
* The overlap control of §5.2 — :func:`find_overlaps` (normalised correlation, top matches, threshold),
  :func:`grey_thumbnails` (the pixel descriptor of an image or of a re-sized / cropped copy), :func:`search_copies`
  (the threshold from a clean set, the search counted against known copies) and :func:`overlap_effect` (transfer
  with and without the overlap images in pre-training).
* Pictures — :func:`plot_few_shot` (Fig. 9's axes) and :func:`plot_layers` (Table 7 as curves).
* Averaging — :func:`average_softmax`, :func:`ten_crop_softmax`, :func:`ensemble_softmax`, :func:`top_k_error`
  (§3's ten crops and Table 2's model ensembles).
* :func:`compare_table` — measured rows beside the paper's.
"""
from .average_precision import average_precision, mean_average_precision
from .averaging import average_softmax, ensemble_softmax, ten_crop_softmax, top_k_error
from .evaluate import (ProbeResult, few_shot_curve, mean_per_class_accuracy, mean_sd, per_class_accuracy,
                       probe_average_precision, probe_layers, probe_splits)
from .features import POOLS, extract_features, extract_layers, paper_layers, pool_maps
from .linear import LinearProbe
from .overlap import (CopySearch, Overlaps, find_overlaps, grey_thumbnails, normalised_correlation, overlap_effect,
                      search_copies, thumbnails)
from .plots import plot_few_shot, plot_layers
from .scratch import ScratchRecipe, ScratchResult, scratch_curve, scratch_splits, train_from_scratch
from .softmax import SoftmaxClassifier
from .splits import PAPER_SHOTS, Split, assert_disjoint, check_split, few_shot_grid, few_shot_splits, holdout_splits
from .svm import LinearSVM
from .tables import ComparisonTable, compare_table, format_value

__all__ = ["extract_features", "extract_layers", "paper_layers", "pool_maps", "POOLS",
           "few_shot_splits", "few_shot_grid", "holdout_splits", "check_split", "assert_disjoint", "Split",
           "PAPER_SHOTS",
           "LinearProbe", "SoftmaxClassifier", "LinearSVM", "probe_splits", "few_shot_curve", "probe_layers",
           "probe_average_precision", "ProbeResult",
           "per_class_accuracy", "mean_per_class_accuracy", "mean_sd", "average_precision", "mean_average_precision",
           "find_overlaps", "normalised_correlation", "thumbnails", "Overlaps", "overlap_effect",
           "grey_thumbnails", "search_copies", "CopySearch",
           "ScratchRecipe", "ScratchResult", "scratch_curve", "scratch_splits", "train_from_scratch",
           "plot_few_shot", "plot_layers",
           "average_softmax", "ten_crop_softmax", "ensemble_softmax", "top_k_error",
           "compare_table", "ComparisonTable", "format_value"]
