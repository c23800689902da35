"""Model FLOPs utilisation of a measured window: counted FLOPs over time, against the device's peak.

Its own module so that the report (which states it) and the profiler (which builds the report)
do not import each other."""

from __future__ import annotations

from typing import Any

import torch

from avu.profile.peaks import choose_peak


def mfu_section(
    step_flops: int | None,
    timing: dict[str, Any],
    device: torch.device,
    dtype: str,
    conv_fraction: float = 0.0,
) -> tuple[dict[str, Any], list[str]]:
    """Achieved FLOP/s and MFU = FLOPs per step x steps / (window seconds x peak)."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    sms = torch.cuda.get_device_properties(device).multi_processor_count if device.type == "cuda" else None
    choice = choose_peak(
        name, dtype, sm_count=sms,
        tf32_matmul=bool(torch.backends.cuda.matmul.allow_tf32),
        tf32_conv=bool(torch.backends.cudnn.allow_tf32),
        conv_fraction=conv_fraction,
    )
    notices = list(choice.notices)
    achieved = None
    if step_flops is not None and timing["window_s"] and timing["measured_steps"]:
        achieved = step_flops * timing["measured_steps"] / timing["window_s"]
    mfu = None
    if achieved is not None and choice.flops_per_s:
        mfu = achieved / choice.flops_per_s
    elif step_flops is None:
        notices.append("MFU not computed: no FLOP count")
    return {
        "value": mfu,
        "achieved_flops_per_s": achieved,
        "peak_flops_per_s": choice.flops_per_s,
        "peak_precision": choice.precision,
        "peak_device": choice.device_key,
        "peak_source": choice.source,
        "sm_fraction": choice.sm_fraction,
        "tf32": {
            "matmul": bool(torch.backends.cuda.matmul.allow_tf32),
            "cudnn": bool(torch.backends.cudnn.allow_tf32),
        },
    }, notices
