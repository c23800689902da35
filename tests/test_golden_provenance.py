"""The golden cases shipped in tests/golden are the recorded ones: each file is in PROVENANCE.md with its hash."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.conftest import GOLDEN

ROW = re.compile(r"^\| `([^`]+)` \| `([^`]+)` \| (\d+) \| `([0-9a-f]{64})` \|$")


def _table() -> dict[str, tuple[str, int, str]]:
    rows = {}
    for line in (GOLDEN / "PROVENANCE.md").read_text().splitlines():
        m = ROW.match(line)
        if m:
            rows[m[1]] = (m[2], int(m[3]), m[4])
    return rows


def _shipped() -> list[str]:
    # the notes written here (PROVENANCE.md, the per-dataset SOURCES.md) are not copies
    return sorted(
        p.relative_to(GOLDEN).as_posix()
        for p in GOLDEN.rglob("*")
        if p.is_file() and p.name != "PROVENANCE.md" and not (p.name == "SOURCES.md" and p.parts[-3] == "datasets")
    )


def test_every_shipped_file_is_listed_with_its_hash() -> None:
    table = _table()
    assert sorted(table) == _shipped()
    for rel, (_, size, sha) in table.items():
        data = (GOLDEN / rel).read_bytes()
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha, rel


def test_every_golden_folder_has_its_readme_and_every_dataset_its_sources() -> None:
    for folder in ("ave", "avvp", "vggss", "avsbench", "music_avqa"):
        assert (GOLDEN / folder / "README.md").is_file(), folder
    for folder in (GOLDEN / "datasets").iterdir():
        sources = (folder / "SOURCES.md").read_text()
        for path in folder.rglob("*"):
            if path.is_file() and path.name != "SOURCES.md":
                assert f"| `{path.relative_to(folder).as_posix()}` |" in sources, path


def test_copies_equal_the_shared_originals(shared_dir: Path) -> None:
    for rel, (origin, _, sha) in _table().items():
        original = shared_dir / origin.removeprefix("shared/")
        if not original.is_file():
            pytest.fail(f"{original} (origin of tests/golden/{rel}) is gone from ../shared")
        assert hashlib.sha256(original.read_bytes()).hexdigest() == sha, rel
