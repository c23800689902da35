"""MUSIC-AVQA evaluator: the 13 official accuracies (percent), answers matched by string.

Records are the predicted answer strings; ``reduce`` compares them with the GT answers
and pools the counts per question type, per modality and overall (micro averages, as
``net_grd_avst/main_avst.py::test`` does). The primary metric is ``overall``; the
AV-Unified paper's published MUSIC-AVQA number is ``audio_counting`` (72.23).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from avu.benchmarks import BenchmarkSpec
from avu.data.annotations.avqa import (
    ANNOTATION_VERSIONS,
    ANSWER_INDEX,
    DEFAULT_VERSION,
    QUESTION_TYPES,
    AvqaReferences,
    hardcoded_test_types,
    load_references,
)
from avu.errors import AvuInputError
from avu.evaluators.base import Evaluator, MetricInfo, canonical_rows
from avu.metrics import avqa as kernels
from avu.predictions.avqa import check_answers, read_predictions
from avu.protocols import Protocol, register

_OFFICIAL_TEST = "GeWu-Lab/MUSIC-AVQA@cc880951::net_grd_avst/main_avst.py::test"

POOLED = register(
    Protocol(
        benchmark="avqa",
        name="avqa_pooled",
        version=1,
        description=(
            "accuracy per question type (9), per modality pooled over its types (micro), and overall "
            "(micro over all questions); the answer string must equal the GT answer exactly"
        ),
        params={"averaging": "micro", "type_source": "annotation rows", "answer_match": "exact string"},
        source=f"{_OFFICIAL_TEST}; GeWu-Lab/MUSIC-AVQA@cc880951::net_grd_baseline/main_qa_grd_baseline.py::test",
    ),
    default=True,
)
LEGACY_JSON_TYPES = register(
    Protocol(
        benchmark="avqa",
        name="avqa_legacy_json_types",
        version=1,
        description=(
            "LEGACY, reproduces a bug: as avqa_pooled, but the type of the i-th evaluated question is read from "
            "row i of the original json/avqa-test.json, as the official test() does whatever file it evaluates "
            "(misaligned types on json_update; identical to avqa_pooled on the json test split)"
        ),
        params={"averaging": "micro", "type_source": "json/avqa-test.json row index", "answer_match": "exact string"},
        source=_OFFICIAL_TEST,
    )
)

_TYPE_LABELS = [f"{m}/{t}" for m, t in QUESTION_TYPES]
_MODALITY_TITLES = {"audio": "Audio", "visual": "Visual", "av": "Audio-Visual"}


def count_out_of_vocab(answers: list[str]) -> int:
    """How many answers lie outside the 42-answer vocabulary (they count wrong)."""
    if set(answers) <= ANSWER_INDEX.keys():  # the usual case, at C speed
        return 0
    return sum(1 for a in answers if a not in ANSWER_INDEX)


def _metric_infos() -> dict[str, MetricInfo]:
    """The 13 metrics in the official print order: each modality's types, then its pooled value."""
    out = {}
    for modality, members in kernels.MODALITIES.items():
        for i in members:
            m, t = QUESTION_TYPES[i]
            out[kernels.TYPE_NAMES[i]] = MetricInfo(f"accuracy on {m} {t} questions")
        out[modality] = MetricInfo(f"{_MODALITY_TITLES[modality]} accuracy pooled over its question types (micro, "
                                   "as the official 'Avg')")
    out["overall"] = MetricInfo("accuracy over all questions (micro)")
    return out


class AvqaEvaluator(Evaluator):
    """Accumulating MUSIC-AVQA evaluator (protocols ``avqa_pooled``, ``avqa_legacy_json_types``)."""

    benchmark = "avqa"
    metrics = _metric_infos()
    primary_metric = "overall"
    references: AvqaReferences

    def __init__(self, references: AvqaReferences, protocol: Protocol | str | None = None,
                 allow_partial: bool = False) -> None:
        super().__init__(references, protocol=protocol, allow_partial=allow_partial)
        self._gt = np.asarray(references.answers, dtype=object)
        self._legacy_file = None
        if self.protocol.params["type_source"] == "annotation rows":
            self._types = references.type_index
        else:
            self._types, self._legacy_file = hardcoded_test_types(references)

    def make_records(self, ids: Sequence[str], predictions: Any) -> list[str]:
        if not isinstance(predictions, dict) or "answers" not in predictions:
            raise AvuInputError(None, "answers", "MUSIC-AVQA predictions must be {'answers': [answer strings]}")
        return check_answers(None, ids, predictions["answers"])

    def reduce(self, ids: list[str], records: list[str]) -> tuple[dict[str, float], dict[str, Any]]:
        rows = canonical_rows(self.references, ids)
        if len(self._types) <= rows.max():
            raise AvuInputError(self._legacy_file, None, f"has {len(self._types)} rows; the legacy protocol needs one per "
                                f"evaluated row (up to row {int(rows.max())})")
        correct = kernels.answer_correct(records, self._gt[rows])
        c, n = kernels.type_counts(correct, self._types[rows])
        metrics = kernels.accuracies_from_counts(c, n, int(correct.sum()), int(correct.size))
        extras: dict[str, Any] = {
            "questions": int(correct.size),
            "correct": int(correct.sum()),
            "n_per_type": dict(zip(_TYPE_LABELS, map(int, n))),
            "correct_per_type": dict(zip(_TYPE_LABELS, map(int, c))),
            "out_of_vocab_answers": count_out_of_vocab(records),
        }
        if self._legacy_file is not None:
            extras["legacy_type_file"] = str(self._legacy_file)
        return metrics, extras


SPEC = BenchmarkSpec(
    id="avqa",
    title="MUSIC-AVQA: audio-visual question answering (accuracy per question type)",
    evaluator=AvqaEvaluator,
    load_references=load_references,
    read_predictions=read_predictions,
    annotation_versions=ANNOTATION_VERSIONS,
    default_annotation_version=DEFAULT_VERSION,
    prediction_formats=(
        "JSON envelope {id: {answer: str}} or NPZ ids + answers (N,) str; answer_index + ans_vocab "
        "map indices by string (docs/predictions/avqa.md)"
    ),
    citation="Li, Wei, Liu, Wen, Lu, Hu. Learning to Answer Questions in Dynamic Audio-Visual Scenarios. CVPR 2022.",
)
