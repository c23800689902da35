"""One optimisation step (the profiler's and the tests' unit of training)."""

from __future__ import annotations

from typing import Any, Mapping

import torch


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Mapping[str, Any], *,
               amp: bool | None = None, grad_clip: float = 1.0, step_fn: Any = None) -> torch.Tensor:
    """Forward, backward and optimizer step on one batch; returns the (detached) loss.

    ``amp`` None: bf16 autocast on CUDA only. ``step_fn``: what computes the loss (e.g. a
    ``torch.compile``d model); default the model itself (its forward is ``training_loss``).
    """
    device_type = "cuda" if next(model.parameters()).is_cuda else "cpu"
    amp = device_type == "cuda" if amp is None else amp
    fn = model if step_fn is None else step_fn  # a compiled module has no truth value
    with torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=amp):
        loss, _ = fn(batch)
    loss.backward()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.detach()
