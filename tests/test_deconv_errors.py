"""Bad input to the deconvnet gets an error that names the argument (or the module) and says what was expected."""
import pytest
import torch
import torchvision
from torch import nn

from zfcourse.deconv import NotInvertibleError, project, project_many
from zfcourse.models import zfnet

torch.set_num_threads(1)
torch.manual_seed(0)
MODEL = zfnet(width=0.25)
X = torch.randn(2, 3, 112, 112)


def test_unknown_layer_lists_valid_names():
    with pytest.raises(KeyError, match=r"layer: no layer named 'conv9'.*features\.conv5"):
        project(MODEL, X, "conv9", 0)


def test_layer_outside_features():
    with pytest.raises(ValueError, match="layer: 'classifier.fc6' is not in model.features"):
        project(MODEL, X, "fc6", 0)


@pytest.mark.parametrize("channel, match", [(64, r"channel: 64 is out of range for features.conv5 \(64 maps: 0..63\)"),
                                            (-1, "channel: -1 is out of range"),
                                            (torch.tensor([0, 99]), "channel: 99 is out of range"),
                                            (torch.tensor([0, 1, 2]),
                                             r"channel: expected an int or an integer tensor")])
def test_channel_out_of_range(channel, match):
    with pytest.raises(ValueError, match=match):
        project(MODEL, X, "conv5", channel)


def test_channel_wrong_type():
    with pytest.raises(TypeError, match="channel: expected an int"):
        project(MODEL, X, "conv5", 1.5)


@pytest.mark.parametrize("position", [(6, 0), (0, -1), torch.tensor([[0, 0], [2, 9]])])
def test_position_outside_map(position):
    with pytest.raises(ValueError, match=r"position: \(.*\) is outside the 6×6 map of features.conv5"):
        project(MODEL, X, "conv5", 0, position)


def test_position_wrong_shape():
    with pytest.raises(ValueError, match=r"position: expected None, a \(y, x\) pair or a \(2, 2\) tensor"):
        project(MODEL, X, "conv5", 0, (1, 2, 3))


@pytest.mark.parametrize("images, error, match", [
    (torch.randn(2, 1, 112, 112), ValueError, r"images: expected a batch of RGB images .*got \(2, 1, 112, 112\)"),
    (torch.randn(3, 112, 112), ValueError, r"images\[None\]"),
    (torch.zeros(1, 3, 112, 112, dtype=torch.uint8), TypeError, "images: expected a floating-point tensor"),
    ([[0.0]], TypeError, "images: expected a torch.Tensor")])
def test_non_rgb_images(images, error, match):
    with pytest.raises(error, match=match):
        project(MODEL, images, "conv1", 0)


def test_unknown_rectify():
    with pytest.raises(ValueError, match=r"rectify: expected one of \('deconv', 'backprop', 'guided'\)"):
        project(MODEL, X, "conv1", 0, rectify="relu")


def test_batchnorm_is_named():
    model = torchvision.models.vgg11_bn(weights=None)
    with pytest.raises(NotInvertibleError, match=r"features\.1 \(BatchNorm2d\): batch normalisation"):
        project(model, torch.randn(1, 3, 32, 32), "features.4", 0)
    project(model, torch.randn(1, 3, 32, 32), "features.0", 0)  # below the BatchNorm nothing needs inverting


def test_residual_block_is_named():
    block = torchvision.models.resnet.BasicBlock(8, 8)
    model = nn.Module()
    model.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), block, nn.Conv2d(8, 8, 3))
    with pytest.raises(NotInvertibleError, match=r"features\.2 \(BasicBlock\) is a composite module"):
        project(model, torch.randn(1, 3, 32, 32), "features.3", 0)


def test_unknown_module_is_named():
    model = nn.Module()
    model.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.GELU(), nn.Conv2d(8, 8, 3))
    with pytest.raises(NotInvertibleError, match=r"features\.1 \(GELU\): no deconvnet rule"):
        project(model, torch.randn(1, 3, 16, 16), "features.2", 0)


def test_bad_targets():
    with pytest.raises(ValueError, match=r"targets: expected an integer tensor of \(image, channel, y, x\) rows"):
        project_many(MODEL, X, "conv5", torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"targets: image indices must lie in 0..1"):
        project_many(MODEL, X, "conv5", torch.tensor([[2, 0, 0, 0]]))


@pytest.mark.parametrize("images, match", [
    (torch.full((2, 3, 112, 112), float("nan")), r"images: contains NaN or inf \(in image\(s\) \[0, 1\]\)"),
    (X.clone().index_put_((torch.tensor([1]),), torch.tensor(float("inf"))), r"images: contains NaN or inf"),
    (X.double(), r"images: expected torch.float32 like the model's weights, got torch.float64"),
    (X.half(), r"images: expected torch.float32 like the model's weights, got torch.float16"),
    (X[:0], r"images: the batch is empty"),
    (X.to("meta"), r"images: on meta, but the model is on cpu")])
def test_bad_images_at_the_public_boundary(images, match):
    with pytest.raises(ValueError, match=match):
        project(MODEL, images, "conv5", 0)
    with pytest.raises(ValueError, match=match):
        project_many(MODEL, images, "conv5", torch.zeros(0, 4, dtype=torch.long))


def test_unknown_unpool_and_bad_chunk():
    with pytest.raises(ValueError, match=r"unpool: expected one of \('add', 'overwrite'\), got 'max'"):
        project(MODEL, X, "conv1", 0, unpool="max")
    with pytest.raises(ValueError, match=r"unpool: expected one of"):
        project_many(MODEL, X, "conv1", torch.tensor([[0, 0, 0, 0]]), unpool="max")
    with pytest.raises(ValueError, match="chunk: expected a positive integer, got 0"):
        project_many(MODEL, X, "conv1", torch.tensor([[0, 0, 0, 0]]), chunk=0)


@pytest.mark.parametrize("data, match", [
    (torch.full((3, 3, 112, 112), float("nan")), r"data: image 0 contains NaN or inf"),
    (X.double(), r"data: images from 0 on are torch.float64; expected torch.float32"),
    (torch.randn(4, 1, 112, 112), r"data: expected batches of RGB images \(B, 3, H, W\), got \(2, 1, 112, 112\)"),
    (X[:0], r"data: no images")])
def test_bad_data_for_top_k(data, match):
    from zfcourse.features import top_k, top_k_layers
    with pytest.raises(ValueError, match=match):
        top_k(MODEL, data, "conv1", batch_size=2, progress=False)
    with pytest.raises(ValueError, match=match):
        top_k_layers(MODEL, data, ["conv1", "relu2"], batch_size=2, progress=False)


def test_zero_batch_size_for_top_k():
    from zfcourse.features import top_k
    with pytest.raises(ValueError, match="batch_size: expected a positive integer, got 0"):
        top_k(MODEL, X, "conv1", batch_size=0, progress=False)
