"""Architecture selection (§4.1, Fig. 6): dead filters, aliasing above the stride's Nyquist frequency, radial power
spectra of the first-layer filters, layer-2 response under small input shifts, the Fig. 6 side-by-side figure, and
the shipped Krizhevsky-layout baseline with the top-k errors both models are compared by."""
from .baseline import KRIZHEVSKY_ARGS, error_rates, krizhevsky_model_dir, load_krizhevsky_model
from .figure import filter_mosaic, plot_figure_6
from .measures import (DeadFilters, RadialSpectrum, ShiftSensitivity, aliasing, dead_filters, filter_power,
                       first_conv, nth_relu, radial_spectrum, shift_sensitivity)

__all__ = ["dead_filters", "DeadFilters", "aliasing", "filter_power", "radial_spectrum", "RadialSpectrum",
           "shift_sensitivity", "ShiftSensitivity", "first_conv", "nth_relu", "plot_figure_6", "filter_mosaic",
           "load_krizhevsky_model", "krizhevsky_model_dir", "KRIZHEVSKY_ARGS", "error_rates"]
