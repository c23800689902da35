"""benchmarks/gpu/profile_model.py runs end to end on the CPU with --smoke."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu" / "profile_model.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("avu_bench_profile_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_on_cpu_writes_every_variant(tmp_path):
    script = _load_script()
    code = script.main(["--smoke", "--model", "toy", "--output", str(tmp_path)])
    assert code == 0
    doc = json.loads((tmp_path / "profile_model.json").read_text())
    assert list(doc["variants"]) == ["eager-bf16", "compile-bf16", "eager-fp32", "compile-fp32"]
    flops = {r["flops"]["step_per_step"] for r in doc["variants"].values()}
    assert len(flops) == 1 and flops.pop() > 0  # counted once, shared by every variant
    for name, report in doc["variants"].items():
        assert report["timing"]["measured_steps"] == 2 and report["workload"]["batch_size"] == 2
        assert report["workload"]["compiled"] == name.startswith("compile")
        assert report["workload"]["dtype"] == name.split("-")[1]
    table = (tmp_path / "profile_model.md").read_text()
    assert table.count("| train ") == 4 and "J/clip" in table and "MFU (%)" in table


def test_smoke_on_the_tiny_model_config(tmp_path):
    from tests.profile.test_cli import _model_available

    reason = _model_available()
    if reason:
        pytest.skip(reason)
    script = _load_script()
    # one variant, one step: the full four-variant smoke is test_smoke_all_variants_on_the_tiny_model
    code = script.main(["--smoke", "--output", str(tmp_path), "--variants", "eager-fp32",
                        "--steps", "1", "--warmup", "0", "--batch-size", "1"])
    assert code == 0
    doc = json.loads((tmp_path / "profile_model.json").read_text())
    report = doc["variants"]["eager-fp32"]
    assert report["workload"]["name"] == "avu:tiny" and report["flops"]["step_per_step"] > 0
    assert doc["settings"]["overrides"] == script.SMOKE_OVERRIDES


@pytest.mark.slow
def test_smoke_all_variants_on_the_tiny_model(tmp_path):
    from tests.profile.test_cli import _model_available

    reason = _model_available()
    if reason:
        pytest.skip(reason)
    assert _load_script().main(["--smoke", "--output", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "profile_model.json").read_text())
    assert all("timing" in r for r in doc["variants"].values()), doc["variants"]


def test_bad_model_config_exits_2_before_any_variant(tmp_path):
    from tests.profile.test_cli import _model_available

    reason = _model_available()
    if reason:
        pytest.skip(reason)
    assert _load_script().main(["--smoke", "--output", str(tmp_path), "--overrides", "experiment=nope"]) == 2
    assert not (tmp_path / "profile_model.json").exists()


def test_budget_skips_and_failures_are_recorded(tmp_path):
    script = _load_script()
    code = script.main(["--smoke", "--model", "toy", "--output", str(tmp_path), "--variants",
                        "eager-fp32,eager-bf16", "--time-budget-s", "-1"])
    doc = json.loads((tmp_path / "profile_model.json").read_text())
    assert code == 1  # nothing measured
    assert all("time budget" in v["skipped"] for v in doc["variants"].values())


def test_unknown_variant_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        _load_script().main(["--smoke", "--output", str(tmp_path), "--variants", "eager-fp16"])


def test_out_of_memory_retries_at_half_the_batch(tmp_path, monkeypatch):
    import torch

    from avu.profile.toy import toy_workload

    script = _load_script()

    def build(args, device, dtype, compiled):  # a GPU that holds at most 2 clips
        workload = toy_workload(args.mode, dtype, device)
        inner = workload.step

        def step(batch):
            if batch["frames"].shape[0] > 2:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return inner(batch)

        workload.step = step
        return workload

    monkeypatch.setattr(script, "build_workload", build)
    code = script.main(["--smoke", "--model", "toy", "--output", str(tmp_path), "--variants", "eager-fp32,eager-bf16",
                        "--batch-size", "8", "--min-batch", "2"])
    assert code == 0
    doc = json.loads((tmp_path / "profile_model.json").read_text())
    first, second = doc["variants"]["eager-fp32"], doc["variants"]["eager-bf16"]
    assert first["oom_batches"] == [8, 4] and first["workload"]["batch_size"] == 2
    assert "out of memory at batch 8, 4; measured at batch 2" in first["notices"]
    assert "oom_batches" not in second and second["workload"]["batch_size"] == 2  # starts where it fitted
    assert first["flops"]["step_per_step"] == second["flops"]["step_per_step"]
    # --no-oom-retry: the error is kept, nothing measured
    code = script.main(["--smoke", "--model", "toy", "--output", str(tmp_path), "--variants", "eager-fp32",
                        "--batch-size", "8", "--no-oom-retry"])
    doc = json.loads((tmp_path / "profile_model.json").read_text())
    assert code == 1 and doc["variants"]["eager-fp32"]["error"].startswith("OutOfMemoryError at batch 8")
