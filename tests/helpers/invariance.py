"""Batch-size and process-count invariance checks, shared by every evaluator's tests.

``run_batched`` feeds predictions in batches of a given size (optionally shuffled);
``run_distributed`` spawns ``world`` CPU processes that join one gloo group through
`avu.train.distributed.setup`, given either torchrun's variables or a SLURM task's
(``LAUNCHES``), shards the samples unevenly (contiguous shards of different sizes) and pads
short shards with duplicates of samples that another rank also holds, as a DistributedSampler
would. Every process computes the result for every batch size; all must equal the
single-process one.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from typing import Any, Callable, Sequence

import numpy as np
import torch.multiprocessing as mp

from tests.helpers.launchers import clean_env, free_port, job_for_free_port, slurm_env, torchrun_env

#: (ids, payload, index array) -> payload restricted to those indices
Slicer = Callable[[Any, np.ndarray], Any]

#: (world, launcher) pairs every evaluator is checked under (one process needs no launcher)
LAUNCHES = ((1, "torchrun"), (2, "torchrun"), (3, "torchrun"), (2, "slurm"), (3, "slurm"))
#: the batch sizes of every distributed check
BATCH_SIZES = (1, 2, 7)


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


def shards(n: int, world: int) -> list[np.ndarray]:
    """Uneven contiguous shards, each padded to the longest with another rank's samples."""
    cuts = np.linspace(0, n, world + 1).astype(int)
    cuts[1:-1] += np.arange(1, world)  # make the shards uneven
    cuts = np.clip(cuts, 0, n)
    parts = [np.arange(cuts[r], cuts[r + 1]) for r in range(world)]
    longest = max(len(p) for p in parts)
    return [np.concatenate([p, np.arange(longest - len(p))]) for p in parts]


def _worker(rank: int, world: int, env: dict[str, str], blob: str, out_dir: str) -> None:
    os.environ.clear()
    os.environ.update(env[rank])
    from avu.train import distributed as D

    info = D.setup("cpu")
    assert (info.rank, info.world) == (rank, world)
    try:
        with open(blob, "rb") as f:
            make_evaluator, ids, payload, batch_sizes, slicer = pickle.load(f)
        idx = shards(len(ids), world)[rank]
        results = []
        for batch_size in batch_sizes:
            ev = make_evaluator()
            for start in range(0, len(idx), batch_size):
                b = idx[start:start + batch_size]
                ev.update([ids[i] for i in b], slicer(payload, b))
            results.append(ev.compute())
        with open(os.path.join(out_dir, f"rank{rank}.pkl"), "wb") as f:
            pickle.dump(results, f)
    finally:
        D.cleanup()


def _environments(world: int, launch: str) -> list[dict[str, str]]:
    """Each rank's environment: this process's, without launcher variables, plus the launcher's."""
    base = clean_env()
    if launch == "torchrun":
        port = free_port()
        return [{**base, **torchrun_env(r, world, port)} for r in range(world)]
    if launch == "slurm":
        job = job_for_free_port()
        return [{**base, **slurm_env(r, world, job)} for r in range(world)]
    raise ValueError(f"unknown launcher {launch!r}")


def run_distributed(make_evaluator: Callable[[], Any], ids: Sequence[str], payload: Any, world: int,
                    launch: str = "torchrun", batch_sizes: Sequence[int] = BATCH_SIZES,
                    slicer: Slicer = take) -> list[list[Any]]:
    """Per rank, the result of each batch size (``make_evaluator`` and ``slicer`` must be picklable)."""
    with tempfile.TemporaryDirectory() as tmp:
        blob = os.path.join(tmp, "job.pkl")
        with open(blob, "wb") as f:
            pickle.dump((make_evaluator, list(ids), payload, tuple(batch_sizes), slicer), f)
        mp.start_processes(_worker, args=(world, _environments(world, launch), blob, tmp), nprocs=world, join=True,
                           start_method="spawn")
        results = []
        for r in range(world):
            with open(os.path.join(tmp, f"rank{r}.pkl"), "rb") as f:
                results.append(pickle.load(f))
        return results
