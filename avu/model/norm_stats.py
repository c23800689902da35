"""Per-task BatchNorm statistics (``model.task_norm_stats``).

The encoders and the mask head normalise with BatchNorm. In training a layer normalises each
batch by that batch's own statistics, and one task per step means those are one task's; but the
running statistics used at evaluation are a blend of every task's frames and sounds. Measured on
the joint checkpoints (docs/design.md section 2), scoring a task with statistics recomputed on
its own training clips lifted five of the seven benchmarks, and S4 trained beside MUSIC-AVQA from
52.9 to 69.6 mIoU. So, when enabled, each BatchNorm layer keeps one row of statistics per task,
computed once after training from the evaluated weights over ``clips`` training clips spread over
that task's split (normalising each calibration batch by its own statistics, as training did), and
a prediction of a listed task (``tasks``) uses its task's row. Training itself is unchanged, so the
setting is not part of a checkpoint's identity: a finished run can get its rows computed later.
"""

from __future__ import annotations

import contextlib
from typing import Iterable, Iterator

import torch
from torch import nn

from avu import BENCHMARK_IDS


def batch_norms(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


def add_task_rows(model: nn.Module) -> None:
    """One row of mean / variance per benchmark id in every BatchNorm layer, not yet computed."""
    k = len(BENCHMARK_IDS)
    for m in batch_norms(model):
        c = m.num_features
        m.register_buffer("task_mean", torch.zeros(k, c))
        m.register_buffer("task_var", torch.ones(k, c))
        m.register_buffer("task_ready", torch.zeros(k, dtype=torch.bool))


ROW_BUFFERS = ("task_mean", "task_var", "task_ready")


def load_weights(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """``load_state_dict`` that lets the per-task rows be absent on either side: they are computed
    after training, so the weights of a run trained with the setting off (or on) resume into a model
    with it on (or off); rows not in ``state`` stay to be computed. Any other mismatch raises."""
    result = model.load_state_dict(state, strict=False)
    other = [k for k in (*result.missing_keys, *result.unexpected_keys) if k.rsplit(".", 1)[-1] not in ROW_BUFFERS]
    if other:
        model.load_state_dict(state)  # raises torch's own message naming them


def ready(model: nn.Module, task: str) -> bool:
    i = BENCHMARK_IDS.index(task)
    norms = [m for m in batch_norms(model) if hasattr(m, "task_ready")]
    return bool(norms) and all(bool(m.task_ready[i]) for m in norms)


@contextlib.contextmanager
def task_statistics(model: nn.Module, task: str) -> Iterator[None]:
    """Within the block, BatchNorm layers evaluate with ``task``'s rows (when computed)."""
    if not ready(model, task):
        yield
        return
    i = BENCHMARK_IDS.index(task)
    saved = []
    for m in batch_norms(model):
        saved.append((m, m._buffers["running_mean"], m._buffers["running_var"]))
        m._buffers["running_mean"], m._buffers["running_var"] = m.task_mean[i], m.task_var[i]
    try:
        yield
    finally:
        for m, mean, var in saved:
            m._buffers["running_mean"], m._buffers["running_var"] = mean, var


@torch.no_grad()
def calibrate(model: nn.Module, task: str, forward, batches: Iterable) -> None:
    """Compute ``task``'s rows: ``forward(batch)`` runs the layers on each batch with batch
    statistics, accumulated as an equal-weight average over the batches (BatchNorm's
    ``momentum=None``); the shared running statistics and the layers' modes are restored."""
    i = BENCHMARK_IDS.index(task)
    norms = batch_norms(model)
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone(), m.momentum, m.training)
             for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    seen = 0
    try:
        for batch in batches:
            forward(batch)
            seen += 1
        for m, (mean, var, *_rest) in zip(norms, saved):
            reached = seen > 0 and int(m.num_batches_tracked) > 0
            # a layer the task's path never reaches (the mask head for AVE) keeps the shared statistics
            m.task_mean[i] = m.running_mean if reached else mean
            m.task_var[i] = m.running_var if reached else var
            m.task_ready[i] = True
    finally:
        for m, (mean, var, count, momentum, training) in zip(norms, saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(count)
            m.momentum = momentum
            m.train(training)
