"""Decoded targets -> the evaluators' prediction payloads (brief: canonical payloads).

Used for the codec's upper bound (metric of decode(encode(ground truth))) and, for the
tasks whose tokens carry the whole answer, for the model's predictions too.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from avu.codec import primitives as P
from avu.codec.codec import FRAMES, MASK_SIZE

#: logit magnitude used when a binary mask stands for pre-sigmoid logits
BINARY_LOGIT = 10.0


def ave_payload(decoded: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    return {"labels": np.stack([d["labels"] for d in decoded]).astype(np.int64)}


def llp_payload(decoded: Sequence[dict[str, Any]], frame_prob: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """``global_prob`` from the decoded label set; ``frame_prob`` from dense decodes or given."""
    global_prob = np.stack([d["video_labels"] for d in decoded]).astype(np.float32)
    if frame_prob is None:
        frame_prob = np.zeros((len(decoded), FRAMES["llp"], 2, global_prob.shape[1]), dtype=np.float32)
        for n, d in enumerate(decoded):
            if "audio" in d:
                frame_prob[n, :, 0] = d["audio"]
                frame_prob[n, :, 1] = d["visual"]
            else:  # weak decode: every segment of a predicted class
                frame_prob[n, :, :, :] = d["video_labels"][None, None, :]
    return {"global_prob": global_prob, "frame_prob": frame_prob.astype(np.float32)}


def vggss_payload(decoded: Sequence[dict[str, Any]], size: int = MASK_SIZE) -> dict[str, np.ndarray]:
    return {"heatmaps": np.stack([P.boxes_to_heatmap(d["boxes"], size) for d in decoded])}


def avs_payload(decoded: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    masks = np.stack([d["masks"] for d in decoded]).astype(np.float32)
    return {"logits": (masks * 2.0 - 1.0) * BINARY_LOGIT}


def avss_payload(decoded: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    return {"labels": np.stack([d["labels"] for d in decoded]).astype(np.uint8)}


def avqa_payload(decoded: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"answers": [d["answer"] for d in decoded]}


def payload(task: str, decoded: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Payload for a batch of decoded targets (masks need the grid form)."""
    return {
        "ave": ave_payload, "llp": llp_payload, "vggss": vggss_payload,
        "avs_s4": avs_payload, "avs_ms3": avs_payload, "avss": avss_payload, "avqa": avqa_payload,
    }[task](decoded)
