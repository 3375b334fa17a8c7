"""Real data behind the embedded world's interface, tested offline (download=False) on tiny fixture folders written in
each dataset's real on-disk layout: an ImageNet-style folder, Imagenette, CIFAR-10's python batches, Caltech-101/256
and Oxford-IIIT Pet; the paper's preprocessing (§3: shortest side 256, centre 256, mean subtraction, ten 224 crops
with flips); pretrained AlexNet/VGG from a local state-dict file; load_source falling back to the embedded world."""
import pickle

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from zfcourse.data import (CLASS_NAMES, PaperTransform, Preprocess, WorldDataset, caltech101, caltech256, cifar10,
                           dataset_targets, few_shot_split, image_folder, imagenette, load_source, oxford_pets,
                           paper_resize, pretrained, ten_crop, ten_crop_boxes, world_mean)
from zfcourse.data.real import IMAGENETTE_CLASSES


def _photo(path, seed, size=(300, 260), mode="RGB"):
    """A small random photo (width × height) saved as JPEG; non-square so the shortest-side resize matters."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).convert(mode).save(path, quality=95)
    return path


def _check_items(ds, n_classes, crop=224):
    x, y = ds[0]
    assert x.shape == (3, crop, crop) and x.dtype == torch.float32
    assert isinstance(y, int) and 0 <= y < n_classes
    targets = dataset_targets(ds)
    assert len(targets) == len(ds) and set(targets.tolist()) == set(range(n_classes))


# ---------------------------------------------------------------------------------------------------------- folders
def test_imagenet_style_folder(tmp_path):
    for split in ("train", "val"):
        for c, wnid in enumerate(("n01440764", "n02102040", "n03000684")):
            for k in range(2):
                _photo(tmp_path / split / wnid / f"{wnid}_{k}.JPEG", seed=10 * c + k)
    train = image_folder(tmp_path, "train")
    val = image_folder(tmp_path, "val")
    assert train.classes == ["n01440764", "n02102040", "n03000684"] and len(train) == 6
    assert train.transform.train and not val.transform.train  # random crops + flips only for training
    _check_items(train, 3)
    _check_items(val, 3)
    assert torch.equal(val[1][0], val[1][0])  # the centre crop is deterministic
    with pytest.raises(FileNotFoundError, match="^root: .*<class>"):
        image_folder(tmp_path, "test")


def test_imagenette_layout_names_and_imagenet_indices(tmp_path):
    wnids = sorted(IMAGENETTE_CLASSES)[:3]
    for c, wnid in enumerate(wnids):
        _photo(tmp_path / "imagenette2-160" / "val" / wnid / f"ILSVRC2012_val_{c:08d}.JPEG", seed=c, size=(213, 160))
    ds = imagenette("val", "imagenette2-160", root=tmp_path, download=False)
    assert ds.class_names == ["tench", "English springer", "cassette player"]
    assert ds.imagenet_index.tolist() == [0, 217, 482]
    _check_items(ds, 3)
    with pytest.raises(FileNotFoundError, match="^root: .*download=True"):
        imagenette("train", "imagenette2-160", root=tmp_path, download=False)
    with pytest.raises(ValueError, match="^variant: "):
        imagenette("val", "imagenette3", root=tmp_path)


def _cifar_batch(path, n, seed):
    rng = np.random.default_rng(seed)
    entry = {"batch_label": path.name, "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             "labels": [i % 10 for i in range(n)], "filenames": [f"img_{i}.png" for i in range(n)]}
    path.write_bytes(pickle.dumps(entry))


def test_cifar10_python_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for k in range(1, 6):
        _cifar_batch(folder / f"data_batch_{k}", 10, seed=k)
    _cifar_batch(folder / "test_batch", 20, seed=0)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names, "num_cases_per_batch": 10}))
    test = cifar10("test", root=tmp_path, verify=False, resize=36, crop=32)
    train = cifar10("train", root=tmp_path, verify=False, resize=36, crop=32)
    assert len(test) == 20 and len(train) == 50 and test.classes == names
    _check_items(test, 10, crop=32)
    # The real MD5 sums do not match hand-made batches: verify=True reports the dataset as missing, naming root.
    with pytest.raises(FileNotFoundError, match="^root: CIFAR-10 not found"):
        cifar10("test", root=tmp_path, verify=True)
    with pytest.raises(ValueError, match="^split: "):
        cifar10("val", root=tmp_path)


def test_caltech101_and_256_layouts_and_few_shot_split(tmp_path):
    base = tmp_path / "caltech101" / "101_ObjectCategories"
    for c, name in enumerate(("BACKGROUND_Google", "Faces", "accordion", "airplanes")):
        for k in range(1, 5):
            _photo(base / name / f"image_{k:04d}.jpg", seed=100 * c + k, mode="L" if k == 1 else "RGB")
    ds = caltech101(root=tmp_path)
    assert ds.categories == ["Faces", "accordion", "airplanes"]  # torchvision drops BACKGROUND_Google
    assert len(ds) == 12
    _check_items(ds, 3)  # the greyscale image_0001 comes out as 3 channels

    base = tmp_path / "caltech256" / "256_ObjectCategories"
    for c, name in enumerate(("001.ak47", "002.american-flag", "257.clutter")):
        for k in range(1, 4):
            _photo(base / name / f"{c + 1:03d}_{k:04d}.jpg", seed=200 * c + k)
    ds256 = caltech256(root=tmp_path)
    assert len(ds256) == 9 and ds256.categories[-1] == "257.clutter"
    _check_items(ds256, 3)

    train, test = few_shot_split(dataset_targets(ds), n_train=3, max_test=50, seed=0)
    assert len(train) == 9 and len(test) == 3 and not set(train) & set(test)
    assert np.bincount(dataset_targets(ds)[train]).tolist() == [3, 3, 3]
    with pytest.raises(FileNotFoundError, match="^root: Caltech-101 not found"):
        caltech101(root=tmp_path / "elsewhere")


def test_oxford_pets_layout(tmp_path):
    base = tmp_path / "oxford-iiit-pet"
    lines = {"trainval": [], "test": []}
    for label, (breed, species) in enumerate((("Abyssinian", 1), ("american_bulldog", 2), ("Bengal", 1)), start=1):
        for k in range(1, 5):
            image_id = f"{breed}_{k}"
            _photo(base / "images" / f"{image_id}.jpg", seed=label * 10 + k, size=(250, 333))
            lines["trainval" if k <= 2 else "test"].append(f"{image_id} {label} {species} 1")
    (base / "annotations").mkdir()
    for split, rows in lines.items():
        (base / "annotations" / f"{split}.txt").write_text("\n".join(rows) + "\n")
    test = oxford_pets("test", root=tmp_path)
    assert test.classes == ["Abyssinian", "American Bulldog", "Bengal"] and len(test) == 6
    assert not test.transform.train and oxford_pets("trainval", root=tmp_path).transform.train
    _check_items(test, 3)
    with pytest.raises(ValueError, match="^split: "):
        oxford_pets("train", root=tmp_path)


# ---------------------------------------------------------------------------------------------------- preprocessing
def test_paper_transform_is_resize_centre_crop_then_mean_subtraction(tmp_path):
    """§3 on a 300×260 photo: shortest side → 256, centre 256², minus the mean image, centre 224 (or a random 224 +
    flip in training), matching ten_crop's centre crop exactly."""
    path = _photo(tmp_path / "a.jpg", seed=3)
    image = Image.open(path)
    pixels = torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1)
    resized = paper_resize(pixels, 256)
    assert resized.shape == (3, 256, 256)
    mean = torch.rand(3, 256, 256) * 255
    prep = Preprocess.paper(mean)
    x = PaperTransform(prep, train=False)(image)
    crops = ten_crop(resized.float() - mean, crop=224)  # subtract the mean first, then crop (§3)
    assert torch.allclose(x, crops[4], atol=1e-4)  # crop 4 = the centre, unflipped
    assert torch.allclose(crops[9], crops[4].flip(-1))  # crop 9 = the centre, flipped
    assert [b for b in ten_crop_boxes(256, 224)][:5] == [(0, 0, False), (0, 32, False), (32, 0, False),
                                                         (32, 32, False), (16, 16, False)]

    torch.manual_seed(0)
    windows = {tuple((resized.float() - mean)[:, y:y + 224, x0:x0 + 224].flatten()[:7].tolist()): (y, x0)
               for y in range(33) for x0 in range(33)}
    seen_flip = False
    for _ in range(8):  # every random training crop is a 224 window of the mean-subtracted 256² image, maybe flipped
        t = PaperTransform(prep, train=True)(image)
        flipped = tuple(t.flip(-1).flatten()[:7].tolist()) in windows
        key = tuple((t.flip(-1) if flipped else t).flatten()[:7].tolist())
        assert key in windows
        seen_flip |= flipped
    assert seen_flip
    with pytest.raises(ValueError, match="^crop: "):
        PaperTransform(crop=300, resize=256)


# ------------------------------------------------------------------------------------------------ pretrained weights
def test_pretrained_alexnet_and_vgg_from_local_state_dicts(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))  # no cached torchvision weights
    torch.manual_seed(0)
    alex = torchvision.models.alexnet(weights=None)
    torch.save(alex.state_dict(), tmp_path / "alexnet.pth")
    net = pretrained("alexnet", tmp_path / "alexnet.pth", download=False)
    assert not net.training
    assert all(torch.equal(a, b) for a, b in zip(alex.state_dict().values(), net.state_dict().values()))
    x = torch.randn(1, 3, 224, 224)
    assert torch.allclose(net(x), alex.eval()(x))

    vgg = torchvision.models.vgg11(weights=None)
    torch.save({"state_dict": {k: v.half() for k, v in vgg.state_dict().items()}}, tmp_path / "vgg11.pth")
    net = pretrained("vgg11", tmp_path / "vgg11.pth", download=False)  # wrapped in "state_dict", stored in fp16
    w = vgg.features[0].weight
    assert torch.equal(net.features[0].weight, w.half().float())

    torch.save({"model": {"conv.weight": torch.zeros(1)}}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="^weights_path: .*does not fit"):
        pretrained("alexnet", tmp_path / "other.pth")
    with pytest.raises(FileNotFoundError, match="^weights_path: no file"):
        pretrained("alexnet", tmp_path / "missing.pth")
    with pytest.raises(FileNotFoundError, match="^weights_path: none given"):
        pretrained("alexnet", download=False)
    with pytest.raises(ValueError, match="^name: "):
        pretrained("resnet50", tmp_path / "alexnet.pth")


# ------------------------------------------------------------------------------------------------------ load_source
def test_load_source_falls_back_to_the_embedded_world_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    src = load_source("imagenet", split="val", dataset="imagenette", root=tmp_path, download=False, size=24)
    assert src.name == "embedded" and len(src.dataset) == 24 and src.model is None
    assert "fallback" in src.description
    assert "unavailable" in capsys.readouterr().out  # one line says why
    # Data present but the weights missing: still a fallback, not a failure.
    _photo(tmp_path / "imagenette2-160" / "val" / "n01440764" / "a.JPEG", seed=1, size=(213, 160))
    src = load_source("imagenet", dataset="imagenette", model="alexnet", root=tmp_path, download=False, size=12)
    assert src.name == "embedded"
    src = load_source("imagenet", dataset="imagenette", root=tmp_path, download=False)
    assert src.name == "imagenet" and src.classes == ["tench"] and src.dataset[0][0].shape == (3, 224, 224)
    assert src.preprocess.scale == pytest.approx(1 / 255)  # torchvision's normalisation for pretrained models
    src = load_source(None, size=42, verbose=False)
    assert src.name == "embedded" and isinstance(src.dataset, WorldDataset) and src.dataset[0][0].shape == (3, 168, 168)
    assert src.classes == list(CLASS_NAMES) and torch.equal(src.preprocess.mean, world_mean())
    with pytest.raises(ValueError, match="^dataset: "):
        load_source("imagenet", dataset="mnist")
    with pytest.raises(ValueError, match="^cfg: "):
        load_source("webcam")


def test_alexnet_relus_name_torchvision_alexnets_relu_layers():
    import torchvision
    from torch import nn

    from zfcourse.data import ALEXNET_RELUS

    layers = dict(torchvision.models.alexnet(weights=None).named_modules())
    assert list(ALEXNET_RELUS) == [f"relu{k}" for k in range(1, 6)]
    assert all(isinstance(layers[name], nn.ReLU) for name in ALEXNET_RELUS.values())
    assert sum(isinstance(m, nn.ReLU) for n, m in layers.items() if n.startswith("features.")) == 5


def test_spread_subset_takes_items_from_the_whole_dataset():
    import pytest

    from zfcourse.data import spread_subset

    data = list(range(100))
    assert list(spread_subset(data, 4)) == [0, 25, 50, 75]
    assert list(spread_subset(data, 300)) == data
    with pytest.raises(ValueError, match="n"):
        spread_subset(data, 0)
