"""Slow oracle: the official VGG-SS evaluation loops, one sample at a time.

A straightforward re-expression of LVS ``test.py::main`` (+ ``utils.normalize_img``,
``Evaluator.cal_CIOU``, ``testset_gt``) and EZ-VSL ``test.py::validate`` (+
``datasets.bbox2gtmap``, ``utils.Evaluator``), written independently of
`avu.metrics.vggss`: GT maps box by box, per-sample ``np.sort`` for the threshold, float64
``cal_CIOU`` arithmetic, and the dataset scores as the official list comprehensions.
The LVS upsampling is the official call itself, ``cv2.resize(INTER_LINEAR)``.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from sklearn import metrics

SIZE = 224


# -- official helpers -----------------------------------------------------------------------------


def normalize_img(value, vmax=None, vmin=None):
    """LVS / EZ-VSL ``utils.normalize_img``."""
    vmin = value.min() if vmin is None else vmin
    vmax = value.max() if vmax is None else vmax
    if not (vmax - vmin) == 0:
        value = (value - vmin) / (vmax - vmin)
    return value


def cal_ciou(infer, gtmap, thres=0.01):
    """``Evaluator.cal_CIOU`` (both repositories): (ciou, intersection, denominator)."""
    infer_map = np.zeros((SIZE, SIZE))
    infer_map[infer >= thres] = 1
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 -> NaN, as officially (minus the warning)
        ciou = np.sum(infer_map * gtmap) / (np.sum(gtmap) + np.sum(infer_map * (gtmap == 0)))
    return ciou, np.sum(infer_map * gtmap), (np.sum(gtmap) + np.sum(infer_map * (gtmap == 0)))


def bbox2gtmap(bboxes: Iterable[Sequence[float]]) -> np.ndarray:
    """EZ-VSL ``load_all_bboxes('vggss')`` + ``bbox2gtmap(format='vggss')`` for one sample."""
    pixel = [(np.clip(np.array(bbox), 0, 1) * SIZE).astype(int) for bbox in bboxes]
    gt_map = np.zeros([SIZE, SIZE])
    for xmin, ymin, xmax, ymax in pixel:
        temp = np.zeros([SIZE, SIZE])
        temp[ymin:ymax, xmin:xmax] = 1
        gt_map += temp
    gt_map[gt_map > 0] = 1
    return gt_map


def lvs_gt_map(bboxes: Iterable[Sequence[float]]) -> np.ndarray:
    """LVS ``testset_gt`` for VGG-SS: ``int(224 * max(x, 0))`` bounds (no upper clip)."""
    gt_map = np.zeros([SIZE, SIZE])
    for bbox in bboxes:
        xmin, ymin, xmax, ymax = (int(SIZE * max(v, 0)) for v in bbox)
        temp = np.zeros([SIZE, SIZE])
        temp[ymin:ymax, xmin:xmax] = 1
        gt_map += temp
    gt_map[gt_map > 1] = 1
    return gt_map


# -- cv2.resize(INTER_LINEAR), float32 -----------------------------------------------------------


def cv2_resize_linear(src: np.ndarray, size: int = SIZE) -> np.ndarray:
    """LVS ``test.py``: ``cv2.resize(heatmap, (224, 224), interpolation=cv2.INTER_LINEAR)`` of one map."""
    return cv2.resize(np.asarray(src, dtype=np.float32), (size, size), interpolation=cv2.INTER_LINEAR)


# -- the two official chains -----------------------------------------------------------------------


def lvs_sample(heatmap: np.ndarray, gt_map: np.ndarray) -> tuple[float, float, float]:
    """LVS ``test.py``: one heatmap -> (ciou, intersection, denominator)."""
    heatmap_now = cv2_resize_linear(np.asarray(heatmap, dtype=np.float32))
    heatmap_now = normalize_img(-heatmap_now)
    pred = 1 - heatmap_now
    threshold = np.sort(pred.flatten())[int(pred.shape[0] * pred.shape[1] / 2)]
    pred[pred > threshold] = 1
    pred[pred < 1] = 0
    return cal_ciou(pred, gt_map, 0.5)


def ezvsl_sample(heatmap: np.ndarray, gt_map: np.ndarray) -> tuple[float, float, float]:
    """EZ-VSL ``test.py::validate``: one heatmap -> (ciou, intersection, denominator)."""
    h = torch.from_numpy(np.asarray(heatmap, dtype=np.float32))[None, None]
    avl_map = F.interpolate(h, size=(SIZE, SIZE), mode="bilinear", align_corners=True).numpy()
    pred = normalize_img(avl_map[0, 0])
    thr = np.sort(pred.flatten())[int(pred.shape[0] * pred.shape[1] / 2)]
    return cal_ciou(pred, gt_map, thr)


def dataset_scores(ciou: list[float]) -> dict[str, object]:
    """cIoU@0.5 / AP50, mean cIoU, AUC and the success curve, as the official loops compute them."""
    results = []
    for i in range(21):
        result = np.sum(np.array(ciou) >= 0.05 * i)
        result = result / len(ciou)
        results.append(result)
    x = [0.05 * i for i in range(21)]
    return {
        "ap50": np.sum(np.array(ciou) >= 0.5) / len(ciou),
        "mean": np.mean(np.array(ciou)),  # NaN propagates here, as in EZ-VSL
        "auc": metrics.auc(x, results),
        "success_curve": results,
    }


def evaluate(heatmaps: Sequence[np.ndarray], boxes: Sequence[Sequence[Sequence[float]]], protocol: str) -> dict:
    """Per-sample cIoU and dataset scores of ``heatmaps`` against ``boxes`` (normalised, per sample)."""
    cious, inters, dens = [], [], []
    for heatmap, bboxes in zip(heatmaps, boxes):
        if protocol == "lvs":
            ciou, inter, den = lvs_sample(heatmap, lvs_gt_map(bboxes))
        elif protocol == "ezvsl":
            ciou, inter, den = ezvsl_sample(heatmap, bbox2gtmap(bboxes))
        else:
            raise ValueError(protocol)
        cious.append(ciou)
        inters.append(inter)
        dens.append(den)
    return {"ciou": np.array(cious), "inter": np.array(inters), "den": np.array(dens), **dataset_scores(cious)}
