"""Load reference results: published numbers, our pinned results, tolerances, table definitions.

Every file is checked against ``reference_results/schema.json`` as it is read; the first
violation is raised as a one-line `AvuInputError` naming the file and the field.
Cross-file checks (entry ids in tables, orphans, ...) live in `avu.results.validate`.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from avu import BENCHMARK_IDS, fileio
from avu.errors import AvuInputError
from avu.results import schema as schema_mod
from avu.results.paths import default_root

DATA_KINDS = ("generated", "real")

#: libyaml's loader when PyYAML was built with it (7x faster on the published files), else pure Python
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# -- reading -------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _parse(suffix: str, text: str) -> Any:
    # keyed by content: the big published files are parsed once per process, wherever they are copied
    return json.loads(text) if suffix == ".json" else yaml.load(text, Loader=_YAML_LOADER)


def read_document(path: Path) -> Any:
    """Parse a YAML or JSON file (a fresh copy); syntax errors become one-line `AvuInputError`s."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AvuInputError(path, None, exc.strerror or "cannot read") from None
    try:
        return copy.deepcopy(_parse(Path(path).suffix, text))
    except json.JSONDecodeError as exc:
        raise AvuInputError(path, f"line {exc.lineno}", f"invalid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise AvuInputError(path, where, f"invalid YAML: {getattr(exc, 'problem', None) or exc}") from None


def schema_errors(document: Any, definition: str, schema_path: Path) -> list[tuple[str, str]]:
    schema = schema_mod.load_schema(str(schema_path))
    return schema_mod.validate(document, schema_mod.definition(schema, definition))


def read_checked(path: Path, definition: str, schema_path: Path) -> Any:
    document = read_document(path)
    errors = schema_errors(document, definition, schema_path)
    if errors:
        where, message = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise AvuInputError(path, where, message + more)
    return document


# -- published -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PublishedEntry:
    """One published number, as printed, with its source."""

    benchmark: str
    id: str
    method: str
    venue: str
    year: int
    metric: str | None
    metric_label: str
    value: str
    scale: str
    value_percent: float
    reported_decimals: int
    setting: str
    source_key: str
    source_text: str
    confidence: str
    protocol: str
    annotation_version: str | None
    notes: tuple[str, ...] = ()
    protocol_note: str | None = None
    annotation_note: str | None = None

    @classmethod
    def from_dict(cls, benchmark: str, d: Mapping[str, Any]) -> PublishedEntry:
        return cls(
            benchmark=benchmark, id=d["id"], method=d["method"], venue=d["venue"], year=int(d["year"]),
            metric=d["metric"], metric_label=d["metric_label"], value=d["value"], scale=d["scale"],
            value_percent=float(d["value_percent"]), reported_decimals=int(d["reported_decimals"]),
            setting=d["setting"], source_key=d["source"]["key"], source_text=d["source"]["text"],
            confidence=d["confidence"], protocol=d["protocol"], annotation_version=d["annotation_version"],
            notes=tuple(d.get("notes", ())), protocol_note=d.get("protocol_note"),
            annotation_note=d.get("annotation_note"),
        )

    @property
    def percent_decimals(self) -> int:
        """Decimals of the printed number once expressed in percent."""
        return max(0, self.reported_decimals - 2) if self.scale == "fraction" else self.reported_decimals

    @property
    def half_unit(self) -> float:
        """Half a unit of the last printed decimal, in percentage points (the rounding interval)."""
        scale = 100.0 if self.scale == "fraction" else 1.0
        return 0.5 * 10.0 ** (-self.reported_decimals) * scale

    def display(self) -> str:
        """The number in percent with the printed precision (e.g. '0.879' -> '87.9')."""
        return f"{self.value_percent:.{self.percent_decimals}f}"


@dataclass(frozen=True)
class PublishedSet:
    benchmark: str
    title: str
    split: str
    primary_metric: str
    entries: tuple[PublishedEntry, ...]
    path: Path | None = None

    def get(self, entry_id: str) -> PublishedEntry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise AvuInputError(self.path, entry_id, f"no such published {self.benchmark} entry")

    def by_method(self, method: str) -> dict[str, PublishedEntry]:
        """metric -> entry of one method (entries whose metric maps to an avu metric)."""
        return {e.metric: e for e in self.entries if e.method == method and e.metric is not None}


# -- ours ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricStats:
    values: tuple[float, ...]
    mean: float
    std: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> MetricStats:
        """Mean and sample standard deviation (ddof=1; None for one value)."""
        vals = tuple(float(v) for v in values)
        if not vals or not all(math.isfinite(v) for v in vals):
            raise ValueError(f"need finite values, got {vals}")
        mean = math.fsum(vals) / len(vals)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else None
        return cls(vals, mean, std)

    def to_dict(self) -> dict[str, Any]:
        return {"values": list(self.values), "mean": self.mean, "std": self.std}


@dataclass(frozen=True)
class OursResult:
    """Our result for one (benchmark, configuration, data kind): per-seed values, mean, std, provenance."""

    benchmark: str
    configuration: str
    split: str
    protocol: str
    annotation_version: str
    seeds: tuple[int, ...]
    metrics: Mapping[str, MetricStats]
    provenance: Mapping[str, Any]
    notes: str = ""
    extras: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def data(self) -> str:
        return str(self.provenance["data"])

    @property
    def filename(self) -> str:
        return f"{self.configuration}.{self.data}.json"

    @classmethod
    def from_seed_runs(
        cls,
        benchmark: str,
        configuration: str,
        runs: Mapping[int, Mapping[str, float]],
        *,
        protocol: str,
        annotation_version: str,
        provenance: Mapping[str, Any],
        split: str = "test",
        notes: str = "",
        extras: Mapping[str, Any] | None = None,
    ) -> OursResult:
        """Aggregate per-seed metrics (percent) into mean and std over seeds (sorted by seed)."""
        seeds = tuple(sorted(int(s) for s in runs))
        if not seeds:
            raise ValueError("no runs")
        names = set(runs[seeds[0]])
        for s in seeds:
            if set(runs[s]) != names:
                raise ValueError(f"seed {s} has metrics {sorted(runs[s])}, seed {seeds[0]} has {sorted(names)}")
        metrics = {m: MetricStats.of(runs[s][m] for s in seeds) for m in sorted(names)}
        return cls(benchmark, configuration, split, protocol, annotation_version, seeds, metrics,
                   dict(provenance), notes, dict(extras or {}))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], path: Path | None = None) -> OursResult:
        metrics = {
            name: MetricStats(tuple(float(v) for v in m["values"]), float(m["mean"]),
                              None if m["std"] is None else float(m["std"]))
            for name, m in d["metrics"].items()
        }
        return cls(d["benchmark"], d["configuration"], d["split"], d["protocol"], d["annotation_version"],
                   tuple(int(s) for s in d["seeds"]), metrics, dict(d["provenance"]), d.get("notes", ""),
                   dict(d.get("extras", {})), path)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": 1,
            "benchmark": self.benchmark,
            "configuration": self.configuration,
            "split": self.split,
            "protocol": self.protocol,
            "annotation_version": self.annotation_version,
            "seeds": list(self.seeds),
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "provenance": dict(self.provenance),
        }
        if self.notes:
            out["notes"] = self.notes
        if self.extras:
            out["extras"] = dict(self.extras)
        return out


# -- tables --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ComparisonRow:
    benchmark: str
    metric: str
    published: str | None
    tier: str
    configuration: str
    expected_failure: str | None = None


@dataclass(frozen=True)
class ComparisonTable:
    name: str
    title: str
    description: str
    published_method: str
    configuration: str
    rows: tuple[ComparisonRow, ...]
    kind: str = "comparison"


@dataclass(frozen=True)
class Configuration:
    id: str
    label: str
    description: str


@dataclass(frozen=True)
class AblationRow:
    benchmark: str
    metric: str


@dataclass(frozen=True)
class AblationTable:
    name: str
    title: str
    description: str
    baseline: str
    configurations: tuple[Configuration, ...]
    rows: tuple[AblationRow, ...]
    kind: str = "ablation"


Table = ComparisonTable | AblationTable


def table_from_dict(d: Mapping[str, Any]) -> Table:
    if d["kind"] == "comparison":
        rows = tuple(
            ComparisonRow(r["benchmark"], r["metric"], r["published"], r["tier"],
                          r.get("configuration", d["configuration"]), r.get("expected_failure"))
            for r in d["rows"]
        )
        return ComparisonTable(d["name"], d["title"], d["description"], d["published_method"], d["configuration"], rows)
    configs = tuple(Configuration(c["id"], c["label"], c["description"]) for c in d["configurations"])
    rows = tuple(AblationRow(r["benchmark"], r["metric"]) for r in d["rows"])
    return AblationTable(d["name"], d["title"], d["description"], d["baseline"], configs, rows)


def table_configurations(table: Table) -> set[str]:
    if isinstance(table, ComparisonTable):
        return {row.configuration for row in table.rows}
    return {c.id for c in table.configurations}


# -- tolerances ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Tolerances:
    """The three tiers of reference_results/tolerances.yaml (see `avu.results.tolerance`)."""

    tiers: Mapping[str, Mapping[str, Any]]
    path: Path | None = None

    def tier(self, name: str) -> Mapping[str, Any]:
        return self.tiers[name]

    def benchmark(self, tier: str, benchmark: str) -> Mapping[str, Any]:
        entries = self.tiers[tier]["benchmarks"]
        if benchmark not in entries:
            raise AvuInputError(self.path, f"tiers/{tier}/benchmarks", f"no entry for {benchmark}")
        return entries[benchmark]


# -- the folder ----------------------------------------------------------------------------
class ReferenceResults:
    """The reference_results/ folder: ``published(b)``, ``ours(b, config, data)``, ``tolerances``, ``table(name)``."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        if not self.root.is_dir():
            raise AvuInputError(self.root, None, "reference results folder not found")
        self.schema_path = self.root / "schema.json"
        self._published: dict[str, PublishedSet] = {}

    # published
    def published(self, benchmark: str) -> PublishedSet:
        if benchmark not in BENCHMARK_IDS:
            raise AvuInputError(None, "benchmark", f"unknown benchmark {benchmark!r}")
        if benchmark not in self._published:
            path = self.root / "published" / f"{benchmark}.yaml"
            d = read_checked(path, "published_file", self.schema_path)
            if d["benchmark"] != benchmark:
                raise AvuInputError(path, "benchmark", f"file of {benchmark} says {d['benchmark']!r}")
            self._published[benchmark] = PublishedSet(
                benchmark, d["title"], d["split"], d["primary_metric"],
                tuple(PublishedEntry.from_dict(benchmark, e) for e in d["entries"]), path,
            )
        return self._published[benchmark]

    # ours
    def ours_path(self, benchmark: str, configuration: str, data: str) -> Path:
        return self.root / "ours" / benchmark / f"{configuration}.{data}.json"

    def ours(self, benchmark: str, configuration: str, data: str) -> OursResult | None:
        """Our pinned result, or None when none is pinned."""
        if data not in DATA_KINDS:
            raise ValueError(f"data must be one of {DATA_KINDS}, got {data!r}")
        path = self.ours_path(benchmark, configuration, data)
        if not path.is_file():
            return None
        return load_ours_file(path, self.schema_path)

    def all_ours(self) -> list[OursResult]:
        folder = self.root / "ours"
        if not folder.is_dir():
            return []
        return [load_ours_file(p, self.schema_path) for p in sorted(folder.glob("*/*.json"))]

    def save_ours(self, result: OursResult) -> Path:
        """Pin a result (atomic write to ours/<benchmark>/<configuration>.<data>.json), schema-checked."""
        path = self.ours_path(result.benchmark, result.configuration, result.data)
        document = result.to_dict()
        errors = schema_errors(document, "ours_file", self.schema_path)
        if errors:
            raise AvuInputError(path, errors[0][0], errors[0][1])
        fileio.write_json(path, document)
        return path

    # tolerances
    @cached_property
    def tolerances(self) -> Tolerances:
        path = self.root / "tolerances.yaml"
        return Tolerances(read_checked(path, "tolerances_file", self.schema_path)["tiers"], path)

    # tables
    def table_names(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "tables").glob("*.yaml"))

    def table(self, name: str) -> Table:
        path = self.root / "tables" / f"{name}.yaml"
        if not path.is_file():
            raise AvuInputError(path, "--table", f"no table {name!r}; known: {', '.join(self.table_names())}")
        d = read_checked(path, "table_file", self.schema_path)
        if d["name"] != name:
            raise AvuInputError(path, "name", f"table file {name}.yaml declares name {d['name']!r}")
        return table_from_dict(d)


def load_ours_file(path: Path, schema_path: Path) -> OursResult:
    d = read_checked(path, "ours_file", schema_path)
    result = OursResult.from_dict(d, path)
    expected = f"{result.configuration}.{result.data}.json"
    if path.name != expected or path.parent.name != result.benchmark:
        raise AvuInputError(path, "configuration", f"file should be ours/{result.benchmark}/{expected}")
    return result
