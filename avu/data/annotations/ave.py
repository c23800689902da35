"""AVE (Audio-Visual Event localization) annotations: any split, labels rebuilt exactly.

Layout read (the official git ``data/`` folder and the dataset zip, alone or together)::

    Annotations.txt                  Category&VideoID&Quality&StartTime&EndTime, one clip per line
                                     (the git copy has no header line, the zip copy has one)
    {train,val,test}_order.h5        ['order']: 0-based rows of Annotations.txt (official git)
    dataset_zip/{train,val,test}Set.txt   the same rows, as annotation lines (dataset zip)

The split comes from ``<split>_order.h5`` when present, else from ``<split>Set.txt`` (the
two hold the same rows in the same order). Labels are rebuilt as the official
``labels.h5`` holds them: class ``c`` on the one-second segments ``start <= t < end``,
background (index 28) elsewhere; a zero-duration row is all background.

Sample id = the YouTube VideoID. A split may hold the same video twice (two different
events; train has 27 such repeats, val 1, test none): the first occurrence in split order
keeps the bare id, the k-th later one gets ``#k`` (``3tsi7DKGrWQ#2``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from avu.data.annotations.common import hash_files, version_label
from avu.errors import AvuInputError
from avu.references import References

#: the 28 event classes, in label-index order (``categories.txt``; = argmax of mil_labels.h5)
AVE_CLASSES: tuple[str, ...] = (
    "Church bell", "Male speech, man speaking", "Bark", "Fixed-wing aircraft, airplane",
    "Race car, auto racing", "Female speech, woman speaking", "Helicopter", "Violin, fiddle",
    "Flute", "Ukulele", "Frying (food)", "Truck", "Shofar", "Motorcycle", "Acoustic guitar",
    "Train horn", "Clock", "Banjo", "Goat", "Baby cry, infant cry", "Bus", "Chainsaw", "Cat",
    "Horse", "Toilet flush", "Rodents, rats, mice", "Accordion", "Mandolin",
)
NUM_EVENT_CLASSES = 28
BACKGROUND = 28
NUM_CLASSES = 29  # 28 events + background
NUM_SEGMENTS = 10
SPLITS = ("train", "val", "test")
ANNOTATION_VERSIONS = ("official",)
HEADER = "Category&VideoID&Quality&StartTime&EndTime"

_CLASS_INDEX = {name: i for i, name in enumerate(AVE_CLASSES)}
#: folders (relative to the dataset folder) that may hold the files
_PLACES = ("", "data", "dataset_zip")


@dataclass(frozen=True)
class AveRow:
    """One line of Annotations.txt."""

    category: int
    video_id: str
    quality: str
    start: int
    end: int


@dataclass(frozen=True)
class AveSample:
    """One clip of a split, as a data loader needs it."""

    id: str
    video_id: str
    #: row of Annotations.txt = index into every official feature/label .h5 file
    row: int
    category: int
    category_name: str
    start: int
    end: int
    #: (10,) int64 class per segment, 28 = background
    labels: np.ndarray


@dataclass
class AveReferences(References):
    """GT of one AVE split (arrays aligned with ``ids``)."""

    #: (N, 10) int64: class per one-second segment, 28 = background
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0, NUM_SEGMENTS), np.int64))
    #: (N,) int64 rows of Annotations.txt (feature .h5 index)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: (N,) int64 event class of the clip (video-level label, also for the zero-duration row)
    categories: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: (N,) int64 event start / end in seconds
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ends: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: YouTube ids (without the ``#k`` suffix)
    video_ids: list[str] = field(default_factory=list)

    def one_hot(self) -> np.ndarray:
        """(N, 10, 29) float32 one-hot labels: the content of the official ``labels.h5`` rows."""
        out = np.zeros((len(self.ids), NUM_SEGMENTS, NUM_CLASSES), np.float32)
        np.put_along_axis(out, self.labels[..., None], 1.0, axis=-1)
        return out

    def sample(self, i: int) -> AveSample:
        c = int(self.categories[i])
        return AveSample(
            id=self.ids[i], video_id=self.video_ids[i], row=int(self.rows[i]), category=c,
            category_name=AVE_CLASSES[c], start=int(self.starts[i]), end=int(self.ends[i]),
            labels=self.labels[i].copy(),
        )

    def samples(self) -> Iterator[AveSample]:
        """Every clip of the split, in official order."""
        return (self.sample(i) for i in range(len(self.ids)))

    def subset(self, indices: Sequence[int]) -> "AveReferences":
        """The references restricted to some samples (same order as ``indices``)."""
        idx = np.asarray(indices, dtype=np.int64)
        return dataclasses.replace(
            self, ids=[self.ids[i] for i in idx], labels=self.labels[idx], rows=self.rows[idx],
            categories=self.categories[idx], starts=self.starts[idx], ends=self.ends[idx],
            video_ids=[self.video_ids[i] for i in idx],
        )


def segment_labels(categories: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(N, 10) labels: class on segments ``start <= t < end``, background elsewhere."""
    t = np.arange(NUM_SEGMENTS)
    inside = (t >= starts[:, None]) & (t < ends[:, None])
    return np.where(inside, categories[:, None], BACKGROUND).astype(np.int64)


def unique_ids(video_ids: Sequence[str]) -> list[str]:
    """Video ids made unique in order: the k-th repeat (k >= 2) of an id becomes ``id#k``."""
    seen: dict[str, int] = {}
    out = []
    for vid in video_ids:
        k = seen.get(vid, 0) + 1
        seen[vid] = k
        out.append(vid if k == 1 else f"{vid}#{k}")
    return out


def parse_line(path: Path, lineno: int, line: str) -> AveRow:
    """One ``Category&VideoID&Quality&StartTime&EndTime`` line."""
    where = f"line {lineno}"
    parts = line.split("&")
    if len(parts) != 5:
        raise AvuInputError(path, where, f"expected 5 '&'-separated fields, got {len(parts)}")
    category, video_id, quality, start, end = (p.strip() for p in parts)
    if category not in _CLASS_INDEX:
        raise AvuInputError(path, where, f"unknown AVE category {category!r}")
    if not video_id:
        raise AvuInputError(path, where, "empty VideoID")
    try:
        s, e = int(start), int(end)
    except ValueError:
        raise AvuInputError(path, where, f"StartTime/EndTime must be integers, got {start!r}/{end!r}") from None
    if not 0 <= s <= e <= NUM_SEGMENTS:
        raise AvuInputError(path, where, f"need 0 <= StartTime <= EndTime <= 10, got {s}..{e}")
    return AveRow(_CLASS_INDEX[category], video_id, quality, s, e)


def numbered_lines(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, text) of the non-empty lines of an annotation-format file, header dropped."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AvuInputError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    lines = [(i, ln.rstrip("\r").strip()) for i, ln in enumerate(text.lstrip("\ufeff").split("\n"), start=1)]
    lines = [(i, ln) for i, ln in lines if ln]
    if lines and lines[0][1] == HEADER:
        lines = lines[1:]
    return lines


def read_annotations(path: Path) -> list[AveRow]:
    """Every row of Annotations.txt (header optional)."""
    lines = numbered_lines(path)
    if not lines:
        raise AvuInputError(path, None, "no annotation rows")
    return [parse_line(path, i, ln) for i, ln in lines]


def _find(root: Path, name: str) -> Path | None:
    for place in _PLACES:
        p = root / place / name
        if p.is_file():
            return p
    return None


def read_order_h5(path: Path, n_rows: int) -> np.ndarray:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "order" not in f:
                raise AvuInputError(path, "order", "dataset missing")
            order = np.asarray(f["order"][()])
    except OSError as exc:
        raise AvuInputError(path, None, f"not a readable HDF5 file ({exc})") from None
    if order.ndim != 1 or order.dtype.kind not in "iu":
        raise AvuInputError(path, "order", f"must be a 1-D integer array, got {order.dtype} {order.shape}")
    order = order.astype(np.int64)
    bad = (order < 0) | (order >= n_rows)
    if bad.any():
        raise AvuInputError(path, f"order[{int(np.argmax(bad))}]", f"row {int(order[bad][0])} outside 0..{n_rows - 1}")
    return order


def rows_of_set_file(path: Path, annotation_lines: list[tuple[int, str]]) -> np.ndarray:
    """Rows of Annotations.txt named by a ``<split>Set.txt`` (its lines are annotation lines)."""
    where: dict[str, list[int]] = {}
    for i, (_, ln) in enumerate(annotation_lines):
        where.setdefault(ln, []).append(i)
    used: dict[str, int] = {}
    rows = []
    for lineno, key in numbered_lines(path):
        hits = where.get(key)
        if not hits:
            raise AvuInputError(path, f"line {lineno}", "row not found in Annotations.txt")
        k = used.get(key, 0)  # identical lines (none in the real data) map to successive rows
        rows.append(hits[min(k, len(hits) - 1)])
        used[key] = k + 1
    if not rows:
        raise AvuInputError(path, None, "no rows in split file")
    return np.asarray(rows, dtype=np.int64)


def load_references(path: str | Path, split: str = "test", version: str = "official") -> AveReferences:
    """GT of one AVE split from a dataset folder (or its Annotations.txt)."""
    path = Path(path)
    if version not in ANNOTATION_VERSIONS:
        raise AvuInputError(None, "--annotation-version", f"unknown AVE version {version!r}; known: {list(ANNOTATION_VERSIONS)}")
    if split not in SPLITS:
        raise AvuInputError(None, "--split", f"unknown AVE split {split!r}; known: {list(SPLITS)}")
    if not path.exists():
        raise AvuInputError(path, None, "annotation path not found")
    if path.is_file():
        annotations, root = path, path.parent
        if root.name in _PLACES[1:]:
            root = root.parent  # data/Annotations.txt or dataset_zip/Annotations.txt
    else:
        root = path
        found = _find(root, "Annotations.txt")
        if found is None:
            raise AvuInputError(root, None, "Annotations.txt not found (looked in ., data/, dataset_zip/)")
        annotations = found
    rows_all = read_annotations(annotations)

    order_file = _find(root, f"{split}_order.h5")
    if order_file is not None:
        order = read_order_h5(order_file, len(rows_all))
        split_file = order_file
    else:
        set_file = _find(root, f"{split}Set.txt")
        if set_file is None:
            raise AvuInputError(root, None, f"no {split}_order.h5 or {split}Set.txt for the {split} split")
        order = rows_of_set_file(set_file, numbered_lines(annotations))
        split_file = set_file
    picked = [rows_all[i] for i in order]
    return make_references(
        [r.video_id for r in picked], [r.category for r in picked], [r.start for r in picked],
        [r.end for r in picked], split=split, annotation_version=version_label(root, version),
        rows=order, files=hash_files(root, [annotations, split_file]), root=root,
    )


def make_references(
    video_ids: Sequence[str],
    categories: Sequence[int],
    starts: Sequence[int],
    ends: Sequence[int],
    split: str = "test",
    annotation_version: str = "official",
    rows: Sequence[int] | None = None,
    files: dict[str, str] | None = None,
    root: Path | None = None,
) -> AveReferences:
    """AveReferences from per-clip arrays (the reader's last step; also for in-memory test splits)."""
    categories_arr = np.asarray(categories, dtype=np.int64)
    starts_arr = np.asarray(starts, dtype=np.int64)
    ends_arr = np.asarray(ends, dtype=np.int64)
    video_ids = [str(v) for v in video_ids]
    return AveReferences(
        benchmark="ave",
        split=split,
        ids=unique_ids(video_ids),
        annotation_version=annotation_version,
        files=dict(files or {}),
        root=root,
        labels=segment_labels(categories_arr, starts_arr, ends_arr),
        rows=np.arange(len(video_ids), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64),
        categories=categories_arr,
        starts=starts_arr,
        ends=ends_arr,
        video_ids=video_ids,
    )
