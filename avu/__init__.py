"""avu: benchmark and reproducibility harness for unified audio-visual scene understanding.

The Python entry points are ``avu.evaluate`` and ``avu.get_evaluator`` (docs/api.md); they are
imported on first use so that ``import avu`` (and the CLI) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: The seven benchmark ids, used everywhere (CLI, configs, pytest markers, result keys).
BENCHMARK_IDS = ("ave", "llp", "vggss", "avs_s4", "avs_ms3", "avss", "avqa")

__all__ = ["__version__", "BENCHMARK_IDS", "evaluate", "get_evaluator", "load_references"]

if TYPE_CHECKING:
    from avu.api import evaluate, get_evaluator, load_references

_API = ("evaluate", "get_evaluator", "load_references")


def __getattr__(name: str) -> Any:
    if name in _API:
        from avu import api

        return getattr(api, name)
    raise AttributeError(f"module 'avu' has no attribute {name!r}")
