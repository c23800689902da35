"""AVE segment-level accuracy kernels (vectorised numpy; see design/evaluators.md §1).

Two official forms exist and both are here:

* argmax form (AVE-ECCV18 ``supervised_main.compute_acc``, PSP ``measure.compute_acc``,
  CMRAN/CMBS ``compute_accuracy_weak``): each one-second segment predicts the argmax of
  its 29 scores (ties -> lowest index, as ``np.argmax``/``torch.max``); returned as a
  FRACTION by AVE-ECCV18/PSP.
* event-gate form (CMRAN/CMBS ``compute_accuracy_supervised``): a segment predicts the
  argmax of the 28 video-level event scores when ``sigmoid(is_event) > 0.5`` (strict),
  else background (28); returned in PERCENT.
"""

from __future__ import annotations

import numpy as np

BACKGROUND = 28
NUM_CLASSES = 29
NUM_EVENT_CLASSES = 28


def as_labels(gt: np.ndarray) -> np.ndarray:
    """GT as (N, 10) class indices; one-hot (N, 10, 29) input is argmax-ed like the official code."""
    gt = np.asarray(gt)
    return np.argmax(gt, axis=-1) if gt.ndim == 3 else gt.astype(np.int64, copy=False)


def argmax_predictions(scores: np.ndarray) -> np.ndarray:
    """(N, 10, C) scores -> (N, 10) predicted classes; ties resolve to the lowest index."""
    return np.argmax(np.asarray(scores), axis=-1)


def event_gate(is_event: np.ndarray) -> np.ndarray:
    """(N, 10) bool: ``sigmoid(is_event) > 0.5`` (strict) evaluated as the official code does.

    The official code applies ``torch.sigmoid`` in the logits' own precision, so a tiny
    positive logit whose sigmoid rounds to exactly 0.5 is background; float32 logits are
    therefore kept in float32 here, and other types are evaluated in float64.
    """
    import torch

    x = np.asarray(is_event)
    if x.dtype != np.float32:
        x = x.astype(np.float64, copy=False)
    return (torch.sigmoid(torch.from_numpy(np.ascontiguousarray(x))) > 0.5).numpy()


def event_gate_predictions(is_event: np.ndarray, event_scores: np.ndarray) -> np.ndarray:
    """(N, 10) predictions of the CMRAN/CMBS head: video-level event class on gated segments, else 28."""
    event_class = np.argmax(np.asarray(event_scores), axis=-1)  # (N,)
    return np.where(event_gate(is_event), event_class[:, None], BACKGROUND)


def segment_correct(pred: np.ndarray, gt_labels: np.ndarray) -> np.ndarray:
    """(N, 10) bool: predicted class equals the GT class."""
    return np.asarray(pred) == as_labels(gt_labels)


def segment_accuracy(scores: np.ndarray, gt: np.ndarray) -> float:
    """AVE-ECCV18/PSP ``compute_acc``: FRACTION of segments whose argmax equals the GT class.

    ``scores``: (N, 10, 29); ``gt``: (N, 10, 29) one-hot or (N, 10) class indices.
    """
    return float(np.mean(segment_correct(argmax_predictions(scores), gt)))


def event_gate_accuracy(is_event: np.ndarray, event_scores: np.ndarray, gt: np.ndarray) -> float:
    """CMRAN/CMBS ``compute_accuracy_supervised``: PERCENT of correct segments (strict 0.5 gate)."""
    correct = segment_correct(event_gate_predictions(is_event, event_scores), gt)
    return float(correct.sum() / correct.size * 100.0)


def weak_accuracy_time_first(scores_time_first: np.ndarray, gt: np.ndarray) -> float:
    """CMRAN/CMBS ``compute_accuracy_weak``: argmax accuracy in PERCENT of time-first (10, N, 29) scores."""
    pred = argmax_predictions(scores_time_first).T  # the official code transposes the argmax
    correct = segment_correct(pred, gt)
    return float(correct.sum() / correct.size * 100.0)
