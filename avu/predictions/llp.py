"""LLP prediction files -> ``(ids, payload)`` for `avu.evaluators.llp.LlpEvaluator`.

Two payloads (docs/predictions/llp.md):

* probabilities (the model outputs the official ``eval()`` takes; post-processed by the protocol):
  ``global_prob`` ``(N, 25)`` video-level and ``frame_prob`` ``(N, 10, 2, 25)`` segment-level,
  ``[:, :, 0]`` audio and ``[:, :, 1]`` visual, every value in [0, 1];
* already-binarised segment decisions (for methods with their own post-processing):
  ``audio`` and ``visual`` ``(N, 10, 25)`` segment x class, every value 0 or 1; used as the
  official ``Pa`` / ``Pv`` directly (no gate, no threshold), AV = audio AND visual.

Files: JSON envelope ``{"benchmark": "llp", "predictions": {filename: {key: nested lists}}}``
or NPZ with ``ids`` and the same keys stacked on a leading sample axis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avu.errors import AvuInputError
from avu.predictions.common import (
    check_ids,
    first_bad_row,
    json_envelope,
    load_npz,
    npz_ids,
    numeric_array,
    open_file,
)
from avu.references import References

BENCHMARK = "llp"
PROBABILITY_KEYS = ("global_prob", "frame_prob")
BINARY_KEYS = ("audio", "visual")
#: per-sample shape of every payload key
SAMPLE_SHAPES = {"global_prob": (25,), "frame_prob": (10, 2, 25), "audio": (10, 25), "visual": (10, 25)}
#: NPZ entries that are not payload
NPZ_META = ("ids", "benchmark")


def payload_kind(path: Path, keys: set[str], where: str | None = None) -> tuple[str, ...]:
    """The payload keys of one of the two formats; an error for mixed, missing or unknown keys."""
    unknown = sorted(keys - set(SAMPLE_SHAPES))
    if unknown:
        raise AvuInputError(path, _join(where, unknown[0]),
                            f"unexpected field (LLP takes {' + '.join(PROBABILITY_KEYS)} or {' + '.join(BINARY_KEYS)})")
    has_prob, has_binary = keys & set(PROBABILITY_KEYS), keys & set(BINARY_KEYS)
    if has_prob and has_binary:
        raise AvuInputError(path, where, f"mixes probability fields {sorted(has_prob)} with binary fields {sorted(has_binary)}")
    chosen = BINARY_KEYS if has_binary else PROBABILITY_KEYS
    for key in chosen:
        if key not in keys:
            raise AvuInputError(path, _join(where, key), "field missing")
    return chosen


def _join(where: str | None, key: str) -> str:
    return f"{where}: {key}" if where else key


def _check_values(path: Path, ids: list[str], key: str, arr: np.ndarray) -> np.ndarray:
    """Finite values in [0, 1] (probabilities) or exactly 0/1 (binary), naming the first bad sample."""
    if not np.isfinite(arr).all():
        i = first_bad_row(~np.isfinite(arr))
        raise AvuInputError(path, f"sample {ids[i]!r}: {key}", "non-finite value (NaN or infinity)")
    if key in BINARY_KEYS:
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            i = first_bad_row(bad)
            value = arr[i][bad[i]].flat[0]
            raise AvuInputError(path, f"sample {ids[i]!r}: {key}", f"value {value:g} is not 0 or 1")
        return arr.astype(bool)
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        i = first_bad_row(bad)
        value = arr[i][bad[i]].flat[0]
        raise AvuInputError(path, f"sample {ids[i]!r}: {key}", f"probability {value:g} outside [0, 1]")
    return arr


def _from_json(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    preds = json_envelope(path, BENCHMARK)
    ids = list(preds)
    kind: tuple[str, ...] | None = None
    columns: dict[str, list[np.ndarray]] = {}
    for sid, sample in preds.items():
        where = f"sample {sid!r}"
        if not isinstance(sample, dict):
            raise AvuInputError(path, where, "must be an object with " + " and ".join(PROBABILITY_KEYS))
        sample_kind = payload_kind(path, set(sample), where)
        if kind is None:
            kind = sample_kind
        elif sample_kind != kind:
            raise AvuInputError(path, where, f"uses fields {list(sample_kind)} while earlier samples use {list(kind)}")
        for key in kind:
            # finiteness and range are checked below on the stacked array, naming the sample
            columns.setdefault(key, []).append(
                numeric_array(path, f"{where}: {key}", sample[key], SAMPLE_SHAPES[key], finite=False)
            )
    assert kind is not None  # json_envelope rejects an empty mapping
    return ids, {key: np.stack(columns[key]) for key in kind}


def _from_npz(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    data = load_npz(path)
    ids = npz_ids(path, data, BENCHMARK)
    kind = payload_kind(path, set(data) - set(NPZ_META))
    payload = {
        key: numeric_array(path, key, data[key], (len(ids), *SAMPLE_SHAPES[key]), finite=False) for key in kind
    }
    return ids, payload


def read_predictions(path: str | Path, references: References) -> tuple[list[str], dict[str, Any]]:
    """Read, check and convert an LLP prediction file (JSON envelope or NPZ) into a batch payload.

    Returns ids (file order) and ``{"global_prob": float64 (N,25), "frame_prob": float64
    (N,10,2,25)}`` or ``{"audio": bool (N,10,25), "visual": bool (N,10,25)}``. Unknown or
    duplicated ids, wrong shapes or dtypes, NaN and out-of-range values raise `AvuInputError`.
    """
    path = Path(path)
    if getattr(references, "gt_audio", True) is None:  # say so before complaining about ids
        raise AvuInputError(references.root, "--split",
                            f"LLP split {references.split!r} has weak labels only; dense scores need 'val' or 'test'")
    open_file(path)
    if path.suffix.lower() == ".npz":
        ids, payload = _from_npz(path)
    else:
        ids, payload = _from_json(path)
    check_ids(path, ids, references)
    return ids, {key: _check_values(path, ids, key, arr) for key, arr in payload.items()}
