"""The Python entry points, ``avu.evaluate`` and ``avu.get_evaluator`` (docs/api.md).

Thin and typed over the benchmark registry, so a script scores predictions exactly as
``avu evaluate`` does: same readers, same evaluators, same protocols, same errors
(`avu.errors.AvuInputError`, one line naming the file and field).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from avu.benchmarks import get_spec
from avu.errors import AvuInputError
from avu.evaluators.base import EvalResult, Evaluator
from avu.protocols import Protocol
from avu.references import References

#: a dataset folder or annotation file in the official layout, or references already loaded
Annotations = Union[str, "os.PathLike[str]", References]
#: a prediction file (docs/predictions.md), or ``(ids, payload)`` as ``Evaluator.update`` takes them
Predictions = Union[str, "os.PathLike[str]", tuple[Sequence[str], Mapping[str, Any]]]


def load_references(
    benchmark: str, annotations: Annotations, *, split: str = "test", annotation_version: str | None = None
) -> References:
    """The ground truth of one split (``annotation_version``: default the benchmark's canonical one)."""
    if isinstance(annotations, References):
        if annotations.benchmark != benchmark:
            raise AvuInputError(None, "annotations", f"references of {annotations.benchmark!r}, not {benchmark!r}")
        return annotations
    spec = get_spec(benchmark)
    version = annotation_version or spec.default_annotation_version
    if version not in spec.annotation_versions:
        raise AvuInputError(None, "annotation_version", f"unknown version {version!r}; known: {list(spec.annotation_versions)}")
    path = Path(annotations)
    if not path.exists():
        raise AvuInputError(path, None, "annotation path not found")
    return spec.load_references(path, split=split, version=version)


def get_evaluator(
    benchmark: str,
    annotations: Annotations,
    *,
    protocol: Protocol | str | None = None,
    split: str = "test",
    annotation_version: str | None = None,
    allow_partial: bool = False,
) -> Evaluator:
    """An accumulating evaluator: ``update(ids, payload)`` per batch, then ``compute()`` once.

    ``protocol``: a name such as ``"avsbench_v1[batch_size=8]"`` or a `Protocol`; default the
    benchmark's primary one. Distributed-safe: every process updates with its own ids.
    """
    references = load_references(benchmark, annotations, split=split, annotation_version=annotation_version)
    return get_spec(benchmark).evaluator(references, protocol=protocol, allow_partial=allow_partial)


def evaluate(
    benchmark: str,
    predictions: Predictions,
    annotations: Annotations,
    *,
    protocol: Protocol | str | None = None,
    split: str = "test",
    annotation_version: str | None = None,
    allow_partial: bool = False,
) -> EvalResult:
    """Score a whole split at once; the same numbers as ``avu evaluate`` on the same inputs."""
    from avu.scoring import evaluate_file

    references = load_references(benchmark, annotations, split=split, annotation_version=annotation_version)
    if isinstance(predictions, tuple):
        ids, payload = predictions
        evaluator = get_spec(benchmark).evaluator(references, protocol=protocol, allow_partial=allow_partial)
        evaluator.update(ids, payload)
        return evaluator.compute()
    return evaluate_file(benchmark, Path(predictions), references, protocol, allow_partial)
