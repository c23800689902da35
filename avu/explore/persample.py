"""Per-sample values of one prediction file, one benchmark at a time.

Each value is what the benchmark's evaluator computes for that sample, obtained from the
same functional kernels (`avu.metrics`) applied to one sample (or one small chunk), under
the evaluator's protocol; tests/explore/test_persample.py checks equality with the
evaluator's own per-sample records. Nothing here changes an evaluator.

`samples()` yields, in the split's canonical order, one `Sample` per evaluated id:

* ``metric``: the per-sample value sorted on (``METRICS[benchmark]`` says what it is);
* ``ok``: the sample counts as a hit (``METRICS[benchmark].hit`` says when);
* ``truth``: ground-truth facets (class names, question type, GT timeline ...), JSON-able;
* ``detail``: what this prediction did (per-frame IoU, predicted labels, threshold ...), JSON-able;
* ``layers``: arrays for the pictures (masks, normalised heatmap), never written as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from avu.data.classes import AVE_CLASSES, AVSS_CLASSES, LLP_CLASSES

#: VGG-SS maps are processed this many at a time (a chunk of 224x224 maps stays small)
VGGSS_CHUNK = 32


@dataclass(frozen=True)
class MetricSpec:
    name: str
    label: str
    #: "%" (0..100) or "" (a fraction, as papers print per-sample cIoU)
    unit: str
    #: when ``ok`` is true, in words (shown on the page)
    hit: str
    digits: int = 2


METRICS = {
    "ave": MetricSpec("accuracy", "segment accuracy", "%", "all 10 segments right"),
    "llp": MetricSpec("segment_audio", "audio segment-level F", "%", "audio segment F ≥ 50 %"),
    "vggss": MetricSpec("ciou", "cIoU", "", "cIoU ≥ 0.5 (the protocol's success threshold)", 3),
    "avs_s4": MetricSpec("miou", "mean frame IoU", "%", "mean frame IoU ≥ 50 %"),
    "avs_ms3": MetricSpec("miou", "mean frame IoU", "%", "mean frame IoU ≥ 50 %"),
    "avss": MetricSpec("miou", "mIoU over the classes present", "%", "mIoU ≥ 50 %"),
    "avqa": MetricSpec("correct", "answer correct", "%", "answer equals the ground truth", 0),
}
HIT_PERCENT = 50.0


@dataclass
class Sample:
    id: str
    metric: float | None
    ok: bool
    truth: dict[str, Any]
    detail: dict[str, Any]
    layers: dict[str, np.ndarray] = field(default_factory=dict)


def _finite(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def canonical(references, ids: Sequence[str]) -> list[tuple[str, int, int]]:
    """(id, row in the references, position in the payload) of every id, in canonical order."""
    position = {sid: k for k, sid in enumerate(ids)}
    return [(sid, r, position[sid]) for r, sid in enumerate(references.ids) if sid in position]


def samples(benchmark: str, evaluator, ids: Sequence[str], payload: Any) -> Iterator[Sample]:
    """Per-sample values of ``payload`` (as read by the benchmark's prediction reader)."""
    order = canonical(evaluator.references, list(map(str, ids)))
    return _KINDS[benchmark](evaluator, order, payload)


# ----------------------------------------------------------------------------- events

def _ave(ev, order, payload) -> Iterator[Sample]:
    from avu.metrics import ave as kernels

    refs = ev.references
    picked = [p for _, _, p in order]
    ids = [s for s, _, _ in order]
    pred = np.asarray(ev.segment_predictions(ids, take(payload, picked)))  # the protocol's labels
    for k, (sid, r, _) in enumerate(order):
        correct = kernels.segment_correct(pred[k:k + 1], refs.labels[r:r + 1])
        truth = {"classes": [AVE_CLASSES[int(refs.categories[r])]], "labels": refs.labels[r].tolist()}
        yield Sample(sid, float(correct.mean() * 100.0), bool(correct.all()), truth,
                     {"labels": pred[k].tolist(), "correct_segments": int(correct.sum())})


def _bits(row: np.ndarray) -> str:
    return "".join("1" if v else "0" for v in row)


def _llp(ev, order, payload) -> Iterator[Sample]:
    from avu.metrics import llp as kernels
    from avu.predictions.llp import PROBABILITY_KEYS

    refs = ev.references
    params = ev.protocol.params
    picked = [p for _, _, p in order]
    part = take(payload, picked)
    if all(k in part for k in PROBABILITY_KEYS):
        pred_a, pred_v = kernels.binarize(part["global_prob"], part["frame_prob"],
                                          params["video_threshold"], params["frame_threshold"])
    else:  # binary (N, 10, 25) decisions -> the official (N, 25, 10) layout
        pred_a = np.asarray(part["audio"]).astype(bool).transpose(0, 2, 1)
        pred_v = np.asarray(part["visual"]).astype(bool).transpose(0, 2, 1)
    for k, (sid, r, _) in enumerate(order):
        scores = kernels.per_video_scores(pred_a[k:k + 1], pred_v[k:k + 1], refs.gt_audio[r:r + 1],
                                          refs.gt_visual[r:r + 1], params["iou_threshold"])[0]
        f = dict(zip(kernels.PER_VIDEO_COLUMNS, (float(v) * 100.0 for v in scores)))
        gt = {"audio": refs.gt_audio[r], "visual": refs.gt_visual[r]}
        mine = {"audio": pred_a[k], "visual": pred_v[k]}
        truth = {"classes": [LLP_CLASSES[c] for c in np.flatnonzero(refs.weak_labels[r])],
                 "tracks": {m: {LLP_CLASSES[c]: _bits(g[c]) for c in np.flatnonzero(g.any(axis=1))}
                            for m, g in gt.items()}}
        detail = {"scores": f,
                  "tracks": {m: {LLP_CLASSES[c]: _bits(p[c]) for c in np.flatnonzero(p.any(axis=1))}
                             for m, p in mine.items()}}
        yield Sample(sid, f["segment_audio"], f["segment_audio"] >= HIT_PERCENT, truth, detail)


# ----------------------------------------------------------------------------- localisation

def _vggss(ev, order, payload) -> Iterator[Sample]:
    from avu.metrics import vggss as kernels
    from avu.predictions.vggss import FIELD

    refs = ev.references
    params = ev.protocol.params
    rule, size = params["binarization"], params["size"]
    heatmaps = payload[FIELD]
    for start in range(0, len(order), VGGSS_CHUNK):
        chunk = order[start:start + VGGSS_CHUNK]
        rows = np.array([r for _, r, _ in chunk], dtype=np.int64)
        maps = np.asarray(heatmaps[[p for _, _, p in chunk]], dtype=np.float32)
        up = kernels.upsample(maps, params["upsampling"], size)
        pred = np.array(kernels.normalized_maps(up, rule))  # a copy: the kernel returns a work view
        thr, selected = kernels.mask_threshold(pred, rule)
        # mask_threshold's contract: the mask is pred > t (lvs) or pred >= t (ezvsl)
        mask = pred > thr[:, None] if rule == "lvs" else pred >= thr[:, None]
        gt = refs.gt_maps(rows)
        ciou, inter, den = kernels.ciou_terms(mask, gt)
        for k, (sid, r, _) in enumerate(chunk):
            value = _finite(ciou[k])
            truth = {"classes": [refs.classes[r]], "boxes": np.asarray(refs.pixel_boxes[r][:refs.box_counts[r]]).tolist()}
            detail = {"ciou": value, "threshold": float(thr[k]), "selected": int(selected[k]),
                      "intersection": float(inter[k]), "denominator": float(den[k])}
            layers = {"heat": pred[k].reshape(size, size), "mask": mask[k].reshape(size, size), "gt": gt[k]}
            yield Sample(sid, value, value is not None and value >= kernels.AP50_THRESHOLD, truth, detail, layers)


# ----------------------------------------------------------------------------- segmentation

def _binary_avs(ev, order, payload) -> Iterator[Sample]:
    from avu.metrics import avsbench as kernels
    from avu.predictions.avsbench import check_payload

    refs = ev.references
    categories = getattr(refs, "categories", {}) or {}
    for sid, _, p in order:
        kind, scores = next(iter(check_payload(None, [sid], take(payload, [p]), refs).items()))
        gt = refs.masks(sid)
        s = kernels.binary_frame_scores(scores[0], gt, kind)
        pred = kernels.to_probabilities(scores[0], kind) > 0.5  # the protocol's foreground rule
        miou = float(np.mean(s.iou) * 100.0)
        truth = {"classes": [categories[sid]] if sid in categories else [], "frames": int(len(gt))}
        detail = {"iou": [float(v) * 100.0 for v in s.iou]}
        yield Sample(sid, miou, miou >= HIT_PERCENT, truth, detail, {"gt": gt, "pred": pred})


def _avss(ev, order, payload) -> Iterator[Sample]:
    from avu.metrics import avsbench as kernels
    from avu.predictions.avsbench import check_payload

    refs = ev.references
    n = len(AVSS_CLASSES)
    for sid, _, p in order:
        labels = check_payload(None, [sid], take(payload, [p]), refs)["labels"][0]
        gt = refs.masks(sid)
        s = kernels.avss_frame_scores(labels, gt, n)
        summary = kernels.avss_summary(s.iou.sum(axis=0), s.fscore.sum(axis=0), s.present.sum(axis=0))
        miou = float(summary["miou_present_classes"] * 100.0)
        frame = kernels.avss_frame_miou_log(s.iou)  # the official per-frame log value
        gt_classes = [int(c) for c in np.unique(gt) if c > 0]
        truth = {"classes": [AVSS_CLASSES[c] for c in gt_classes], "frames": int(len(gt))}
        detail = {"frame_miou": [None if not np.isfinite(v) else float(v) * 100.0 for v in frame],
                  "predicted_classes": [AVSS_CLASSES[int(c)] for c in np.unique(labels) if c > 0]}
        yield Sample(sid, miou, miou >= HIT_PERCENT, truth, detail, {"gt": gt, "pred": labels})


# ----------------------------------------------------------------------------- question answering

def _avqa(ev, order, payload) -> Iterator[Sample]:
    from avu.data.annotations.avqa import QUESTION_TYPES
    from avu.metrics import avqa as kernels

    refs = ev.references
    answers = payload["answers"]
    for sid, r, p in order:
        mine = str(answers[p])
        right = bool(kernels.answer_correct([mine], [refs.answers[r]])[0])
        sample = refs.sample(r)
        modality, qtype = QUESTION_TYPES[int(refs.type_index[r])]
        truth = {"classes": [], "type": f"{modality} {qtype}", "question": sample.question,
                 "answer": refs.answers[r], "video": refs.video_ids[r]}
        yield Sample(sid, 100.0 if right else 0.0, right, truth, {"answer": mine})


def take(payload: Any, positions: list[int]) -> dict[str, Any]:
    """The payload restricted to some samples (arrays indexed, lists picked)."""
    out = {}
    for key, value in payload.items():
        if isinstance(value, np.ndarray):
            out[key] = value[positions]
        else:
            out[key] = [value[i] for i in positions]
    return out


_KINDS = {"ave": _ave, "llp": _llp, "vggss": _vggss, "avs_s4": _binary_avs, "avs_ms3": _binary_avs,
          "avss": _avss, "avqa": _avqa}
