"""Several layers mined in one pass equal one top_k pass per layer; what a top unit lands on; the channel browser."""
import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import TensorDataset  # noqa: E402

from zfcourse.data import Annotation  # noqa: E402
from zfcourse.features import (TopK, channel_browser, describe, landing_of, landing_table, landings,  # noqa: E402
                               top_k, top_k_layers, unit_centre)
from zfcourse.models import layer_geometry  # noqa: E402
from zfcourse.models import course_model, zfnet  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(0)
MODEL = zfnet(width=0.25).eval()
DATA = torch.randn(9, 3, 112, 112, generator=torch.Generator().manual_seed(2)) * 60


@pytest.mark.parametrize("feed", ["tensor", "dataset"])
def test_one_pass_equals_one_top_k_per_layer(feed):
    data = DATA if feed == "tensor" else TensorDataset(DATA, torch.zeros(9))
    layers = ["pool5", "relu1", "features.conv3", "norm2"]
    tops = top_k_layers(MODEL, data, layers, k=4, batch_size=4, progress=False)
    assert list(tops) == ["features.pool5", "features.relu1", "features.conv3", "features.norm2"]
    for layer, got in zip(layers, tops.values()):
        want = top_k(MODEL, data, layer, k=4, batch_size=4, progress=False)
        assert got.layer == want.layer
        torch.testing.assert_close(got.values, want.values)
        assert torch.equal(got.image, want.image) and torch.equal(got.position, want.position)


def test_top_k_layers_bad_input():
    with pytest.raises(ValueError, match="k: expected a positive integer"):
        top_k_layers(MODEL, DATA, ["relu1"], k=0)
    with pytest.raises(ValueError, match="layers: expected a non-empty list"):
        top_k_layers(MODEL, DATA, "relu1")
    with pytest.raises(ValueError, match="layers: a layer is named twice"):
        top_k_layers(MODEL, DATA, ["relu1", "features.relu1"])
    with pytest.raises(KeyError, match="layer: no layer named 'relu9'"):
        top_k_layers(MODEL, DATA, ["relu9"])
    with pytest.raises(ValueError, match="data: no images"):
        top_k_layers(MODEL, DATA[:0], ["relu1"], progress=False)


ANN = Annotation(label=0, class_name="dog_face", box=(20, 20, 80, 80),
                 keypoints={"left_eye": (35.0, 40.0), "right_eye": (65.0, 40.0), "nose": (50.0, 60.0)},
                 objects=[("wheel", (0, 0, 30, 30)), ("dog_face", (20, 20, 80, 80))])


def test_landing_reads_the_topmost_object_and_the_nearest_part():
    assert landing_of(ANN, 41, 36, reach=5) == landing_of(ANN, 40, 35, reach=5)
    hit = landing_of(ANN, 41, 36, reach=5)
    assert (hit.thing, hit.main, hit.part) == ("dog_face", True, "left_eye")
    far = landing_of(ANN, 25, 75, reach=5)
    assert (far.thing, far.main, far.part) == ("dog_face", True, None)
    under = landing_of(ANN, 10, 10, reach=5)          # only the distractor wheel is there
    assert (under.thing, under.main) == ("wheel", False)
    assert landing_of(ANN, 100, 100, reach=5).thing == "background"


def test_landings_use_the_receptive_field_centre():
    model = course_model(num_classes=12, input_size=112)
    row = layer_geometry(model, "features.relu2")      # jump 8, centre 12
    pos = torch.tensor([[[3, 3], [6, 1]]])             # unit centres (36, 36) and (60, 20)
    assert unit_centre(row, pos[0]).tolist() == [[36.0, 36.0], [60.0, 20.0]]
    top = TopK("features.relu2", torch.ones(1, 2), torch.tensor([[0, 0]]), pos)
    marks = landings([ANN], top, row, reach=6)
    assert [(m.thing, m.part) for m in marks[0]] == [("dog_face", "left_eye"), ("dog_face", None)]
    assert describe(marks[0]) == "dog_face 2/2 (left_eye 1)"
    table = landing_table(marks)
    assert table["main object"] == 1 and table["background"] == 0 and table["purity"] == 1
    assert table["on a named part"] == 0.5
    with pytest.raises(ValueError, match="row: geometry of features.relu3"):
        landings([ANN], top, layer_geometry(model, "features.relu3"))


def test_channel_browser_draws_and_returns_a_widget():
    model = course_model(num_classes=12, input_size=112).eval()
    tops = top_k_layers(model, DATA, ["relu1", "relu3"], k=4, progress=False)
    w = channel_browser(model, DATA, tops, layer="relu3", channel=2, describe=lambda name, c: f"{name} {c}")
    pick_layer, pick_channel = w.children[0].children
    assert pick_layer.value == "features.relu3" and pick_channel.max == 95
    pick_layer.value = "features.relu1"
    assert pick_channel.max == 23
    with pytest.raises(KeyError, match="layer: expected one of"):
        channel_browser(model, DATA, tops, layer="relu5")


def test_landing_reads_world_v2_part_boxes_smallest_first():
    ann = Annotation(label=0, class_name="dog_beagle", box=(20, 20, 80, 80),
                     parts={"head": (20, 20, 80, 80), "muzzle": (40, 50, 60, 75), "nose": (45, 55, 55, 62),
                            "left_eye": (30, 35, 40, 45)},
                     objects=[("dog_beagle", (20, 20, 80, 80))])
    assert landing_of(ann, 58, 50, reach=3).part == "nose"          # inside muzzle and nose: the smaller box
    assert landing_of(ann, 70, 50, reach=3).part == "muzzle"
    assert landing_of(ann, 40, 43, reach=4).part == "left_eye"      # 3 px right of the eye's box
    assert landing_of(ann, 25, 75, reach=3).part is None            # only the head is there: it names the object
    assert landing_of(ann, 40, 43, reach=2).part is None
