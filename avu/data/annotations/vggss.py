"""VGG-SS (VGG-Sound Source) annotations: normalised boxes per test clip, 224x224 GT maps.

Layout of a dataset folder (official repository ``hche11/Localizing-Visual-Sounds-the-Hard-Way``,
``metadata/``; EZ-VSL and SLAVC ship byte-identical copies):

* ``vggss.json``: a list of ``{"file": "<ytid>_<start6d>", "class": <name>, "bbox": [[xmin, ymin,
  xmax, ymax], ...]}``, coordinates normalised to [0, 1] of the frame (5,158 entries, 221 classes).
* ``vggss_test.csv``: the test ids, one per line (first column; CRLF in the official file).
* ``ezvsl/vggss_heard_test.csv`` / ``ezvsl/vggss_unheard_test.csv``: EZ-VSL's open-set subsets
  (2,564 / 2,575 ids), available here as splits ``heard_test`` / ``unheard_test``.
* A generated suite (issue 3) adds ``vggss_train.csv`` / ``vggss_val.csv`` in the same format.

GT maps are built as both official repositories build them (LVS ``utils.testset_gt``, EZ-VSL
``datasets.bbox2gtmap``): each box becomes integer pixel bounds ``int(224 * clip(x, 0, 1))``,
fills ``gt[ymin:ymax, xmin:xmax] = 1``, and the union is binarised. Twelve test entries hold a
corrupt coordinate ``-2.88e16``; it clips to 0, which makes that box empty (``xmax <= xmin`` or
``ymax <= ymin``). ``MKC9LvRivTM_000030`` has only such a box, so its GT map is all zero.
"""

from __future__ import annotations

import csv
import io
import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from avu.data.annotations.common import find_file, hash_files, version_label
from avu.errors import AvuInputError
from avu.metrics.vggss import GT_SIZE, box_pixel_bounds, gt_maps_from_pixel_boxes
from avu.references import References

BENCHMARK = "vggss"
ANNOTATION_FILE = "vggss.json"
#: only one release of the boxes exists ("generated" is recorded for generated suites)
ANNOTATION_VERSIONS = ("official",)
#: split name -> candidate id files, relative to the dataset folder (first found wins)
SPLIT_FILES = {
    "test": ("vggss_test.csv",),
    "heard_test": ("ezvsl/vggss_heard_test.csv", "vggss_heard_test.csv"),
    "unheard_test": ("ezvsl/vggss_unheard_test.csv", "vggss_unheard_test.csv"),
}


@dataclass
class VggssReferences(References):
    """VGG-SS ground truth of one split: boxes per sample and their GT-map pixel bounds.

    ``boxes[i]``: float64 (B_i, 4) boxes of sample ``ids[i]`` exactly as in ``vggss.json``
    (normalised xmin, ymin, xmax, ymax; corrupt values kept). ``pixel_boxes``: int64
    (N, B_max, 4) GT-map bounds, padded; ``box_counts``: (N,) number of real boxes per sample.
    """

    classes: list[str] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    pixel_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 4), np.int64))
    box_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    gt_size: int = GT_SIZE

    def boxes_of(self, sample_id: str) -> np.ndarray:
        """The normalised boxes of one sample, (B, 4) float64 (for data loaders and plots)."""
        return self.boxes[self.index(sample_id)]

    def gt_maps(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Binary GT maps (n, 224, 224) bool of the samples at positions ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        return gt_maps_from_pixel_boxes(self.pixel_boxes[rows], self.box_counts[rows], self.gt_size)

    def gt_map(self, sample_id: str) -> np.ndarray:
        """The binary GT map (224, 224) bool of one sample."""
        return self.gt_maps([self.index(sample_id)])[0]

    def subset(self, ids: Sequence[str], split: str | None = None) -> "VggssReferences":
        """The same references restricted to ``ids`` (in that order), e.g. for small tests."""
        rows = [self.index(s) for s in ids]
        return VggssReferences(
            benchmark=self.benchmark, split=split or self.split, ids=list(ids),
            annotation_version=self.annotation_version, files=dict(self.files), root=self.root,
            classes=[self.classes[r] for r in rows], boxes=[self.boxes[r] for r in rows],
            pixel_boxes=self.pixel_boxes[rows], box_counts=self.box_counts[rows], gt_size=self.gt_size,
        )


def _read_entries(path: Path) -> dict[str, dict[str, Any]]:
    """``file`` -> entry of ``vggss.json``, validated (one-line errors naming the entry)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise AvuInputError(path, None, f"not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise AvuInputError(path, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}") from None
    if not isinstance(data, list):
        raise AvuInputError(path, None, "expected a list of {file, class, bbox} entries")
    entries: dict[str, dict[str, Any]] = {}
    for pos, item in enumerate(data):
        where = f"entry {pos}"
        if not isinstance(item, dict) or not isinstance(item.get("file"), str):
            raise AvuInputError(path, where, "expected an object with a string 'file'")
        name = item["file"]
        if name in entries:
            raise AvuInputError(path, f"sample {name!r}", "listed twice")
        bbox = item.get("bbox")
        if not isinstance(bbox, list) or not all(
            isinstance(b, list) and len(b) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                       and math.isfinite(v) for v in b)
            for b in bbox
        ):
            raise AvuInputError(path, f"sample {name!r}: bbox", "expected a list of [xmin, ymin, xmax, ymax] numbers")
        entries[name] = item
    return entries


def read_split_ids(path: Path) -> list[str]:
    """Ids of a split file: the first column of every non-empty line, in file order."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AvuInputError(path, None, f"not UTF-8 text ({exc.reason})") from None
    ids = [row[0].strip() for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]
    seen: set[str] = set()
    for sid in ids:
        if sid in seen:
            raise AvuInputError(path, f"sample {sid!r}", "listed twice")
        seen.add(sid)
    if not ids:
        raise AvuInputError(path, None, "no sample ids")
    return ids


def _split_file(root: Path, split: str) -> Path:
    candidates = SPLIT_FILES.get(split, (f"vggss_{split}.csv",))
    try:
        return find_file(root, *candidates)
    except AvuInputError:
        known = sorted(set(SPLIT_FILES) | {p.stem[len("vggss_"):] for p in root.glob("vggss_*.csv")})
        raise AvuInputError(root, "--split", f"no {split!r} split file (looked for {', '.join(candidates)}); "
                            f"available: {known}") from None


def load_references(path: str | Path, split: str = "test", version: str = "official") -> VggssReferences:
    """VGG-SS references of ``split`` from a dataset folder (or its ``vggss.json``).

    The ids come from the split's id file in file order (``vggss_test.csv``: 5,158 ids);
    the boxes from ``vggss.json``. Given the json file directly, the split file is looked
    for beside it; for ``test`` without one, the json order is used (it equals the csv).
    """
    if version not in ANNOTATION_VERSIONS:
        raise AvuInputError(None, "--annotation-version", f"unknown version {version!r}; known: {list(ANNOTATION_VERSIONS)}")
    path = Path(path)
    if not path.exists():
        raise AvuInputError(path, None, "annotation path not found")
    root = path.parent if path.is_file() else path
    json_path = path if path.is_file() else find_file(root, ANNOTATION_FILE)
    entries = _read_entries(json_path)
    read = [json_path]
    try:
        split_path = _split_file(root, split)
    except AvuInputError:
        if not (path.is_file() and split == "test"):
            raise
        ids = list(entries)
    else:
        ids = read_split_ids(split_path)
        read.append(split_path)
        missing = [s for s in ids if s not in entries]
        if missing:
            raise AvuInputError(split_path, f"sample {missing[0]!r}",
                                f"not in {json_path.name} ({len(missing)} such ids)")

    boxes = [np.asarray(entries[s]["bbox"], dtype=np.float64).reshape(-1, 4) for s in ids]
    counts = np.array([len(b) for b in boxes], dtype=np.int64)
    padded = np.zeros((len(ids), max(1, int(counts.max(initial=0))), 4), dtype=np.float64)
    for i, b in enumerate(boxes):
        padded[i, : len(b)] = b
    return VggssReferences(
        benchmark=BENCHMARK,
        split=split,
        ids=ids,
        annotation_version=version_label(root, version),
        files=hash_files(root, read),
        root=root,
        classes=[str(entries[s].get("class", "")) for s in ids],
        boxes=boxes,
        pixel_boxes=box_pixel_bounds(padded),
        box_counts=counts,
    )


# -- Flickr-SoundNet (shares the metric; its GT XMLs are not redistributed) ------------------------


def parse_flickr_xml(text: str, path: str | Path | None = None) -> np.ndarray:
    """Boxes of one Flickr-SoundNet annotation XML, in 224-px GT-map coordinates, (B, 4) int64.

    As both official parsers do (LVS ``testset_gt``, EZ-VSL ``load_all_bboxes('flickr')``): every
    grandchild of the root must be a ``<bbox>``; in each, the first child is skipped and the next
    four are xmin, ymin, xmax, ymax in 256-px coordinates, mapped by ``int(224 * v / 256)``.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise AvuInputError(path, None, f"invalid XML: {exc}") from None
    boxes = []
    for child in root:
        for bbox in child:
            values = list(bbox)[1:5]
            # the official parsers crash on anything else; we say where instead
            if bbox.tag != "bbox" or len(values) != 4:
                raise AvuInputError(path, f"<{child.tag}>/<{bbox.tag}>",
                                    "expected <bbox> with 4 coordinates after its first child")
            try:
                boxes.append([int(224 * int(v.text) / 256) for v in values])
            except (TypeError, ValueError):
                raise AvuInputError(path, f"<{child.tag}>/<bbox>", "coordinates must be integers") from None
    return np.asarray(boxes, dtype=np.int64).reshape(-1, 4)


def flickr_gt_map(boxes_224: np.ndarray, size: int = GT_SIZE) -> np.ndarray:
    """The soft "consensus" GT map of Flickr-SoundNet, float64 (224, 224) with values {0, 0.5, 1}.

    Box maps are summed, halved and clipped at 1 (EZ-VSL ``bbox2gtmap(format='flickr')``).
    """
    gt = np.zeros((size, size), dtype=np.float64)
    for xmin, ymin, xmax, ymax in np.asarray(boxes_224, dtype=np.int64).reshape(-1, 4).tolist():
        gt[ymin:ymax, xmin:xmax] += 1  # Python slicing, as officially
    gt /= 2
    np.minimum(gt, 1, out=gt)
    return gt
