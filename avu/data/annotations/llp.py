"""LLP / AVVP annotations: weak video labels for every split, dense audio/visual GT for val and test.

Layout of a dataset folder (official repository ``YapengTian/AVVP-ECCV20``, ``data/``); every
file is TAB-separated with a header row despite the ``.csv`` extension:

* ``AVVP_train.csv`` / ``AVVP_val_pd.csv`` / ``AVVP_test_pd.csv`` / ``AVVP_dataset_full.csv``:
  ``filename``, ``event_labels`` (comma-separated weak labels).
* ``AVVP_eval_audio.csv`` / ``AVVP_eval_visual.csv``: ``filename``, ``onset``, ``offset``,
  ``event_labels`` (one class per row; integer seconds, offset exclusive), val and test videos.
* ``v2020/AVVP_eval_audio.csv``: the audio file as first published (2020), used by most papers.

The dense GT is built exactly as ``main_avvp.py::eval`` builds it: rows are matched to a video
by the EXACT filename string, ``GT[c, onset:offset] = 1``, rows with ``onset >= offset`` add
nothing, and rows whose filename is not in the split are silently dropped (as officially).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from avu.data.annotations.common import find_file, hash_files, version_label
from avu.errors import AvuInputError
from avu.references import References

BENCHMARK = "llp"

#: the 25 classes in the official order (index = position; hard-coded in the official code)
CLASSES: tuple[str, ...] = (
    "Speech", "Car", "Cheering", "Dog", "Cat", "Frying_(food)", "Basketball_bounce", "Fire_alarm",
    "Chainsaw", "Cello", "Banjo", "Singing", "Chicken_rooster", "Violin_fiddle", "Vacuum_cleaner",
    "Baby_laughter", "Accordion", "Lawn_mower", "Motorcycle", "Helicopter", "Acoustic_guitar",
    "Telephone_bell_ringing", "Baby_cry_infant_cry", "Blender", "Clapping",
)
CLASS_INDEX = {name: i for i, name in enumerate(CLASSES)}
NUM_CLASSES = len(CLASSES)
NUM_SEGMENTS = 10

SPLIT_FILES = {
    "train": "AVVP_train.csv",
    "val": "AVVP_val_pd.csv",
    "test": "AVVP_test_pd.csv",
    "full": "AVVP_dataset_full.csv",
}
#: splits whose videos have dense (segment-level) audio and visual annotations
DENSE_SPLITS = ("val", "test")

#: annotation version -> audio eval file. "2024-04": repository HEAD (fde56118), where two rows
#: whose filename read ``Baby_cry_infant_cry`` became ``JfZEqeLZqWk_30_40`` and a stray backtick
#: was removed from ``KvIjsmANkxI_10_20``; "2020": the file of commit 0b28c1a7, used by most
#: results published 2020-2023 (its three bad rows match no video, so they are dropped).
AUDIO_FILES = {
    "2024-04": "AVVP_eval_audio.csv",
    "2020": "v2020/AVVP_eval_audio.csv",
}
VISUAL_FILE = "AVVP_eval_visual.csv"
VERSIONS = tuple(AUDIO_FILES)
DEFAULT_VERSION = "2024-04"

SPLIT_COLUMNS = ("filename", "event_labels")
EVAL_COLUMNS = ("filename", "onset", "offset", "event_labels")


def _read_tsv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every data row, after checking the header.

    The files hold no quoting, so a plain split on TAB reads them exactly as
    ``pandas.read_csv(sep='\\t')`` does in the official code; blank lines are skipped
    (pandas' default).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AvuInputError(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    lines = text.split("\n")
    header = lines[0].rstrip("\r").split("\t") if lines else [""]
    if tuple(header) != columns:
        raise AvuInputError(path, "line 1", f"header {header!r} is not the expected TAB-separated {list(columns)}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(columns):
            raise AvuInputError(path, f"line {number}", f"{len(fields)} TAB-separated fields, expected {len(columns)}")
        rows.append((number, fields))
    return rows


def _class_index(path: Path, number: int, name: str) -> int:
    if name not in CLASS_INDEX:
        raise AvuInputError(path, f"line {number}: event_labels", f"unknown class {name!r}")
    return CLASS_INDEX[name]


def read_split(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Filenames (CSV row order) and weak labels ``uint8 (N, 25)`` of one split file."""
    path = Path(path)
    filenames: list[str] = []
    labels: list[np.ndarray] = []
    seen: dict[str, int] = {}
    for number, (filename, events) in _read_tsv(path, SPLIT_COLUMNS):
        if not filename:
            raise AvuInputError(path, f"line {number}: filename", "empty")
        if filename in seen:
            raise AvuInputError(path, f"line {number}: filename", f"{filename!r} already on line {seen[filename]}")
        seen[filename] = number
        if not events:
            raise AvuInputError(path, f"line {number}: event_labels", "empty (every video has at least one label)")
        row = np.zeros(NUM_CLASSES, dtype=np.uint8)
        for name in events.split(","):
            row[_class_index(path, number, name)] = 1
        filenames.append(filename)
        labels.append(row)
    if not filenames:
        raise AvuInputError(path, None, "no rows")
    return filenames, np.stack(labels)


@dataclass(frozen=True)
class EvalRows:
    """Rows of a dense eval file, as arrays (row order of the file)."""

    filenames: list[str]
    onset: np.ndarray
    offset: np.ndarray
    class_index: np.ndarray
    #: line number in the file of each row (1-based, header = line 1)
    line: np.ndarray

    def __len__(self) -> int:
        return len(self.filenames)


def _segment_bound(path: Path, number: int, column: str, value: str) -> int:
    try:
        bound = int(value.strip())
    except ValueError:
        raise AvuInputError(path, f"line {number}: {column}", f"{value!r} is not an integer second") from None
    if not 0 <= bound <= NUM_SEGMENTS:
        raise AvuInputError(path, f"line {number}: {column}", f"{bound} outside 0..{NUM_SEGMENTS}")
    return bound


def read_eval_rows(path: str | Path) -> EvalRows:
    """Every row of ``AVVP_eval_{audio,visual}.csv`` (filenames kept verbatim, typos included)."""
    path = Path(path)
    names, onsets, offsets, classes, lines = [], [], [], [], []
    for number, (filename, onset, offset, event) in _read_tsv(path, EVAL_COLUMNS):
        names.append(filename)
        onsets.append(_segment_bound(path, number, "onset", onset))
        offsets.append(_segment_bound(path, number, "offset", offset))
        classes.append(_class_index(path, number, event))
        lines.append(number)
    return EvalRows(
        names,
        np.asarray(onsets, dtype=np.int64),
        np.asarray(offsets, dtype=np.int64),
        np.asarray(classes, dtype=np.int64),
        np.asarray(lines, dtype=np.int64),
    )


def dense_gt(ids: list[str], rows: EvalRows) -> tuple[np.ndarray, int]:
    """``uint8 (N, 25, 10)`` GT of the videos ``ids`` and the number of rows that matched one.

    ``GT[v, c, onset:offset] = 1`` for each row whose filename equals ``ids[v]`` exactly;
    other rows are dropped and ``onset >= offset`` sets nothing, as in the official loop.
    """
    index = {sid: i for i, sid in enumerate(ids)}
    video = np.asarray([index.get(name, -1) for name in rows.filenames], dtype=np.int64)
    keep = video >= 0
    segments = np.arange(NUM_SEGMENTS)
    spans = (segments >= rows.onset[keep, None]) & (segments < rows.offset[keep, None])  # (R, 10)
    gt = np.zeros((len(ids), NUM_CLASSES, NUM_SEGMENTS), dtype=np.uint8)
    np.maximum.at(gt, (video[keep], rows.class_index[keep]), spans.astype(np.uint8))
    return gt, int(keep.sum())


@dataclass(eq=False)  # arrays inside: identity, not element-wise, equality
class LlpReferences(References):
    """One LLP split: ids = ``filename`` in CSV row order, weak labels, and for val/test dense GT."""

    #: ``uint8 (N, 25)`` video-level (weak) labels from the split CSV
    weak_labels: np.ndarray = field(default_factory=lambda: np.zeros((0, NUM_CLASSES), np.uint8))
    #: ``uint8 (N, 25, 10)`` class x segment GT (None for train/full: weak labels only)
    gt_audio: np.ndarray | None = None
    gt_visual: np.ndarray | None = None
    #: counts of the files read: rows (total, matched to a video, onset >= offset), videos without GT
    stats: dict[str, Any] = field(default_factory=dict)
    classes: tuple[str, ...] = CLASSES

    @property
    def has_dense(self) -> bool:
        return self.gt_audio is not None and self.gt_visual is not None


def _root(path: Path) -> Path:
    path = Path(path)
    if path.is_file():
        # a file in the dataset folder (or in its v2020/ sub-folder) names the folder
        path = path.parent.parent if path.parent.name == "v2020" else path.parent
    if not path.is_dir():
        raise AvuInputError(path, None, "LLP dataset folder not found")
    return path


def load_references(path: str | Path, split: str = "test", version: str = DEFAULT_VERSION) -> LlpReferences:
    """Ground truth of one LLP split read from a dataset folder in the official layout.

    ``split``: ``train`` or ``full`` (weak labels only), ``val`` or ``test`` (also dense GT).
    ``version``: ``"2024-04"`` (repository HEAD audio file, default) or ``"2020"``
    (``v2020/AVVP_eval_audio.csv``); the visual file has a single version.
    """
    root = _root(Path(path))
    if split not in SPLIT_FILES:
        raise AvuInputError(root, "--split", f"unknown LLP split {split!r}; known: {list(SPLIT_FILES)}")
    if version not in AUDIO_FILES:
        raise AvuInputError(root, "--annotation-version", f"unknown LLP version {version!r}; known: {list(VERSIONS)}")
    split_file = find_file(root, SPLIT_FILES[split])
    ids, weak = read_split(split_file)
    files = [split_file]
    gt_audio = gt_visual = None
    stats: dict[str, Any] = {"videos": len(ids)}
    if split in DENSE_SPLITS:
        audio_file = find_file(root, AUDIO_FILES[version])
        visual_file = find_file(root, VISUAL_FILE)
        files += [audio_file, visual_file]
        for modality, file in (("audio", audio_file), ("visual", visual_file)):
            rows = read_eval_rows(file)
            gt, matched = dense_gt(ids, rows)
            if modality == "audio":
                gt_audio = gt
            else:
                gt_visual = gt
            stats[f"eval_{modality}_rows"] = len(rows)
            stats[f"eval_{modality}_rows_matched"] = matched
            stats[f"eval_{modality}_rows_empty_span"] = int((rows.onset >= rows.offset).sum())
            stats[f"videos_without_{modality}_rows"] = len(set(ids) - set(rows.filenames))
            stats[f"videos_with_empty_{modality}_gt"] = int((gt.reshape(len(ids), -1).max(axis=1) == 0).sum())
    return LlpReferences(
        benchmark=BENCHMARK,
        split=split,
        ids=ids,
        annotation_version=version_label(root, version),
        files=hash_files(root, files),
        root=root,
        weak_labels=weak,
        gt_audio=gt_audio,
        gt_visual=gt_visual,
        stats=stats,
    )


def weak_labels(path: str | Path, split: str = "train") -> tuple[list[str], np.ndarray]:
    """Filenames and ``uint8 (N, 25)`` video-level labels of a split (for training loaders)."""
    root = _root(Path(path))
    if split not in SPLIT_FILES:
        raise AvuInputError(root, "--split", f"unknown LLP split {split!r}; known: {list(SPLIT_FILES)}")
    return read_split(find_file(root, SPLIT_FILES[split]))
