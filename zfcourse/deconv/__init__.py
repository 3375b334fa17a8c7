"""The deconvnet of §2.1 (Fig. 1): one activation of a feature map projected back to pixel space.

* :func:`project` — one activation per image, down by unpool (with the switches), rectify and filter; the rules are
  parameters: ``rectify="deconv" | "backprop" | "guided"``, ``unpool="add" | "overwrite"``.
* :func:`project_many` — many (image, channel, y, x) targets at once, each in a window over its receptive field.
* The pieces, as chapter 2 takes them apart: :func:`record` (the forward pass with switches),
  :func:`pool_with_switches`, :func:`unpool`, :func:`rectify_down`, :func:`filter_down`, :func:`reverse` (the way
  down); :func:`unpooling_example` / :func:`plot_unpooling` (Fig. 1 bottom with numbers); :func:`projection_explorer`.
* Does the projection show the model? Adebayo et al.'s cascading randomisation: :func:`randomised` (a trained model
  with some layers re-drawn), :func:`cosine_similarity` and :func:`rank_correlation` (how alike two maps stay).

What the projections show across a dataset (§4: top-k, Fig. 2, Fig. 4) is in :mod:`zfcourse.features`.
"""
from .batched import project_many, reverse_windows
from .deconvnet import (RECTIFY, UNPOOL, NotInvertibleError, Trace, filter_down, last_writers, path,
                        pool_with_switches, project, record, rectify_down, reverse, seeds, unpool)
from .explorer import draw_projection, projectable_layers, projection_explorer
from .sanity import cosine_similarity, randomised, rank_correlation
from .worked import Unpooling, plot_unpooling, unpooling_example, windows_of

__all__ = ["project", "project_many", "record", "Trace", "path", "reverse", "reverse_windows", "seeds", "filter_down",
           "rectify_down", "RECTIFY", "UNPOOL", "pool_with_switches", "unpool", "last_writers", "NotInvertibleError",
           "projection_explorer", "draw_projection", "projectable_layers", "unpooling_example", "plot_unpooling",
           "Unpooling", "windows_of", "randomised", "cosine_similarity", "rank_correlation"]
