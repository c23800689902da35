"""MUSIC-AVQA prediction files (docs/predictions/avqa.md): answer strings, JSON or NPZ.

Answers are matched to the GT by STRING (never by index: every model may order its
answer vocabulary differently). Accepted forms:

* JSON envelope ``{"benchmark": "avqa", "predictions": {id: {"answer": "two"}}}`` (a bare
  string ``{id: "two"}`` and the key ``"answers"`` are accepted too), or per sample
  ``{"answer_index": 0}`` with a top-level ``"ans_vocab": [...]`` list that maps indices to strings;
* NPZ with ``ids`` and ``answers`` (N,) strings, or ``answer_index`` (N,) ints plus
  ``ans_vocab`` (V,) strings.

Any string is a valid answer; one outside the 42-answer vocabulary simply counts wrong
(the official model can only emit vocabulary answers; the result's extras count them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from avu.errors import AvuInputError
from avu.predictions.ave import is_npz
from avu.predictions.common import check_benchmark, check_ids, load_json, load_npz, npz_ids, open_file
from avu.references import References

NPZ_FIELDS = ("ids", "benchmark", "answers", "answer_index", "ans_vocab")
SAMPLE_KEYS = ("answer", "answers", "answer_index")


def check_vocab(path: Path | None, vocab: Any) -> list[str]:
    """A user answer vocabulary: a non-empty list of distinct strings."""
    if isinstance(vocab, np.ndarray):
        if vocab.ndim != 1 or vocab.dtype.kind not in "UO":
            raise AvuInputError(path, "ans_vocab", f"must be a 1-D string array, got {vocab.dtype} {vocab.shape}")
        vocab = vocab.tolist()
    if not isinstance(vocab, list) or not vocab:
        raise AvuInputError(path, "ans_vocab", "must be a non-empty list of answer strings")
    for i, a in enumerate(vocab):
        if not isinstance(a, str):
            raise AvuInputError(path, f"ans_vocab[{i}]", f"expected a string, got {type(a).__name__}")
    seen: set[str] = set()
    for i, a in enumerate(vocab):
        if a in seen:
            raise AvuInputError(path, f"ans_vocab[{i}]", f"answer {a!r} appears twice")
        seen.add(a)
    return vocab


def answers_from_indices(path: Path | None, ids: Sequence[str], index: Any, vocab: list[str]) -> list[str]:
    """Map answer indices through ``vocab``; errors name the sample."""
    arr = np.asarray(index)
    if arr.dtype.kind not in "iu":
        raise AvuInputError(path, "answer_index", f"wrong dtype {arr.dtype} (expected integers)")
    if arr.shape != (len(ids),):
        raise AvuInputError(path, "answer_index", f"wrong shape {tuple(arr.shape)}, expected ({len(ids)},)")
    bad = (arr < 0) | (arr >= len(vocab))
    if bad.any():
        row = int(np.argmax(bad))
        raise AvuInputError(path, f"sample {ids[row]!r}", f"answer_index {int(arr[row])} outside 0..{len(vocab) - 1} of ans_vocab")
    return [vocab[i] for i in arr.tolist()]


def check_answers(path: Path | None, ids: Sequence[str], answers: Any) -> list[str]:
    """Answer strings aligned with ``ids`` (numpy string arrays and lists accepted)."""
    if isinstance(answers, np.ndarray):
        if answers.dtype.kind not in "UO":
            raise AvuInputError(path, "answers", f"wrong dtype {answers.dtype} (expected strings)")
        if answers.ndim != 1:
            raise AvuInputError(path, "answers", f"wrong shape {tuple(answers.shape)}, expected ({len(ids)},)")
        answers = answers.tolist()
    if isinstance(answers, str) or not isinstance(answers, (list, tuple)):
        raise AvuInputError(path, "answers", "must be a list of answer strings")
    if len(answers) != len(ids):
        raise AvuInputError(path, "answers", f"wrong shape ({len(answers)},), expected ({len(ids)},)")
    if not set(map(type, answers)) <= {str}:  # the usual all-str case at C speed; else find the culprit
        for sid, a in zip(ids, answers):
            if not isinstance(a, str):
                raise AvuInputError(path, f"sample {sid!r}", f"answer must be a string, got {type(a).__name__}")
        answers = [str(a) for a in answers]  # str subclasses (numpy.str_) -> plain str
    return list(answers)


def _json_answers(path: Path, obj: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    preds = obj["predictions"]
    ids = list(preds)
    vocab = check_vocab(path, obj["ans_vocab"]) if "ans_vocab" in obj else None
    answers: list[str] = []
    indices: list[Any] = []
    for sid in ids:
        entry = preds[sid]
        where = f"sample {sid!r}"
        if isinstance(entry, dict):
            keys = [k for k in entry if k in SAMPLE_KEYS]
            unknown = [k for k in entry if k not in SAMPLE_KEYS]
            if unknown:
                raise AvuInputError(path, f"{where}: {unknown[0]}", f"unknown field; expected one of {', '.join(SAMPLE_KEYS)}")
            if len(keys) != 1:
                raise AvuInputError(path, where, f"needs exactly one of {', '.join(SAMPLE_KEYS)}")
            key, value = keys[0], entry[keys[0]]
        else:
            key, value = "answer", entry
        if key == "answer_index":
            if vocab is None:
                raise AvuInputError(path, "ans_vocab", "field missing (needed to map answer_index to answer strings)")
            if not isinstance(value, int) or isinstance(value, bool):
                raise AvuInputError(path, f"{where}: answer_index", f"must be an integer, got {value!r}")
            if not 0 <= value < len(vocab):  # before numpy: 10**30 would overflow int64
                raise AvuInputError(path, where, f"answer_index {value} outside 0..{len(vocab) - 1} of ans_vocab")
            indices.append(value)
            answers.append("")  # filled below
        else:
            if not isinstance(value, str):
                raise AvuInputError(path, f"{where}: {key}", f"must be a string, got {type(value).__name__}")
            indices.append(None)
            answers.append(value)
    if any(i is not None for i in indices):
        if not all(i is not None for i in indices):
            first = next(sid for sid, i in zip(ids, indices) if i is None)
            raise AvuInputError(path, f"sample {first!r}", "mixes answer strings and answer_index in one file")
        answers = answers_from_indices(path, ids, np.asarray(indices, dtype=np.int64), vocab)
    return ids, answers


def read_predictions(path: str | Path, references: References) -> tuple[list[str], dict[str, list[str]]]:
    """(ids, {"answers": [...]}) of a MUSIC-AVQA prediction file, validated against ``references``."""
    path = open_file(path)  # refuses folders
    if is_npz(path):
        data = load_npz(path)
        ids = npz_ids(path, data, "avqa")
        unknown = sorted(set(data) - set(NPZ_FIELDS))
        if unknown:
            raise AvuInputError(path, unknown[0], "unknown array; expected answers, or answer_index + ans_vocab")
        if ("answers" in data) == ("answer_index" in data):
            raise AvuInputError(path, "answers", "give exactly one of 'answers' or 'answer_index' (+ 'ans_vocab')")
        if "answer_index" in data:
            if "ans_vocab" not in data:
                raise AvuInputError(path, "ans_vocab", "array missing (needed to map answer_index to answer strings)")
            answers = answers_from_indices(path, ids, data["answer_index"], check_vocab(path, data["ans_vocab"]))
        else:
            answers = check_answers(path, ids, data["answers"])
    else:
        obj = load_json(path)
        if not isinstance(obj, dict):
            raise AvuInputError(path, None, "top level must be an object with a 'predictions' field")
        check_benchmark(path, obj.get("benchmark"), "avqa")
        preds = obj.get("predictions")
        if preds is None:
            raise AvuInputError(path, "predictions", "field missing")
        if not isinstance(preds, dict):
            raise AvuInputError(path, "predictions", "must be an object mapping sample id to prediction")
        if not preds:
            raise AvuInputError(path, "predictions", "no predictions")
        ids, answers = _json_answers(path, obj)
    check_ids(path, ids, references)
    return ids, {"answers": answers}
