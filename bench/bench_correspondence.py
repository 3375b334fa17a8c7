"""Δ of §4.3 (Table 1): the one-hot matrix product in zfcourse.correspondence.delta against a plain loop over pairs,
and one whole Table 1 on the course model.

Δ for N images and D features needs the N(N−1)/2 pairwise Hamming distances of sign vectors. ``delta`` one-hot
encodes the signs and gets every pair's agreement count from one (N, 3D) @ (3D, N) product; the reference computes
``(sign(ε_i) != sign(ε_j)).sum()`` pair by pair in Python. Sizes: N = 5 at the paper's layer 5 (D = 13·13·256 =
43,264) and layer 7 (4,096), and N = 50 to show the scaling. The table: 5 faces of probe_set("fig8_faces"), 15-px
masks, 50 random draws (the full-mode setting of chapter 8), a freshly initialised course model (same cost as the
trained one). Results go to bench/correspondence.md.

    python bench/bench_correspondence.py [--repeats 5] [--threads 1] [--device cpu]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from zfcourse.correspondence import correspondence_table, delta
from zfcourse.data import probe_set, world_preprocess
from zfcourse.models import course_model


def delta_loop(eps: torch.Tensor) -> float:
    """Reference Δ: a Python loop over ordered pairs (same definition as ``delta``)."""
    s = torch.sign(eps)
    n, d = s.shape
    total = sum(int((s[i] != s[j]).sum()) for i in range(n) for j in range(n) if i != j)
    return total / (d * n * (n - 1))


def timed(fn, repeats: int, sync) -> tuple[float, list[float]]:
    fn()                                                          # warm-up
    ts = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        ts.append(time.perf_counter() - start)
    return statistics.median(ts), ts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    g = torch.Generator().manual_seed(0)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
          f"torch {torch.__version__}, {args.threads} threads, device {device}; median of {args.repeats} runs")
    for n, d in ((5, 43264), (5, 4096), (50, 43264)):
        eps = (torch.randn(n, d, generator=g) * (torch.rand(n, d, generator=g) < 0.1)).to(device)
        assert abs(delta(eps) - delta_loop(eps)) < 1e-12
        fast, _ = timed(lambda e=eps: delta(e), args.repeats, sync)
        slow, _ = timed(lambda e=eps: delta_loop(e), args.repeats, sync)
        print(f"Δ  N={n:3d} D={d:6d}: delta {fast * 1e3:8.2f} ms   "
              f"pair loop {slow * 1e3:8.2f} ms   ({slow / fast:5.1f}×)")
    faces = probe_set("fig8_faces")
    x = faces.inputs(world_preprocess()).to(device)
    kps, boxes = [a.keypoints for a in faces.annotations], [a.box for a in faces.annotations]
    torch.manual_seed(0)
    model = course_model().to(device).eval()
    med, ts = timed(lambda: correspondence_table(model, x, kps, boxes, size=15, n_random=50), args.repeats, sync)
    print(f"Table 1 (5 faces, 3 parts + 50 random draws = 265 images, 2 layers): {med:.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in ts)})")


if __name__ == "__main__":
    main()
