"""MUSIC-AVQA annotations: the official question JSONs, both annotation versions.

Layout (the official ``data/`` folder; ``--annotations`` may be the dataset folder or one
of the JSON files)::

    json/avqa-{train,val,test}.json          version "json": the original release (test 9,185, val 4,595)
    json_update/avqa-{train,val,test}.json   version "json_update": the README "Notice" fix (test 9,129, val 4,568)

Each row: ``{"video_id", "question_id", "type": "[\\"Audio\\", \\"Counting\\"]",
"question_content", "templ_values": "[...]", "question_deleted", "anser"}`` (the answer key
is spelled ``anser``; ``type`` and ``templ_values`` are list literals stored as strings).

Sample id = ``str(question_id)``. The original ``json`` test file repeats 55 (video_id,
question_id) pairs with conflicting answers (val: 27); so that every row has its own id,
the k-th occurrence (k >= 2, in file order) of a question id gets ``#k`` (``"1138#2"``).
``json_update`` has no repeats.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from avu import fileio
from avu.data.annotations.common import hash_files, version_label
from avu.errors import AvuInputError
from avu.references import References

ANNOTATION_VERSIONS = ("json_update", "json")
#: fixed annotations (no duplicated questions with conflicting answers); see docs/predictions/avqa.md
DEFAULT_VERSION = "json_update"
SPLITS = ("train", "val", "test")

#: the 42 answers in model-output order (AVST ``ans_vocab``: first appearance in avqa-train.json)
ANSWER_VOCAB: tuple[str, ...] = (
    "two", "cello", "congas", "zero", "no", "pipa", "six", "yes", "one", "four", "three", "seven",
    "five", "ukulele", "right", "piano", "left", "accordion", "clarinet", "guzheng", "more than ten",
    "nine", "indoor", "saxophone", "drum", "violin", "middle", "outdoor", "bagpipe", "bassoon",
    "acoustic_guitar", "banjo", "electric_bass", "ten", "eight", "flute", "simultaneously",
    "trumpet", "erhu", "xylophone", "tuba", "suona",
)
ANSWER_INDEX = {a: i for i, a in enumerate(ANSWER_VOCAB)}

#: the 9 (modality, type) pairs, in the order the official test() prints them
QUESTION_TYPES: tuple[tuple[str, str], ...] = (
    ("Audio", "Counting"),
    ("Audio", "Comparative"),
    ("Visual", "Counting"),
    ("Visual", "Location"),
    ("Audio-Visual", "Existential"),
    ("Audio-Visual", "Counting"),
    ("Audio-Visual", "Location"),
    ("Audio-Visual", "Comparative"),
    ("Audio-Visual", "Temporal"),
)
_TYPE_INDEX = {t: i for i, t in enumerate(QUESTION_TYPES)}
_REQUIRED = ("video_id", "question_id", "type", "anser")
_PLACEHOLDER = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class AvqaSample:
    """One question of a split, as a data loader needs it."""

    id: str
    video_id: str
    question_id: int
    #: (modality, type), e.g. ("Audio", "Counting")
    type: tuple[str, str]
    type_index: int
    question_content: str
    templ_values: tuple[str, ...]
    answer: str
    #: index of ``answer`` in ANSWER_VOCAB (the model's label), -1 when outside it
    answer_label: int

    @property
    def question(self) -> str:
        """The question with its ``<...>`` placeholders filled by ``templ_values``, in order."""
        return fill_template(self.question_content, self.templ_values)


@dataclass
class AvqaReferences(References):
    """GT of one MUSIC-AVQA split (arrays aligned with ``ids``)."""

    #: GT answer strings
    answers: list[str] = field(default_factory=list)
    #: (N,) int8 index into QUESTION_TYPES
    type_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    video_ids: list[str] = field(default_factory=list)
    #: (N,) int64 question_id as in the file (not unique in version "json")
    question_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    question_contents: list[str] = field(default_factory=list)
    templ_values: list[tuple[str, ...]] = field(default_factory=list)
    #: the file the rows were read from (the legacy protocol needs its siblings)
    source_file: Path | None = None

    def answer_labels(self) -> np.ndarray:
        """(N,) int64 index of each GT answer in ANSWER_VOCAB (-1 when outside it)."""
        return np.array([ANSWER_INDEX.get(a, -1) for a in self.answers], dtype=np.int64)

    def sample(self, i: int) -> AvqaSample:
        t = int(self.type_index[i])
        return AvqaSample(
            id=self.ids[i], video_id=self.video_ids[i], question_id=int(self.question_ids[i]),
            type=QUESTION_TYPES[t], type_index=t, question_content=self.question_contents[i],
            templ_values=self.templ_values[i], answer=self.answers[i],
            answer_label=ANSWER_INDEX.get(self.answers[i], -1),
        )

    def samples(self) -> Iterator[AvqaSample]:
        """Every question of the split, in file order."""
        return (self.sample(i) for i in range(len(self.ids)))

    def subset(self, indices: Sequence[int]) -> "AvqaReferences":
        """The references restricted to some samples (same order as ``indices``)."""
        idx = np.asarray(indices, dtype=np.int64)

        def pick(xs: list) -> list:
            return [xs[i] for i in idx]

        return dataclasses.replace(
            self, ids=pick(self.ids), answers=pick(self.answers), type_index=self.type_index[idx],
            video_ids=pick(self.video_ids), question_ids=self.question_ids[idx],
            question_contents=pick(self.question_contents), templ_values=pick(self.templ_values),
        )


def fill_template(question_content: str, templ_values: Sequence[str]) -> str:
    """Replace the ``<...>`` placeholders of a question, in order, by the template values."""
    values = iter(templ_values)
    return _PLACEHOLDER.sub(lambda m: next(values, m.group(0)), question_content)


def unique_ids(question_ids: Sequence[int]) -> list[str]:
    """``str(question_id)``; the k-th repeat (k >= 2) of an id becomes ``"<id>#k"``."""
    seen: dict[int, int] = {}
    out = []
    for q in question_ids:
        k = seen.get(q, 0) + 1
        seen[q] = k
        out.append(str(q) if k == 1 else f"{q}#{k}")
    return out


def parse_type(path: Path, where: str, value: Any, cache: dict[str, int]) -> int:
    """Index into QUESTION_TYPES of a row's ``type`` (a list literal in a string)."""
    if isinstance(value, str) and value in cache:
        return cache[value]
    try:
        parsed = ast.literal_eval(value) if isinstance(value, str) else value
    except (ValueError, SyntaxError):
        raise AvuInputError(path, f"{where}: type", f"not a list literal: {value!r}") from None
    if not isinstance(parsed, (list, tuple)) or len(parsed) != 2 or tuple(parsed) not in _TYPE_INDEX:
        raise AvuInputError(path, f"{where}: type", f"unknown question type {value!r}")
    index = _TYPE_INDEX[tuple(parsed)]
    if isinstance(value, str):
        cache[value] = index
    return index


def parse_templ_values(path: Path, where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    try:
        parsed = ast.literal_eval(value) if isinstance(value, str) else value
    except (ValueError, SyntaxError):
        raise AvuInputError(path, f"{where}: templ_values", f"not a list literal: {value!r}") from None
    if not isinstance(parsed, (list, tuple)):
        raise AvuInputError(path, f"{where}: templ_values", "must be a list")
    return tuple(str(v) for v in parsed)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a question JSON, with the keys the evaluator needs checked."""
    rows = fileio.load_json(path)  # one-line errors for empty/truncated JSON
    if not isinstance(rows, list):
        raise AvuInputError(path, None, "top level must be a list of questions")
    if not rows:
        raise AvuInputError(path, None, "no questions")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise AvuInputError(path, f"row {i}", "must be an object")
        for key in _REQUIRED:
            if key not in row:
                raise AvuInputError(path, f"row {i}: {key}", "field missing")
        if not isinstance(row["question_id"], int) or isinstance(row["question_id"], bool):
            raise AvuInputError(path, f"row {i}: question_id", f"must be an integer, got {row['question_id']!r}")
        if not isinstance(row["anser"], str):
            raise AvuInputError(path, f"row {i}: anser", f"must be a string, got {row['anser']!r}")
    return rows


def split_file(path: Path, split: str, version: str) -> tuple[Path, Path]:
    """(question JSON, dataset folder) for a dataset folder or a JSON file given directly."""
    if path.is_file():
        m = re.fullmatch(r"avqa-(\w+?)(_real|_fake)?\.json", path.name)
        if m and m.group(1) != split:
            raise AvuInputError(path, None, f"file is the {m.group(1)!r} split, but split {split!r} was asked for")
        folder = path.parent
        if folder.name in ANNOTATION_VERSIONS:
            if folder.name != version:
                raise AvuInputError(path, None, f"file is annotation version {folder.name!r}, not {version!r}")
            return path, folder.parent
        return path, folder
    for place in (path / version, path / "data" / version):
        candidate = place / f"avqa-{split}.json"
        if candidate.is_file():
            return candidate, place.parent
    raise AvuInputError(path, None, f"{version}/avqa-{split}.json not found (version {version!r}, split {split!r})")


def load_references(path: str | Path, split: str = "test", version: str = DEFAULT_VERSION) -> AvqaReferences:
    """GT of one MUSIC-AVQA split (any split) from the dataset folder or a question JSON."""
    path = Path(path)
    if version not in ANNOTATION_VERSIONS:
        raise AvuInputError(None, "--annotation-version", f"unknown MUSIC-AVQA version {version!r}; known: {list(ANNOTATION_VERSIONS)}")
    if split not in SPLITS:
        raise AvuInputError(None, "--split", f"unknown MUSIC-AVQA split {split!r}; known: {list(SPLITS)}")
    if not path.exists():
        raise AvuInputError(path, None, "annotation path not found")
    file, root = split_file(path, split, version)
    rows = read_rows(file)
    cache: dict[str, int] = {}
    type_index = np.array([parse_type(file, f"row {i}", r["type"], cache) for i, r in enumerate(rows)], dtype=np.int8)
    return make_references(
        [r["question_id"] for r in rows], [str(r["video_id"]) for r in rows], type_index, [r["anser"] for r in rows],
        question_contents=[str(r.get("question_content", "")) for r in rows],
        templ_values=[parse_templ_values(file, f"row {i}", r.get("templ_values")) for i, r in enumerate(rows)],
        split=split, annotation_version=version_label(file, version), files=hash_files(root, [file]), root=root,
        source_file=file,
    )


def make_references(
    question_ids: Sequence[int],
    video_ids: Sequence[str],
    type_index: Sequence[int],
    answers: Sequence[str],
    question_contents: Sequence[str] | None = None,
    templ_values: Sequence[Sequence[str]] | None = None,
    split: str = "test",
    annotation_version: str = DEFAULT_VERSION,
    files: dict[str, str] | None = None,
    root: Path | None = None,
    source_file: Path | None = None,
) -> AvqaReferences:
    """AvqaReferences from per-question arrays (the reader's last step; also for in-memory test splits)."""
    qids = [int(q) for q in question_ids]
    n = len(qids)
    return AvqaReferences(
        benchmark="avqa",
        split=split,
        ids=unique_ids(qids),
        annotation_version=annotation_version,
        files=dict(files or {}),
        root=root,
        answers=[str(a) for a in answers],
        type_index=np.asarray(type_index, dtype=np.int8),
        video_ids=[str(v) for v in video_ids],
        question_ids=np.asarray(qids, dtype=np.int64),
        question_contents=list(question_contents) if question_contents is not None else [""] * n,
        templ_values=[tuple(t) for t in templ_values] if templ_values is not None else [()] * n,
        source_file=source_file,
    )


def hardcoded_test_types(references: AvqaReferences) -> tuple[np.ndarray, Path]:
    """Types of ``json/avqa-test.json`` by row: what the official test() uses for ANY evaluated file.

    ``net_grd_avst/main_avst.py::test`` reads the question type of the i-th evaluated
    question from row i of the hard-coded original test JSON (whatever ``--label_test``
    says), so a json_update or val evaluation gets misaligned types. Returns the (M,)
    type indices of that file and its path.
    """
    root = references.root
    candidates = [] if root is None else [root / "json" / "avqa-test.json", root / "data" / "json" / "avqa-test.json"]
    for file in candidates:
        if file.is_file():
            rows = read_rows(file)
            cache: dict[str, int] = {}
            types = np.array([parse_type(file, f"row {i}", r["type"], cache) for i, r in enumerate(rows)], dtype=np.int8)
            return types, file
    raise AvuInputError(root, None, "the legacy protocol needs json/avqa-test.json in the dataset folder")
