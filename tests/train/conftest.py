"""Fixtures of the training tests: the tiny suite and composed configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.train.suite import tiny_suite_root


@pytest.fixture(scope="session")
def tiny_root() -> Path:
    return tiny_suite_root()


@pytest.fixture
def compose_cfg():
    """compose(overrides) -> the config Hydra would give `python -m avu.train`."""
    from avu.conf import compose

    def make(*overrides: str, hydra_config: bool = False):
        return compose(overrides, return_hydra_config=hydra_config)

    return make
