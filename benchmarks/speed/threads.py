"""One vs two intra-op threads for the CPU training step, per OpenMP wait policy, idle or beside a busy process.

Run (from the checkout, after the main job built the small suite and its input cache)::

    python benchmarks/speed/threads.py            # both wait policies, machine as it is
    python benchmarks/speed/threads.py --busy     # the same beside one busy process (`while True: pass`)

The wait policy is read by OpenMP when torch loads, so each policy runs in its own process. In
that process two copies of the tiny joint model (same initial weights) take the same batches,
one step at 1 thread and one at 2 threads in turn, for every task; the median step of each task
is weighted by the steps the main job gives it (``avu.reproduce.plan.SINGLE_TASK_STEPS_SMALL``).
It also says whether the two copies still hold bit-identical weights: they do not, because
reductions split over threads round differently, which is why the thread count is part of a
run's recorded platform (docs/training.md, "Threads on a shared machine").
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POLICIES = {"active": {"OMP_WAIT_POLICY": "ACTIVE"}, "passive": {"OMP_WAIT_POLICY": "PASSIVE"}}


def measure(steps: int, runs: str) -> None:
    """Child process: alternate 1- and 2-thread steps; print one summary line."""
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from train_step import build, step

    from avu.reproduce.plan import SINGLE_TASK_STEPS_SMALL
    from avu.train.data import build_task_data, cache_dir_for

    torch.set_flush_denormal(True)
    cfg, one, opt_one = build([f"paths.runs={runs}"])
    _, two, opt_two = build([f"paths.runs={runs}"])
    total = {1: 0.0, 2: 0.0}
    for task, joint_steps in SINGLE_TASK_STEPS_SMALL.items():
        data = build_task_data(task, "train", one, cfg["data"], cache_dir_for(cfg), with_targets=True, progress=False)
        times: dict[int, list[float]] = {1: [], 2: []}
        for i in range(steps + 1):
            for threads, model, opt in ((1, one, opt_one), (2, two, opt_two)):
                torch.set_num_threads(threads)
                wall, _ = step(model, opt, data, task, i)
                if i:  # the first step of each task warms up
                    times[threads].append(wall)
        for threads in total:
            total[threads] += joint_steps * statistics.median(times[threads])
    same = all(torch.equal(a, b) for a, b in zip(one.state_dict().values(), two.state_dict().values()))
    print(f"{total[1]:.0f} {total[2]:.0f} {same}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--busy", action="store_true", help="run beside one busy process on another core")
    p.add_argument("--steps", type=int, default=4, help="timed steps per task and thread count")
    p.add_argument("--runs", default="runs", help="paths.runs of the main job (its input cache is reused)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        measure(args.steps, args.runs)
        return 0
    competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        print(f"{'wait policy':12s} {'1 thread':>10s} {'2 threads':>10s} {'speed-up':>9s}  "
              f"(s per 2,400-step main job, {'beside a busy process' if args.busy else 'machine as it is'})")
        for name, env in POLICIES.items():
            out = subprocess.run([sys.executable, __file__, "--child", "--steps", str(args.steps), "--runs", args.runs],
                                 env={**os.environ, **env}, capture_output=True, text=True, check=True, cwd=REPO)
            one, two, same = out.stdout.split()[-3:]
            print(f"{name:12s} {float(one):10.0f} {float(two):10.0f} {float(one) / float(two):8.2f}x"
                  f"  weights identical: {same}", flush=True)
    finally:
        if competitor is not None:
            competitor.kill()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
