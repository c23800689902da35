"""AVSBench metric kernels: S4 / MS3 (binary masks) and AVSS (71-class semantic masks).

Everything here works on plain numpy arrays and returns what the official code returns:
**fractions** (0..1), not percent. The official arithmetic (OpenNLPLab/AVSBench @ f7414aff,
``avs_scripts/avs_{s4,ms3}/utils/utility.py`` and ``avs_scripts/avss/utils/compute_color_metrics.py``)
is summarised in ``docs/predictions/avsbench.md``; the points that matter for exactness:

* S4/MS3 probabilities are float32 (``torch.sigmoid`` of float32 logits), the foreground test is
  strict ``q > 0.5`` and the 255 F-measure thresholds are the float32 values of
  ``torch.linspace(0, 1 - 1e-10, 255)`` (in float32 the last one is exactly 1.0, and ten of them
  differ from numpy's linspace by one ulp), compared with ``q >= t``.
* Pixel counts are exact int64 (the official float32 sums are exact below 2**24 pixels);
  ratios are float64, so results agree with the float32 official outputs to ~1e-7.

Speed: instead of 255 passes over every frame, each pixel is put in one of 257 bins delimited by
the 255 thresholds and the 0.5 foreground boundary (an exact bin lookup on the float32 bit
pattern, see `_Binner`), and one histogram per frame and GT value gives every count the metrics
need (reverse cumulative sums). Frames are processed in small chunks to stay in cache.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

#: number of F-measure thresholds, beta^2 and epsilons of the official code
N_THRESHOLDS = 255
BETA2 = 0.3
IOU_EPS = 1e-7
PR_EPS = 1e-20
AVSS_EPS = 2.220446049250313e-16
N_AVSS_CLASSES = 71

#: the official thresholds, float32 exactly as ``torch.linspace(0, 1 - 1e-10, 255)`` makes them
THRESHOLDS: np.ndarray = torch.linspace(0, 1 - 1e-10, N_THRESHOLDS, dtype=torch.float32).numpy().copy()
THRESHOLDS.setflags(write=False)

#: smallest float32 above 0.5: ``q > 0.5`` <=> ``q >= HALF_UP`` (official foreground test)
HALF_UP = np.nextafter(np.float32(0.5), np.float32(1.0))

ScoreKind = Literal["logits", "probs", "levels"]

#: frames per chunk: a chunk of 224x224 frames stays in the CPU cache
_CHUNK_PIXELS = 1 << 19


# ---------------------------------------------------------------------------------------------
# S4 / MS3: probabilities
# ---------------------------------------------------------------------------------------------
def sigmoid32(logits: np.ndarray) -> np.ndarray:
    """float32 ``torch.sigmoid`` of logits cast to float32 (the official model outputs float32)."""
    t = torch.from_numpy(np.ascontiguousarray(logits, dtype=np.float32))
    return torch.sigmoid(t).numpy()


def to_probabilities(scores: np.ndarray, kind: ScoreKind) -> np.ndarray:
    """float32 foreground probabilities in [0, 1] from one of the accepted score kinds.

    ``logits``: any float, passed through the float32 sigmoid; ``probs``: float in [0, 1] or
    bool; ``levels``: uint8 8-bit probability maps, p = float32(v) / 255 (as ToTensor does).
    """
    if kind == "logits":
        return sigmoid32(scores)
    if kind == "levels":
        if scores.dtype != np.uint8:
            raise ValueError(f"levels must be uint8, got {scores.dtype}")
        return scores.astype(np.float32) / np.float32(255.0)
    if kind == "probs":
        q = np.asarray(scores, dtype=np.float32)
        if q.size and not (q.min() >= 0.0 and q.max() <= 1.0):  # also catches NaN
            raise ValueError("probabilities must lie in [0, 1]")
        return q + np.float32(0.0)  # turns -0.0 into +0.0 (the bit-pattern lookup needs it)
    raise ValueError(f"unknown score kind {kind!r}")


class _Binner:
    """Exact bin index of float32 values in [0, 1] against sorted float32 boundaries.

    ``bin(q)`` = number of boundaries <= q. Positive float32 values sort like their int32 bit
    patterns, so the top bits of the pattern (``>> shift``) name a narrow value range; a lookup
    table gives the bin at the bottom of each range, plus the (at most ``depth``) boundaries
    that fall inside it, which one comparison each resolves. Equal to ``np.searchsorted(
    bounds, q, side="right")`` for every q in [0, 1] (tested), at a fraction of its cost.
    """

    def __init__(self, bounds: np.ndarray, shift: int = 12) -> None:
        self.bounds = np.asarray(bounds, dtype=np.float32)
        self.shift = shift
        n_prefix = (int(np.float32(1.0).view(np.int32)) >> shift) + 1
        prefixes = np.arange(n_prefix, dtype=np.int64)
        lo = (prefixes << shift).astype(np.int32).view(np.float32)
        hi = (((prefixes + 1) << shift) - 1).astype(np.int32).view(np.float32)
        lo_bin = np.searchsorted(self.bounds, lo, side="right")
        hi_bin = np.searchsorted(self.bounds, hi, side="right")
        self.depth = int((hi_bin - lo_bin).max())
        self.base = lo_bin.astype(np.uint16)
        self.inner = np.full((max(self.depth, 1), n_prefix), np.inf, dtype=np.float32)
        for p in np.nonzero(hi_bin > lo_bin)[0]:
            inside = self.bounds[lo_bin[p]:hi_bin[p]]
            self.inner[: len(inside), p] = inside

    def __call__(self, q: np.ndarray) -> np.ndarray:
        prefix = q.view(np.int32) >> self.shift
        b = self.base[prefix]
        for j in range(self.depth):
            b += q >= self.inner[j][prefix]
        return b


@functools.lru_cache(maxsize=1)
def _binary_binning() -> tuple[_Binner, np.ndarray, int]:
    """The binner over thresholds + HALF_UP, the bin position of each threshold and of HALF_UP."""
    bounds = np.unique(np.concatenate([THRESHOLDS, [HALF_UP]]).astype(np.float32))
    threshold_pos = np.searchsorted(bounds, THRESHOLDS)
    half_pos = int(np.searchsorted(bounds, HALF_UP))
    return _Binner(bounds), threshold_pos, half_pos


def binary_histograms(scores: np.ndarray, masks: np.ndarray, kind: ScoreKind = "logits") -> np.ndarray:
    """Per-frame pixel histograms ``(F, 2, n_bins)`` int64: axis 1 is the GT value (0/1),
    axis 2 the bin of the probability among the thresholds and the 0.5 boundary."""
    if scores.shape != masks.shape or scores.ndim != 3:
        raise ValueError(f"scores {scores.shape} and masks {masks.shape} must both be (F, H, W)")
    binner, _, _ = _binary_binning()
    n_bins = len(binner.bounds) + 1
    n_frames = scores.shape[0]
    pixels = int(np.prod(scores.shape[1:]))
    chunk = max(1, _CHUNK_PIXELS // max(pixels, 1))
    out = np.zeros((n_frames, 2, n_bins), dtype=np.int64)
    for start in range(0, n_frames, chunk):
        stop = min(start + chunk, n_frames)
        n = stop - start
        q = np.ascontiguousarray(to_probabilities(scores[start:stop], kind)).reshape(n, -1)
        gt = np.asarray(masks[start:stop]).reshape(n, -1)
        key = binner(q).astype(np.int32)
        key += gt.astype(bool).astype(np.int32) * n_bins
        key += (np.arange(n, dtype=np.int32) * (2 * n_bins))[:, None]
        out[start:stop] = np.bincount(key.ravel(), minlength=n * 2 * n_bins).reshape(n, 2, n_bins)
    return out


@dataclass(frozen=True)
class BinaryFrameScores:
    """Per-frame S4/MS3 scores: everything both protocols need."""

    #: (F,) official Jaccard of each frame (background accuracy on empty-GT frames)
    iou: np.ndarray
    #: (F, 255) F-measure at each threshold; zeros on empty-GT frames (skipped officially)
    fcurve: np.ndarray
    #: (F,) True where the GT mask is not empty (the frames the F-measure averages)
    nonempty: np.ndarray


def binary_scores_from_histograms(hist: np.ndarray) -> BinaryFrameScores:
    """Jaccard and F curves of each frame from `binary_histograms`."""
    _, threshold_pos, half_pos = _binary_binning()
    hist = np.asarray(hist, dtype=np.int64)
    # tail[..., j] = pixels whose bin >= j; a pixel passes boundary j iff its bin >= j + 1
    tail = np.flip(np.cumsum(np.flip(hist, -1), axis=-1), -1)
    pixels = hist.sum(axis=(1, 2))
    gt_area = hist[:, 1].sum(axis=-1)
    nonempty = gt_area > 0

    fg_bg, fg_gt = tail[:, 0, half_pos + 1], tail[:, 1, half_pos + 1]  # predicted fg off / on the GT
    union = fg_bg + gt_area
    iou = np.where(nonempty, fg_gt / (union + IOU_EPS), (pixels - fg_bg) / (pixels + IOU_EPS))

    selected = tail[:, :, threshold_pos + 1]  # (F, 2, 255)
    tp = selected[:, 1].astype(np.float64)
    predicted = (selected[:, 0] + selected[:, 1]).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = tp / (predicted + PR_EPS)
        rec = tp / (gt_area[:, None] + PR_EPS)
        f = (1 + BETA2) * prec * rec / (BETA2 * prec + rec)
    f = np.nan_to_num(f, nan=0.0)
    f[~nonempty] = 0.0
    return BinaryFrameScores(iou=iou.astype(np.float64), fcurve=f, nonempty=nonempty)


def binary_frame_scores(scores: np.ndarray, masks: np.ndarray, kind: ScoreKind = "logits") -> BinaryFrameScores:
    """Per-frame Jaccard and F curves of ``(F, H, W)`` scores against binary ``(F, H, W)`` masks."""
    return binary_scores_from_histograms(binary_histograms(scores, masks, kind))


def batch_miou(iou: np.ndarray) -> float:
    """Official ``mask_iou`` of one batch from its per-frame Jaccard: the frame mean."""
    return float(np.mean(iou))


def batch_fscore(fcurve: np.ndarray, nonempty: np.ndarray) -> float:
    """Official ``Eval_Fmeasure`` of one batch: max over thresholds of the mean curve of its
    non-empty frames; 0.0 when every GT mask of the batch is empty."""
    nonempty = np.asarray(nonempty, dtype=bool).ravel()
    if not nonempty.any():
        return 0.0
    curves = np.asarray(fcurve).reshape(-1, N_THRESHOLDS)[nonempty]
    return float(curves.mean(axis=0).max())


def mask_iou(logits: np.ndarray, masks: np.ndarray) -> float:
    """Official ``mask_iou`` of one batch of ``(F, H, W)`` logits (fraction)."""
    return batch_miou(binary_frame_scores(logits, masks, "logits").iou)


def eval_fmeasure(logits: np.ndarray, masks: np.ndarray) -> float:
    """Official ``Eval_Fmeasure`` of one batch of ``(F, H, W)`` logits (fraction)."""
    s = binary_frame_scores(logits, masks, "logits")
    return batch_fscore(s.fcurve, s.nonempty)


def avsbench_v1(iou: np.ndarray, fcurve: np.ndarray, nonempty: np.ndarray, batch_size: int) -> dict:
    """Official S4/MS3 test loop: consecutive batches of ``batch_size`` videos (canonical order),
    batch mIoU and batch F as above, then the unweighted mean over batches (fractions).

    ``iou`` (V, T), ``fcurve`` (V, T, 255), ``nonempty`` (V, T) per video and frame.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    n = len(iou)
    per_batch = [
        (batch_miou(iou[s:s + batch_size]), batch_fscore(fcurve[s:s + batch_size], nonempty[s:s + batch_size]))
        for s in range(0, n, batch_size)
    ]
    arr = np.array(per_batch, dtype=np.float64).reshape(-1, 2)
    return {
        "miou": float(arr[:, 0].mean()),
        "fscore": float(arr[:, 1].mean()),
        "per_batch_miou": arr[:, 0],
        "per_batch_fscore": arr[:, 1],
    }


def dataset_v1(iou: np.ndarray, fcurve: np.ndarray, nonempty: np.ndarray) -> dict:
    """Batch-invariant S4/MS3 scores (fractions): mIoU = mean over all frames; F = max over
    thresholds of the mean curve over all non-empty frames of the split (0 if there are none)."""
    flat_nonempty = np.asarray(nonempty, dtype=bool).ravel()
    curves = np.asarray(fcurve).reshape(-1, N_THRESHOLDS)[flat_nonempty]
    mean_curve = curves.mean(axis=0) if len(curves) else np.zeros(N_THRESHOLDS)
    best = int(np.argmax(mean_curve))
    return {
        "miou": float(np.mean(iou)),
        "fscore": float(mean_curve[best]) if len(curves) else 0.0,
        "best_threshold": float(THRESHOLDS[best]),
    }


# ---------------------------------------------------------------------------------------------
# AVSS: 71-class label maps
# ---------------------------------------------------------------------------------------------
def avss_palette(n_classes: int = N_AVSS_CLASSES) -> np.ndarray:
    """The AVSS colour of each class index, ``(n, 3)`` uint8: the PASCAL-VOC style bit palette
    (bit 3i+c of the index goes to bit 7-i of channel c) that ``get_v2_pallete`` builds."""
    idx = np.arange(n_classes)
    palette = np.zeros((n_classes, 3), dtype=np.int64)
    for level in range(8):  # enough bit triples for 512 classes
        for channel in range(3):
            bit = (idx >> (3 * level + channel)) & 1
            palette[:, channel] |= bit << (7 - level)
    return palette.astype(np.uint8)


def colors_to_labels(rgb: np.ndarray, palette: np.ndarray | None = None) -> np.ndarray:
    """Class map of an ``(..., 3)`` uint8 colour mask by exact palette match; unknown colours
    become 0 (the official argmax over all-false matches)."""
    palette = avss_palette() if palette is None else palette
    rgb = np.asarray(rgb)
    code = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2].astype(np.int32)
    pal = (palette[:, 0].astype(np.int32) << 16) | (palette[:, 1].astype(np.int32) << 8) | palette[:, 2].astype(np.int32)
    order = np.argsort(pal, kind="stable")
    sorted_pal = pal[order]
    pos = np.clip(np.searchsorted(sorted_pal, code), 0, len(pal) - 1)
    found = sorted_pal[pos] == code
    return np.where(found, order[pos], 0).astype(np.uint8)


def unknown_colors(rgb: np.ndarray, palette: np.ndarray | None = None) -> np.ndarray:
    """Boolean map of pixels whose colour is not in the palette."""
    palette = avss_palette() if palette is None else palette
    code = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2].astype(np.int32)
    pal = (palette[:, 0].astype(np.int32) << 16) | (palette[:, 1].astype(np.int32) << 8) | palette[:, 2].astype(np.int32)
    return ~np.isin(code, pal)


def avss_frame_confusion(pred: np.ndarray, gt: np.ndarray, n_classes: int = N_AVSS_CLASSES) -> np.ndarray:
    """Per-frame confusion matrices ``(F, C, C)`` int64, indexed [frame, predicted, GT class]:
    one histogram of ``pred * C + gt`` per frame. Every AVSS count derives from it."""
    if pred.shape != gt.shape or pred.ndim != 3:
        raise ValueError(f"pred {pred.shape} and gt {gt.shape} must both be (F, H, W)")
    if n_classes * n_classes > np.iinfo(np.int16).max:
        raise ValueError(f"at most 181 classes, got {n_classes}")
    for a in (pred, gt):
        if a.size and (int(a.max()) >= n_classes or int(a.min()) < 0):
            raise ValueError(f"class index out of range 0..{n_classes - 1}")
    n_frames = pred.shape[0]
    confusion = torch.zeros((n_frames, n_classes * n_classes), dtype=torch.int64)
    p_all = torch.from_numpy(np.ascontiguousarray(pred))
    g_all = torch.from_numpy(np.ascontiguousarray(gt))
    for f in range(n_frames):
        p, g = p_all[f].reshape(-1), g_all[f].reshape(-1)
        key = p.to(torch.int16) * n_classes + g.to(torch.int16)
        confusion[f] = torch.bincount(key, minlength=n_classes * n_classes)
    return confusion.numpy().reshape(n_frames, n_classes, n_classes)


def areas_from_confusion(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame and class: intersection, predicted and GT areas, each ``(F, C)`` int64."""
    inter = np.ascontiguousarray(np.diagonal(cm, axis1=1, axis2=2))
    return inter, cm.sum(axis=2), cm.sum(axis=1)


def avss_frame_areas(pred: np.ndarray, gt: np.ndarray, n_classes: int = N_AVSS_CLASSES
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame and class: intersection, predicted and GT areas, each ``(F, C)`` int64
    (``torch.histc`` over class bins in the official code)."""
    return areas_from_confusion(avss_frame_confusion(pred, gt, n_classes))


#: the class ``calc_binary_miou`` calls background: ``nclass - 1`` = 70 ("woman"). AVSS's
#: background is class 0, so the official binary mIoU is "not woman" vs "woman"; kept as is.
BINARY_BACKGROUND = N_AVSS_CLASSES - 1


def avss_binary_iou_from_confusion(cm: np.ndarray, background: int = BINARY_BACKGROUND) -> np.ndarray:
    """Official ``calc_binary_miou`` per frame, ``(F,)`` float64, from `avss_frame_confusion`.

    Foreground is ``label != background`` in prediction and GT. IoU = inter / (union + 1e-7);
    a frame without GT foreground scores its correctly-background pixels / (H*W + 1e-7), as
    in the S4/MS3 ``mask_iou`` (the official sigmoid > 0.5 of the 0/1 map changes nothing).
    """
    cm = np.asarray(cm, dtype=np.int64)
    pixels = cm.sum(axis=(1, 2))
    bg_bg = cm[:, background, background]
    pred_bg = cm[:, background, :].sum(axis=1)
    gt_bg = cm[:, :, background].sum(axis=1)
    inter = pixels - pred_bg - gt_bg + bg_bg  # foreground in both
    union = pixels - bg_bg  # foreground in either
    no_object = gt_bg == pixels
    inter = np.where(no_object, pred_bg, inter)  # background in both (the GT is all background)
    union = np.where(no_object, pixels, union)
    return inter / (union + IOU_EPS)


def avss_binary_miou(pred: np.ndarray, gt: np.ndarray, background: int = BINARY_BACKGROUND) -> float:
    """Official ``calc_binary_miou`` of one call on ``(F, H, W)`` label maps: the frame mean (fraction)."""
    return float(avss_binary_iou_from_confusion(avss_frame_confusion(pred, gt), background).mean())


@dataclass(frozen=True)
class AvssFrameScores:
    """Per frame and class (``(F, C)``): the official ``_batch_miou_fscore`` terms."""

    iou: np.ndarray
    fscore: np.ndarray
    #: union > 0: the class is in the prediction or the GT of the frame (``cls_count`` += 1)
    present: np.ndarray


def avss_scores_from_areas(inter: np.ndarray, area_p: np.ndarray, area_g: np.ndarray) -> AvssFrameScores:
    union = area_p + area_g - inter
    iou = inter / (union + AVSS_EPS)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = inter / area_p
        rec = inter / area_g
        f = (1 + BETA2) * prec * rec / (BETA2 * prec + rec)
    return AvssFrameScores(iou=iou, fscore=np.nan_to_num(f, nan=0.0), present=union > 0)


def avss_frame_scores(pred: np.ndarray, gt: np.ndarray, n_classes: int = N_AVSS_CLASSES) -> AvssFrameScores:
    """Per-frame, per-class IoU, F and presence of ``(F, H, W)`` label maps."""
    return avss_scores_from_areas(*avss_frame_areas(pred, gt, n_classes))


def avss_frame_miou_log(iou: np.ndarray) -> np.ndarray:
    """The official per-frame ``vid_miou_list``: sum of IoU / number of non-zero IoUs (NaN if none)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return iou.sum(axis=-1) / (iou != 0).sum(axis=-1)


def avss_summary(iou_sum: np.ndarray, f_sum: np.ndarray, count: np.ndarray) -> dict:
    """Final AVSS numbers (fractions) from the per-class sums over all frames of the split.

    ``miou`` = mean over ALL classes of iou_sum/count (classes never seen count 0);
    ``miou_no_last`` = the same without the LAST class (index 70), which the official code
    calls ``miou_noBg`` although background is index 0; F likewise. ``*_present`` divide by the
    number of classes seen instead (the official per-batch log line).
    """
    count = np.asarray(count, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou_pc = np.nan_to_num(np.asarray(iou_sum, dtype=np.float64) / count, nan=0.0)
        f_pc = np.nan_to_num(np.asarray(f_sum, dtype=np.float64) / count, nan=0.0)
    n_present = int((count != 0).sum())
    return {
        "miou": float(iou_pc.mean()),
        "miou_no_last": float(iou_pc[:-1].mean()),
        "fscore": float(f_pc.mean()),
        "fscore_no_last": float(f_pc[:-1].mean()),
        "per_class_iou": iou_pc,
        "per_class_fscore": f_pc,
        "per_class_count": count.astype(np.int64),
        "n_classes_present": n_present,
        "miou_present_classes": float(iou_pc.sum() / n_present) if n_present else 0.0,
        "fscore_present_classes": float(f_pc.sum() / n_present) if n_present else 0.0,
    }


def avss_scores(pred: np.ndarray, gt: np.ndarray, n_classes: int = N_AVSS_CLASSES) -> dict:
    """Official AVSS test numbers (fractions) of ``(N, T, H, W)`` or ``(F, H, W)`` label maps,
    padded frames included (batching does not matter: the official code sums per class), plus
    ``binary_miou``: `avss_binary_miou` of all frames as one call."""
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    cm = avss_frame_confusion(pred.reshape(-1, *pred.shape[-2:]), gt.reshape(-1, *gt.shape[-2:]), n_classes)
    s = avss_scores_from_areas(*areas_from_confusion(cm))
    out = avss_summary(s.iou.sum(axis=0), s.fscore.sum(axis=0), s.present.sum(axis=0))
    out["frame_miou_log"] = avss_frame_miou_log(s.iou)
    out["binary_miou"] = float(avss_binary_iou_from_confusion(cm, n_classes - 1).mean())
    return out
