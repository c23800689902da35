"""torch.distributed setup under torchrun or SLURM (avu.train.launch): gloo on CPU, NCCL on CUDA;
a no-op for a single process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from avu.train.launch import detect


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def setup(device: str = "cpu", backend: str = "auto") -> DistInfo:
    """Initialise the process group when launched as several processes (torchrun or SLURM tasks)."""
    launch = detect()
    world, rank, local = launch.world, launch.rank, launch.local_rank
    use_cuda = device.startswith("cuda") and torch.cuda.is_available()
    if device.startswith("cuda") and not use_cuda:
        raise RuntimeError("train.device=cuda but no CUDA device is available (use train=cpu)")
    # a SLURM task bound to its own GPU sees only that one, whatever its local rank
    index = 0 if use_cuda and torch.cuda.device_count() == 1 else local
    dev = torch.device(f"cuda:{index}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        chosen = ("nccl" if use_cuda else "gloo") if backend == "auto" else backend
        dist.init_process_group(chosen, init_method=launch.init_method, rank=rank, world_size=world)
    return DistInfo(rank, world, local, dev)


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.active:
        dist.barrier()


def all_gather_object(obj: Any, info: DistInfo) -> list[Any]:
    if not info.active:
        return [obj]
    out: list[Any] = [None] * info.world
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any, info: DistInfo) -> Any:
    if not info.active:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def average_gradients(model: torch.nn.Module, info: DistInfo) -> None:
    """Mean of every parameter's gradient over processes (missing gradients count as zero),
    in one flat all-reduce. Used instead of DDP so that tasks using different heads need no
    unused-parameter search and the reduction order is fixed."""
    if not info.active:
        return
    params = [p for p in model.parameters() if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= info.world
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset:offset + n].view_as(p).clone()
        offset += n
