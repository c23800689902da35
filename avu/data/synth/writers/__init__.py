"""One writer per dataset: samples the scenes a benchmark needs and writes its official files.

A writer exposes ``BENCHMARKS`` (ids it produces), ``clip(job) -> record`` (render and
write one clip's media; runs in a worker process) and ``finish(root, records)`` (write
the annotation files from all records, in the parent, in a fixed order).
"""

from __future__ import annotations

import importlib

#: benchmark id -> writer module
WRITERS = {
    "ave": "avu.data.synth.writers.ave",
    "llp": "avu.data.synth.writers.llp",
    "vggss": "avu.data.synth.writers.vggss",
    "avs_s4": "avu.data.synth.writers.avsbench",
    "avs_ms3": "avu.data.synth.writers.avsbench",
    "avss": "avu.data.synth.writers.avsbench",
    "avqa": "avu.data.synth.writers.avqa",
}


def writer(benchmark: str):
    return importlib.import_module(WRITERS[benchmark])
