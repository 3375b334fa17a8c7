"""Data for the course (§3): the offline embedded world, input-space preprocessing, real datasets and weights.

* The embedded world — :func:`render`, :class:`WorldDataset`, :func:`probe_set`, :data:`CLASS_NAMES` — a
  procedural image generator, deterministic by (seed, index), whose 42 pre-training classes come in families that
  share a silhouette and differ in their parts (plus 16 held-out classes for transfer, :data:`HELDOUT_NAMES`), and
  whose annotations (boxes, part boxes, keypoints, context) give the ground truth the paper's experiments can be
  checked against. :mod:`zfcourse.data.audit` measures that colour and layout alone do not solve it.
* Input space — :class:`Preprocess` (0–255 minus the per-pixel mean, §3; or torchvision's normalisation),
  :func:`world_preprocess` (the embedded world's) and :func:`ten_crop` (the paper's ten test crops).
* Real data and weights — :mod:`zfcourse.data.real` (ImageNet folders, Imagenette/Imagewoof, CIFAR-10,
  Caltech-101/256, Oxford-IIIT Pet), :func:`pretrained` (torchvision AlexNet/VGG), and :func:`load_source`, the one
  entry point a chapter calls, which falls back to the embedded world when real data is missing.
"""
from .annotation import Annotation
from .audit import (colour_histogram, context_effect, empty_scenes, linear_probe, palette_effect, part_omission,
                    predict, scale_sweep, shortcut_baselines, thumbnail)
from .families import (ALL_NAMES, CLASS_NAMES, CLASS_TABLE, FAMILIES, HELDOUT_NAMES, NUM_CLASSES, WorldClass,
                       class_index, world_class)
from .preprocess import (IMAGENET_MEAN, IMAGENET_STD, Preprocess, centre_crop, mean_image, paper_resize,
                         resize_shortest, ten_crop, ten_crop_boxes)
from .pretrained import ALEXNET_RELUS, PRETRAINED_NAMES, pretrained
from .probes import PROBE_NAMES, ProbeSet, probe_set, render_probe
from .real import (PaperTransform, cache_dir, caltech101, caltech256, cifar10, dataset_targets, few_shot_split,
                   image_folder, imagenette, oxford_pets)
from .show import plot_annotated, plot_ten_crops
from .source import REAL_DATASETS, Source, load_source, spread_subset
from .world import (CONTEXTS, PALETTES, SCALE_RANGE, WORLD_CROP, WORLD_SIZE, Placement, compose, label_of,
                    multi_labels, render, render_multi)
from .world_data import (FRONTAL_OFFSET, HELDOUT_OFFSET, SPLITS, VAL_OFFSET, WorldDataset, crop_input, stand_in_label,
                         world_index, world_mean, world_preprocess)

__all__ = ["Annotation",
           "colour_histogram", "context_effect", "empty_scenes", "linear_probe", "palette_effect", "part_omission",
           "predict", "scale_sweep", "shortcut_baselines", "thumbnail",
           "ALL_NAMES", "CLASS_NAMES", "CLASS_TABLE", "FAMILIES", "HELDOUT_NAMES", "NUM_CLASSES", "WorldClass",
           "class_index", "world_class",
           "IMAGENET_MEAN", "IMAGENET_STD", "Preprocess", "centre_crop", "mean_image", "paper_resize",
           "resize_shortest", "ten_crop", "ten_crop_boxes",
           "ALEXNET_RELUS", "PRETRAINED_NAMES", "pretrained",
           "PROBE_NAMES", "ProbeSet", "probe_set", "render_probe",
           "PaperTransform", "cache_dir", "caltech101", "caltech256", "cifar10", "dataset_targets", "few_shot_split",
           "image_folder", "imagenette", "oxford_pets",
           "plot_annotated", "plot_ten_crops",
           "REAL_DATASETS", "Source", "load_source", "spread_subset",
           "CONTEXTS", "PALETTES", "SCALE_RANGE", "WORLD_CROP", "WORLD_SIZE", "Placement", "compose", "label_of",
           "multi_labels", "render", "render_multi",
           "FRONTAL_OFFSET", "HELDOUT_OFFSET", "SPLITS", "VAL_OFFSET", "WorldDataset", "stand_in_label", "crop_input",
           "world_index",
           "world_mean", "world_preprocess"]
