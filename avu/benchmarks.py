"""The benchmark registry: one `BenchmarkSpec` per benchmark id, imported lazily."""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from avu import BENCHMARK_IDS
from avu.errors import AvuInputError

#: benchmark id -> "module:attribute" of its spec (imported on first use)
_SPEC_LOCATIONS = {
    "ave": "avu.evaluators.ave:SPEC",
    "llp": "avu.evaluators.llp:SPEC",
    "vggss": "avu.evaluators.vggss:SPEC",
    "avs_s4": "avu.evaluators.avsbench:SPEC_S4",
    "avs_ms3": "avu.evaluators.avsbench:SPEC_MS3",
    "avss": "avu.evaluators.avsbench:SPEC_AVSS",
    "avqa": "avu.evaluators.avqa:SPEC",
}


def check_ids(keys: Iterable[str], what: str) -> None:
    """Raise unless ``keys`` are BENCHMARK_IDS, in that order: a table keyed by benchmark that
    misses one (or orders them otherwise) fails at import, also under ``python -O``, which drops asserts."""
    if tuple(keys) != BENCHMARK_IDS:
        raise RuntimeError(f"{what} lists {tuple(keys)}, not the benchmarks {BENCHMARK_IDS} in this order")


check_ids(_SPEC_LOCATIONS, "avu.benchmarks registry")

#: benchmark id -> folder of its dataset under a data root (real and generated alike)
DATASET_DIRS = {
    "ave": "ave",
    "llp": "avvp",
    "vggss": "vggss",
    "avs_s4": "avsbench",
    "avs_ms3": "avsbench",
    "avss": "avsbench",
    "avqa": "music_avqa",
}


@dataclass(frozen=True)
class BenchmarkSpec:
    id: str
    title: str
    #: the Evaluator subclass
    evaluator: type
    #: (path, split, annotation_version) -> References; path is the dataset folder or a file in it
    load_references: Callable[..., Any]
    #: (path, references) -> (ids, batch payload accepted by evaluator.update); raises AvuInputError
    read_predictions: Callable[..., Any]
    annotation_versions: tuple[str, ...]
    default_annotation_version: str
    #: one-line description of the prediction file formats (docs/predictions.md has the detail)
    prediction_formats: str
    citation: str = ""


def get_spec(benchmark: str) -> BenchmarkSpec:
    if benchmark not in _SPEC_LOCATIONS:
        hint = difflib.get_close_matches(benchmark, BENCHMARK_IDS, n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise AvuInputError(None, "--benchmark", f"unknown benchmark {benchmark!r}; known: {', '.join(BENCHMARK_IDS)}{extra}")
    module, attr = _SPEC_LOCATIONS[benchmark].split(":")
    return getattr(importlib.import_module(module), attr)


def dataset_dir(data_root: str | Path, benchmark: str) -> Path:
    return Path(data_root) / DATASET_DIRS[benchmark]
