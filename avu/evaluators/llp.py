"""LLP / AVVP evaluator: segment- and event-level F of audio, visual, audio-visual, Type@AV, Event@AV.

Records are the 8 per-video F values of the official ``segment_level`` and ``event_level``
(fractions, `avu.metrics.llp.PER_VIDEO_COLUMNS`); `reduce` averages them over the videos in
CSV row order, as ``main_avvp.py::eval`` does with batch size 1, and derives Type@AV.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from avu import protocols
from avu.benchmarks import BenchmarkSpec
from avu.data.annotations import llp as annotations
from avu.errors import AvuInputError
from avu.evaluators.base import Evaluator, MetricInfo, canonical_rows
from avu.metrics import llp as kernels
from avu.predictions.llp import BINARY_KEYS, PROBABILITY_KEYS, read_predictions
from avu.protocols import Protocol
from avu.references import References

OFFICIAL_SOURCE = (
    "YapengTian/AVVP-ECCV20 @ fde56118f2c2e7c19188dfefa2569a37b70054fe :: "
    "main_avvp.py::eval + utils/eval_metrics.py::{segment_level,event_level}"
)

AVVP_OFFICIAL = protocols.register(
    Protocol(
        benchmark="llp",
        name="avvp_official",
        version=1,
        description=(
            "official AVVP eval: video gate [global_prob >= 0.5] x [frame_prob >= 0.5] per modality; "
            "per-video macro F over active classes (1.0 if none), events = runs matched at IoU >= 0.5 "
            "(not one-to-one); mean over videos; Type@AV = mean(A, V, AV); Event@AV pools A+V counts"
        ),
        params={"video_threshold": 0.5, "frame_threshold": 0.5, "iou_threshold": 0.5},
        source=OFFICIAL_SOURCE,
    ),
    default=True,
)

_LEVELS = {"segment": "segment-level", "event": "event-level"}
_KINDS = {
    "audio": "audio F (per-video macro F over active classes, mean over videos)",
    "visual": "visual F",
    "av": "audio-visual F (prediction and GT = audio AND visual)",
    "type_av": "Type@AV = mean of audio, visual and audio-visual F",
    "event_av": "Event@AV = F with audio and visual counts pooled per class",
}
METRICS = {
    f"{level}_{kind}": MetricInfo(f"{label} {text}") for level, label in _LEVELS.items() for kind, text in _KINDS.items()
}


class LlpEvaluator(Evaluator):
    """Accumulating LLP evaluator; needs references with dense GT (val or test)."""

    benchmark = "llp"
    metrics = METRICS
    #: the number AV-Unified reports for LLP (audio segment-level F)
    primary_metric = "segment_audio"

    def __init__(self, references: References, protocol: Protocol | str | None = None,
                 allow_partial: bool = False) -> None:
        super().__init__(references, protocol, allow_partial)
        if getattr(references, "gt_audio", None) is None or getattr(references, "gt_visual", None) is None:
            raise AvuInputError(
                references.root, "--split",
                f"LLP split {references.split!r} has weak labels only; dense scores need 'val' or 'test'",
            )

    def make_records(self, ids: Sequence[str], predictions: Any) -> list[np.ndarray]:
        params = self.protocol.params
        if all(k in predictions for k in PROBABILITY_KEYS):
            pred_a, pred_v = kernels.binarize(
                predictions["global_prob"], predictions["frame_prob"],
                params["video_threshold"], params["frame_threshold"],
            )
        elif all(k in predictions for k in BINARY_KEYS):
            # (N, 10, 25) segment x class decisions -> the official (N, 25, 10) layout
            pred_a = np.asarray(predictions["audio"]).astype(bool).transpose(0, 2, 1)
            pred_v = np.asarray(predictions["visual"]).astype(bool).transpose(0, 2, 1)
        else:
            raise AvuInputError(None, None, f"LLP payload needs {PROBABILITY_KEYS} or {BINARY_KEYS}, got {sorted(predictions)}")
        if len(pred_a) != len(ids):
            raise AvuInputError(None, None, f"payload holds {len(pred_a)} samples for {len(ids)} ids")
        rows = canonical_rows(self.references, ids)
        scores = kernels.per_video_scores(
            pred_a, pred_v, self.references.gt_audio[rows], self.references.gt_visual[rows],
            params["iou_threshold"],
        )
        return list(scores)

    def reduce(self, ids: list[str], records: list[Any]) -> tuple[dict[str, float], dict[str, Any]]:
        per_video = np.stack(records)
        return kernels.aggregate(per_video), {}


SPEC = BenchmarkSpec(
    id="llp",
    title="LLP / AVVP: audio-visual video parsing (segment- and event-level F)",
    evaluator=LlpEvaluator,
    load_references=annotations.load_references,
    read_predictions=read_predictions,
    annotation_versions=annotations.VERSIONS,
    default_annotation_version=annotations.DEFAULT_VERSION,
    prediction_formats=(
        "JSON envelope or NPZ with global_prob (N,25) + frame_prob (N,10,2,25) probabilities, "
        "or binary audio/visual (N,10,25); ids = filename of the split CSV (docs/predictions/llp.md)"
    ),
    citation="Tian, Li, Xu. Unified Multisensory Perception: Weakly-Supervised Audio-Visual Video Parsing. ECCV 2020",
)
