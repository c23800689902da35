"""The profile report: one JSON document, a markdown summary, both written atomically."""

from __future__ import annotations

import math
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from avu import provenance
from avu.fileio import write_json, write_text
from avu.markdown import markdown_table
from avu.profile.flops import FlopCount
from avu.profile.mfu import mfu_section

if TYPE_CHECKING:
    from avu.profile.profiler import Profiler
    from avu.profile.workload import Workload

SCHEMA = "avu.profile/1"


def device_info(device: torch.device, nvml_static: dict[str, Any] | None) -> dict[str, Any]:
    """What the run ran on (torch's view, completed by NVML's where available)."""
    info: dict[str, Any] = {"type": device.type, "index": device.index}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        uuid = getattr(props, "uuid", None)
        info.update(
            name=torch.cuda.get_device_name(device),
            uuid=None if uuid is None else str(uuid),
            capability=f"{props.major}.{props.minor}",
            sm_count=props.multi_processor_count,
            total_memory_bytes=int(props.total_memory),
        )
    else:
        info.update(name=platform.processor() or platform.machine(), torch_threads=torch.get_num_threads())
    info["driver"] = (nvml_static or {}).get("driver")
    return info


def software_info(driver: str | None) -> dict[str, Any]:
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": cudnn, "driver": driver}


def _json_safe(obj: Any) -> Any:
    """NaN/inf are not JSON: they become null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def build_report(
    prof: "Profiler",
    *,
    flops: dict[str, FlopCount | None],
    dtype: str,
    mode: str | None = None,
    workload: "Workload | None" = None,
    trace: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the report of a finished `Profiler` run."""
    notices = list(prof.notices)
    timing = prof.timing()
    if not timing["measured_steps"]:
        notices.append("no measured steps (all steps were warm-up)")
    forward, step = flops.get("forward"), flops.get("step")
    clips = timing["clips_per_step"]
    flops_section = {
        "counter": "torch.utils.flop_counter.FlopCounterMode",
        "forward_per_step": None if forward is None else forward.total,
        "step_per_step": None if step is None else step.total,
        "step_includes_backward": mode == "train",
        "step_per_clip": None if step is None or not clips else step.total / clips,
        "by_operator": None if step is None else step.by_operator,
    }
    mfu, mfu_notices = mfu_section(
        None if step is None else step.total, timing, prof.device, dtype,
        conv_fraction=0.0 if step is None else step.convolution_fraction,
    )
    notices.extend(mfu_notices)
    nvml = prof.nvml_summary()
    driver = (prof.nvml_static or {}).get("driver")
    config = workload.config if workload is not None else None
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "workload": {
            "name": None if workload is None else workload.name,
            "mode": mode,
            "dtype": dtype,
            "compiled": None if workload is None else workload.compiled,
            "batch_size": clips,
            **({} if workload is None else {"info": workload.info}),
        },
        "device": device_info(prof.device, prof.nvml_static),
        "timing": timing,
        "flops": flops_section,
        "mfu": mfu,
        "memory": prof.memory(),
        "nvml": nvml,
        "trace": trace,
        "notices": notices,
        "provenance": provenance.record(
            software=software_info(driver),
            config_hash=None if config is None else provenance.sha256_json(config),
        ),
    }
    return _json_safe(report)


# ---- rendering -------------------------------------------------------------------------
def _fmt(value: Any, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value / scale:.{digits}f}{unit}"


def _stat(section: dict[str, Any] | None, key: str = "mean") -> Any:
    return None if not section else section.get(key)


def _compiled_label(compiled: bool | None) -> str:
    return "" if compiled is None else (" compiled" if compiled else " eager")


def summary_row(report: dict[str, Any]) -> dict[str, str]:
    """The headline numbers of one report, formatted for a table."""
    t, m, n, mem, f = report["timing"], report["mfu"], report["nvml"], report["memory"], report["flops"]
    w = report["workload"]
    return {
        "variant": f"{w['mode'] or 'steps'} {w['dtype']}" + _compiled_label(w.get("compiled")),
        "batch": str(w["batch_size"]),
        "step p50 (ms)": _fmt(_stat(t["step_ms"], "p50")),
        "step p95 (ms)": _fmt(_stat(t["step_ms"], "p95")),
        "clips/s": _fmt(t["throughput_clips_per_s"]),
        "GFLOP/step": _fmt(f["step_per_step"], 1e9, 2),
        "TFLOP/s": _fmt(m["achieved_flops_per_s"], 1e12, 2),
        "MFU (%)": _fmt(m["value"], 0.01, 1),
        "GPU util (%)": _fmt(_stat(n.get("gpu_util_pct"))),
        "power (W)": _fmt(_stat(n.get("power_w"))),
        "J/clip": _fmt(n.get("energy_per_clip_j"), 1.0, 3),
        "alloc peak (GiB)": _fmt(mem["allocated_peak_bytes"], 2**30, 2),
        "NVML mem peak (GiB)": _fmt(mem["nvml_used_peak_bytes"], 2**30, 2),
    }


def summary_table(rows: list[dict[str, str]]) -> str:
    """`summary_row` rows as one markdown table, the first row's keys as columns."""
    if not rows:
        return ""
    head = list(rows[0])
    return markdown_table(head, [[r.get(h, "") for h in head] for r in rows])


def environment_line(report: dict[str, Any]) -> str:
    d, sw = report["device"], report["provenance"].get("software", {})
    git = report["provenance"].get("git", {})
    return (
        f"device: {d.get('name')} ({d['type']}), driver {sw.get('driver') or 'n/a'}, torch {sw.get('torch')}, "
        f"CUDA {sw.get('cuda') or 'n/a'}, cuDNN {sw.get('cudnn') or 'n/a'}, "
        f"avu commit {(git.get('commit') or 'n/a')[:12]}{' (dirty)' if git.get('dirty') else ''}"
    )


def render_markdown(report: dict[str, Any]) -> str:
    """A human summary of one report."""
    w, t = report["workload"], report["timing"]
    lines = [
        f"# Profile: {w['name'] or 'custom steps'} ({w['mode'] or 'mode n/a'}, {w['dtype']}"
        f"{',' + _compiled_label(w.get('compiled')) if w.get('compiled') is not None else ''})",
        "",
        environment_line(report),
        "",
        f"{t['measured_steps']} measured steps after {t['warmup_steps']} warm-up, batch {w['batch_size']}, "
        f"timed with {t['clock']}; config hash {(report['provenance'].get('config_hash') or 'n/a')[:12]}.",
        "",
        summary_table([summary_row(report)]),
    ]
    if report["mfu"]["peak_flops_per_s"]:
        m = report["mfu"]
        lines += ["", f"MFU peak: {m['peak_precision']} {m['peak_flops_per_s'] / 1e12:.1f} TFLOP/s "
                      f"({m['peak_device']}; {m['peak_source']})."]
    if report["notices"]:
        lines += ["", "Notices:", *[f"- {n}" for n in report["notices"]]]
    unsupported = report["nvml"].get("unsupported") or {}
    if unsupported:
        lines += ["", "NVML fields not available: " + ", ".join(sorted(unsupported)) + "."]
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], json_path: str | Path, markdown_path: str | Path | None = None) -> None:
    """Write the JSON report and (by default beside it, ``.md``) its markdown summary."""
    json_path = Path(json_path)
    write_json(json_path, report)
    md = Path(markdown_path) if markdown_path is not None else json_path.with_suffix(".md")
    write_text(md, render_markdown(report))
