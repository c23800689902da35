"""Shared fixtures.

The golden cases recorded from the official evaluation code, and the official annotation files
they are scored against, ship in ``tests/golden`` (see its PROVENANCE.md), so parity runs in any
clone. The full real annotation files live in the shared folder, ``../shared`` beside the
checkout or wherever ``$AVU_SHARED`` points; tests that need it skip with that reason when it is
absent, and fail instead of skipping when CI is set (CI always has it)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("AVU_SHARED", REPO.parent / "shared"))
GOLDEN = REPO / "tests" / "golden"


def _require(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing, but CI must have ../shared")
        pytest.skip(f"{path} not found: the real annotation files live in the shared folder; "
                    "put it at ../shared beside the checkout or set AVU_SHARED=/path/to/shared (README, Tests)")
    return path


# CI's python has pytest-benchmark installed: a test parametrized by an argument named `benchmark`
# collides with that plugin's fixture and stops the whole run with an INTERNALERROR. Refuse the name
# at collection, plugin present or not, so the clash cannot hide behind a clean environment.
def pytest_collection_modifyitems(items) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "benchmark" in callspec.params:
            raise pytest.UsageError(f"{item.nodeid}: the argument name 'benchmark' is pytest-benchmark's fixture; "
                                    "call it benchmark_id")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _require(SHARED)


@pytest.fixture(scope="session")
def datasets_dir(shared_dir: Path) -> Path:
    return _require(shared_dir / "datasets")


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    """The golden cases (inputs and official outputs), shipped with the tests."""
    return GOLDEN


@pytest.fixture(scope="session")
def golden_datasets_dir() -> Path:
    """The official annotation files the golden cases need (LLP, VGG-SS, MUSIC-AVQA), shipped with the tests."""
    return GOLDEN / "datasets"


@pytest.fixture(scope="session")
def tiny_suite(tmp_path_factory) -> Path:
    """The tiny generated suite (all seven benchmarks, seed 0), generated once per session."""
    from avu.data.synth.generate import generate

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
