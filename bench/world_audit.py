"""The world audit (world v2): shortcut baselines, and — given a trained model — part omission, empty scenes,
scale and context. Writes bench/world.md.

    python bench/world_audit.py                       # shortcut baselines only
    python bench/world_audit.py --model DIR           # + the model-based half (DIR holds model.pt)
    python bench/world_audit.py --model DIR --palette-model DIR2   # + palette_effect of both models (DIR2: a model
                                                      # trained with --palette per-class)

The shortcut baselines run twice: on the world as it is, and on the same scenes drawn with a colour scheme per class
(``palette="per-class"``, the first embedded world's shortcut), to show what the shared palette takes away.
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from zfcourse.data import audit  # noqa: E402
from zfcourse.data.families import NUM_CLASSES  # noqa: E402
from zfcourse.data.world_data import world_preprocess  # noqa: E402


def load(folder, input_size=168):
    from zfcourse.models import course_model
    model = course_model(num_classes=NUM_CLASSES, input_size=input_size)
    from zfcourse.train import load_checkpoint
    state = load_checkpoint(Path(folder) / "model.pt")  # weights_only, manifest and finite checks
    model.load_state_dict(state.get("model", state) if isinstance(state, dict) and "model" in state else state)
    return model.eval()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=None)
    p.add_argument("--palette-model", default=None, help="a model trained on the per-class palette (palette_effect)")
    p.add_argument("--out", default=str(Path(__file__).with_name("world.md")))
    p.add_argument("--json", default=str(Path(__file__).with_name("world_audit.json")))
    a = p.parse_args()
    t0 = time.time()
    res = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
           "shortcuts": audit.shortcut_baselines(),
           "shortcuts_per_class_palette": audit.shortcut_baselines(palette="per-class")}
    if a.model:
        model, pre = load(a.model), world_preprocess()
        res["part_omission"] = audit.part_omission(model, pre)
        res["empty_scenes"] = audit.empty_scenes(model, pre)
        res["scale_sweep"] = audit.scale_sweep(model, pre)
        res["context"] = audit.context_effect(model, pre)
        res["palette_effect"] = {"model": audit.palette_effect(model, pre)}
        if a.palette_model:
            res["palette_effect"]["palette_model"] = audit.palette_effect(load(a.palette_model), pre)
    res["seconds"] = round(time.time() - t0)
    Path(a.json).write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res["shortcuts"]))


if __name__ == "__main__":
    main()
