"""Fixtures of the model and codec tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.train.suite import tiny_suite_root


@pytest.fixture(scope="session")
def tiny_root() -> Path:
    return tiny_suite_root()


@pytest.fixture(scope="session")
def codec():
    from avu.codec import build_codec

    return build_codec()


@pytest.fixture
def model_cfg():
    """The tiny model configuration (composed), with optional overrides."""
    from avu.conf import compose

    def make(*overrides: str):
        return compose(overrides)

    return make
