"""The deconvnet of §2.1 (Fig. 1) and the top-k visualisation of §4 (Fig. 2).

* :func:`project` — one activation per image back to pixel space (unpool with switches, rectify, filter);
  :func:`project_many` — many (image, channel, y, x) targets at once, batched.
* :func:`top_k` — one streaming pass over a dataset keeping every map's k strongest activations;
  :func:`top_k_views` — their projections and receptive-field patches; :func:`plot_top_k` / :func:`plot_figure_2` — the grids.
* The pieces, for the chapter: :func:`record` (forward pass with switches), :func:`pool_with_switches`, :func:`unpool`,
  :func:`reverse` (the way down), :func:`crop` (receptive-field patches).
"""
from .grid import plot_figure_2, plot_top_k, show_image, show_projection
from .many import project_many
from .patches import crop, layer_geometry
from .project import project
from .reverse import RECTIFY, filter_down, rectify_down, reverse
from .topk import TopK, top_k, trunk
from .trace import NotInvertibleError, Trace, path, record
from .unpool import pool_with_switches, unpool
from .views import TopKViews, top_k_views

__all__ = ["project", "project_many", "top_k", "top_k_views", "TopK", "TopKViews", "plot_top_k", "plot_figure_2",
           "show_projection", "show_image", "record", "Trace", "path", "reverse", "filter_down", "rectify_down",
           "RECTIFY", "pool_with_switches", "unpool", "crop", "layer_geometry", "trunk", "NotInvertibleError"]
