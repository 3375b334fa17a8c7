"""The overlap control of §5.2: normalised correlation finds pre-training images that reappear in a transfer set."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from zfcourse.transfer import find_overlaps, grey_thumbnails, normalised_correlation, search_copies, thumbnails


def scenes(n, seed, side=72):
    """Smooth random colour images (structure about 8 px across), so that a 1-pixel shift is a small change."""
    low = torch.rand(n, 3, 9, 9, generator=torch.Generator().manual_seed(seed))
    return F.interpolate(low, size=side, mode="bicubic", align_corners=False)


@pytest.fixture(scope="module")
def world():
    big = scenes(300, seed=0)
    reference = big[:, :, 4:68, 4:68]                                # the pre-training set, 64×64
    clean = scenes(40, seed=1)[:, :, 4:68, 4:68]                      # a transfer set with no overlap
    copies = torch.tensor([3, 50, 120, 299])
    jittered = torch.tensor([7, 77, 150, 222])
    noise = 0.02 * torch.randn(4, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    # shifted by one pixel down and right, brighter, with a little noise
    moved = big[jittered][:, :, 5:69, 5:69] * 1.1 + 0.05 + noise
    query = torch.cat([clean, reference[copies], moved])
    return reference, clean, query, torch.cat([copies, jittered])


def test_correlation_is_pearsons_and_ignores_brightness():
    a, b = torch.randn(5, 30), torch.randn(4, 30)
    rho = normalised_correlation(a, b)
    expected = np.corrcoef(np.concatenate([a.numpy(), b.numpy()]))[:5, 5:]
    assert np.allclose(rho.numpy(), expected)
    assert torch.allclose(normalised_correlation(a, 3 * a + 7).diagonal(), torch.ones(5, dtype=torch.float64))
    assert normalised_correlation(torch.ones(1, 30), b).abs().max() == 0      # a constant has no direction


def test_finds_injected_copies_and_jittered_copies_and_nothing_else(world):
    reference, _, query, sources = world
    found = find_overlaps(thumbnails(query), thumbnails(reference), threshold=0.8, progress=False)
    injected = torch.arange(40, 48)
    assert torch.equal(found.queries(), injected)
    assert found.pairs.tolist() == [[q, s] for q, s in zip(injected.tolist(), sources.tolist())]
    assert torch.equal(found.references(), sources.sort().values)
    assert torch.equal(found.top_index[40:, 0], sources)                     # each copy's best match is its source
    assert (found.corr[:4] > 0.999).all() and (found.corr[4:] < 0.999).all()  # exact copies vs jittered ones
    assert found.top_corr[:40, 0].max() < 0.6                                # unrelated images stay far below
    assert found.top_index.shape == (48, 5) and (found.top_corr.diff(dim=1) <= 0).all()
    assert "8 of 48 query images" in found.summary()


def test_clean_set_gives_no_match_and_chunking_changes_nothing(world):
    reference, clean, query, _ = world
    assert len(find_overlaps(thumbnails(clean), thumbnails(reference), threshold=0.8, progress=False).pairs) == 0
    whole = find_overlaps(thumbnails(query), thumbnails(reference), threshold=0.8, progress=False)
    chunked = find_overlaps(thumbnails(query), thumbnails(reference), threshold=0.8, chunk=7, progress=False)
    assert torch.equal(whole.pairs, chunked.pairs) and torch.equal(whole.top_index, chunked.top_index)
    assert torch.allclose(whole.top_corr, chunked.top_corr)


@pytest.mark.parametrize("kwargs, name", [
    ({"threshold": 1.5}, "threshold"), ({"top_k": 0}, "top_k"), ({"chunk": 0}, "chunk"),
    ({"reference": torch.randn(10, 7)}, "reference"), ({"query": torch.randn(3)}, "query"),
])
def test_bad_arguments_name_themselves(kwargs, name):
    args = {"query": torch.randn(3, 8), "reference": torch.randn(10, 8), "progress": False, **kwargs}
    with pytest.raises(ValueError, match=name):
        find_overlaps(**args)


def test_thumbnail_arguments():
    assert thumbnails(torch.rand(2, 3, 32, 32), size=8).shape == (2, 64)
    with pytest.raises(ValueError, match="size"):
        thumbnails(torch.rand(2, 3, 32, 32), size=64)
    with pytest.raises(ValueError, match="images"):
        thumbnails(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="b:"):
        normalised_correlation(torch.randn(2, 4), torch.randn(2, 5))


def test_overlap_model_is_none_until_the_run_exists_then_loads_it(tmp_path):
    """course.overlap_model(cfg): None while <data>/course_model_inject80 holds no model.pt; the model once it does."""
    from types import SimpleNamespace

    from zfcourse.course import INJECT_DIR, overlap_model
    from zfcourse.models import course_model
    from zfcourse.train import CheckpointError, save_atomic, write_manifest

    cfg = SimpleNamespace(data_dir=tmp_path, device=torch.device("cpu"))
    assert overlap_model(cfg) is None
    (tmp_path / INJECT_DIR).mkdir()
    assert overlap_model(cfg) is None                                # an empty folder is a run not landed yet
    torch.manual_seed(3)
    trained = course_model()
    save_atomic(trained.state_dict(), tmp_path / INJECT_DIR / "model.pt")
    write_manifest(tmp_path / INJECT_DIR)
    got = overlap_model(cfg)
    assert not got.training
    x = torch.randn(2, 3, 168, 168)
    assert torch.allclose(got(x), trained.eval()(x))
    with open(tmp_path / INJECT_DIR / "model.pt", "ab") as f:      # damaged: an error, never a silent None
        f.write(b"x")
    with pytest.raises(CheckpointError):
        overlap_model(cfg)


def test_grey_thumbnails_of_an_image_and_of_its_resized_and_cropped_copies():
    renders = (scenes(7, seed=4, side=40) * 255).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)   # (7, 40, 40, 3)
    x = renders.permute(0, 3, 1, 2).float()
    assert torch.equal(grey_thumbnails(renders, size=8), thumbnails(x, 8))
    resized = F.interpolate(x, size=32, mode="bilinear", antialias=True)
    assert torch.allclose(grey_thumbnails(renders, "resize", side=32, size=8), thumbnails(resized, 8))
    assert torch.equal(grey_thumbnails(renders, "crop", side=32, size=8), thumbnails(x[..., 4:36, 4:36], 8))
    assert torch.equal(grey_thumbnails(renders, "crop", side=32, chunk=3), grey_thumbnails(renders, "crop", side=32))
    assert grey_thumbnails(renders.numpy(), size=4).shape == (7, 16)
    for kwargs, name in (({"how": "shrunk"}, "how"), ({"how": "crop"}, "side"), ({"how": "resize", "side": 41}, "side"),
                         ({"chunk": 0}, "chunk"), ({"images": x}, "images")):
        with pytest.raises(ValueError, match=name):
            grey_thumbnails(**({"images": renders} | kwargs))


def test_search_copies_sets_the_threshold_from_the_clean_set_and_counts_the_copies(world):
    reference, clean, _, _ = world
    transfer = thumbnails(clean)                                        # 40 transfer images
    injected = [0, 5, 9]                                                # three of them copied into pre-training
    pretrain = torch.cat([thumbnails(reference), transfer[injected]])   # 300 clean rows, then the copies
    expected = {(q, 300 + k) for k, q in enumerate(injected)}
    got = search_copies(transfer, pretrain, 300, expected)
    highest = float(normalised_correlation(transfer, thumbnails(reference)).max())
    assert got.clean_highest == pytest.approx(highest) and got.threshold == pytest.approx((1 + highest) / 2)
    assert got.found == 3 and got.flagged == 0
    assert got.copy_best.tolist() == pytest.approx([1.0] * 3)
    assert {tuple(p) for p in got.overlaps.pairs.tolist()} == expected
    # a wrong copy: the expected pair is not found, the pair that is there counts as flagged
    other = search_copies(transfer, torch.cat([thumbnails(reference), transfer[[1]]]), 300, {(2, 300)})
    assert other.found == 0 and other.flagged == 1 and other.copy_best.shape == (1,)
    with pytest.raises(ValueError, match="n_clean"):
        search_copies(transfer, pretrain, 0, expected)
    with pytest.raises(ValueError, match="expected"):
        search_copies(transfer, pretrain, 300, {(0, 12)})               # "copy" inside the clean rows
