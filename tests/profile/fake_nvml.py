"""A stand-in for the ``pynvml`` module: a machine with configurable GPUs and MIG slices,
whose getters can be made to fail field by field with the real NVML error classes."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml


@dataclass
class FakeGpu:
    uuid: str
    name: str = "NVIDIA H100 80GB HBM3"
    migs: list[str] = field(default_factory=list)
    util: tuple[int, int] = (97, 40)
    used: int = 30 * 2**30
    total: int = 80 * 2**30
    power_mw: int = 500_000
    energy_step_mj: float = 1000.0  # the counter grows by this much per read
    clocks: tuple[int, int] = (1980, 2619)
    temp: int = 61


class FakeNvml:
    """Module-like object. ``fail`` maps a pynvml function name to the error it raises."""

    NVMLError = pynvml.NVMLError
    NVML_CLOCK_SM = pynvml.NVML_CLOCK_SM
    NVML_CLOCK_MEM = pynvml.NVML_CLOCK_MEM
    NVML_TEMPERATURE_GPU = pynvml.NVML_TEMPERATURE_GPU

    def __init__(self, gpus: list[FakeGpu], fail: dict[str, Exception] | None = None, driver: str = "570.86.15"):
        self.gpus = gpus
        self.fail = fail or {}
        self.driver = driver
        self.energy: dict[str, float] = {}
        self.calls: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        fail = object.__getattribute__(self, "fail")
        if name in fail:
            def raiser(*args: Any, **kwargs: Any) -> Any:
                raise fail[name]
            return raiser
        return object.__getattribute__(self, name)

    # handles are ("gpu", i) or ("mig", i, m)
    def _gpu(self, handle: tuple) -> FakeGpu:
        return self.gpus[handle[1]]

    def nvmlInit(self) -> None:
        pass

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> tuple:
        return ("gpu", i)

    def nvmlDeviceGetUUID(self, handle: tuple) -> str:
        gpu = self._gpu(handle)
        return gpu.uuid if handle[0] == "gpu" else gpu.migs[handle[2]]

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: tuple) -> int:
        return len(self._gpu(handle).migs)

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: tuple, m: int) -> tuple:
        return ("mig", handle[1], m)

    def nvmlDeviceGetName(self, handle: tuple) -> str:
        return self._gpu(handle).name

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.driver

    def nvmlDeviceGetUtilizationRates(self, handle: tuple) -> Any:
        if handle[0] == "mig":
            raise pynvml.NVMLError_NotSupported()
        gpu, mem = self._gpu(handle).util
        return SimpleNamespace(gpu=gpu, memory=mem)

    def nvmlDeviceGetMemoryInfo(self, handle: tuple) -> Any:
        g = self._gpu(handle)
        return SimpleNamespace(used=g.used, total=g.total, free=g.total - g.used)

    def nvmlDeviceGetPowerUsage(self, handle: tuple) -> int:
        self._board_only(handle)
        return self._gpu(handle).power_mw

    def nvmlDeviceGetPowerManagementLimit(self, handle: tuple) -> int:
        self._board_only(handle)
        return 700_000

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: tuple) -> int:
        self._board_only(handle)
        key = self._gpu(handle).uuid
        self.energy[key] = self.energy.get(key, 10_000.0) + self._gpu(handle).energy_step_mj
        return int(self.energy[key])

    def nvmlDeviceGetClockInfo(self, handle: tuple, kind: int) -> int:
        self._board_only(handle)
        sm, mem = self._gpu(handle).clocks
        return sm if kind == self.NVML_CLOCK_SM else mem

    def nvmlDeviceGetMaxClockInfo(self, handle: tuple, kind: int) -> int:
        return 1980

    def nvmlDeviceGetTemperature(self, handle: tuple, kind: int) -> int:
        self._board_only(handle)
        return self._gpu(handle).temp

    @staticmethod
    def _board_only(handle: tuple) -> None:
        if handle[0] == "mig":  # like real MIG instances: board counters live on the parent
            raise pynvml.NVMLError_NotSupported()
