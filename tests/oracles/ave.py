"""Slow AVE oracle: the official loops re-expressed sample by sample, in plain Python.

* ``compute_acc`` (AVE-ECCV18 ``supervised_main``, PSP ``measure``): for every video and
  segment, the argmax of the scores and of the one-hot GT, then the share of equal pairs
  (a FRACTION, as ``accuracy_score``).
* ``compute_accuracy_supervised`` (CMRAN/CMBS): per video, the argmax of the 28 event
  scores; per segment, that class when sigmoid(is_event) > 0.5 else background 28; the
  share of correct segments in PERCENT.

Independent of the fast path: no numpy reductions, Python floats and ``math.exp``
(float64 logits, which is what the tests feed it).
"""

from __future__ import annotations

import math
from typing import Sequence

BACKGROUND = 28


def first_argmax(values: Sequence[float]) -> int:
    """Index of the first maximum (``np.argmax`` / ``torch.max`` tie rule)."""
    best = 0
    for c in range(1, len(values)):
        if values[c] > values[best]:
            best = c
    return best


def gt_class(one_hot_or_label) -> int:
    return first_argmax(one_hot_or_label) if isinstance(one_hot_or_label, (list, tuple)) else int(one_hot_or_label)


def compute_acc(gt, scores) -> float:
    """FRACTION of segments whose argmax score equals the GT class (gt: one-hot (N,10,29) or (N,10))."""
    gt, scores = gt.tolist(), scores.tolist()
    hits = total = 0
    for video_gt, video_scores in zip(gt, scores):
        for seg_gt, seg_scores in zip(video_gt, video_scores):
            hits += int(first_argmax(seg_scores) == gt_class(seg_gt))
            total += 1
    return hits / total


def compute_accuracy_supervised(gt, is_event, event_scores) -> float:
    """PERCENT of correct segments under the CMRAN/CMBS strict sigmoid gate."""
    gt, is_event, event_scores = gt.tolist(), is_event.tolist(), event_scores.tolist()
    hits = total = 0
    for video_gt, logits, classes in zip(gt, is_event, event_scores):
        event_class = first_argmax(classes)
        for seg_gt, logit in zip(video_gt, logits):
            prob = 1.0 / (1.0 + math.exp(-logit)) if logit > -700 else 0.0
            pred = event_class if prob > 0.5 else BACKGROUND
            hits += int(pred == gt_class(seg_gt))
            total += 1
    return hits * (100.0 / total)
