"""Where the reference results, leaderboards and README that avu reads at run time live.

In order: ``$AVU_REFERENCE_RESULTS`` (reference results only); the source checkout avu is
imported from (``reference_results/``, ``leaderboards/``, ``README.md`` beside ``avu/``); the
copies a wheel carries in ``avu/_bundled/`` (``setup.py`` puts them there). Nothing else:
in particular never ``../shared``.
"""

from __future__ import annotations

import os
from pathlib import Path

import avu

PACKAGE = Path(avu.__file__).resolve().parent
BUNDLED = PACKAGE / "_bundled"


def checkout_root() -> Path | None:
    """The source checkout holding ``avu/`` (None for an installed wheel)."""
    root = PACKAGE.parent
    return root if (root / "pyproject.toml").is_file() and (root / "reference_results").is_dir() else None


def repo_root() -> Path:
    """The folder holding ``reference_results/``, ``leaderboards/`` and ``README.md``: the checkout, else the wheel's copies."""
    return checkout_root() or BUNDLED


def default_root() -> Path:
    """``$AVU_REFERENCE_RESULTS``, else ``reference_results/`` of :func:`repo_root`."""
    env = os.environ.get("AVU_REFERENCE_RESULTS")
    if env:
        return Path(env)
    return repo_root() / "reference_results"
