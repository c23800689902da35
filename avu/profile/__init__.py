"""Profiler: step time, throughput, memory, FLOPs and MFU, and NVML power/energy sampling.

``python -m avu.profile experiment=...`` profiles the model from its Hydra config; the
library entry points are `Profiler` (a context manager around any loop of steps) and
`profile_workload` (a `Workload`: step function + batch maker). See docs/profiling.md.
"""

from avu.profile.flops import FlopCount, count_flops
from avu.profile.peaks import PEAKS, choose_peak, lookup
from avu.profile.profiler import Profiler, export_trace, measure_flops, profile_workload
from avu.profile.report import render_markdown, write_report
from avu.profile.workload import Workload

__all__ = [
    "PEAKS", "FlopCount", "Profiler", "Workload", "choose_peak", "count_flops", "export_trace",
    "lookup", "measure_flops", "profile_workload", "render_markdown", "write_report",
]
