"""Manifests of the real test splits: ids, counts and sha256 of the annotation files.

Committed under ``avu/data/manifests/`` and built from the official annotation files
(``avu manifest build --datasets ../shared/datasets``). Evaluation records the manifest
hash; ``avu manifest check`` verifies a dataset folder against the committed manifests.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Iterator

from avu import BENCHMARK_IDS, fileio
from avu.benchmarks import dataset_dir, get_spec
from avu.errors import AvuInputError
from avu.references import References

MANIFEST_DIR = Path(__file__).with_name("manifests")
SPLITS = ("test",)


def manifest_name(benchmark: str, split: str, version: str) -> str:
    return f"{benchmark}-{split}-{version}.json"


def manifest_of(references: References) -> dict[str, Any]:
    return {**references.describe(), "ids": list(references.ids)}


def _buildable(datasets: Path) -> Iterator[tuple[str, str, str, References]]:
    for benchmark in BENCHMARK_IDS:
        spec = get_spec(benchmark)
        folder = dataset_dir(datasets, benchmark)
        for version in spec.annotation_versions:
            for split in SPLITS:
                try:
                    refs = spec.load_references(folder, split=split, version=version)
                except AvuInputError:
                    continue  # the files of this benchmark/version are not there (e.g. AVSBench masks)
                yield benchmark, split, version, refs


def load(benchmark: str, split: str, version: str) -> dict[str, Any] | None:
    path = MANIFEST_DIR / manifest_name(benchmark, split, version)
    return json.loads(path.read_text()) if path.is_file() else None


def build(datasets: Path, out_dir: Path = MANIFEST_DIR) -> list[Path]:
    written = []
    for benchmark, split, version, refs in _buildable(datasets):
        path = out_dir / manifest_name(benchmark, split, version)
        fileio.write_text(path, json.dumps(manifest_of(refs), indent=1) + "\n")
        written.append(path)
    return written


def check(datasets: Path) -> list[str]:
    """Differences between the dataset folder and the committed manifests (empty: all match)."""
    problems = []
    for benchmark, split, version, refs in _buildable(datasets):
        committed = load(benchmark, split, version)
        if committed is None:
            problems.append(f"{manifest_name(benchmark, split, version)}: no committed manifest")
        elif committed != manifest_of(refs):
            problems.append(f"{manifest_name(benchmark, split, version)}: differs from {datasets}")
    return problems


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["build", "check"])
    p.add_argument("--datasets", type=Path, required=True, help="folder holding ave/, avvp/, vggss/, music_avqa/ ...")


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        for path in build(args.datasets):
            print(f"wrote {path}")
        return 0
    problems = check(args.datasets)
    for line in problems:
        print(line)
    print("manifests match" if not problems else f"{len(problems)} manifest problem(s)")
    return 1 if problems else 0
