"""Profile the real-data AV-Unified configuration on one GPU: eager vs torch.compile,
bf16 vs fp32, batch 64, train mode, with NVML sampling. One JSON and one markdown table.

    python benchmarks/gpu/profile_model.py --output out/            # on a CUDA machine
    python benchmarks/gpu/profile_model.py --smoke --output out/    # CPU check, seconds

Needs torch, numpy, nvidia-ml-py and this checkout of avu (found beside the script, no
install needed); the AV-Unified model also imports hydra-core/omegaconf, torchvision,
torchaudio and tqdm. Sized to finish in under 4 minutes on an H100: the FLOPs are counted once and
reused (they do not depend on dtype or compilation), and variants that would start after
``--time-budget-s`` are skipped and recorded as skipped. A variant that runs out of GPU
memory is retried at half the batch (down to ``--min-batch``; later variants start from
the batch that fitted, and the table's batch column says which); any other failure is
recorded with its error, and the other variants still run.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Sequence

import torch

# profile this checkout, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from avu import provenance  # noqa: E402
from avu.fileio import write_json, write_text  # noqa: E402
from avu.profile.profiler import measure_flops, profile_workload  # noqa: E402
from avu.profile.report import environment_line, software_info, summary_row, summary_table  # noqa: E402

VARIANTS = {  # name -> (dtype, compiled); bf16 first: it is the headline number
    "eager-bf16": ("bf16", False),
    "compile-bf16": ("bf16", True),
    "eager-fp32": ("fp32", False),
    "compile-fp32": ("fp32", True),
}
#: Hydra overrides of the real-data model configuration (avu/conf: model/real.yaml = ViT-B/16 at
#: 224 px + audio CNN on 128-band log-mel, d_model 768; train/gpu.yaml = the GPU training settings)
REAL_OVERRIDES: list[str] = ["experiment=joint", "model=real", "train=gpu"]
#: the tiny CPU configuration, for --smoke
SMOKE_OVERRIDES: list[str] = ["experiment=joint", "model=tiny", "train=smoke"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--output", required=True, help="folder for profile_model.json / .md")
    p.add_argument("--model", choices=("avu", "toy"), default="avu", help="avu: AV-Unified (default); toy: built-in net")
    p.add_argument("--overrides", nargs="*", default=None, help="Hydra overrides (default: the real-data config)")
    p.add_argument("--mode", choices=("train", "infer"), default="train")
    p.add_argument("--task", default=None, help="benchmark whose batch is fed (default: the config's first task)")
    p.add_argument("--batch-size", type=int, default=None, help="default 64 (2 with --smoke)")
    p.add_argument("--steps", type=int, default=None, help="measured steps, default 15 (2 with --smoke)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps, default 3 (1 with --smoke)")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated subset of {list(VARIANTS)}")
    p.add_argument("--compile-backend", default=None, help="default inductor ('eager' with --smoke)")
    p.add_argument("--nvml-interval", type=float, default=0.05)
    p.add_argument("--time-budget-s", type=float, default=200.0, help="start no variant after this many seconds")
    p.add_argument("--max-window-s", type=float, default=20.0,
                   help="end a variant's measured window after this many seconds (>= 2 steps); slow fp32 variants")
    p.add_argument("--tf32", action="store_true",
                   help="allow TF32 for fp32 matmuls and convolutions (default: strict fp32 matmuls, PyTorch's defaults)")
    p.add_argument("--no-oom-retry", dest="oom_retry", action="store_false",
                   help="do not retry a variant at half the batch after running out of GPU memory")
    p.add_argument("--min-batch", type=int, default=8, help="smallest batch an out-of-memory retry goes down to")
    p.add_argument("--trace", action="store_true", help="export a torch.profiler trace of each variant (2 steps)")
    p.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    p.add_argument("--smoke", action="store_true",
                   help="tiny config, batch 2, 2 steps, compile backend 'eager': checks the script on a CPU")
    args = p.parse_args(argv)
    defaults = dict(batch_size=2, steps=2, warmup=1, compile_backend="eager", overrides=SMOKE_OVERRIDES) \
        if args.smoke else dict(batch_size=64, steps=15, warmup=3, compile_backend="inductor", overrides=REAL_OVERRIDES)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, list(value) if isinstance(value, list) else value)
    unknown = [v for v in args.variants.split(",") if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    return args


def build_workload(args: argparse.Namespace, device: torch.device, dtype: str, compiled: bool):
    if args.model == "toy":
        from avu.profile.toy import toy_workload

        return toy_workload(args.mode, dtype, device, compile=compiled, compile_backend=args.compile_backend)
    from avu.profile.model_workload import model_workload

    return model_workload(args.overrides, mode=args.mode, dtype=dtype, device=device, compile=compiled,
                          compile_backend=args.compile_backend, task=args.task)


def run_variant(args: argparse.Namespace, device: torch.device, name: str, dtype: str, compiled: bool,
                batch: int, flops_by_batch: dict[int, Any], out: Path) -> dict[str, Any]:
    """Build one variant's workload fresh and profile it."""
    workload = build_workload(args, device, dtype, compiled)
    if batch not in flops_by_batch:
        flops_by_batch[batch] = measure_flops(workload, workload.make_batch(batch))
    return profile_workload(
        workload, batch_size=batch, steps=args.steps, warmup=args.warmup,
        nvml_interval_s=args.nvml_interval, flops=flops_by_batch[batch], max_window_s=args.max_window_s,
        trace_dir=(out / f"trace-{name}") if args.trace else None, trace_steps=2,
    )


def release(device: torch.device) -> None:
    """Free what a variant left behind so the next one starts clean."""
    gc.collect()
    torch._dynamo.reset()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    out = Path(args.output)
    if args.tf32:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if args.model == "avu":  # a config that does not compose fails once, before any variant
        from avu.errors import EXIT_BAD_INPUT, AvuInputError
        from avu.profile.model_workload import compose_config, pick_task

        try:
            pick_task(compose_config(args.overrides), args.task)
        except AvuInputError as exc:
            print(f"avu: error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    started = time.perf_counter()
    results: dict[str, Any] = {}
    flops_by_batch: dict[int, Any] = {}  # FLOPs depend on the batch, not on dtype or compilation
    batch = args.batch_size
    for name in args.variants.split(","):
        dtype, compiled = VARIANTS[name]
        oom_batches: list[int] = []
        t0 = time.perf_counter()
        while True:
            elapsed = time.perf_counter() - started
            if elapsed > args.time_budget_s:
                results[name] = {"skipped": f"time budget of {args.time_budget_s:.0f} s spent ({elapsed:.0f} s)",
                                 "oom_batches": oom_batches}
                break
            print(f"[{elapsed:6.1f} s] {name} at batch {batch} ...", file=sys.stderr, flush=True)
            out_of_memory = False
            try:
                results[name] = run_variant(args, device, name, dtype, compiled, batch, flops_by_batch, out)
            except Exception as exc:  # one failing variant (OOM, compile error) must not lose the others
                # an OOM inside compilation arrives wrapped in the compiler's exception
                out_of_memory = isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc)
                first_line = (str(exc).strip().splitlines() or [""])[0]
                results[name] = {"error": f"{type(exc).__name__} at batch {batch}: {first_line}",
                                 "traceback": traceback.format_exc(limit=8)}
            release(device)  # after the except block: its traceback no longer pins tensors
            if out_of_memory:
                oom_batches.append(batch)
                print(f"  {name}: out of memory at batch {batch}", file=sys.stderr, flush=True)
                if args.oom_retry and batch // 2 >= args.min_batch:
                    batch //= 2  # later variants start from the batch that fitted
                    continue
            elif "error" in results[name]:
                print(f"  {name} failed: {results[name]['error']}", file=sys.stderr, flush=True)
            break
        results[name]["wall_s"] = time.perf_counter() - t0
        if oom_batches:
            results[name]["oom_batches"] = oom_batches
            if "notices" in results[name]:
                results[name]["notices"].append(
                    f"out of memory at batch {', '.join(map(str, oom_batches))}; measured at batch {batch}")
    ok = {k: v for k, v in results.items() if "timing" in v}
    first = next(iter(ok.values()), None)
    document = {
        "schema": "avu.profile.benchmark/1",
        "settings": {k: v for k, v in vars(args).items() if k != "output"},
        "device": None if first is None else first["device"],
        "total_wall_s": time.perf_counter() - started,
        "variants": results,
        "provenance": provenance.record(software=software_info(
            None if first is None else first["provenance"]["software"]["driver"])),
    }
    write_json(out / "profile_model.json", document)
    lines = [f"# Profile of {args.model} {' '.join(args.overrides) if args.model == 'avu' else ''}".rstrip(), ""]
    if first is not None:
        lines += [environment_line(first), ""]
    task = None if first is None else first["workload"].get("info", {}).get("task")
    lines.append(f"mode {args.mode}{f', task {task}' if task else ''}, batch {args.batch_size} requested, "
                 f"{args.steps} measured steps after {args.warmup} warm-up, compile backend {args.compile_backend}; "
                 f"total {document['total_wall_s']:.0f} s.")
    lines += ["", summary_table([summary_row(r) for r in ok.values()])]
    for name, r in results.items():
        if "timing" not in r:
            lines.append(f"\n- {name}: {r.get('error') or r.get('skipped')}")
    notices = sorted({n for r in ok.values() for n in r["notices"]})
    if notices:
        lines += ["", "Notices:", *[f"- {n}" for n in notices]]
    write_text(out / "profile_model.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
