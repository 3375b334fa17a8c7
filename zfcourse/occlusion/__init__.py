"""Occlusion sensitivity (§4.2, Fig. 7): maps per occluder position, pixel heat maps, checks against ground truth,
the figure and the explorer widget."""
from .explorer import occluded_probs, occlusion_explorer
from .figure import plot_figure_7
from .maps import OcclusionMaps, occlusion_maps
from .metrics import DropShare, box_mask, drop_share, flip_share, value_at
from .pixels import to_pixels
from .projection import dataset_projections, projection_panel
from .rows import figure_7_rows

__all__ = ["occlusion_maps", "OcclusionMaps", "to_pixels", "drop_share", "DropShare", "flip_share", "box_mask",
           "plot_figure_7", "occlusion_explorer", "occluded_probs", "value_at", "projection_panel",
           "dataset_projections", "figure_7_rows"]
