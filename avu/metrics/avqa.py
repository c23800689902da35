"""MUSIC-AVQA accuracy kernels (vectorised numpy; see design/evaluators.md §5).

The official ``net_grd_avst/main_avst.py::test`` prints 13 micro accuracies in PERCENT:
each of the 9 question types (correct / count within the type), the three modality
"Avg" values POOLED over their types (not the mean of the type accuracies), and the
overall accuracy over every question. These kernels return the same 13 numbers, in
percent, keyed by the snake_case names below (the question types of
``avu.data.annotations.avqa.QUESTION_TYPES``, in that order).
"""

from __future__ import annotations

import numpy as np

#: stable snake_case names of the 9 question types (result keys), in the official print order
TYPE_NAMES: tuple[str, ...] = (
    "audio_counting", "audio_comparative", "visual_counting", "visual_location",
    "av_existential", "av_counting", "av_location", "av_comparative", "av_temporal",
)
#: modality -> indices into TYPE_NAMES (the official pooled "Avg" groups)
MODALITIES: dict[str, tuple[int, ...]] = {"audio": (0, 1), "visual": (2, 3), "av": (4, 5, 6, 7, 8)}
NUM_TYPES = len(TYPE_NAMES)


def type_counts(correct: np.ndarray, type_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(correct per type, questions per type), each (9,) int64."""
    type_index = np.asarray(type_index, dtype=np.int64)
    n = np.bincount(type_index, minlength=NUM_TYPES)
    c = np.bincount(type_index, weights=np.asarray(correct, dtype=np.float64), minlength=NUM_TYPES)
    return c.astype(np.int64), n.astype(np.int64)


def accuracies_from_counts(correct_per_type: np.ndarray, n_per_type: np.ndarray,
                           n_correct_total: int | None = None, n_total: int | None = None) -> dict[str, float]:
    """The 13 official numbers (percent) from per-type counts; groups without questions are omitted.

    ``n_correct_total``/``n_total`` default to the sums over the types (they differ only when
    some questions have no type, which the official code counts in Overall alone).
    """
    out: dict[str, float] = {}
    for modality, members in MODALITIES.items():  # the official print order: types, then their pool
        for i in members:
            if n_per_type[i]:
                out[TYPE_NAMES[i]] = 100.0 * int(correct_per_type[i]) / int(n_per_type[i])
        c = sum(int(correct_per_type[i]) for i in members)
        n = sum(int(n_per_type[i]) for i in members)
        if n:
            out[modality] = 100.0 * c / n
    c_all = int(correct_per_type.sum()) if n_correct_total is None else int(n_correct_total)
    n_all = int(n_per_type.sum()) if n_total is None else int(n_total)
    if n_all:
        out["overall"] = 100.0 * c_all / n_all
    return out


def answer_correct(pred_answers, gt_answers) -> np.ndarray:
    """(N,) bool: exact string equality (no normalisation, as the official label indices)."""
    return np.asarray(pred_answers, dtype=object) == np.asarray(gt_answers, dtype=object)


def avqa_accuracies(pred_answers, gt_answers, type_index: np.ndarray) -> dict[str, float]:
    """The 13 official MUSIC-AVQA accuracies (percent) of answer strings against GT answers."""
    correct = answer_correct(pred_answers, gt_answers)
    c, n = type_counts(correct, type_index)
    return accuracies_from_counts(c, n, int(correct.sum()), int(correct.size))


def avqa_accuracies_from_indices(pred_index: np.ndarray, target_index: np.ndarray,
                                 type_index: np.ndarray) -> dict[str, float]:
    """Same numbers from label indices (the official test() compares argmax index with label index)."""
    correct = np.asarray(pred_index) == np.asarray(target_index)
    c, n = type_counts(correct, type_index)
    return accuracies_from_counts(c, n, int(correct.sum()), int(correct.size))
