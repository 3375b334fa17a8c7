"""Occlusion maps (§4.2, Fig. 7): method="incremental" against method="full" and Captum's Occlusion, with the
multiply-add bound beside each measured speed-up.

Workloads (random weights — speed does not depend on them; grey occluder of 32 px unless said):
  zfnet-s8    ZFNet of Fig. 3, 224², stride 8 (625 positions)
  zfnet-s16   ZFNet, 224², stride 16 (169 positions)
  course      the course model at its own size, 168², a 24-px square, stride 8 (361 positions)
  vgg16-s16   torchvision VGG16, 224², stride 16 (169 positions)

Every workload runs `occlusion_maps(..., method="incremental")` over all its positions. `method="full"` runs all
positions where that is cheap and otherwise a random subset of occluder rows (`--full-rows`), through the same code
path, its time scaled to all positions; Captum runs the whole grid on the workloads named in `--captum`. The
multiply-adds come from `occlusion_cost`: per occluded image, full / what incremental computes / the changed regions
alone (the bound). Incremental and full are checked to agree on the positions both ran.

    nice -n 19 python bench/bench_occlusion.py --threads 2                       # CPU (bench/occlusion.md)
    python bench/bench_occlusion.py --device cuda --threads 8 --full-rows 0     # GPU, every position
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from zfcourse.models import course_model, zfnet
from zfcourse.occlusion import occlusion_cost, occlusion_maps
from zfcourse.occlusion.maps import _full_batches

WORKLOADS = {  # name: (model factory, image side, occluder size, stride)
    "zfnet-s8": (lambda: zfnet(), 224, 32, 8),
    "zfnet-s16": (lambda: zfnet(), 224, 32, 16),
    "course": (lambda: course_model(), 168, 24, 8),
    "vgg16-s16": (lambda: __import__("torchvision.models", fromlist=["vgg16"]).vgg16(), 224, 32, 16),
}


def timed(fn, sync):
    sync()
    start = time.perf_counter()
    out = fn()
    sync()
    return time.perf_counter() - start, out


def run(name, args, device, sync):
    factory, side, size, stride = WORKLOADS[name]
    torch.manual_seed(0)
    model = factory().eval().to(device)
    image = (60 * torch.randn(3, side, side)).to(device)
    ys = torch.arange(0, side - size + 1, stride)
    positions = len(ys) ** 2
    target, batch = 7, args.batch
    with torch.no_grad():  # warm-up: one batch through the model, one incremental map on a coarse grid
        model(image[None].expand(min(batch, 8), -1, -1, -1).contiguous(memory_format=torch.channels_last))
        occlusion_maps(model, image, target, size, side - size, layer=None, method="incremental", progress=False)
    t_inc, inc = timed(lambda: occlusion_maps(model, image, target, size, stride, layer=None, batch_size=batch,
                                              method="incremental", progress=False), sync)
    # method="full": its own batched path, on every row of occluder positions or a random subset of rows.
    rows = torch.arange(len(ys))
    if args.full_rows and args.full_rows < len(ys) and side >= 224:
        rows = torch.randperm(len(ys), generator=torch.Generator().manual_seed(1))[:args.full_rows].sort().values
    layout = torch.channels_last if device.type == "cpu" else torch.contiguous_format
    fill = torch.zeros(3, 1, 1, device=device)

    def full():
        with torch.no_grad():
            return [(iy, ix, logits.softmax(-1)[:, target].cpu()) for iy, ix, logits, _ in
                    _full_batches(model, image, fill, size, ys[rows], ys, batch, layout, None)]
    t_full, out = timed(full, sync)
    prob_full = torch.zeros(len(rows), len(ys))
    for iy, ix, p in out:
        prob_full[iy, ix] = p
    diff = float((inc.prob[rows] - prob_full).abs().max() / prob_full.abs().max())
    t_full *= len(ys) / len(rows)
    t_captum = None
    if name in args.captum:
        from captum.attr import Occlusion
        captum = Occlusion(lambda x: model(x).softmax(-1))
        with torch.no_grad():
            t_captum, _ = timed(lambda: captum.attribute(
                image[None], sliding_window_shapes=(3, size, size), strides=(3, stride, stride), baselines=0.0,
                target=target, perturbations_per_eval=batch), sync)
    cost = occlusion_cost(model, size, stride, batch_size=batch)
    return dict(name=name, side=side, size=size, stride=stride, positions=positions, inc=t_inc, full=t_full,
                full_share=len(rows) / len(ys), captum=t_captum, diff=diff, cost=cost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="course,zfnet-s8,zfnet-s16,vgg16-s16")
    parser.add_argument("--captum", default="course,zfnet-s16", help="workloads on which to time Captum too")
    parser.add_argument("--full-rows", type=int, default=4,
                        help="occluder rows method='full' runs on the 224² workloads (0: all); scaled to all rows")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    args.captum = [c for c in args.captum.split(",") if c]
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, torch "
          f"{torch.__version__}, {args.threads} threads, device {device}, batch {args.batch}; "
          f"load average before: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("| workload | positions | incremental (s) | full (s) | Captum (s) | speed-up over full | over Captum | "
          "multiply-adds per image: full / incremental / bound (M) | MA speed-up computed / bound | max rel. diff |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.workloads.split(","):
        r = run(name, args, device, sync)
        c = r["cost"]
        sampled = "" if r["full_share"] == 1 else f" ({r['full_share']:.0%} of rows, scaled)"
        captum = f"{r['captum']:.3g}" if r["captum"] is not None else "—"
        over_captum = f"{r['captum'] / r['inc']:.2f}×" if r["captum"] is not None else "—"
        print(f"| {name}: {r['side']}², {r['size']} px, stride {r['stride']} | {r['positions']} | {r['inc']:.3g} | "
              f"{r['full']:.3g}{sampled} | {captum} | **{r['full'] / r['inc']:.2f}×** | {over_captum} | "
              f"{c.full / 1e6:.0f} / {c.incremental / 1e6:.0f} / {c.bound / 1e6:.0f} | "
              f"{c.speedup('incremental'):.2f}× / {c.speedup():.2f}× | {r['diff']:.1e} |", flush=True)
    print(f"load average after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
