"""Occlusion sensitivity (§4.2, Fig. 7): maps per occluder position — computed in full or incrementally, only where the
occluder can change each layer —, reading them against ground truth, the figure and the explorer widget; and Grad-CAM
(:func:`grad_cam`), the later answer to the same question from one backward pass."""
from .explorer import occluded_probs, occlusion_explorer
from .figure import centre_extent, dataset_projections, figure_7_rows, plot_figure_7, projection_panel
from .gradcam import grad_cam
from .incremental import (ChangedRegion, OcclusionCost, changed_regions, occlusion_cost,
                          plot_changed_regions)
from .maps import OcclusionMaps, occlusion_maps
from .metrics import DropShare, box_mask, drop_share, flip_share, to_pixels, value_at

__all__ = ["occlusion_maps", "OcclusionMaps", "occlusion_cost", "OcclusionCost", "changed_regions", "ChangedRegion",
           "plot_changed_regions", "to_pixels", "drop_share", "DropShare", "flip_share", "box_mask", "value_at",
           "figure_7_rows", "plot_figure_7", "centre_extent", "projection_panel", "dataset_projections",
           "occlusion_explorer", "occluded_probs", "grad_cam"]
