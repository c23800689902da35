"""Ground truth of one split, as the evaluators see it.

Each benchmark's annotation reader (``avu.data.annotations.<benchmark>``) returns a
subclass of `References`: the canonical sample ids in official order, the annotation
version, the files read (with sha256), and benchmark-specific arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from avu.provenance import sha256_json, sha256_lines


@dataclass
class References:
    benchmark: str
    split: str
    #: canonical sample ids, in the official evaluation order
    ids: list[str]
    #: e.g. "official", "json_update", "2024-04-fix", "generated"
    annotation_version: str
    #: annotation files read: relative name -> sha256
    files: dict[str, str] = field(default_factory=dict)
    #: where the files were read from
    root: Path | None = None

    def __post_init__(self) -> None:
        self._index = {sid: i for i, sid in enumerate(self.ids)}
        if len(self._index) != len(self.ids):
            raise ValueError(f"{self.benchmark}/{self.split}: duplicate sample ids in references")

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, sample_id: str) -> int:
        return self._index[sample_id]

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self._index

    def unknown(self, sample_ids: Iterable[str]) -> list[str]:
        """The ids that are not in this split, in iteration order (set speed when all are known)."""
        as_set = sample_ids if isinstance(sample_ids, (set, frozenset)) else None
        if as_set is None:
            sample_ids = list(sample_ids)  # keeps the order; generators welcome
            as_set = set(sample_ids)
        if self._index.keys() >= as_set:
            return []
        return [sid for sid in sample_ids if sid not in self._index]

    @property
    def ids_hash(self) -> str:
        return sha256_lines(self.ids)

    @property
    def manifest_hash(self) -> str:
        """Identity of this split: ids, annotation version and annotation file hashes."""
        return sha256_json(
            {
                "benchmark": self.benchmark,
                "split": self.split,
                "annotation_version": self.annotation_version,
                "ids": self.ids_hash,
                "files": self.files,
            }
        )

    def describe(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "split": self.split,
            "annotation_version": self.annotation_version,
            "count": len(self.ids),
            "ids_sha256": self.ids_hash,
            "files": dict(self.files),
            "manifest_hash": self.manifest_hash,
        }
