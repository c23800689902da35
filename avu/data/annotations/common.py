"""Helpers shared by the annotation readers."""

from __future__ import annotations

import json
from pathlib import Path

from avu.errors import AvuInputError
from avu.provenance import sha256_file

#: file written at the top of a generated suite; its presence marks annotations as generated
SUITE_MARKER = "avu_suite.json"


def find_file(root: Path, *candidates: str) -> Path:
    """The first existing ``root/candidate``; an error naming every place looked at."""
    root = Path(root)
    if root.is_file():
        return root
    for rel in candidates:
        p = root / rel
        if p.is_file():
            return p
    looked = ", ".join(str(root / c) for c in candidates)
    raise AvuInputError(root, None, f"annotation file not found (looked for {looked})")


def hash_files(root: Path, paths: list[Path]) -> dict[str, str]:
    out = {}
    for p in paths:
        try:
            name = str(p.relative_to(root)) if root.is_dir() else p.name
        except ValueError:
            name = p.name
        out[name] = sha256_file(p)
    return out


def generated_suite_info(path: Path) -> dict | None:
    """The generator's metadata when ``path`` lies inside a generated suite, else None."""
    path = Path(path).resolve()
    for parent in [path, *path.parents][:4]:
        marker = parent / SUITE_MARKER
        if marker.is_file():
            return json.loads(marker.read_text())
    return None


def version_label(path: Path, requested: str) -> str:
    """Annotation version recorded in results: ``generated`` inside a generated suite."""
    return "generated" if generated_suite_info(path) is not None else requested
