"""The training run: data, model, schedule, optimisation, checkpoints, evaluation, results.

`run(cfg, run_dir)` is what ``python -m avu.train`` calls (and what tests call with a
composed config). Under torchrun every process runs it; rank 0 writes files.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from avu import fileio, provenance
from avu.errors import AvuInputError
from avu.model import build_model, count_parameters, norm_stats
from avu.threads import wait_policy
from avu.train import checkpoint as ckpt
from avu.train import distributed as D
from avu.train.batches import to_device
from avu.train.data import build_task_data, cache_dir_for, suite_fingerprint
from avu.train.predict import evaluate_task, model_batch
from avu.train.sampler import Schedule, check_sizes, rank_slice, task_probabilities

RESULTS = "results.json"
#: fault injection for the crash/resume tests: SIGKILL this process right after that step
KILL_AT_STEP_ENV = "AVU_TRAIN_SIGKILL_AT_STEP"
#: config sections that define the trained weights (a checkpoint only resumes the same ones)
IDENTITY_KEYS = ("model", "data", "tasks", "seed")
IDENTITY_TRAIN_KEYS = ("batch_size", "steps", "lr", "min_lr_ratio", "weight_decay", "warmup_steps", "grad_clip", "amp",
                       "ema_decay", "fused_optimizer")


def _container(cfg: Any) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)


#: model settings that act after training only: a finished run can be re-evaluated with other
#: decoding, and its per-task BatchNorm statistics computed (again) from its weights
AFTER_TRAINING_KEYS = ("decode", "task_norm_stats")


def config_identity(cfg: Mapping[str, Any], after_training: tuple[str, ...] = AFTER_TRAINING_KEYS) -> str:
    c = _container(cfg)
    ident = {k: c.get(k) for k in IDENTITY_KEYS}
    ident["model"] = {k: v for k, v in (ident["model"] or {}).items() if k not in after_training}
    ident["data"] = {k: v for k, v in (ident["data"] or {}).items() if k not in ("generate", "eval_split")}
    ident["train"] = {k: c["train"].get(k) for k in IDENTITY_TRAIN_KEYS}
    return provenance.sha256_json(ident)


def identity_matches(cfg: Mapping[str, Any], identity: Any) -> bool:
    """Whether a checkpoint's recorded ``identity`` is ``cfg``'s; checkpoints written while
    ``task_norm_stats`` still counted as training (it was in the identity) are accepted too."""
    return identity in (config_identity(cfg), config_identity(cfg, after_training=("decode",)))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def ensure_data(data_cfg: Mapping[str, Any], info: D.DistInfo, tasks: list[str]) -> Path:
    """The data root; the generated suite is generated there first when missing."""
    from avu.benchmarks import dataset_dir

    from avu.data.synth.generate import generate, stale_reason

    root = Path(data_cfg["root"])
    missing = [t for t in tasks if not dataset_dir(root, t).exists()]
    gen = data_cfg["generate"]
    stale = stale_reason(root) if gen["enabled"] else None  # an older generated suite is rebuilt
    if (missing or stale) and info.main:
        if not gen["enabled"]:
            raise AvuInputError(dataset_dir(root, missing[0]), None,
                                f"no {missing[0]} dataset under the data root (data.root={root})")
        why = f" again ({stale})" if stale else ""
        print(f"avu.train: generating the {gen['size']} suite at {root}{why}", flush=True)
        generate(root, size=str(gen["size"]), seed=int(gen["seed"]))
    D.barrier(info)
    return root


def lr_factor(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warm-up, then cosine decay to ``min_ratio`` of the peak."""
    if step < warmup:
        return (step + 1) / max(warmup, 1)
    progress = (step - warmup) / max(total - warmup, 1)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def build_optimizer(model: torch.nn.Module, tcfg: Mapping[str, Any]) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (decay if p.dim() >= 2 and "embed" not in name else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": float(tcfg["weight_decay"])}, {"params": no_decay, "weight_decay": 0.0}]
    # fused: one kernel over all parameters instead of a loop over tensors (19 ms -> 3.5 ms a
    # step for the tiny model on one CPU thread; docs/design.md)
    return torch.optim.AdamW(groups, lr=float(tcfg["lr"]), betas=(0.9, 0.98), fused=bool(tcfg["fused_optimizer"]))


def build_weight_average(model: torch.nn.Module, decay: float) -> torch.optim.swa_utils.AveragedModel | None:
    """Exponential moving average of the weights and buffers (``train.ema_decay``; 0: none).

    One task per step makes the last weights a noisy sample (each task's heads move only on
    its own steps); the average is what is evaluated and what ``avu predict`` loads. The decay
    warms up as ``min(decay, (1 + n) / (10 + n))`` after n updates, so a short run (a
    single-task run of a few hundred steps) is not an average dominated by its initial weights."""
    if not decay:
        return None
    from torch.optim.swa_utils import AveragedModel

    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n: torch.Tensor) -> None:
        if not averaged[0].is_floating_point():  # counters (BatchNorm's num_batches_tracked)
            torch._foreach_copy_(averaged, current)
            return
        d = min(decay, (1 + float(n)) / (10 + float(n)))
        torch._foreach_lerp_(averaged, current, 1 - d)

    return AveragedModel(model, multi_avg_fn=update, use_buffers=True)


def clip_or_normalise(model: torch.nn.Module, norm: float, mode: str) -> None:
    """``clip``: cap the gradient's global norm at ``norm``; ``normalise``: rescale every
    step's gradient to exactly that norm. One task per step, so normalising gives every task
    the same step size whatever its loss scale (mask losses would otherwise dominate the
    shared encoders' Adam statistics and starve the token tasks)."""
    params = [p for p in model.parameters() if p.grad is not None]
    if mode == "clip":
        torch.nn.utils.clip_grad_norm_(params, norm)
        return
    if mode != "normalise":
        raise ValueError(f"train.grad_mode must be clip|normalise, got {mode!r}")
    total = torch.nn.utils.clip_grad_norm_(params, float("inf"))
    scale = norm / (total + 1e-6)
    for p in params:
        p.grad.mul_(scale)


class _StopFlag:
    """SIGTERM/SIGINT request a checkpoint at the next step boundary, then a clean exit."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "_StopFlag":
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum, frame) -> None:
        self.requested = True

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _amp_enabled(tcfg: Mapping[str, Any], device: torch.device) -> bool:
    amp = str(tcfg["amp"])
    if amp == "auto":
        return device.type == "cuda"
    return amp == "bf16"


def run(cfg: Mapping[str, Any], run_dir: str | Path) -> dict[str, Any]:
    """Train (or resume), evaluate, write results; returns the results document."""
    tcfg = cfg["train"]
    run_dir = Path(run_dir)
    info = D.setup(str(tcfg["device"]), str(tcfg["backend"]))
    try:
        return _run(cfg, tcfg, run_dir, info)
    finally:
        D.cleanup()


def _run(cfg: Mapping[str, Any], tcfg: Mapping[str, Any], run_dir: Path, info: D.DistInfo) -> dict[str, Any]:
    t_start = time.perf_counter()
    if tcfg["threads"]:
        torch.set_num_threads(int(tcfg["threads"]))
    if tcfg["deterministic"]:
        torch.use_deterministic_algorithms(True, warn_only=True)
    seed = int(cfg["seed"])
    tasks = list(cfg["tasks"])
    progress = bool(tcfg["progress"]) and info.main
    root = ensure_data(cfg["data"], info, tasks)

    seed_everything(seed)  # identical initial weights on every process
    model = build_model(cfg["model"]).to(info.device)
    if info.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        fileio.write_text(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(_container(cfg))))
    cache = cache_dir_for(cfg)
    t_data = time.perf_counter()
    train_data = {t: build_task_data(t, cfg["data"]["train_split"], model, cfg["data"], cache, with_targets=True,
                                     progress=progress, rank=info.rank, world=info.world) for t in tasks}
    sizes = {t: len(d) for t, d in train_data.items()}
    check_sizes(sizes, tasks)
    data_seconds = time.perf_counter() - t_data

    steps, batch_size = int(tcfg["steps"]), int(tcfg["batch_size"])
    sampling = cfg["data"]["sampling"]
    probs = task_probabilities(sizes, str(sampling["mode"]), float(sampling["temperature"]),
                               {t: float(cfg["tasks"][t]["weight"]) for t in tasks})
    schedule = Schedule(sizes, probs, steps, batch_size, seed)
    loss_weight = {t: float(cfg["tasks"][t]["loss_weight"]) for t in tasks}

    optimizer = build_optimizer(model, tcfg)
    ema = build_weight_average(model, float(tcfg["ema_decay"]))
    warmup, min_ratio = int(tcfg["warmup_steps"]), float(tcfg["min_lr_ratio"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, warmup, steps, min_ratio))
    identity = config_identity(cfg)
    ckpt_dir = run_dir / "checkpoints"
    start = 0
    running_state: dict[str, float] = {}
    seed_everything(seed * 1000 + info.rank)  # per-process randomness (dropout)
    found = ckpt.find(ckpt_dir) if str(tcfg["resume"]) == "auto" else None
    if found is not None:
        state = ckpt.load(found)
        if not identity_matches(cfg, state.get("identity")):
            raise AvuInputError(found, "identity", "checkpoint was written by a different configuration "
                                "(use another run directory or train.resume=never)")
        norm_stats.load_weights(model, state["model"])
        if ema is not None:
            norm_stats.load_weights(ema.module, state["ema"])
            ema.n_averaged.fill_(int(state["ema_count"]))
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start = int(state["step"])
        running_state = state.get("running") or {}
        rngs = state.get("rng") or []
        if len(rngs) == info.world:
            ckpt.set_rng_state(rngs[info.rank])
        if info.main:
            print(f"avu.train: resumed from {found} at step {start}/{steps}", flush=True)

    amp = _amp_enabled(tcfg, info.device)
    compiled = torch.compile(model) if tcfg["compile"] else model
    log_path = run_dir / "train_log.jsonl"
    every, keep = int(tcfg["checkpoint_every"]), int(tcfg["keep_checkpoints"])
    grad_clip = float(tcfg["grad_clip"])
    grad_mode = str(tcfg["grad_mode"])
    log_every = int(tcfg["log_every"])

    def save(step: int) -> None:
        rngs = D.all_gather_object(ckpt.rng_state(), info)
        if info.main:
            ckpt.save(ckpt_dir, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                 "scheduler": scheduler.state_dict(), "step": step, "rng": rngs,
                                 "running": {k: float(v) for k, v in running.items()},
                                 "identity": identity, "config": _container(cfg),
                                 "codec": model.codec.describe(),
                                 **({} if ema is None else {"ema": ema.module.state_dict(),
                                                            "ema_count": int(ema.n_averaged)})}, step, keep)
        D.barrier(info)

    t_train = time.perf_counter()
    step = start
    stopped = False
    bar = tqdm(total=steps, initial=start, desc="train", unit="step", disable=not progress, dynamic_ncols=True)
    # the running loss averages continue across a resume, and the log keeps each step once:
    # lines a killed run wrote after its last checkpoint are dropped
    running: dict[str, torch.Tensor] = {k: torch.tensor(v, dtype=torch.float32) for k, v in running_state.items()}
    if info.main:
        _truncate_log(log_path, start)
    model.train()
    with _StopFlag() as stop:
        while step < steps:
            task, index = schedule.step(step)
            batch = train_data[task].batch(rank_slice(index, info.rank, info.world), model.codec.pad)
            batch["text"] = model.text_ids(task, batch.get("questions"), len(batch["ids"]))
            batch = to_device(batch, info.device)
            with torch.autocast(device_type=info.device.type, dtype=torch.bfloat16, enabled=amp):
                loss, parts = compiled(batch)
            (loss * loss_weight[task]).backward()
            D.average_gradients(model, info)
            if grad_clip > 0:
                clip_or_normalise(model, grad_clip, grad_mode)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if ema is not None:
                ema.update_parameters(model)
            step += 1
            for k, v in parts.items():  # tensors: converted to floats only when logged
                key = f"{task}/{k}"
                running[key] = v if key not in running else 0.9 * running[key] + 0.1 * v
            bar.update()
            if progress and step % 10 == 0:
                bar.set_postfix(task=task, loss=f"{float(loss.detach()):.3f}")
            if info.main and (step % log_every == 0 or step == steps):
                line = {"step": step, "lr": scheduler.get_last_lr()[0], "elapsed_s": round(time.perf_counter() - t_train, 2),
                        **{k: round(float(v), 5) for k, v in sorted(running.items())}}
                with open(log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(line) + "\n")
            if os.environ.get(KILL_AT_STEP_ENV) == str(step):
                os.kill(os.getpid(), signal.SIGKILL)
            stop_now = D.broadcast_object(stop.requested, info) if info.active else stop.requested
            if (every and step % every == 0) or step == steps or stop_now:
                save(step)
            if stop_now and step < steps:
                stopped = True
                break
    bar.close()
    train_seconds = time.perf_counter() - t_train
    if stopped:
        if info.main:
            print(f"avu.train: stopped at step {step}/{steps}; checkpoint saved, rerun the same command to resume",
                  flush=True)
        return {"stopped_at": step}

    evaluated = model if ema is None else ema.module
    own_rows = [t for t in tasks if t in evaluated.task_norm_tasks]
    if own_rows:  # computed again on a resumed finished run too: its clip count may have changed
        clips = int(cfg["model"]["task_norm_stats"]["clips"])
        for t in own_rows:  # every process computes the same rows from the same clips
            evaluated.calibrate_norm_stats(t, calibration_batches(evaluated, train_data[t], clips, batch_size, info.device))
        save(steps)  # the checkpoint `avu predict` loads carries them
    results = evaluate_all(evaluated, cfg, tasks, root, run_dir, info, amp, progress)
    doc = {
        "run": {"name": cfg["run_name"], "experiment": cfg["experiment_name"],
                "ablation": cfg["ablation_name"], "tasks": tasks, "seed": seed, "steps": steps,
                "resumed_from_step": start or None, "world_size": info.world, "device": str(info.device),
                "parameters": count_parameters(model), "task_probabilities": probs,
                "steps_per_task": schedule.counts(),
                "seconds": {"data": round(data_seconds, 2), "train": round(train_seconds, 2),
                            "total": round(time.perf_counter() - t_start, 2)}},
        "results": results,
        "provenance": provenance.record(
            seed=seed, config=_container(cfg), config_identity=identity,
            data={"root": str(root), "fingerprint": suite_fingerprint(root),
                  "manifest_hashes": {t: r["manifest_hash"] for t, r in results.items()}},
            torch_threads=torch.get_num_threads(), omp_wait_policy=wait_policy(),
            platform=provenance.compute_platform() if info.device.type == "cpu" else str(info.device)),
    }
    if info.main:
        fileio.write_json(run_dir / RESULTS, doc)
    return doc


def _truncate_log(path: Path, start: int) -> None:
    """Keep only the lines of steps <= ``start`` (atomic rewrite; nothing to do on a fresh run)."""
    if not path.is_file():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [ln for ln in lines if ln.strip() and json.loads(ln).get("step", 0) <= start]
    if len(kept) != len(lines):
        fileio.write_text(path, "".join(kept))


def calibration_indices(n: int, clips: int) -> list[int]:
    """``clips`` of a split's ``n`` clips, spread evenly over it: the splits come grouped (AVE's by
    category, MUSIC-AVQA's questions by video: its first 128 cover 17 of 200 training videos), so
    the first ones would give one corner's statistics."""
    k = min(n, max(int(clips), 1))
    return [i * n // k for i in range(k)]


def calibration_batches(model: torch.nn.Module, data: Any, clips: int, batch_size: int, device: torch.device):
    """``clips`` training clips of a task (``calibration_indices``) in batches, as prediction feeds them."""
    chosen = calibration_indices(len(data), clips)
    for start in range(0, len(chosen), batch_size):
        yield model_batch(model, data, chosen[start:start + batch_size], device)


def evaluate_all(model: torch.nn.Module, cfg: Mapping[str, Any], tasks: list[str], root: Path, run_dir: Path,
                 info: D.DistInfo, amp: bool, progress: bool) -> dict[str, Any]:
    """Evaluate every task on its evaluation split; results keyed by benchmark."""
    tcfg = cfg["train"]
    if not tcfg["evaluate"]:
        return {}
    # every process must predict with the same weights and normalisation statistics
    for buf in model.buffers():
        if info.active:
            torch.distributed.broadcast(buf, src=0)
    model.eval()
    split = str(cfg["data"]["eval_split"])
    cache = cache_dir_for(cfg)
    out = {}
    for task in tasks:
        data = build_task_data(task, split, model, cfg["data"], cache, with_targets=False, progress=progress,
                               rank=info.rank, world=info.world)
        out[task] = evaluate_task(model, data, root, run_dir, info, int(tcfg["eval_batch_size"]), amp=amp,
                                  write=bool(tcfg["write_predictions"]), progress=progress)
    return out


__all__ = ["run", "evaluate_all", "config_identity", "lr_factor", "RESULTS"]
