"""`avu predict` from a checkpoint, then `avu evaluate`, gives exactly the numbers training recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from avu import BENCHMARK_IDS
from tests.helpers.cli import run_cli
from tests.train.suite import tiny_suite_root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A smoke run of joint training on the tiny suite: (data root, run folder, its results document)."""
    from avu.conf import compose
    from avu.train.loop import run

    root, runs = tiny_suite_root(), tmp_path_factory.mktemp("runs")
    cfg = compose(["data=tiny", "train=smoke", "train.threads=2", f"data.root={root}", f"paths.runs={runs}"])
    run_dir = runs / "joint" / "seed0"
    return root, run_dir, run(cfg, run_dir)


@pytest.fixture(scope="module")
def predicted(trained, tmp_path_factory) -> Path:
    _, run_dir, _ = trained
    out = tmp_path_factory.mktemp("predict")
    res = run_cli("predict", "--checkpoint", run_dir / "checkpoints" / "last.pt", "--out", out)
    assert res.code == 0, res.err
    return out


@pytest.mark.parametrize("bench", [pytest.param(b, marks=getattr(pytest.mark, b)) for b in BENCHMARK_IDS])
def test_predict_then_evaluate_equals_training(trained, predicted: Path, bench: str, tmp_path: Path) -> None:
    root, _, doc = trained
    record = json.loads((predicted / "predict.json").read_text())
    path = Path(record["predictions"][bench]["path"])
    assert path.parent == predicted / "predictions" and path.is_file()
    out = tmp_path / "result.json"
    res = run_cli("evaluate", "--benchmark", bench, "--predictions", path, "--data-root", root, "--output", out)
    assert res.code == 0, res.err
    assert json.loads(out.read_text())["metrics"] == doc["results"][bench]["metrics"]


def test_record_names_the_checkpoint(trained, predicted: Path) -> None:
    _, run_dir, doc = trained
    record = json.loads((predicted / "predict.json").read_text())
    assert record["checkpoint"]["step"] == doc["run"]["steps"]
    assert record["checkpoint"]["config_identity"] == doc["provenance"]["config_identity"]
    assert record["split"] == "test" and set(record["predictions"]) == set(BENCHMARK_IDS)


def test_one_benchmark_from_the_run_folder(trained, tmp_path: Path) -> None:
    _, run_dir, _ = trained
    res = run_cli("predict", "--checkpoint", run_dir, "--benchmark", "avqa", "--out", tmp_path)
    assert res.code == 0, res.err
    assert [p.name for p in (tmp_path / "predictions").iterdir()] == ["avqa-test.json"]


def test_bad_input_is_one_line(trained, tmp_path: Path) -> None:
    _, run_dir, _ = trained
    ckpt = run_dir / "checkpoints" / "last.pt"
    res = run_cli("predict", "--checkpoint", tmp_path / "none.pt", "--out", tmp_path)
    assert res.code == 2 and res.err.strip() == f"avu: error: {tmp_path / 'none.pt'}: checkpoint not found"
    res = run_cli("predict", "--checkpoint", ckpt, "--benchmark", "avq", "--out", tmp_path)
    assert res.code == 2 and "'avq' is not a task of this run" in res.err and len(res.err.strip().splitlines()) == 1
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    state["config"]["train"]["lr"] = 0.5  # no longer the config that trained these weights
    tampered = tmp_path / "tampered.pt"
    torch.save(state, tampered)
    res = run_cli("predict", "--checkpoint", tampered, "--out", tmp_path)
    assert res.code == 2 and "does not match the checkpoint's identity" in res.err


def test_out_among_the_data_or_on_a_file_is_refused(trained, tmp_path: Path) -> None:
    root, run_dir, _ = trained
    ckpt = run_dir / "checkpoints" / "last.pt"
    (tmp_path / "notes.txt").write_text("keep")
    for out, expected in ((root / "ave" / "predicted", "lies inside the input folder"),
                          (tmp_path / "notes.txt", "exists and is not a folder")):
        res = run_cli("predict", "--checkpoint", ckpt, "--benchmark", "avqa", "--out", out)
        assert res.code == 2 and expected in res.err and len(res.err.strip().splitlines()) == 1, res.err
        assert res.err.startswith(f"avu: error: {out}: --out: ")
    assert not (root / "ave" / "predicted").exists() and (tmp_path / "notes.txt").read_text() == "keep"


def test_a_checkpoint_older_than_a_decode_setting_keeps_its_old_decoding(trained, tmp_path: Path) -> None:
    from avu.inference import recorded_config
    from avu.train import checkpoint as ckpt

    _, run_dir, _ = trained
    path = run_dir / "checkpoints" / "last.pt"
    state = ckpt.load(path)
    assert recorded_config(path, state)["model"]["decode"]["avss_classes"] == state["config"]["model"]["decode"]["avss_classes"]
    del state["config"]["model"]["decode"]["avss_classes"]  # decode settings are outside the identity
    assert recorded_config(path, state)["model"]["decode"]["avss_classes"] == "tokens"
