"""NVML: device matching by UUID under CUDA_VISIBLE_DEVICES / MIG, optional fields, energy."""

from __future__ import annotations

import sys
import time
from unittest import mock

import pynvml
import pytest
import torch

from avu.profile import nvml
from avu.profile.nvml import NvmlDevice, NvmlSampler, enumerate_devices, match_device, parse_visible_devices

from tests.profile.fake_nvml import FakeGpu, FakeNvml

U0 = "GPU-11111111-aaaa-4bbb-8ccc-000000000000"
U1 = "GPU-22222222-aaaa-4bbb-8ccc-000000000001"
M0 = "MIG-33333333-aaaa-4bbb-8ccc-000000000002"
M1 = "MIG-44444444-aaaa-4bbb-8ccc-000000000003"


@pytest.fixture
def machine() -> FakeNvml:
    """Two GPUs; the second is split into two MIG instances."""
    return FakeNvml([FakeGpu(U0), FakeGpu(U1, migs=[M0, M1])])


@pytest.fixture
def devices(machine) -> list[NvmlDevice]:
    return enumerate_devices(machine)


def _bare(uuid: str) -> str:
    return uuid.split("-", 1)[1]  # torch prints UUIDs without the GPU-/MIG- prefix


def test_enumerate_lists_gpus_and_mig_instances(devices):
    assert [(d.index, d.uuid, d.is_mig) for d in devices] == [
        (0, U0, False), (1, U1, False), (1, M0, True), (1, M1, True),
    ]
    assert devices[2].parent == ("gpu", 1)


def test_parse_visible_devices_stops_at_first_invalid_entry():
    assert parse_visible_devices(None) is None
    assert parse_visible_devices("") == []
    assert parse_visible_devices("1, 0") == ["1", "0"]
    assert parse_visible_devices("GPU-abc,MIG-def") == ["GPU-abc", "MIG-def"]
    assert parse_visible_devices("0,foo,1") == ["0"]


def test_match_by_torch_uuid_ignores_positions(devices):
    # cuda:0 is NVML's second GPU, e.g. CUDA_VISIBLE_DEVICES=1
    found, how, notices = match_device(0, _bare(U1), "1", devices)
    assert (found.uuid, how, notices) == (U1, "uuid", [])


def test_match_mig_instance_by_uuid(devices):
    found, how, _ = match_device(0, _bare(M1), M1, devices)
    assert (found.uuid, found.is_mig, how) == (M1, True, "uuid")


def test_visible_devices_given_as_indices(devices, monkeypatch):
    monkeypatch.setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    found, how, notices = match_device(1, None, "1,0", devices)
    assert (found.uuid, how, notices) == (U0, "index", [])


def test_index_match_warns_without_pci_bus_order(devices, monkeypatch):
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    found, how, notices = match_device(0, None, None, devices)
    assert (found.uuid, how) == (U0, "index")
    assert "PCI_BUS_ID" in notices[0]


def test_visible_devices_given_as_uuids_and_prefixes(devices):
    assert match_device(1, None, f"{U0},{U1}", devices)[0].uuid == U1
    assert match_device(0, None, "GPU-2222", devices)[0].uuid == U1  # CUDA accepts unique prefixes
    assert match_device(0, None, "MIG-3333", devices)[0].uuid == M0


def test_unmatched_devices_give_none_and_say_why(devices):
    found, how, notices = match_device(0, None, "GPU-99999999", devices)
    assert found is None and how is None and "matches no NVML device" in notices[0]
    found, _, notices = match_device(2, None, "0,1", devices)
    assert found is None and "no entry in CUDA_VISIBLE_DEVICES" in notices[0]
    found, _, notices = match_device(0, "deadbeef-0000", "7", devices)
    assert found is None
    assert "not found among NVML devices" in notices[0] and "no NVML device with index 7" in notices[1]


def test_missing_pynvml_gives_a_notice():
    with mock.patch.dict(sys.modules, {"pynvml": None}):
        module, notice = nvml.load_nvml()
        session = nvml.attach(torch.device("cuda", 0))
    assert module is None and "pynvml" in notice
    assert session.sampler is None and "pynvml" in session.notices[0]


def test_nvml_init_failure_gives_a_notice():
    with mock.patch.object(pynvml, "nvmlInit", side_effect=pynvml.NVMLError_DriverNotLoaded()):
        module, notice = nvml.load_nvml()
    assert module is None and "nvmlInit failed" in notice and "Driver Not Loaded" in notice


def test_cpu_device_skips_nvml():
    session = nvml.attach(torch.device("cpu"))
    assert session.sampler is None and "NVML sampling skipped" in session.notices[0]


def test_attach_matches_the_torch_uuid(machine, monkeypatch):
    monkeypatch.setattr(nvml, "torch_device_uuid", lambda index: _bare(M0))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", M0)
    session = nvml.attach(torch.device("cuda", 0), interval_s=0.01, nv=machine)
    assert session.match == "uuid" and session.sampler.device.uuid == M0
    assert any("MIG instance" in n for n in session.notices)


def test_sample_with_every_field_supported(machine, devices):
    sample = NvmlSampler(machine, devices[0]).sample()
    assert sample["gpu_util_pct"] == 97 and sample["mem_util_pct"] == 40
    assert sample["power_w"] == 500.0 and sample["temperature_c"] == 61
    assert (sample["sm_clock_mhz"], sample["mem_clock_mhz"]) == (1980, 2619)


def test_not_supported_fields_become_null(devices):
    machine = FakeNvml(
        [FakeGpu(U0), FakeGpu(U1, migs=[M0, M1])],
        fail={
            "nvmlDeviceGetPowerUsage": pynvml.NVMLError_NotSupported(),
            "nvmlDeviceGetTotalEnergyConsumption": pynvml.NVMLError_NotSupported(),
            "nvmlDeviceGetTemperature": pynvml.NVMLError_NoPermission(),
            "nvmlDeviceGetClockInfo": AttributeError("old pynvml"),
            "nvmlSystemGetDriverVersion": pynvml.NVMLError_Unknown(),
        },
    )
    sampler = NvmlSampler(machine, enumerate_devices(machine)[0], interval_s=0.005)
    info = sampler.static_info()
    assert info["driver"] is None and info["name"] == "NVIDIA H100 80GB HBM3"
    sampler.start()
    sampler.mark_start()
    time.sleep(0.05)
    sampler.mark_end()
    sampler.stop()
    summary = sampler.summary(clips=10)
    assert summary["samples"] >= 1
    for name in ("power_w", "temperature_c", "sm_clock_mhz", "mem_clock_mhz"):
        assert summary[name] is None
    assert summary["gpu_util_pct"]["mean"] == 97
    assert summary["energy_j"] is None and summary["energy_source"] is None and summary["energy_per_clip_j"] is None
    assert set(summary["unsupported"]) >= {"power_w", "energy_mj", "temperature_c", "sm_clock_mhz", "driver"}
    assert "NotSupported" in summary["unsupported"]["power_w"]


def test_mig_reads_board_fields_from_parent(machine, devices):
    mig = devices[2]
    sampler = NvmlSampler(machine, mig)
    sample = sampler.sample()
    assert sample["gpu_util_pct"] is None  # MIG: not supported
    assert sample["power_w"] == 500.0  # the parent GPU's board power
    assert sampler.summary()["board_fields_of_parent_gpu"]


def test_energy_from_the_counter(machine, devices):
    sampler = NvmlSampler(machine, devices[0])
    sampler.mark_start()  # counter reads 11000 mJ
    sampler.mark_end()  # then 12000 mJ
    energy, source = sampler.energy_j()
    assert (energy, source) == (pytest.approx(1.0), "energy_counter")
    assert sampler.summary(clips=4)["energy_per_clip_j"] == pytest.approx(0.25)


def test_energy_integrated_from_power_without_counter(devices):
    machine = FakeNvml([FakeGpu(U0)], fail={"nvmlDeviceGetTotalEnergyConsumption": pynvml.NVMLError_NotSupported()})
    sampler = NvmlSampler(machine, enumerate_devices(machine)[0])
    sampler.window = [100.0, 102.0]
    sampler.samples = [
        {"t": 100.0 + dt, "power_w": p, **{k: None for k in nvml.SAMPLE_FIELDS if k != "power_w"}}
        for dt, p in [(0.0, 100.0), (1.0, 300.0), (2.0, 300.0), (3.0, 999.0)]  # the last is outside
    ]
    energy, source = sampler.energy_j()
    assert source == "integrated_power"
    assert energy == pytest.approx(((100 + 300) / 2 + 300) / 2 * 2.0)  # mean power 250 W over 2 s
    assert sampler.summary(clips=5)["energy_per_clip_j"] == pytest.approx(100.0)
