"""AVE evaluator: segment-level accuracy (29 classes incl. background), in percent.

Records are the 10 predicted segment classes of a video (int8), so the result is the
global segment accuracy over the split, whatever the batching or process count. The
official code evaluates one 402-video batch (AVE-ECCV18, PSP) or batches of 16 averaged
with segment-count weights (CMRAN/CMBS); both equal this global value.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from avu.benchmarks import BenchmarkSpec
from avu.data.annotations.ave import ANNOTATION_VERSIONS, AveReferences, load_references
from avu.errors import AvuInputError
from avu.evaluators.base import Evaluator, MetricInfo, canonical_rows
from avu.metrics import ave as kernels
from avu.predictions.ave import check_payload, read_predictions
from avu.protocols import Protocol, register

ARGMAX = register(
    Protocol(
        benchmark="ave",
        name="ave_argmax",
        version=1,
        description=(
            "segment accuracy: each of the 10 one-second segments predicts the argmax of its 29 scores "
            "(28 events + background 28; ties -> lowest index), pooled over all segments of the split"
        ),
        params={"prediction": "argmax", "num_classes": 29, "background": 28, "segments": 10},
        source=(
            "YapengTian/AVE-ECCV18@93f843fe::supervised_main.compute_acc; "
            "jasongief/PSP_CVPR_2021@ddd20f3b::measure.compute_acc; "
            "FloretCat/CMRAN@3369be5d::weakly_main.compute_accuracy_weak"
        ),
    ),
    default=True,
)
EVENT_GATE = register(
    Protocol(
        benchmark="ave",
        name="ave_event_gate",
        version=1,
        description=(
            "segment accuracy of the CMRAN/CMBS head: argmax of the 28 video-level event scores on segments "
            "with sigmoid(is_event) > 0.5 (strict; logit 0 is background), background 28 elsewhere"
        ),
        params={"prediction": "event_gate", "gate_threshold": 0.5, "strict": True, "background": 28, "segments": 10},
        source=(
            "FloretCat/CMRAN@3369be5d::supv_main.compute_accuracy_supervised; "
            "marmot-xy/CMBS@48e1ffc2::supv_main.compute_accuracy_supervised"
        ),
    )
)


class AveEvaluator(Evaluator):
    """Accumulating AVE evaluator (protocols ``ave_argmax`` and ``ave_event_gate``)."""

    benchmark = "ave"
    metrics = {
        "accuracy": MetricInfo(
            "segment-level accuracy over the 10 one-second segments of every video (29 classes incl. background)"
        ),
    }
    primary_metric = "accuracy"
    references: AveReferences

    def segment_predictions(self, ids: Sequence[str], predictions: Any) -> np.ndarray:
        """(n, 10) predicted classes of a batch under this evaluator's protocol."""
        payload = check_payload(None, ids, predictions)
        form = self.protocol.params["prediction"]
        if form == "argmax":
            if "labels" in payload:
                return payload["labels"]
            if "scores" in payload:
                return kernels.argmax_predictions(payload["scores"])
            raise AvuInputError(None, "scores", f"protocol {self.protocol.name} needs 'scores' or 'labels' "
                                "(is_event/event_scores are read by --protocol ave_event_gate)")
        if form == "event_gate":
            if "is_event" not in payload:
                raise AvuInputError(None, "is_event", f"protocol {self.protocol.name} needs 'is_event' and 'event_scores'")
            return kernels.event_gate_predictions(payload["is_event"], payload["event_scores"])
        raise ValueError(f"unknown AVE prediction form {form!r}")  # pragma: no cover - protocols are fixed above

    def make_records(self, ids: Sequence[str], predictions: Any) -> list[np.ndarray]:
        pred = np.ascontiguousarray(self.segment_predictions(ids, predictions), dtype=np.int8)
        return list(pred)

    def reduce(self, ids: list[str], records: list[np.ndarray]) -> tuple[dict[str, float], dict[str, Any]]:
        rows = canonical_rows(self.references, ids)
        pred = np.concatenate(records).reshape(len(records), -1)  # 3x faster than np.stack
        correct = kernels.segment_correct(pred, self.references.labels[rows])
        n_correct, n_segments = int(correct.sum()), int(correct.size)
        metrics = {"accuracy": n_correct / n_segments * 100.0}
        extras = {"segments": n_segments, "correct_segments": n_correct}
        return metrics, extras


SPEC = BenchmarkSpec(
    id="ave",
    title="AVE: audio-visual event localization (segment-level accuracy)",
    evaluator=AveEvaluator,
    load_references=load_references,
    read_predictions=read_predictions,
    annotation_versions=ANNOTATION_VERSIONS,
    default_annotation_version="official",
    prediction_formats=(
        "JSON envelope or NPZ (ids + arrays): scores (N,10,29) | labels (N,10) for ave_argmax; "
        "is_event (N,10) + event_scores (N,28) for ave_event_gate (docs/predictions/ave.md)"
    ),
    citation="Tian, Shi, Li, Duan, Xu. Audio-Visual Event Localization in Unconstrained Videos. ECCV 2018.",
)
