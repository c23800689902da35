"""Dense peak FLOP rates of known GPUs, for model FLOPs utilisation (MFU).

Every number is the vendor's *dense* figure (the datasheets print tensor-core rates
"with sparsity"; those are halved here) at the boost clock. A device that matches no
entry gets no peak and therefore no MFU: a guessed peak would make MFU meaningless.

Sources (NVIDIA documents, figures in TFLOP/s):
- H100 SXM5 / PCIe: "NVIDIA H100 Tensor Core GPU Architecture" whitepaper (2022),
  table "Comparison of NVIDIA A100 and H100 Data Center GPUs": SXM5 FP32 66.9,
  TF32 494.7, BF16 989.4 (dense), 132 SMs; PCIe FP32 51.2, TF32 378, BF16 756, 114 SMs.
- H100 NVL: NVIDIA H100 datasheet (2023): FP32 60, TF32 835*, BF16 1671* (*sparse).
- H200 SXM / NVL: NVIDIA H200 datasheet (2024): SXM FP32 67, TF32 989*, BF16 1979*;
  NVL FP32 60, TF32 835*, BF16 1671* (*sparse). Same GH100 die (132 SMs) as H100.
- A100 (SXM4 and PCIe, 40 and 80 GB): NVIDIA A100 datasheet (2021) and the
  "NVIDIA A100 Tensor Core GPU Architecture" whitepaper: FP32 19.5, TF32 156, BF16 312
  (dense), 108 SMs.
- L4: NVIDIA L4 datasheet (2023): FP32 30.3, TF32 120*, BF16 242* (*sparse), 58 SMs.
- L40S: NVIDIA L40S datasheet (2023): FP32 91.6, TF32 183, BF16 362.05 (dense), 142 SMs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TFLOP = 1e12


@dataclass(frozen=True)
class DevicePeak:
    key: str
    label: str
    #: dense FLOP/s per precision: "bf16" and "tf32" on tensor cores, "fp32" without them
    flops: dict[str, float]
    #: streaming multiprocessors of the full device (MIG slices have fewer)
    sm_count: int
    source: str


def _peak(key: str, label: str, fp32: float, tf32: float, bf16: float, sms: int, source: str) -> DevicePeak:
    return DevicePeak(key, label, {"fp32": fp32 * TFLOP, "tf32": tf32 * TFLOP, "bf16": bf16 * TFLOP}, sms, source)


_H100_WP = "NVIDIA H100 Tensor Core GPU Architecture whitepaper (2022)"
_H200_DS = "NVIDIA H200 datasheet (2024), sparse figures halved"

PEAKS: dict[str, DevicePeak] = {
    p.key: p
    for p in (
        _peak("h100_sxm", "NVIDIA H100 SXM5", 66.9, 494.7, 989.4, 132, _H100_WP),
        _peak("h100_pcie", "NVIDIA H100 PCIe", 51.2, 378.0, 756.0, 114, _H100_WP),
        _peak("h100_nvl", "NVIDIA H100 NVL", 60.0, 417.5, 835.5, 132, "NVIDIA H100 datasheet (2023), sparse figures halved"),
        _peak("h200_sxm", "NVIDIA H200 SXM", 67.0, 494.5, 989.5, 132, _H200_DS),
        _peak("h200_nvl", "NVIDIA H200 NVL", 60.0, 417.5, 835.5, 132, _H200_DS),
        _peak("a100", "NVIDIA A100 (SXM4/PCIe)", 19.5, 156.0, 312.0, 108, "NVIDIA A100 datasheet (2021)"),
        _peak("l4", "NVIDIA L4", 30.3, 60.0, 121.0, 58, "NVIDIA L4 datasheet (2023), sparse figures halved"),
        _peak("l40s", "NVIDIA L40S", 91.6, 183.0, 362.05, 142, "NVIDIA L40S datasheet (2023)"),
    )
}

# Ordered: the first pattern that matches torch's device name wins. Word boundaries keep
# "GH200" (a different clock/power envelope) from matching H200, and "L40" from L4.
_NAME_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bH200\b.*\bNVL\b", re.I), "h200_nvl"),
    (re.compile(r"\bH200\b", re.I), "h200_sxm"),
    (re.compile(r"\bH100\b.*\bNVL\b", re.I), "h100_nvl"),
    (re.compile(r"\bH100\b.*\bPCIe\b", re.I), "h100_pcie"),
    (re.compile(r"\bH100\b.*(\bHBM3\b|\bSXM)", re.I), "h100_sxm"),
    (re.compile(r"\bA100\b", re.I), "a100"),
    (re.compile(r"\bL40S\b", re.I), "l40s"),
    (re.compile(r"\bL4\b", re.I), "l4"),
]


def lookup(device_name: str) -> DevicePeak | None:
    """The peak entry for a torch device name (``torch.cuda.get_device_name``), or None."""
    for pattern, key in _NAME_PATTERNS:
        if pattern.search(device_name):
            return PEAKS[key]
    return None


@dataclass(frozen=True)
class PeakChoice:
    flops_per_s: float | None
    precision: str | None
    device_key: str | None
    source: str | None
    sm_fraction: float
    notices: tuple[str, ...]


def choose_peak(
    device_name: str | None,
    dtype: str,
    *,
    sm_count: int | None = None,
    tf32_matmul: bool = False,
    tf32_conv: bool = False,
    conv_fraction: float = 0.0,
) -> PeakChoice:
    """Pick the peak rate that MFU is measured against.

    ``dtype`` is the compute dtype of the run ("bf16" or "fp32"). An fp32 run executes
    matmuls on TF32 tensor cores when ``torch.backends.cuda.matmul.allow_tf32`` is set and
    convolutions when ``torch.backends.cudnn.allow_tf32`` is (PyTorch's default for cuDNN).
    When the two differ, the peak is the FLOP-weighted one,
    ``1 / (conv_fraction / peak_conv + (1 - conv_fraction) / peak_matmul)``: the rate at
    which the whole step would run if every FLOP ran at its own peak. ``conv_fraction`` is
    the share of the counted FLOPs in convolutions. A MIG slice (fewer SMs than the full
    device) gets the peak scaled by its SM share.
    """
    notices: list[str] = []
    if device_name is None:
        return PeakChoice(None, None, None, None, 1.0, ("MFU not computed: no GPU (peak rates are known only for GPUs)",))
    entry = lookup(device_name)
    if entry is None:
        return PeakChoice(
            None, None, None, None, 1.0,
            (f"MFU not computed: no peak rate known for device {device_name!r} (see avu/profile/peaks.py)",),
        )
    if dtype == "bf16":
        precision, peak = "bf16", entry.flops["bf16"]
    elif dtype == "fp32":
        matmul = "tf32" if tf32_matmul else "fp32"
        conv = "tf32" if tf32_conv else "fp32"
        frac = min(max(float(conv_fraction), 0.0), 1.0)
        if matmul == conv or frac == 0.0 or frac == 1.0:
            precision = conv if frac == 1.0 else matmul
            peak = entry.flops[precision]
        else:
            precision = f"{matmul} matmul + {conv} conv"
            peak = 1.0 / (frac / entry.flops[conv] + (1.0 - frac) / entry.flops[matmul])
            notices.append(
                f"fp32 run: {frac:.0%} of FLOPs are convolutions on {conv.upper()}, the rest matmuls on "
                f"{matmul.upper()}; MFU uses the FLOP-weighted peak {peak / TFLOP:.1f} TFLOP/s"
            )
        if precision == "tf32":
            notices.append("fp32 run compared with the TF32 tensor-core peak: TF32 is enabled for the ops carrying its FLOPs")
    else:
        return PeakChoice(None, None, entry.key, entry.source, 1.0, (f"MFU not computed: no peak for dtype {dtype!r}",))
    fraction = 1.0
    if sm_count is not None and 0 < sm_count < entry.sm_count:
        fraction = sm_count / entry.sm_count
        notices.append(
            f"device has {sm_count} of {entry.sm_count} SMs (MIG slice?): peak scaled by {fraction:.3f}"
        )
    return PeakChoice(peak * fraction, precision, entry.key, entry.source, fraction, tuple(notices))
