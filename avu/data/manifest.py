"""Manifests of the real test splits: ids, counts and sha256 of the annotation files.

Committed under ``avu/data/manifests/`` and built from the official annotation files
(``avu manifest build --datasets /path/to/datasets``). Evaluation records the manifest hash;
``avu manifest check`` says of each benchmark/split/version of a dataset folder whether it
matched, changed or is missing, fails on a change, and fails when nothing could be checked.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Entry:
    """One benchmark/split/version of a dataset folder: its references, or why they could not be read."""

    benchmark: str
    split: str
    version: str
    references: References | None
    reason: str = ""

    @property
    def name(self) -> str:
        return manifest_name(self.benchmark, self.split, self.version)


def _entries(datasets: Path) -> Iterator[Entry]:
    for benchmark in BENCHMARK_IDS:
        spec = get_spec(benchmark)
        folder = dataset_dir(datasets, benchmark)
        for version in spec.annotation_versions:
            for split in SPLITS:
                try:
                    refs = spec.load_references(folder, split=split, version=version)
                except AvuInputError as exc:  # the files of this benchmark/version are not there (e.g. AVSBench masks)
                    yield Entry(benchmark, split, version, None, str(exc))
                else:
                    yield Entry(benchmark, split, version, refs)


def load(benchmark: str, split: str, version: str) -> dict[str, Any] | None:
    path = MANIFEST_DIR / manifest_name(benchmark, split, version)
    return json.loads(path.read_text()) if path.is_file() else None


def build(datasets: Path, out_dir: Path = MANIFEST_DIR) -> list[Path]:
    written = []
    for entry in _entries(datasets):
        if entry.references is not None:
            path = out_dir / entry.name
            fileio.write_text(path, json.dumps(manifest_of(entry.references), indent=1) + "\n")
            written.append(path)
    return written


#: what ``check`` says of each benchmark/split/version
MATCHED, CHANGED, UNPINNED, MISSING = "matched", "changed", "no committed manifest", "missing"


def check(datasets: Path) -> list[tuple[Entry, str]]:
    """Each benchmark/split/version of the folder with its state: matched, changed, unpinned or missing."""
    if not Path(datasets).is_dir():
        raise AvuInputError(datasets, None, "not a folder")
    out = []
    for entry in _entries(datasets):
        if entry.references is None:
            out.append((entry, MISSING))
            continue
        committed = load(entry.benchmark, entry.split, entry.version)
        if committed is None:
            out.append((entry, UNPINNED))
        else:
            out.append((entry, MATCHED if committed == manifest_of(entry.references) else CHANGED))
    return out


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["build", "check"])
    p.add_argument("--datasets", type=Path, required=True, help="folder holding ave/, avvp/, vggss/, music_avqa/ ...")


def run(args: argparse.Namespace) -> int:
    if args.action == "build":
        written = build(args.datasets)
        if not written:
            raise AvuInputError(args.datasets, None, "no benchmark's annotation files found; nothing was built")
        for path in written:
            print(f"wrote {path}")
        return 0
    states = check(args.datasets)
    if all(state == MISSING for _, state in states):
        # a check that looked at nothing must not pass (e.g. --datasets pointing at the wrong folder)
        raise AvuInputError(args.datasets, None, "no benchmark's annotation files found; nothing was checked")
    for entry, state in states:
        detail = f" ({entry.reason})" if state == MISSING else f" (vs {MANIFEST_DIR / entry.name})" if state == CHANGED else ""
        print(f"{entry.benchmark} {entry.split} {entry.version}: {state}{detail}")
    bad = [e for e, state in states if state in (CHANGED, UNPINNED)]
    counts = {state: sum(s == state for _, s in states) for state in (MATCHED, CHANGED, UNPINNED, MISSING)}
    print(", ".join(f"{n} {state}" for state, n in counts.items() if n))
    return 1 if bad else 0
