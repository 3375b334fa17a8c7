"""Occlusion sensitivity (§4.2, Fig. 7): maps per occluder position, pixel heat maps, checks against ground truth,
the figure and the explorer widget."""
from .explorer import occluded_probs, occlusion_explorer
from .figure import plot_figure_7
from .maps import OcclusionMaps, occlusion_maps
from .metrics import DropShare, box_mask, drop_share, flip_share
from .pixels import to_pixels

__all__ = ["occlusion_maps", "OcclusionMaps", "to_pixels", "drop_share", "DropShare", "flip_share", "box_mask",
           "plot_figure_7", "occlusion_explorer", "occluded_probs"]
