"""Fig. 4 machinery (§4): feature evolution over snapshots, weight correlation, settling, and their plots."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from zfcourse.deconv import project  # noqa: E402
from zfcourse.features import top_k  # noqa: E402
from zfcourse.features import (Evolution, conv_weights, feature_evolution, plot_convergence,  # noqa: E402
                                plot_evolution, projection_similarity, settled_epoch, weight_correlation)
from zfcourse.models import course_model  # noqa: E402
from zfcourse.train.snapshots import save_snapshot  # noqa: E402

torch.set_num_threads(1)
DATA = torch.randn(7, 3, 112, 112, generator=torch.Generator().manual_seed(3)) * 60


def models():
    torch.manual_seed(0)
    a = course_model(num_classes=12, input_size=112).eval()
    torch.manual_seed(1)
    b = course_model(num_classes=12, input_size=112).eval()
    return a, b


def test_weight_correlation_is_pearson_per_layer(tmp_path):
    a, b = models()
    rho = weight_correlation({1: save_snapshot(a, 1, tmp_path), 2: b}, b)
    assert list(rho) == ["conv1", "conv2", "conv3", "conv4", "conv5"]
    for name in rho:
        w = getattr(a.features, name).weight.detach().double().flatten().numpy()
        v = getattr(b.features, name).weight.detach().double().flatten().numpy()
        assert rho[name][0] == pytest.approx(np.corrcoef(w, v)[0, 1], abs=2e-3)  # snapshot is float16
        assert rho[name][1] == pytest.approx(1.0, abs=1e-6)


def test_evolution_is_the_strongest_activation_projected_under_each_epochs_weights(tmp_path):
    a, b = models()
    snaps = {1: save_snapshot(a, 1, tmp_path), "final": b}
    evo = feature_evolution(b, snaps, DATA, {"relu2": [0, 5], "pool5": [3]}, batch_size=3, progress=False)
    assert evo.epochs == [1, "final"] and evo.layers == ["features.relu2", "features.pool5"]
    a16 = course_model(num_classes=12, input_size=112).eval()
    a16.load_state_dict({k: v.float() for k, v in conv_weights(snaps[1]).items()}, strict=False)
    for e, net in enumerate([a16, b]):
        for layer, maps in (("relu2", [0, 5]), ("pool5", [3])):
            top = top_k(net, DATA, layer, k=1, progress=False)
            full = "features." + layer
            for j, c in enumerate(maps):
                assert evo.image[full][e, j] == top.image[c, 0]
                assert torch.equal(evo.position[full][e, j], top.position[c, 0])
                torch.testing.assert_close(evo.values[full][e, j], top.values[c, 0])
                n, pos = int(top.image[c, 0]), tuple(top.position[c, 0].tolist())
                p = project(net, DATA[n:n + 1], layer, c, pos)[0]
                # the cropped projection holds all of the full projection's mass
                assert evo.projections[full][e, j].abs().sum() == pytest.approx(float(p.abs().sum()), rel=1e-4)
    # the model passed in is not changed
    for k, v in b.state_dict().items():
        torch.testing.assert_close(v, models()[1].state_dict()[k])


def test_similarity_and_settling_on_a_hand_made_evolution():
    p = torch.zeros(4, 2, 3, 5, 5)
    p[:, 0, 0, 2, 2] = 1.0            # map 0 never changes
    p[:2, 1, 1, 0, 0] = 1.0           # map 1 changes after epoch 2
    p[2:, 1, 2, 4, 4] = 1.0
    image = torch.tensor([[4, 1], [4, 2], [4, 3], [4, 3]])
    evo = Evolution([1, 2, 5, 9], ["features.relu3"], {"features.relu3": torch.tensor([7, 8])},
                    {"features.relu3": torch.ones(4, 2)}, {"features.relu3": image},
                    {"features.relu3": torch.zeros(4, 2, 2, dtype=torch.long)}, {"features.relu3": p})
    sim = projection_similarity(evo)["features.relu3"]
    torch.testing.assert_close(sim[:, 0], torch.ones(4))
    torch.testing.assert_close(sim[:, 1], torch.tensor([0.0, 0.0, 1.0, 1.0]))
    assert settled_epoch(evo) == {"features.relu3": [1, 5]}
    fig = plot_evolution(evo)
    assert len(fig.axes) == 2
    ax = plot_convergence(evo.epochs, {"conv1": [0.1, 0.5, 0.9, 1.0]}, "ρ")
    assert ax.get_xlabel() == "epoch"


def test_bad_input():
    a, b = models()
    with pytest.raises(ValueError, match="snapshots: expected at least one epoch"):
        feature_evolution(a, {}, DATA, {"relu1": [0]})
    with pytest.raises(ValueError, match=r"channels: maps of features.relu1 must lie in 0..23"):
        feature_evolution(a, {1: b}, DATA, {"relu1": [24]})
    with pytest.raises(KeyError, match="layer: no layer named 'conv9'"):
        feature_evolution(a, {1: b}, DATA, {"conv9": [0]})
    with pytest.raises(ValueError, match="snapshots: epoch 1 has parameters the model lacks"):
        feature_evolution(a, {1: {"features.conv9.weight": torch.zeros(1)}}, DATA, {"relu1": [0]})
    with pytest.raises(TypeError, match="source: expected a model"):
        conv_weights(3)
    with pytest.raises(ValueError, match="snapshots: epoch 1 has no conv1 weights"):
        weight_correlation({1: {"features.conv1.weight": torch.zeros(2, 2)}}, a)


def test_weight_progress_is_distance_travelled_on_each_layers_own_scale():
    from zfcourse.features import weight_progress

    a, b = models()
    mid = {k: (va + vb) / 2 for (k, va), vb in zip(conv_weights(a).items(), conv_weights(b).values())}
    prog = weight_progress({1: a, 5: mid, 9: b}, b)
    for p in prog.values():
        assert p == pytest.approx([0.0, 0.5, 1.0], abs=1e-6)
    with pytest.raises(ValueError, match="snapshots: expected at least one epoch"):
        weight_progress({}, b)
