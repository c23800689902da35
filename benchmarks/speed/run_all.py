"""Evaluator speed: each fast evaluator vs a straightforward re-expression of the official loops.

Run: ``python benchmarks/speed/run_all.py [--only ave llp ...] [--quick] [--output speed.json]``.
Each ``benchmarks/speed/<name>.py`` exposes ``run(seed=0) -> list[dict]`` with keys
name, n, fast_s, oracle_s, ratio (and optionally target, the speed-up that row is held to;
default `TARGET_RATIO`). Both sides run in this one process, on the same random full-size
test split, so the ratio is measured in one run. ``--quick`` is passed on to the modules whose
``run`` takes it (a subset, one repeat).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
from pathlib import Path

from tabulate import tabulate

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MODULES = ("ave", "llp", "vggss", "avsbench", "avqa")
TARGET_RATIO = 20.0


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"avu_speed_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(MODULES), choices=MODULES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--quick", action="store_true", help="a subset, one repeat (modules whose run() takes quick)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))  # the oracles live in tests/oracles
    rows = []
    for name in args.only:
        run = _load(name).run
        quick = {"quick": True} if args.quick and "quick" in inspect.signature(run).parameters else {}
        rows.extend(run(seed=args.seed, **quick))
    for r in rows:
        r.setdefault("target", TARGET_RATIO)
    table = [[r["name"], r["n"], f"{r['fast_s']:.4f}", f"{r['oracle_s']:.3f}", f"{r['ratio']:.1f}x",
              "ok" if r["ratio"] >= r["target"] else f"BELOW {r['target']:.0f}x"] for r in rows]
    print(tabulate(table, headers=["evaluator", "samples", "fast (s)", "oracle (s)", "speed-up", "target"],
                   tablefmt="github"))
    if args.output:
        from avu import fileio

        fileio.write_json(args.output, rows)
    return 0 if all(r["ratio"] >= r["target"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
