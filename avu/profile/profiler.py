"""The measuring loop: warm-up excluded, steps timed, memory peaks and NVML samples kept.

Library use::

    with Profiler("cuda", clips_per_step=64, warmup=5) as prof:
        for _ in range(prof.warmup + 20):
            with prof.step():
                train_step(batch)
    report = prof.report(flops=count, dtype="bf16")

or, for a whole `Workload`, `profile_workload(workload, batch_size=64, steps=20)`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import torch

from avu.profile import nvml as nvml_mod
from avu.profile.flops import FlopCount, count_flops
from avu.profile.timing import StepTimer, summarize, synchronize
from avu.profile.workload import Workload


class Profiler:
    """Context manager measuring a loop of steps on one device.

    The first ``warmup`` calls of ``step()`` run untimed (compilation, allocator and
    cuDNN autotuning happen there); the measured window starts at the next one, where
    the allocator's peak counters are reset, and ends when the context exits.
    """

    def __init__(
        self,
        device: str | torch.device = "cpu",
        *,
        clips_per_step: int,
        warmup: int = 3,
        nvml: bool = True,
        nvml_interval_s: float = 0.1,
        keep_samples: bool = False,
        nvml_session: nvml_mod.NvmlSession | None = None,
    ):
        """``nvml_session`` replaces the automatic NVML lookup (a custom device match, tests)."""
        self.device = torch.device(device)
        if self.device.type == "cuda" and self.device.index is None:
            self.device = torch.device("cuda", torch.cuda.current_device())
        self.clips_per_step = int(clips_per_step)
        self.warmup = int(warmup)
        self.keep_samples = keep_samples
        self.notices: list[str] = []
        self.timer = StepTimer(self.device)
        self._calls = 0
        self._in_window = False
        self._nvml_wanted = nvml
        self._nvml_interval_s = nvml_interval_s
        self.nvml_session: nvml_mod.NvmlSession | None = nvml_session
        self.nvml_static: dict[str, Any] | None = None

    @property
    def sampler(self) -> nvml_mod.NvmlSampler | None:
        return None if self.nvml_session is None else self.nvml_session.sampler

    def __enter__(self) -> "Profiler":
        if self._nvml_wanted:
            if self.nvml_session is None:
                self.nvml_session = nvml_mod.attach(self.device, self._nvml_interval_s)
            self.notices.extend(self.nvml_session.notices)
            if self.sampler is not None:
                self.nvml_static = self.sampler.static_info()
                self.sampler.start()
        else:
            self.nvml_session = None
            self.notices.append("NVML sampling disabled; GPU counters are null")
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._in_window:
                self.timer.stop()
                if self.sampler is not None:
                    self.sampler.mark_end()
                self._in_window = False
        finally:
            if self.sampler is not None:
                self.sampler.stop()

    def _open_window(self) -> None:
        synchronize(self.device)
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        if self.sampler is not None:
            self.sampler.mark_start()
        self.timer.start()
        self._in_window = True

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """Wrap one step; warm-up steps pass through untimed."""
        self._calls += 1
        if self._calls <= self.warmup:
            yield
            return
        if not self._in_window:
            self._open_window()
        with self.timer.step():
            yield

    # ---- results -------------------------------------------------------------------
    @property
    def measured_steps(self) -> int:
        return self.timer.steps

    def timing(self) -> dict[str, Any]:
        steps = self.measured_steps
        window = self.timer.window_s
        clips = steps * self.clips_per_step
        ok = bool(steps and window)
        return {
            "clock": self.timer.clock,
            "warmup_steps": min(self._calls, self.warmup),
            "measured_steps": steps,
            "clips_per_step": self.clips_per_step,
            "window_s": window,
            "step_ms": summarize(self.timer.step_ms()),
            "throughput_clips_per_s": clips / window if ok else None,
            "steps_per_s": steps / window if ok else None,
        }

    def memory(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "allocated_peak_bytes": None,
            "reserved_peak_bytes": None,
            "nvml_used_peak_bytes": None,
            "cpu_max_rss_bytes": _max_rss_bytes(),
        }
        if self.device.type == "cuda":
            out["allocated_peak_bytes"] = int(torch.cuda.max_memory_allocated(self.device))
            out["reserved_peak_bytes"] = int(torch.cuda.max_memory_reserved(self.device))
        if self.sampler is not None:
            used = [s["memory_used_bytes"] for s in self.sampler.window_samples() if s["memory_used_bytes"] is not None]
            out["nvml_used_peak_bytes"] = max(used) if used else None
        return out

    def nvml_summary(self) -> dict[str, Any]:
        if self.sampler is None:
            return {"available": False}
        clips = self.measured_steps * self.clips_per_step
        return {
            "available": True,
            "match": self.nvml_session.match if self.nvml_session else None,
            "device": self.nvml_static,
            **self.sampler.summary(clips=clips, keep_samples=self.keep_samples),
        }

    def report(
        self,
        *,
        flops: dict[str, FlopCount | None] | None = None,
        dtype: str = "fp32",
        mode: str | None = None,
    ) -> dict[str, Any]:
        """The measurement sections of a report (see `avu.profile.report.build_report`)."""
        from avu.profile.report import build_report

        return build_report(self, flops=flops or {}, dtype=dtype, mode=mode)


def _max_rss_bytes() -> int | None:
    """Peak resident memory of this process over its lifetime (Linux: KiB; macOS: bytes)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def export_trace(step: Any, batch: Any, device: torch.device, trace_dir: str | Path, steps: int = 3) -> dict[str, Any]:
    """Run ``steps`` more steps under torch.profiler; write a Chrome trace and an op table.

    Kept out of the timed window: the profiler's own overhead would distort it.
    """
    from torch.profiler import ProfilerActivity, profile, record_function

    from avu.fileio import atomic_path, write_text

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities, record_shapes=True) as prof:
        for i in range(steps):
            with record_function(f"avu_step_{i}"):
                step(batch)
            synchronize(device)
    trace_dir = Path(trace_dir)
    trace_path, table_path = trace_dir / "trace.json", trace_dir / "ops.txt"
    with atomic_path(trace_path) as tmp:
        prof.export_chrome_trace(str(tmp))
    averages = prof.key_averages()
    if device.type == "cuda":  # torch >= 2.4 names it "device"; older builds "cuda"
        sort_by = "self_device_time_total" if averages and hasattr(averages[0], "self_device_time_total") \
            else "self_cuda_time_total"
    else:
        sort_by = "self_cpu_time_total"
    write_text(table_path, averages.table(sort_by=sort_by, row_limit=40) + "\n")
    return {"dir": str(trace_dir), "steps": steps, "files": [trace_path.name, table_path.name]}


def measure_flops(workload: Workload, batch: Any) -> dict[str, FlopCount | None]:
    """FLOPs of the eager forward pass and, in train mode, of the eager full step."""
    forward, _ = count_flops(workload.forward, batch)
    if workload.mode == "train":
        step, _ = count_flops(workload.flop_step or workload.step, batch)
    else:
        step = forward
    synchronize(workload.device)
    return {"forward": forward, "step": step}


def profile_workload(
    workload: Workload,
    *,
    batch_size: int,
    steps: int = 20,
    warmup: int = 3,
    nvml: bool = True,
    nvml_interval_s: float = 0.1,
    trace_dir: str | Path | None = None,
    trace_steps: int = 3,
    flops: dict[str, FlopCount | None] | None = None,
    keep_samples: bool = False,
    progress: bool = False,
    max_window_s: float | None = None,
) -> dict[str, Any]:
    """Profile ``workload`` at ``batch_size``: FLOPs, then warm-up, then ``steps`` timed steps.

    ``flops`` may be given to reuse a count (it does not depend on dtype or compilation).
    ``max_window_s`` ends the measured window early (after at least 2 steps) once that
    many host seconds have passed, for slow variants in a time-boxed benchmark.
    Returns the full report (see `avu.profile.report`).
    """
    from avu.profile.report import build_report

    if steps < 1:
        raise ValueError("steps must be >= 1")
    batch = workload.make_batch(batch_size)
    clips = workload.clips(batch) if workload.clips else batch_size
    if flops is None:
        flops = measure_flops(workload, batch)
    iterator: Any = range(warmup + steps)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=f"profile {workload.name} ({workload.mode}, {workload.dtype})", leave=False)
    with Profiler(
        workload.device, clips_per_step=clips, warmup=warmup,
        nvml=nvml, nvml_interval_s=nvml_interval_s, keep_samples=keep_samples,
    ) as prof:
        window_start = None
        for i in iterator:
            with prof.step():
                workload.step(batch)
            measured = i + 1 - warmup
            if measured == 1:
                window_start = time.perf_counter()
            if (max_window_s is not None and window_start is not None and measured >= 2 and measured < steps
                    and time.perf_counter() - window_start > max_window_s):
                prof.notices.append(
                    f"measured window stopped after {measured} of {steps} steps: time limit {max_window_s:g} s"
                )
                break
    trace = None
    if trace_dir is not None:
        trace = export_trace(workload.step, batch, workload.device, trace_dir, steps=trace_steps)
    return build_report(prof, flops=flops, dtype=workload.dtype, mode=workload.mode, workload=workload, trace=trace)
