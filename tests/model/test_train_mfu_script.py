"""benchmarks/gpu/train_mfu.py (the GPU throughput/MFU run of the real configuration) works on
CPU in --smoke mode: one eager step of the tiny model, FLOPs counted, JSON written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_train_mfu_smoke(tmp_path):
    out = tmp_path / "mfu.json"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu" / "train_mfu.py"), "--smoke",
                           "--output", str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["model"] == "tiny" and report["batch_size"] == 2 and report["frames_per_clip"] == 10
    assert report["flops_per_step"] > 1e8
    eager = report["modes"]["eager"]
    assert eager["clips_per_s"] > 0 and eager["step_time_s"]["mean"] > 0
    assert eager["mfu"] is None  # no peak known for a CPU: MFU left empty, not guessed


def test_device_peaks():
    sys.path.insert(0, str(REPO / "benchmarks" / "gpu"))
    try:
        import train_mfu
    finally:
        sys.path.pop(0)
    assert train_mfu.device_peak("NVIDIA H100 80GB HBM3") == 989e12
    assert train_mfu.device_peak("NVIDIA H100 PCIe") == 756e12
    assert train_mfu.device_peak("NVIDIA H200") == 989e12
    assert train_mfu.device_peak("Some Unknown GPU") is None
