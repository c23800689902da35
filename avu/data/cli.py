"""``avu data``: generate the embedded suite (``synth``) and render a clip (``show``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from avu import BENCHMARK_IDS


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    s = sub.add_parser("synth", help="generate the audio-visual suite in the official formats")
    s.add_argument("--out", type=Path, required=True, help="suite root to write (replaced atomically)")
    s.add_argument("--size", default="small", choices=["tiny", "small", "full"])
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=None, help="processes (default: CPU count, at most 8)")
    s.add_argument("--benchmarks", nargs="+", default=None, choices=list(BENCHMARK_IDS), metavar="B",
                   help=f"subset of {', '.join(BENCHMARK_IDS)} (default: all)")
    s.add_argument("--frame-size", type=int, default=224, help="frame and mask side in pixels (default 224)")
    s.add_argument("--knob", action="append", default=[], metavar="NAME=VALUE",
                   help="difficulty knob (repeatable): noise_level, motion, p_distractor, p_offscreen, p_clutter "
                        "(docs/synthetic.md)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    w = sub.add_parser("show", help="picture of one clip: frames with boxes/masks beside its spectrogram")
    w.add_argument("--root", type=Path, required=True, help="data root (generated suite or real datasets)")
    w.add_argument("--benchmark", required=True, choices=list(BENCHMARK_IDS))
    w.add_argument("--id", default=None, help="sample id (default: the first of the split)")
    w.add_argument("--split", default="test")
    w.add_argument("--out", type=Path, required=True, help="PNG file to write")


def run(args: argparse.Namespace) -> int:
    if args.data_command == "synth":
        from avu.data.synth.generate import generate

        info = generate(args.out, args.size, args.seed, args.benchmarks, args.workers, args.frame_size,
                        knobs=parse_knobs(args.knob), progress=not args.quiet)
        counts = ", ".join(f"{b} {'/'.join(str(v) for v in c.values())}" for b, c in info["counts"].items())
        print(f"wrote {args.out} ({args.size}, seed {args.seed}) in {info['seconds']:.1f} s: "
              f"{info['n_files']} files; samples train/val/test: {counts}")
        return 0
    if args.data_command == "show":
        from avu.data.show import show

        path = show(args.root, args.benchmark, args.id, args.split, args.out)
        print(f"wrote {path}")
        return 0
    raise AssertionError(args.data_command)  # pragma: no cover


def parse_knobs(items: list[str]):
    """``NAME=VALUE`` strings -> `Knobs` (defaults for the rest); bad names or values: one-line errors."""
    import dataclasses

    from avu.data.synth.writers.common import Knobs
    from avu.errors import AvuInputError

    names = {f.name for f in dataclasses.fields(Knobs)}
    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in names:
            raise AvuInputError(None, "--knob", f"expected NAME=VALUE with NAME one of {sorted(names)}, got {item!r}")
        try:
            values[name] = float(value)
        except ValueError:
            raise AvuInputError(None, f"--knob {name}", f"not a number: {value!r}") from None
        if not 0.0 <= values[name] <= 1.0:
            raise AvuInputError(None, f"--knob {name}", f"must lie in [0, 1], got {value}")
    return Knobs(**values)
