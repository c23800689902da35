"""Slow oracle for LLP: the official AVVP evaluation loops, re-expressed one video at a time.

Deliberately plain Python (lists, explicit loops, one class and one event at a time) so it
reads like ``main_avvp.py::eval`` + ``utils/eval_metrics.py``; the fast kernels in
``avu.metrics.llp`` must agree with it. Per-video tuples are ``(f_a, f_v, f_event, f_av)``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

C, T = 25, 10


def build_gt(filename: str, rows: Sequence[tuple[str, int, int, int]]) -> np.ndarray:
    """(25, 10) GT of one video from (filename, onset, offset, class index) rows, exact match."""
    gt = np.zeros((C, T))
    for name, onset, offset, cls in rows:
        if name == filename:
            gt[cls, onset:offset] = 1
    return gt


def binarize_video(global_prob: np.ndarray, frame_prob: np.ndarray,
                   video_thr: float = 0.5, frame_thr: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(25, 10) audio and visual predictions of one video."""
    so_a = np.zeros((C, T))
    so_v = np.zeros((C, T))
    for c in range(C):
        if global_prob[c] >= video_thr:
            for t in range(T):
                so_a[c, t] = 1.0 if frame_prob[t, 0, c] >= frame_thr else 0.0
                so_v[c, t] = 1.0 if frame_prob[t, 1, c] >= frame_thr else 0.0
    return so_a, so_v


def _macro(tp: list[float], fp: list[float], fn: list[float]) -> float:
    scores = []
    for c in range(len(tp)):
        if tp[c] + fp[c] != 0 or tp[c] + fn[c] != 0:
            scores.append(2 * tp[c] / (2 * tp[c] + (fn[c] + fp[c])))
    return 1.0 if not scores else sum(scores) / len(scores)


def _four(counts_a, counts_v, counts_av) -> tuple[float, float, float, float]:
    pooled = [[x + y for x, y in zip(counts_a[k], counts_v[k])] for k in range(3)]
    return _macro(*counts_a), _macro(*counts_v), _macro(*pooled), _macro(*counts_av)


def _segment_counts(so: np.ndarray, gt: np.ndarray):
    tp, fp, fn = [], [], []
    for c in range(so.shape[0]):
        tp.append(float(np.sum(so[c] * gt[c])))
        fp.append(float(np.sum(so[c] * (1 - gt[c]))))
        fn.append(float(np.sum((1 - so[c]) * gt[c])))
    return tp, fp, fn


def segment_level(so_a, so_v, gt_a, gt_v) -> tuple[float, float, float, float]:
    so_av, gt_av = so_a * so_v, gt_a * gt_v
    return _four(_segment_counts(so_a, gt_a), _segment_counts(so_v, gt_v), _segment_counts(so_av, gt_av))


def extract_event(seq: np.ndarray) -> list[np.ndarray]:
    """Maximal runs of 1s of one row, each as a 0/1 mask."""
    events = []
    t = 0
    while t < len(seq):
        if seq[t] == 1:
            start = t
            while t < len(seq) and seq[t] == 1:
                t += 1
            mask = np.zeros(len(seq))
            mask[start:t] = 1
            events.append(mask)
        else:
            t += 1
    return events


def _matches(x: np.ndarray, y: np.ndarray, iou: float) -> bool:
    return bool(np.sum(x * y) >= iou * np.sum(x + y - x * y))


def event_wise_metric(pred_events, gt_events, iou: float = 0.5) -> tuple[int, int, int]:
    """TP / FP: predicted events that match any / no GT event; FN: GT events matched by none."""
    tp = fp = fn = 0
    for p in pred_events:
        if any(_matches(p, g, iou) for g in gt_events):
            tp += 1
        else:
            fp += 1
    for g in gt_events:
        if not any(_matches(g, p, iou) for p in pred_events):
            fn += 1
    return tp, fp, fn


def to_vec(start: int, end: int, n: int = 10) -> np.ndarray:
    """One event ``[start, end)`` as the official 0/1 segment vector."""
    x = np.zeros(n)
    x[start:end] = 1
    return x


def event_level_lists(pred_a, pred_v, pred_av, gt_a, gt_v, gt_av, iou: float = 0.5, n: int = 10):
    """``event_level`` from per-class event lists of ``[start, end)`` (``None`` = no events)."""
    def counts(preds, gts):
        out = ([], [], [])
        for p, g in zip(preds, gts):
            for k, v in enumerate(event_wise_metric([to_vec(*e, n) for e in p or []],
                                                    [to_vec(*e, n) for e in g or []], iou)):
                out[k].append(float(v))
        return out
    return _four(counts(pred_a, gt_a), counts(pred_v, gt_v), counts(pred_av, gt_av))


def _event_counts(so: np.ndarray, gt: np.ndarray, iou: float):
    tp, fp, fn = [], [], []
    for c in range(so.shape[0]):
        pred_events = extract_event(so[c]) if np.sum(so[c]) != 0 else []
        gt_events = extract_event(gt[c]) if np.sum(gt[c]) != 0 else []
        x, y, z = event_wise_metric(pred_events, gt_events, iou)
        tp.append(float(x))
        fp.append(float(y))
        fn.append(float(z))
    return tp, fp, fn


def event_level(so_a, so_v, gt_a, gt_v, iou: float = 0.5) -> tuple[float, float, float, float]:
    so_av, gt_av = so_a * so_v, gt_a * gt_v
    return _four(_event_counts(so_a, gt_a, iou), _event_counts(so_v, gt_v, iou), _event_counts(so_av, gt_av, iou))


def per_video(so_a, so_v, gt_a, gt_v, iou: float = 0.5) -> list[float]:
    """8 values: segment-level 4-tuple then event-level 4-tuple."""
    return [*segment_level(so_a, so_v, gt_a, gt_v), *event_level(so_a, so_v, gt_a, gt_v, iou)]


def summarize(rows: list[list[float]]) -> dict[str, float]:
    """The ten official numbers (percent) from per-video 8-value rows in evaluation order."""
    out = {}
    for level, k in (("segment", 0), ("event", 4)):
        a = 100 * np.mean(np.array([r[k] for r in rows]))
        v = 100 * np.mean(np.array([r[k + 1] for r in rows]))
        pooled = 100 * np.mean(np.array([r[k + 2] for r in rows]))
        av = 100 * np.mean(np.array([r[k + 3] for r in rows]))
        out.update({f"{level}_audio": a, f"{level}_visual": v, f"{level}_av": av,
                    f"{level}_type_av": (av + a + v) / 3.0, f"{level}_event_av": pooled})
    return {k: float(x) for k, x in out.items()}


def evaluate(global_prob: np.ndarray, frame_prob: np.ndarray, gt_a: np.ndarray, gt_v: np.ndarray,
             iou: float = 0.5) -> dict[str, float]:
    """Whole official ``eval()`` one video at a time, given (N, 25, 10) GT arrays."""
    rows = []
    for i in range(len(global_prob)):
        so_a, so_v = binarize_video(global_prob[i], frame_prob[i])
        rows.append(per_video(so_a, so_v, np.asarray(gt_a[i], float), np.asarray(gt_v[i], float), iou))
    return summarize(rows)
