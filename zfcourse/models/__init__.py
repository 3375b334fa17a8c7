"""Models of §2/§4.1 (ZFNet, the Krizhevsky baseline, the course model) and tools to inspect them."""
from .layers import layer, layer_names, resolve
from .activations import activations
from .summary import LayerGeometry, crop, geometry, layer_geometry, receptive_box, size_arithmetic, summary
from .zfnet import KRIZHEVSKY_CONVS, ZF_CONVS, ZFNet, course_model, krizhevsky, zfnet
from .ablation import TABLE3_ROWS, Table3Row, ablated, table3_configs

__all__ = ["ZFNet", "ZF_CONVS", "KRIZHEVSKY_CONVS", "zfnet", "krizhevsky", "course_model", "layer", "layer_names",
           "resolve", "summary", "geometry", "receptive_box", "layer_geometry", "crop", "LayerGeometry",
           "size_arithmetic", "activations", "ablated", "table3_configs", "TABLE3_ROWS", "Table3Row"]
