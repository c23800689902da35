"""NVML (nvidia-ml-py, module ``pynvml``): find the GPU a torch device runs on, and
sample its utilisation, memory, power, energy, clocks and temperature in a thread.

Matching is by UUID, never by index alone: CUDA numbers devices fastest-first and
after ``CUDA_VISIBLE_DEVICES``, NVML numbers them in PCI order over the whole machine,
so ``cuda:0`` is often not NVML device 0. Every NVML field is optional: a MIG slice, a
restricted container or an old driver answers NotSupported / NoPermission for some of
them, which becomes ``null`` in the report, never an exception.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

import numpy as np

from avu.profile.timing import summarize

#: fields sampled at every tick; "board" fields of a MIG slice are read on its parent GPU
SAMPLE_FIELDS = (
    "gpu_util_pct", "mem_util_pct", "memory_used_bytes", "power_w",
    "sm_clock_mhz", "mem_clock_mhz", "temperature_c",
)
BOARD_FIELDS = ("power_w", "energy_mj", "sm_clock_mhz", "mem_clock_mhz", "temperature_c")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _utilization(rates: Any) -> tuple[float, float]:
    return float(rates.gpu), float(rates.memory)


def normalize_uuid(uuid: str) -> str:
    """Lower-case UUID without its ``GPU-`` / ``MIG-`` prefix (torch prints none)."""
    u = uuid.strip().lower()
    for prefix in ("gpu-", "mig-"):
        if u.startswith(prefix):
            return u[len(prefix):]
    return u


def load_nvml() -> tuple[ModuleType | None, str | None]:
    """Import and initialise pynvml; (module, None) or (None, notice why not)."""
    try:
        import pynvml  # type: ignore[import-not-found]
    except Exception as exc:  # ImportError, or a broken install
        return None, f"NVML unavailable (cannot import pynvml from nvidia-ml-py: {exc}); GPU counters are null"
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound / DriverNotLoaded / ...
        return None, f"NVML unavailable (nvmlInit failed: {exc}); GPU counters are null"
    return pynvml, None


@dataclass
class NvmlDevice:
    """A GPU or MIG instance as NVML sees it."""

    index: int  # NVML index of the GPU (of the parent GPU for a MIG instance)
    uuid: str  # as NVML prints it: GPU-... or MIG-...
    handle: Any = None
    parent: Any = None  # the parent GPU's handle for a MIG instance, else None
    mig_index: int | None = None

    @property
    def is_mig(self) -> bool:
        return self.parent is not None or self.mig_index is not None


def enumerate_devices(nv: ModuleType) -> list[NvmlDevice]:
    """Every GPU and every MIG instance NVML can see (MIG lookups that fail are skipped)."""
    devices: list[NvmlDevice] = []
    for i in range(nv.nvmlDeviceGetCount()):
        handle = nv.nvmlDeviceGetHandleByIndex(i)
        devices.append(NvmlDevice(i, _text(nv.nvmlDeviceGetUUID(handle)), handle))
        try:
            n_mig = nv.nvmlDeviceGetMaxMigDeviceCount(handle)
        except Exception:
            continue
        for m in range(n_mig):
            try:
                mig = nv.nvmlDeviceGetMigDeviceHandleByIndex(handle, m)
                devices.append(NvmlDevice(i, _text(nv.nvmlDeviceGetUUID(mig)), mig, parent=handle, mig_index=m))
            except Exception:  # empty MIG slot, or MIG disabled
                continue
    return devices


def parse_visible_devices(value: str | None) -> list[str] | None:
    """Entries of ``CUDA_VISIBLE_DEVICES`` (None when unset).

    CUDA ignores everything from the first invalid entry on; an entry is an index, or a
    (possibly abbreviated) ``GPU-`` / ``MIG-`` UUID.
    """
    if value is None:
        return None
    entries: list[str] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not (entry.isdigit() or entry.lower().startswith(("gpu-", "mig-"))):
            break
        entries.append(entry)
    return entries


def _by_uuid(uuid: str, devices: list[NvmlDevice]) -> NvmlDevice | None:
    """The device whose UUID is ``uuid`` or starts with it (CUDA accepts unique prefixes)."""
    want = normalize_uuid(uuid)
    exact = [d for d in devices if normalize_uuid(d.uuid) == want]
    if exact:
        return exact[0]
    prefixed = [d for d in devices if normalize_uuid(d.uuid).startswith(want)]
    return prefixed[0] if len(prefixed) == 1 else None


def match_device(
    torch_index: int,
    torch_uuid: str | None,
    visible: str | None,
    devices: list[NvmlDevice],
) -> tuple[NvmlDevice | None, str | None, list[str]]:
    """Find the NVML device behind torch device ``cuda:torch_index``.

    Returns (device or None, how it was matched, notices). Order of evidence: the UUID
    torch reports; else the ``CUDA_VISIBLE_DEVICES`` entry at that position (a UUID, or
    an NVML index, which holds only with ``CUDA_DEVICE_ORDER=PCI_BUS_ID``); else, with
    nothing hidden, the same index (same caveat).
    """
    notices: list[str] = []
    if torch_uuid:
        found = _by_uuid(torch_uuid, devices)
        if found is not None:
            return found, "uuid", notices
        notices.append(f"torch device uuid {torch_uuid} not found among NVML devices")
    entries = parse_visible_devices(visible)
    if entries is not None:
        if torch_index >= len(entries):
            notices.append(f"cuda:{torch_index} has no entry in CUDA_VISIBLE_DEVICES={visible!r}")
            return None, None, notices
        entry = entries[torch_index]
        if not entry.isdigit():
            found = _by_uuid(entry, devices)
            if found is None:
                notices.append(f"CUDA_VISIBLE_DEVICES entry {entry!r} matches no NVML device (or several)")
            return found, ("visible_uuid" if found else None), notices
        nvml_index = int(entry)
    else:
        nvml_index = torch_index
    gpus = [d for d in devices if d.index == nvml_index and not d.is_mig]
    if not gpus:
        notices.append(f"no NVML device with index {nvml_index}")
        return None, None, notices
    if os.environ.get("CUDA_DEVICE_ORDER", "FASTEST_FIRST") != "PCI_BUS_ID":
        notices.append(
            f"cuda:{torch_index} matched to NVML index {nvml_index} by position; this is only right "
            "when CUDA_DEVICE_ORDER=PCI_BUS_ID or all GPUs are alike"
        )
    return gpus[0], "index", notices


def torch_device_uuid(index: int) -> str | None:
    """The UUID torch reports for ``cuda:index`` (None on torch builds without it)."""
    import torch

    uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
    return None if uuid is None else str(uuid)


class FieldReader:
    """Calls NVML getters, turning every failure into None and remembering why."""

    def __init__(self, nv: ModuleType):
        self.nv = nv
        self.unsupported: dict[str, str] = {}
        self._lock = threading.Lock()

    def read(self, name: str, getter: Callable[[], Any]) -> Any:
        try:
            return getter()
        except Exception as exc:  # NVMLError_NotSupported / NoPermission / GpuIsLost / missing symbol
            with self._lock:
                self.unsupported.setdefault(name, f"{type(exc).__name__}: {exc}")
            return None


class NvmlSampler:
    """Background thread sampling one NVML device every ``interval_s`` seconds.

    ``mark_start()`` / ``mark_end()`` bound the measured window (warm-up excluded); the
    energy counter is read exactly at both marks.
    """

    def __init__(self, nv: ModuleType, device: NvmlDevice, interval_s: float = 0.1):
        self.nv = nv
        self.device = device
        self.interval_s = float(interval_s)
        self.reader = FieldReader(nv)
        self.board = device.parent if device.parent is not None else device.handle
        self.samples: list[dict[str, Any]] = []
        self.window: list[float | None] = [None, None]
        self._energy_mj: list[float | None] = [None, None]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- reading -------------------------------------------------------------------
    def _energy(self) -> float | None:
        return self.reader.read("energy_mj", lambda: float(self.nv.nvmlDeviceGetTotalEnergyConsumption(self.board)))

    def sample(self) -> dict[str, Any]:
        nv, h, b, read = self.nv, self.device.handle, self.board, self.reader.read
        t = time.perf_counter()
        util = read("utilization", lambda: _utilization(nv.nvmlDeviceGetUtilizationRates(h)))
        return {
            "t": t,
            "gpu_util_pct": None if util is None else util[0],
            "mem_util_pct": None if util is None else util[1],
            "memory_used_bytes": read("memory_info", lambda: int(nv.nvmlDeviceGetMemoryInfo(h).used)),
            "power_w": read("power_w", lambda: nv.nvmlDeviceGetPowerUsage(b) / 1000.0),
            "sm_clock_mhz": read("sm_clock_mhz", lambda: float(nv.nvmlDeviceGetClockInfo(b, nv.NVML_CLOCK_SM))),
            "mem_clock_mhz": read("mem_clock_mhz", lambda: float(nv.nvmlDeviceGetClockInfo(b, nv.NVML_CLOCK_MEM))),
            "temperature_c": read(
                "temperature_c", lambda: float(nv.nvmlDeviceGetTemperature(b, nv.NVML_TEMPERATURE_GPU))
            ),
        }

    def static_info(self) -> dict[str, Any]:
        """Properties that do not change during a run."""
        nv, h, b, read = self.nv, self.device.handle, self.board, self.reader.read
        return {
            "name": read("name", lambda: _text(nv.nvmlDeviceGetName(b))),
            "uuid": self.device.uuid,
            "nvml_index": self.device.index,
            "mig": self.device.is_mig,
            "driver": read("driver", lambda: _text(nv.nvmlSystemGetDriverVersion())),
            "memory_total_bytes": read("memory_info", lambda: int(nv.nvmlDeviceGetMemoryInfo(h).total)),
            "power_limit_w": read("power_limit_w", lambda: nv.nvmlDeviceGetPowerManagementLimit(b) / 1000.0),
            "max_sm_clock_mhz": read(
                "max_sm_clock_mhz", lambda: float(nv.nvmlDeviceGetMaxClockInfo(b, nv.NVML_CLOCK_SM))
            ),
        }

    # ---- thread --------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(self.sample())
            except Exception as exc:  # never let the thread die silently; fields already degrade to None
                self.reader.unsupported.setdefault("sampler", f"{type(exc).__name__}: {exc}")
            self._stop.wait(self.interval_s)

    def start(self) -> "NvmlSampler":
        self._thread = threading.Thread(target=self._loop, name="avu-nvml-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, 10 * self.interval_s))
            self._thread = None

    def mark_start(self) -> None:
        self._energy_mj[0] = self._energy()
        self.window[0] = time.perf_counter()

    def mark_end(self) -> None:
        self.window[1] = time.perf_counter()
        self._energy_mj[1] = self._energy()

    # ---- summary -------------------------------------------------------------------
    def window_samples(self) -> list[dict[str, Any]]:
        t0, t1 = self.window
        return [s for s in list(self.samples) if (t0 is None or s["t"] >= t0) and (t1 is None or s["t"] <= t1)]

    def energy_j(self) -> tuple[float | None, str | None]:
        """Energy of the window: the counter's delta, else mean power x duration."""
        e0, e1 = self._energy_mj
        if e0 is not None and e1 is not None and e1 >= e0:
            return (e1 - e0) / 1000.0, "energy_counter"
        t0, t1 = self.window
        points = [(s["t"], s["power_w"]) for s in self.window_samples() if s["power_w"] is not None]
        if t0 is None or t1 is None or not points:
            return None, None
        if len(points) == 1:
            mean_power = points[0][1]
        else:
            t, p = np.array(points).T
            span = t[-1] - t[0]
            area = float(np.sum((p[1:] + p[:-1]) * np.diff(t)) / 2.0)  # trapezoid rule
            mean_power = area / span if span > 0 else float(p.mean())
        return mean_power * (t1 - t0), "integrated_power"

    def summary(self, clips: int | None = None, keep_samples: bool = False) -> dict[str, Any]:
        """Statistics of the window's samples, energy and energy per clip."""
        window = self.window_samples()
        out: dict[str, Any] = {"interval_s": self.interval_s, "samples": len(window)}
        for name in SAMPLE_FIELDS:
            values = [s[name] for s in window if s[name] is not None]
            out[name] = summarize(values)
        energy, source = self.energy_j()
        out["energy_j"] = energy
        out["energy_source"] = source
        out["energy_per_clip_j"] = energy / clips if (energy is not None and clips) else None
        if self.device.is_mig:
            out["board_fields_of_parent_gpu"] = list(BOARD_FIELDS)
        out["unsupported"] = dict(sorted(self.reader.unsupported.items()))
        if keep_samples:
            t0 = self.window[0] or (window[0]["t"] if window else 0.0)
            out["series"] = {k: [(s[k] - t0) if k == "t" else s[k] for s in window] for k in ("t",) + SAMPLE_FIELDS}
        return out


@dataclass
class NvmlSession:
    """The outcome of trying to attach NVML to a torch device."""

    sampler: NvmlSampler | None
    match: str | None = None
    notices: list[str] = field(default_factory=list)


def attach(torch_device: Any, interval_s: float = 0.1, nv: ModuleType | None = None) -> NvmlSession:
    """Prepare a sampler for ``torch_device`` (a ``torch.device``); never raises."""
    if torch_device.type != "cuda":
        return NvmlSession(None, None, [f"device is {torch_device.type}: NVML sampling skipped, GPU counters are null"])
    if nv is None:
        nv, notice = load_nvml()
        if nv is None:
            return NvmlSession(None, None, [notice or "NVML unavailable"])
    index = torch_device.index if torch_device.index is not None else _current_cuda_index()
    try:
        devices = enumerate_devices(nv)
        uuid = torch_device_uuid(index)
    except Exception as exc:
        return NvmlSession(None, None, [f"NVML device enumeration failed ({exc}); GPU counters are null"])
    found, how, notices = match_device(index, uuid, os.environ.get("CUDA_VISIBLE_DEVICES"), devices)
    if found is None:
        return NvmlSession(None, None, notices + [f"no NVML device matched cuda:{index}; GPU counters are null"])
    if found.is_mig:
        notices.append(
            "MIG instance: power, energy, clocks and temperature are those of the whole GPU; "
            "utilisation is usually not reported for MIG"
        )
    return NvmlSession(NvmlSampler(nv, found, interval_s), how, notices)


def _current_cuda_index() -> int:
    import torch

    return torch.cuda.current_device()
