"""The deconvnet (§2.1) against references that share no code with it or with tests/test_deconv.py's patched autograd:

* Captum's ``NeuronDeconvolution`` / ``NeuronGuidedBackprop`` (their own ReLU backward hooks): R(a·e) = a · ∂̃a/∂x;
* PyTorch's unmodified gradient for ``rectify="backprop"`` (plain backprop *is* the gradient when nothing is skipped);
* the batched ``project_many`` against ``project`` for every rectify rule;
* the course model (in-place ReLUs, LRN): projecting leaves the model and its outputs untouched.

Captum and plain autograd run the real LRN backward, so the comparisons use trunks without LRN (torchvision AlexNet,
VGG16) or layers below the first LRN.
"""
import warnings

import pytest
import torch
import torchvision
from captum.attr import NeuronDeconvolution, NeuronGuidedBackprop
from torch import nn

from zfcourse.deconv import RECTIFY, project, project_many, record
from zfcourse.models import course_model, resolve, zfnet

torch.set_num_threads(1)


def images(n, size, seed=0):
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 60


def trunk(model, layer):
    """model.features up to and including ``layer``, with out-of-place ReLUs (Captum hooks them)."""
    full, _ = resolve(model, layer)
    names = [f"features.{n}" for n, _ in model.features.named_children()]
    seq = model.features[:names.index(full) + 1]
    for m in seq.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    return seq


def strongest(model, x, layer):
    """(channel, [(y, x) per image]) for a channel whose strongest unit is positive in every image."""
    a = record(model, x, layer).activation
    c = int(a.flatten(2).amax(2).amin(0).argmax())
    w = a.shape[-1]
    return c, [divmod(int(a[i, c].flatten().argmax()), w) for i in range(len(x))], a


def close(p, ref):
    assert ref.abs().max() > 0
    torch.testing.assert_close(p, ref, rtol=0, atol=1e-5 * ref.abs().max().item())


torch.manual_seed(0)
ALEXNET = torchvision.models.alexnet(weights=None).eval()
VGG16 = nn.Module()
VGG16.features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"])  # VGG16's trunk, no 500 MB head


@pytest.mark.parametrize("rectify, method", [("deconv", NeuronDeconvolution), ("guided", NeuronGuidedBackprop)])
@pytest.mark.parametrize("model, layer, size", [(ALEXNET, "features.5", 131), (ALEXNET, "features.10", 131),
                                                (ALEXNET, "features.12", 131), (VGG16, "features.16", 48),
                                                (VGG16, "features.29", 48)],
                         ids=["alexnet-pool2", "alexnet-conv5", "alexnet-pool5", "vgg16-pool3", "vgg16-relu5_3"])
def test_matches_captum(model, layer, size, rectify, method):
    x = images(2, size, seed=1)
    c, where, a = strongest(model, x, layer)
    seq = trunk(model, layer)
    attr = method(seq, seq[-1])
    for i, (y, xx) in enumerate(where):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Captum warns that it sets requires_grad and hooks the ReLUs
            ref = a[i, c, y, xx] * attr.attribute(x[i:i + 1].clone(), (c, y, xx))
        close(project(model, x[i:i + 1], layer, c, (y, xx), rectify=rectify), ref)


@pytest.mark.parametrize("layer", ["features.2", "features.7", "features.11"])
def test_backprop_rule_is_the_plain_gradient(layer):
    """With in-place ReLUs and nothing patched: rectify="backprop" gives exactly a · ∂a/∂x."""
    x = images(2, 131, seed=2)
    c, where, _ = strongest(ALEXNET, x, layer)
    full, _ = resolve(ALEXNET, layer)
    idx = int(full.split(".")[1])
    for i, (y, xx) in enumerate(where):
        xi = x[i:i + 1].clone().requires_grad_()
        a = ALEXNET.features[:idx + 1](xi)[0, c, y, xx]
        (g,) = torch.autograd.grad(a, xi)
        close(project(ALEXNET, x[i:i + 1], layer, c, (y, xx), rectify="backprop"), a.detach() * g)


def test_plain_gradient_below_lrn_on_zfnet():
    model = zfnet(width=0.25).eval()
    x = images(1, 112, seed=3)
    c, [(y, xx)], _ = strongest(model, x, "pool1")
    xi = x.clone().requires_grad_()
    a = model.features[:3](xi)[0, c, y, xx]
    (g,) = torch.autograd.grad(a, xi)
    close(project(model, x, "pool1", c, (y, xx), rectify="backprop"), a.detach() * g)


@pytest.mark.parametrize("rectify", RECTIFY)
def test_project_many_equals_project_for_every_rule(rectify):
    model = zfnet(width=0.25).eval()
    x = images(3, 112, seed=4)
    targets = torch.tensor([[0, 1, 2, 2], [2, 1, 0, 5], [0, 7, 4, 4], [1, 3, 5, 0]])
    many = project_many(model, x, "pool2", targets, rectify=rectify, chunk=2)
    for n, (i, c, y, xx) in enumerate(targets.tolist()):
        torch.testing.assert_close(many[n:n + 1], project(model, x[i:i + 1], "pool2", c, (y, xx), rectify=rectify))


def test_rules_differ_and_guided_is_deconv_masked():
    """The three rules give three different projections of the same relu3 unit (the chapter compares them)."""
    model = zfnet(width=0.25).eval()
    x = images(1, 112, seed=5)
    c, [(y, xx)], _ = strongest(model, x, "relu3")
    out = {r: project(model, x, "relu3", c, (y, xx), rectify=r) for r in RECTIFY}
    assert not torch.allclose(out["deconv"], out["backprop"])
    assert not torch.allclose(out["deconv"], out["guided"])
    assert not torch.allclose(out["backprop"], out["guided"])


def test_course_model_untouched_by_projection():
    """In-place ReLUs and LRN in the course model: projecting changes neither the weights nor the forward output."""
    torch.manual_seed(0)
    model = course_model(num_classes=12, input_size=112).eval()
    x = images(2, 112, seed=6)
    before = model(x).detach()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x_copy = x.clone()
    for rectify in RECTIFY:
        p = project(model, x, "conv5", 0, rectify=rectify)
        assert p.shape == x.shape and torch.isfinite(p).all()
    assert torch.equal(x, x_copy)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    torch.testing.assert_close(model(x), before)
