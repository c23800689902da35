"""AVSBench ground truth (S4, MS3, AVSS) read from the official on-disk layout.

Layout (OpenNLPLab/AVSBench @ f7414aff, ``avs_scripts/*/config.py`` and ``dataloader.py``):

* S4: ``Single-source/s4_meta_data.csv`` (columns name, start, category, split; the official code
  reads column 0 = name, column 2 = category and the ``split`` column), masks
  ``Single-source/s4_data/gt_masks/<split>/<category>/<name>/<name>_<k>.png``, k = 1..5
  (train: only k = 1). Read as PIL mode ``'1'`` -> {0, 1}.
* MS3: ``Multi-sources/ms3_meta_data.csv`` (column 0 = name, ``split``), masks
  ``Multi-sources/ms3_data/gt_masks/<split>/<name>/<name>_<k>.png``, k = 1..5. Read as PIL mode
  ``'P'``; the official ToTensor gives index / 255, so a mask must hold only 0 and 255.
* AVSS: ``metadata.csv`` (columns ``uid``, ``label`` = v1s / v1m / v2, ``split``) with colour masks
  ``<label>/<uid>/labels_rgb/<k>.png``, k = 0..n-1 (n = 5 for v1s/v1m, 10 for v2 outside train),
  resized to 224x224 with NEAREST (train: short side to 224 + centre crop), converted to class
  indices by exact match against the 71-colour palette (unknown colours -> 0), padded with
  all-background frames to 10 frames, as the official dataloader does.

Sample id = video ``name`` (S4 / MS3) or ``uid`` (AVSS); ids keep the CSV order (the official
evaluation order). Masks are decoded lazily, per sample (`AvsReferences.masks`), into uint8 arrays.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from avu.data.annotations.common import find_file, version_label
from avu.errors import AvuInputError
from avu.metrics.avsbench import avss_palette, colors_to_labels
from avu.provenance import sha256_file
from avu.references import References

ANNOTATION_VERSIONS = ("official",)
S4_CSV = "Single-source/s4_meta_data.csv"
MS3_CSV = "Multi-sources/ms3_meta_data.csv"
#: where ``metadata.csv`` of AVSS may sit in the avsbench folder (the official config uses avs_released/)
AVSS_CSV = ("metadata.csv", "AVSBench-semantic/metadata.csv", "avs_released/metadata.csv")
S4_FRAMES = 5
AVSS_FRAMES = 10
AVSS_SIZE = 224
AVSS_SUBSETS = {"v1s": 5, "v1m": 5, "v2": 10}

_CLASSES_FILE = Path(__file__).with_name("avss_classes.json")
#: the 71 AVSS class names; index k = k-th key of the official label2idx.json (0 = background)
AVSS_CLASSES: tuple[str, ...] = tuple(json.loads(_CLASSES_FILE.read_text())["classes"])
AVSS_PALETTE = avss_palette(len(AVSS_CLASSES))

#: decoders of one ground-truth PNG: (path, sample id, split) -> 2-D uint8 array
Decoder = Callable[[Path, str, str], np.ndarray]


def _open_png(path: Path, sample_id: str):
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise AvuInputError(path, f"sample {sample_id!r}", "ground-truth mask not found")
    try:
        img = Image.open(path)
        img.load()
        return img
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise AvuInputError(path, f"sample {sample_id!r}", f"unreadable PNG ({type(exc).__name__}: {exc})") from None


def decode_s4_mask(path: Path, sample_id: str, split: str = "test") -> np.ndarray:
    """S4 mask: PIL ``convert('1')`` as the official loader does -> {0, 1} uint8."""
    return np.asarray(_open_png(path, sample_id).convert("1"), dtype=np.uint8)


def decode_ms3_mask(path: Path, sample_id: str, split: str = "test") -> np.ndarray:
    """MS3 mask: PIL ``convert('P')``; the official ToTensor divides by 255, so only 0 and 255
    give a binary target. Anything else is refused rather than scored as a fractional target."""
    values = np.asarray(_open_png(path, sample_id).convert("P"))
    if not np.isin(values, (0, 255)).all():
        bad = sorted(set(np.unique(values).tolist()) - {0, 255})[:5]
        raise AvuInputError(path, f"sample {sample_id!r}",
                            f"mask is not binary after the official 'P' conversion (values {bad} besides 0/255)")
    return (values == 255).astype(np.uint8)


def _resize_avss(img, split: str, size: int = AVSS_SIZE):
    """Official AVSS geometry: val/test resized to size x size (NEAREST); train short side to
    ``size`` then centre crop."""
    from PIL import Image

    if split != "train":
        return img.resize((size, size), Image.NEAREST)
    w, h = img.size
    if w > h:
        oh, ow = size, int(1.0 * w * size / h)
    else:
        ow, oh = size, int(1.0 * h * size / w)
    img = img.resize((ow, oh), Image.NEAREST)
    x1, y1 = int(round((ow - size) / 2.0)), int(round((oh - size) / 2.0))
    return img.crop((x1, y1, x1 + size, y1 + size))


def decode_avss_mask(path: Path, sample_id: str, split: str = "test") -> np.ndarray:
    """AVSS colour mask -> class indices 0..70 (RGB, official resize, exact palette match)."""
    img = _resize_avss(_open_png(path, sample_id).convert("RGB"), split)
    return colors_to_labels(np.asarray(img), AVSS_PALETTE)


_DECODERS: dict[str, Decoder] = {"s4": decode_s4_mask, "ms3": decode_ms3_mask, "avss": decode_avss_mask}


@dataclass(eq=False)
class AvsReferences(References):
    """AVSBench ground truth of one split.

    ``masks(id)`` gives the ``(frames, H, W)`` uint8 masks of a video: {0, 1} for S4/MS3, class
    indices 0..70 for AVSS (with the official all-background padding frames).
    """

    #: frames per video that the metric scores (5 for S4/MS3 val/test, 1 for S4 train, 10 for AVSS)
    frames: int = S4_FRAMES
    #: "s4", "ms3" or "avss": how the PNGs are decoded
    decoder: str = "s4"
    #: per sample, the GT PNG of each frame (None = an official padding frame, all background)
    frame_paths: dict[str, tuple[Path | None, ...]] = field(default_factory=dict, repr=False)
    #: in-memory masks per sample (fixtures, generated data); used instead of frame_paths
    arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    #: S4: video -> category (the folder level of its masks)
    categories: dict[str, str] = field(default_factory=dict, repr=False)
    #: AVSS: uid -> subset label (v1s, v1m, v2)
    subsets: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def semantic(self) -> bool:
        return self.decoder == "avss"

    @property
    def n_classes(self) -> int:
        return len(AVSS_CLASSES) if self.semantic else 2

    def annotated_frames(self, sample_id: str) -> int:
        """Frames with a real annotation (the rest, AVSS v1 only, are official padding)."""
        if sample_id in self.arrays:
            return self.frames
        return sum(p is not None for p in self.frame_paths[sample_id])

    def masks(self, sample_id: str) -> np.ndarray:
        """``(frames, H, W)`` uint8 masks of one sample, decoded from its PNGs."""
        if sample_id in self.arrays:
            return self.arrays[sample_id]
        if sample_id not in self.frame_paths:
            raise KeyError(sample_id)
        decode = _DECODERS[self.decoder]
        decoded = [None if p is None else decode(p, sample_id, self.split) for p in self.frame_paths[sample_id]]
        real = [(p, m) for p, m in zip(self.frame_paths[sample_id], decoded) if m is not None]
        shape = real[0][1].shape
        for p, m in real:
            if m.shape != shape:
                raise AvuInputError(p, f"sample {sample_id!r}",
                                    f"mask is {m.shape[0]}x{m.shape[1]}, other frames of the video are {shape[0]}x{shape[1]}")
        padding = np.zeros(shape, dtype=np.uint8)
        return np.stack([padding if m is None else m for m in decoded]).astype(np.uint8, copy=False)


# ---------------------------------------------------------------------------------------------
# reading the official files
# ---------------------------------------------------------------------------------------------
def _read_csv(path: Path, required: Sequence[str]):
    import pandas as pd

    try:
        df = pd.read_csv(path, sep=",", dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise AvuInputError(path, None, f"unreadable CSV ({type(exc).__name__}: {exc})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise AvuInputError(path, f"column {missing[0]!r}", f"missing (columns: {list(df.columns)})")
    return df


def _split_rows(df, path: Path, split: str):
    rows = df[df["split"] == split]
    if rows.empty:
        known = sorted(set(df["split"]))
        raise AvuInputError(path, "split", f"no rows with split {split!r} (splits: {known})")
    return rows


def _check_ids(path: Path, ids: list[str]) -> None:
    seen: set[str] = set()
    for sid in ids:
        if not sid:
            raise AvuInputError(path, "name", "empty video name")
        if sid in seen:
            raise AvuInputError(path, f"sample {sid!r}", "listed twice in the split")
        seen.add(sid)


def _hash_masks(root: Path, frame_paths: dict[str, tuple[Path | None, ...]], label: str) -> tuple[str, str]:
    """One sha256 over (relative path, file sha256) of every GT PNG; errors name a missing PNG."""
    from tqdm import tqdm

    paths = [(sid, p) for sid, ps in frame_paths.items() for p in ps if p is not None]
    h = hashlib.sha256()
    for sid, p in tqdm(paths, desc=f"hashing {label}", unit="png", disable=None, leave=False):
        if not p.is_file():
            raise AvuInputError(p, f"sample {sid!r}", "ground-truth mask not found")
        h.update(f"{_relative(p, root)} {sha256_file(p)}\n".encode())
    return f"{label} ({len(paths)} PNG files)", h.hexdigest()


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _dataset_root(path: Path, csv: Path) -> Path:
    return path if path.is_dir() else csv.parent


def _binary_references(benchmark: str, path: Path, split: str, version: str, csv_rel: str,
                       hash_masks: bool) -> AvsReferences:
    path = Path(path)
    csv = find_file(path, csv_rel, Path(csv_rel).name)
    df = _split_rows(_read_csv(csv, ["split"]), csv, split)
    names = [str(v) for v in df.iloc[:, 0]]
    _check_ids(csv, names)
    base = csv.parent
    frames = 1 if (benchmark == "avs_s4" and split == "train") else S4_FRAMES
    categories: dict[str, str] = {}
    frame_paths: dict[str, tuple[Path | None, ...]] = {}
    if benchmark == "avs_s4":
        if df.shape[1] < 3:
            raise AvuInputError(csv, "category", "S4 metadata needs the category in column 3 (name, start, category, split)")
        categories = dict(zip(names, (str(v) for v in df.iloc[:, 2])))
        mask_dir = base / "s4_data" / "gt_masks" / split
        for n in names:
            folder = mask_dir / categories[n] / n
            frame_paths[n] = tuple(folder / f"{n}_{k}.png" for k in range(1, frames + 1))
    else:
        mask_dir = base / "ms3_data" / "gt_masks" / split
        for n in names:
            frame_paths[n] = tuple(mask_dir / n / f"{n}_{k}.png" for k in range(1, frames + 1))
    root = _dataset_root(path, csv)
    files = {_relative(csv, root): sha256_file(csv)}
    if hash_masks:
        key, digest = _hash_masks(root, frame_paths, _relative(mask_dir, root))
        files[key] = digest
    return AvsReferences(
        benchmark=benchmark, split=split, ids=names, annotation_version=version_label(csv, version),
        files=files, root=root, frames=frames, decoder="s4" if benchmark == "avs_s4" else "ms3",
        frame_paths=frame_paths, categories=categories,
    )


def _check_version(version: str) -> None:
    if version not in ANNOTATION_VERSIONS:
        raise AvuInputError(None, "--annotation-version", f"unknown version {version!r}; known: {list(ANNOTATION_VERSIONS)}")


def load_s4_references(path: str | Path, split: str = "test", version: str = "official",
                       hash_masks: bool = True) -> AvsReferences:
    """S4 ground truth of ``split`` from the avsbench folder (or ``s4_meta_data.csv`` itself).

    ``hash_masks`` (default) reads every GT PNG once to record one sha256 of them all (and to
    report a missing one before any evaluation starts).
    """
    _check_version(version)
    return _binary_references("avs_s4", Path(path), split, version, S4_CSV, hash_masks)


def load_ms3_references(path: str | Path, split: str = "test", version: str = "official",
                        hash_masks: bool = True) -> AvsReferences:
    """MS3 ground truth of ``split`` from the avsbench folder (or ``ms3_meta_data.csv`` itself)."""
    _check_version(version)
    return _binary_references("avs_ms3", Path(path), split, version, MS3_CSV, hash_masks)


def _check_label2idx(path: Path) -> None:
    try:
        names = list(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AvuInputError(path, None, f"unreadable JSON ({exc})") from None
    if tuple(names) != AVSS_CLASSES:
        raise AvuInputError(path, None, f"class list differs from the official 71 AVSS classes ({len(names)} keys)")


def _avss_frame_paths(base: Path, uid: str, subset: str, split: str) -> tuple[Path | None, ...]:
    folder = base / subset / uid / "labels_rgb"
    if split != "train":
        n = AVSS_SUBSETS[subset]
    else:  # train: as many masks as the folder holds (v1s has only the first frame annotated)
        if not folder.is_dir():
            raise AvuInputError(folder, f"sample {uid!r}", "labels_rgb folder not found")
        n = sum(1 for p in folder.iterdir() if p.suffix == ".png")
        if not 1 <= n <= AVSS_FRAMES:
            raise AvuInputError(folder, f"sample {uid!r}", f"{n} masks, expected 1..{AVSS_FRAMES}")
    return tuple(folder / f"{k}.png" for k in range(n)) + (None,) * (AVSS_FRAMES - n)


def load_avss_references(path: str | Path, split: str = "test", version: str = "official",
                         hash_masks: bool = True) -> AvsReferences:
    """AVSS ground truth of ``split`` from the folder holding ``metadata.csv`` (or the CSV itself)."""
    _check_version(version)
    path = Path(path)
    csv = find_file(path, *AVSS_CSV)
    df = _split_rows(_read_csv(csv, ["uid", "label", "split"]), csv, split)
    uids = [str(v) for v in df["uid"]]
    _check_ids(csv, uids)
    subsets = dict(zip(uids, (str(v) for v in df["label"])))
    for uid, subset in subsets.items():
        if subset not in AVSS_SUBSETS:
            raise AvuInputError(csv, f"sample {uid!r}", f"label {subset!r} is not one of {sorted(AVSS_SUBSETS)}")
    base = csv.parent
    frame_paths = {uid: _avss_frame_paths(base, uid, subsets[uid], split) for uid in uids}
    root = _dataset_root(path, csv)
    files = {_relative(csv, root): sha256_file(csv)}
    label2idx = base / "label2idx.json"
    if label2idx.is_file():
        _check_label2idx(label2idx)
        files[_relative(label2idx, root)] = sha256_file(label2idx)
    if hash_masks:
        key, digest = _hash_masks(root, frame_paths, f"{_relative(base, root)}/<label>/<uid>/labels_rgb [{split}]")
        files[key] = digest
    return AvsReferences(
        benchmark="avss", split=split, ids=uids, annotation_version=version_label(csv, version),
        files=files, root=root, frames=AVSS_FRAMES, decoder="avss", frame_paths=frame_paths, subsets=subsets,
    )


# ---------------------------------------------------------------------------------------------
# in-memory references (fixtures, generated data, golden cases)
# ---------------------------------------------------------------------------------------------
def _arrays_hash(ids: Sequence[str], arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for sid in ids:
        a = np.ascontiguousarray(arrays[sid])
        h.update(f"{sid} {a.shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def references_from_arrays(benchmark: str, ids: Sequence[str], masks: np.ndarray | Sequence[np.ndarray],
                           split: str = "test", annotation_version: str = "generated",
                           subsets: dict[str, str] | None = None) -> AvsReferences:
    """References over in-memory masks: ``(N, T, H, W)`` {0, 1} for avs_s4 / avs_ms3, class maps
    0..70 for avss (T = 10, padding frames included)."""
    if benchmark not in ("avs_s4", "avs_ms3", "avss"):
        raise ValueError(f"not an AVSBench benchmark: {benchmark}")
    ids = [str(i) for i in ids]
    arrays = {sid: np.ascontiguousarray(m, dtype=np.uint8) for sid, m in zip(ids, masks)}
    if len(arrays) != len(ids):
        raise ValueError("one mask array per id")
    frames = {a.shape[0] for a in arrays.values()}
    if len(frames) != 1 or any(a.ndim != 3 for a in arrays.values()):
        raise ValueError("masks must be (T, H, W) with the same T for every sample")
    limit = len(AVSS_CLASSES) if benchmark == "avss" else 2
    if any(a.size and int(a.max()) >= limit for a in arrays.values()):
        raise ValueError(f"mask values must lie in 0..{limit - 1}")
    for a in arrays.values():
        a.setflags(write=False)
    decoder = {"avs_s4": "s4", "avs_ms3": "ms3", "avss": "avss"}[benchmark]
    return AvsReferences(
        benchmark=benchmark, split=split, ids=ids, annotation_version=annotation_version,
        files={"<in-memory masks>": _arrays_hash(ids, arrays)}, frames=frames.pop(), decoder=decoder,
        arrays=arrays, subsets=dict(subsets or {}),
    )
