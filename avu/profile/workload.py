"""What the profiler runs: one step of a model on one batch, plus eager twins for counting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from avu.model.layers import count_parameters

MODES = ("train", "infer")
DTYPES = ("bf16", "fp32")


@dataclass
class Workload:
    """A step function and how to feed it.

    ``step`` is what gets timed: a full training step (forward, backward, optimizer
    update) in train mode, a forward pass under ``torch.no_grad`` in infer mode; it may be
    compiled. ``forward`` and ``flop_step`` are the *eager* forward pass and eager full
    step, used only to count FLOPs (``flop_step`` defaults to ``step``). ``clips`` says
    how many clips a batch holds (default: its batch size).
    """

    name: str
    mode: str
    dtype: str
    device: torch.device
    make_batch: Callable[[int], Any]
    step: Callable[[Any], Any]
    forward: Callable[[Any], Any]
    flop_step: Callable[[Any], Any] | None = None
    clips: Callable[[Any], int] | None = None
    compiled: bool = False
    #: the resolved configuration (hashed into the report's provenance)
    config: dict[str, Any] | None = None
    #: anything else worth recording (parameter count, experiment name, ...)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")


def autocast_context(device: torch.device, dtype: str) -> Any:
    """bf16 autocast on the workload's device; a no-op context for fp32."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=(dtype == "bf16"))


def parameter_counts(module: torch.nn.Module) -> dict[str, int]:
    """The workload's ``info`` entries on its model's size."""
    return {"parameters": count_parameters(module), "trainable_parameters": count_parameters(module, trainable_only=True)}
