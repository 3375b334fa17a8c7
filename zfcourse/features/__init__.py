"""Feature visualisation (§4): what the maps of a trained convnet respond to, and how that develops in training.

* :func:`top_k_layers` — one streaming pass over a dataset keeping every map's k strongest activations for several
  layers (Fig. 2's "top 9"); :func:`top_k` is its one-layer case; :class:`TopK` the table.
* :func:`top_k_views` — their deconvnet projections and receptive-field patches; :func:`plot_top_k` /
  :func:`plot_figure_2` — Fig. 2's grids, each projection stretched on its own (:func:`stretch_projection`);
  :func:`channel_browser` — the same map by map, as a widget.
* :func:`landings` / :func:`describe` / :func:`landing_table` — what each top activation lands on in the embedded
  world (its drawn objects and parts), counted.
* :func:`feature_evolution` / :func:`plot_evolution` — Fig. 4, the strongest activation per map at each saved epoch;
  :func:`weight_correlation`, :func:`weight_progress`, :func:`projection_similarity`, :func:`settled_epoch`,
  :func:`plot_convergence` — when each layer settles, as numbers.
"""
from .browser import channel_browser, draw_channel
from .evolution import (Evolution, conv_weights, feature_evolution, plot_convergence, plot_evolution,
                        projection_similarity, settled_epoch, weight_correlation, weight_progress)
from .figure2 import CONTRASTS, TopKViews, plot_figure_2, plot_top_k, stretch_projection, top_k_views
from .landing import BACKGROUND, Landing, describe, landing_of, landing_table, landings, unit_centre
from .topk import TopK, batches, images_at, top_k, top_k_layers

__all__ = ["top_k", "top_k_layers", "TopK", "batches", "images_at", "top_k_views", "TopKViews", "plot_top_k",
           "plot_figure_2", "stretch_projection", "CONTRASTS", "channel_browser", "draw_channel", "landings",
           "landing_of", "landing_table", "describe",
           "unit_centre", "Landing", "BACKGROUND", "feature_evolution", "Evolution", "plot_evolution",
           "weight_correlation", "weight_progress", "projection_similarity", "settled_epoch", "plot_convergence",
           "conv_weights"]
