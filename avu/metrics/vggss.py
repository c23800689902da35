"""VGG-SS / Flickr-SoundNet sound-source localisation kernels: heatmap -> 224x224 mask -> cIoU.

Vectorised re-implementations of the two official evaluation chains (see
``../shared/design/evaluators.md`` section 3 and ``docs/predictions/vggss.md``):

* **LVS** (hche11/Localizing-Visual-Sounds-the-Hard-Way@8fe8cbbf, ``test.py::main``):
  ``cv2.resize(h, (224, 224), INTER_LINEAR)``; ``pred = 1 - normalize_img(-h)``;
  ``thr = sort(pred)[25088]``; ``pred[pred > thr] = 1; pred[pred < 1] = 0``;
  ``cal_CIOU(pred, gt, 0.5)``. The mask is the pixels strictly above the median, plus any
  pixel whose value is still >= 1 (the maximum; every pixel of a constant map >= 0).
* **EZ-VSL** (stoneMo/EZ-VSL@95ff5bff, ``test.py::validate``): ``F.interpolate(bilinear,
  align_corners=True)``; ``pred = normalize_img(h)``; ``cal_CIOU(pred, gt, thr)`` with the
  same median ``thr``, i.e. the mask is ``pred >= median`` (at least half the pixels).

Both run in float32, as the official code runs on model outputs. ``normalize_img`` is
min-max scaling that leaves a constant map unscaled. OpenCV is not a dependency: its
``INTER_LINEAR`` float32 arithmetic is reproduced here (half-pixel centres; the horizontal
pass clamps the source column and its weight at the borders, the vertical pass clamps
only the source rows; every product and sum rounded to float32, in cv2's order). The
EZ-VSL upsampling calls torch's own ``F.interpolate``, so it is exact by construction.

Kernel outputs are what the official code returns: per-sample cIoU in [0, 1] (NaN when
GT and prediction are both empty), dataset scores as fractions. The evaluator turns them
into percent.
"""

from __future__ import annotations

import functools
from typing import Union

import numpy as np

#: side of the GT and prediction maps in both official chains
GT_SIZE = 224
#: ``int(224 * 224 / 2)``: the sorted position of the median threshold
MEDIAN_INDEX = int(GT_SIZE * GT_SIZE / 2)
#: success thresholds of the AUC, built as the official code builds them (0.05 * i, float products)
SUCCESS_THRESHOLDS: tuple[float, ...] = tuple(0.05 * i for i in range(21))
#: the cIoU a sample must reach to count as a success in ``ciou_ap50`` (what papers call "cIoU")
AP50_THRESHOLD = 0.5

UPSAMPLERS = ("cv2_linear", "bilinear_align_corners", "bicubic_align_corners")
BINARIZERS = ("lvs", "ezvsl")
#: samples per vectorised step (keeps the 224x224 float32 work arrays near the CPU caches)
DEFAULT_CHUNK = 32


# -- ground truth -------------------------------------------------------------------------------


def box_pixel_bounds(boxes: np.ndarray, size: int = GT_SIZE) -> np.ndarray:
    """Integer GT-map bounds of normalised boxes: ``int(size * clip(x, 0, 1))``, same shape, int64.

    Corrupt coordinates (``-2.88e16`` in 12 VGG-SS test entries) clip to 0, as officially.
    """
    return (np.clip(np.asarray(boxes, dtype=np.float64), 0.0, 1.0) * size).astype(np.int64)


def gt_maps_from_pixel_boxes(pixel_boxes: np.ndarray, box_counts: np.ndarray, size: int = GT_SIZE) -> np.ndarray:
    """Binary GT maps (n, size, size) bool: the union of ``gt[ymin:ymax, xmin:xmax] = 1`` per box.

    ``pixel_boxes``: (n, B, 4) int xmin, ymin, xmax, ymax (padded); ``box_counts``: (n,) real
    boxes per sample. A box with ``max <= min`` on an axis is empty, as a Python slice is.
    """
    pixel_boxes = np.asarray(pixel_boxes, dtype=np.int64)
    box_counts = np.asarray(box_counts, dtype=np.int64)
    n = pixel_boxes.shape[0]
    grid = np.arange(size)
    out = np.zeros((n, size, size), dtype=bool)
    for slot in range(pixel_boxes.shape[1]):
        have = box_counts > slot
        if not have.any():
            break
        xmin, ymin, xmax, ymax = (pixel_boxes[have, slot, k][:, None] for k in range(4))
        rows = (grid >= ymin) & (grid < ymax)
        cols = (grid >= xmin) & (grid < xmax)
        out[have] |= rows[:, :, None] & cols[:, None, :]
    return out


# -- upsampling ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def cv2_linear_axis(n_in: int, n_out: int, clamp_weights: bool) -> tuple[np.ndarray, ...]:
    """Source indices and float32 weights of one axis of ``cv2.resize(..., INTER_LINEAR)``.

    ``pos = float32((d + 0.5) * (1 / (n_out / n_in)) - 0.5)``, ``s = floor(pos)``,
    ``w1 = pos - s``, ``w0 = 1 - w1``. The horizontal pass (``clamp_weights=True``) sets
    ``s, w1 = 0, 0`` left of the first centre and ``n_in - 1, 0`` right of the last one; the
    vertical pass keeps the weights and clamps the two source rows into the image.
    Returns (first, second, w0, w1).
    """
    scale = 1.0 / (n_out / n_in)
    pos = ((np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5).astype(np.float32)
    start = np.floor(pos).astype(np.int64)
    frac = (pos - start.astype(np.float32)).astype(np.float32)
    if clamp_weights:
        low, high = start < 0, start >= n_in - 1
        frac[low | high] = 0
        start[low] = 0
        start[high] = n_in - 1
        first, second = start, np.minimum(start + 1, n_in - 1)
    else:
        first, second = np.clip(start, 0, n_in - 1), np.clip(start + 1, 0, n_in - 1)
    w0 = (np.float32(1) - frac).astype(np.float32)
    arrays = (first, second, w0, frac)
    for a in arrays:
        a.flags.writeable = False
    return arrays


class Workspace:
    """Reusable buffers for chunks of up to ``capacity`` maps of ``size`` x ``size`` pixels.

    The chunked path writes every 224x224 intermediate (upsampled map, normalised map,
    partition scratch, masks) into these instead of allocating megabytes per step. Kernels
    given a workspace return views into it, valid until the next call that uses it.
    """

    def __init__(self, capacity: int, size: int = GT_SIZE) -> None:
        self.capacity, self.size = capacity, size
        self._buffers: dict[str, np.ndarray] = {}

    def _buffer(self, name: str, dtype: type) -> np.ndarray:
        if name not in self._buffers:  # allocated on first use only
            self._buffers[name] = np.empty((self.capacity, self.size * self.size), dtype=dtype)
        return self._buffers[name]

    @property
    def values(self) -> np.ndarray:
        """Upsampled maps, float32 (capacity, size * size)."""
        return self._buffer("values", np.float32)

    @property
    def pred(self) -> np.ndarray:
        """Normalised maps, float32."""
        return self._buffer("pred", np.float32)

    @property
    def scratch(self) -> np.ndarray:
        """Temporary float32 rows (second upsampling term, partition copy)."""
        return self._buffer("scratch", np.float32)

    @property
    def mask(self) -> np.ndarray:
        """Predicted masks, bool."""
        return self._buffer("mask", bool)

    @classmethod
    def ensure(cls, work: "Workspace | None", n: int, size: int) -> "Workspace":
        if work is None or work.capacity < n or work.size != size:
            return cls(n, size)
        return work


def upsample_cv2_linear(heatmaps: np.ndarray, size: int = GT_SIZE, work: Workspace | None = None) -> np.ndarray:
    """``cv2.resize(h, (size, size), interpolation=cv2.INTER_LINEAR)`` of each float32 (h, w) map.

    (n, h, w) -> (n, size, size) float32, bit for bit as OpenCV's float32 path (horizontal
    pass into a float32 row buffer, then ``w0 * row_a + w1 * row_b``, each product rounded).
    OpenCV replaces an exact 2x downscale by INTER_AREA; maps larger than ``size`` are not
    an official input and follow the linear formula.
    """
    maps = np.asarray(heatmaps, dtype=np.float32)
    n, h, w = maps.shape
    work = Workspace.ensure(work, n, size)
    x0, x1, a0, a1 = cv2_linear_axis(w, size, True)
    y0, y1, b0, b1 = cv2_linear_axis(h, size, False)
    rows = maps[:, :, x0]
    rows *= a0
    right = maps[:, :, x1]
    right *= a1
    rows += right
    # np.take into C-ordered buffers (fancy indexing on a middle axis returns another memory
    # order, and every later pass over it would crawl)
    out = work.values[:n].reshape(n, size, size)
    lower = work.scratch[:n].reshape(n, size, size)
    np.take(rows, y0, axis=1, out=out, mode="clip")  # "raise" would buffer the whole output
    out *= b0[:, None]
    np.take(rows, y1, axis=1, out=lower, mode="clip")
    lower *= b1[:, None]
    out += lower
    return out


def _torch_interpolate(heatmaps: np.ndarray, size: int, mode: str) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    maps = torch.from_numpy(np.ascontiguousarray(heatmaps, dtype=np.float32))[:, None]
    with torch.no_grad():
        out = F.interpolate(maps, size=(size, size), mode=mode, align_corners=True)
    return out[:, 0].numpy()


def upsample_bilinear_align_corners(heatmaps: np.ndarray, size: int = GT_SIZE) -> np.ndarray:
    """``F.interpolate(h, size=(size, size), mode='bilinear', align_corners=True)`` (EZ-VSL), float32."""
    return _torch_interpolate(heatmaps, size, "bilinear")


def upsample_bicubic_align_corners(heatmaps: np.ndarray, size: int = GT_SIZE) -> np.ndarray:
    """``F.interpolate(h, size=(size, size), mode='bicubic', align_corners=True)`` (SLAVC), float32."""
    return _torch_interpolate(heatmaps, size, "bicubic")


def upsample(heatmaps: np.ndarray, method: str, size: int = GT_SIZE, work: Workspace | None = None) -> np.ndarray:
    """Upsample (n, h, w) heatmaps to (n, size, size) float32 with ``method`` in `UPSAMPLERS`."""
    if method == "cv2_linear":
        return upsample_cv2_linear(heatmaps, size, work)
    if method == "bilinear_align_corners":
        return upsample_bilinear_align_corners(heatmaps, size)
    if method == "bicubic_align_corners":
        return upsample_bicubic_align_corners(heatmaps, size)
    raise ValueError(f"unknown upsampling {method!r}; known: {UPSAMPLERS}")


# -- normalisation and thresholding --------------------------------------------------------------


def _min_max(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-row (min, max, max - min, constant) of (n, P) maps; ``max - min`` in their dtype."""
    low, high = flat.min(axis=1), flat.max(axis=1)
    span = high - low
    return low, high, span, span == 0


def normalize_img(maps: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Per-map min-max scaling ``(v - min) / (max - min)`` in the maps' dtype; constant maps unchanged."""
    maps = np.asarray(maps)
    flat = maps.reshape(maps.shape[0], -1)
    low, _, span, constant = _min_max(flat)
    pred = np.empty_like(flat) if out is None else out.reshape(flat.shape)
    np.subtract(flat, low[:, None], out=pred)
    pred /= np.where(constant, 1, span).astype(flat.dtype)[:, None]
    if constant.any():
        pred[constant] = flat[constant]
    return pred.reshape(maps.shape)


def median_threshold(pred: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """``sort(p.flatten())[int(H * W / 2)]`` of each (H, W) map, (n,)."""
    flat = pred.reshape(pred.shape[0], -1)
    k = int(pred.shape[1] * pred.shape[2] / 2)
    if scratch is None:
        return np.partition(flat, k, axis=1)[:, k]
    part = scratch.reshape(flat.shape)
    np.copyto(part, flat)
    part.partition(k, axis=1)
    return part[:, k].copy()


#: the largest float32 below 1
_BELOW_ONE = np.nextafter(np.float32(1), np.float32(0))


def binarize_lvs(maps: np.ndarray, work: Workspace | None = None) -> np.ndarray:
    """LVS mask of upsampled maps (n, S, S) float32 -> bool: ``pred > median`` or ``pred >= 1``.

    ``pred = 1 - normalize_img(-h)``, which is ``1 - (max - h) / (max - min)`` with the same
    float32 roundings, or ``1 - (-h)`` for a constant map (left unnormalised).
    """
    maps = np.asarray(maps, dtype=np.float32)
    n, size = maps.shape[0], maps.shape[-1]
    work = Workspace.ensure(work, n, size)
    flat = maps.reshape(n, -1)
    _, high, span, constant = _min_max(flat)
    pred = work.pred[:n]
    np.subtract(high[:, None], flat, out=pred)
    pred /= np.where(constant, np.float32(1), span)[:, None]
    if constant.any():
        pred[constant] = -flat[constant]
    np.subtract(np.float32(1), pred, out=pred)
    thr = median_threshold(pred.reshape(maps.shape), work.scratch[:n])
    # (pred > thr) | (pred >= 1) in one comparison: with thr < 1 every pixel >= 1 is above thr;
    # with thr >= 1 the mask is pred >= 1, i.e. pred > the float32 just below 1
    thr = np.minimum(thr, _BELOW_ONE)
    mask = work.mask[:n]
    np.greater(pred, thr[:, None], out=mask)
    return mask.reshape(maps.shape)


def binarize_ezvsl(maps: np.ndarray, work: Workspace | None = None) -> np.ndarray:
    """EZ-VSL mask of upsampled maps (n, S, S) float32 -> bool: ``normalize_img(h) >= median``."""
    maps = np.asarray(maps, dtype=np.float32)
    n, size = maps.shape[0], maps.shape[-1]
    work = Workspace.ensure(work, n, size)
    pred = normalize_img(maps, out=work.pred[:n]).reshape(n, -1)
    thr = median_threshold(pred.reshape(maps.shape), work.scratch[:n])
    mask = work.mask[:n]
    np.greater_equal(pred, thr[:, None], out=mask)
    return mask.reshape(maps.shape)


def binarize(maps: np.ndarray, rule: str, work: Workspace | None = None) -> np.ndarray:
    """Masks of upsampled maps under ``rule`` in `BINARIZERS`."""
    if rule == "lvs":
        return binarize_lvs(maps, work)
    if rule == "ezvsl":
        return binarize_ezvsl(maps, work)
    raise ValueError(f"unknown binarisation {rule!r}; known: {BINARIZERS}")


def infer_masks(heatmaps: np.ndarray, upsampling: str, rule: str, size: int = GT_SIZE,
                work: Workspace | None = None) -> np.ndarray:
    """Predicted masks (n, size, size) bool of raw heatmaps (n, h, w) under one protocol.

    With ``work`` the masks are a view into it (consume them before reusing it).
    """
    if work is None:
        work = Workspace(len(heatmaps), size)
    return binarize(upsample(heatmaps, upsampling, size, work), rule, work)


# -- cIoU ----------------------------------------------------------------------------------------


def ciou_terms(infer: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``cal_CIOU`` per sample: (ciou, intersection, denominator), float64 (n,) each.

    ``ciou = sum(infer * gt) / (sum(gt) + sum(infer * (gt == 0)))``; binary or soft
    (Flickr, values in {0, 0.5, 1}) GT. Both empty gives 0 / 0 = NaN (a failure at every
    threshold), without the numpy warning.
    """
    infer = np.asarray(infer, dtype=bool)
    n = infer.shape[0]
    infer = infer.reshape(n, -1)
    if gt.dtype == bool:
        gt = gt.reshape(n, -1)
        inter = _count_rows(infer & gt)
        den = _count_rows(gt) + _count_rows(infer & ~gt)
    else:
        gt = np.asarray(gt, dtype=np.float64).reshape(n, -1)
        inter = np.where(infer, gt, 0.0).sum(axis=1)
        den = gt.sum(axis=1) + _count_rows(infer & (gt == 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        ciou = inter / den
    return ciou, inter, den


def _count_rows(mask: np.ndarray) -> np.ndarray:
    """True values per row of (n, ...) bool, float64 (``count_nonzero(axis=...)`` is many times slower)."""
    return np.array([np.count_nonzero(row) for row in mask.reshape(mask.shape[0], -1)], dtype=np.float64)


def ciou_terms_boxes(
    infer: np.ndarray, pixel_boxes: np.ndarray, box_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`ciou_terms` against binary GT given as boxes (the union of ``gt[ymin:ymax, xmin:xmax]``).

    Equal to ``ciou_terms(infer, gt_maps_from_pixel_boxes(...))`` without building the maps of
    single-box samples (nine in ten VGG-SS clips): their counts are rectangle slices.
    """
    infer = np.asarray(infer, dtype=bool)
    n = infer.shape[0]
    selected = _count_rows(infer)
    inter = np.zeros(n, dtype=np.float64)
    area = np.zeros(n, dtype=np.float64)
    for i in range(n):
        count = int(box_counts[i])
        if count == 1:
            xmin, ymin, xmax, ymax = (int(v) for v in pixel_boxes[i, 0])
            window = infer[i, ymin:ymax, xmin:xmax]  # Python slice semantics, as officially
            inter[i] = np.count_nonzero(window)
            area[i] = window.size
        elif count > 1:
            gt = gt_maps_from_pixel_boxes(pixel_boxes[i : i + 1], box_counts[i : i + 1], infer.shape[-1])[0]
            inter[i] = np.count_nonzero(infer[i] & gt)
            area[i] = np.count_nonzero(gt)
    den = area + (selected - inter)
    with np.errstate(invalid="ignore", divide="ignore"):
        ciou = inter / den
    return ciou, inter, den


#: ground truth of a batch: GT maps (n, S, S) (bool or soft float), or (pixel_boxes, box_counts)
GroundTruth = Union[np.ndarray, tuple[np.ndarray, np.ndarray]]


def localization_ciou(
    heatmaps: np.ndarray,
    gt: GroundTruth,
    upsampling: str,
    rule: str,
    size: int = GT_SIZE,
    chunk_size: int = DEFAULT_CHUNK,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ciou, intersection, denominator) of every heatmap under one protocol, in chunks.

    ``gt``: GT maps aligned with ``heatmaps``, or ``(pixel_boxes, box_counts)`` (see
    `gt_maps_from_pixel_boxes`), so that 5,158 GT maps never sit in memory at once.
    """
    n = len(heatmaps)
    work = Workspace(min(chunk_size, max(n, 1)), size)
    parts = []
    for start in range(0, n, chunk_size):
        part = slice(start, min(start + chunk_size, n))
        infer = infer_masks(heatmaps[part], upsampling, rule, size, work)
        if isinstance(gt, tuple):
            parts.append(ciou_terms_boxes(infer, gt[0][part], gt[1][part]))
        else:
            parts.append(ciou_terms(infer, gt[part]))
    if not parts:
        empty = np.zeros(0, dtype=np.float64)
        return empty, empty, empty
    return tuple(np.concatenate(p) for p in zip(*parts))  # type: ignore[return-value]


# -- dataset scores (fractions) ------------------------------------------------------------------


def success_curve(cious: np.ndarray) -> np.ndarray:
    """Fraction of samples with cIoU >= 0.05 * i, i = 0..20 (NaN counts as a failure), (21,)."""
    cious = np.asarray(cious, dtype=np.float64)
    return np.array([np.sum(cious >= t) / len(cious) for t in SUCCESS_THRESHOLDS], dtype=np.float64)


def ciou_ap50(cious: np.ndarray) -> float:
    """Fraction of samples with cIoU >= 0.5: LVS's "cIoU", EZ-VSL's "AP50(cIoU)"."""
    cious = np.asarray(cious, dtype=np.float64)
    return float(np.sum(cious >= AP50_THRESHOLD) / len(cious))


def auc(cious: np.ndarray) -> float:
    """``sklearn.metrics.auc`` (trapezoids) of the success curve over `SUCCESS_THRESHOLDS`."""
    from sklearn import metrics

    return float(metrics.auc(list(SUCCESS_THRESHOLDS), success_curve(cious)))


def ciou_mean(cious: np.ndarray) -> float:
    """Mean cIoU (EZ-VSL ``finalize_cIoU``), with a NaN sample (empty GT and empty mask) counted as 0.

    EZ-VSL's mask always holds at least half the pixels, so its cIoU is never NaN and this
    equals the official ``np.mean``. Only LVS masks can be empty (a constant map below 0);
    LVS reports no mean, and a NaN mean could not be written, so NaN counts as a failure (0).
    """
    cious = np.asarray(cious, dtype=np.float64)
    return float(np.mean(np.where(np.isnan(cious), 0.0, cious)))


# -- SLAVC extended benchmark (stoneMo/SLAVC@05b429c6, utils.EvaluatorFull) ------------------------
#
# Clips without a sounding object (``bb_count == 0``, all-zero GT) join the sounding ones; each
# clip carries a confidence. A sounding clip counts TP when detected (conf >= thr) in the right
# place (cIoU >= iou_thr), FP when detected in the wrong place, FN when not detected; a silent
# clip counts FP when detected. Masks are ``normalize_img(bicubic align_corners) >= median``.

#: GT-area bins of ``finalize_stats`` in pixels: [min, max)
SLAVC_SIZE_BINS = {"small": (0, 32**2), "medium": (32**2, 96**2), "large": (96**2, 144**2), "huge": (144**2, 10000**2)}
SLAVC_SUBSETS = ("all", "visible", "small", "medium", "large", "huge")


def slavc_precision_recall(
    bb_counts: np.ndarray, cious: np.ndarray, confs: np.ndarray, conf_thr: float, ciou_thr: float = 0.5
) -> tuple[float, float]:
    """``EvaluatorFull.calc_precision_recall``: (precision, recall); an empty denominator gives 1."""
    sounding = np.asarray(bb_counts) > 0
    detected = np.asarray(confs, dtype=np.float64) >= conf_thr
    located = np.asarray(cious, dtype=np.float64) >= ciou_thr  # NaN: wrong place
    tp = int(np.sum(sounding & detected & located))
    fp = int(np.sum(detected & ~(sounding & located)))
    fn = int(np.sum(sounding & ~detected))
    precision = 1.0 if tp + fp == 0 else tp / (tp + fp)
    recall = 1.0 if tp + fn == 0 else tp / (tp + fn)
    return precision, recall


def slavc_ap(bb_counts: np.ndarray, cious: np.ndarray, confs: np.ndarray, ciou_thr: float = 0.5) -> float:
    """``EvaluatorFull.calc_ap``: precision made monotone from the right, summed over recall steps.

    Thresholds: the sorted confidences without the largest, in descending order, every
    ``max(1, n // 200)``-th. Fewer than three clips leave no recall step: AP 0.
    """
    confs = np.asarray(confs, dtype=np.float64)
    skip = max(1, len(confs) // 200)
    pr = [slavc_precision_recall(bb_counts, cious, confs, thr, ciou_thr) for thr in np.sort(confs)[:-1][::-skip]]
    precision = [p for p, _ in pr]
    recall = [r for _, r in pr]
    precision_max = [max(precision[i:]) for i in range(len(precision))]
    return sum(precision_max[i] * (recall[i + 1] - recall[i]) for i in range(len(precision_max) - 1))


def slavc_auc(bb_counts: np.ndarray, cious: np.ndarray) -> float:
    """``EvaluatorFull.cal_auc``: `auc` over the sounding clips only (NaN when there are none)."""
    visible = np.asarray(cious, dtype=np.float64)[np.asarray(bb_counts) > 0]
    return auc(visible) if len(visible) else float("nan")


def slavc_finalize_stats(
    bb_counts: np.ndarray, cious: np.ndarray, areas: np.ndarray, confs: np.ndarray,
    iou_thrs: tuple[float, ...] = (0.5, 0.75),
) -> dict[str, object]:
    """``EvaluatorFull.finalize_stats``: Precision / F1 list / AP / AUC per subset and IoU threshold.

    Keys and value types as officially: ``F1-<subset>@<iou>`` is the space-joined list of F1
    values (in percent, one decimal) at every ``max(1, n // 10)``-th sorted confidence; an
    empty subset gives NaN everywhere.
    """
    bb_counts = np.asarray(bb_counts)
    cious, areas, confs = (np.asarray(a, dtype=np.float64) for a in (cious, areas, confs))
    out: dict[str, object] = {}
    for iou_thr in iou_thrs:
        for subset in SLAVC_SUBSETS:
            if subset == "all":
                keep = bb_counts >= 0
            elif subset == "visible":
                keep = bb_counts > 0
            else:
                low, high = SLAVC_SIZE_BINS[subset]
                keep = (areas >= low) & (areas < high) & (bb_counts > 0)
            name = f"{subset}@{int(iou_thr * 100)}"
            if not keep.any():
                out.update({f"Precision-{name}": np.nan, f"F1-{name}": np.nan, f"AP-{name}": np.nan,
                            f"AUC-{name}": np.nan})
                continue
            bb, ci, cf = bb_counts[keep], cious[keep], confs[keep]
            precision, _ = slavc_precision_recall(bb, ci, cf, -1000, iou_thr)
            thresholds = sorted(cf.tolist())[:: max(1, len(cf) // 10)]
            f1 = []
            for thr in thresholds:
                p, r = slavc_precision_recall(bb, ci, cf, thr, iou_thr)
                f1.append(2 * r * p / (r + p) if r + p > 0 else 0.0)
            out[f"Precision-{name}"] = precision
            out[f"F1-{name}"] = " ".join(f"{f * 100:.1f}" for f in f1)
            out[f"AP-{name}"] = slavc_ap(bb, ci, cf, iou_thr)
            out[f"AUC-{name}"] = slavc_auc(bb, ci)
    return out


def slavc_precision_at_50(bb_counts: np.ndarray, cious: np.ndarray) -> float:
    """``EvaluatorFull.precision_at_50``: share of sounding clips with cIoU > 0.5 (strict)."""
    visible = np.asarray(cious, dtype=np.float64)[np.asarray(bb_counts) > 0]
    return float(np.mean(visible > 0.5))


def slavc_f1_at_50(bb_counts: np.ndarray, cious: np.ndarray, confs: np.ndarray, conf_thr: float = 0.5) -> float:
    """``EvaluatorFull.f1_at_50``: F1 at confidence ``conf_thr`` (default 0.5) and cIoU 0.5."""
    p, r = slavc_precision_recall(bb_counts, cious, confs, conf_thr, 0.5)
    return 2 * p * r / (p + r) if (p + r) > 0 else 0.0
