"""Batch-size and process-count invariance checks, shared by every evaluator's tests.

``run_batched`` feeds predictions in batches of a given size (optionally shuffled);
``run_distributed`` spawns ``world`` gloo processes on CPU, shards the samples unevenly
(contiguous shards of different sizes) and pads short shards with duplicates of samples
that another rank also holds, as a DistributedSampler would. Every process computes the
result; all must equal the single-process one.
"""

from __future__ import annotations

import os
import pickle
import socket
import tempfile
from typing import Any, Callable, Sequence

import numpy as np
import torch.distributed as dist
import torch.multiprocessing as mp

#: (ids, payload, index array) -> payload restricted to those indices
Slicer = Callable[[Any, np.ndarray], Any]


def take(payload: Any, idx: np.ndarray) -> Any:
    """Default slicer: arrays and dicts/tuples of arrays indexed on axis 0; lists by index."""
    if isinstance(payload, np.ndarray):
        return payload[idx]
    if isinstance(payload, dict):
        return {k: take(v, idx) for k, v in payload.items()}
    if isinstance(payload, tuple):
        return tuple(take(v, idx) for v in payload)
    if isinstance(payload, list):
        return [payload[i] for i in idx]
    raise TypeError(f"cannot slice {type(payload)}")


def run_batched(make_evaluator: Callable[[], Any], ids: Sequence[str], payload: Any,
                batch_size: int, seed: int | None = None, slicer: Slicer = take):
    ev = make_evaluator()
    order = np.arange(len(ids))
    if seed is not None:
        np.random.default_rng(seed).shuffle(order)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        ev.update([ids[i] for i in idx], slicer(payload, idx))
    return ev.compute()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shards(n: int, world: int) -> list[np.ndarray]:
    """Uneven contiguous shards, each padded to the longest with another rank's samples."""
    cuts = np.linspace(0, n, world + 1).astype(int)
    cuts[1:-1] += np.arange(1, world)  # make the shards uneven
    cuts = np.clip(cuts, 0, n)
    parts = [np.arange(cuts[r], cuts[r + 1]) for r in range(world)]
    longest = max(len(p) for p in parts)
    return [np.concatenate([p, np.arange(longest - len(p))]) for p in parts]


def _worker(rank: int, world: int, port: int, blob: str, out_dir: str) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        with open(blob, "rb") as f:
            make_evaluator, ids, payload, batch_size, slicer = pickle.load(f)
        idx = shards(len(ids), world)[rank]
        ev = make_evaluator()
        for start in range(0, len(idx), batch_size):
            b = idx[start:start + batch_size]
            ev.update([ids[i] for i in b], slicer(payload, b))
        result = ev.compute()
        with open(os.path.join(out_dir, f"rank{rank}.pkl"), "wb") as f:
            pickle.dump(result, f)
    finally:
        dist.destroy_process_group()


def run_distributed(make_evaluator: Callable[[], Any], ids: Sequence[str], payload: Any,
                    world: int, batch_size: int = 3, slicer: Slicer = take) -> list[Any]:
    """Results of every rank (``make_evaluator`` and ``slicer`` must be picklable)."""
    with tempfile.TemporaryDirectory() as tmp:
        blob = os.path.join(tmp, "job.pkl")
        with open(blob, "wb") as f:
            pickle.dump((make_evaluator, list(ids), payload, batch_size, slicer), f)
        mp.start_processes(_worker, args=(world, _free_port(), blob, tmp), nprocs=world, join=True,
                           start_method="spawn")
        results = []
        for r in range(world):
            with open(os.path.join(tmp, f"rank{r}.pkl"), "rb") as f:
                results.append(pickle.load(f))
        return results
