"""The ZF network of Fig. 3 (Zeiler & Fergus 2014, §2 and §4.1) and its relatives.

One class covers the three models the course uses, because they share the paper's eight-layer pattern
(five conv layers, three fully connected) and differ only in conv1/conv2 geometry, width and input size:

* :func:`zfnet` — Fig. 3 exactly: conv1 7×7/2, conv2 5×5/2, 224×224 input, 62,357,608 parameters for 1000 classes.
* :func:`krizhevsky` — the dense single-tower Krizhevsky et al. (2012) baseline of §4.1: conv1 11×11/4, conv2 5×5/1.
* :func:`course_model` — Fig. 3 at a quarter of the width on 168×168 input, small enough to train on a CPU (the
  ``embedded`` data source ships one trained this way).

Layers are named like torchvision's (``features`` then ``classifier``) so the course's tools also work on torchvision
AlexNet/VGG, whose layers are addressed by index.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

# (out_channels, kernel, stride, padding) of conv1..conv5 in Fig. 3. The paper gives no paddings; these are the ones
# that reproduce the figure's spatial sizes 110, 55, 26, 13, 13, 13, 13, 6 (with ceil-mode pooling).
ZF_CONVS = ((96, 7, 2, 1), (256, 5, 2, 0), (384, 3, 1, 1), (384, 3, 1, 1), (256, 3, 1, 1))
# Krizhevsky et al. (2012) as a single dense tower, as §4.1 compares against: 11×11/4 then 5×5/1.
KRIZHEVSKY_CONVS = ((96, 11, 4, 2), (256, 5, 1, 2), (384, 3, 1, 1), (384, 3, 1, 1), (256, 3, 1, 1))
FC_UNITS = 4096


def _lrn() -> nn.LocalResponseNorm:
    # The paper says only "contrast normalization across feature maps"; these are Krizhevsky et al.'s values.
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)


def _pool() -> nn.MaxPool2d:
    # 3×3 windows, stride 2: overlapping pooling. ceil_mode makes 110 → 55 and 26 → 13 as in Fig. 3.
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


class ZFNet(nn.Module):
    """Eight-layer convnet of Fig. 3: five conv layers then three fully connected ones.

    ``features`` (conv1 → relu1 → pool1 → norm1 → conv2 → relu2 → pool2 → norm2 → conv3 → relu3 → conv4 → relu4
    → conv5 → relu5 → pool5) maps a (B, 3, S, S) image to (B, C5, s, s); ``classifier`` (drop6 → fc6 → relu6 → drop7
    → fc7 → relu7 → fc8) maps the flattened result to class scores. The softmax is left to the loss.

    Initialisation follows §3: every weight w ~ N(0, 0.01²), every bias 0.

    Args:
        num_classes: size of the last layer (1000 for ImageNet).
        convs: five (out_channels, kernel, stride, padding) tuples for conv1..conv5.
        fc_units: width of fc6 and fc7.
        input_size: the side S of the square input the model accepts; checked on every forward pass.
        dropout: dropout probability before fc6 and fc7 (0.5 in §3).

    Example:
        >>> model = zfnet()
        >>> model(torch.zeros(1, 3, 224, 224)).shape
        torch.Size([1, 1000])
    """

    def __init__(self, num_classes: int = 1000, convs=ZF_CONVS, fc_units: int = FC_UNITS, input_size: int = 224,
                 dropout: float = 0.5):
        super().__init__()
        if len(convs) != 5:
            raise ValueError(f"convs: expected 5 (out_channels, kernel, stride, padding) tuples, got {len(convs)}")
        if num_classes < 1:
            raise ValueError(f"num_classes: expected a positive integer, got {num_classes}")
        self.input_size = input_size
        layers, in_ch = [], 3
        for i, (out_ch, k, s, p) in enumerate(convs, start=1):
            layers += [(f"conv{i}", nn.Conv2d(in_ch, out_ch, k, s, p)), (f"relu{i}", nn.ReLU(inplace=True))]
            if i in (1, 2):
                layers += [(f"pool{i}", _pool()), (f"norm{i}", _lrn())]
            if i == 5:
                layers += [("pool5", _pool())]
            in_ch = out_ch
        self.features = nn.Sequential(OrderedDict(layers))
        with torch.no_grad():
            side = self.features(torch.zeros(1, 3, input_size, input_size)).shape[-1]
        if side < 1:
            raise ValueError(f"input_size: {input_size} is too small for these convs (conv5 output vanishes)")
        self.classifier = nn.Sequential(OrderedDict([
            ("drop6", nn.Dropout(dropout)), ("fc6", nn.Linear(in_ch * side * side, fc_units)),
            ("relu6", nn.ReLU(inplace=True)),
            ("drop7", nn.Dropout(dropout)), ("fc7", nn.Linear(fc_units, fc_units)), ("relu7", nn.ReLU(inplace=True)),
            ("fc8", nn.Linear(fc_units, num_classes)),
        ]))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """§3 initialisation: weights drawn from N(0, 0.01²), biases set to 0."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.zeros_(m.bias)

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a ValueError naming the expected (B, 3, S, S) shape when ``x`` does not have it."""
        s = self.input_size
        if x.dim() != 4 or x.shape[1] != 3 or x.shape[2] != s or x.shape[3] != s:
            raise ValueError(f"x: expected a batch of RGB images of shape (B, 3, {s}, {s}), got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores f(x) = classifier(flatten(features(x))) for a (B, 3, S, S) batch."""
        self.check_input(x)
        return self.classifier(torch.flatten(self.features(x), 1))


def _scaled(convs, width: float):
    if width <= 0:
        raise ValueError(f"width: expected a positive multiplier, got {width}")
    return tuple((max(1, round(c * width)), k, s, p) for c, k, s, p in convs)


def zfnet(num_classes: int = 1000, width: float = 1.0, **kw) -> ZFNet:
    """The model of Fig. 3 (§2, §4.1). ``width`` scales every layer's number of maps/units (1.0 = the paper).

    With ``num_classes=1000, width=1.0`` it has 62,357,608 parameters and its conv/pool outputs are
    110, 55, 26, 13, 13, 13, 13, 6 pixels on a side, as in the figure.
    """
    kw.setdefault("fc_units", max(1, round(FC_UNITS * width)))
    return ZFNet(num_classes, convs=_scaled(ZF_CONVS, width), **kw)


def krizhevsky(num_classes: int = 1000, width: float = 1.0, **kw) -> ZFNet:
    """The dense Krizhevsky et al. (2012) baseline of §4.1: conv1 11×11 stride 4, conv2 5×5 stride 1.

    Spatial sizes on 224×224 input: 55, 27, 27, 13, 13, 13, 13, 6. The paper's §4.1 argues the large first-layer
    stride aliases and leaves "dead" filters (Fig. 6b/d), which ZF's 7×7/2 and stride-2 conv2 fix.
    """
    kw.setdefault("fc_units", max(1, round(FC_UNITS * width)))
    return ZFNet(num_classes, convs=_scaled(KRIZHEVSKY_CONVS, width), **kw)


# The course model: Fig. 3's layer pattern and strides at a quarter of the width (24, 64, 96, 96, 64 maps; fc 512) on
# 168×168 crops of the embedded world's 192×192 renders (the paper's 224 of 256, × 0.75). Spatial sizes 82, 41, 19, 9,
# 9, 9, 9, 4: conv3–5 maps are 9×9 (paper 13×13) and a conv5 unit sees 139 px, 0.83 of the input (paper 0.62).
# 1,044,810 parameters for the world's 42 classes and about 54 M multiply-adds per image (ZFNet: 1.17 G, 22× more),
# so a full training run on the embedded world fits in about two hours of a 2-core CPU.
COURSE_WIDTH, COURSE_FC_UNITS, COURSE_INPUT_SIZE, COURSE_CLASSES = 0.25, 512, 168, 42


def course_model(num_classes: int = COURSE_CLASSES, **kw) -> ZFNet:
    """The small ZFNet the ``embedded`` source trains and ships: Fig. 3 at width 0.25, fc 512, 168×168 input (§2),
    for the embedded world's 42 classes.

    Example:
        >>> course_model()(torch.zeros(1, 3, 168, 168)).shape
        torch.Size([1, 42])
    """
    kw.setdefault("fc_units", COURSE_FC_UNITS)
    kw.setdefault("input_size", COURSE_INPUT_SIZE)
    return zfnet(num_classes, width=COURSE_WIDTH, **kw)
