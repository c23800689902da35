"""Step timing: CUDA events on a GPU, ``time.perf_counter`` on the CPU.

CUDA kernels run asynchronously, so a host clock around a step measures only the launch.
Events recorded on the stream before and after each step time the GPU's work; the whole
measured window is also timed on the host between two synchronisations, which is what
throughput uses (it includes any host-side gaps between steps).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator

import numpy as np
import torch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class StepTimer:
    """Times the steps of one measured window.

    Use ``start()``, then ``with timer.step(): ...`` per step, then ``stop()``.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.clock = "cuda_events" if device.type == "cuda" else "perf_counter"
        self._events: list[tuple[Any, Any]] = []
        self._host_ms: list[float] = []
        self._t0: float | None = None
        self.window_s: float | None = None

    def start(self) -> None:
        synchronize(self.device)
        self._t0 = time.perf_counter()

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        if self._t0 is None:
            raise RuntimeError("StepTimer.step() before start()")
        if self.device.type == "cuda":
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            yield
            end.record()
            self._events.append((begin, end))
        else:
            t = time.perf_counter()
            yield
            self._host_ms.append((time.perf_counter() - t) * 1e3)

    def stop(self) -> None:
        if self._t0 is None:
            raise RuntimeError("StepTimer.stop() before start()")
        synchronize(self.device)
        self.window_s = time.perf_counter() - self._t0

    @property
    def steps(self) -> int:
        return len(self._events) or len(self._host_ms)

    def step_ms(self) -> list[float]:
        """Per-step durations in milliseconds (call after ``stop()``)."""
        if self._events:
            return [float(b.elapsed_time(e)) for b, e in self._events]
        return list(self._host_ms)


def summarize(values: list[float] | np.ndarray) -> dict[str, float] | None:
    """mean / p50 / p95 / min / max / std of a sample (None when empty)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return None
    return {
        "mean": float(arr.mean()),
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "min": float(arr.min()),
        "max": float(arr.max()),
        "std": float(arr.std()),
    }
