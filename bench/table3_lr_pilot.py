"""Table 3's learning rate: which rows keep their ReLU layers alive in their first updates, at which rates (issue 11).

For each row and learning rate: the row's network (the course's scaled init, seed 0) is trained by the course loop
(SGD, momentum 0.9, batch 128, feature scale clipping, optional linear warm-up) for ``--epochs`` passes over the
first 12,800 training renders (100 updates each), and every 50 updates the share of positive activations of each
ReLU is measured on 256 validation renders (eval mode). A layer at 0 passes no gradient: it is dead for good.

    python bench/table3_lr_pilot.py --rows krizhevsky-no3467,krizhevsky --lrs 0.01,0.003,0.001 --epochs 5

Prints one JSON line per (row, lr, warm-up). Results and the decision they led to: bench/table3.md.
"""
import argparse
import json
import tempfile
import time

import torch
from torch.utils.data import Subset

from zfcourse.data import WorldDataset
from zfcourse.environment import seed_everything
from zfcourse.models import ablated
from zfcourse.train import TrainConfig, scaled_init_, train
from zfcourse.train.cli import TABLE3


@torch.no_grad()
def positive_share(model, x):
    """{ReLU name: share of its activations > 0 on x} (eval mode)."""
    shares, hooks = {}, []

    def keep(name):
        def hook(module, inputs, out):
            shares[name.split(".")[-1]] = round((out > 0).float().mean().item(), 3)
        return hook

    for name, m in model.named_modules():
        if isinstance(m, torch.nn.ReLU):
            hooks.append(m.register_forward_hook(keep(name)))
    was = model.training
    model.eval()
    model(x)
    model.train(was)
    for h in hooks:
        h.remove()
    return shares


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", required=True, help="comma-separated Table 3 rows")
    p.add_argument("--lrs", default="0.01", help="comma-separated learning rates")
    p.add_argument("--warmup", default="0", help="comma-separated warm-up lengths (updates)")
    p.add_argument("--epochs", type=int, default=1, help="passes over the 12,800 renders (100 updates each)")
    args = p.parse_args()
    train_set = Subset(WorldDataset("train", size=42_000, seed=0, cache=True, progress=False), range(12_800))
    val = WorldDataset("val", size=4_200, seed=0, cache=True, progress=False)
    x = torch.stack([val[i][0] for i in range(256)])
    for row in args.rows.split(","):
        for lr in map(float, args.lrs.split(",")):
            for warmup in map(int, args.warmup.split(",")):
                seed_everything(0)
                model = scaled_init_(ablated(**TABLE3[row].kwargs))
                trace = []

                def every_50(epoch, step, model=model, trace=trace):
                    if step % 50 == 0:
                        trace.append(((epoch - 1) * 100 + step, positive_share(model, x)))

                t0 = time.time()
                with tempfile.TemporaryDirectory() as out:
                    h = train(model, train_set, Subset(val, range(1024)), out,
                              TrainConfig(epochs=args.epochs, lr=lr, anneal_patience=1000, warmup_steps=warmup,
                                          progress=False), on_step=every_50)
                print(json.dumps({"row": row, "lr": lr, "warmup": warmup,
                                  "train_loss": [round(v, 3) for v in h["train_loss"]],
                                  "val_acc": [round(v, 4) for v in h["val_acc"]],
                                  "relu5_positive": [(u, s.get("relu5")) for u, s in trace],
                                  "lowest_layer_share": [(u, min(s.values())) for u, s in trace],
                                  "seconds": round(time.time() - t0)}), flush=True)


if __name__ == "__main__":
    main()
