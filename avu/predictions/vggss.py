"""VGG-SS prediction files (docs/predictions/vggss.md): JSON envelope or NPZ, validated.

Payload: ``{"heatmaps": float32 (N, h, w)}``, raw localisation heatmaps (higher = more
likely sounding), any ``h, w >= 2``, the same size for every sample of a file; the
protocol upsamples them to 224x224. Values are evaluated in float32, as the official
pipelines evaluate model outputs (float64 input is rounded to float32 once).

* JSON: ``{"benchmark": "vggss", "predictions": {"<file id>": {"heatmaps": [[...], ...]}}}``
  (``"heatmap"`` is accepted as an alias of the per-sample key).
* NPZ: ``ids`` (N,) strings, ``heatmaps`` (N, h, w) numbers, optional scalar ``benchmark``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from avu.errors import AvuInputError
from avu.predictions.common import check_ids, json_envelope, load_npz, npz_ids, open_file, wrong_dtype
from avu.references import References

BENCHMARK = "vggss"
FIELD = "heatmaps"
#: accepted spellings of the per-sample key in JSON files
JSON_KEYS = ("heatmaps", "heatmap")
NPZ_META = ("ids", "benchmark")
#: smallest accepted heatmap side (interpolation needs two samples per axis)
MIN_SIDE = 2


def is_npz(path: Path) -> bool:
    return path.suffix.lower() == ".npz" or (path.suffix.lower() != ".json" and zipfile.is_zipfile(path))


def _first_bad(values: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first non-finite value, None when all are finite."""
    if values.dtype.kind != "f":
        return None
    bad = ~np.isfinite(values)
    return tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else None


def _as_float32(path: Path | None, where: str, arr: np.ndarray) -> np.ndarray:
    """One map cast to float32, rejecting NaN/inf and values float32 cannot hold."""
    bad = _first_bad(arr)
    if bad is not None:
        raise AvuInputError(path, where, f"non-finite value at index {bad}")
    with np.errstate(over="ignore"):
        out = arr.astype(np.float32)
    bad = _first_bad(out)
    if bad is not None:
        raise AvuInputError(path, where, f"value at index {bad} overflows float32")
    return out


def _check_kind(path: Path | None, where: str, arr: np.ndarray) -> None:
    if arr.dtype.kind not in "fiu":
        raise AvuInputError(path, where, wrong_dtype(arr, "numbers"))


def check_payload(path: Path | None, ids: Sequence[str], payload: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Validate a batch payload ``{"heatmaps": (n, h, w)}``; float32 copy or view. One-line errors."""
    given, out = payload_arrays(path, ids, payload)
    check_finite(path, ids, given, out)
    return {FIELD: out}


def payload_arrays(path: Path | None, ids: Sequence[str], payload: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """`check_payload` without the scan for NaN/inf: (the heatmaps as given, their float32 copy or view).

    The caller runs `check_finite` on every part before using it (the evaluator does, chunk by
    chunk, just before scoring it: one read of the maps instead of two).
    """
    unknown = sorted(set(payload) - {FIELD})
    if unknown:
        raise AvuInputError(path, unknown[0], f"unknown field; expected '{FIELD}'")
    if FIELD not in payload:
        raise AvuInputError(path, FIELD, "field missing")
    value = payload[FIELD]
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise AvuInputError(path, FIELD, "not a rectangular numeric array") from None
    _check_kind(path, FIELD, arr)
    n = len(ids)
    if arr.ndim != 3 or arr.shape[0] != n:
        raise AvuInputError(path, FIELD, f"wrong shape {tuple(arr.shape)}, expected {n}xHxW")
    if min(arr.shape[1:]) < MIN_SIDE:
        raise AvuInputError(path, FIELD, f"heatmaps of {arr.shape[1]}x{arr.shape[2]} pixels; each side needs >= {MIN_SIDE}")
    with np.errstate(over="ignore"):
        out = arr.astype(np.float32, copy=False)
    return arr, out


def check_finite(path: Path | None, ids: Sequence[str], given: np.ndarray, out: np.ndarray) -> None:
    """One-line error naming the first sample whose map has NaN/inf, or a value float32 cannot hold.

    ``given``: the maps as given; ``out``: their float32 copy (`payload_arrays`); ``ids`` theirs.
    """
    with np.errstate(over="ignore"):
        # one pass without a temporary (NaN and inf reach the sum; a sum that overflows looks again)
        suspect = out.size and not np.isfinite(np.add.reduce(out.reshape(-1)))
    if suspect and not np.isfinite(out).all():  # NaN/inf given, or too large for float32: name the sample
        row = int(np.argmax(~np.isfinite(out).reshape(len(out), -1).all(axis=1)))
        _as_float32(path, f"sample {ids[row]!r}: {FIELD}", given[row])


def _json_payload(path: Path, preds: Mapping[str, Any]) -> tuple[list[str], dict[str, np.ndarray]]:
    ids = list(preds)
    maps: list[np.ndarray] = []
    first_shape: tuple[int, ...] | None = None
    for sid in ids:
        entry = preds[sid]
        where = f"sample {sid!r}"
        if not isinstance(entry, dict):
            raise AvuInputError(path, where, f"must be an object with a '{FIELD}' field")
        keys = [k for k in JSON_KEYS if k in entry]
        unknown = sorted(set(entry) - set(JSON_KEYS))
        if unknown:
            raise AvuInputError(path, f"{where}: {unknown[0]}", f"unknown field; expected '{FIELD}'")
        if len(keys) != 1:
            reason = "field missing" if not keys else "give 'heatmaps' or 'heatmap', not both"
            raise AvuInputError(path, f"{where}: {FIELD}", reason)
        field_where = f"{where}: {keys[0]}"
        try:
            arr = np.asarray(entry[keys[0]])
        except (ValueError, TypeError):
            raise AvuInputError(path, field_where, "not a rectangular numeric array") from None
        _check_kind(path, field_where, arr)
        if arr.ndim != 2:
            raise AvuInputError(path, field_where, f"wrong shape {tuple(arr.shape)}, expected a 2-D HxW map")
        if min(arr.shape) < MIN_SIDE:
            raise AvuInputError(path, field_where,
                                f"heatmap of {arr.shape[0]}x{arr.shape[1]} pixels; each side needs >= {MIN_SIDE}")
        if first_shape is None:
            first_shape = arr.shape
        elif arr.shape != first_shape:
            raise AvuInputError(path, field_where, f"size {arr.shape[0]}x{arr.shape[1]} differs from "
                                f"{first_shape[0]}x{first_shape[1]} of sample {ids[0]!r}; one size per file")
        maps.append(_as_float32(path, field_where, arr))
    return ids, {FIELD: np.stack(maps)}


def read_predictions(path: str | Path, references: References) -> tuple[list[str], dict[str, np.ndarray]]:
    """(ids, payload) of a VGG-SS prediction file, fully validated against ``references``."""
    path = open_file(path)
    if is_npz(path):
        data = load_npz(path)
        ids = npz_ids(path, data, BENCHMARK)
        payload = {k: v for k, v in data.items() if k not in NPZ_META}
        check_ids(path, ids, references)
        return ids, check_payload(path, ids, payload)
    preds = json_envelope(path, BENCHMARK)
    check_ids(path, list(preds), references)
    return _json_payload(path, preds)
