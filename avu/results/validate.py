"""Validate reference_results/: schema, cross-file consistency and orphans.

    python -m avu.results.validate [--root reference_results]

Prints one line per problem (``file: field: message``) and exits 2 when there is any.
The layout it accepts (anything else is an orphan):

- ``schema.json``, ``tolerances.yaml``, ``README.md``;
- ``published/<benchmark>.yaml`` for each of the seven benchmarks;
- ``tables/<name>.yaml``;
- ``ours/<benchmark>/<configuration>.<generated|real>.json``, each used by some table
  (a comparison row or an ablation configuration of that benchmark), or a pair run of the
  transfer table (``pair_<a>__<b>`` under a and under b; ``python -m avu.reproduce --table transfer``).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from avu import BENCHMARK_IDS
from avu.errors import EXIT_BAD_INPUT, AvuInputError
from avu.results import catalog
from avu.results.load import (
    DATA_KINDS,
    AblationTable,
    ComparisonTable,
    read_document,
    schema_errors,
    table_configurations,
    table_from_dict,
)
from avu.results.paths import default_root

TOP_LEVEL_FILES = ("schema.json", "tolerances.yaml", "README.md")


@dataclass(frozen=True)
class Problem:
    path: str
    where: str
    message: str

    def __str__(self) -> str:
        return ": ".join(p for p in (self.path, self.where, self.message) if p)


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def add(self, path: Path | str, where: str, message: str) -> None:
        self.problems.append(Problem(str(path), where, message))

    def load(self, path: Path, definition: str) -> Any | None:
        """Parse and schema-check one file; None (with problems recorded) when it is unusable."""
        try:
            document = read_document(path)
        except AvuInputError as exc:
            self.add(path, exc.where or "", exc.reason)
            return None
        errors = schema_errors(document, definition, self.root / "schema.json")
        for where, message in errors:
            self.add(path, where, message)
        return None if errors else document


def _registered(benchmark: str) -> tuple[set[str], set[str]] | None:
    """(protocol names, annotation versions) registered by the benchmark's evaluator, if it imports."""
    try:
        from avu import protocols
        from avu.benchmarks import get_spec

        spec = get_spec(benchmark)
        return set(protocols.protocols_for(benchmark)), set(spec.annotation_versions)
    except (ImportError, AttributeError):
        return None


def _metric_names(benchmark: str) -> set[str]:
    names = set(catalog.METRICS[benchmark])
    from_evaluator = catalog.evaluator_metrics(benchmark)
    if from_evaluator is not None:
        names |= set(from_evaluator[0])
    return names


def _check_published(c: _Collector, path: Path, doc: dict, benchmark: str) -> None:
    if doc["benchmark"] != benchmark:
        c.add(path, "benchmark", f"file of {benchmark} declares {doc['benchmark']!r}")
    if doc["primary_metric"] != catalog.PRIMARY_METRIC[benchmark]:
        c.add(path, "primary_metric", f"{doc['primary_metric']!r} is not {catalog.PRIMARY_METRIC[benchmark]!r} (avu.results.catalog)")
    registered = _registered(benchmark)
    seen: set[str] = set()
    for i, e in enumerate(doc["entries"]):
        where = f"/entries/{i} ({e['id']})"
        if e["id"] in seen:
            c.add(path, where, "duplicate id")
        seen.add(e["id"])
        if e["metric"] is None:
            if not e["notes"]:
                c.add(path, where, "metric is null: notes must say why no avu metric matches")
        elif e["metric"] not in catalog.METRICS[benchmark]:
            c.add(path, where, f"unknown {benchmark} metric {e['metric']!r}")
        printed = Decimal(e["value"])
        expect_decimals = len(e["value"].split(".", 1)[1]) if "." in e["value"] else 0
        if e["reported_decimals"] != expect_decimals:
            c.add(path, where, f"reported_decimals {e['reported_decimals']} but {e['value']!r} prints {expect_decimals}")
        if e["scale"] == "fraction":
            if e["metric"] not in catalog.FRACTION_PRINTABLE or printed > 1:
                c.add(path, where, f"scale fraction is only for {sorted(catalog.FRACTION_PRINTABLE)} values <= 1")
            expected = float(printed * 100)
        else:
            expected = float(printed)
        if not math.isclose(e["value_percent"], expected, rel_tol=0, abs_tol=1e-12):
            c.add(path, where, f"value_percent {e['value_percent']} != {expected} computed from {e['value']!r} ({e['scale']})")
        if e["protocol"] == "unknown":
            if not e.get("protocol_note"):
                c.add(path, where, "protocol unknown: protocol_note must say why")
        elif registered is not None and e["protocol"] not in registered[0]:
            c.add(path, where, f"protocol {e['protocol']!r} is not registered for {benchmark}: {sorted(registered[0])}")
        if e["annotation_version"] is not None:
            if not e.get("annotation_note"):
                c.add(path, where, "annotation_version given: annotation_note must say how it is known")
            if registered is not None and e["annotation_version"] not in registered[1]:
                c.add(path, where, f"annotation_version {e['annotation_version']!r} unknown for {benchmark}: {sorted(registered[1])}")
    if registered is None:
        c.notes.append(f"{benchmark}: protocol and annotation-version names not checked (evaluator does not import)")


def _check_tolerances(c: _Collector, path: Path, doc: dict) -> None:
    for tier, body in doc["tiers"].items():
        missing = [b for b in BENCHMARK_IDS if b not in body["benchmarks"]]
        if missing:
            c.add(path, f"/tiers/{tier}/benchmarks", f"no entry for {', '.join(missing)}")
    for b, entry in doc["tiers"]["published"]["benchmarks"].items():
        for metric in entry.get("metrics", {}):
            if metric not in catalog.METRICS[b]:
                c.add(path, f"/tiers/published/benchmarks/{b}/metrics/{metric}", f"unknown {b} metric")


def _check_table(c: _Collector, path: Path, doc: dict, published: dict[str, dict]) -> None:
    if doc["name"] != path.stem:
        c.add(path, "name", f"{doc['name']!r} differs from the file name {path.stem!r}")
    table = table_from_dict(doc)
    rows = table.rows
    for i, row in enumerate(rows):
        where = f"/rows/{i}"
        if row.metric not in catalog.METRICS[row.benchmark]:
            c.add(path, where, f"unknown {row.benchmark} metric {row.metric!r}")
        if isinstance(table, ComparisonTable) and row.published is not None:
            entries = {e["id"]: e for e in published.get(row.benchmark, {}).get("entries", [])}
            entry = entries.get(row.published)
            if entry is None:
                c.add(path, where, f"no published {row.benchmark} entry {row.published!r}")
            elif entry["metric"] != row.metric or entry["method"] != table.published_method:
                c.add(path, where, f"entry {row.published!r} is {entry['method']} {entry['metric']}, "
                                   f"not {table.published_method} {row.metric}")
    if isinstance(table, AblationTable):
        ids = [cfg.id for cfg in table.configurations]
        if len(set(ids)) != len(ids):
            c.add(path, "/configurations", "duplicate configuration ids")
        if table.baseline not in ids:
            c.add(path, "baseline", f"{table.baseline!r} is not one of the configurations")


def _check_ours(c: _Collector, path: Path, doc: dict, benchmark: str) -> None:
    expected = f"{doc['configuration']}.{doc['provenance']['data']}.json"
    if doc["benchmark"] != benchmark or path.name != expected:
        c.add(path, "configuration", f"file should be ours/{doc['benchmark']}/{expected}")
    names = _metric_names(doc["benchmark"])
    for metric, stats in doc["metrics"].items():
        where = f"/metrics/{metric}"
        if metric not in names:
            c.add(path, where, f"unknown {doc['benchmark']} metric")
        values = stats["values"]
        if len(values) != len(doc["seeds"]):
            c.add(path, where, f"{len(values)} values for {len(doc['seeds'])} seeds")
            continue
        mean = math.fsum(values) / len(values)
        if not math.isclose(stats["mean"], mean, rel_tol=1e-12, abs_tol=1e-9):
            c.add(path, where, f"mean {stats['mean']} != {mean} computed from values")
        if len(values) == 1:
            if stats["std"] is not None:
                c.add(path, where, "std must be null for one seed")
        else:
            std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))
            if stats["std"] is None or not math.isclose(stats["std"], std, rel_tol=1e-9, abs_tol=1e-9):
                c.add(path, where, f"std {stats['std']} != {std} (sample std, ddof=1, of values)")
    registered = _registered(doc["benchmark"])
    base = doc["protocol"].split("[", 1)[0].rsplit(".v", 1)[0]
    if registered is not None and base not in registered[0]:
        c.add(path, "protocol", f"{base!r} is not registered for {doc['benchmark']}: {sorted(registered[0])}")


def validate(root: Path) -> tuple[list[Problem], list[str]]:
    """All problems of the folder, and notes on checks that could not run."""
    c = _Collector(root)
    if not (root / "schema.json").is_file():
        c.add(root / "schema.json", "", "missing: nothing can be checked without the schema")
        return c.problems, c.notes
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    published: dict[str, dict] = {}
    tables: dict[Path, dict] = {}
    ours: dict[Path, dict] = {}
    for path in files:
        rel = path.relative_to(root)
        parts = rel.parts
        if len(parts) == 1 and parts[0] in TOP_LEVEL_FILES:
            if parts[0] == "tolerances.yaml" and (doc := c.load(path, "tolerances_file")) is not None:
                _check_tolerances(c, path, doc)
            elif parts[0] == "schema.json":
                try:
                    read_document(path)
                except AvuInputError as exc:
                    c.add(path, exc.where or "", exc.reason)
        elif len(parts) == 2 and parts[0] == "published" and path.suffix == ".yaml" and path.stem in BENCHMARK_IDS:
            if (doc := c.load(path, "published_file")) is not None:
                published[path.stem] = doc
                _check_published(c, path, doc, path.stem)
        elif len(parts) == 2 and parts[0] == "tables" and path.suffix == ".yaml":
            if (doc := c.load(path, "table_file")) is not None:
                tables[path] = doc
        elif (len(parts) == 3 and parts[0] == "ours" and parts[1] in BENCHMARK_IDS
              and len(path.name.split(".")) == 3 and path.name.split(".")[1] in DATA_KINDS
              and path.suffix == ".json"):
            if (doc := c.load(path, "ours_file")) is not None:
                ours[path] = doc
                _check_ours(c, path, doc, parts[1])
        else:
            c.add(path, "", "orphan: not part of the reference_results layout "
                            "(published/<benchmark>.yaml, tables/<name>.yaml, ours/<benchmark>/<configuration>.<data>.json)")
    for name in ("tolerances.yaml",):
        if not (root / name).is_file():
            c.add(root / name, "", "missing")
    for b in BENCHMARK_IDS:
        if not (root / "published" / f"{b}.yaml").is_file():
            c.add(root / "published" / f"{b}.yaml", "", "missing: every benchmark needs its published numbers")
    for path, doc in tables.items():
        _check_table(c, path, doc, published)
    used: set[tuple[str, str]] = set()
    for doc in tables.values():
        table = table_from_dict(doc)
        benchmarks = {row.benchmark for row in table.rows}
        if isinstance(table, ComparisonTable):
            used |= {(row.benchmark, row.configuration) for row in table.rows}
        else:
            used |= {(b, cfg) for b in benchmarks for cfg in table_configurations(table)}
    for path, doc in ours.items():
        if doc["benchmark"] in (catalog.transfer_pair(doc["configuration"]) or ()):
            continue  # the transfer table (built by the reproducer, no table file) uses it
        if (doc["benchmark"], doc["configuration"]) not in used:
            c.add(path, "", f"orphan: no table uses configuration {doc['configuration']!r} for {doc['benchmark']}")
    return c.problems, c.notes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m avu.results.validate", description="validate reference_results/")
    parser.add_argument("--root", type=Path, default=None, help="the reference_results folder (default: the checkout's)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    args = parser.parse_args(argv)
    root = args.root or default_root()
    if not root.is_dir():
        print(f"avu: error: {root}: reference results folder not found", file=sys.stderr)
        return EXIT_BAD_INPUT
    problems, notes = validate(root)
    for p in problems:
        print(f"avu: error: {p}", file=sys.stderr)
    if not args.quiet:
        for n in notes:
            print(f"note: {n}")
    if problems:
        print(f"{len(problems)} problem(s) in {root}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.quiet:
        print(f"{root}: OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
