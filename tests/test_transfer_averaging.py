"""Softmax averaging over the ten crops of §3 and over a seed ensemble (Table 2), on toy models."""
import pytest
import torch
from torch import nn

from zfcourse.data import ten_crop
from zfcourse.transfer import average_softmax, ensemble_softmax, ten_crop_softmax, top_k_error


def toy(seed, crop=4, classes=5):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(3 * crop * crop, classes))


@pytest.fixture(scope="module")
def images():
    return torch.randn(7, 3, 6, 6, generator=torch.Generator().manual_seed(0))


def test_ten_crop_is_the_mean_softmax_of_the_ten_crops(images):
    m = toy(1).train()
    p = ten_crop_softmax(m, images, crop=4, batch_size=3, progress=False)
    m.eval()
    crops = ten_crop(images, 4)                                         # (7, 10, 3, 4, 4)
    expected = torch.stack([m(crops[:, k]).softmax(-1) for k in range(10)], 1).mean(1)
    assert torch.allclose(p, expected, atol=1e-6)
    assert torch.allclose(p.sum(1), torch.ones(7))
    # centre crop alone is crop 4 of the ten (torchvision order); a symmetric crop set differs from it
    centre = average_softmax(m, images, crop=4, progress=False)
    assert torch.allclose(centre, m(crops[:, 4]).softmax(-1), atol=1e-6)
    assert not torch.allclose(centre, p)


def test_train_mode_is_restored_and_dropout_is_off(images):
    m = toy(2).train()
    a = ten_crop_softmax(m, images, crop=4, progress=False)
    b = ten_crop_softmax(m, images, crop=4, progress=False)
    assert torch.equal(a, b) and m.training and m[1].training


def test_ensemble_is_the_mean_of_its_members(images):
    models = [toy(s) for s in (3, 4, 5)]
    for ten in (False, True):
        each = [average_softmax(m, images, crop=4, ten_crops=ten, progress=False) for m in models]
        both = ensemble_softmax(models, images, crop=4, ten_crops=ten, progress=False)
        assert torch.allclose(both, torch.stack(each).mean(0), atol=1e-6)
    assert torch.allclose(ensemble_softmax(models[:1], images, crop=4, progress=False),
                          average_softmax(models[0], images, crop=4, progress=False))


def test_ensembling_separately_trained_models_helps_on_a_toy_task():
    g = torch.Generator().manual_seed(6)
    w = torch.randn(12, 4, generator=g)
    x, xt = torch.randn(60, 12, generator=g), torch.randn(400, 12, generator=g)
    y, yt = (x @ w).argmax(1), (xt @ w).argmax(1)
    y = torch.where(torch.rand(60, generator=g) < 0.3, torch.randint(0, 4, (60,), generator=g), y)   # noisy labels
    models = []
    for seed in range(5):
        torch.manual_seed(seed)
        m = nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Linear(64, 4))
        opt = torch.optim.Adam(m.parameters(), 1e-2)
        for _ in range(300):
            opt.zero_grad()
            nn.functional.cross_entropy(m(x), y).backward()
            opt.step()
        models.append(m)
    images = xt.view(400, 3, 2, 2)
    flat = [nn.Sequential(nn.Flatten(), m) for m in models]
    single = [top_k_error(average_softmax(m, images, progress=False), yt, ks=(1,))[1] for m in flat]
    together = top_k_error(ensemble_softmax(flat, images, progress=False), yt, ks=(1,))[1]
    assert together <= sum(single) / len(single)


@pytest.mark.parametrize("call, name", [
    (lambda x: average_softmax([], x, progress=False), "models"),
    (lambda x: average_softmax(toy(0), x, ten_crops=True, progress=False), "crop"),
    (lambda x: average_softmax(toy(0), x, crop=0, progress=False), "crop"),
    (lambda x: average_softmax(toy(0), x, crop=8, progress=False), "crop: a 8×8 crop"),
    (lambda x: average_softmax(toy(0), x[0], crop=4, progress=False), "data"),
    (lambda x: average_softmax(toy(0), x, crop=4, batch_size=0, progress=False), "batch_size"),
])
def test_bad_arguments_name_themselves(images, call, name):
    with pytest.raises(ValueError, match=name):
        call(images)
