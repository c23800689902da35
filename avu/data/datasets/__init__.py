"""Torch datasets of the seven benchmarks (real data and the generated suite alike).

`build_dataset(benchmark, root, split, ...)` returns a Dataset whose items follow the data
contract (docs/synthetic.md, "Loading"); `collate` batches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avu import BENCHMARK_IDS
from avu.errors import AvuInputError

MODES = ("raw", "features")


def build_dataset(benchmark: str, root: str | Path, split: str, *, frame_size: int = 64, sample_rate: int = 16000,
                  mode: str = "raw", cache: bool = True, annotation_version: str | None = None,
                  cache_dir: str | Path | None = None, progress: bool = True, **feature_options: Any):
    """The dataset of ``benchmark``/``split`` under the data root ``root``.

    ``mode="raw"``: decoded frames (T, 3, frame_size, frame_size) and 16 kHz audio, cached after the
    first decoding (``cache``). ``mode="features"``: the official pre-extracted features
    (see `avu.data.datasets.features`; ``feature_options`` pick among them).
    """
    if benchmark not in BENCHMARK_IDS:
        raise AvuInputError(None, "benchmark", f"unknown benchmark {benchmark!r}; known: {', '.join(BENCHMARK_IDS)}")
    root = Path(root)
    if mode == "features":
        from avu.data.datasets.features import build_features_dataset

        return build_features_dataset(benchmark, root, split, annotation_version=annotation_version, **feature_options)
    if mode != "raw":
        raise AvuInputError(None, "mode", f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    if feature_options:
        raise TypeError(f"unexpected options for raw mode: {sorted(feature_options)}")
    from avu.data.datasets.base import ClipDataset
    from avu.data.datasets.raw import specs_for

    specs, refs, seconds = specs_for(benchmark, root, split, annotation_version)
    return ClipDataset(benchmark, root, split, specs, frame_size=frame_size, sample_rate=sample_rate,
                       audio_seconds=seconds, cache=cache, cache_dir=cache_dir, progress=progress, references=refs)


def collate(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors (and numbers) of equal shape; keep strings, tuples and ragged values as lists."""
    if not items:
        return {}
    out: dict[str, Any] = {}
    for key in items[0]:
        values = [it[key] for it in items]
        out[key] = _collate_values(values)
    return out


def _collate_values(values: list[Any]) -> Any:
    first = values[0]
    if isinstance(first, dict):
        return {k: _collate_values([v[k] for v in values]) for k in first}
    if isinstance(first, np.ndarray):
        values = [torch.from_numpy(np.asarray(v)) for v in values]
        first = values[0]
    if isinstance(first, torch.Tensor):
        if all(isinstance(v, torch.Tensor) and v.shape == first.shape and v.dtype == first.dtype for v in values):
            return torch.stack(values)
        return list(values)
    if isinstance(first, (bool, int, float, np.integer, np.floating)) and not isinstance(first, str):
        return torch.as_tensor(np.asarray(values))
    return list(values)
