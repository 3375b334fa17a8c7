"""setup(): run mode, data source and device selection (DESIGN.md "Run modes", "Two data sources")."""
import json
from pathlib import Path

import pytest
import torch

from zfcourse.environment import REPO_URL, banner, choose_device, choose_mode, choose_source, setup

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("environ, mode", [
    ({}, "full"), ({"ZFCOURSE_QUICK": "1"}, "quick"), ({"CI": "true"}, "quick"),
    ({"ZFCOURSE_MODE": "full", "CI": "true"}, "full"), ({"ZFCOURSE_QUICK": "0"}, "full"),
])
def test_mode_from_environment(environ, mode):
    assert choose_mode(None, environ) == mode


def test_explicit_mode_wins_and_bad_mode_is_named():
    assert choose_mode("quick", {}) == "quick"
    with pytest.raises(ValueError, match="mode: expected one of"):
        choose_mode("fast", {})


def test_source_selection():
    online, offline = (lambda: True), (lambda: False)
    assert choose_source(None, "full", {}, online)[0] == "imagenet"
    assert choose_source(None, "full", {}, offline) == ("embedded",
                                                        "auto: no network, falling back to the offline embedded world")
    assert choose_source(None, "quick", {}, online)[0] == "embedded"  # quick mode never goes online
    assert choose_source(None, "full", {"ZFCOURSE_SOURCE": "embedded"}, online)[0] == "embedded"
    assert choose_source("imagenet", "quick", {}, offline) == ("imagenet", "requested")
    with pytest.raises(ValueError, match="source: expected one of"):
        choose_source("cifar", "full", {}, online)


def test_setup_prints_what_it_picked_in_lines_of_at_most_100_characters_and_seeds(capsys):
    cfg = setup(source="embedded", mode="quick", device="cpu", seed=3)
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines and all(len(line) <= 100 for line in lines), [len(line) for line in lines]
    assert "source=embedded (requested)" in text and "mode=quick" in text and "device=cpu" in text
    assert "seed=3" in text and f"torch {torch.__version__}" in text and "data=clone" in text
    assert cfg.quick and cfg.pick(1, 2) == 1 and cfg.data_dir == ROOT / "data"
    first = torch.rand(3)
    setup(source="embedded", mode="quick", device="cpu", seed=3, verbose=False)
    assert torch.equal(first, torch.rand(3))


def test_banner_wraps_between_items():
    items = ["source=embedded (auto: no network, falling back to the offline embedded world)", "mode=full",
             "device=cpu", "seed=0", "data=clone", "python 3.12.11", "torch 2.8.0+cu126", "torchvision 0.23.0+cu126",
             "matplotlib 3.10.0"]
    text = banner(items)
    lines = text.splitlines()
    assert len(lines) == 3 and all(len(line) <= 100 for line in lines)
    assert lines[0].startswith("zfcourse: source=embedded") and lines[1].startswith("  ")
    assert " · ".join(line.strip() for line in lines).replace("zfcourse: ", "") == " · ".join(items)
    assert banner(["x" * 120, "y"]) == "zfcourse: " + "x" * 120 + "\n  y"      # a long item gets its own line


def test_device_default_is_best_available():
    assert choose_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert choose_device().type in (expected, "mps")


def test_every_notebook_starts_with_the_same_setup_cell():
    """One place holds the repository URL: each chapter's bootstrap cell and _config.yml must agree with it."""
    assert REPO_URL in (ROOT / "_config.yml").read_text()
    notebooks = sorted((ROOT / "book").glob("*.ipynb"))
    assert notebooks, "no chapters found in book/"
    for nb in notebooks:
        cells = [c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
        first = "".join(cells[0]["source"])
        assert f'zfcourse @ git+{REPO_URL}' in first and "zfcourse.setup(" in first, nb.name


def test_the_per_user_cache_and_the_data_lookup_order(tmp_path):
    from zfcourse.environment import cache_dir, find_data
    assert cache_dir({"ZFCOURSE_CACHE": "/a", "XDG_CACHE_HOME": "/b"}) == Path("/a")
    assert cache_dir({"XDG_CACHE_HOME": "/b"}) == Path("/b/zfcourse")
    assert cache_dir({}) == Path.home() / ".cache" / "zfcourse"
    other = tmp_path / "data"
    (other / "course_model").mkdir(parents=True)
    (other / "course_model" / "model.pt").write_bytes(b"")
    assert find_data({"ZFCOURSE_DATA": str(other)}) == other          # 1. the variable wins
    assert find_data({}) == ROOT / "data"                              # 2. then the clone's data/
    assert setup(source="embedded", mode="quick", device="cpu", verbose=False).data_dir == ROOT / "data"


def test_missing_data_message_names_the_file_it_looked_for():
    from zfcourse.environment import in_clone, missing_data_message

    text = missing_data_message("the no-clipping run", missing="course_model_noclip/history.json")
    assert text.startswith("zfcourse: the no-clipping run was not found.")
    if in_clone():
        assert "holds no course_model_noclip/history.json" in text
        assert "holds no course_model/model.pt" not in text
