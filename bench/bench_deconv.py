"""Deconvnet projections per second (§2.1, Fig. 2's workload): top-9 of every conv5 map, projected to pixels.

The workload of Fig. 2 for one layer: mine the 9 strongest activations of every relu5 map over a set of images (one
streaming pass, ``top_k``), then project each of them to pixel space. Three ways to project the same targets:

* ``project_many`` — batched: each image is recorded once, all of its targets go down together ``--chunk`` at a time;
* a per-target loop of ``project`` — one forward record and one way down per target;
* Captum's ``NeuronDeconvolution`` — one target at a time, on the same trunk (``model.features`` up to relu5, so Captum
  pays for no classifier), times the activation value to give the same projection (checked: max |difference| printed).

and, on the same device and trunk, the forward throughput (images/s of ``model.features`` up to relu5, batched) and the
top-k mining pass against a forward-only pass over the same images. The slow loops are timed on a subset of targets and
reported as rates. Models: the course model at 168×168 (the trained one from data/ if present, else random §3 weights —
speed does not depend on the weights) and the full-size ZFNet of Fig. 3 at 224×224 (random weights). Inputs: random
input-space images (N(0, 60²) per pixel).

    python bench/bench_deconv.py [--device cpu|cuda] [--threads 2] [--images 32] [--subset 24] [--repeats 1] \
        [--out bench/deconv.md]

Writes a markdown table to stdout, and appends it (with the machine) to ``--out`` when given.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import torch
from captum.attr import NeuronDeconvolution

from zfcourse.deconv import path, project, project_many
from zfcourse.features import top_k
from zfcourse.models import course_model, zfnet

LAYER = "relu5"


def timer(device):
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def run(fn, repeats=1):
        best = float("inf")
        for _ in range(repeats):
            sync()
            start = time.perf_counter()
            out = fn()
            sync()
            best = min(best, time.perf_counter() - start)
        return best, out
    return run


def bench_model(label, model, size, n_images, subset, chunk, batch, device, repeats):
    run = timer(device)
    model = model.eval().to(device)
    g = torch.Generator().manual_seed(0)
    images = (60 * torch.randn(n_images, 3, size, size, generator=g)).to(device)
    net = torch.nn.Sequential(*[m for _, m in path(model, LAYER)[1]])
    for m in net.modules():  # Captum hooks the ReLUs; out-of-place changes nothing for the others
        if isinstance(m, torch.nn.ReLU):
            m.inplace = False

    def forward_only():
        with torch.no_grad():
            for s in range(0, n_images, batch):
                net(images[s:s + batch])

    run(forward_only)  # warm-up
    t_fwd, _ = run(forward_only, repeats)
    t_mine, top = run(lambda: top_k(model, images, LAYER, k=9, batch_size=batch, progress=False), repeats)
    targets = top.targets().to(device)                       # (C·9, 4): image, channel, y, x
    n = len(targets)
    t_many, many = run(lambda: project_many(model, images, LAYER, targets, chunk=chunk), repeats)

    pick = torch.linspace(0, n - 1, min(subset, n)).long()
    sub = targets[pick].tolist()

    def loop():
        return [project(model, images[i:i + 1], LAYER, c, (y, x)) for i, c, y, x in sub]

    attr = NeuronDeconvolution(net, net[-1])

    def captum():
        out = []
        for i, c, y, x in sub:
            xi = images[i:i + 1].clone().requires_grad_()
            out.append(attr.attribute(xi, (c, y, x)))
        return out

    t_loop, looped = run(loop)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_captum, theirs = run(captum)
    values = top.values.flatten()[pick.cpu()].to(device)
    err = max((a * v - many[j]).abs().max().item() for a, v, j in zip(theirs, values, pick.tolist()))
    err_loop = max((p - many[j]).abs().max().item() for p, j in zip(looped, pick.tolist()))
    scale = many.abs().max().item()
    fwd_rate = n_images / t_fwd
    rates = {"project_many (batched)": n / t_many, "per-target project loop": len(sub) / t_loop,
             "Captum NeuronDeconvolution, one target at a time": len(sub) / t_captum}
    return {"label": label, "targets": n, "images": n_images, "subset": len(sub), "fwd": fwd_rate,
            "mine": t_mine, "fwd_time": t_fwd, "rates": rates, "err": err / scale, "err_loop": err_loop / scale}


def table(results, device_name) -> str:
    lines = []
    for r in results:
        lines += [f"**{r['label']}** — top-9 × every {LAYER} map = {r['targets']} projections from {r['images']} "
                  f"images (slow loops timed on {r['subset']} of them); forward pass of the trunk up to {LAYER}: "
                  f"{r['fwd']:,.0f} images/s.", "",
                  "| method | projections/s | × Captum | ÷ forward images/s |", "|---|---:|---:|---:|"]
        captum = r["rates"]["Captum NeuronDeconvolution, one target at a time"]
        for name, rate in r["rates"].items():
            lines.append(f"| {name} | {rate:,.1f} | {rate / captum:,.1f}× | {rate / r['fwd']:.2f} |")
        lines += ["", f"Top-9 mining over the {r['images']} images: {r['mine'] * 1e3:,.0f} ms vs a forward-only pass "
                      f"{r['fwd_time'] * 1e3:,.0f} ms ({r['mine'] / r['fwd_time']:.2f}×). Agreement with Captum × "
                      f"activation: max |difference| {r['err']:.1e} of the largest projection value — Captum "
                      f"differentiates through LRN, the paper's deconvnet skips it (on LRN-free AlexNet/VGG16 the two "
                      f"agree to 1e-5: tests/test_deconv_independent.py); per-target loop vs batched: "
                      f"{r['err_loop']:.1e}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=int, default=32, help="images mined (course model); ZFNet gets half")
    parser.add_argument("--subset", type=int, default=24, help="targets timed in the slow loops")
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    try:
        from zfcourse.course import load_course_model
        small, which = load_course_model(train_if_missing=False), "loaded weights"
    except FileNotFoundError:
        small, which = course_model(), "random weights"
    results = [bench_model(f"Course model ({which}), 168×168", small, 168, args.images, args.subset, args.chunk,
                           args.batch, device, args.repeats),
               bench_model("ZFNet (Fig. 3, random weights), 224×224", zfnet(), 224, max(args.images // 2, 9),
                           args.subset, args.chunk, args.batch, device, args.repeats)]
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = (f"{platform.processor() or platform.machine()} CPU, {args.threads} threads "
                f"({os.cpu_count()} cores visible)")
    text = (f"### {device.type.upper()}: {name} · torch {torch.__version__} · {time.strftime('%Y-%m-%d %H:%M')}\n\n"
            + table(results, name))
    print(text)
    if args.out:
        with open(args.out, "a") as f:
            f.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
