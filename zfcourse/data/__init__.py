"""Data for the course (§3): the offline embedded world, input-space preprocessing, real datasets and weights.

* The embedded world — :func:`render`, :class:`EmbeddedDataset`, :func:`probe_set`, :data:`CLASS_NAMES` — a
  procedural image generator, deterministic by (seed, index), whose annotations give the ground truth the paper's
  experiments can be checked against.
* Input space — :class:`Preprocess` (0–255 minus the per-pixel mean, §3; or torchvision's normalisation) and
  :func:`ten_crop` (the paper's ten test crops).
* Real data and weights — :mod:`zfcourse.data.real` (ImageNet folders, Imagenette/Imagewoof, CIFAR-10,
  Caltech-101/256, Oxford-IIIT Pet), :func:`pretrained` (torchvision AlexNet/VGG), and :func:`load_source`, the one
  entry point a chapter calls, which falls back to the embedded world when real data is missing.
"""
from .annotation import Annotation
from .classes import (CLASS_NAMES, CLASSES, FACE_CLASSES, NUM_CLASSES, SYMMETRIC_CLASSES, ObjectClass, class_index,
                      class_table)
from .embedded import (CROP_SIZE, VAL_OFFSET, EmbeddedDataset, embedded_mean, embedded_preprocess, prerender,
                       render_index)
from .preprocess import (IMAGENET_MEAN, IMAGENET_STD, Preprocess, centre_crop, mean_image, paper_resize,
                         resize_shortest, ten_crop, ten_crop_boxes)
from .probes import PROBE_NAMES, ProbeSet, probe_set, render_probe
from .pretrained import PRETRAINED_NAMES, pretrained
from .real import (PaperTransform, cache_dir, caltech101, caltech256, cifar10, dataset_targets, few_shot_split,
                   image_folder, imagenette, oxford_pets)
from .scenes import IMAGE_SIZE, ObjectSpec, label_of, render, render_scene
from .source import REAL_DATASETS, Source, load_source
from .show import plot_annotated, plot_ten_crops
from .families import ALL_NAMES, FAMILIES, HELDOUT_NAMES, WorldClass, world_class
from .world import WORLD_CROP, WORLD_SIZE, Placement, compose, multi_labels, render_multi
from .world import render as render_world
from .world_data import WorldDataset, world_mean, world_preprocess

__all__ = ["Annotation", "CLASS_NAMES", "CLASSES", "FACE_CLASSES", "NUM_CLASSES", "SYMMETRIC_CLASSES", "ObjectClass",
           "class_index", "class_table", "CROP_SIZE", "VAL_OFFSET", "EmbeddedDataset", "embedded_mean",
           "embedded_preprocess", "prerender", "render_index", "IMAGENET_MEAN", "IMAGENET_STD", "Preprocess",
           "centre_crop", "mean_image", "paper_resize", "resize_shortest", "ten_crop", "ten_crop_boxes",
           "PROBE_NAMES", "ProbeSet", "probe_set", "render_probe", "IMAGE_SIZE", "ObjectSpec", "label_of", "render",
           "render_scene", "PRETRAINED_NAMES", "pretrained", "PaperTransform", "cache_dir", "caltech101",
           "caltech256", "cifar10", "dataset_targets", "few_shot_split", "image_folder", "imagenette", "oxford_pets",
           "REAL_DATASETS", "Source", "load_source", "plot_annotated", "plot_ten_crops",
           # world v2 (the course model v2 is trained on it; chapters move to it with that model)
           "ALL_NAMES", "FAMILIES", "HELDOUT_NAMES", "WorldClass", "world_class", "WORLD_CROP", "WORLD_SIZE",
           "Placement", "compose", "multi_labels", "render_multi", "render_world", "WorldDataset", "world_mean",
           "world_preprocess"]
