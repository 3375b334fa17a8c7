"""Input space (§3): mean subtraction and its inverse, torchvision normalisation, the paper's ten crops."""
import numpy as np
import pytest
import torch

from zfcourse.data import (WORLD_CROP, WORLD_SIZE, Preprocess, centre_crop, mean_image, paper_resize, probe_set,
                           resize_shortest, ten_crop, ten_crop_boxes, world_preprocess)


def random_images(n=2, size=128, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_paper_input_space_is_pixels_minus_mean_image():
    imgs = random_images()
    mean = mean_image(imgs)
    assert mean.shape == (3, 128, 128)
    p = Preprocess.paper(mean)
    x = p.to_input(imgs)
    assert x.shape == (2, 3, 128, 128) and x.dtype == torch.float32
    expected = torch.from_numpy(imgs).permute(0, 3, 1, 2).float() - mean
    assert torch.allclose(x, expected)
    assert torch.allclose(x.mean(0), torch.zeros(3, 128, 128), atol=1e-4)  # the training mean maps to 0 ("grey")
    # single image, numpy HWC and torch CHW agree
    assert torch.equal(p.to_input(imgs[0]), x[0])
    assert torch.equal(p.to_input(torch.from_numpy(imgs).permute(0, 3, 1, 2)), x)


@pytest.mark.parametrize("make", [lambda: Preprocess.paper(torch.rand(3, 128, 128) * 255), Preprocess.torchvision])
def test_round_trip_to_display(make):
    p = make()
    imgs = random_images(size=112)
    back = p.to_display(p.to_input(imgs))
    assert back.shape == (2, 112, 112, 3) and back.min() >= 0 and back.max() <= 1
    assert np.abs(back * 255 - imgs).max() < 1e-3 * 255


def test_smaller_images_use_the_matching_window_of_the_mean():
    mean = torch.arange(3 * 128 * 128, dtype=torch.float32).reshape(3, 128, 128)
    p = Preprocess.paper(mean)
    img = np.zeros((112, 112, 3), np.uint8)
    assert torch.equal(p.to_input(img), -mean[:, 8:120, 8:120])
    assert torch.equal(p.to_input(img, offset=(0, 16)), -mean[:, 0:112, 16:128])


def test_world_preprocess_and_probe_inputs():
    p = world_preprocess()
    assert p.mean.shape == (3, WORLD_SIZE, WORLD_SIZE) and 60 < float(p.mean.mean()) < 200
    x = probe_set("fig7").inputs(p)
    assert x.shape == (3, 3, WORLD_CROP, WORLD_CROP) and -200 < float(x.min()) < 0 < float(x.max()) < 200
    # the probes are centre crops: their mean window is the centre of μ
    c = (WORLD_SIZE - WORLD_CROP) // 2
    expected = torch.from_numpy(probe_set("fig7").images[0]).permute(2, 0, 1).float() - p.mean[:, c:-c, c:-c]
    assert torch.allclose(x[0], expected)


def test_torchvision_normalisation_values():
    p = Preprocess.torchvision()
    x = p.to_input(np.full((4, 4, 3), 255, np.uint8))
    assert torch.allclose(x[:, 0, 0], torch.tensor([(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225]))


def test_ten_crop_geometry():
    # the world's renders and crops: 192 → 168 (the paper's 256 → 224, × 0.75)
    s, c = WORLD_SIZE, WORLD_CROP
    img = torch.arange(3 * s * s).reshape(3, s, s)
    crops = ten_crop(img, c)
    assert crops.shape == (10, 3, c, c)
    boxes = ten_crop_boxes(s, c)
    assert boxes[:5] == [(0, 0, False), (0, 24, False), (24, 0, False), (24, 24, False), (12, 12, False)]
    assert all(f for _, _, f in boxes[5:])
    assert torch.equal(crops[0], img[:, :c, :c])
    assert torch.equal(crops[3], img[:, 24:, 24:])
    assert torch.equal(crops[4], centre_crop(img, c))
    assert torch.equal(crops[5], img[:, :c, :c].flip(-1))
    batched = ten_crop(torch.stack([img, img]), c)
    assert batched.shape == (2, 10, 3, c, c) and torch.equal(batched[1], crops)


def test_paper_resize_then_ten_crop_on_a_non_square_image():
    img = torch.randint(0, 256, (3, 300, 400), dtype=torch.uint8)
    assert resize_shortest(img, 256).shape == (3, 256, 341)
    assert paper_resize(img, 256).shape == (3, 256, 256)
    crops = ten_crop(img, 224, resize=256)
    assert crops.shape == (10, 3, 224, 224) and crops.dtype == torch.uint8


def test_bad_input_names_the_argument():
    p = Preprocess.paper(torch.zeros(3, 128, 128))
    with pytest.raises(TypeError, match="^images"):
        p.to_input(np.zeros((112, 112, 3), np.float32))
    with pytest.raises(ValueError, match="^images"):
        p.to_input(np.zeros((112, 112, 4), np.uint8))
    with pytest.raises(ValueError, match="^images.*larger than the mean"):
        p.to_input(np.zeros((224, 224, 3), np.uint8))
    with pytest.raises(ValueError, match="^mean"):
        Preprocess(torch.zeros(4, 8, 8))
    with pytest.raises(ValueError, match="^crop"):
        ten_crop(torch.zeros(3, 100, 100), 112)
    with pytest.raises(ValueError, match="^images.*square"):
        ten_crop(torch.zeros(3, 100, 120), 64)
    with pytest.raises(ValueError, match="^x"):
        p.to_display(torch.zeros(112, 112, 3))
