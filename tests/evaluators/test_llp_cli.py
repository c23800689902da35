"""``avu evaluate --benchmark llp`` end to end: both file formats, and malformed files -> exit 2, one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from tests.helpers.cli import run_cli

pytestmark = pytest.mark.llp


@pytest.fixture(scope="module")
def avvp(golden_datasets_dir: Path) -> Path:
    return golden_datasets_dir / "avvp"


@pytest.fixture(scope="module")
def val_inputs(golden_dir: Path) -> dict[str, np.ndarray]:
    with np.load(golden_dir / "avvp" / "full_eval_random_val.npz") as d:
        return {"ids": d["filenames"], "global_prob": d["global_prob"], "frame_prob": d["frame_prob"]}


@pytest.fixture(scope="module")
def val_expected(golden_dir: Path) -> dict[str, float]:
    return json.loads((golden_dir / "avvp" / "full_eval_cases.json").read_text())["uniform_random_val649"]


def _evaluate(avvp: Path, predictions: Path, out: Path, *extra: str):
    return run_cli("evaluate", "--benchmark", "llp", "--predictions", predictions, "--annotations", avvp,
                   "--split", "val", "--output", out, *extra)


def _json_doc(inputs: dict[str, np.ndarray], n: int | None = None, benchmark: str = "llp") -> dict:
    ids = [str(i) for i in inputs["ids"][:n]]
    return {"benchmark": benchmark, "predictions": {
        sid: {"global_prob": inputs["global_prob"][i].tolist(), "frame_prob": inputs["frame_prob"][i].tolist()}
        for i, sid in enumerate(ids)}}


def test_npz_and_json_give_the_official_numbers(avvp: Path, tmp_path: Path, val_inputs, val_expected) -> None:
    npz = tmp_path / "pred.npz"
    np.savez(npz, benchmark="llp", **val_inputs)
    js = tmp_path / "pred.json"
    js.write_text(json.dumps(_json_doc(val_inputs)))
    for predictions in (npz, js):
        out = tmp_path / f"{predictions.suffix[1:]}.json"
        run = _evaluate(avvp, predictions, out)
        assert run.code == 0, run.err
        doc = json.loads(out.read_text())
        assert doc["metrics"]["segment_audio"] == pytest.approx(val_expected["segment_audio_F1"], abs=1e-9, rel=0)
        assert doc["metrics"]["event_event_av"] == pytest.approx(val_expected["event_Event@AV"], abs=1e-9, rel=0)
        assert doc["counts"] == {"expected": 649, "evaluated": 649, "missing": 0}
        assert doc["annotation_version"] == "2024-04" and doc["protocol"]["key"] == "avvp_official.v1"
        assert "segment_audio" in run.out


def test_binary_npz_and_partial_json(avvp: Path, tmp_path: Path, val_inputs) -> None:
    from avu.metrics.llp import binarize

    pred_a, pred_v = binarize(val_inputs["global_prob"], val_inputs["frame_prob"])
    binary = tmp_path / "binary.npz"
    np.savez(binary, ids=val_inputs["ids"], audio=pred_a.transpose(0, 2, 1).astype(np.uint8),
             visual=pred_v.transpose(0, 2, 1))
    probs = tmp_path / "probs.npz"
    np.savez(probs, **val_inputs)
    docs = []
    for predictions in (binary, probs):
        out = tmp_path / f"{predictions.stem}.json"
        assert _evaluate(avvp, predictions, out).code == 0
        docs.append(json.loads(out.read_text()))
    assert docs[0]["metrics"] == docs[1]["metrics"]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(_json_doc(val_inputs, n=20)))
    out = tmp_path / "partial_out.json"
    run = _evaluate(avvp, partial, out, "--allow-partial")
    assert run.code == 0, run.err
    doc = json.loads(out.read_text())
    assert doc["partial"] is True and doc["counts"]["evaluated"] == 20


# -- malformed prediction files ---------------------------------------------------------------

def _npz(**changes) -> Callable[[Path, dict], None]:
    def write(path: Path, inputs: dict) -> None:
        arrays = {**inputs, **changes}
        np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return write


def _npz_edit(edit: Callable[[dict], None]) -> Callable[[Path, dict], None]:
    def write(path: Path, inputs: dict) -> None:
        arrays = {k: np.array(v) for k, v in inputs.items()}
        edit(arrays)
        np.savez(path, **arrays)
    return write


def _json_edit(edit: Callable[[dict], object], replace: bool = False) -> Callable[[Path, dict], None]:
    """A 5-sample JSON file changed in place by ``edit`` (or replaced by its result)."""
    def write(path: Path, inputs: dict) -> None:
        doc = _json_doc(inputs, n=5)
        result = edit(doc)
        path.write_text(json.dumps(result if replace else doc))
    return write


def _raw(text: str) -> Callable[[Path, dict], None]:
    def write(path: Path, inputs: dict) -> None:
        path.write_text(text)
    return write


def _set(arrays: dict, key: str, index: tuple, value) -> None:
    arrays[key][index] = value


def _first(doc: dict) -> dict:
    return next(iter(doc["predictions"].values()))


FIRST = "4O9rI-FpqLg_10_20"  # first val video
THIRD = "JGdkVx81S-k_20_30"

MALFORMED = {
    # name: (file suffix, writer, texts that the single error line must contain)
    "missing_ids": (".npz", _npz_edit(lambda a: a.update(ids=a["ids"][:-1], global_prob=a["global_prob"][:-1],
                                                         frame_prob=a["frame_prob"][:-1])), ["1 of 649", "sample '"]),
    "unknown_id": (".json", _json_edit(lambda d: d["predictions"].update(nope_0_10=_first(d))),
                   ["sample 'nope_0_10'", "unknown id"]),
    "duplicate_id": (".npz", _npz_edit(lambda a: _set(a, "ids", (1,), a["ids"][0])), [f"sample '{FIRST}'", "twice"]),
    "nan_frame_prob": (".npz", _npz_edit(lambda a: _set(a, "frame_prob", (2, 3, 1, 4), np.nan)),
                       ["frame_prob", "non-finite"]),
    "nan_literal_json": (".json", _raw('{"benchmark": "llp", "predictions": {"a": {"global_prob": [NaN]}}}'),
                         ["NaN"]),
    "probability_above_1": (".json", _json_edit(lambda d: _first(d)["global_prob"].__setitem__(3, 1.5)),
                            [f"sample '{FIRST}': global_prob", "outside [0, 1]"]),
    "negative_probability": (".npz", _npz_edit(lambda a: _set(a, "frame_prob", (7, 0, 0, 0), -0.1)),
                             ["frame_prob", "-0.1 outside [0, 1]"]),
    "wrong_frame_prob_shape": (".npz", _npz(frame_prob=np.zeros((649, 10, 25), np.float32)),
                               ["frame_prob", "wrong shape (649, 10, 25)"]),
    "wrong_sample_count": (".npz", _npz(global_prob=np.zeros((648, 25), np.float32)), ["global_prob", "wrong shape"]),
    "json_wrong_length": (".json", _json_edit(lambda d: _first(d)["global_prob"].pop()),
                          [f"sample '{FIRST}': global_prob", "wrong shape (24,)"]),
    "ragged_json": (".json", _json_edit(lambda d: _first(d)["frame_prob"][0].pop()),
                    [f"sample '{FIRST}': frame_prob", "rectangular"]),
    "string_dtype": (".npz", _npz(global_prob=np.full((649, 25), "0.5")), ["global_prob", "wrong dtype"]),
    "string_in_json": (".json", _json_edit(lambda d: _first(d)["global_prob"].__setitem__(0, "high")),
                       [f"sample '{FIRST}': global_prob", "wrong dtype"]),
    "missing_field": (".json", _json_edit(lambda d: list(d["predictions"].values())[2].pop("frame_prob")),
                      [f"sample '{THIRD}': frame_prob", "field missing"]),
    "unexpected_field": (".npz", _npz(scores=np.zeros((649, 25))), ["scores", "unexpected field"]),
    "mixed_formats": (".npz", _npz(audio=np.zeros((649, 10, 25), np.uint8)), ["mixes probability fields"]),
    "binary_not_0_1": (".npz", _npz(global_prob=None, frame_prob=None, audio=np.full((649, 10, 25), 2, np.uint8),
                                    visual=np.zeros((649, 10, 25), np.uint8)), ["audio", "value 2 is not 0 or 1"]),
    "sample_not_object": (".json", _json_edit(lambda d: d["predictions"].update({FIRST: [0.5] * 25})),
                          [f"sample '{FIRST}'", "must be an object"]),
    "empty_file": (".json", _raw(""), ["empty file"]),
    "empty_npz": (".npz", _raw(""), ["empty file"]),
    "truncated_json": (".json", _raw('{"benchmark": "llp", "predictions": {"4O9rI-FpqLg_10_20": {"global_prob": [0.1, '),
                       ["truncated JSON", "line 1"]),
    "broken_zip": (".npz", _raw("PK\x03\x04 cut short, not a zip archive"), [".npz archive"]),
    "wrong_benchmark_json": (".json", _json_edit(lambda d: d.update(benchmark="ave")), ["benchmark", "'ave'"]),
    "wrong_benchmark_npz": (".npz", _npz(benchmark="avqa"), ["benchmark", "'avqa'"]),
    "no_ids_npz": (".npz", _npz(ids=None), ["ids", "array missing"]),
    "no_predictions_field": (".json", _json_edit(lambda d: {"benchmark": "llp", "preds": d["predictions"]}, replace=True),
                             ["predictions", "field missing"]),
    "top_level_list": (".json", _json_edit(lambda d: [d], replace=True), ["top level must be an object"]),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_prediction_file(avvp: Path, tmp_path: Path, val_inputs, name: str) -> None:
    suffix, write, expected = MALFORMED[name]
    predictions = tmp_path / f"{name}{suffix}"
    write(predictions, val_inputs)
    out = tmp_path / "out.json"
    run = _evaluate(avvp, predictions, out)
    assert run.code == 2, (run.code, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err and lines[0].startswith("avu: error: ")
    assert str(predictions) in lines[0], lines[0]
    for text in expected:
        assert text in lines[0], lines[0]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [predictions.name]  # nothing half-written either
