"""AVE prediction files (docs/predictions/ave.md): JSON envelope or NPZ, validated.

Payload keys (leading axis = samples, aligned with the ids):

* ``scores``        float (N, 10, 29)  per-segment class scores (28 = background) -> ``ave_argmax``
* ``labels``        int   (N, 10)      per-segment classes 0..28                  -> ``ave_argmax``
* ``is_event``      float (N, 10)      event-vs-background logits                 -> ``ave_event_gate``
* ``event_scores``  float (N, 28)      video-level event-class logits             -> ``ave_event_gate``

A file holds ``scores`` or ``labels`` (not both), and/or the pair ``is_event`` +
``event_scores``. Floats stay float32 when given as float32 (the event gate is evaluated
in the logits' precision, as the official code does); otherwise float64.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from avu.errors import AvuInputError
from avu.predictions.common import check_ids, json_envelope, load_npz, npz_ids, open_file, wrong_dtype
from avu.references import References

NUM_SEGMENTS = 10
NUM_CLASSES = 29
NUM_EVENT_CLASSES = 28

#: key -> (per-sample shape, accepted dtype kinds)
FIELDS: dict[str, tuple[tuple[int, ...], str]] = {
    "scores": ((NUM_SEGMENTS, NUM_CLASSES), "fiu"),
    "labels": ((NUM_SEGMENTS,), "iu"),
    "is_event": ((NUM_SEGMENTS,), "fiu"),
    "event_scores": ((NUM_EVENT_CLASSES,), "fiu"),
}
NPZ_META = ("ids", "benchmark")


def is_npz(path: Path) -> bool:
    return path.suffix.lower() == ".npz" or (path.suffix.lower() != ".json" and zipfile.is_zipfile(path))


def _cast(arr: np.ndarray, key: str) -> np.ndarray:
    if key == "labels":
        return arr.astype(np.int64, copy=False)
    return arr if arr.dtype == np.float32 else arr.astype(np.float64, copy=False)


def check_payload(path: Path | None, ids: Sequence[str], payload: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Validate a batch payload (keys, shapes, dtypes, finiteness, class range); one-line errors.

    Errors name the sample id where one sample is at fault. ``path`` is None for in-memory
    batches (the caller adds the file name).
    """
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise AvuInputError(path, unknown[0], f"unknown field; expected some of {', '.join(FIELDS)}")
    if "scores" in payload and "labels" in payload:
        raise AvuInputError(path, "labels", "give either 'scores' or 'labels', not both")
    if ("is_event" in payload) != ("event_scores" in payload):
        have, need = ("is_event", "event_scores") if "is_event" in payload else ("event_scores", "is_event")
        raise AvuInputError(path, need, f"field missing ('{have}' needs '{need}' for the event-gate protocol)")
    if not payload:
        raise AvuInputError(path, None, f"no prediction fields; expected some of {', '.join(FIELDS)}")
    n = len(ids)
    out = {}
    for key, value in payload.items():
        shape, kinds = FIELDS[key]
        if hasattr(value, "detach"):  # torch tensor
            value = value.detach().cpu().numpy()
        arr = np.asarray(value)
        if arr.dtype.kind not in kinds:
            want = "integers" if kinds == "iu" else "numbers"
            raise AvuInputError(path, key, wrong_dtype(arr, want))
        if arr.shape != (n, *shape):
            want = "x".join(map(str, (n, *shape)))
            raise AvuInputError(path, key, f"wrong shape {tuple(arr.shape)}, expected {want}")
        if arr.dtype.kind == "f":
            bad = ~np.isfinite(arr)
            if bad.any():
                row = int(np.argmax(bad.reshape(n, -1).any(axis=1)))
                raise AvuInputError(path, f"sample {ids[row]!r}", f"{key}: non-finite value")
        if key == "labels":
            bad = (arr < 0) | (arr >= NUM_CLASSES)
            if bad.any():
                row = int(np.argmax(bad.any(axis=1)))
                value = int(arr[row][bad[row]][0])
                raise AvuInputError(path, f"sample {ids[row]!r}", f"labels: class {value} outside 0..28")
        out[key] = _cast(arr, key)
    return out


def _json_payload(path: Path, preds: Mapping[str, Any]) -> tuple[list[str], dict[str, np.ndarray]]:
    ids = list(preds)
    keys: tuple[str, ...] | None = None
    columns: dict[str, list[np.ndarray]] = {}
    for sid in ids:
        entry = preds[sid]
        where = f"sample {sid!r}"
        if not isinstance(entry, dict):
            raise AvuInputError(path, where, f"must be an object with some of {', '.join(FIELDS)}")
        if keys is None:
            keys = tuple(sorted(entry))
            unknown = [k for k in keys if k not in FIELDS]
            if unknown:
                raise AvuInputError(path, f"{where}: {unknown[0]}", f"unknown field; expected some of {', '.join(FIELDS)}")
            columns = {k: [] for k in keys}
        elif tuple(sorted(entry)) != keys:
            raise AvuInputError(path, where, f"has fields {sorted(entry)}, the first sample has {list(keys)}")
        for k in keys:
            shape, kinds = FIELDS[k]
            try:
                arr = np.asarray(entry[k])
            except (ValueError, TypeError):
                raise AvuInputError(path, f"{where}: {k}", "not a rectangular numeric array") from None
            if arr.dtype.kind not in kinds:
                want = "integers" if kinds == "iu" else "numbers"
                raise AvuInputError(path, f"{where}: {k}", wrong_dtype(arr, want))
            if arr.shape != shape:
                want = "x".join(map(str, shape))
                raise AvuInputError(path, f"{where}: {k}", f"wrong shape {tuple(arr.shape)}, expected {want}")
            columns[k].append(arr)
    return ids, {k: np.stack(v) for k, v in columns.items()}


def read_predictions(path: str | Path, references: References) -> tuple[list[str], dict[str, np.ndarray]]:
    """(ids, payload) of an AVE prediction file, fully validated against ``references``."""
    path = open_file(path)  # refuses folders
    if is_npz(path):
        data = load_npz(path)
        ids = npz_ids(path, data, "ave")
        payload = {k: v for k, v in data.items() if k not in NPZ_META}
    else:
        preds = json_envelope(path, "ave")
        ids, payload = _json_payload(path, preds)
    check_ids(path, ids, references)
    return ids, check_payload(path, ids, payload)
