"""Fixtures of the data tests. ``tiny_suite``: the tiny generated suite (all seven benchmarks,
seed 0), generated once per test session (a few seconds) and shared read-only by every test;
copy it (``suite_copy``) before damaging it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from avu.data.synth.generate import generate


@pytest.fixture(scope="session")
def tiny_suite(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("avu_suite") / "tiny"
    generate(root, "tiny", seed=0, workers=2, progress=False)
    return root


@pytest.fixture
def suite_copy(tiny_suite: Path, tmp_path: Path):
    """A private copy of one dataset folder of the tiny suite (plus its marker), to damage freely."""

    def copy(folder: str) -> Path:
        root = tmp_path / "suite"
        root.mkdir(exist_ok=True)
        shutil.copy2(tiny_suite / "avu_suite.json", root / "avu_suite.json")
        shutil.copytree(tiny_suite / folder, root / folder, ignore=shutil.ignore_patterns(".avu_cache"))
        return root

    return copy
