"""Occlusion sensitivity (§4.2): the maps agree with Captum, with a direct computation, and with ground truth."""
import pytest
import torch
from torch import nn

from zfcourse.models import course_model
from zfcourse.occlusion import OcclusionMaps, drop_share, flip_share, occlusion_maps, to_pixels, value_at

torch.set_num_threads(2)


def lively_model(seed=0):
    """course_model with PyTorch's default init: §3's N(0, 0.01²) gives near-uniform softmax outputs, useless for
    checking probabilities."""
    torch.manual_seed(seed)
    model = course_model(num_classes=10, input_size=112).eval()  # any small model will do
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            type(m).reset_parameters(m)
    model.classifier.fc8.weight.data *= 20  # a peaked softmax, so occluders move the probabilities visibly
    return model


@pytest.fixture(scope="module")
def model():
    return lively_model()


@pytest.fixture(scope="module")
def image():
    return 60 * torch.randn(3, 112, 112, generator=torch.Generator().manual_seed(1))


def test_matches_captum_with_non_overlapping_windows(model, image):
    from captum.attr import Occlusion
    fill = torch.tensor([10.0, -20.0, 5.0])
    maps = occlusion_maps(model, image, target=2, size=16, stride=16, fill=fill)
    attr = Occlusion(lambda x: model(x).softmax(-1)).attribute(
        image[None], sliding_window_shapes=(3, 16, 16), strides=(3, 16, 16), baselines=fill[:, None, None], target=2,
        perturbations_per_eval=64)
    # With stride == size each pixel lies in exactly one window, so Captum's attribution there is p(x) − p(x̃).
    per_window = attr[0, 0, maps.ys][:, maps.xs]
    assert maps.prob.shape == (7, 7)
    assert (maps.prob - maps.unoccluded_prob).abs().max() > 1e-3  # the check below is not vacuous
    torch.testing.assert_close(maps.prob, maps.unoccluded_prob - per_window, atol=1e-5, rtol=0)


def test_occluder_over_ignored_pixels_changes_nothing(model, image):
    class LeftHalf(nn.Module):  # a model that never looks at the right half of its input
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(torch.cat([x[..., :56], torch.zeros_like(x[..., 56:])], -1))

    wrapper = LeftHalf(model)
    with pytest.warns(UserWarning, match="method='full'"):  # no `features` to recompute in windows
        maps = occlusion_maps(wrapper, image, target=0, size=16, stride=8)
    assert wrapper.training and not model.training  # each module's own mode is restored
    right = maps.xs >= 56
    torch.testing.assert_close(maps.prob[:, right], torch.full_like(maps.prob[:, right], maps.unoccluded_prob))
    assert (maps.label[:, right] == maps.unoccluded_label).all()
    assert (maps.prob[:, ~right] - maps.unoccluded_prob).abs().max() > 1e-3


def test_batch_size_does_not_change_the_result(model, image):
    a = occlusion_maps(model, image, 1, size=24, stride=11, batch_size=64)
    for bs in (1, 7):
        b = occlusion_maps(model, image, 1, size=24, stride=11, batch_size=bs)
        torch.testing.assert_close(a.prob, b.prob, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(a.activation, b.activation, atol=1e-4, rtol=1e-5)
        assert torch.equal(a.label, b.label) and a.feature_map == b.feature_map


def test_activation_and_label_match_a_direct_computation(model, image):
    maps = occlusion_maps(model, image, 4, size=32, stride=16, fill=3.0, layer="relu5")
    conv5 = model.features[:list(model.features._modules).index("relu5") + 1]  # conv1 … relu5
    k = int(conv5(image[None])[0].sum((-2, -1)).argmax())
    assert maps.feature_map == k
    for i, y in enumerate(maps.ys.tolist()):
        for j, x in enumerate(maps.xs.tolist()):
            occluded = image.clone()
            occluded[:, y:y + 32, x:x + 32] = 3.0
            with torch.no_grad():
                expected = conv5(occluded[None])[0, k].sum()
                logits = model(occluded[None])[0]
            torch.testing.assert_close(maps.activation[i, j], expected, rtol=1e-4, atol=1e-3)
            torch.testing.assert_close(maps.prob[i, j], logits.softmax(-1)[4], rtol=1e-4, atol=1e-6)
            assert maps.label[i, j] == logits.argmax()


def test_positions_feature_map_choice_and_training_mode(model, image):
    model.train()
    maps = occlusion_maps(model, image, 0, size=30, stride=20, feature_map=5)
    assert model.training
    model.eval()
    assert maps.ys.tolist() == maps.xs.tolist() == [0, 20, 40, 60, 80]  # ≤ 112 − 30 = 82
    assert maps.feature_map == 5 and maps.layer == "features.conv5"
    assert occlusion_maps(model, image, 0, size=30, stride=20, layer=None).activation is None


@pytest.mark.parametrize("kwargs, name", [
    (dict(size=113), "size"), (dict(size=0), "size"), (dict(stride=0), "stride"), (dict(target=10), "target"),
    (dict(target=-1), "target"), (dict(image=torch.zeros(1, 3, 112, 112)), "image"),
    (dict(image=torch.zeros(3, 100, 100)), "image"), (dict(fill=torch.zeros(2)), "fill"),
    (dict(batch_size=0), "batch_size"), (dict(feature_map=999), "feature_map"),
    (dict(image=torch.full((3, 112, 112), float("nan"))), "image"),
    (dict(image=torch.zeros(3, 112, 112).index_fill_(1, torch.tensor([5]), float("inf"))), "image"),
    (dict(image=torch.zeros(3, 112, 112, dtype=torch.uint8)), "image"), (dict(image=torch.zeros(3, 0, 0)), "image"),
    (dict(fill=float("nan")), "fill"), (dict(method="fast"), "method")])
def test_bad_input_names_the_argument(model, kwargs, name):
    args = dict(image=torch.zeros(3, 112, 112), target=0, size=16, stride=8) | kwargs
    with pytest.raises(ValueError, match=f"^{name}:"):
        occlusion_maps(model, **args)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_other_float_images_are_cast_to_the_model(model, image, dtype):
    ref = occlusion_maps(model, image, 3, size=32, stride=40)
    maps = occlusion_maps(model, image.to(dtype), 3, size=32, stride=40)
    assert maps.prob.dtype == torch.float32
    tol = 1e-5 if dtype == torch.float64 else 2e-2  # float16 rounds the image itself
    torch.testing.assert_close(maps.prob, ref.prob, atol=tol, rtol=tol)


def test_bad_layer_lists_valid_names(model):
    with pytest.raises(KeyError, match="valid names"):
        occlusion_maps(model, torch.zeros(3, 112, 112), 0, 16, 8, layer="conv9")


def fake_maps(prob, size, stride, shape, label=None):
    n = torch.arange(prob.shape[0]) * stride
    return OcclusionMaps(prob, label if label is not None else torch.zeros(prob.shape, dtype=torch.long), None, None,
                         n, torch.arange(prob.shape[1]) * stride, 1.0, 0, None, 0, size, stride, None, shape)


def test_to_pixels_averages_covering_occluders():
    values = torch.arange(9.0).reshape(3, 3)
    tiled = to_pixels(values, fake_maps(values, 4, 4, (12, 12)))
    torch.testing.assert_close(tiled, torch.kron(values, torch.ones(4, 4)))  # stride == size: each pixel one window
    half = to_pixels(values, fake_maps(values, 4, 2, (9, 9)))  # windows at 0, 2, 4 cover pixels 0..7; pixel 8 by none
    assert half[0, 0] == 0 and half[2, 2] == (0 + 1 + 3 + 4) / 4 and half[:, 8].isnan().all()


def test_drop_share_and_flip_share_on_known_maps():
    prob = torch.ones(3, 3)
    prob[1, 2] = 0.4  # the only drop: occluder at y = 4, x = 8 (size 4 on a 12×12 image)
    label = torch.zeros(3, 3, dtype=torch.long)
    label[1, 2] = 7
    maps = fake_maps(prob, 4, 4, (12, 12), label)
    assert drop_share(maps, (8, 4, 12, 8)) == pytest.approx((1.0, 16 / 144))
    assert drop_share(maps, (0, 0, 8, 12)).inside == 0.0
    assert flip_share(maps, 7) == pytest.approx(1 / 9)
    assert flip_share(maps, 7, box=(8, 4, 12, 8)) == 1.0 and flip_share(maps, 7, box=(0, 0, 4, 4)) == 0.0


def test_activation_drop_share_and_value_at_on_known_maps():
    prob = torch.ones(3, 3)
    act = torch.full((3, 3), 10.0)
    act[0, 0] = 4.0  # the map loses activity only when the occluder sits at the top-left corner
    maps = fake_maps(prob, 4, 4, (12, 12))
    maps.activation, maps.unoccluded_activation = act, 10.0
    assert drop_share(maps, (0, 0, 4, 4), of="activation") == pytest.approx((1.0, 16 / 144))
    assert value_at(maps, maps.activation, (1.0, 2.5)) == 4.0  # occluder centre (2, 2) is nearest
    assert value_at(maps, maps.activation, (9.0, 9.0)) == 10.0
    with pytest.raises(ValueError, match="^of:"):
        drop_share(maps, (0, 0, 4, 4), of="logit")
    maps.activation = None
    with pytest.raises(ValueError, match="^of:"):
        drop_share(maps, (0, 0, 4, 4), of="activation")
    with pytest.raises(ValueError, match="^values:"):
        value_at(maps, torch.zeros(2, 2), (0, 0))


def test_drop_share_on_a_model_that_only_sees_a_box(model, image):
    class Box(nn.Module):  # the classifier sees only pixels [40, 72) × [40, 72); the rest is replaced by grey
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            keep = torch.zeros_like(x)
            keep[..., 40:72, 40:72] = 1
            return self.net(x * keep)

    maps = occlusion_maps(Box(model), image, target=1, size=16, stride=8, layer=None, method="full")
    share = drop_share(maps, (24, 24, 88, 88))  # every occluder that changes anything overlaps this box
    assert share.inside == pytest.approx(1.0, abs=1e-3) and share.chance < 0.5  # float noise elsewhere only
