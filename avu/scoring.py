"""``avu evaluate``: score one prediction file and write results with provenance.

(Not ``avu/evaluate.py``: that submodule would shadow the function ``avu.evaluate``.)"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from avu import BENCHMARK_IDS, fileio, protocols, provenance
from avu.benchmarks import dataset_dir, get_spec
from avu.errors import AvuInputError
from avu.evaluators.base import EvalResult
from avu.references import References
from avu.report import format_result_table


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--benchmark", required=True, help=f"one of: {', '.join(BENCHMARK_IDS)}")
    p.add_argument("--predictions", required=True, type=Path, help="prediction file (docs/predictions.md)")
    p.add_argument("--annotations", type=Path, help="dataset folder (or annotation file) in the official layout")
    p.add_argument(
        "--data-root", type=Path, default=os.environ.get("AVU_DATA_ROOT"),
        help="root holding one folder per dataset (ave/, avvp/, vggss/, avsbench/, music_avqa/); env AVU_DATA_ROOT",
    )
    p.add_argument("--split", default="test", help="split to score (default: test)")
    p.add_argument("--annotation-version", help="annotation version (default: the benchmark's canonical one)")
    p.add_argument("--protocol", help="protocol name (default: the benchmark's primary protocol)")
    p.add_argument("--allow-partial", action="store_true", help="score the samples present; mark the result partial")
    p.add_argument("--output", type=Path, help="write the results JSON here")


def resolve_annotations(benchmark: str, annotations: Path | None, data_root: Path | None) -> Path:
    if annotations is not None:
        if not annotations.exists():
            raise AvuInputError(annotations, None, "annotation path not found")
        return annotations
    if data_root is not None:
        path = dataset_dir(data_root, benchmark)
        if not path.exists():
            raise AvuInputError(path, None, f"no {benchmark} dataset folder under the data root")
        return path
    raise AvuInputError(None, "--annotations", "give --annotations PATH or --data-root ROOT (or set AVU_DATA_ROOT)")


def evaluate_file(
    benchmark: str,
    predictions: Path,
    references: References,
    protocol: protocols.Protocol | str | None = None,
    allow_partial: bool = False,
) -> EvalResult:
    spec = get_spec(benchmark)
    ids, payload = spec.read_predictions(Path(predictions), references)
    evaluator = spec.evaluator(references, protocol=protocol, allow_partial=allow_partial)
    try:
        evaluator.update(ids, payload)
        return evaluator.compute()
    except AvuInputError as exc:
        if exc.path is None:  # name the prediction file in the message
            raise AvuInputError(predictions, exc.where, exc.reason) from None
        raise


def manifest_status(references: References) -> str:
    """"official" when the annotation files and ids equal a committed manifest of the real split."""
    from avu.data import manifest

    committed = manifest.load(references.benchmark, references.split, references.annotation_version)
    if committed is None:
        return "no committed manifest"
    same = committed["files"] == references.files and committed["ids_sha256"] == references.ids_hash
    return "official" if same else "differs from the committed manifest"


def result_document(result: EvalResult, predictions: Path, references: References, **extra: Any) -> dict[str, Any]:
    return {
        **result.to_dict(),
        "references": {**references.describe(), "manifest": manifest_status(references)},
        "predictions": {"path": str(predictions), "sha256": provenance.sha256_file(predictions)}
        if Path(predictions).is_file() else {"path": str(predictions)},
        "provenance": provenance.record(**result.provenance, **extra),
    }


def guard_output(output: Path, predictions: Path, annotations: Path, references: References) -> None:
    """The results file may not land on an input (predictions, annotation files, hard links to
    them) nor inside the annotation folder, and must be writable: checked before scoring."""
    folder = annotations if annotations.is_dir() else annotations.parent
    root = Path(references.root) if references.root is not None else folder
    read = [root / name for name in references.files if (root / name).is_file()]
    fileio.check_output(output, inputs=[predictions, annotations, *read], input_dirs=[folder, root])


def run(args: argparse.Namespace) -> int:
    spec = get_spec(args.benchmark)
    version = args.annotation_version or spec.default_annotation_version
    if version not in spec.annotation_versions:
        raise AvuInputError(None, "--annotation-version", f"unknown version {version!r}; known: {list(spec.annotation_versions)}")
    protocol = protocols.get(args.benchmark, args.protocol)  # an unknown name fails before any reading
    path = resolve_annotations(args.benchmark, args.annotations, args.data_root)
    references = spec.load_references(path, split=args.split, version=version)
    if args.output:
        guard_output(args.output, args.predictions, path, references)
    result = evaluate_file(args.benchmark, args.predictions, references, protocol, args.allow_partial)
    print(format_result_table(result))
    if args.output:
        fileio.write_json(args.output, result_document(result, args.predictions, references))
        print(f"wrote {args.output}")
    return 0
