"""Peak table lookup and the choice of peak that MFU divides by."""

from __future__ import annotations

import pytest

from avu.profile.peaks import PEAKS, choose_peak, lookup


@pytest.mark.parametrize(
    "name, key",
    [
        ("NVIDIA H100 80GB HBM3", "h100_sxm"),
        ("NVIDIA H100 PCIe", "h100_pcie"),
        ("NVIDIA H100 NVL", "h100_nvl"),
        ("NVIDIA H200", "h200_sxm"),
        ("NVIDIA H200 NVL", "h200_nvl"),
        ("NVIDIA A100-SXM4-80GB", "a100"),
        ("NVIDIA A100-PCIE-40GB", "a100"),
        ("NVIDIA A100 80GB PCIe", "a100"),
        ("NVIDIA L4", "l4"),
        ("NVIDIA L40S", "l40s"),
    ],
)
def test_known_devices(name, key):
    assert lookup(name).key == key


@pytest.mark.parametrize("name", ["NVIDIA GH200 480GB", "NVIDIA L40", "Tesla T4", "NVIDIA H100", "AMD Instinct MI300X"])
def test_unknown_devices_get_no_peak(name):
    assert lookup(name) is None
    choice = choose_peak(name, "bf16", sm_count=100)
    assert choice.flops_per_s is None and choice.precision is None
    assert any("no peak rate known" in n for n in choice.notices)


def test_every_entry_is_dense_and_ordered():
    for peak in PEAKS.values():
        assert peak.flops["fp32"] < peak.flops["tf32"] < peak.flops["bf16"]
        assert peak.source and peak.sm_count > 0
    assert PEAKS["h100_sxm"].flops["bf16"] == pytest.approx(989.4e12)


def test_dtype_and_tf32_choose_the_peak():
    h100 = PEAKS["h100_sxm"]
    assert choose_peak("NVIDIA H100 80GB HBM3", "bf16", sm_count=132).flops_per_s == h100.flops["bf16"]
    plain = choose_peak("NVIDIA H100 80GB HBM3", "fp32", sm_count=132)
    assert (plain.precision, plain.flops_per_s) == ("fp32", h100.flops["fp32"])
    both = choose_peak("NVIDIA H100 80GB HBM3", "fp32", tf32_matmul=True, tf32_conv=True, conv_fraction=0.3)
    assert (both.precision, both.flops_per_s) == ("tf32", h100.flops["tf32"])
    # cuDNN's TF32 switch matters only when convolutions carry FLOPs
    assert choose_peak("NVIDIA H100 80GB HBM3", "fp32", tf32_conv=True, conv_fraction=0.0).precision == "fp32"
    assert choose_peak("NVIDIA H100 80GB HBM3", "fp32", tf32_conv=True, conv_fraction=1.0).precision == "tf32"


def test_mixed_precision_fp32_uses_the_flop_weighted_peak():
    h100 = PEAKS["h100_sxm"]
    # PyTorch's defaults: strict fp32 matmuls, TF32 convolutions; a quarter of the FLOPs in convs
    choice = choose_peak("NVIDIA H100 80GB HBM3", "fp32", tf32_conv=True, conv_fraction=0.25)
    ideal_seconds_per_flop = 0.25 / h100.flops["tf32"] + 0.75 / h100.flops["fp32"]
    assert choice.flops_per_s == pytest.approx(1 / ideal_seconds_per_flop)
    assert h100.flops["fp32"] < choice.flops_per_s < h100.flops["tf32"]
    assert choice.precision == "fp32 matmul + tf32 conv" and "FLOP-weighted" in choice.notices[0]


def test_mig_slice_scales_the_peak():
    choice = choose_peak("NVIDIA H100 80GB HBM3", "bf16", sm_count=66)
    assert choice.sm_fraction == pytest.approx(0.5)
    assert choice.flops_per_s == pytest.approx(PEAKS["h100_sxm"].flops["bf16"] / 2)
    assert any("MIG" in n for n in choice.notices)


def test_cpu_has_no_peak():
    choice = choose_peak(None, "fp32")
    assert choice.flops_per_s is None and "no GPU" in choice.notices[0]


def test_mfu_is_counted_flops_over_time_times_peak(monkeypatch):
    from types import SimpleNamespace

    import torch

    from avu.profile.mfu import mfu_section

    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100 80GB HBM3")
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device=None: SimpleNamespace(multi_processor_count=132))
    timing = {"window_s": 2.0, "measured_steps": 10}
    mfu, notices = mfu_section(int(99e12), timing, torch.device("cuda", 0), "bf16")
    assert mfu["achieved_flops_per_s"] == pytest.approx(99e12 * 10 / 2.0)
    assert mfu["value"] == pytest.approx(99e12 * 10 / 2.0 / 989.4e12)
    assert (mfu["peak_precision"], mfu["peak_device"], notices) == ("bf16", "h100_sxm", [])
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA B300")
    mfu, notices = mfu_section(int(99e12), timing, torch.device("cuda", 0), "bf16")
    assert mfu["value"] is None and mfu["achieved_flops_per_s"] > 0 and "no peak rate known" in notices[0]
