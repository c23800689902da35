"""VGG-SS evaluator: sound-source localisation cIoU success rate, mean cIoU and AUC, in percent.

Records are the per-sample cIoU (float; NaN when GT and predicted mask are both empty),
so every dataset score is computed once over the whole split, whatever the batching or
process count. Two protocols reproduce the two official chains (see `avu.metrics.vggss`):

* ``ezvsl`` (default): EZ-VSL ``test.py::validate``: bilinear ``align_corners=True``
  upsampling, mask ``normalize_img(h) >= median``. EZ-VSL's evaluation code is the one
  that later VGG-SS papers (SLAVC, FNAC, SSL-Alignment, Meerkat tables) run and compare
  against, so it is the protocol behind most published "cIoU"/"AUC" columns.
* ``lvs``: LVS (VGG-SS authors) ``test.py``: ``cv2.resize INTER_LINEAR``, mask ``pred >
  median`` (plus pixels still >= 1).

Metric names avoid the "cIoU" naming trap: ``ciou_ap50`` is the fraction of samples with
cIoU >= 0.5 (what both papers print as "cIoU"; EZ-VSL's "AP50"), ``ciou_mean`` the mean.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from avu.benchmarks import BenchmarkSpec
from avu.data.annotations.vggss import ANNOTATION_VERSIONS, VggssReferences, load_references
from avu.evaluators.base import Evaluator, MetricInfo, canonical_rows
from avu.metrics import vggss as kernels
from avu.predictions.vggss import check_finite, payload_arrays, read_predictions
from avu.protocols import Protocol, register

_COMMON = {
    "size": kernels.GT_SIZE,
    "median_index": kernels.MEDIAN_INDEX,
    "success_threshold": kernels.AP50_THRESHOLD,
    "auc_thresholds": "0.05*i, i=0..20 (sklearn.metrics.auc)",
    "gt": "union of boxes, int(224*clip(x,0,1)) bounds, binarised",
    "dtype": "float32",
}

EZVSL = register(
    Protocol(
        benchmark="vggss",
        name="ezvsl",
        version=1,
        description=(
            "EZ-VSL chain: F.interpolate(bilinear, align_corners=True) to 224x224, normalize_img (min-max; "
            "constant map unscaled), mask = pred >= median (sorted index 25088), cIoU per sample; "
            "ciou_ap50 = share of samples with cIoU >= 0.5 (EZ-VSL 'AP50', papers' 'cIoU'), ciou_mean, AUC"
        ),
        params={**_COMMON, "upsampling": "bilinear_align_corners", "binarization": "ezvsl"},
        source=(
            "stoneMo/EZ-VSL@95ff5bff::test.validate, utils.normalize_img, utils.Evaluator.cal_CIOU/"
            "finalize_AP50/finalize_cIoU/finalize_AUC, datasets.bbox2gtmap"
        ),
    ),
    default=True,
)
LVS = register(
    Protocol(
        benchmark="vggss",
        name="lvs",
        version=1,
        description=(
            "LVS chain: cv2.resize(INTER_LINEAR) to 224x224, pred = 1 - normalize_img(-h), pred > median -> 1, "
            "pred < 1 -> 0, cal_CIOU(pred, gt, 0.5) (mask = above the median, plus pixels still >= 1); "
            "ciou_ap50 = share of samples with cIoU >= 0.5 (LVS 'cIoU'), AUC; ciou_mean is not reported by LVS"
        ),
        params={**_COMMON, "upsampling": "cv2_linear", "binarization": "lvs"},
        source="hche11/Localizing-Visual-Sounds-the-Hard-Way@8fe8cbbf::test.main, utils.Evaluator.cal_CIOU, "
               "utils.normalize_img, utils.testset_gt",
    )
)


class VggssEvaluator(Evaluator):
    """Accumulating VGG-SS evaluator (protocols ``ezvsl`` and ``lvs``)."""

    benchmark = "vggss"
    metrics = {
        "ciou_ap50": MetricInfo("share of samples with cIoU >= 0.5 (printed as 'cIoU' by LVS and papers, "
                                "'AP50(cIoU)' by EZ-VSL)"),
        "ciou_mean": MetricInfo("mean per-sample cIoU (EZ-VSL 'Avg-cIoU'; a 0/0 sample counts as 0)"),
        "auc": MetricInfo("area under the success-rate curve over cIoU thresholds 0, 0.05, ..., 1"),
    }
    primary_metric = "ciou_ap50"
    references: VggssReferences

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.protocol.params["size"] != self.references.gt_size:  # the GT maps are built at one size
            raise ValueError(f"protocol size {self.protocol.params['size']} != GT size {self.references.gt_size}")

    def provenance(self) -> dict[str, Any]:
        # the lvs resize is OpenCV's own, whose SIMD rounding can move median ties between versions
        return {"opencv": kernels.opencv_version()}

    def sample_ciou(self, ids: Sequence[str], predictions: Any) -> np.ndarray:
        """Per-sample cIoU (n,) float64 of a batch under this evaluator's protocol."""
        given, heatmaps = payload_arrays(None, ids, predictions)
        rows = canonical_rows(self.references, ids)
        params = self.protocol.params

        def check(part: slice) -> None:  # each chunk's NaN/inf scan right before it is scored, in cache
            check_finite(None, ids[part], given[part], heatmaps[part])

        cious, _, _ = kernels.localization_ciou(
            heatmaps,
            (self.references.pixel_boxes[rows], self.references.box_counts[rows]),
            upsampling=params["upsampling"],
            rule=params["binarization"],
            size=params["size"],
            before_chunk=check,
        )
        return cious

    def make_records(self, ids: Sequence[str], predictions: Any) -> list[float]:
        return [float(c) for c in self.sample_ciou(ids, predictions)]

    def reduce(self, ids: list[str], records: list[float]) -> tuple[dict[str, float], dict[str, Any]]:
        cious = np.asarray(records, dtype=np.float64)
        metrics = {
            "ciou_ap50": kernels.ciou_ap50(cious) * 100.0,
            "ciou_mean": kernels.ciou_mean(cious) * 100.0,
            "auc": kernels.auc(cious) * 100.0,
        }
        extras = {
            "success_thresholds": [float(t) for t in kernels.SUCCESS_THRESHOLDS],
            "success_curve": [float(s) for s in kernels.success_curve(cious)],
            "samples_ciou_ge_0.5": int(np.sum(cious >= kernels.AP50_THRESHOLD)),
            "samples_nan_ciou": int(np.isnan(cious).sum()),
        }
        return metrics, extras


SPEC = BenchmarkSpec(
    id="vggss",
    title="VGG-SS: visual sound-source localisation (cIoU success rate, mean cIoU, AUC)",
    evaluator=VggssEvaluator,
    load_references=load_references,
    read_predictions=read_predictions,
    annotation_versions=ANNOTATION_VERSIONS,
    default_annotation_version="official",
    prediction_formats=(
        "JSON envelope or NPZ (ids + heatmaps): heatmaps float (N,h,w), any h,w >= 2, one size per file; "
        "upsampled to 224x224 by the protocol (docs/predictions/vggss.md)"
    ),
    citation=(
        "Chen, Xie, Afouras, Nagrani, Vedaldi, Zisserman. Localizing Visual Sounds the Hard Way. CVPR 2021; "
        "Mo, Morgado. Localizing Visual Sounds the Easy Way. ECCV 2022."
    ),
)
