"""Malformed MUSIC-AVQA prediction files: exit code 2, one stderr line naming file and field/sample, no output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from avu.data.annotations.avqa import ANSWER_VOCAB, load_references
from tests.helpers.cli import run_cli

pytestmark = pytest.mark.avqa


@pytest.fixture(scope="module")
def avqa_dir(datasets_dir: Path) -> Path:
    return datasets_dir / "music_avqa"


@pytest.fixture(scope="module")
def ids(avqa_dir: Path) -> list[str]:
    return load_references(avqa_dir, "test").ids  # default version: json_update


def _answers(n: int) -> list[str]:
    return [ANSWER_VOCAB[i % 42] for i in range(n)]


def _npz(path: Path, ids: list[str], **arrays) -> Path:
    path = path.with_suffix(".npz")
    np.savez(path, ids=np.array(ids), **arrays)
    return path


def _text(path: Path, text: str) -> Path:
    path = path.with_suffix(".json")
    path.write_text(text)
    return path


def _json(path: Path, obj) -> Path:
    return _text(path, json.dumps(obj))


def _envelope(ids: list[str], entry: Callable[[int], object], benchmark: str = "avqa", **top) -> dict:
    return {"benchmark": benchmark, **top, "predictions": {sid: entry(i) for i, sid in enumerate(ids)}}


def _ok(i: int) -> dict:
    return {"answer": ANSWER_VOCAB[i % 42]}


CASES: dict[str, tuple[Callable[[Path, list[str]], Path], str]] = {
    "missing_ids": (lambda p, ids: _npz(p, ids[:-2], answers=np.array(_answers(len(ids) - 2))),
                    "sample '{last2}': 2 of 9129"),
    "unknown_id": (lambda p, ids: _json(p, _envelope(ids + ["99999999"], _ok)), "sample '99999999': unknown id"),
    "suffix_id_not_in_version": (lambda p, ids: _json(p, _envelope(ids[:-1] + ["1138#2"], _ok)), "sample '1138#2'"),
    "answer_not_string": (lambda p, ids: _json(p, _envelope(ids, lambda i: {"answer": 2} if i == 4 else _ok(i))),
                          "sample '{id4}': answer: must be a string, got int"),
    "answer_null": (lambda p, ids: _json(p, _envelope(ids, lambda i: None if i == 1 else _ok(i))),
                    "sample '{id1}'"),
    "wrong_dtype_npz": (lambda p, ids: _npz(p, ids, answers=np.zeros(len(ids))), "answers: wrong dtype"),
    "wrong_shape_npz": (lambda p, ids: _npz(p, ids, answers=np.array(_answers(len(ids)))[:, None]),
                        "answers: wrong shape"),
    "wrong_length_npz": (lambda p, ids: _npz(p, ids, answers=np.array(_answers(len(ids) - 1))),
                         "answers: wrong shape"),
    "index_out_of_range": (
        lambda p, ids: _npz(p, ids, answer_index=np.where(np.arange(len(ids)) == 9, 42, 0),
                            ans_vocab=np.array(ANSWER_VOCAB)),
        "sample '{id9}': answer_index 42 outside 0..41"),
    "index_without_vocab": (lambda p, ids: _json(p, _envelope(ids, lambda i: {"answer_index": 0})), "ans_vocab"),
    "index_float": (lambda p, ids: _json(p, _envelope(ids, lambda i: {"answer_index": 1.5}, ans_vocab=list(ANSWER_VOCAB))),
                    "sample '{id0}': answer_index"),
    "vocab_duplicate": (lambda p, ids: _npz(p, ids, answer_index=np.zeros(len(ids), int),
                                            ans_vocab=np.array(list(ANSWER_VOCAB) + ["two"])),
                        "ans_vocab[42]: answer 'two' appears twice"),
    "answers_and_index": (lambda p, ids: _npz(p, ids, answers=np.array(_answers(len(ids))),
                                              answer_index=np.zeros(len(ids), int), ans_vocab=np.array(ANSWER_VOCAB)),
                          "answers: give exactly one"),
    "empty_file": (lambda p, ids: _text(p, ""), "empty file"),
    "whitespace_file": (lambda p, ids: _text(p, "  \n"), "empty file"),
    "truncated_json": (lambda p, ids: _text(p, json.dumps(_envelope(ids, _ok))[:777]), "truncated JSON"),
    "nan_literal": (lambda p, ids: _text(p, json.dumps(_envelope(ids, lambda i: {"answer_index": 0}))
                                         .replace('"answer_index": 0', '"answer_index": NaN', 1)), "NaN"),
    "wrong_benchmark": (lambda p, ids: _json(p, _envelope(ids, _ok, benchmark="ave")), "benchmark: file holds 'ave'"),
    "duplicate_ids_npz": (lambda p, ids: _npz(p, ids + [ids[3]], answers=np.array(_answers(len(ids) + 1))),
                          "sample '{id3}': appears twice"),
    "unknown_sample_field": (lambda p, ids: _json(p, _envelope(ids, lambda i: {"label": "two"})),
                             "sample '{id0}': label: unknown field"),
    "unknown_npz_array": (lambda p, ids: _npz(p, ids, answers=np.array(_answers(len(ids))), logits=np.zeros(3)),
                          "logits: unknown array"),
    "top_level_list": (lambda p, ids: _json(p, [1, 2]), "top level"),
    "truncated_npz": (lambda p, ids: (p.with_suffix(".npz").write_bytes(
        _npz(p, ids, answers=np.array(_answers(len(ids)))).read_bytes()[:1000]), p.with_suffix(".npz"))[1], "npz"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_prediction_file(case: str, avqa_dir: Path, ids: list[str], tmp_path: Path) -> None:
    build, expected = CASES[case]
    pred = build(tmp_path / case, list(ids))
    out = tmp_path / "out.json"
    run = run_cli("evaluate", "--benchmark", "avqa", "--predictions", pred, "--annotations", avqa_dir, "--output", out)
    assert run.code == 2, (run.code, run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err
    assert str(pred) in lines[0]
    assert expected.format(last2=ids[-2], **{f"id{i}": ids[i] for i in range(10)}) in lines[0], lines[0]
    assert not out.exists()
    assert not list(tmp_path.glob(".out.json*"))


def test_out_of_vocab_answers_count_wrong(avqa_dir: Path, ids: list[str], tmp_path: Path) -> None:
    pred = _json(tmp_path / "oov", _envelope(ids, lambda i: {"answer": "Two"}))  # case matters, no normalisation
    out = tmp_path / "out.json"
    run = run_cli("evaluate", "--benchmark", "avqa", "--predictions", pred, "--annotations", avqa_dir, "--output", out)
    assert run.code == 0, run.err
    doc = json.loads(out.read_text())
    assert doc["metrics"]["overall"] == 0.0 and doc["extras"]["out_of_vocab_answers"] == len(ids)
