"""Shared checks for prediction files; every failure is a one-line `AvuInputError`.

JSON files use the envelope ``{"benchmark": ID, "predictions": {sample_id: payload}}``;
NPZ files hold an ``ids`` string array, payload arrays with a leading sample axis and,
optionally, a scalar ``benchmark`` string.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from avu.errors import AvuInputError
# the strict readers, shared with the annotation loaders; the prediction readers take them from here
from avu.fileio import load_json, open_file
from avu.references import References


#: deflate expands at most ~1032:1; an NPZ member declaring more is corrupt or a bomb
MAX_DEFLATE_RATIO = 1032


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    path = open_file(path)
    if not zipfile.is_zipfile(path):  # np.load would report a misleading "pickled data" error
        raise AvuInputError(path, None, "not a .npz archive (no zip header)")
    try:
        with zipfile.ZipFile(path) as archive:
            _check_members(path, archive)
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise AvuInputError(path, None, f"not a readable .npz archive ({type(exc).__name__}: {exc})") from None
    except MemoryError:
        raise AvuInputError(path, None, "arrays too large to load into memory") from None
    except ValueError as exc:
        raise AvuInputError(path, None, f"unreadable .npz content: {exc}") from None


def _check_members(path: Path, archive: zipfile.ZipFile) -> None:
    """Every member a .npy array whose header agrees with its size, before numpy allocates it.

    numpy sizes its buffer from the header's shape alone, so a few hostile bytes claiming
    10^12 elements would end in a MemoryError (or the OOM killer) instead of an error line.
    """
    seen: set[str] = set()
    for info in archive.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if not info.filename.endswith(".npy"):
            raise AvuInputError(path, name, "not a .npy array (an .npz holds .npy members only)")
        if name in seen:
            raise AvuInputError(path, name, "array appears twice in the archive")
        seen.add(name)
        ratio = 1 if info.compress_type == zipfile.ZIP_STORED else MAX_DEFLATE_RATIO
        if info.file_size > info.compress_size * ratio + 1024:
            raise AvuInputError(path, name, f"declares {info.file_size} bytes from {info.compress_size} "
                                "compressed, more than deflate can hold: a corrupt or hostile archive")
        with archive.open(info) as fp:
            major, _ = np.lib.format.read_magic(fp)
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, _, dtype = read_header(fp)
            data_bytes = info.file_size - fp.tell()
        if dtype.hasobject:
            raise AvuInputError(path, name, f"object array ({dtype}): pickled data is never loaded")
        declared = math.prod(shape) * dtype.itemsize
        if declared > data_bytes:
            raise AvuInputError(path, name, f"header declares shape {shape} ({declared} bytes) but the "
                                f"archive holds {max(data_bytes, 0)} bytes of data")


def check_benchmark(path: Path, declared: Any, benchmark: str) -> None:
    """Reject a file that says it holds another benchmark's predictions."""
    if declared is None:
        return
    if isinstance(declared, np.ndarray):
        declared = declared.item() if declared.shape == () else None
    if not isinstance(declared, str):
        raise AvuInputError(path, "benchmark", "must be a string")
    if declared != benchmark:
        raise AvuInputError(path, "benchmark", f"file holds {declared!r} predictions, not {benchmark!r}")


def json_envelope(path: str | Path, benchmark: str) -> dict[str, Any]:
    """The ``predictions`` mapping of a JSON prediction file, after the envelope checks."""
    path = Path(path)
    obj = load_json(path)
    if not isinstance(obj, dict):
        raise AvuInputError(path, None, "top level must be an object with a 'predictions' field")
    check_benchmark(path, obj.get("benchmark"), benchmark)
    preds = obj.get("predictions")
    if preds is None:
        raise AvuInputError(path, "predictions", "field missing")
    if not isinstance(preds, dict):
        raise AvuInputError(path, "predictions", "must be an object mapping sample id to prediction")
    if not preds:
        raise AvuInputError(path, "predictions", "no predictions")
    return preds


def npz_ids(path: Path, data: dict[str, np.ndarray], benchmark: str) -> list[str]:
    check_benchmark(path, data.get("benchmark"), benchmark)
    if "ids" not in data:
        raise AvuInputError(path, "ids", "array missing")
    ids = data["ids"]
    if ids.ndim != 1 or ids.dtype.kind not in "UO":
        raise AvuInputError(path, "ids", f"must be a 1-D string array, got {ids.dtype} with shape {ids.shape}")
    if len(ids) == 0:
        raise AvuInputError(path, "ids", "no predictions")
    return [str(i) for i in ids]


def check_ids(path: Path, ids: Sequence[str], references: References) -> None:
    """Unknown and duplicated ids are errors (missing ones are the evaluator's call)."""
    seen: set[str] = set()
    for sid in ids:
        if sid not in references:
            raise AvuInputError(path, f"sample {sid!r}", f"unknown id for {references.benchmark}/{references.split}")
        if sid in seen:
            raise AvuInputError(path, f"sample {sid!r}", "appears twice")
        seen.add(sid)


def numeric_array(
    path: Path,
    where: str,
    value: Any,
    shape: Sequence[int | None],
    kinds: str = "fiub",
    finite: bool = True,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Convert ``value`` to an array of ``shape`` (None = any size) with checks."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise AvuInputError(path, where, "not a rectangular numeric array") from None
    if arr.dtype.kind not in kinds:
        raise AvuInputError(path, where, wrong_dtype(arr, "numbers"))
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        want = "x".join("N" if s is None else str(s) for s in shape)
        raise AvuInputError(path, where, f"wrong shape {tuple(arr.shape)}, expected {want}")
    arr = arr.astype(dtype, copy=False)
    if finite and arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise AvuInputError(path, where, f"non-finite value at index {tuple(int(i) for i in bad)}")
    return arr


def wrong_dtype(arr: np.ndarray, want: str) -> str:
    """The reason for a dtype error; JSON integers past 64 bits (numpy keeps them as Python
    objects) are named as such rather than as "dtype object"."""
    if arr.dtype == object:
        big = next((v for v in arr.flat if isinstance(v, int) and not isinstance(v, bool)), None)
        if big is not None:
            return f"integer {big} is out of the 64-bit range (expected {want})"
    return f"wrong dtype {arr.dtype} (expected {want})"


def first_bad_row(mask: np.ndarray) -> int:
    """Index of the first sample (axis 0) where ``mask`` is True anywhere."""
    flat = mask.reshape(mask.shape[0], -1).any(axis=1)
    return int(np.argmax(flat))


def ensure_strings(path: Path, where: str, values: Iterable[Any]) -> list[str]:
    out = []
    for v in values:
        if not isinstance(v, str):
            raise AvuInputError(path, where, f"expected a string, got {type(v).__name__}")
        out.append(v)
    return out
