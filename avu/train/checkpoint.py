"""Checkpoints: model, optimiser, schedule position and every random state, written atomically.

A run directory holds ``checkpoints/last.pt`` (the newest) and, with
``train.keep_checkpoints > 1``, older ``step<N>.pt`` files. Resuming restores the random
states of every process, so a resumed CPU run is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avu import fileio
from avu.errors import AvuInputError

LAST = "last.pt"


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(directory: Path, state: dict[str, Any], step: int, keep: int = 1) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LAST
    with fileio.atomic_path(path) as tmp:
        torch.save(state, tmp)
    if keep > 1:
        older = directory / f"step{step:07d}.pt"
        with fileio.atomic_path(older) as tmp:
            torch.save(state, tmp)
        for stale in sorted(directory.glob("step*.pt"))[:-(keep - 1)]:
            stale.unlink(missing_ok=True)
    return path


def load(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a truncated or foreign file
        raise AvuInputError(path, None, f"unreadable checkpoint ({type(exc).__name__}: {exc})") from None


def find(directory: Path) -> Path | None:
    path = directory / LAST
    return path if path.is_file() else None
