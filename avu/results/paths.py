"""Where reference results live."""

from __future__ import annotations

import os
from pathlib import Path

import avu


def default_root() -> Path:
    """``$AVU_REFERENCE_RESULTS`` or ``reference_results/`` of the checkout avu is imported from."""
    env = os.environ.get("AVU_REFERENCE_RESULTS")
    if env:
        return Path(env)
    return Path(avu.__file__).resolve().parent.parent / "reference_results"


def repo_root() -> Path:
    """The checkout that holds ``avu/`` (README.md and leaderboards/ live here)."""
    return Path(avu.__file__).resolve().parent.parent
