"""Top-k mining for Figs. 2 and 4 (§4): five layers in one pass (zfcourse.features.top_k_layers) against one
zfcourse.features.top_k pass per layer, both against a forward-only pass of the same trunk over the same images; and
the cost of one Fig. 4 column (feature_evolution for one epoch, 3 maps × 5 layers).

The course model (random §3-scale weights), 168×168 inputs in input space (values ~ ±60), batches of 128, images held
in a tensor so that no rendering is timed. Runs alternate between the variants so shared-machine load hits all.

    python bench/bench_top_layers.py [--images 1024] [--repeats 3] [--threads 2] [--device cpu] \
        [--out bench/feature_visualization.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from zfcourse.deconv import path
from zfcourse.features import feature_evolution, top_k, top_k_layers
from zfcourse.models import course_model

LAYERS = ["relu1", "relu2", "relu3", "relu4", "relu5"]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--out", default=None, help="append a results row to this markdown file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = course_model().eval().to(device)
    data = (60 * torch.randn(args.images, 3, 168, 168)).to(device)
    trunk = torch.nn.Sequential(*[m for _, m in path(model, "relu5")[1]])

    @torch.no_grad()
    def forward_only():
        for x in data.split(args.batch):
            trunk(x)

    variants = {
        "forward only (trunk to relu5)": forward_only,
        "top_k_layers, 5 layers, 1 pass": lambda: top_k_layers(model, data, LAYERS, 9, args.batch, progress=False),
        "top_k, 1 pass per layer (5)": lambda: [top_k(model, data, name, 9, args.batch, progress=False)
                                                for name in LAYERS],
        "Fig. 4 column (1 epoch, 15 maps)": lambda: feature_evolution(
            model, {1: model}, data, {name: [0, 1, 2] for name in LAYERS}, batch_size=args.batch, progress=False),
    }
    for f in variants.values():  # warm-up
        f()
    times = {k: [] for k in variants}
    for _ in range(args.repeats):
        for name, f in variants.items():
            sync(device)
            t = time.perf_counter()
            f()
            sync(device)
            times[name].append(time.perf_counter() - t)
    base = statistics.median(times["forward only (trunk to relu5)"])
    machine = (f"{platform.machine()} {os.cpu_count()} cores, {args.threads} threads" if device.type == "cpu"
               else torch.cuda.get_device_name(device))
    lines = [f"| {name} | {statistics.median(t):.2f} s | {args.images / statistics.median(t):,.0f} | "
             f"{statistics.median(t) / base:.2f}× |" for name, t in times.items()]
    header = (f"\n### {machine}, {args.images} images, batch {args.batch}, median of {args.repeats} "
              f"(torch {torch.__version__})\n\n| variant | time | images/s | × forward only |\n|---|---|---|---|")
    text = header + "\n" + "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write(text)


if __name__ == "__main__":
    main()
