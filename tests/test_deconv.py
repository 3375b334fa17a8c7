"""The deconvnet (§2.1) against autograd: projection = a · ∂̃a/∂x, where ∂̃ replaces every ReLU's backward by the
rectify rule and LRN's backward by the identity. Also: unpooling is the adjoint of pooling with fixed switches."""
import copy

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from zfcourse.deconv import pool_with_switches, project, project_many, record, reverse, unpool
from zfcourse.models import crop, krizhevsky, layer_geometry, receptive_box, resolve, zfnet

torch.set_num_threads(1)


class RuleReLU(torch.autograd.Function):
    """relu forward; backward = the deconvnet / backprop / guided rule applied to the incoming gradient."""

    @staticmethod
    def forward(ctx, x, mode):
        ctx.save_for_backward(x)
        ctx.mode = mode
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.mode == "deconv":
            return g.clamp_min(0), None
        if ctx.mode == "backprop":
            return g * (x > 0), None
        return g.clamp_min(0) * (x > 0), None


class IdentityBackward(torch.autograd.Function):
    """The module's forward, the identity backward (LRN is skipped on the way down)."""

    @staticmethod
    def forward(ctx, x, module):
        return module(x)

    @staticmethod
    def backward(ctx, g):
        return g, None


class Wrap(nn.Module):
    def __init__(self, fn, *args):
        super().__init__()
        self.fn, self.args = fn, args

    def forward(self, x):
        return self.fn.apply(x, *self.args)


def reference(full_model, images, layer, channel, mode="deconv"):
    """a · ∂̃a/∂x for each image's strongest unit of ``channel`` at ``layer``, by autograd on a patched copy."""
    full, _ = resolve(full_model, layer)
    model = nn.Module()
    model.features = copy.deepcopy(full_model.features)  # not the classifier: VGG's is 500 MB
    idx = [f"features.{n}" for n, _ in model.features.named_children()].index(full)
    for n, m in model.features.named_children():
        if isinstance(m, nn.ReLU):
            setattr(model.features, n, Wrap(RuleReLU, mode))
        elif isinstance(m, nn.LocalResponseNorm):
            setattr(model.features, n, Wrap(IdentityBackward, m))
    x = images.clone().requires_grad_()
    out = model.features[:idx + 1](x)[:, channel]
    a = out.flatten(1).max(1).values
    assert (a > 0).all()  # a · ∂̃a/∂x = R(a·e) needs a ≥ 0 (the rules are positively homogeneous)
    (g,) = torch.autograd.grad(a.sum(), x)
    return a[:, None, None, None] * g


def close(p, ref):
    torch.testing.assert_close(p, ref, rtol=0, atol=1e-5 * ref.abs().max().item())
    assert ref.abs().max() > 0


def images(n, size, seed=0):
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 60


torch.manual_seed(0)
SMALL_ZF = [zfnet(width=0.25), krizhevsky(width=0.25)]


def live_channel(model, x, layer):
    """A channel whose strongest unit is positive in every image (random weights leave some maps dead)."""
    a = record(model, x, layer).activation
    return int(a.flatten(2).amax(2).amin(0).argmax())


@pytest.mark.parametrize("layer", ["conv1", "relu1", "pool1", "norm1", "conv2", "pool2", "relu3", "conv5", "pool5"])
@pytest.mark.parametrize("model", SMALL_ZF, ids=["zfnet", "krizhevsky"])
def test_matches_autograd_deconv_rule(model, layer):
    x = images(2, 112 if model is SMALL_ZF[0] else 131)
    c = live_channel(model, x, layer)
    close(project(model, x, layer, channel=c), reference(model, x, layer, c))


@pytest.mark.parametrize("rectify", ["backprop", "guided"])
@pytest.mark.parametrize("layer", ["conv2", "pool5"])
def test_matches_autograd_other_rules(rectify, layer):
    model, x = SMALL_ZF[0], images(2, 112, seed=1)
    c = live_channel(model, x, layer)
    close(project(model, x, layer, c, rectify=rectify), reference(model, x, layer, c, rectify))


def test_full_size_zfnet():
    torch.manual_seed(0)
    model, x = zfnet(), images(1, 224, seed=2)
    c = live_channel(model, x, "pool5")
    close(project(model, x, "pool5", c), reference(model, x, "pool5", c))


def test_torchvision_alexnet():
    torch.manual_seed(0)
    model = torchvision.models.alexnet(weights=None).eval()  # in-place ReLUs
    x = images(2, 131, seed=3)
    for layer in ["features.2", "features.5", "features.10", "features.11", 12]:
        c = live_channel(model, x, layer)
        close(project(model, x, layer, c), reference(model, x, layer, c))


def test_torchvision_vgg11():
    torch.manual_seed(0)
    model = torchvision.models.vgg11(weights=None).eval()
    x = images(1, 64, seed=4)
    for layer, rectify in [("features.4", "deconv"), ("features.10", "guided"), ("features.14", "backprop"),
                           ("features.20", "deconv")]:
        c = live_channel(model, x, layer)
        close(project(model, x, layer, c, rectify=rectify), reference(model, x, layer, c, rectify))


def test_explicit_position_and_channel_per_image():
    model, x = SMALL_ZF[0], images(3, 112, seed=5)
    channel, pos = torch.tensor([1, 4, 9]), torch.tensor([[0, 0], [3, 5], [5, 2]])
    p = project(model, x, "relu5", channel, pos)
    for i in range(3):
        single = project(model, x[i:i + 1], "features.relu5", int(channel[i]), tuple(pos[i].tolist()))
        torch.testing.assert_close(p[i:i + 1], single)


def test_project_many_equals_project_and_crop():
    model, x = SMALL_ZF[0], images(3, 112, seed=6)
    targets = torch.tensor([[0, 1, 2, 2], [2, 1, 0, 5], [0, 7, 4, 4], [1, 3, 5, 0], [2, 2, 3, 3]])
    many = project_many(model, x, "conv5", targets, chunk=2)
    cropped = project_many(model, x, "conv5", targets, chunk=2, crop_to_field=True)
    row = layer_geometry(model, "features.conv5")
    assert cropped.shape == (5, 3, row.receptive_field, row.receptive_field)
    for n, (i, c, y, xx) in enumerate(targets.tolist()):
        one = project(model, x[i:i + 1], "conv5", c, (y, xx))
        torch.testing.assert_close(many[n:n + 1], one)
        x0, y0, x1, y1 = receptive_box(row, y, xx, 112)
        outside = one.clone()
        outside[..., y0:y1, x0:x1] = 0
        assert outside.abs().max() == 0  # nothing leaks out of the receptive field
        torch.testing.assert_close(crop(one, row, torch.tensor([[y, xx]])), cropped[n:n + 1])


def test_value_kept_and_pool_equals_its_switch():
    """pool5's projection is that of the relu5 unit its switch points at; the seed keeps the activation's value."""
    model, x = SMALL_ZF[0], images(1, 112, seed=7)
    out, switches = pool_with_switches(torch.relu(model.features[:13](x)), model.features.pool5)
    c = 4
    y, xx = divmod(int(out[0, c].flatten().argmax()), out.shape[-1])
    s = int(switches[0, c, y, xx])
    w = model.features[:13](x).shape[-1]
    torch.testing.assert_close(project(model, x, "pool5", c, (y, xx)), project(model, x, "relu5", c, divmod(s, w)))
    trace = record(model, x, "relu5")
    a = trace.activation[0, c].max()
    unit = (trace.activation[:, c:c + 1] == a).to(x.dtype)  # seed 1 at the strongest unit
    seed = torch.zeros_like(trace.activation)
    seed[:, c:c + 1] = unit
    torch.testing.assert_close(project(model, x, "relu5", c), a * reverse(trace, seed))


@pytest.mark.parametrize("pool", [nn.MaxPool2d(3, 2, ceil_mode=True), nn.MaxPool2d(3, 2, padding=1), nn.MaxPool2d(2)])
def test_unpool_is_adjoint_of_pooling_with_fixed_switches(pool):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 11, 11, generator=g, dtype=torch.float64)
    _, s = pool_with_switches(x, pool)
    y = torch.randn(s.shape, generator=g, dtype=torch.float64)
    z = torch.randn(x.shape, generator=g, dtype=torch.float64)
    pooled_z = z.flatten(2).gather(2, s.flatten(2)).view(s.shape)  # P_s(z): z read at the switches
    lhs, rhs = (unpool(y, s, x.shape[-2:]) * z).sum(), (y * pooled_z).sum()
    torch.testing.assert_close(lhs, rhs)


def test_overlapping_windows_add_where_max_unpool_overwrites():
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1.0  # the maximum of all four 3×3/2 windows
    out, s = pool_with_switches(x, nn.MaxPool2d(3, 2))
    assert (s == 12).all()
    assert unpool(torch.ones_like(out), s, (5, 5))[0, 0, 2, 2] == 4
    assert F.max_unpool2d(torch.ones_like(out), s, 3, 2, output_size=(5, 5))[0, 0, 2, 2] == 1


def test_overwriting_unpool_is_max_unpool2d():
    """unpool="overwrite" is max_unpool2d with the last window (row-major) winning, as on the CPU."""
    g = torch.Generator().manual_seed(3)
    for pool, side in [(nn.MaxPool2d(3, 2), 27), (nn.MaxPool2d(3, 2, ceil_mode=True), 12), (nn.MaxPool2d(2), 8)]:
        x = torch.randn(2, 4, side, side, generator=g)
        out, s = pool_with_switches(x, pool)
        y = torch.randn(out.shape, generator=g)
        ref = F.max_unpool2d(y, s, pool.kernel_size, pool.stride, pool.padding, output_size=(side, side))
        assert torch.equal(unpool(y, s, (side, side), mode="overwrite"), ref)
    assert unpool(torch.ones(1, 1, 2, 2), torch.full((1, 1, 2, 2), 12), (5, 5), mode="overwrite").sum() == 1


def test_project_overwrite_equals_patched_max_unpool():
    """project(..., unpool="overwrite") is the deconvnet with every unpool replaced by max_unpool2d."""
    torch.manual_seed(0)
    model = zfnet(width=0.25).eval()
    x = 60 * torch.randn(2, 3, 112, 112, generator=torch.Generator().manual_seed(4))
    trace = record(model, x, "relu5")
    signal = torch.zeros_like(trace.activation)
    best = trace.activation[:, 7].flatten(1).argmax(1)
    for n in range(2):
        signal[n, 7].view(-1)[best[n]] = trace.activation[n, 7].view(-1)[best[n]]
    for step in reversed(trace.steps):
        m = step.module
        if isinstance(m, nn.MaxPool2d):
            signal = F.max_unpool2d(signal, step.switches, m.kernel_size, m.stride, m.padding, output_size=step.size)
        elif isinstance(m, nn.ReLU):
            signal = signal.clamp_min(0)
        elif isinstance(m, nn.Conv2d):
            signal = F.conv_transpose2d(signal, m.weight, None, m.stride, m.padding,
                                        [step.size[i] - ((signal.shape[2 + i] - 1) * m.stride[i] - 2 * m.padding[i]
                                                         + m.kernel_size[i]) for i in range(2)])
    over = project(model, x, "relu5", 7, unpool="overwrite")
    torch.testing.assert_close(over, signal, rtol=0, atol=1e-5 * signal.abs().max().item())
    assert not torch.allclose(over, project(model, x, "relu5", 7))  # shared switches: the rules differ


@pytest.mark.parametrize("rectify", ["deconv", "guided"])
def test_project_many_honours_unpool(rectify):
    torch.manual_seed(0)
    model = zfnet(width=0.25).eval()
    x = 60 * torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(5))
    targets = torch.tensor([[0, 3, 0, 0], [1, 3, 12, 12], [1, 9, 5, 7], [0, 9, 6, 6]])
    many = project_many(model, x, "relu5", targets, rectify=rectify, unpool="overwrite", chunk=2)
    differ = []
    for t, p in zip(targets.tolist(), many):
        one = project(model, x[t[0]:t[0] + 1], "relu5", t[1], tuple(t[2:]), rectify=rectify, unpool="overwrite")
        torch.testing.assert_close(p, one[0], rtol=0, atol=1e-5 * one.abs().max().item())
        add = project(model, x[t[0]:t[0] + 1], "relu5", t[1], tuple(t[2:]), rectify=rectify)
        differ.append(not torch.allclose(p, add[0]))
    assert any(differ)  # the windowed path does not fall back to adding
