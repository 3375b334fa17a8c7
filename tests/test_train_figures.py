"""Chapter 3's helpers: ten-crop evaluation (§3), Fig. 6a's filter tiles / RMS figures, finished runs on disk, and the
annotated-image figures of the embedded world."""
import json

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

matplotlib.use("Agg")

from zfcourse.data import WORLD_CROP, WorldDataset  # noqa: E402
from zfcourse.data.show import plot_annotated, plot_ten_crops  # noqa: E402
from zfcourse.train import save_snapshot  # noqa: E402
from zfcourse.train.figures import dominance, filter_tiles, plot_filter_rms, plot_filters, plot_history, rms_table  # noqa: E402
from zfcourse.train.runs import final_conv, load_history  # noqa: E402
from zfcourse.train.tencrop import ten_crop_accuracy  # noqa: E402


class LeftBright(nn.Module):
    """Predicts class 1 when the left half of the crop is brighter than the right half, else class 0."""

    def forward(self, x):
        w = x.shape[-1] // 2
        d = x[..., :w].mean((1, 2, 3)) - x[..., w:].mean((1, 2, 3))
        return torch.stack([-d, d], 1)

    def parameters(self, recurse=True):
        yield torch.zeros(1)


def test_ten_crop_accuracy_averages_softmax_over_crops_and_flips():
    images = torch.zeros(4, 3, 8, 8)
    images[:2, :, :, :4] = 1.0  # brighter on the left: class 1
    images[2:, :, :, 4:] = 1.0  # brighter on the right: class 0
    acc = ten_crop_accuracy(LeftBright(), images, [1, 1, 0, 0], crop=6, progress=False)
    assert acc["n"] == 4 and acc["centre"] == 1.0
    assert acc["per_crop"][:5] == [1.0] * 5 and acc["per_crop"][5:] == [0.0] * 5  # a mirror swaps left and right
    assert acc["ten_crop"] == 0.5  # ties (equal average scores) go to class 0
    with pytest.raises(ValueError, match="^images: "):
        ten_crop_accuracy(LeftBright(), images, [1, 0], crop=6)
    pixels = (images * 255).to(torch.uint8).permute(0, 2, 3, 1)  # uint8 (N, H, W, 3), mapped batch by batch
    as_input = ten_crop_accuracy(LeftBright(), pixels, [1, 1, 0, 0], crop=6, batch_size=3, progress=False,
                                 preprocess=lambda b: b.permute(0, 3, 1, 2).float() / 255)
    assert as_input == acc


def _history(rms_per_epoch):
    n = len(rms_per_epoch)
    return {"epoch": list(range(1, n + 1)), "train_loss": [2.0] * n, "train_acc": [0.5] * n, "val_loss": [2.0] * n,
            "val_acc": [0.5] * n, "lr": [0.01] * n, "filter_rms": {"conv1": rms_per_epoch},
            "clipped": {"conv1": [0] * n}}


def test_filter_figures_and_dominance():
    w = torch.randn(6, 3, 7, 7) * 0.01
    w[2] *= 20
    tiles = filter_tiles(w)
    assert tiles.shape == (6, 7, 7, 3) and tiles.min() >= 0 and tiles.max() <= 1
    assert np.abs(tiles[2] - 0.5).max() == pytest.approx(0.5)  # the large filter gets the full range
    assert np.abs(tiles[0] - 0.5).max() < 0.1  # the others look faint next to it
    assert np.abs(filter_tiles(w, common_scale=False)[0] - 0.5).max() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="^weight: "):
        filter_tiles(torch.zeros(6, 4, 3, 3))
    h = _history([[0.01, 0.01, 0.01, 0.01], [0.01, 0.01, 0.02, 0.08]])
    assert rms_table(h).shape == (2, 4)
    d = dominance(h)
    assert d["largest"] == 3 and d["max_over_median"] == pytest.approx(0.08 / 0.015)
    assert d["top_share"] == pytest.approx(0.0064 / (0.0001 * 2 + 0.0004 + 0.0064))
    assert dominance(h, epoch=1)["max_over_median"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="^epoch: "):
        dominance(h, epoch=3)
    with pytest.raises(KeyError, match="^.layer: "):
        rms_table(h, "conv9")
    for fig in (plot_filters({"a": w, "b": w * 2}), plot_filter_rms({"a": h, "b": h}), plot_history(h),
                plot_filter_rms({"a": h}, epoch=1)):
        assert fig.axes and fig.get_figwidth() <= 7.8  # fits a ~780-px text column at 100 dpi
    assert plot_filter_rms({"a": h}, epoch=1).axes[1].get_ylabel() == "RMS after epoch 1"
    with pytest.raises(ValueError, match="^epoch: "):
        plot_filter_rms({"a": h}, epoch=3)
    matplotlib.pyplot.close("all")


def test_runs_on_disk(tmp_path):
    (tmp_path / "history.json").write_text(json.dumps(_history([[0.01]])))
    assert load_history(tmp_path)["epoch"] == [1]
    with pytest.raises(FileNotFoundError, match="^folder: "):
        load_history(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="^folder: "):
        final_conv(tmp_path)
    from zfcourse.models import course_model
    model = course_model(num_classes=12, input_size=112)
    torch.save(model.state_dict(), tmp_path / "model.pt")
    assert torch.equal(final_conv(tmp_path)["features.conv1.weight"], model.features.conv1.weight.detach())
    save_snapshot(model, 3, tmp_path)  # a snapshot wins over model.pt (float16 → float32)
    w = final_conv(tmp_path)["features.conv1.weight"]
    assert w.dtype == torch.float32 and torch.equal(w, model.features.conv1.weight.detach().half().float())
    assert torch.equal(final_conv(tmp_path, epoch=3)["features.conv1.weight"], w)
    with pytest.raises(KeyError, match="^.epoch: "):
        final_conv(tmp_path, epoch=4)
    (tmp_path / "history.json").write_text(json.dumps(_history([[0.01]] * 4)))  # a 4-epoch run: model.pt is epoch 4
    assert torch.equal(final_conv(tmp_path, epoch=4)["features.conv1.weight"], model.features.conv1.weight.detach())
    with pytest.raises(KeyError, match="^.epoch: "):
        final_conv(tmp_path, epoch=5)


def test_annotated_and_ten_crop_figures():
    world = WorldDataset("train", size=42, progress=False)
    raws = [world.raw(i) for i in range(3)]
    fig = plot_annotated(np.stack([r[0] for r in raws]), [r[1] for r in raws], ncols=3)
    assert len(fig.axes) >= 3
    assert len(plot_ten_crops(raws[0][0], WORLD_CROP).axes) == 11
    with pytest.raises(ValueError, match="^annotations: "):
        plot_annotated(np.stack([r[0] for r in raws]), [raws[0][1]])
    with pytest.raises(ValueError, match="^image: "):
        plot_ten_crops(raws[0][0][:100], 64)
    matplotlib.pyplot.close("all")


def _result(row, seed, val_acc, last=5):
    return {"row": row, "seed": seed, "history": {"val_acc": val_acc, "last": last}}


def test_plot_val_curves_one_colour_per_row_and_a_band_over_the_last_epochs():
    from zfcourse.train import plot_val_curves

    results = {"zf": _result("zf", 0, [0.2, 0.4, 0.5, 0.6], last=3),           # any order in: Table 3's order out
               "krizhevsky-seed1": _result("krizhevsky", 1, [0.1, 0.1, 0.2, 0.3], last=2),
               "krizhevsky": _result("krizhevsky", 0, [0.1, 0.2, 0.3, 0.4], last=2)}
    shipped = {"zf": _result("zf", 0, [0.3, 0.6], last=1)}
    fig = plot_val_curves(results, shipped, chance=0.25)
    ax = fig.axes[0]
    labelled = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert list(labelled) == ["krizhevsky", "krizhevsky-seed1", "zf", "zf, shipped (10⁻²)", "chance"]
    np.testing.assert_allclose(labelled["krizhevsky"].get_ydata(), [90, 80, 70, 60])
    assert labelled["krizhevsky"].get_color() == labelled["krizhevsky-seed1"].get_color()   # a row's seeds share it
    assert labelled["zf"].get_color() == labelled["zf, shipped (10⁻²)"].get_color()
    assert labelled["zf"].get_color() != labelled["krizhevsky"].get_color()
    assert labelled["krizhevsky-seed1"].get_linewidth() < labelled["krizhevsky"].get_linewidth()
    assert labelled["zf, shipped (10⁻²)"].get_linestyle() == "--"
    np.testing.assert_allclose(labelled["chance"].get_ydata(), [75, 75])
    bands = [line for line in ax.get_lines() if line.get_label().startswith("_")]
    assert [list(b.get_xdata()) for b in bands] == [[3, 4], [3, 4], [2, 3, 4], [2]]   # each run's own window
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_plot_val_curves_names_a_bad_row_and_a_bad_chance():
    from zfcourse.train import plot_val_curves

    with pytest.raises(ValueError, match=r"results\['x'\]: row 'resnet'"):
        plot_val_curves({"x": _result("resnet", 0, [0.5])})
    with pytest.raises(ValueError, match="chance"):
        plot_val_curves({"zf": _result("zf", 0, [0.5])}, chance=1.5)
