"""What a site shows: scored runs (``Scored``) and, for a report folder, its tables.

Two sources:

* ``avu evaluate`` result files (``--result``, one or two of the same benchmark): each names
  its prediction file; the data (``--data-root`` or ``--annotations``) must be the one the
  result was computed on (same manifest hash).
* a reproducer report folder (``reports/<table>``): its ``<table>.json`` table, optional
  ``baselines.json`` and ``figures/``, and ``runs.json``, whose first run of the lowest seed
  gives one prediction file per benchmark (data root from the run's ``config.yaml``).

Every prediction file is re-scored with the benchmark's evaluator under the result's
protocol, and the metrics must equal the ones the result file states: the page never shows
a number that the files do not reproduce. Bad input is an `AvuInputError` naming the file
and the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avu.benchmarks import dataset_dir, get_spec
from avu.errors import AvuInputError

#: re-scored metrics must equal the stated ones to this (percent points; both are float64)
RESCORE_TOLERANCE = 1e-9


@dataclass
class Scored:
    """One prediction file of one benchmark, re-scored."""

    label: str
    benchmark: str
    source: Path
    predictions: Path
    data_root: Path | None
    references: Any
    evaluator: Any
    result: Any  # EvalResult
    ids: list[str]
    payload: Any

    @property
    def protocol_key(self) -> str:
        return self.result.protocol["key"]


@dataclass
class Report:
    """A reproducer report folder."""

    folder: Path
    table_name: str
    table: dict[str, Any] | None
    baselines: dict[str, Any] | None
    figures: list[Path] = field(default_factory=list)
    runs: dict[str, Scored] = field(default_factory=dict)
    run_label: str = ""


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise AvuInputError(path, None, "file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AvuInputError(path, None, f"not valid JSON ({exc})") from None


def _field(doc: Any, path: Path, *keys: str) -> Any:
    value = doc
    for i, key in enumerate(keys):
        if not isinstance(value, dict) or key not in value:
            raise AvuInputError(path, ".".join(keys[: i + 1]), "field missing")
        value = value[key]
    return value


def _prediction_path(doc: dict, path: Path) -> Path:
    given = Path(_field(doc, path, "predictions", "path"))
    if given.is_absolute() or given.exists():
        return given
    return path.parent / given  # a path relative to the result file (a moved result folder)


def score(label: str, benchmark: str, doc: dict, source: Path, data: Path, data_root: Path | None) -> Scored:
    """Re-score the prediction file that ``doc`` (a result of ``benchmark``) names, on ``data``."""
    spec = get_spec(benchmark)
    split = _field(doc, source, "split")
    version = _field(doc, source, "annotation_version")
    protocol = _field(doc, source, "protocol", "name")
    # a generated suite reports version "generated" whatever version is asked for
    asked = version if version in spec.annotation_versions else spec.default_annotation_version
    references = spec.load_references(data, split=split, version=asked)
    if references.annotation_version != version:
        raise AvuInputError(source, "annotation_version", f"{version!r}, but {data} holds {references.annotation_version!r}")
    stated_hash = _field(doc, source, "manifest_hash")
    if references.manifest_hash != stated_hash:
        raise AvuInputError(source, "manifest_hash", f"the result was computed on other annotations than {data} "
                            "(give the data it was scored on with --data-root or --annotations)")
    predictions = _prediction_path(doc, source)
    ids, payload = spec.read_predictions(predictions, references)
    evaluator = spec.evaluator(references, protocol=protocol, allow_partial=bool(doc.get("partial", False)))
    try:
        evaluator.update(ids, payload)
        result = evaluator.compute()
    except AvuInputError as exc:
        if exc.path is None:
            raise AvuInputError(predictions, exc.where, exc.reason) from None
        raise
    stated = _field(doc, source, "metrics")
    for name, value in result.metrics.items():
        if name not in stated:
            raise AvuInputError(source, f"metrics.{name}", "field missing")
        if not isinstance(stated[name], (int, float)) or not math.isclose(value, stated[name], rel_tol=0,
                                                                           abs_tol=RESCORE_TOLERANCE):
            raise AvuInputError(source, f"metrics.{name}", f"the file says {stated[name]!r}, re-scoring "
                                f"{predictions} gives {value!r}")
    return Scored(label, benchmark, source, predictions, data_root, references, evaluator, result, list(ids), payload)


def annotations_for(benchmark: str, annotations: Path | None, data_root: Path | None, source: Path) -> Path:
    if annotations is not None:
        if not annotations.exists():
            raise AvuInputError(annotations, None, "annotation path not found")
        return annotations
    if data_root is None:
        raise AvuInputError(source, None, "give the data the result was scored on: --data-root ROOT or --annotations PATH")
    path = dataset_dir(data_root, benchmark)
    if not path.exists():
        raise AvuInputError(path, None, f"no {benchmark} dataset folder under the data root")
    return path


def evaluate_results(paths: list[Path], data_root: Path | None, annotations: Path | None,
                     labels: list[str] | None = None) -> list[Scored]:
    """One or two ``avu evaluate`` result files of the same benchmark, re-scored."""
    if not 1 <= len(paths) <= 2:
        raise AvuInputError(None, "--result", f"give one or two result files, got {len(paths)}")
    out = []
    for k, path in enumerate(paths):
        doc = read_json(path)
        benchmark = _field(doc, path, "benchmark")
        if out and benchmark != out[0].benchmark:
            raise AvuInputError(path, "benchmark", f"{benchmark!r}, but {out[0].source} is {out[0].benchmark!r}: "
                                "side by side needs results of the same benchmark")
        get_spec(benchmark)
        label = labels[k] if labels and k < len(labels) else _default_label(path, paths)
        data = annotations_for(benchmark, annotations, data_root, path)
        out.append(score(label, benchmark, doc, path, data, data_root))
    if len(out) == 2 and out[0].result.split != out[1].result.split:
        raise AvuInputError(paths[1], "split", f"{out[1].result.split!r}, but {paths[0]} is {out[0].result.split!r}")
    return out


def _default_label(path: Path, paths: list[Path]) -> str:
    names = [p.stem for p in paths]
    return path.stem if len(set(names)) == len(names) else str(path)


# ----------------------------------------------------------------------------- report folders

def _run_data_root(run_dir: Path) -> Path | None:
    from omegaconf import OmegaConf

    config = run_dir / "config.yaml"
    if not config.is_file():
        return None
    root = OmegaConf.load(config).get("data", {}).get("root")
    return Path(root) if root else None


def _table_file(folder: Path) -> Path | None:
    """The reproducer's table JSON: ``<folder name>.json`` (``reports/<table>``), else the one JSON
    file holding a table (``--check --output DIR`` writes ``DIR/<table>.json``)."""
    named = folder / f"{folder.name}.json"
    if named.is_file():
        return named
    found = []
    for path in sorted(folder.glob("*.json")):
        if path.name in ("runs.json", "baselines.json"):
            continue
        doc = read_json(path)
        if isinstance(doc, dict) and "table" in doc and "kind" in doc:
            found.append(path)
    if len(found) > 1:
        raise AvuInputError(folder, None, f"several tables in it ({', '.join(p.name for p in found)}); keep one")
    return found[0] if found else None


def report(folder: Path, data_root: Path | None = None) -> Report:
    """The table, baselines, figures and (when ``runs.json`` is there) the runs of a report folder."""
    if not folder.is_dir():
        raise AvuInputError(folder, None, "report folder not found")
    table_path = _table_file(folder)
    table = read_json(table_path) if table_path is not None else None
    name = table_path.stem if table_path is not None else folder.name
    if table is None and not (folder / "runs.json").is_file():
        raise AvuInputError(folder, None, "not a report folder: no <table>.json nor runs.json in it "
                            "(write one with python -m avu.reproduce)")
    baselines_path = folder / "baselines.json"
    baselines = read_json(baselines_path) if baselines_path.is_file() else None
    figures = sorted((folder / "figures").glob("*.png")) if (folder / "figures").is_dir() else []
    out = Report(folder, name, table, baselines, figures)
    runs_path = folder / "runs.json"
    if not runs_path.is_file():
        return out
    runs = read_json(runs_path)
    if not isinstance(runs, list) or not runs:
        raise AvuInputError(runs_path, None, "expected a non-empty list of runs")
    # the first configuration's run of the lowest seed: the one the report's pictures show
    first = min(runs, key=lambda r: (r.get("configuration") != runs[0].get("configuration"), r.get("seed", 0)))
    run_dir = Path(_field(first, runs_path, "run_dir"))
    # the reproducer records paths relative to where it ran (runs/reproduce/..., data/generated/...):
    # the checkout above reports/<table>, when the page is written from elsewhere
    base = Path.cwd() if run_dir.is_absolute() or run_dir.exists() else folder.resolve().parent.parent
    run_dir = base / run_dir
    results_path = run_dir / "results.json"
    doc = read_json(results_path)
    root = data_root or _run_data_root(run_dir)
    if root is not None and not root.is_absolute() and not root.exists():
        root = base / root
    if root is None:
        raise AvuInputError(run_dir / "config.yaml", "data.root", "missing: give --data-root")
    label = f"{first.get('configuration', 'run')} seed {first.get('seed', 0)}"
    out.run_label = label
    for benchmark, result in _field(doc, results_path, "results").items():
        # results.json records prediction paths of the machine that trained; a copied run folder
        # keeps its predictions/ beside results.json
        pred = Path(_field(result, results_path, "predictions", "path"))
        if not pred.exists():
            result = {**result, "predictions": {"path": str(run_dir / "predictions" / pred.name)}}
        out.runs[benchmark] = score(label, benchmark, result, results_path, dataset_dir(root, benchmark), root)
    return out
