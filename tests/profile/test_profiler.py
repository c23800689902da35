"""The profiler on the CPU: timing, throughput, FLOPs, report files, NVML nulls and notices."""

from __future__ import annotations

import json
import sys
from unittest import mock

import pynvml
import pytest
import torch

from avu.profile import Profiler, measure_flops, nvml, profile_workload, render_markdown, write_report
from avu.profile.toy import ToyAVNet, toy_workload

from tests.profile.fake_nvml import FakeGpu, FakeNvml


def _toy_flops(batch: int, image: int = 32, audio: int = 64, width: int = 32, classes: int = 10) -> int:
    """Analytic forward FLOPs of ToyAVNet (2 per multiply-add)."""
    h1 = image // 2
    h2 = h1 // 2
    conv1 = 2 * batch * width * h1 * h1 * 3 * 9
    conv2 = 2 * batch * width * h2 * h2 * width * 9
    linears = 2 * batch * (audio * width + 2 * width * width + width * classes)
    return conv1 + conv2 + linears


@pytest.fixture(scope="module")
def cpu_report(tmp_path_factory):
    trace = tmp_path_factory.mktemp("trace")
    report = profile_workload(toy_workload("train", "fp32"), batch_size=4, steps=4, warmup=2,
                              trace_dir=trace, trace_steps=1)
    return report, trace


def test_cpu_report_has_timing_throughput_and_flops(cpu_report):
    report, _ = cpu_report
    t = report["timing"]
    assert t["clock"] == "perf_counter" and t["warmup_steps"] == 2 and t["measured_steps"] == 4
    assert t["window_s"] > 0 and 0 < t["step_ms"]["p50"] <= t["step_ms"]["p95"] <= t["step_ms"]["max"]
    assert t["throughput_clips_per_s"] == pytest.approx(4 * 4 / t["window_s"])
    f = report["flops"]
    assert f["forward_per_step"] == _toy_flops(4)
    # backward: weight gradients of every layer, input gradients of all but the first layers
    # (the first conv on frames and the first linear on audio: their inputs need no grad)
    first_layers = 2 * 4 * 32 * 16 * 16 * 3 * 9 + 2 * 4 * 64 * 32
    assert f["step_per_step"] == 3 * _toy_flops(4) - first_layers
    assert f["step_includes_backward"] is True and f["step_per_clip"] == f["step_per_step"] / 4
    assert report["mfu"]["value"] is None and report["mfu"]["achieved_flops_per_s"] > 0
    assert any("MFU not computed" in n for n in report["notices"])
    assert report["nvml"] == {"available": False}
    assert report["memory"]["allocated_peak_bytes"] is None and report["memory"]["cpu_max_rss_bytes"] > 0
    assert report["device"]["type"] == "cpu"
    prov = report["provenance"]
    assert prov["software"]["torch"] == torch.__version__ and len(prov["config_hash"]) == 64
    assert "commit" in prov["git"]


def test_trace_files_are_written(cpu_report):
    report, trace = cpu_report
    assert report["trace"]["files"] == ["trace.json", "ops.txt"]
    assert json.loads((trace / "trace.json").read_text())["traceEvents"]
    assert "avu_step_0" in (trace / "ops.txt").read_text()


def test_report_is_strict_json_and_markdown(cpu_report, tmp_path):
    report, _ = cpu_report
    write_report(report, tmp_path / "out" / "report.json")
    loaded = json.loads((tmp_path / "out" / "report.json").read_text())
    assert loaded["schema"] == "avu.profile/1" and loaded["timing"] == report["timing"]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| train fp32 eager | 4 |" in md and "MFU not computed" in md
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "report.md"]


def test_infer_mode_counts_forward_only():
    report = profile_workload(toy_workload("infer", "fp32"), batch_size=3, steps=2, warmup=1, nvml=False)
    assert report["flops"]["step_per_step"] == report["flops"]["forward_per_step"] == _toy_flops(3)
    assert report["flops"]["step_includes_backward"] is False
    assert "NVML sampling disabled; GPU counters are null" in report["notices"]


def test_bf16_autocast_on_cpu_keeps_the_flop_count():
    workload = toy_workload("infer", "bf16")
    batch = workload.make_batch(2)
    assert workload.step(batch).dtype == torch.bfloat16
    assert measure_flops(workload, batch)["forward"].total == _toy_flops(2)


def test_same_seed_same_batches_and_weights():
    a, b = toy_workload(seed=3), toy_workload(seed=3)
    batch = a.make_batch(2)
    assert torch.equal(batch["frames"], b.make_batch(2)["frames"])
    assert torch.equal(a.forward(batch), b.forward(batch))


def test_context_manager_excludes_warmup():
    calls = []
    with Profiler("cpu", clips_per_step=2, warmup=3, nvml=False) as prof:
        for i in range(5):
            with prof.step():
                calls.append(i)
    t = prof.timing()
    assert calls == list(range(5)) and t["warmup_steps"] == 3 and t["measured_steps"] == 2
    assert len(prof.timer.step_ms()) == 2


def test_only_warmup_steps_gives_empty_timing():
    with Profiler("cpu", clips_per_step=2, warmup=3, nvml=False) as prof:
        with prof.step():
            pass
    report = prof.report(flops={}, dtype="fp32", mode="infer")
    assert report["timing"]["measured_steps"] == 0 and report["timing"]["throughput_clips_per_s"] is None
    assert "no measured steps (all steps were warm-up)" in report["notices"]


def test_absent_nvml_on_a_gpu_run_gives_nulls_and_a_notice():
    with mock.patch.dict(sys.modules, {"pynvml": None}):
        session = nvml.attach(torch.device("cuda", 0))
    with Profiler("cpu", clips_per_step=1, warmup=0, nvml_session=session) as prof:
        with prof.step():
            pass
    report = prof.report(flops={}, dtype="bf16")
    assert report["nvml"] == {"available": False}
    assert report["memory"]["nvml_used_peak_bytes"] is None
    assert any("cannot import pynvml" in n for n in report["notices"])


def _fake_session(machine: FakeNvml) -> nvml.NvmlSession:
    device = nvml.enumerate_devices(machine)[0]
    return nvml.NvmlSession(nvml.NvmlSampler(machine, device, interval_s=0.005), "uuid", [])


def test_sampled_counters_reach_the_report():
    machine = FakeNvml([FakeGpu("GPU-1234", energy_step_mj=500.0)])
    with Profiler("cpu", clips_per_step=8, warmup=1, nvml_session=_fake_session(machine)) as prof:
        for _ in range(3):
            with prof.step():
                torch.ones(64, 64) @ torch.ones(64, 64)
    report = prof.report(flops={}, dtype="bf16")
    n = report["nvml"]
    assert n["available"] and n["match"] == "uuid" and n["device"]["driver"] == "570.86.15"
    assert n["energy_source"] == "energy_counter" and n["energy_j"] == pytest.approx(0.5)
    assert n["energy_per_clip_j"] == pytest.approx(0.5 / 16)
    assert report["memory"]["nvml_used_peak_bytes"] in (None, 30 * 2**30)  # None only if no tick fell inside
    assert report["device"]["driver"] == "570.86.15" and report["provenance"]["software"]["driver"] == "570.86.15"
    json.dumps(report, allow_nan=False)


def test_not_supported_counters_are_null_in_the_report():
    machine = FakeNvml([FakeGpu("GPU-1234")], fail={
        name: pynvml.NVMLError_NotSupported()
        for name in ("nvmlDeviceGetPowerUsage", "nvmlDeviceGetTotalEnergyConsumption",
                     "nvmlDeviceGetUtilizationRates", "nvmlDeviceGetTemperature")
    })
    with Profiler("cpu", clips_per_step=2, warmup=0, nvml_session=_fake_session(machine)) as prof:
        with prof.step():
            pass
    report = prof.report(flops={}, dtype="fp32")
    n = report["nvml"]
    assert n["power_w"] is None and n["gpu_util_pct"] is None and n["temperature_c"] is None
    assert n["energy_j"] is None and n["energy_per_clip_j"] is None
    assert {"power_w", "energy_mj", "utilization", "temperature_c"} <= set(n["unsupported"])
    assert "NVML fields not available" in render_markdown(report)


def test_toy_net_shapes():
    out = ToyAVNet()(torch.randn(2, 3, 32, 32), torch.randn(2, 64))
    assert out.shape == (2, 10)


def test_time_limit_ends_the_window_early():
    report = profile_workload(toy_workload("infer", "fp32"), batch_size=1, steps=50, warmup=0, nvml=False,
                              max_window_s=0.0)
    assert report["timing"]["measured_steps"] == 2
    assert any("stopped after 2 of 50 steps" in n for n in report["notices"])
