"""``python -m avu.profile experiment=... [--steps N] [--batch-size B] [--mode train|infer]
[--compile] [--dtype bf16|fp32] [--trace DIR] [--output report.json]``

Positional ``key=value`` arguments are Hydra overrides for the model's training config
(``avu/conf``); ``--model toy`` profiles the small built-in network instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import torch

from avu.errors import EXIT_BAD_INPUT, AvuInputError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="Hydra overrides of the training config, e.g. experiment=joint model=tiny")
    parser.add_argument("--model", choices=("avu", "toy"), default="avu",
                        help="avu: the AV-Unified model from its Hydra config (default); toy: built-in small net")
    parser.add_argument("--config-name", default=None, help="primary Hydra config in avu/conf (default: config)")
    parser.add_argument("--task", default=None,
                        help="benchmark whose batch is fed to the model (default: the config's first task)")
    parser.add_argument("--steps", type=int, default=20, help="measured steps (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed warm-up steps (default 3)")
    parser.add_argument("--max-window-s", type=float, default=None,
                        help="end the measured window after this many seconds (at least 2 steps)")
    parser.add_argument("--batch-size", type=int, default=8, help="clips per step (default 8)")
    parser.add_argument("--mode", choices=("train", "infer"), default="train")
    parser.add_argument("--dtype", choices=("bf16", "fp32", "auto"), default="auto",
                        help="compute dtype (bf16 autocast or fp32); auto: bf16 on CUDA, fp32 on CPU")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--compile-backend", default="inductor", help="torch.compile backend (default inductor)")
    parser.add_argument("--device", default="auto", help="cuda, cuda:N or cpu (default: cuda if available)")
    parser.add_argument("--trace", metavar="DIR", default=None, help="also export a torch.profiler trace to DIR")
    parser.add_argument("--trace-steps", type=int, default=3, help="steps recorded in the trace (default 3)")
    parser.add_argument("--nvml-interval", type=float, default=0.1, help="NVML sampling interval, seconds")
    parser.add_argument("--no-nvml", action="store_true", help="do not sample NVML")
    parser.add_argument("--keep-samples", action="store_true", help="keep the NVML time series in the report")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", metavar="report.json", default=None,
                        help="write the JSON report here (and its markdown summary beside it, .md)")
    parser.add_argument("--markdown", metavar="summary.md", default=None, help="markdown summary path")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _check(args: argparse.Namespace) -> None:
    for name in ("steps", "batch_size", "trace_steps"):
        if getattr(args, name) < 1:
            raise AvuInputError(None, f"--{name.replace('_', '-')}", "must be >= 1")
    if args.warmup < 0:
        raise AvuInputError(None, "--warmup", "must be >= 0")
    if args.nvml_interval <= 0:
        raise AvuInputError(None, "--nvml-interval", "must be > 0")
    bad = [o for o in args.overrides if "=" not in o]
    if bad:
        raise AvuInputError(None, bad[0], "expected a Hydra override KEY=VALUE")
    if args.model == "toy" and (args.overrides or args.task):
        raise AvuInputError(None, (args.overrides or ["--task"])[0], "Hydra overrides and --task need --model avu")
    _check_outputs(args.output, args.markdown)


def _check_outputs(output: str | None, markdown: str | None) -> None:
    """The report paths must be writable: found out before minutes of profiling, not after."""
    from avu import fileio

    if output:
        fileio.check_output(output, option="--output")
    md = markdown or (Path(output).with_suffix(".md") if output else None)
    if md is None:
        return
    if output and Path(md).resolve() == Path(output).resolve():
        raise AvuInputError(md, "--markdown", "is the --output file too; give the summary another path")
    fileio.check_output(md, option="--markdown")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise AvuInputError(None, "--device", str(exc)) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise AvuInputError(None, "--device", f"{name} requested but CUDA is not available")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise AvuInputError(None, "--device", f"{name}: only {torch.cuda.device_count()} CUDA device(s) visible")
    return device


def run(args: argparse.Namespace) -> int:
    from avu.profile.profiler import profile_workload
    from avu.profile.report import render_markdown, write_report

    _check(args)
    device = resolve_device(args.device)
    dtype = args.dtype if args.dtype != "auto" else ("bf16" if device.type == "cuda" else "fp32")
    if args.model == "toy":
        from avu.profile.toy import toy_workload

        workload = toy_workload(args.mode, dtype, device, compile=args.compile,
                                compile_backend=args.compile_backend, seed=args.seed)
    else:
        from avu.profile.model_workload import model_workload

        workload = model_workload(
            args.overrides, mode=args.mode, dtype=dtype, device=device, compile=args.compile,
            compile_backend=args.compile_backend, seed=args.seed, config_name=args.config_name, task=args.task,
        )
    report = profile_workload(
        workload, batch_size=args.batch_size, steps=args.steps, warmup=args.warmup,
        nvml=not args.no_nvml, nvml_interval_s=args.nvml_interval, trace_dir=args.trace,
        trace_steps=args.trace_steps, keep_samples=args.keep_samples, progress=not args.no_progress,
        max_window_s=args.max_window_s,
    )
    if args.output:
        write_report(report, args.output, args.markdown)
    elif args.markdown:
        from avu.fileio import write_text

        write_text(args.markdown, render_markdown(report))
    print(render_markdown(report), end="")
    if args.output:
        print(f"\nreport: {args.output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from avu.cli import OneLineParser

    parser = OneLineParser(prog="python -m avu.profile", description=__doc__.split("\n\n")[-1])
    configure(parser)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        return run(args)
    except AvuInputError as exc:
        print(f"avu: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("avu: interrupted", file=sys.stderr)
        return 130
