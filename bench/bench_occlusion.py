"""Occlusion maps per second (§4.2, Fig. 7): zfcourse.occlusion.occlusion_maps against Captum's Occlusion.

The same work for both: a 224×224 image, a 32×32 grey occluder moved in steps of 8 (25 × 25 = 625 positions), the
full-size ZFNet of Fig. 3 (random §3 weights), 64 occluded images per forward pass (Captum: perturbations_per_eval=64),
plus one unoccluded pass each. occlusion_maps also records the label map and a conv5 map's activation from the same
passes; Captum returns one attribution per pixel. Runs alternate between the two so shared-machine load hits both. (That the two agree is checked in
tests/test_occlusion.py.)

    python bench/bench_occlusion.py [--repeats 3] [--threads 2] [--device cpu]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
from captum.attr import Occlusion

from zfcourse.models import zfnet
from zfcourse.occlusion import occlusion_maps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--stride", type=int, default=8)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = zfnet().eval().to(device)
    image = (60 * torch.randn(3, 224, 224)).to(device)
    target, size, stride = 7, args.size, args.stride
    captum = Occlusion(lambda x: model(x).softmax(-1))
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def ours():
        return occlusion_maps(model, image, target, size, stride, batch_size=args.batch, progress=False).prob

    def theirs():
        with torch.no_grad():  # Captum's Occlusion does not need gradients either
            return captum.attribute(image[None], sliding_window_shapes=(3, size, size), strides=(3, stride, stride),
                                    baselines=0.0, target=target, perturbations_per_eval=args.batch)

    with torch.no_grad():  # warm-up: one batch through the model
        model(image[None].expand(args.batch, -1, -1, -1))
    times = {"zfcourse.occlusion_maps": [], "captum Occlusion": []}
    for _ in range(args.repeats):
        for name, fn in (("zfcourse.occlusion_maps", ours), ("captum Occlusion", theirs)):
            sync(); start = time.perf_counter(); fn(); sync()
            times[name].append(time.perf_counter() - start)
    positions = ((224 - size) // stride + 1) ** 2
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
          f"torch {torch.__version__}, {args.threads} threads, device {device}")
    print(f"work: 224×224, size {size}, stride {stride}, {positions} positions + 1 unoccluded, batch {args.batch}, "
          f"{args.repeats} repeats (median)")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:26s} {med:7.2f} s/map  {1 / med:6.3f} maps/s  {positions / med:7.1f} occluded images/s  "
              f"(runs: {', '.join(f'{t:.2f}' for t in ts)})")
    ratio = statistics.median(times["captum Occlusion"]) / statistics.median(times["zfcourse.occlusion_maps"])
    print(f"speed-up over Captum: {ratio:.2f}×")


if __name__ == "__main__":
    main()
