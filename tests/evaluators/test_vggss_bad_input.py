"""Malformed VGG-SS prediction files: exit code 2, one stderr line naming file and field/sample, no output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from tests.helpers.cli import run_cli

pytestmark = pytest.mark.vggss

N = 6


@pytest.fixture(scope="module")
def test_ids(datasets_dir: Path) -> list[str]:
    lines = (datasets_dir / "vggss" / "vggss_test.csv").read_text().splitlines()
    return [line.strip() for line in lines if line.strip()]


def good_maps(n: int = N, shape: tuple[int, int] = (14, 14)) -> np.ndarray:
    return np.random.default_rng(0).random((n, *shape)).astype(np.float32)


def envelope(ids, maps, benchmark: str = "vggss") -> dict:
    return {"benchmark": benchmark, "predictions": {s: {"heatmaps": m.tolist()} for s, m in zip(ids, maps)}}


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


def write_npz(path: Path, **arrays) -> Path:
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


# Each case writes one malformed file and names what the error line must mention. NPZ cases cover
# the whole split and JSON cases its first N ids (missing ids are an error only in missing_ids, which
# is the only JSON case that gets that far), so that only the planted defect can fail.
Case = Callable[[Path, list], tuple[Path, str]]


def missing_ids(tmp: Path, ids: list) -> tuple[Path, str]:
    return write_json(tmp / "missing.json", envelope(ids[:N], good_maps())), repr(ids[N])  # first unpredicted id


def unknown_id(tmp: Path, ids: list) -> tuple[Path, str]:
    obj = envelope(ids[:N], good_maps())
    obj["predictions"]["not_a_vggss_clip_000000"] = obj["predictions"].pop(ids[2])
    return write_json(tmp / "unknown.json", obj), "'not_a_vggss_clip_000000'"


def nan_value(tmp: Path, ids: list) -> tuple[Path, str]:
    maps = good_maps(len(ids))
    maps[3, 4, 5] = np.nan
    return write_npz(tmp / "nan.npz", ids=np.array(ids), heatmaps=maps), repr(ids[3])


def inf_in_json(tmp: Path, ids: list) -> tuple[Path, str]:
    obj = envelope(ids[:N], good_maps())
    obj["predictions"][ids[1]]["heatmaps"][0][0] = "PLACEHOLDER"
    path = tmp / "inf.json"
    path.write_text(json.dumps(obj).replace('"PLACEHOLDER"', "1e999"))  # valid JSON that parses to inf
    return path, repr(ids[1])


def float32_overflow(tmp: Path, ids: list) -> tuple[Path, str]:
    maps = good_maps(len(ids)).astype(np.float64)
    maps[7, 0, 0] = 1e300
    return write_npz(tmp / "overflow.npz", ids=np.array(ids), heatmaps=maps), repr(ids[7])


def one_dimensional(tmp: Path, ids: list) -> tuple[Path, str]:
    obj = envelope(ids[:N], good_maps())
    obj["predictions"][ids[4]]["heatmaps"] = [0.1, 0.2, 0.3]
    return write_json(tmp / "onedim.json", obj), repr(ids[4])


def string_dtype(tmp: Path, ids: list) -> tuple[Path, str]:
    maps = good_maps(len(ids)).astype(str)
    return write_npz(tmp / "strings.npz", ids=np.array(ids), heatmaps=maps), "heatmaps"


def empty_file(tmp: Path, ids: list) -> tuple[Path, str]:
    path = tmp / "empty.json"
    path.write_text("")
    return path, "empty file"


def truncated_json(tmp: Path, ids: list) -> tuple[Path, str]:
    text = json.dumps(envelope(ids[:N], good_maps()))
    path = tmp / "truncated.json"
    path.write_text(text[: len(text) // 2])
    return path, "line 1 column"


def wrong_benchmark(tmp: Path, ids: list) -> tuple[Path, str]:
    return write_json(tmp / "avqa.json", envelope(ids[:N], good_maps(), benchmark="avqa")), "benchmark"


def mismatched_sizes(tmp: Path, ids: list) -> tuple[Path, str]:
    obj = envelope(ids[:N], good_maps())
    obj["predictions"][ids[3]]["heatmaps"] = good_maps(1, (7, 7))[0].tolist()
    return write_json(tmp / "sizes.json", obj), repr(ids[3])


def too_small(tmp: Path, ids: list) -> tuple[Path, str]:
    return write_npz(tmp / "small.npz", ids=np.array(ids), heatmaps=good_maps(len(ids), (1, 14))), "heatmaps"


def npz_wrong_ndim(tmp: Path, ids: list) -> tuple[Path, str]:
    return write_npz(tmp / "ndim.npz", ids=np.array(ids), heatmaps=good_maps(len(ids)).reshape(len(ids), -1)), "heatmaps"


def npz_length_mismatch(tmp: Path, ids: list) -> tuple[Path, str]:
    return write_npz(tmp / "length.npz", ids=np.array(ids), heatmaps=good_maps(len(ids) - 1)), "heatmaps"


def duplicate_npz_id(tmp: Path, ids: list) -> tuple[Path, str]:
    dup = list(ids)
    dup[10] = dup[9]
    return write_npz(tmp / "dup.npz", ids=np.array(dup), heatmaps=good_maps(len(ids))), repr(ids[9])


def ragged_rows(tmp: Path, ids: list) -> tuple[Path, str]:
    obj = envelope(ids[:N], good_maps())
    obj["predictions"][ids[0]]["heatmaps"][2] = obj["predictions"][ids[0]]["heatmaps"][2][:5]
    return write_json(tmp / "ragged.json", obj), repr(ids[0])


def missing_field(tmp: Path, ids: list) -> tuple[Path, str]:
    obj = envelope(ids[:N], good_maps())
    obj["predictions"][ids[2]] = {"scores": [[1.0, 2.0], [3.0, 4.0]]}
    return write_json(tmp / "field.json", obj), repr(ids[2])


def bool_dtype(tmp: Path, ids: list) -> tuple[Path, str]:
    return write_npz(tmp / "bool.npz", ids=np.array(ids), heatmaps=good_maps(len(ids)) > 0.5), "heatmaps"


def not_an_archive(tmp: Path, ids: list) -> tuple[Path, str]:
    path = tmp / "broken.npz"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    return path, "npz"


CASES: list[Case] = [
    missing_ids, unknown_id, nan_value, inf_in_json, float32_overflow, one_dimensional, string_dtype, empty_file,
    truncated_json, wrong_benchmark, mismatched_sizes, too_small, npz_wrong_ndim, npz_length_mismatch,
    duplicate_npz_id, ragged_rows, missing_field, bool_dtype, not_an_archive,
]


@pytest.mark.parametrize("make", CASES, ids=[c.__name__ for c in CASES])
def test_malformed_prediction_file(make: Case, tmp_path: Path, datasets_dir: Path, test_ids: list[str]) -> None:
    path, mention = make(tmp_path, test_ids)
    output = tmp_path / "out" / "results.json"
    run = run_cli("evaluate", "--benchmark", "vggss", "--predictions", path,
                  "--annotations", datasets_dir / "vggss", "--output", output)
    assert run.code == 2, (run.code, run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert str(path) in lines[0] and mention in lines[0], lines[0]
    assert "Traceback" not in run.err and not output.exists() and not output.parent.exists()


def test_a_good_file_passes_the_same_route(tmp_path: Path, datasets_dir: Path, test_ids: list[str]) -> None:
    path = write_json(tmp_path / "good.json", envelope(test_ids[:N], good_maps()))
    output = tmp_path / "results.json"
    run = run_cli("evaluate", "--benchmark", "vggss", "--predictions", path, "--annotations", datasets_dir / "vggss",
                  "--allow-partial", "--protocol", "lvs", "--output", output)
    assert run.code == 0, run.err
    result = json.loads(output.read_text())
    assert result["partial"] and result["counts"]["evaluated"] == N and result["protocol"]["key"] == "lvs.v1"
    assert set(result["metrics"]) == {"ciou_ap50", "ciou_mean", "auc"}
