"""Correspondence analysis of §4.3 (Fig. 8, Table 1): does masking the same part of different faces change the
features the same way? The Δ measure, the masks, the features read, the table, and an annotation tool for own images.

    delta.py        Δ (normalised, Table 1's scale) and the paper's literal sum
    masks.py        squares centred on keypoints, random places on the object
    features.py     which tensors "layer 5" and "layer 7" are (relu5, relu7) and reading them
    table.py        Table 1 measured, printed beside the paper's
    figure.py       Fig. 8: the faces with each mask; Table 1 as bars beside the paper's
    annotations.py  the JSON keypoint file;  annotate.py  the ipywidgets tool that writes it
    photos.py       own photos + that file → the table's inputs (e.g. dogs for pretrained AlexNet)
"""
from .annotate import AnnotationTool, draw_keypoints
from .annotations import KEYPOINTS, load_annotations, save_annotations
from .delta import as_eps, delta, delta_chance, delta_literal, hamming_counts, hamming_matrix
from .figure import plot_masks, plot_table
from .features import LAYERS, feature_changes, layer_features
from .masks import mask_part, mask_random, mask_squares, part_centers, random_centers, square_box
from .photos import ALEXNET_LAYERS, dog_photos, keypoint_box, load_photos, photo_folder, read_folder
from .table import PAPER_TABLE1, PARTS, CorrespondenceTable, correspondence_table

__all__ = ["delta", "delta_chance", "delta_literal", "hamming_counts", "hamming_matrix", "as_eps",
           "mask_squares", "mask_part", "mask_random", "part_centers", "random_centers", "square_box",
           "LAYERS", "layer_features", "feature_changes", "plot_masks", "plot_table",
           "PAPER_TABLE1", "PARTS", "CorrespondenceTable", "correspondence_table",
           "KEYPOINTS", "load_annotations", "save_annotations", "load_photos", "keypoint_box", "read_folder",
           "photo_folder", "dog_photos", "ALEXNET_LAYERS", "AnnotationTool", "draw_keypoints"]
