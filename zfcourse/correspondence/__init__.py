"""Correspondence analysis of §4.3 (Fig. 8, Table 1): does masking the same part of different faces change the
features the same way?

    measure.py   the measure, top to bottom: masks → features x_i^l → Δ (Table 1's scale and the paper's literal
                 sum) → Table 1 measured, printed beside the paper's (zfcourse.paper's numbers)
    annotate.py  the ipywidgets tool that places eyes and nose on your own photos, and the JSON keypoint file it writes
    photos.py    your own photos + that file → the table's inputs (e.g. dog faces for pretrained AlexNet)
    figure.py    Fig. 8: the faces with each mask; Table 1 as bars beside the paper's
"""
from .annotate import KEYPOINTS, AnnotationTool, draw_keypoints, load_annotations, save_annotations
from .figure import plot_masks, plot_subsets, plot_table
from .measure import (LAYERS, PAPER_TABLE1, PARTS, CorrespondenceTable, as_eps, correspondence_table, delta,
                      delta_chance, delta_literal, feature_changes, hamming_counts, hamming_matrix, layer_features,
                      mask_part, mask_random, mask_squares, part_centers, random_centers, random_region,
                      square_box, subset_deltas)
from .photos import ALEXNET_LAYERS, dog_photos, keypoint_box, load_photos, photo_folder, read_folder

__all__ = ["delta", "delta_chance", "delta_literal", "hamming_counts", "hamming_matrix", "as_eps",
           "mask_squares", "mask_part", "mask_random", "part_centers", "random_centers", "random_region",
           "square_box", "subset_deltas",
           "LAYERS", "layer_features", "feature_changes", "plot_masks", "plot_subsets", "plot_table",
           "PAPER_TABLE1", "PARTS", "CorrespondenceTable", "correspondence_table",
           "KEYPOINTS", "load_annotations", "save_annotations", "load_photos", "keypoint_box", "read_folder",
           "photo_folder", "dog_photos", "ALEXNET_LAYERS", "AnnotationTool", "draw_keypoints"]
