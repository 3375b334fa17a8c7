"""Data parallel training over several processes (``torchrun``), the multi-GPU path of the course.

Each of the W processes (ranks) holds a full model replica and takes a 1/W share of every global mini-batch of B
images. ``DistributedDataParallel`` all-reduces the gradients to their mean over ranks; with equal shares of B/W images
and a per-rank mean loss that mean is exactly the gradient of the mean loss over the global batch, so W processes at
B/W images each follow the same trajectory as one process at B (up to float summation order). The paper trained on one
GPU; this is only about speed.

Launch: ``torchrun --nproc_per_node=4 -m zfcourse train ...`` (NCCL on CUDA, gloo on CPU). Without torchrun's
environment variables everything here reduces to a single process.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Distributed:
    """Who this process is: ``rank`` of ``world_size``; ``main`` is rank 0, the one that writes files."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device: torch.device) -> Distributed:
    """Join the process group torchrun describes in RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT.

    Uses NCCL for CUDA devices and gloo otherwise. A group that already exists is reused; with no WORLD_SIZE (or 1)
    this is a single process and nothing is initialised.
    """
    if dist.is_available() and dist.is_initialized():
        return Distributed(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Distributed()
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE: torch.distributed is not available in this build, cannot run data parallel")
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def local_device(device: torch.device, ctx: Distributed) -> torch.device:
    """``cuda:LOCAL_RANK`` for a multi-process CUDA run (one GPU per process), ``device`` otherwise."""
    if ctx.enabled and device.type == "cuda":
        torch.cuda.set_device(ctx.local_rank)
        return torch.device("cuda", ctx.local_rank)
    return device


def wrap(model: nn.Module, ctx: Distributed) -> nn.Module:
    """The model wrapped in DDP when there are several processes (gradients averaged over ranks), else itself."""
    if not ctx.enabled:
        return model
    device_ids = [model_device(model).index] if model_device(model).type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter."""
    return next(model.parameters()).device


def shard(indices: list[int], ctx: Distributed) -> list[int]:
    """This rank's contiguous 1/W share of a global mini-batch (the batch size must divide by W)."""
    if len(indices) % ctx.world_size:
        raise ValueError(f"batch_size: a global batch of {len(indices)} does not split evenly over "
                         f"{ctx.world_size} processes")
    per = len(indices) // ctx.world_size
    return indices[ctx.rank * per:(ctx.rank + 1) * per]


def all_sum(values: list[float], ctx: Distributed, device: torch.device) -> list[float]:
    """Σ over ranks of each number (used for epoch loss/accuracy totals); identity on one process."""
    if not ctx.enabled:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def all_gather(obj, ctx: Distributed) -> list:
    """Every rank's ``obj``, in rank order (used to save each rank's RNG state); ``[obj]`` on one process."""
    if not ctx.enabled:
        return [obj]
    out = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(ctx: Distributed) -> None:
    """Wait for every rank (e.g. until rank 0 has written a checkpoint)."""
    if ctx.enabled:
        dist.barrier()
