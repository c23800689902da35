"""AVSBench evaluators: S4 and MS3 (binary masks: mIoU, F-score) and AVSS (71 classes).

Records are per video, so every protocol is computed from the same records whatever the
caller's batching or process count:

* S4/MS3: per-frame Jaccard (float64), per-frame F curves over the 255 thresholds (float64)
  and the non-empty-GT flags. ``avsbench_v1`` (default, the published numbers) re-forms the
  official test batches of ``batch_size`` videos in canonical order; ``dataset_v1`` pools
  every frame of the split.
* AVSS: per-video sums over its 10 frames of the per-class IoU and F, and the per-class frame
  counts; the official accumulation is a plain sum, hence batch-invariant.

All metrics are reported in percent (papers print the F-score on 0-1 or x100; the mIoU x100).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from avu.benchmarks import BenchmarkSpec
from avu.data.annotations.avsbench import (
    ANNOTATION_VERSIONS,
    AVSS_CLASSES,
    AvsReferences,
    load_avss_references,
    load_ms3_references,
    load_s4_references,
)
from avu.errors import AvuInputError
from avu.evaluators.base import Evaluator, MetricInfo
from avu.metrics import avsbench as kernels
from avu.predictions.avsbench import check_payload, read_predictions
from avu.protocols import Protocol, register

SOURCE_BINARY = (
    "OpenNLPLab/AVSBench@f7414aff::avs_scripts/avs_{s4,ms3}/utils/utility.py mask_iou, Eval_Fmeasure; "
    "avs_scripts/avs_{s4,ms3}/test.py (AverageMeter over test batches; test.sh passes --test_batch_size 4)"
)
SOURCE_AVSS = (
    "OpenNLPLab/AVSBench@f7414aff::avs_scripts/avss/utils/compute_color_metrics.py calc_color_miou_fscore, "
    "calc_binary_miou; "
    "avs_scripts/avss/test.py (per-class sums over all test frames)"
)
OFFICIAL_BATCH_SIZE = 4


def _binary_protocols(benchmark: str) -> tuple[Protocol, Protocol]:
    official = register(
        Protocol(
            benchmark=benchmark,
            name="avsbench_v1",
            version=1,
            description=(
                "official test loop: consecutive batches of batch_size videos (5 frames each) in the "
                "split's CSV order; batch mIoU = mean frame Jaccard (sigmoid > 0.5; empty GT -> background "
                "accuracy; eps 1e-7); batch F = max over 255 thresholds linspace(0, 1-1e-10) of the mean "
                "F-curve (beta^2 0.3) of the batch's non-empty-GT frames (0 if none); reported = unweighted "
                "mean over batches. batch_size 4 = official test.sh (published numbers), 1 = test.py default"
            ),
            params={"batch_size": OFFICIAL_BATCH_SIZE},
            source=SOURCE_BINARY,
        ),
        default=True,
    )
    pooled = register(
        Protocol(
            benchmark=benchmark,
            name="dataset_v1",
            version=1,
            description=(
                "batch-invariant: mIoU = mean Jaccard over all frames of the split; F = max over the 255 "
                "thresholds of the mean F-curve over all non-empty-GT frames of the split (same per-frame "
                "rules as avsbench_v1)"
            ),
            params={},
            source=SOURCE_BINARY,
        )
    )
    return official, pooled


S4_AVSBENCH_V1, S4_DATASET_V1 = _binary_protocols("avs_s4")
MS3_AVSBENCH_V1, MS3_DATASET_V1 = _binary_protocols("avs_ms3")
AVSS_V1 = register(
    Protocol(
        benchmark="avss",
        name="avss_v1",
        version=1,
        description=(
            "official AVSS test: per frame and class IoU = inter/(union+2.22e-16) and F (beta^2 0.3, NaN->0), "
            "summed over all test frames incl. the all-background padding frames of v1s/v1m videos (10 per "
            "video); per class sum/count (count = frames where the class is predicted or in the GT; 0 if never "
            "seen); miou / fscore = mean over all 71 classes; *_no_last = mean without class 70 (official "
            "'miou_noBg', which drops 'woman', not background); binary_miou = calc_binary_miou over all frames "
            "(foreground = label != 70, as officially)"
        ),
        params={"n_classes": len(AVSS_CLASSES), "frames": 10},
        source=SOURCE_AVSS,
    ),
    default=True,
)


class BinaryAvsEvaluator(Evaluator):
    """S4 / MS3 evaluator (protocols ``avsbench_v1[batch_size=N]`` and ``dataset_v1``)."""

    metrics = {
        "miou": MetricInfo("mean Jaccard (mIoU) of the predicted masks (sigmoid > 0.5), official empty-GT rule"),
        "fscore": MetricInfo("F-measure (beta^2 = 0.3), max over 255 thresholds of the mean curve, in percent"),
    }
    primary_metric = "miou"
    references: AvsReferences

    def __init__(self, references: AvsReferences, protocol: Protocol | str | None = None,
                 allow_partial: bool = False) -> None:
        super().__init__(references, protocol, allow_partial)
        if self.protocol.name.startswith("avsbench_v1"):
            bs = self.protocol.params.get("batch_size")
            if isinstance(bs, bool) or not isinstance(bs, int) or bs < 1:
                raise AvuInputError(None, "--protocol", f"batch_size must be a positive integer, got {bs!r}")

    def make_records(self, ids: Sequence[str], predictions: Any) -> list[dict[str, np.ndarray]]:
        payload = check_payload(None, ids, predictions, self.references)
        kind, scores = next(iter(payload.items()))
        masks = _ground_truth(self.references, ids, scores.shape[2:], kind)
        flat = kernels.binary_frame_scores(
            scores.reshape(-1, *scores.shape[2:]), masks.reshape(-1, *masks.shape[2:]), kind
        )
        t = self.references.frames
        return [
            {
                "iou": flat.iou[i * t:(i + 1) * t].copy(),
                "fcurve": flat.fcurve[i * t:(i + 1) * t].copy(),
                "nonempty": flat.nonempty[i * t:(i + 1) * t].copy(),
            }
            for i in range(len(ids))
        ]

    def reduce(self, ids: list[str], records: list[dict[str, np.ndarray]]) -> tuple[dict[str, float], dict[str, Any]]:
        iou = np.stack([r["iou"] for r in records])
        fcurve = np.stack([r["fcurve"] for r in records])
        nonempty = np.stack([r["nonempty"] for r in records])
        extras: dict[str, Any] = {"videos": len(ids), "frames": int(iou.size), "nonempty_frames": int(nonempty.sum())}
        if self.protocol.name.startswith("avsbench_v1"):
            bs = int(self.protocol.params["batch_size"])
            out = kernels.avsbench_v1(iou, fcurve, nonempty, bs)
            extras.update(batch_size=bs, batches=len(out["per_batch_miou"]))
        elif self.protocol.name.startswith("dataset_v1"):
            out = kernels.dataset_v1(iou, fcurve, nonempty)
            extras["best_threshold"] = out["best_threshold"]
        else:  # pragma: no cover - protocols are registered above
            raise ValueError(f"unknown protocol {self.protocol.name}")
        return {"miou": out["miou"] * 100.0, "fscore": out["fscore"] * 100.0}, extras


def _ground_truth(references: AvsReferences, ids: Sequence[str], size: tuple[int, ...], field: str) -> np.ndarray:
    """Stacked GT masks of a batch; a prediction of another size is refused (no resizing)."""
    out = []
    for sid in ids:
        gt = references.masks(sid)
        if gt.shape[1:] != tuple(size):
            raise AvuInputError(
                None, f"sample {sid!r}: {field}",
                f"masks are {size[0]}x{size[1]} but the ground truth is {gt.shape[1]}x{gt.shape[2]}; the official "
                "evaluation compares at the ground-truth size (224x224), resize predictions before saving",
            )
        out.append(gt)
    return np.stack(out)


class S4Evaluator(BinaryAvsEvaluator):
    benchmark = "avs_s4"


class MS3Evaluator(BinaryAvsEvaluator):
    benchmark = "avs_ms3"


class AvssEvaluator(Evaluator):
    """AVSS evaluator (protocol ``avss_v1``)."""

    benchmark = "avss"
    metrics = {
        "miou": MetricInfo("mean over all 71 classes of the per-class mean frame IoU (never-seen classes count 0)"),
        "fscore": MetricInfo("mean over all 71 classes of the per-class mean frame F (beta^2 = 0.3)"),
        "miou_no_last": MetricInfo("official 'miou_noBg': the mIoU without class 70 ('woman'; background is 0)"),
        "fscore_no_last": MetricInfo("official 'F_score_noBg': the F-score without class 70 ('woman')"),
        "binary_miou": MetricInfo("official calc_binary_miou: mean frame IoU of 'not class 70' vs class 70 "
                                  "('woman', which it takes for background), empty-GT rule as S4/MS3"),
    }
    primary_metric = "miou"
    references: AvsReferences

    def make_records(self, ids: Sequence[str], predictions: Any) -> list[dict[str, np.ndarray]]:
        labels = check_payload(None, ids, predictions, self.references)["labels"]
        gt = _ground_truth(self.references, ids, labels.shape[2:], "labels")
        t = self.references.frames
        n = len(AVSS_CLASSES)
        cm = kernels.avss_frame_confusion(labels.reshape(-1, *labels.shape[2:]), gt.reshape(-1, *gt.shape[2:]), n)
        s = kernels.avss_scores_from_areas(*kernels.areas_from_confusion(cm))
        iou, f, present = (a.reshape(len(ids), t, n) for a in (s.iou, s.fscore, s.present))
        binary = kernels.avss_binary_iou_from_confusion(cm, n - 1).reshape(len(ids), t)
        return [
            {"iou_sum": iou[i].sum(axis=0), "f_sum": f[i].sum(axis=0), "count": present[i].sum(axis=0).astype(np.int64),
             "binary_iou": binary[i]}
            for i in range(len(ids))
        ]

    def reduce(self, ids: list[str], records: list[dict[str, np.ndarray]]) -> tuple[dict[str, float], dict[str, Any]]:
        iou_sum = np.sum([r["iou_sum"] for r in records], axis=0)
        f_sum = np.sum([r["f_sum"] for r in records], axis=0)
        count = np.sum([r["count"] for r in records], axis=0)
        out = kernels.avss_summary(iou_sum, f_sum, count)
        metrics = {k: out[k] * 100.0 for k in ("miou", "fscore", "miou_no_last", "fscore_no_last")}
        # calc_binary_miou of all frames as one call (the official test loop never calls it)
        metrics["binary_miou"] = float(np.concatenate([r["binary_iou"] for r in records]).mean()) * 100.0
        extras = {
            "videos": len(ids),
            "frames": len(ids) * self.references.frames,
            "classes_present": out["n_classes_present"],
            "miou_present_classes": out["miou_present_classes"] * 100.0,
            "fscore_present_classes": out["fscore_present_classes"] * 100.0,
            "per_class_iou": {c: float(v) * 100.0 for c, v in zip(AVSS_CLASSES, out["per_class_iou"])},
            "per_class_fscore": {c: float(v) * 100.0 for c, v in zip(AVSS_CLASSES, out["per_class_fscore"])},
            "per_class_frames": {c: int(v) for c, v in zip(AVSS_CLASSES, out["per_class_count"])},
        }
        return metrics, extras


_CITATION = (
    "Zhou, Wang, Zhang, Sun, Zhang, Birchfield, Guo, Kong, Wang, Zhong. Audio-Visual Segmentation. ECCV 2022; "
    "Zhou et al. Audio-Visual Segmentation with Semantics. IJCV 2024."
)
_BINARY_FORMATS = (
    "NPZ (ids + logits|probs (N,5,H,W)), JSON envelope (per video logits|probs arrays or masks = 5 COCO RLEs), "
    "or a folder <video>/<k>.png, k=0..4, 8-bit probability maps p=v/255 (docs/predictions/avsbench.md)"
)

SPEC_S4 = BenchmarkSpec(
    id="avs_s4",
    title="AVSBench S4: single-source audio-visual segmentation (mIoU, F-score)",
    evaluator=S4Evaluator,
    load_references=load_s4_references,
    read_predictions=read_predictions,
    annotation_versions=ANNOTATION_VERSIONS,
    default_annotation_version="official",
    prediction_formats=_BINARY_FORMATS,
    citation=_CITATION,
)
SPEC_MS3 = BenchmarkSpec(
    id="avs_ms3",
    title="AVSBench MS3: multi-source audio-visual segmentation (mIoU, F-score)",
    evaluator=MS3Evaluator,
    load_references=load_ms3_references,
    read_predictions=read_predictions,
    annotation_versions=ANNOTATION_VERSIONS,
    default_annotation_version="official",
    prediction_formats=_BINARY_FORMATS,
    citation=_CITATION,
)
SPEC_AVSS = BenchmarkSpec(
    id="avss",
    title="AVSBench AVSS: audio-visual semantic segmentation, 71 classes (mIoU, F-score)",
    evaluator=AvssEvaluator,
    load_references=load_avss_references,
    read_predictions=read_predictions,
    annotation_versions=ANNOTATION_VERSIONS,
    default_annotation_version="official",
    prediction_formats=(
        "NPZ (ids + labels uint8 (N,10,H,W), classes 0..70), JSON envelope (labels arrays or masks = per frame "
        "{class: COCO RLE}), or a folder <uid>/<k>.png, k=0..9, indexed (value = class) or RGB palette colours"
    ),
    citation=_CITATION,
)
