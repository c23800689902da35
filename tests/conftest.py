"""Shared fixtures. ``../shared`` (beside the checkout) holds the real annotation files
and the golden cases; tests that need it skip with a clear reason when it is absent,
and fail instead of skipping when CI is set (CI always has it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("AVU_SHARED", REPO.parent / "shared"))


def _require(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing, but CI must have ../shared")
        pytest.skip(f"{path} not found: the real annotations and golden cases live in ../shared beside the checkout")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _require(SHARED)


@pytest.fixture(scope="session")
def datasets_dir(shared_dir: Path) -> Path:
    return _require(shared_dir / "datasets")


@pytest.fixture(scope="session")
def golden_dir(shared_dir: Path) -> Path:
    return _require(shared_dir / "golden")
