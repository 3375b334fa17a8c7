"""Occlusion sensitivity (§4.2, Fig. 7): maps per occluder position, pixel heat maps, and checks against ground truth."""
from .maps import OcclusionMaps, occlusion_maps
from .metrics import DropShare, box_mask, drop_share, flip_share
from .pixels import to_pixels

__all__ = ["occlusion_maps", "OcclusionMaps", "to_pixels", "drop_share", "DropShare", "flip_share", "box_mask"]
