"""Data throughput of the embedded world (images/s) against what training consumes (issue 3: "generation fast enough
that CPU training is never waiting on data").

Measured, all in one process unless stated:

* ``render``: :func:`zfcourse.data.render` — drawing one 192×192 scene with its annotation from (seed, index);
* ``pre-render (W workers)``: what ``WorldDataset(cache=True, workers=W)`` does once;
* ``__getitem__ cached``: a training item from the in-memory cache — random 168 crop, flip, mean subtraction;
* ``__getitem__ uncached``: the same, rendering the image on the fly;
* ``DataLoader cached``: batches of 128 through a DataLoader (collation included), workers 0 — the training loop's
  setting — with the loop's :func:`~zfcourse.train.collate.stack_collate` and with torch's ``default_collate``.

Compare with ``bench/bench_train.py`` (training images/s). Results: bench/train.md (world v1) and bench/world.md
(world v2's rendering speed).

    python bench/bench_data.py [--n 600] [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import torch
from torch.utils.data import DataLoader

from zfcourse.data import WorldDataset, render, world_preprocess
from zfcourse.train.collate import stack_collate


def rate(fn, n: int) -> float:
    """Calls of ``fn(i)`` for i < n per second."""
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=600, help="images per measurement")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--workers", type=int, default=2, help="workers for the prerender measurement")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    n = args.n
    print(f"machine: {platform.machine()} CPU, {os.cpu_count()} cores visible; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {n} images per row")
    pre = world_preprocess()  # computed once per process (840 renders); not part of any measurement below
    rows = [("render (one process)", rate(lambda i: render(0, 10_000 + i), n))]
    start = time.perf_counter()
    cached = WorldDataset("train", size=n, preprocess=pre, cache=True, workers=args.workers, progress=False)
    rows.append((f"pre-render ({args.workers} workers)", n / (time.perf_counter() - start)))
    plain = WorldDataset("train", size=n, preprocess=pre, cache=False)
    rows.append(("__getitem__ cached (crop, flip, mean)", rate(lambda i: cached[i], n)))
    rows.append(("__getitem__ uncached (render + crop, flip, mean)", rate(lambda i: plain[i], n)))
    for name, collate in (("stack_collate (the training loop's)", stack_collate), ("torch default_collate", None)):
        loader = DataLoader(cached, batch_size=128, shuffle=True, drop_last=True, collate_fn=collate)
        start = time.perf_counter()
        seen = sum(len(y) for _, y in loader)
        rows.append((f"DataLoader cached, batch 128, workers 0, {name}", seen / (time.perf_counter() - start)))
    print("| what | images/s |")
    print("|---|---|")
    for name, ips in rows:
        print(f"| {name} | {ips:,.0f} |")


if __name__ == "__main__":
    main()
