"""Training-step throughput and MFU of the real-data AV-Unified configuration on one GPU.

    python benchmarks/gpu/train_mfu.py [--model real] [--task ave] [--batch-size 64]
                                       [--steps 15] [--warmup 5] [--modes eager compile]
                                       [--output train_mfu.json]
    python benchmarks/gpu/train_mfu.py --smoke     # CPU, tiny model, 1 step: checks the script

Builds the configuration through the package's Hydra configs (`avu/conf/model/<model>.yaml`),
makes a random batch of the task's shapes (`avu.train.example_batch`: cached log-mel audio
and uint8 frames, as training reads them), and times full training steps (forward,
backward, AdamW) in bf16 autocast, eagerly and with torch.compile. FLOPs per step come from
`torch.utils.flop_counter.FlopCounterMode` (forward + backward, one eager step); MFU is
achieved FLOP/s over the device's dense bf16 peak (H100 SXM / H200: 989 TFLOP/s). Needs
torch, torchvision, torchaudio, numpy, hydra-core and avu only; about 2-3 minutes on an H100.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

#: dense bf16 peaks (FLOP/s) by device name fragment, most specific first; unknown -> no MFU
BF16_PEAKS = (
    ("H100 PCIe", 756e12), ("H100 NVL", 835e12), ("H100", 989e12), ("H200", 989e12), ("GH200", 989e12),
    ("A100", 312e12), ("L40S", 362e12), ("L4", 121e12), ("A10G", 70e12),
)


def device_peak(name: str) -> float | None:
    for fragment, peak in BF16_PEAKS:
        if fragment in name:
            return peak
    return None


def compose(model: str, extra: list[str]):
    from avu.conf import compose as compose_config

    return compose_config([f"model={model}", *extra])


def compiled(model: torch.nn.Module, scope: str, mode: str | None = None):
    """The callable that computes the loss with torch.compile applied (``mode``: torch.compile's)."""
    if scope == "full":
        return torch.compile(model, mode=mode)
    from torchvision.models.vision_transformer import EncoderBlock

    from avu.model.audio import AudioCNN
    from avu.model.layers import Block

    # the ViT blocks carry ~95 % of the FLOPs; the small modules stay eager
    regions = (EncoderBlock, Block, AudioCNN)
    for module in model.modules():
        if isinstance(module, regions):
            module.compile(mode=mode)  # in place; identical blocks share one compiled graph
    return model


def count_flops(step, batch) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step(batch, optimizer_step=False)
    return int(counter.get_total_flops())


def time_steps(step, batch, steps: int, warmup: int, device: torch.device) -> list[float]:
    for _ in range(warmup):
        step(batch)
    times = []
    if device.type == "cuda":
        torch.cuda.synchronize()
        for _ in range(steps):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            step(batch)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1000.0)
    else:
        for _ in range(steps):
            t0 = time.perf_counter()
            step(batch)
            times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="real", help="model config name (avu/conf/model)")
    p.add_argument("--task", default="ave", help="benchmark whose batch shapes are used (ave: 10 frames per clip)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--modes", nargs="+", default=["eager", "compile"], choices=["eager", "compile"])
    p.add_argument("--compile-scope", default="regional", choices=["regional", "full"],
                   help="regional: compile each transformer/ViT block and the conv encoders in place (one "
                        "compilation per distinct block, short compile times); full: torch.compile(model)")
    p.add_argument("--compile-mode", default=None,
                   choices=["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"],
                   help="torch.compile mode (default: torch's default)")
    p.add_argument("--override", action="append", default=[], help="extra Hydra override, e.g. model.decoder.depth=4")
    p.add_argument("--output", type=Path, default=Path("train_mfu.json"))
    p.add_argument("--smoke", action="store_true", help="CPU, tiny model, batch 2, one step (tests the script)")
    args = p.parse_args(argv)

    if args.smoke:
        args.model, args.batch_size, args.steps, args.warmup, args.modes = "tiny", 2, 1, 0, ["eager"]
        device = torch.device("cpu")
    else:
        if not torch.cuda.is_available():
            print("no CUDA device (use --smoke on CPU)", file=sys.stderr)
            return 2
        device = torch.device("cuda")
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True

    from avu.model import build_model, count_parameters
    from avu.train import example_batch

    cfg = compose(args.model, args.override)
    torch.manual_seed(0)
    model = build_model(cfg.model).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)  # conv weights in NHWC for cuDNN
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device.type == "cuda")
    batch = example_batch(cfg, args.batch_size, device, task=args.task, model=model)
    amp = device.type == "cuda"

    def make_step(fn):
        def step(b, optimizer_step: bool = True):
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
                loss, _ = fn(b)
            loss.backward()
            if optimizer_step:
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            return loss
        return step

    eager = make_step(model)
    flops = count_flops(eager, batch)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    peak = device_peak(name) if device.type == "cuda" else None
    report = {
        "device": name, "torch": torch.__version__, "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "model": args.model, "task": args.task, "batch_size": args.batch_size, "dtype": "bf16" if amp else "fp32",
        "parameters": count_parameters(model), "frames_per_clip": int(batch["frames"].shape[1]) if "frames" in batch else None,
        "flops_per_step": flops, "peak_flops": peak,
        "compile_scope": args.compile_scope, "compile_mode": args.compile_mode, "modes": {},
    }
    for mode in [m for m in ("eager", "compile") if m in args.modes]:  # compile works in place: eager first
        try:
            t0 = time.perf_counter()
            step = eager if mode == "eager" else make_step(compiled(model, args.compile_scope, args.compile_mode))
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            times = time_steps(step, batch, args.steps, args.warmup, device)
            total = time.perf_counter() - t0
        except torch.cuda.OutOfMemoryError as exc:  # pragma: no cover - GPU only
            report["modes"][mode] = {"error": f"out of memory: {str(exc).splitlines()[0]}"}
            torch.cuda.empty_cache()
            continue
        mean = statistics.fmean(times)
        entry = {
            "step_time_s": {"mean": mean, "median": statistics.median(times), "min": min(times)},
            "clips_per_s": args.batch_size / mean,
            "achieved_flops": flops / mean,
            "mfu": (flops / mean / peak) if peak else None,
            "wall_s_incl_warmup_and_compile": total,
        }
        if device.type == "cuda":
            entry["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
        report["modes"][mode] = entry
        mfu = f"{entry['mfu'] * 100:.1f}%" if entry["mfu"] is not None else "n/a"
        print(f"{mode:8s} step {mean * 1000:8.1f} ms  {entry['clips_per_s']:8.1f} clips/s  "
              f"{flops / 1e12:8.2f} TFLOP/step  MFU {mfu}", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
