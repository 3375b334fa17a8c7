"""Feature invariance (§4, Fig. 5): translate, rescale and rotate an image on a larger canvas and measure how far the
feature vectors at the bottom and top layers move and how p(true class) changes; the population version; the
rotational-symmetry check; the figure and the explorer widget."""
from .canvas import BACKGROUNDS, CANVAS, PLAIN, population_canvases, probe_canvas
from .explorer import draw_transformed, invariance_explorer
from .figure import example_strip, plot_figure_5, plot_population
from .measure import (INPUT, KINDS, InvarianceCurves, PopulationCurves, SymmetryCheck, as_canvas, default_layers,
                      extract, measure_invariance, paper_grid, population_invariance, rotation_angles,
                      symmetry_check, transform)

__all__ = ["KINDS", "INPUT", "transform", "as_canvas", "paper_grid", "rotation_angles", "default_layers", "extract",
           "measure_invariance", "InvarianceCurves", "population_invariance", "PopulationCurves", "symmetry_check",
           "SymmetryCheck", "plot_figure_5", "plot_population", "example_strip", "invariance_explorer",
           "draw_transformed", "probe_canvas", "population_canvases", "CANVAS", "PLAIN",
           "BACKGROUNDS"]
