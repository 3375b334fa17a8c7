"""Training throughput of the §3 recipe (images/s), and on a GPU the fraction of the card's peak it reaches (MFU).

Two measurements:

* ``step``: the bare optimiser step the training loop repeats — forward, cross-entropy, backward, SGD with momentum,
  feature scale clipping — on a fixed random batch already on the device (no data loading). On CUDA it is run in
  four variants: fp32, channels_last, bf16 autocast, bf16 + channels_last (what ``python -m zfcourse train`` uses
  there). TF32 matmuls are left at torch's default (off for matmul, on for cuDNN convolutions).
* ``loop``: one real epoch of :func:`zfcourse.train.train` on a cached :class:`~zfcourse.data.WorldDataset`
  (random crops/flips, mean subtraction and collation in the main process, validation excluded) — the number the
  training history records as ``images_per_s``.

Model FLOPs utilisation: a training step costs about 3× the forward pass (forward, then the gradients with respect to
activations and to weights), i.e. 3 · 2 · (multiply-adds per image) FLOPs per image, multiply-adds from
``zfcourse.models.geometry`` (Fig. 3's table, for the course model at 168² and ZFNet at 224²; the script prints them).
MFU = achieved FLOP/s ÷ the card's dense peak for the precision used (bf16 tensor cores for bf16 runs, the fp32
(non-tensor) peak for fp32 runs). Known cards' peaks are built in; pass ``--peak-bf16``/``--peak-fp32`` (TFLOP/s)
for others.

    python bench/bench_train.py                       # CPU: step + loop, course model, batch 128
    python bench/bench_train.py --device cuda         # GPU: the four step variants with MFU, then the loop
    python bench/bench_train.py --device cuda --arch zfnet   # the full-size ZFNet of Fig. 3 at 224²
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import torch
import torch.nn.functional as F

from zfcourse.models import course_model, geometry, zfnet
from zfcourse.train import TrainConfig, clip_filter_rms_, train

# Dense peak TFLOP/s (bf16 tensor cores, fp32 non-tensor) of cards by a substring of torch.cuda.get_device_name().
PEAKS = {"H200": (989.0, 67.0), "H100 PCIe": (756.0, 51.0), "H100": (989.0, 67.0), "A100": (312.0, 19.5),
         "L40S": (362.0, 91.6), "L4": (121.0, 30.3), "A10G": (70.0, 31.2), "T4": (65.0, 8.1), "V100": (125.0, 15.7)}
ARCHS = {"course": (lambda: course_model(), 168), "zfnet": (lambda: zfnet(num_classes=1000), 224)}


def card_peaks(device: torch.device, bf16: float | None, fp32: float | None) -> tuple[float | None, float | None]:
    """(bf16, fp32) dense peaks in TFLOP/s: the flags if given, else the built-in table for this card, else None."""
    if device.type != "cuda":
        return bf16, fp32
    name = torch.cuda.get_device_name(device)
    known = next((v for k, v in PEAKS.items() if k in name), (None, None))
    return bf16 or known[0], fp32 or known[1]


def step_throughput(arch: str, device: torch.device, batch: int, steps: int, warmup: int, bf16: bool,
                    channels_last: bool) -> float:
    """Images/s of the bare training step (forward, loss, backward, SGD, clipping) on one fixed batch."""
    build, size = ARCHS[arch]
    torch.manual_seed(0)
    model = build().to(device).train()
    x = (60 * torch.randn(batch, 3, size, size)).to(device)
    y = torch.randint(0, 10, (batch,), device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        clip_filter_rms_(model, 0.1)

    for _ in range(warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return steps * batch / (time.perf_counter() - start)


def loop_throughput(device: torch.device, batch: int, images: int) -> float:
    """Images/s of one epoch of zfcourse.train.train on a cached embedded training set (as history records it)."""
    from zfcourse.data import WorldDataset

    data = WorldDataset("train", size=images, cache=True, progress=False)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as out:
        history = train(course_model(), data, None, out,
                        TrainConfig(epochs=1, batch_size=batch, progress=False), device=device)
    return history["images_per_s"][0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--arch", choices=sorted(ARCHS), default="course")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=None, help="timed steps (default 10 on CPU, 50 on GPU)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 2 on CPU, 10 on GPU)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--loop-images", type=int, default=1280, help="images in the `loop` epoch (0 skips it)")
    p.add_argument("--peak-bf16", type=float, default=None, help="card's dense bf16 peak, TFLOP/s")
    p.add_argument("--peak-fp32", type=float, default=None, help="card's dense fp32 peak, TFLOP/s")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    steps = args.steps or (50 if cuda else 10)
    warmup = args.warmup if args.warmup is not None else (10 if cuda else 2)
    build, size = ARCHS[args.arch]
    macs = sum(row.multiply_adds for row in geometry(build(), size))
    flops_per_image = 3 * 2 * macs
    peak_bf16, peak_fp32 = card_peaks(device, args.peak_bf16, args.peak_fp32)
    where = torch.cuda.get_device_name(device) if cuda else f"{platform.machine()} CPU, {os.cpu_count()} cores visible"
    print(f"machine: {where}; torch {torch.__version__}, {torch.get_num_threads()} threads; arch {args.arch} "
          f"({size}²), batch {args.batch}, {macs / 1e6:.1f} M multiply-adds/image → "
          f"{flops_per_image / 1e9:.3f} GFLOP per training image")
    variants = [(False, False)] + ([(False, True), (True, False), (True, True)] if cuda else [])
    print("| measurement | bf16 | channels_last | images/s | TFLOP/s | MFU |")
    print("|---|---|---|---|---|---|")
    for bf16, cl in variants:
        ips = step_throughput(args.arch, device, args.batch, steps, warmup, bf16, cl)
        tflops = ips * flops_per_image / 1e12
        peak = peak_bf16 if bf16 else peak_fp32
        mfu = f"{100 * tflops / peak:.2f} % of {peak:g}" if peak else "n/a (no peak given)"
        print(f"| step | {'yes' if bf16 else 'no'} | {'yes' if cl else 'no'} | {ips:,.0f} | {tflops:.4f} | {mfu} |",
              flush=True)
    if args.loop_images and args.arch == "course":
        ips = loop_throughput(device, args.batch, args.loop_images)
        print(f"| loop (train(), cached data, {args.loop_images} images) | {'yes' if cuda else 'no'} | "
              f"{'yes' if cuda else 'no'} | {ips:,.0f} | {ips * flops_per_image / 1e12:.4f} | |")


if __name__ == "__main__":
    main()
