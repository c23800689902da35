"""CPU training step of the tiny joint model: two configurations timed side by side, one run.

Run (from the checkout, after the main job built the small suite and its input cache)::

    python benchmarks/speed/train_step.py                      # today's defaults vs the previous ones
    python benchmarks/speed/train_step.py --a model.dropout=0.1 --b ""   # any two override sets

For each task it builds the cached training inputs, then alternates a step of configuration A
and a step of B (batch 16, one thread, AdamW) and takes the median per task. The joint run's
cost is the median step of each task weighted by the steps the joint schedule of seed 0 gives
it (``avu.reproduce.plan.SINGLE_TASK_STEPS_SMALL``), so the ratio answers "how much faster does
the 2,400-step main job train". CPU time of this process (``time.process_time``) is reported
beside wall time: on a shared machine it is the steadier of the two.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
#: the tiny model before the speed work (issue 11): dropout, wider encoders and mask head, per-tensor AdamW
PREVIOUS = ("model.dropout=0.1 model.audio.channels=[32,64,128] model.visual.channels=[32,64] "
            "model.mask_head.dim=64 train.fused_optimizer=false")


def build(overrides: list[str]):
    from omegaconf import OmegaConf

    from avu.conf import compose
    from avu.model import build_model
    from avu.train.loop import build_optimizer

    cfg = OmegaConf.to_container(compose(["experiment=joint", *overrides]), resolve=True)
    torch.manual_seed(0)
    model = build_model(cfg["model"])
    model.train()
    return cfg, model, build_optimizer(model, cfg["train"])


def step(model, optimizer, data, task: str, i: int, batch_size: int = 16) -> tuple[float, float]:
    index = [(i * batch_size + j) % len(data) for j in range(batch_size)]
    batch = data.batch(index, model.codec.pad)
    batch["text"] = model.text_ids(task, batch.get("questions"), len(batch["ids"]))
    wall, cpu = time.perf_counter(), time.process_time()
    loss, _ = model(batch)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", default="", help="overrides of configuration A (default: today's defaults)")
    p.add_argument("--b", default=PREVIOUS, help="overrides of configuration B (default: the previous tiny model)")
    p.add_argument("--steps", type=int, default=10, help="timed steps per task and configuration (after 2 warm-up)")
    p.add_argument("--runs", default="runs", help="paths.runs of the main job (its input cache is reused)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    from avu.reproduce.plan import SINGLE_TASK_STEPS_SMALL
    from avu.train.data import build_task_data, cache_dir_for

    sides = {}
    for name, text in (("A", args.a), ("B", args.b)):
        sides[name] = build([f"paths.runs={args.runs}", *shlex.split(text)])
    totals = {name: {"wall": 0.0, "cpu": 0.0} for name in sides}
    print(f"A: {args.a or '(defaults)'}\nB: {args.b or '(defaults)'}")
    print(f"{'task':8s} {'A ms':>8s} {'B ms':>8s}  (median wall; CPU)")
    for task, joint_steps in SINGLE_TASK_STEPS_SMALL.items():
        cfg, model, _ = sides["A"]
        data = build_task_data(task, "train", model, cfg["data"], cache_dir_for(cfg), with_targets=True, progress=False)
        times = {name: [] for name in sides}
        for i in range(args.steps + 2):
            for name, (_, m, opt) in sides.items():
                t = step(m, opt, data, task, i)
                if i >= 2:
                    times[name].append(t)
        line = f"{task:8s}"
        for name in sides:
            wall = statistics.median(t[0] for t in times[name])
            cpu = statistics.median(t[1] for t in times[name])
            totals[name]["wall"] += joint_steps * wall
            totals[name]["cpu"] += joint_steps * cpu
            line += f" {1000 * wall:8.1f} ({1000 * cpu:.1f})"
        print(line, flush=True)
    steps = sum(SINGLE_TASK_STEPS_SMALL.values())
    for name, t in totals.items():
        print(f"{name}: {steps} joint steps = {t['wall']:.0f} s wall ({steps / t['wall']:.2f} updates/s), "
              f"{t['cpu']:.0f} CPU-s")
    print(f"A is {totals['B']['wall'] / totals['A']['wall']:.2f}x faster than B (wall), "
          f"{totals['B']['cpu'] / totals['A']['cpu']:.2f}x (CPU)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
