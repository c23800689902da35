"""The joint training schedule: which task each step trains, and which samples.

Everything is a pure function of (seed, step), so a resumed run replays exactly the
batches an uninterrupted run would have seen, and every process of a group agrees on the
task of each step (one task per step: inputs of different tasks differ in shape).

Task probabilities (``data.sampling``):
- ``proportional``: p_k ~ n_k (each sample seen about equally often);
- ``uniform``: p_k = 1/K;
- ``temperature``: p_k ~ n_k ** temperature (0 = uniform, 1 = proportional; default 0.5);
- ``weights``: p_k ~ 1, so the tasks' ``weight`` values alone set the mixture.
Each task's ``tasks.<k>.weight`` multiplies p_k before normalising.

Within a task, samples are drawn epoch by epoch from seeded permutations (without
replacement within an epoch); a global batch is split into contiguous per-rank slices.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


def task_probabilities(sizes: Mapping[str, int], mode: str = "temperature", temperature: float = 0.5,
                       weights: Mapping[str, float] | None = None) -> dict[str, float]:
    names = list(sizes)
    n = np.array([max(int(sizes[k]), 1) for k in names], dtype=np.float64)
    if mode == "proportional":
        p = n
    elif mode == "uniform" or mode == "weights":
        p = np.ones_like(n)
    elif mode == "temperature":
        p = n ** float(temperature)
    else:
        raise ValueError(f"data.sampling.mode must be proportional|uniform|temperature|weights, got {mode!r}")
    w = np.array([float((weights or {}).get(k, 1.0)) for k in names])
    p = p * w
    if p.sum() <= 0:
        raise ValueError("task sampling weights sum to zero")
    return dict(zip(names, (p / p.sum()).tolist()))


class Schedule:
    """Task and sample indices of every step."""

    def __init__(self, sizes: Mapping[str, int], probabilities: Mapping[str, float], steps: int,
                 batch_size: int, seed: int) -> None:
        self.tasks = list(sizes)
        self.sizes = dict(sizes)
        self.batch_size = batch_size
        self.seed = seed
        rng = np.random.default_rng([seed, 7919])
        p = np.array([probabilities[k] for k in self.tasks])
        self.task_of_step = rng.choice(len(self.tasks), size=steps, p=p)
        # k-th batch of a task = that task's k-th occurrence in the schedule
        self.occurrence = np.zeros(steps, dtype=np.int64)
        counts = np.zeros(len(self.tasks), dtype=np.int64)
        for s, t in enumerate(self.task_of_step):
            self.occurrence[s] = counts[t]
            counts[t] += 1
        self._perms: dict[tuple[int, int], np.ndarray] = {}

    def _perm(self, task_index: int, epoch: int) -> np.ndarray:
        key = (task_index, epoch)
        if key not in self._perms:
            n = self.sizes[self.tasks[task_index]]
            self._perms[key] = np.random.default_rng([self.seed, task_index, epoch]).permutation(n)
        return self._perms[key]

    def step(self, step: int) -> tuple[str, np.ndarray]:
        """(task, global batch sample indices) of ``step``."""
        t = int(self.task_of_step[step])
        n = self.sizes[self.tasks[t]]
        positions = self.occurrence[step] * self.batch_size + np.arange(self.batch_size)
        index = np.array([self._perm(t, int(p // n))[p % n] for p in positions], dtype=np.int64)
        return self.tasks[t], index

    def counts(self) -> dict[str, int]:
        return {k: int((self.task_of_step == i).sum()) for i, k in enumerate(self.tasks)}


def rank_slice(index: np.ndarray, rank: int, world: int) -> np.ndarray:
    """The contiguous part of a global batch that ``rank`` trains on."""
    if len(index) % world:
        raise ValueError(f"global batch {len(index)} is not divisible by {world} processes")
    per = len(index) // world
    return index[rank * per:(rank + 1) * per]


def shard(n: int, rank: int, world: int) -> np.ndarray:
    """Evaluation shard of ``rank``: a strided slice, padded with sample 0.. to equal length
    (the evaluator drops the duplicates, as with DistributedSampler)."""
    per = -(-n // world)
    idx = np.arange(rank, per * world, world)
    return np.where(idx < n, idx, idx % n)


def check_sizes(sizes: Mapping[str, int], tasks: Sequence[str]) -> None:
    empty = [t for t in tasks if sizes.get(t, 0) == 0]
    if empty:
        from avu.errors import AvuInputError

        raise AvuInputError(None, "data", f"no training samples for {', '.join(empty)}")
