"""Inputs are sacred: ``avu evaluate --output`` may never be an input file (by path, symlink or hard
link) nor lie inside the annotation folder, and must be writable; refused before scoring, exit 2,
one line, every input byte for byte unchanged (issue 14)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from PIL import Image

from avu import BENCHMARK_IDS
from avu.benchmarks import dataset_dir
from tests.helpers import predictions as P
from tests.helpers.cli import run_cli

MASKS = ("avs_s4", "avs_ms3", "avss")


@pytest.fixture(scope="module")
def suite(tiny_suite: Path, tmp_path_factory) -> Path:
    """A private copy of the tiny suite: a broken guard damages this copy, not the session's."""
    root = tmp_path_factory.mktemp("guard") / "suite"
    shutil.copytree(tiny_suite, root, ignore=shutil.ignore_patterns(".avu_cache"))
    return root


@pytest.fixture(scope="module")
def refs(suite: Path) -> dict[str, Any]:
    return {b: P.load(b, suite) for b in BENCHMARK_IDS}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def annotation_file(references: Any) -> Path:
    return next(references.root / name for name in references.files if (references.root / name).is_file())


#: case -> (predictions, annotation file, annotation folder, tmp) -> the --output path
CASES: dict[str, Callable[[Path, Path, Path, Path], Path]] = {
    "predictions_file": lambda pred, ann, folder, tmp: pred,
    "annotation_file": lambda pred, ann, folder, tmp: ann,
    "hard_link_to_predictions": lambda pred, ann, folder, tmp: (os.link(pred, tmp / "link.npz"), tmp / "link.npz")[1],
    "hard_link_to_annotation": lambda pred, ann, folder, tmp: (os.link(ann, tmp / "ann.json"), tmp / "ann.json")[1],
    "symlink_to_predictions": lambda pred, ann, folder, tmp: (os.symlink(pred, tmp / "sym.json"), tmp / "sym.json")[1],
    "inside_annotation_folder": lambda pred, ann, folder, tmp: folder / "results" / "result.json",
    "annotation_folder_itself": lambda pred, ann, folder, tmp: folder / "result.json",
}


@pytest.mark.parametrize("how", ["--annotations", "--data-root"])
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("benchmark_id", [pytest.param(b, marks=getattr(pytest.mark, b)) for b in BENCHMARK_IDS])
def test_output_on_an_input_is_refused(benchmark_id: str, case: str, how: str, suite: Path, refs, tmp_path: Path) -> None:
    references = refs[benchmark_id]
    folder = dataset_dir(suite, benchmark_id)
    pred = P.write_npz(tmp_path / "pred.npz", **P.npz_arrays(benchmark_id, references))
    ann = annotation_file(references)
    before = {pred: sha256(pred), ann: sha256(ann)}
    files_before = listing(folder)
    out = CASES[case](pred, ann, folder, tmp_path)
    where = ["--annotations", folder] if how == "--annotations" else ["--data-root", suite]
    run = run_cli("evaluate", "--benchmark", benchmark_id, "--predictions", pred, *where, "--output", out)
    assert run.code == 2, (run.code, run.out, run.err)
    line = run.err.strip()
    assert len(run.err.splitlines()) == 1 and line.startswith(f"avu: error: {out}: --output: "), run.err
    assert "Traceback" not in run.err and not run.out  # refused before scoring: no result table
    assert {p: sha256(p) for p in before} == before
    assert listing(folder) == files_before  # nothing added to the annotation folder, no temp file left
    assert not list(tmp_path.glob(".*"))


@pytest.mark.parametrize("benchmark_id", [pytest.param(b, marks=getattr(pytest.mark, b)) for b in MASKS])
def test_output_inside_a_png_prediction_folder_is_refused(benchmark_id: str, suite: Path, refs, tmp_path: Path) -> None:
    references = refs[benchmark_id]
    pngs = tmp_path / "pngs"
    for sid, frames in zip(references.ids, P.npz_arrays(benchmark_id, references)[P.NPZ_KEY[benchmark_id]]):
        (pngs / sid).mkdir(parents=True)
        for k, frame in enumerate(frames):
            Image.fromarray(frame.astype(np.uint8)).save(pngs / sid / f"{k}.png")
    before = listing(pngs)
    out = pngs / "result.json"
    run = run_cli("evaluate", "--benchmark", benchmark_id, "--predictions", pngs, "--data-root", suite, "--output", out)
    assert run.code == 2 and "lies inside the input folder" in run.err and len(run.err.splitlines()) == 1, run.err
    assert listing(pngs) == before
    ok = run_cli("evaluate", "--benchmark", benchmark_id, "--predictions", pngs, "--data-root", suite,
                 "--output", tmp_path / "result.json")
    assert ok.code == 0, ok.err  # the same folder scores with the output beside it


def test_the_same_inputs_score_with_the_output_elsewhere(suite: Path, refs, tmp_path: Path) -> None:
    pred = P.write_npz(tmp_path / "pred.npz", **P.npz_arrays("ave", refs["ave"]))
    out = tmp_path / "new" / "deeper" / "result.json"  # missing parents are created, as before
    run = run_cli("evaluate", "--benchmark", "ave", "--predictions", pred, "--data-root", suite, "--output", out)
    assert run.code == 0 and out.is_file(), run.err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["deeper", "new", "pred.npz", "result.json"]


def _refused_up_front(suite: Path, refs, tmp_path: Path, out: Path, expected: str) -> None:
    pred = P.write_npz(tmp_path / "pred.npz", **P.npz_arrays("ave", refs["ave"]))
    run = run_cli("evaluate", "--benchmark", "ave", "--predictions", pred, "--data-root", suite, "--output", out)
    assert run.code == 2 and len(run.err.splitlines()) == 1, run.err
    assert run.err.startswith(f"avu: error: {out}: --output: ") and expected in run.err, run.err
    assert not run.out  # before scoring


def test_output_that_is_a_folder(suite: Path, refs, tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    _refused_up_front(suite, refs, tmp_path, tmp_path / "results", "is a folder")


def test_output_under_a_regular_file(suite: Path, refs, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    _refused_up_front(suite, refs, tmp_path, tmp_path / "notes.txt" / "sub" / "result.json", "which is a file")
    assert (tmp_path / "notes.txt").read_text() == "a file, not a folder"


def test_unwritable_output_folder(suite: Path, refs, tmp_path: Path, monkeypatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):  # root writes anyway: make the probe fail as a read-only mount would
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("avu.fileio.tempfile.mkstemp", refuse)
    try:
        _refused_up_front(suite, refs, tmp_path, locked / "result.json", f"cannot write in {locked}")
    finally:
        locked.chmod(0o755)
    assert list(locked.iterdir()) == []
