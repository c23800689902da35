"""AVSBench prediction files (docs/predictions/avsbench.md): NPZ, JSON (arrays or COCO RLE) or a
folder of PNGs, validated with one-line errors.

Payloads (leading axis = samples, aligned with the ids; T = frames of the split):

* avs_s4 / avs_ms3, exactly one of
  - ``logits`` float (N, T, H, W)  pre-sigmoid model output (evaluated in float32, as officially)
  - ``probs``  float in [0, 1] or bool (N, T, H, W)  foreground probabilities / binary masks
  - ``levels`` uint8 (N, T, H, W)  8-bit probability maps, p = levels / 255 (PNG folders)
* avss: ``labels`` integer (N, 10, H, W) class indices 0..70 (padding frames included).

H x W must equal the ground truth's (224 x 224 on the real data); nothing is resized.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from avu.data.annotations.avsbench import AVSS_CLASSES, AVSS_PALETTE, AvsReferences
from avu.errors import AvuInputError
from avu.metrics.avsbench import colors_to_labels, unknown_colors
from avu.predictions.common import check_ids, json_envelope, load_npz, npz_ids, open_file, wrong_dtype

BINARY_KEYS = ("logits", "probs", "levels")
#: largest frame (pixels) an RLE or PNG may declare: far above AVSBench's 224x224, small enough that
#: a hostile header cannot allocate gigabytes before the size check against the ground truth
MAX_FRAME_PIXELS = 4096 * 4096
#: COCO string counts hold 5 bits per character; no run of a capped frame needs more than 7
MAX_RUN_CHARS = 7
SEMANTIC_KEYS = ("labels",)
_CLASS_INDEX = {name: i for i, name in enumerate(AVSS_CLASSES)}


def _where(sid: str | None, key: str, frame: int | None = None) -> str:
    parts = [f"sample {sid!r}"] if sid is not None else []
    parts.append(key if frame is None else f"{key} frame {frame}")
    return ": ".join(parts)


def _as_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor from a training loop
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def check_payload(path: Path | None, ids: Sequence[str], payload: Mapping[str, Any],
                  references: AvsReferences) -> dict[str, np.ndarray]:
    """Validate a batch payload: one known key, (N, T, H, W), dtype, NaN, value range.

    Errors name the first sample at fault. ``path`` is None for in-memory batches.
    """
    allowed = SEMANTIC_KEYS if references.semantic else BINARY_KEYS
    if not isinstance(payload, Mapping):
        raise AvuInputError(path, None, f"predictions must be a mapping with one of {', '.join(allowed)}")
    keys = [k for k in payload if k not in ("ids", "benchmark")]
    unknown = [k for k in keys if k not in allowed]
    if unknown:
        raise AvuInputError(path, unknown[0], f"unknown field for {references.benchmark}; expected one of {', '.join(allowed)}")
    if len(keys) != 1:
        what = "no prediction field" if not keys else f"several prediction fields {keys}"
        raise AvuInputError(path, None, f"{what}; give exactly one of {', '.join(allowed)}")
    key = keys[0]
    arr = _as_numpy(payload[key])
    n, frames = len(ids), references.frames
    kinds = {"logits": "f", "probs": "fb", "levels": "u", "labels": "iu"}[key]
    if arr.dtype.kind not in kinds or (key == "levels" and arr.dtype != np.uint8):
        want = {"logits": "floats", "probs": "floats in [0, 1] or bool", "levels": "uint8", "labels": "integers"}[key]
        raise AvuInputError(path, key, f"wrong dtype {arr.dtype} (expected {want})")
    if arr.ndim != 4 or arr.shape[0] != n:
        raise AvuInputError(path, key, f"wrong shape {tuple(arr.shape)}, expected {n}x{frames}xHxW")
    if arr.shape[1] != frames:
        extra = " (AVSS: 10 frames per video, padding frames of v1s/v1m included)" if references.semantic else ""
        raise AvuInputError(path, key, f"{arr.shape[1]} frames per video, expected {frames}{extra}")
    for i, sid in enumerate(ids):
        _check_sample(path, sid, key, arr[i])
    if key == "labels" and arr.dtype != np.uint8:
        arr = arr.astype(np.uint8)
    return {key: arr}


def _check_sample(path: Path | None, sid: str, key: str, a: np.ndarray) -> None:
    if key in ("logits", "probs") and a.dtype.kind == "f":
        bad = ~np.isfinite(a)
        if bad.any():
            f = int(np.argwhere(bad)[0][0])
            raise AvuInputError(path, _where(sid, key, f), "non-finite value (NaN or inf)")
        if key == "probs" and a.size and (a.min() < 0 or a.max() > 1):
            f = int(np.argwhere((a < 0) | (a > 1))[0][0])
            raise AvuInputError(path, _where(sid, key, f), "probability outside [0, 1]")
    if key == "labels" and a.size and (int(a.min()) < 0 or int(a.max()) >= len(AVSS_CLASSES)):
        f, _, _ = (int(v) for v in np.argwhere((a < 0) | (a >= len(AVSS_CLASSES)))[0])
        value = int(a[f][(a[f] < 0) | (a[f] >= len(AVSS_CLASSES))][0])
        raise AvuInputError(path, _where(sid, key, f), f"class {value} out of range 0..{len(AVSS_CLASSES) - 1}")


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------
def read_predictions(path: str | Path, references: AvsReferences) -> tuple[list[str], dict[str, np.ndarray]]:
    """(ids, payload) from an NPZ, a JSON envelope or a folder of PNGs; one-line errors."""
    path = Path(path)
    if path.is_dir():
        ids, payload = _read_png_folder(path, references)
    else:
        open_file(path)
        suffix = path.suffix.lower()
        if suffix == ".npz":
            ids, payload = _read_npz(path, references)
        elif suffix == ".json":
            ids, payload = _read_json(path, references)
        else:
            raise AvuInputError(path, None, "unknown prediction format (expected .npz, .json or a folder of PNGs)")
    check_ids(path, ids, references)
    return ids, check_payload(path, ids, payload, references)


def _read_npz(path: Path, references: AvsReferences) -> tuple[list[str], dict[str, np.ndarray]]:
    data = load_npz(path)
    ids = npz_ids(path, data, references.benchmark)
    return ids, {k: v for k, v in data.items() if k not in ("ids", "benchmark")}


def _read_json(path: Path, references: AvsReferences) -> tuple[list[str], dict[str, np.ndarray]]:
    preds = json_envelope(path, references.benchmark)
    ids = list(preds)
    check_ids(path, ids, references)
    allowed = ("labels", "masks") if references.semantic else ("logits", "probs", "masks")
    key = None
    arrays = []
    for sid, entry in preds.items():
        if not isinstance(entry, dict):
            raise AvuInputError(path, f"sample {sid!r}", f"must be an object with one of {', '.join(allowed)}")
        keys = list(entry)
        if len(keys) != 1 or keys[0] not in allowed:
            raise AvuInputError(path, f"sample {sid!r}", f"fields {keys}: give exactly one of {', '.join(allowed)}")
        if key is None:
            key = keys[0]
        elif keys[0] != key:
            raise AvuInputError(path, f"sample {sid!r}", f"field {keys[0]!r} differs from the other samples' {key!r}")
        value = entry[key]
        if key == "masks":
            arr = _decode_rle_frames(path, sid, value, references)
        else:
            try:
                arr = np.asarray(value)
            except (ValueError, TypeError):
                arr = None
            if arr is not None and arr.dtype == object:  # e.g. an integer past 64 bits
                raise AvuInputError(path, _where(sid, key), wrong_dtype(arr, "a T x H x W array of numbers"))
            if arr is None or arr.dtype.kind not in "iufb" or arr.ndim != 3:
                raise AvuInputError(path, _where(sid, key), "must be a T x H x W array of numbers")
            if key == "labels" and arr.dtype.kind == "f":
                raise AvuInputError(path, _where(sid, key), "class indices must be integers")
        if arrays and arr.shape[1:] != arrays[0].shape[1:]:
            raise AvuInputError(path, _where(sid, key),
                                f"frames are {arr.shape[1]}x{arr.shape[2]}, other samples' are {arrays[0].shape[1]}x{arrays[0].shape[2]}")
        if arr.shape[0] != references.frames:
            raise AvuInputError(path, _where(sid, key), f"{arr.shape[0]} frames, expected {references.frames}")
        arrays.append(arr)
    payload_key = key if key != "masks" else ("labels" if references.semantic else "probs")
    stacked = np.stack(arrays)
    if payload_key in ("logits", "probs") and stacked.dtype.kind in "iu":
        stacked = stacked.astype(np.float64)  # JSON has no dtype: [[0, 1]] is as good as [[0.0, 1.0]]
    return ids, {payload_key: stacked}


def _decode_rle(path: Path, where: str, rle: Any) -> np.ndarray:
    """One COCO RLE (compressed string or uncompressed list counts) -> (H, W) bool, validated."""
    from pycocotools import mask as mask_utils

    if not isinstance(rle, dict) or set(rle) != {"size", "counts"}:
        raise AvuInputError(path, where, "RLE must be an object with exactly 'size' and 'counts'")
    size = rle["size"]
    if (not isinstance(size, list) or len(size) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
        raise AvuInputError(path, where, f"RLE size must be [height, width] positive integers, got {size!r}")
    h, w = size
    if h * w > MAX_FRAME_PIXELS:
        raise AvuInputError(path, where, f"RLE size {h}x{w} is over {MAX_FRAME_PIXELS} pixels, larger than any mask frame")
    counts = rle["counts"]
    if isinstance(counts, str):
        runs = _string_runs(path, where, counts)
    elif isinstance(counts, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in counts):
        runs = counts
    else:
        raise AvuInputError(path, where, "RLE counts must be a COCO compressed string or a list of integers")
    # checked before pycocotools sees them: it overflows on a negative or huge run instead of refusing
    negative = next((i for i, r in enumerate(runs) if r < 0), None)
    if negative is not None:
        raise AvuInputError(path, where, f"bad RLE: run {negative} has negative length {runs[negative]}")
    if sum(runs) != h * w:
        raise AvuInputError(path, where, f"bad RLE: run lengths cover {sum(runs)} pixels, size {h}x{w} has {h * w}")
    if isinstance(counts, str):
        coco = {"size": [h, w], "counts": counts.encode("ascii")}
    else:
        coco = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
    with warnings.catch_warnings():  # pycocotools' decode trips numpy 2's __array__(copy=) deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode(coco).astype(bool)


def _string_runs(path: Path, where: str, counts: str) -> list[int]:
    """Run lengths of a COCO compressed RLE string (its documented LEB128-like 6-bit code)."""
    runs: list[int] = []
    pos = 0
    while pos < len(counts):
        value, shift, more = 0, 0, True
        while more:
            if pos >= len(counts):
                raise AvuInputError(path, where, "bad RLE: counts string ends in the middle of a number")
            c = ord(counts[pos]) - 48
            if not 0 <= c < 64:
                raise AvuInputError(path, where, f"bad RLE: character {counts[pos]!r} is not in the COCO alphabet")
            if shift == MAX_RUN_CHARS:  # also keeps a hostile endless number from costing quadratic time
                raise AvuInputError(path, where, "bad RLE: a run length longer than any frame")
            value |= (c & 0x1F) << (5 * shift)
            more = bool(c & 0x20)
            pos += 1
            shift += 1
            if not more and c & 0x10:
                value |= -1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


def _decode_rle_frames(path: Path, sid: str, frames: Any, references: AvsReferences) -> np.ndarray:
    if not isinstance(frames, list):
        raise AvuInputError(path, _where(sid, "masks"), "must be a list with one entry per frame")
    out = []
    for t, frame in enumerate(frames):
        where = _where(sid, "masks", t)
        if not references.semantic:
            out.append(_decode_rle(path, where, frame))
            continue
        if not isinstance(frame, dict):
            raise AvuInputError(path, where, "must map class (name or index) to an RLE mask")
        label = None
        for cls, rle in frame.items():
            c = _class_index(path, where, cls)
            m = _decode_rle(path, f"{where} class {cls!r}", rle)
            if label is None:
                label, owner = np.zeros(m.shape, np.uint8), np.full(m.shape, -1, np.int16)
            if m.shape != label.shape:
                raise AvuInputError(path, f"{where} class {cls!r}", "RLE size differs from the frame's other masks")
            clash = m & (owner >= 0)
            if clash.any():
                raise AvuInputError(path, f"{where} class {cls!r}", f"overlaps class {AVSS_CLASSES[int(owner[clash][0])]!r}")
            label[m] = c
            owner[m] = c
        if label is None:
            raise AvuInputError(path, where, "no masks in the frame (give at least the background's)")
        out.append(label)
    if not out:
        raise AvuInputError(path, _where(sid, "masks"), "no frames")
    shapes = {m.shape for m in out}
    if len(shapes) != 1:
        raise AvuInputError(path, _where(sid, "masks"), f"frames have different sizes {sorted(shapes)}")
    return np.stack(out)


def _class_index(path: Path, where: str, cls: str) -> int:
    if cls in _CLASS_INDEX:
        return _CLASS_INDEX[cls]
    # ASCII decimals only: "²" passes str.isdigit() and "٣" int(), and neither is an index
    if cls.isascii() and cls.isdigit() and len(cls) <= 3 and int(cls) < len(AVSS_CLASSES):
        return int(cls)
    raise AvuInputError(path, f"{where} class {cls!r}", f"unknown class (a name of label2idx.json or an index 0..{len(AVSS_CLASSES) - 1})")


# ---------------------------------------------------------------------------------------------
# PNG folders
# ---------------------------------------------------------------------------------------------
def _video_dirs(root: Path, references: AvsReferences) -> list[tuple[str, Path]]:
    """(id, folder) of every video: ``root/<id>`` or, for S4, ``root/<category>/<id>``."""
    categories = set(references.categories.values())
    found: list[tuple[str, Path]] = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if d.name in references:
            found.append((d.name, d))
        elif d.name in categories:
            found.extend((v.name, v) for v in sorted(p for p in d.iterdir() if p.is_dir()))
        else:
            raise AvuInputError(d, f"sample {d.name!r}", f"unknown id for {references.benchmark}/{references.split}")
    if not found:
        raise AvuInputError(root, None, "no video folders (expected <folder>/<video id>/<k>.png)")
    return found


def _frame_files(folder: Path, sid: str, frames: int) -> list[Path]:
    pngs = {p.name for p in folder.iterdir() if p.suffix.lower() == ".png"}
    chosen = []
    for k in range(frames):
        for name in (f"{k}.png", f"{sid}_{k}.png"):
            if name in pngs:
                chosen.append(folder / name)
                break
        else:
            raise AvuInputError(folder / f"{k}.png", f"sample {sid!r}",
                                f"frame {k} missing (expected {frames} frames named 0.png..{frames - 1}.png)")
    extra = sorted(pngs - {p.name for p in chosen})
    if extra:
        raise AvuInputError(folder / extra[0], f"sample {sid!r}",
                            f"unexpected file: expected exactly {frames} frames named 0.png..{frames - 1}.png")
    return chosen


def _open_png(path: Path, where: str):
    """A decoded PNG, its size checked from the header first (no decompression bombs)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # PIL's bomb warning becomes our error, not a stderr line
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
        w, h = img.size
        if w * h > MAX_FRAME_PIXELS:
            img.close()
            raise AvuInputError(path, where, f"PNG of {w}x{h} pixels is over {MAX_FRAME_PIXELS}, larger than any "
                                "mask frame; refused before decoding")
        img.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise AvuInputError(path, where, f"PNG refused before decoding: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise AvuInputError(path, where, f"unreadable PNG ({type(exc).__name__}: {exc})") from None
    return img


def _load_png(path: Path, sid: str, semantic: bool) -> np.ndarray:
    where = f"sample {sid!r}"
    img = _open_png(path, where)
    if not semantic:
        if img.mode not in ("1", "L", "P"):
            raise AvuInputError(path, where, f"PNG mode {img.mode}: expected an 8-bit grayscale (L), palette or 1-bit mask")
        return np.asarray(img.convert("L"), dtype=np.uint8)
    if img.mode in ("L", "P"):
        labels = np.asarray(img, dtype=np.uint8)
        if labels.size and int(labels.max()) >= len(AVSS_CLASSES):
            raise AvuInputError(path, where, f"class {int(labels.max())} out of range 0..{len(AVSS_CLASSES) - 1}")
        return labels
    if img.mode == "RGB":
        rgb = np.asarray(img)
        unknown = unknown_colors(rgb, AVSS_PALETTE)
        if unknown.any():
            y, x = (int(v) for v in np.argwhere(unknown)[0])
            raise AvuInputError(path, where, f"colour {tuple(int(c) for c in rgb[y, x])} at pixel ({y}, {x}) is not an AVSS palette colour")
        return colors_to_labels(rgb, AVSS_PALETTE)
    raise AvuInputError(path, where, f"PNG mode {img.mode}: expected indexed (P or L, value = class) or RGB palette colours")


def _read_png_folder(root: Path, references: AvsReferences) -> tuple[list[str], dict[str, np.ndarray]]:
    from tqdm import tqdm

    videos = _video_dirs(root, references)
    ids = [sid for sid, _ in videos]
    check_ids(root, ids, references)
    arrays = []
    for sid, folder in tqdm(videos, desc="reading PNGs", unit="video", disable=None, leave=False):
        files = _frame_files(folder, sid, references.frames)
        frames = [_load_png(p, sid, references.semantic) for p in files]
        for p, f in zip(files, frames):
            ref = arrays[0].shape[1:] if arrays else frames[0].shape
            if f.shape != ref:
                raise AvuInputError(p, f"sample {sid!r}", f"PNG is {f.shape[0]}x{f.shape[1]}, other frames are {ref[0]}x{ref[1]}")
        arrays.append(np.stack(frames))
    key = "labels" if references.semantic else "levels"
    return ids, {key: np.stack(arrays)}
