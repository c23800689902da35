"""The evaluator contract: per-sample records keyed by sample id, computed once.

``update(ids, predictions)`` turns a batch of predictions into small per-sample
*records* (e.g. the 10 correct/incorrect flags of an AVE video, the cIoU of a VGG-SS
map, the 255-point F curve of an AVSBench frame). ``compute()`` gathers the records of
every process (torch.distributed, any backend), drops exact duplicates (sampler
padding), checks the ids against the split, orders them canonically and reduces them
once. Results therefore never depend on batch size, process count or sample order,
unless a named legacy protocol says so (and then the protocol fixes the batching on the
canonical order, not the caller).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from avu import protocols as protocol_registry
from avu.errors import AvuInputError, MissingSamplesError
from avu.protocols import Protocol
from avu.references import References


@dataclass(frozen=True)
class MetricInfo:
    description: str
    higher_is_better: bool = True
    #: every EvalResult metric is in percent unless this says otherwise
    unit: str = "%"


@dataclass
class EvalResult:
    benchmark: str
    split: str
    protocol: dict[str, Any]
    annotation_version: str
    metrics: dict[str, float]
    counts: dict[str, int]
    partial: bool
    manifest_hash: str
    primary_metric: str
    extras: dict[str, Any] = field(default_factory=dict)
    #: versions of libraries the metric arithmetic itself calls (e.g. OpenCV for VGG-SS); not
    #: in `to_dict`: the writers of result files put it into their provenance
    provenance: dict[str, Any] = field(default_factory=dict)

    def keyed(self) -> dict[str, float]:
        """Flat keys that name benchmark, metric, protocol and annotation version."""
        suffix = f"@{self.protocol['key']}/{self.annotation_version}"
        return {f"{self.benchmark}/{name}{suffix}": value for name, value in self.metrics.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "split": self.split,
            "protocol": self.protocol,
            "annotation_version": self.annotation_version,
            "primary_metric": self.primary_metric,
            "metrics": self.metrics,
            "keys": self.keyed(),
            "counts": self.counts,
            "partial": self.partial,
            "manifest_hash": self.manifest_hash,
            "extras": self.extras,
        }


def records_equal(a: Any, b: Any) -> bool:
    """Exact equality for records made of numbers, arrays, tuples, lists and dicts."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(records_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(records_equal(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b


def canonical_rows(references: References, ids: Sequence[str]) -> np.ndarray:
    """Row of each id in ``references`` (int64). The whole split in canonical order, which is
    what ``compute`` passes to ``reduce``, needs no per-id look-ups."""
    if isinstance(ids, list) and ids == references.ids:
        return np.arange(len(ids), dtype=np.int64)
    index = references.index
    return np.fromiter((index(s) for s in ids), dtype=np.int64, count=len(ids))


def world_size() -> int:
    """Number of torch.distributed processes (1 when not distributed)."""
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch is a dependency
        return 1
    if not (dist.is_available() and dist.is_initialized()):
        return 1
    return dist.get_world_size()


def gather_records(local: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """All (id, record) pairs of every process; the local ones when not distributed."""
    pairs = list(local.items())
    if world_size() == 1:
        return pairs
    import torch.distributed as dist

    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, pairs)
    return [pair for part in gathered for pair in part]


class Evaluator(abc.ABC):
    """Accumulating evaluator of one benchmark (subclasses set the class attributes)."""

    benchmark: ClassVar[str]
    metrics: ClassVar[Mapping[str, MetricInfo]]
    primary_metric: ClassVar[str]

    def __init__(
        self,
        references: References,
        protocol: Protocol | str | None = None,
        allow_partial: bool = False,
    ) -> None:
        if references.benchmark != self.benchmark:
            raise ValueError(f"{type(self).__name__} got references of {references.benchmark}")
        self.references = references
        if protocol is None or isinstance(protocol, str):
            protocol = protocol_registry.get(self.benchmark, protocol)
        self.protocol = protocol
        self.allow_partial = allow_partial
        self._records: dict[str, Any] = {}

    # -- subclass hooks --------------------------------------------------------------
    @abc.abstractmethod
    def make_records(self, ids: Sequence[str], predictions: Any) -> list[Any]:
        """Per-sample records for a batch (vectorised; ``predictions`` is the batch payload)."""

    @abc.abstractmethod
    def reduce(self, ids: list[str], records: list[Any]) -> tuple[dict[str, float], dict[str, Any]]:
        """Metrics (percent) and extras from records in canonical order."""

    def provenance(self) -> dict[str, Any]:
        """Versions of the libraries the metric calls, beyond numpy and torch (none by default)."""
        return {}

    # -- the contract ----------------------------------------------------------------
    def reset(self) -> None:
        self._records.clear()

    def update(self, ids: Sequence[str], predictions: Any) -> None:
        ids = list(map(str, ids))
        distinct = set(ids)
        if self.references.unknown(distinct):
            first = self.references.unknown(ids)[0]  # the first one in batch order
            raise AvuInputError(None, f"sample {first!r}", f"unknown id for {self.benchmark}/{self.references.split}")
        records = self.make_records(ids, predictions)
        if len(records) != len(ids):
            raise RuntimeError(f"{type(self).__name__}.make_records returned {len(records)} records for {len(ids)} ids")
        if len(distinct) == len(ids) and self._records.keys().isdisjoint(distinct):
            self._records.update(zip(ids, records))  # the usual case (new, distinct ids) at C speed
            return
        for sid, rec in zip(ids, records):
            self._add(sid, rec)

    def _add(self, sid: str, rec: Any) -> None:
        if sid in self._records and not records_equal(self._records[sid], rec):
            raise AvuInputError(None, f"sample {sid!r}", "conflicting duplicate predictions")
        self._records[sid] = rec

    def compute(self) -> EvalResult:
        merged: Mapping[str, Any] = self._records  # read only below
        if world_size() > 1:  # an id from several processes (sampler padding): the records must agree
            gathered: dict[str, Any] = {}
            for sid, rec in gather_records(self._records):
                if sid in gathered and not records_equal(gathered[sid], rec):
                    raise AvuInputError(None, f"sample {sid!r}", "conflicting duplicate predictions across processes")
                gathered[sid] = rec
            merged = gathered
        # update() admits known ids only, so as many ids as the split means all of them
        full = len(merged) == len(self.references)
        ids = list(self.references.ids) if full else [sid for sid in self.references.ids if sid in merged]
        missing = len(self.references) - len(ids)
        if missing and not self.allow_partial:
            first = next(s for s in self.references.ids if s not in merged)
            raise MissingSamplesError(
                None, f"sample {first!r}",
                f"{missing} of {len(self.references)} {self.benchmark} samples have no prediction "
                "(use --allow-partial to score the rest, marked partial)",
            )
        if not ids:
            raise MissingSamplesError(None, None, f"no {self.benchmark} predictions to evaluate")
        records = list(map(merged.__getitem__, ids))
        metrics, extras = self.reduce(ids, records)
        self.last_ids, self.last_records = ids, records  # for paired bootstrap (avu.results.stats)
        return EvalResult(
            benchmark=self.benchmark,
            split=self.references.split,
            protocol=self.protocol.as_dict(),
            annotation_version=self.references.annotation_version,
            metrics={k: float(v) for k, v in metrics.items()},
            counts={"expected": len(self.references), "evaluated": len(ids), "missing": missing},
            partial=bool(missing),
            manifest_hash=self.references.manifest_hash,
            primary_metric=self.primary_metric,
            extras=extras,
            provenance=self.provenance(),
        )
