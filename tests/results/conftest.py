"""Fixtures for the reference-results tests: the committed folder and editable copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from avu.results.load import ReferenceResults

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / "reference_results"

PROVENANCE = {
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "dirty": False,
    "config_hash": "c0ffee00c0ffee00",
    "data_manifest_hash": "deadbeefdeadbeef",
    "device": "cpu (test)",
    "data": "real",
}


@pytest.fixture(scope="session")
def refs() -> ReferenceResults:
    return ReferenceResults(ROOT)


@pytest.fixture
def ref_copy(tmp_path: Path) -> Path:
    """A writable copy of reference_results/, leaderboards/ and the README."""
    root = tmp_path / "reference_results"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "leaderboards", tmp_path / "leaderboards")
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    return root
