"""The tiny generated suite shared by the model and training tests (generated once per session)."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path


@functools.lru_cache(maxsize=1)
def tiny_suite_root() -> Path:
    """Generate the tiny suite (seed 0) once per test process; AVU_TINY_SUITE reuses an existing one."""
    given = os.environ.get("AVU_TINY_SUITE")
    if given:
        return Path(given)
    from avu.data.synth.generate import generate

    root = Path(tempfile.mkdtemp(prefix="avu_tiny_")) / "tiny"
    generate(root, "tiny", seed=0, workers=2, progress=False)
    return root
