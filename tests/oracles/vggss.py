"""Slow oracle: the official VGG-SS evaluation loops, one sample at a time.

A straightforward re-expression of LVS ``test.py::main`` (+ ``utils.normalize_img``,
``Evaluator.cal_CIOU``, ``testset_gt``) and EZ-VSL ``test.py::validate`` (+
``datasets.bbox2gtmap``, ``utils.Evaluator``), written independently of
`avu.metrics.vggss`: GT maps box by box, per-sample ``np.sort`` for the threshold, float64
``cal_CIOU`` arithmetic, and the dataset scores as the official list comprehensions.
OpenCV is not available, so ``cv2.resize(INTER_LINEAR)`` is re-expressed from OpenCV's
C++ (``resize.cpp``: coefficient tables built output pixel by output pixel, then the
horizontal pass into float32 row buffers and the vertical pass per output row).
"""

from __future__ import annotations

import functools
import math
from typing import Iterable, Sequence

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


@functools.lru_cache(maxsize=None)
def _cv2_tables(ssize: int, dsize: int) -> tuple:
    """``cv::resize`` coefficient tables: (xofs, alpha) with border clamping, (yofs, beta) without."""
    scale = 1.0 / (dsize / ssize)
    xofs, alpha, yofs, beta = [], [], [], []
    for d in range(dsize):
        f = float(np.float32((d + 0.5) * scale - 0.5))
        s = math.floor(f)
        f = float(np.float32(f - s))
        yofs.append(s)
        beta.append((np.float32(1.0) - np.float32(f), np.float32(f)))
        if s < 0:
            f, s = 0.0, 0
        if s >= ssize - 1:
            f, s = 0.0, ssize - 1
        xofs.append(s)
        alpha.append((np.float32(1.0) - np.float32(f), np.float32(f)))
    return xofs, alpha, yofs, beta


def cv2_resize_linear(src: np.ndarray, size: int = SIZE) -> np.ndarray:
    """``cv2.resize(src, (size, size), interpolation=cv2.INTER_LINEAR)`` of a float32 (h, w) map."""
    src = np.asarray(src, dtype=np.float32)
    sh, sw = src.shape
    xofs, alpha, _, _ = _cv2_tables(sw, size)
    _, _, yofs, beta = _cv2_tables(sh, size)
    first = np.array(xofs)
    second = np.minimum(first + 1, sw - 1)
    a0 = np.array([a[0] for a in alpha], dtype=np.float32)
    a1 = np.array([a[1] for a in alpha], dtype=np.float32)
    rows = src[:, first] * a0 + src[:, second] * a1  # HResizeLinear: one float32 buffer per source row
    # VResizeLinear: out[dy] = rows[r0] * b0 + rows[r1] * b1 with the two clipped source rows of
    # each output row; one array expression over all rows (same float32 operations per pixel),
    # because a Python loop over 224 rows would cost ~20x what OpenCV's C++ spends on this map
    # and so make the oracle artificially slow
    r0 = np.clip(np.array(yofs), 0, sh - 1)
    r1 = np.clip(np.array(yofs) + 1, 0, sh - 1)
    b0 = np.array([b[0] for b in beta], dtype=np.float32)[:, None]
    b1 = np.array([b[1] for b in beta], dtype=np.float32)[:, None]
    return rows[r0] * b0 + rows[r1] * b1


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
