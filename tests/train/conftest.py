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
    from hydra import compose, initialize_config_module

    def make(*overrides: str, hydra_config: bool = False):
        with initialize_config_module(config_module="avu.conf", version_base="1.3"):
            return compose("config", overrides=list(overrides), return_hydra_config=hydra_config)

    return make
