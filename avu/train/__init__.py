"""Training with Hydra (`python -m avu.train experiment=...`) and the small API the profiler uses.

- `example_batch(cfg, batch_size, device, task=...)`: a random batch shaped for a model config;
- `train_step(model, optimizer, batch)`: one optimisation step (bf16 autocast on CUDA);
- `avu.train.loop.run(cfg, run_dir)`: a whole run (train, checkpoint, predict, evaluate).
See docs/training.md.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from avu.train.batches import collate, example_batch, to_device


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


__all__ = ["example_batch", "train_step", "collate", "to_device"]
