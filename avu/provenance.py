"""Provenance recorded with every result: versions, git commit, hashes, seeds."""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

import avu


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_json(obj: Any) -> str:
    """Hash of the canonical JSON form of ``obj`` (sorted keys, no whitespace)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_lines(lines: Iterable[str]) -> str:
    """sha256 of the lines, each followed by a newline (one hash update: evaluators call it per result)."""
    text = "".join(f"{line}\n" for line in lines) if not isinstance(lines, list) else (
        "\n".join(lines) + "\n" if lines else "")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def git_commit() -> dict[str, Any]:
    """The commit of the avu checkout in use (None when not a git checkout)."""
    root = Path(avu.__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True, text=True, timeout=10, check=True,
            ).stdout.strip()
        )
        return {"commit": sha, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    return {
        "avu": avu.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": _version("numpy"),
        "torch": _version("torch"),
    }


def compute_platform(threads: int | None = None) -> str:
    """What CPU results depend on beyond the seed: architecture, the kernels torch picks for this
    CPU, library versions and the intra-op thread count (reductions split across threads round
    differently). Two runs of one seed with equal strings give identical numbers."""
    import torch

    cap = torch.backends.cpu.get_cpu_capability()
    threads = torch.get_num_threads() if threads is None else threads
    return (f"{platform.machine()} {cap} python {sys.version.split()[0]} torch {_version('torch')} "
            f"numpy {_version('numpy')} threads {threads}")


def record(**extra: Any) -> dict[str, Any]:
    """The provenance block embedded in result files."""
    return {"avu_version": avu.__version__, "git": git_commit(), "env": environment(), **extra}
