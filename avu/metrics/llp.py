"""LLP / AVVP metrics (official ``YapengTian/AVVP-ECCV20``), vectorised over videos and classes.

Official semantics (``main_avvp.py::eval`` and ``utils/eval_metrics.py``):

* post-processing: ``o = [global_prob >= 0.5]`` gates ``[frame_prob >= 0.5]`` per modality;
  audio-visual = audio AND visual (for predictions and for GT alike);
* segment level, per video and modality: per class TP/FP/FN over the 10 segments,
  F = 2TP / (2TP + FP + FN), averaged over the classes with any prediction or GT
  (1.0 when there is none); "Event@AV" pools the audio and visual counts before the F;
* event level: events are maximal runs of 1s; a predicted event is a TP when it reaches
  IoU >= 0.5 with ANY GT event (greedy, not one-to-one), else an FP; a GT event is an FN
  when no predicted event reaches IoU >= 0.5 with it; then the same macro-F rules.

Per-video kernels return fractions in the official order ``[f_a, f_v, f_event, f_av]``
(the 4-tuple ``segment_level`` / ``event_level`` return); `aggregate` returns percent.

How the event level is vectorised: a 10-segment row has 2**10 possible patterns and
55 possible runs ``[s, e)``. One (1024, 55) table says which runs are the maximal runs
of each pattern; the (55, 55) IoU-match matrix then gives, by two matrix products, the
TP / FP / FN of every (predicted pattern, GT pattern) pair. Scoring a video is then a
table look-up per class and modality. Segment-level counts are popcounts of the codes
(TP = |p & g|, ...), and AV codes are the bitwise AND of the audio and visual codes.

``event_wise_metric`` itself takes event lists, which may hold events a binary row cannot
(adjacent ``[0, 2), [2, 4)``, overlapping); `event_list_counts` and `event_level_lists` score
those directly by interval arithmetic.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

NUM_CLASSES = 25
NUM_SEGMENTS = 10
#: order of the per-video 4-tuples, as the official functions return them
TUPLE_ORDER = ("audio", "visual", "event_av", "av")

_POWERS = (1 << np.arange(NUM_SEGMENTS)).astype(np.int64)


def binarize(
    global_prob: np.ndarray,
    frame_prob: np.ndarray,
    video_threshold: float = 0.5,
    frame_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Official post-processing -> ``bool (N, 25, 10)`` audio and visual predictions.

    ``global_prob (N, 25)``; ``frame_prob (N, 10, 2, 25)`` with ``[:, :, 0]`` audio and
    ``[:, :, 1]`` visual. Thresholds are inclusive (``>=``).
    """
    gate = np.asarray(global_prob) >= video_threshold  # (N, 25)
    frames = np.asarray(frame_prob) >= frame_threshold  # (N, 10, 2, 25)
    audio = frames[:, :, 0, :].transpose(0, 2, 1) & gate[:, :, None]
    visual = frames[:, :, 1, :].transpose(0, 2, 1) & gate[:, :, None]
    return audio, visual


def macro_f(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """Per-video mean of per-class F over active classes (1.0 when none); counts ``(N, C)``.

    The class loop adds in the official order, so each video's value is bit-identical to
    ``sum(F) / len(F)`` and does not depend on the other videos of the batch.
    """
    tp = tp.astype(np.float64)
    fp = fp.astype(np.float64)
    fn = fn.astype(np.float64)
    active = (tp + fp != 0) | (tp + fn != 0)
    denominator = np.where(active, 2 * tp + (fn + fp), 1.0)
    f = np.where(active, 2 * tp / denominator, 0.0)
    total = np.zeros(tp.shape[0])
    for c in range(tp.shape[1]):  # sequential, like Python's sum() over the class list
        total = total + f[:, c]
    count = active.sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), 1.0)


def _four(tp_a, fp_a, fn_a, tp_v, fp_v, fn_v, tp_av, fp_av, fn_av) -> np.ndarray:
    """(N, 4) = [f_a, f_v, f_event (pooled a+v counts), f_av]."""
    return np.stack(
        [
            macro_f(tp_a, fp_a, fn_a),
            macro_f(tp_v, fp_v, fn_v),
            macro_f(tp_a + tp_v, fp_a + fp_v, fn_a + fn_v),
            macro_f(tp_av, fp_av, fn_av),
        ],
        axis=1,
    )


def pattern_codes(rows: np.ndarray) -> np.ndarray:
    """Integer code 0..1023 of each binary 10-segment row (last axis); bit t = segment t."""
    return np.asarray(rows).astype(bool).astype(np.int64) @ _POWERS


#: number of ones of each 10-bit pattern
POPCOUNT = ((np.arange(1 << NUM_SEGMENTS)[:, None] >> np.arange(NUM_SEGMENTS)) & 1).sum(axis=1)
_FULL = (1 << NUM_SEGMENTS) - 1


def _segment_counts(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TP, FP, FN over the segments of each class, from pattern codes."""
    return POPCOUNT[pred & gt], POPCOUNT[pred & (_FULL ^ gt)], POPCOUNT[(_FULL ^ pred) & gt]


def _codes(pred_a, pred_v, gt_a, gt_v) -> tuple[np.ndarray, ...]:
    """Pattern codes of a, v, av predictions and GT (AV = bitwise AND of the audio and visual codes)."""
    pa, pv, ga, gv = (pattern_codes(x) for x in (pred_a, pred_v, gt_a, gt_v))
    return pa, pv, pa & pv, ga, gv, ga & gv


def _segment_level_codes(pa, pv, pav, ga, gv, gav) -> np.ndarray:
    return _four(*_segment_counts(pa, ga), *_segment_counts(pv, gv), *_segment_counts(pav, gav))


def segment_level(pred_a: np.ndarray, pred_v: np.ndarray, gt_a: np.ndarray, gt_v: np.ndarray) -> np.ndarray:
    """Official ``segment_level`` for many videos: ``float64 (N, 4)`` = [f_a, f_v, f_event, f_av].

    Inputs are binary ``(N, 25, 10)`` class x segment arrays; AV = audio AND visual.
    """
    return _segment_level_codes(*_codes(pred_a, pred_v, gt_a, gt_v))


# -- event level ---------------------------------------------------------------------------

#: every possible run [start, end) over 10 segments, as (55, 2) bounds and (55, 10) masks
RUN_BOUNDS = np.array([(s, e) for s in range(NUM_SEGMENTS) for e in range(s + 1, NUM_SEGMENTS + 1)], dtype=np.int64)
RUN_MASKS = (np.arange(NUM_SEGMENTS) >= RUN_BOUNDS[:, :1]) & (np.arange(NUM_SEGMENTS) < RUN_BOUNDS[:, 1:])


@lru_cache(maxsize=1)
def pattern_runs() -> np.ndarray:
    """``bool (1024, 55)``: which runs are the maximal runs (events) of each pattern."""
    bits = ((np.arange(1 << NUM_SEGMENTS)[:, None] >> np.arange(NUM_SEGMENTS)) & 1).astype(bool)  # (1024, 10)
    padded = np.pad(bits, ((0, 0), (1, 1)))  # a 0 on both sides so every run has two edges
    starts, ends = RUN_BOUNDS[:, 0], RUN_BOUNDS[:, 1]
    inside = (bits.astype(np.int64) @ RUN_MASKS.T.astype(np.int64)) == (ends - starts)  # run is all ones
    maximal = ~padded[:, starts] & ~padded[:, ends + 1]  # segment before and after are 0
    return inside & maximal


@lru_cache(maxsize=8)
def run_matches(iou_threshold: float = 0.5) -> np.ndarray:
    """``bool (55, 55)``: run i and run j match, ``|i & j| >= iou_threshold * |i | j|`` (official test)."""
    masks = RUN_MASKS.astype(np.int64)
    inter = masks @ masks.T
    union = masks.sum(1)[:, None] + masks.sum(1)[None, :] - inter
    return inter.astype(np.float64) >= iou_threshold * union.astype(np.float64)


@lru_cache(maxsize=8)
def pattern_pair_counts(iou_threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``int64 (1024, 1024)`` TP, FP, FN of official ``event_wise_metric`` for (pred, GT) patterns."""
    runs = pattern_runs().astype(np.float64)  # (P, 55)
    match = run_matches(iou_threshold).astype(np.float64)  # (55, 55) [pred run, gt run]
    pred_hits_any = (runs @ match.T) > 0  # [g, r]: pred run r matches some event of GT pattern g
    gt_hit_by_any = (runs @ match) > 0  # [p, r]: GT run r matches some event of pred pattern p
    tp = np.rint(runs @ pred_hits_any.T.astype(np.float64)).astype(np.int64)  # [p, g]
    matched_gt = np.rint(gt_hit_by_any.astype(np.float64) @ runs.T).astype(np.int64)  # [p, g]
    n_events = runs.sum(axis=1).astype(np.int64)
    fp = n_events[:, None] - tp
    fn = n_events[None, :] - matched_gt
    for table in (tp, fp, fn):
        table.setflags(write=False)
    return tp, fp, fn


def _event_counts(pred: np.ndarray, gt: np.ndarray, iou_threshold: float):
    """TP, FP, FN of ``event_wise_metric`` for each class, from pattern codes."""
    tp, fp, fn = pattern_pair_counts(iou_threshold)
    return tp[pred, gt], fp[pred, gt], fn[pred, gt]


def _event_level_codes(pa, pv, pav, ga, gv, gav, iou_threshold: float) -> np.ndarray:
    return _four(*_event_counts(pa, ga, iou_threshold), *_event_counts(pv, gv, iou_threshold),
                 *_event_counts(pav, gav, iou_threshold))


def event_level(
    pred_a: np.ndarray, pred_v: np.ndarray, gt_a: np.ndarray, gt_v: np.ndarray, iou_threshold: float = 0.5
) -> np.ndarray:
    """Official ``event_level`` for many videos: ``float64 (N, 4)`` = [f_a, f_v, f_event, f_av]."""
    return _event_level_codes(*_codes(pred_a, pred_v, gt_a, gt_v), iou_threshold)


def extract_events(row: np.ndarray) -> list[tuple[int, int]]:
    """Events ``[start, end)`` of one binary 10-segment row (official ``extract_event``, as bounds)."""
    runs = pattern_runs()[int(pattern_codes(np.asarray(row)))]
    return [tuple(int(b) for b in RUN_BOUNDS[r]) for r in np.flatnonzero(runs)]


def event_wise_counts(pred_row: np.ndarray, gt_row: np.ndarray, iou_threshold: float = 0.5) -> tuple[int, int, int]:
    """(TP, FP, FN) of official ``event_wise_metric`` for the events (maximal runs) of two binary rows.

    For events that are not maximal runs of a row (adjacent, overlapping), see `event_list_counts`.
    """
    tp, fp, fn = pattern_pair_counts(iou_threshold)
    p, g = int(pattern_codes(np.asarray(pred_row))), int(pattern_codes(np.asarray(gt_row)))
    return int(tp[p, g]), int(fp[p, g]), int(fn[p, g])


Event = tuple[int, int]


def _event_bounds(events: Sequence[Event] | None, num_segments: int, side: str) -> np.ndarray:
    """(E, 2) int64 ``[start, end)`` bounds of an event list; ``None`` is no events (as officially)."""
    bounds = np.asarray(list(events or []), dtype=np.int64).reshape(-1, 2)
    bad = (bounds[:, 0] < 0) | (bounds[:, 1] <= bounds[:, 0]) | (bounds[:, 1] > num_segments)
    if bad.any():
        start, end = bounds[np.flatnonzero(bad)[0]]
        raise ValueError(f"{side} event [{start}, {end}) is not a non-empty run of segments within [0, {num_segments})")
    return bounds


def event_list_counts(
    pred_events: Sequence[Event] | None, gt_events: Sequence[Event] | None,
    iou_threshold: float = 0.5, num_segments: int = NUM_SEGMENTS,
) -> tuple[int, int, int]:
    """(TP, FP, FN) of official ``event_wise_metric`` on event lists of ``[start, end)`` segment runs.

    The event-list form of `event_wise_counts`: events need not be maximal runs, so adjacent
    (``[0, 2), [2, 4)``), overlapping or repeated events count one each, which no binary row
    can express. A predicted event is a TP when it reaches IoU >= ``iou_threshold`` with any GT
    event, else an FP; a GT event reached by no predicted event is an FN (not one-to-one).
    """
    p = _event_bounds(pred_events, num_segments, "predicted")
    g = _event_bounds(gt_events, num_segments, "GT")
    inter = np.maximum(0, np.minimum(p[:, None, 1], g[None, :, 1]) - np.maximum(p[:, None, 0], g[None, :, 0]))
    union = (p[:, 1] - p[:, 0])[:, None] + (g[:, 1] - g[:, 0])[None, :] - inter
    # the official float test, |p & g| >= 0.5 * |p | g|, on exact integer counts
    match = inter.astype(np.float64) >= iou_threshold * union.astype(np.float64)
    tp = int(match.any(axis=1).sum())
    return tp, len(p) - tp, int((~match.any(axis=0)).sum())


def event_level_lists(
    pred_a: Sequence, pred_v: Sequence, pred_av: Sequence, gt_a: Sequence, gt_v: Sequence, gt_av: Sequence,
    iou_threshold: float = 0.5, num_segments: int = NUM_SEGMENTS,
) -> np.ndarray:
    """Official ``event_level`` of one video from per-class event lists: ``float64 (4,)`` =
    [f_a, f_v, f_event, f_av]. Each argument holds one event list (or ``None``) per class;
    the AV lists are given, not derived (the official code extracts them from ``SO_a * SO_v``).
    """
    groups = ((pred_a, gt_a), (pred_v, gt_v), (pred_av, gt_av))
    if len({len(x) for pair in groups for x in pair}) != 1:
        raise ValueError("every argument needs one event list per class")
    counts = [np.array([event_list_counts(p, g, iou_threshold, num_segments) for p, g in zip(*pair)],
                       dtype=np.int64).reshape(-1, 3).T for pair in groups]  # (3, C) each: TP, FP, FN
    return _four(*(c[k][None] for c in counts for k in range(3)))[0]


# -- whole evaluation ------------------------------------------------------------------------

#: columns of `per_video_scores`: segment-level then event-level, each in TUPLE_ORDER
PER_VIDEO_COLUMNS = tuple(f"{level}_{m}" for level in ("segment", "event") for m in TUPLE_ORDER)


def per_video_scores(
    pred_a: np.ndarray, pred_v: np.ndarray, gt_a: np.ndarray, gt_v: np.ndarray, iou_threshold: float = 0.5
) -> np.ndarray:
    """``float64 (N, 8)``: segment-level 4-tuple then event-level 4-tuple of each video (fractions)."""
    codes = _codes(pred_a, pred_v, gt_a, gt_v)
    return np.concatenate([_segment_level_codes(*codes), _event_level_codes(*codes, iou_threshold)], axis=1)


def aggregate(per_video: np.ndarray) -> dict[str, float]:
    """The 10 official numbers, in percent, from `per_video_scores` rows in evaluation order.

    Means over videos as ``100 * np.mean``; Type@AV = (AV + A + V) / 3 of those means (the
    official expression and order); Event@AV = mean of the pooled per-video F.
    """
    per_video = np.asarray(per_video, dtype=np.float64)
    out: dict[str, float] = {}
    for level, offset in (("segment", 0), ("event", 4)):
        a, v, pooled, av = (100 * np.mean(per_video[:, offset + k]) for k in range(4))
        out[f"{level}_audio"] = float(a)
        out[f"{level}_visual"] = float(v)
        out[f"{level}_av"] = float(av)
        out[f"{level}_type_av"] = float((av + a + v) / 3.0)
        out[f"{level}_event_av"] = float(pooled)
    return out


def evaluate(
    global_prob: np.ndarray,
    frame_prob: np.ndarray,
    gt_a: np.ndarray,
    gt_v: np.ndarray,
    video_threshold: float = 0.5,
    frame_threshold: float = 0.5,
    iou_threshold: float = 0.5,
) -> dict[str, float]:
    """Functional form of the whole official ``eval()``: probabilities + dense GT -> percent."""
    pred_a, pred_v = binarize(global_prob, frame_prob, video_threshold, frame_threshold)
    return aggregate(per_video_scores(pred_a, pred_v, gt_a, gt_v, iou_threshold))
