"""Training with Hydra (`python -m avu.train experiment=...`) and the small API the profiler uses.

- `example_batch(cfg, batch_size, device, task=...)`: a random batch shaped for a model config;
- `train_step(model, optimizer, batch)`: one optimisation step (bf16 autocast on CUDA);
- `avu.train.loop.run(cfg, run_dir)`: a whole run (train, checkpoint, predict, evaluate).
See docs/training.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from avu.train.batches import collate, example_batch, to_device
    from avu.train.step import train_step

# Imported on first use: ``python -m avu.train`` loads this package before its ``__main__``, which
# must choose the OpenMP wait policy before torch (hence OpenMP) is loaded (avu.threads).
_LAZY = {"collate": "avu.train.batches", "example_batch": "avu.train.batches", "to_device": "avu.train.batches",
         "train_step": "avu.train.step"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'avu.train' has no attribute {name!r}")


__all__ = ["example_batch", "train_step", "collate", "to_device"]
