"""Slow, straightforward re-expression of the official AVSBench evaluation loops (torch, float32).

Written from the semantics in ``../shared/design/evaluators.md`` §4 (OpenNLPLab/AVSBench @
f7414aff): one frame at a time, the 255 thresholds one by one, float32 tensors as the official
code uses them. It is the reference the fast kernels of `avu.metrics.avsbench` are checked
against, and the baseline of ``benchmarks/speed/avsbench.py``.
"""

from __future__ import annotations

import numpy as np
import torch

N_THRESHOLDS = 255


def frame_iou(logit: torch.Tensor, target: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Jaccard of one (H, W) frame: strict sigmoid > 0.5, empty GT -> background accuracy."""
    pred = (torch.sigmoid(logit) > 0.5).int()
    if target.sum() == 0:
        inter = ((1 - target) * (1 - pred)).sum()
        union = torch.tensor(float(target.numel()))
    else:
        inter = (pred * target).sum()
        union = torch.max(pred, target).sum()
    return inter / (union + eps)


def mask_iou(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Batch mIoU: mean of the frame Jaccards."""
    total = torch.zeros(())
    for f in range(logits.shape[0]):
        total = total + frame_iou(logits[f], targets[f])
    return float(total / logits.shape[0])


def frame_pr(prob: torch.Tensor, target: torch.Tensor, num: int = N_THRESHOLDS) -> tuple[torch.Tensor, torch.Tensor]:
    """Precision and recall of one frame at each threshold, one threshold at a time."""
    prec, recall = torch.zeros(num), torch.zeros(num)
    thresholds = torch.linspace(0, 1 - 1e-10, num)
    for i in range(num):
        selected = (prob >= thresholds[i]).float()
        tp = (selected * target).sum()
        prec[i], recall[i] = tp / (selected.sum() + 1e-20), tp / (target.sum() + 1e-20)
    return prec, recall


def eval_fmeasure(logits: torch.Tensor, targets: torch.Tensor, beta2: float = 0.3) -> float:
    """Batch F: max over thresholds of the mean F curve of the non-empty-GT frames (0 if none)."""
    probs = torch.sigmoid(logits)
    total, frames = torch.zeros(N_THRESHOLDS), 0
    score = torch.zeros(N_THRESHOLDS)
    for f in range(probs.shape[0]):
        if torch.mean(targets[f]) == 0.0:
            continue
        prec, recall = frame_pr(probs[f], targets[f])
        fs = (1 + beta2) * prec * recall / (beta2 * prec + recall)
        fs[fs != fs] = 0
        total = total + fs
        frames += 1
        score = total / frames
    return float(score.max())


def s4ms3_test(logits: np.ndarray, masks: np.ndarray, batch_size: int) -> tuple[float, float, list[tuple[float, float]]]:
    """The official test loop: batches of ``batch_size`` videos, means over batches.

    ``logits`` (V, T, H, W) float32, ``masks`` (V, T, H, W) {0, 1}. Returns (mIoU, F, per batch).
    """
    per_batch = []
    for s in range(0, len(logits), batch_size):
        lg = torch.from_numpy(np.ascontiguousarray(logits[s:s + batch_size], dtype=np.float32))
        gt = torch.from_numpy(np.ascontiguousarray(masks[s:s + batch_size])).float()
        lg, gt = lg.reshape(-1, *lg.shape[2:]), gt.reshape(-1, *gt.shape[2:])
        per_batch.append((mask_iou(lg, gt), eval_fmeasure(lg, gt)))
    miou = sum(b[0] for b in per_batch) / len(per_batch)
    fscore = sum(b[1] for b in per_batch) / len(per_batch)
    return miou, fscore, per_batch


def s4ms3_dataset(logits: np.ndarray, masks: np.ndarray) -> tuple[float, float]:
    """dataset_v1 by definition: the official batch functions on ONE batch of every frame."""
    lg = torch.from_numpy(np.ascontiguousarray(logits, dtype=np.float32)).reshape(-1, *logits.shape[-2:])
    gt = torch.from_numpy(np.ascontiguousarray(masks)).float().reshape(-1, *masks.shape[-2:])
    return mask_iou(lg, gt), eval_fmeasure(lg, gt)


def avss_test(pred_labels: np.ndarray, gt_labels: np.ndarray, n_classes: int = 71, beta2: float = 0.3) -> dict:
    """Official AVSS accumulation over every frame (label maps; argmax already taken).

    Per frame: class areas by ``torch.histc`` over labels + 1 in [1, n_classes], IoU and F per
    class, summed in float32; final per-class mean over frames where the class was seen.
    """
    pred = torch.from_numpy(np.ascontiguousarray(pred_labels)).reshape(-1, *pred_labels.shape[-2:])
    gt = torch.from_numpy(np.ascontiguousarray(gt_labels)).reshape(-1, *gt_labels.shape[-2:])
    iou_sum, f_sum, count = torch.zeros(n_classes), torch.zeros(n_classes), torch.zeros(n_classes)
    for f in range(pred.shape[0]):
        predict = pred[f].float() + 1
        target = gt[f].float() + 1
        intersection = predict * (predict == target).float()
        area_inter = torch.histc(intersection, bins=n_classes, min=1, max=n_classes)
        area_pred = torch.histc(predict, bins=n_classes, min=1, max=n_classes)
        area_lab = torch.histc(target, bins=n_classes, min=1, max=n_classes)
        area_union = area_pred + area_lab - area_inter
        iou_sum += area_inter / (2.220446049250313e-16 + area_union)
        count[torch.nonzero(area_union).squeeze(-1)] += 1
        precision, recall = area_inter / area_pred, area_inter / area_lab
        fs = (1 + beta2) * precision * recall / (beta2 * precision + recall)
        fs[torch.isnan(fs)] = 0.0
        f_sum += fs
    iou_pc, f_pc = iou_sum / count, f_sum / count
    iou_pc[torch.isnan(iou_pc)] = 0
    f_pc[torch.isnan(f_pc)] = 0
    return {
        "miou": float(iou_pc.mean()),
        "miou_no_last": float(iou_pc[:-1].mean()),
        "fscore": float(f_pc.mean()),
        "fscore_no_last": float(f_pc[:-1].mean()),
        "per_class_iou": iou_pc.numpy(),
        "per_class_fscore": f_pc.numpy(),
        "per_class_count": count.numpy(),
    }


def calc_binary_miou(logits: torch.Tensor, target: torch.Tensor, eps: float = 1e-7) -> float:
    """``calc_binary_miou(pred, target)`` of one call: logits (N, C, H, W), labels (N, H, W).

    Labels are ``argmax(softmax(logits))``; foreground is every label but the last channel
    (``nclass - 1``), in prediction and GT alike; the 0/1 prediction goes through the same
    strict sigmoid > 0.5 as S4/MS3; a frame whose GT is all "background" scores its
    background agreement over H*W. Float32 sums; the result is the frame mean.
    """
    nclass = logits.shape[1]
    labels = torch.argmax(torch.softmax(logits, dim=1), dim=1)
    pred = (torch.sigmoid((labels != nclass - 1).float()) > 0.5).int()
    target = (target != nclass - 1).float()
    no_obj = target.sum(2).sum(1) == 0
    inter = (pred * target).sum(2).sum(1)
    union = torch.max(pred, target).sum(2).sum(1)
    inter[no_obj] = ((1 - target) * (1 - pred)).sum(2).sum(1)[no_obj]
    union[no_obj] = float(pred.shape[-1] * pred.shape[-2])
    return float(torch.sum(inter / (union + eps)) / pred.shape[0])
