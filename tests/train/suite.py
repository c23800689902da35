"""The tiny generated suite shared by the model and training tests (generated once per session)."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path


@functools.lru_cache(maxsize=1)
def tiny_suite_root() -> Path:
    """Generate the tiny suite (seed 0) once per test process; AVU_TINY_SUITE reuses an existing one."""
    given = os.environ.get("AVU_TINY_SUITE")
    if given:
        return Path(given)
    from avu.data.synth.generate import generate

    base = Path(tempfile.mkdtemp(prefix="avu_tiny_"))
    # 120 MB per test session: left behind, they filled the development machine's disk
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    root = base / "tiny"
    generate(root, "tiny", seed=0, workers=2, progress=False)
    return root
