"""Malformed AVE prediction files: exit code 2, one stderr line naming file and field/sample, no output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from avu.data.annotations.ave import load_references
from tests.helpers.cli import run_cli

pytestmark = pytest.mark.ave


@pytest.fixture(scope="module")
def ave_dir(datasets_dir: Path) -> Path:
    return datasets_dir / "ave"


@pytest.fixture(scope="module")
def ids(ave_dir: Path) -> list[str]:
    return load_references(ave_dir, "test").ids


def _scores(n: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, 10, 29))


def _npz(path: Path, ids: list[str], **arrays) -> Path:
    path = path.with_suffix(".npz")
    np.savez(path, ids=np.array(ids), **arrays)
    return path


def _json(path: Path, obj) -> Path:
    path = path.with_suffix(".json")
    path.write_text(json.dumps(obj))
    return path


def _envelope(ids: list[str], make_entry: Callable[[int], dict], benchmark: str = "ave") -> dict:
    return {"benchmark": benchmark, "predictions": {sid: make_entry(i) for i, sid in enumerate(ids)}}


def _labels_entry(i: int) -> dict:
    return {"labels": [i % 29] * 10}


# name -> (builder(path, ids) -> file, text expected in the message besides the file name)
CASES: dict[str, tuple[Callable[[Path, list[str]], Path], str]] = {
    "missing_ids": (lambda p, ids: _npz(p, ids[:-1], scores=_scores(401)), "sample '{last}': 1 of 402"),
    "unknown_id": (lambda p, ids: _json(p, _envelope(ids + ["notAVideo"], _labels_entry)), "sample 'notAVideo'"),
    "nan_score": (
        lambda p, ids: _npz(p, ids, scores=np.where(np.arange(402)[:, None, None] == 7, np.nan, _scores(402))),
        "sample '{id7}'",
    ),
    "nan_literal_json": (
        lambda p, ids: (p.with_suffix(".json").write_text(
            json.dumps(_envelope(ids, _labels_entry)).replace("[0, 0, 0", "[NaN, 0, 0", 1)), p.with_suffix(".json"))[1],
        "NaN",
    ),
    "wrong_shape": (lambda p, ids: _npz(p, ids, scores=_scores(402)[:, :, :28]), "scores: wrong shape"),
    "wrong_shape_json_sample": (
        lambda p, ids: _json(p, _envelope(ids, lambda i: {"labels": [0] * (9 if i == 3 else 10)})),
        "sample '{id3}': labels: wrong shape",
    ),
    "wrong_dtype_float_labels": (
        lambda p, ids: _npz(p, ids, labels=np.zeros((402, 10), np.float32)), "labels: wrong dtype",
    ),
    "wrong_dtype_string_scores": (
        lambda p, ids: _json(p, _envelope(ids, lambda i: {"scores": [["x"] * 29] * 10})), "scores: wrong dtype",
    ),
    "class_out_of_range": (
        lambda p, ids: _npz(p, ids, labels=np.where(np.arange(402)[:, None] == 11, 29, np.zeros((402, 10), int))),
        "sample '{id11}': labels: class 29",
    ),
    "negative_class": (
        lambda p, ids: _json(p, _envelope(ids, lambda i: {"labels": [-1 if i == 0 else 0] * 10})), "sample '{id0}'",
    ),
    "empty_file": (lambda p, ids: (p.with_suffix(".json").write_text(""), p.with_suffix(".json"))[1], "empty file"),
    "truncated_json": (
        lambda p, ids: (p.with_suffix(".json").write_text(json.dumps(_envelope(ids, _labels_entry))[:5000]),
                        p.with_suffix(".json"))[1],
        "truncated JSON",
    ),
    "truncated_npz": (
        lambda p, ids: (p.with_suffix(".npz").write_bytes(_npz(p, ids, scores=_scores(402)).read_bytes()[:3000]),
                        p.with_suffix(".npz"))[1],
        "npz",
    ),
    "wrong_benchmark_json": (lambda p, ids: _json(p, _envelope(ids, _labels_entry, benchmark="avqa")), "benchmark"),
    "wrong_benchmark_npz": (
        lambda p, ids: _npz(p, ids, benchmark=np.array("llp"), scores=_scores(402)), "benchmark",
    ),
    "duplicate_ids_npz": (
        lambda p, ids: _npz(p, ids + [ids[5]], scores=_scores(403)), "sample '{id5}': appears twice",
    ),
    "unknown_field": (lambda p, ids: _npz(p, ids, score=_scores(402)), "score: unknown field"),
    "gate_field_missing": (
        lambda p, ids: _npz(p, ids, is_event=np.zeros((402, 10))), "event_scores: field missing",
    ),
    "scores_and_labels": (
        lambda p, ids: _npz(p, ids, scores=_scores(402), labels=np.zeros((402, 10), int)), "labels",
    ),
    "sample_not_object": (lambda p, ids: _json(p, _envelope(ids, lambda i: [0] * 10)), "sample '{id0}'"),
    "inconsistent_fields": (
        lambda p, ids: _json(p, _envelope(ids, lambda i: {"labels": [0] * 10} if i != 2 else {"scores": [[0] * 29] * 10})),
        "sample '{id2}'",
    ),
    "no_predictions": (lambda p, ids: _json(p, {"benchmark": "ave", "predictions": {}}), "predictions"),
    "folder_not_file": (lambda p, ids: (p.mkdir(), p)[1], "is a folder"),
    "ids_not_strings": (lambda p, ids: (np.savez(p.with_suffix(".npz"), ids=np.arange(402), scores=_scores(402)),
                                        p.with_suffix(".npz"))[1], "ids"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_prediction_file(case: str, ave_dir: Path, ids: list[str], tmp_path: Path) -> None:
    build, expected = CASES[case]
    pred = build(tmp_path / case, list(ids))
    out = tmp_path / "out.json"
    run = run_cli("evaluate", "--benchmark", "ave", "--predictions", pred, "--annotations", ave_dir, "--output", out)
    assert run.code == 2, (run.code, run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err
    assert str(pred) in lines[0]
    assert expected.format(last=ids[-1], **{f"id{i}": ids[i] for i in range(12)}) in lines[0], lines[0]
    assert not out.exists()
    assert not list(tmp_path.glob(".out.json*"))


def test_event_gate_protocol_on_scores_only_file(ave_dir: Path, ids: list[str], tmp_path: Path) -> None:
    pred = _npz(tmp_path / "scores", list(ids), scores=_scores(402))
    out = tmp_path / "out.json"
    run = run_cli("evaluate", "--benchmark", "ave", "--predictions", pred, "--annotations", ave_dir,
                  "--protocol", "ave_event_gate", "--output", out)
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1
    assert str(pred) in run.err and "is_event" in run.err
    assert not out.exists()


def test_partial_is_marked(ave_dir: Path, ids: list[str], tmp_path: Path) -> None:
    pred = _npz(tmp_path / "partial", list(ids[:100]), scores=_scores(100))
    out = tmp_path / "out.json"
    run = run_cli("evaluate", "--benchmark", "ave", "--predictions", pred, "--annotations", ave_dir,
                  "--allow-partial", "--output", out)
    assert run.code == 0, run.err
    doc = json.loads(out.read_text())
    assert doc["partial"] is True and doc["counts"] == {"expected": 402, "evaluated": 100, "missing": 302}
