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
min-max scaling that leaves a constant map unscaled. The LVS upsampling is OpenCV's own
``cv2.resize`` (one call per map, as officially): OpenCV's default SIMD path rounds some
pixels one ulp away from its scalar formula, which flips median ties (a constant map stays
exactly constant under ``cv2.resize``), so no re-implementation is exact. The EZ-VSL
upsampling is torch's own ``F.interpolate`` arithmetic (two fused multiply-adds per pixel),
compiled in the evaluator's path and by torch elsewhere, the compiled one checked against
``F.interpolate`` once per input shape. Maps already 224x224 are not upsampled: both calls then
return their input bit for bit.

The evaluator's path is `box_terms`, whose median and counts are compiled
(`avu.metrics.vggss_compiled`): no mask is kept and no map is sorted, yet every count equals
the official one; the other kernels (masks, `ciou_terms` on GT maps) serve the explorer, the
golden tests and Flickr's soft GT.

Kernel outputs are what the official code returns: per-sample cIoU in [0, 1] (NaN when
GT and prediction are both empty), dataset scores as fractions. The evaluator turns them
into percent.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Callable, Union

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
#: samples per `box_terms` call (the unit a thread scores): 32 upsampled maps are 6.4 MB of
#: float32 buffers per thread, and a 5,158-map split still makes 162 chunks to share out
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

    @property
    def mask2(self) -> np.ndarray:
        """Second bool scratch (selection bracket)."""
        return self._buffer("mask2", bool)

    @classmethod
    def ensure(cls, work: "Workspace | None", n: int, size: int) -> "Workspace":
        if work is None or work.capacity < n or work.size != size:
            return cls(n, size)
        return work


def upsample_cv2_linear(heatmaps: np.ndarray, size: int = GT_SIZE, work: Workspace | None = None) -> np.ndarray:
    """``cv2.resize(h, (size, size), interpolation=cv2.INTER_LINEAR)`` of each float32 (h, w) map (LVS).

    (n, h, w) -> (n, size, size) float32, OpenCV's own result. One call per map: a
    multichannel call takes other SIMD paths and differs in the last bit. With ``work`` the
    result is a view into it.
    """
    import cv2

    maps = np.ascontiguousarray(heatmaps, dtype=np.float32)
    n = maps.shape[0]
    work = Workspace.ensure(work, n, size)
    out = work.values[:n].reshape(n, size, size)
    for src, dst in zip(maps, out):
        cv2.resize(src, (size, size), dst=dst, interpolation=cv2.INTER_LINEAR)  # writes into dst
    return out


def opencv_version() -> str:
    """``cv2.__version__`` of the OpenCV that the LVS upsampling calls (recorded with results)."""
    import cv2

    return str(cv2.__version__)


def _torch_interpolate(heatmaps: np.ndarray, size: int, mode: str) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    maps = torch.from_numpy(np.ascontiguousarray(heatmaps, dtype=np.float32))[:, None]
    with torch.no_grad():
        out = F.interpolate(maps, size=(size, size), mode=mode, align_corners=True)
    return out[:, 0].numpy()


@functools.lru_cache(maxsize=64)
def align_corners_axis(n_in: int, n_out: int) -> tuple[np.ndarray, ...]:
    """Source rows and float32 weights of one axis of torch's bilinear ``align_corners=True``.

    As ATen's ``compute_source_index_and_lambda``: ``real = float32((n_in - 1) / (n_out - 1)) * d``,
    ``i0 = min(floor(real), n_in - 1)``, ``l1 = clamp(real - i0, 0, 1)``, ``l0 = 1 - l1``,
    ``i1 = i0 + (i0 < n_in - 1)``; an axis of unchanged size copies (``l0, l1 = 1, 0``).
    Returns (i0, i1, l0, l1).
    """
    if n_in == n_out:
        i0 = np.arange(n_out, dtype=np.int64)
        l1 = np.zeros(n_out, dtype=np.float32)
    else:
        scale = np.float32(n_in - 1) / np.float32(n_out - 1) if n_out > 1 else np.float32(0)
        real = (scale * np.arange(n_out, dtype=np.float32)).astype(np.float32)
        i0 = np.minimum(np.floor(real).astype(np.int64), n_in - 1)
        l1 = np.clip(real - i0.astype(np.float32), 0, 1).astype(np.float32)
    i1 = i0 + (i0 < n_in - 1)
    l0 = (np.float32(1) - l1).astype(np.float32)
    arrays = (i0, i1, l0, l1)
    for a in arrays:
        a.flags.writeable = False
    return arrays


@functools.lru_cache(maxsize=64)
def _torch_axis(n_in: int, n_out: int) -> tuple:
    """`align_corners_axis` for the torch passes: (l0, l1) as tensors, and the runs of outputs
    that share (i0, i1), each as (start, stop, i0, i1, l0 column, l1 column)."""
    import torch

    i0, i1, l0, l1 = align_corners_axis(n_in, n_out)
    l0, l1 = torch.from_numpy(l0.copy()), torch.from_numpy(l1.copy())
    edges = [0, *(np.flatnonzero(np.diff(i0)) + 1).tolist(), n_out]
    runs = tuple((a, b, int(i0[a]), int(i1[a]), l0[a:b, None], l1[a:b, None]) for a, b in zip(edges[:-1], edges[1:]))
    return l0, l1, runs


def _separable_bilinear(maps, size: int, out=None):
    """torch's bilinear ``align_corners=True`` upsampling, one axis at a time (torch tensors in/out).

    ATen's kernel computes ``t0 * w0 + t1 * w1`` per axis, which this torch build contracts
    to ``fma(t0, w0, t1 * w1)``: along the width from the source pixels, then along the
    height from the two width-interpolated rows. The same arithmetic here is
    ``addcmul(t1 * w1, t0, w0)``, which this torch build fuses into that fma;
    `_separable_bilinear_is_exact` checks the whole result before it is used. The width pass
    is a few small ops; the height pass works on the runs of output rows that share their
    two source rows (a broadcast multiply and an in-place ``addcmul_`` each): two passes over
    the output instead of the generic kernel's per-pixel gathers.
    """
    import torch

    n, h, w = maps.shape
    j0, j1, _, _ = align_corners_axis(w, size)
    w0, w1, _ = _torch_axis(w, size)
    source = maps.numpy()  # numpy gathers these small arrays faster than index_select (then made contiguous)
    x0, x1 = (torch.from_numpy(np.ascontiguousarray(source[:, :, j])) for j in (j0, j1))
    rows = torch.addcmul(x1.mul_(w1), x0, w0)
    rows = rows.unsqueeze(2)  # (n, h, 1, size): one source row broadcasts over a run of output rows
    out = torch.empty((n, size, size), dtype=torch.float32) if out is None else out
    for a, b, i0, i1, l0, l1 in _torch_axis(h, size)[2]:
        part = out[:, a:b]
        torch.mul(rows[:, i1], l1, out=part)
        part.addcmul_(rows[:, i0], l0)
    return out


@functools.lru_cache(maxsize=64)
def _separable_bilinear_is_exact(h: int, w: int, size: int) -> bool:
    """Whether `_separable_bilinear` equals ``F.interpolate`` bit for bit here (seeded probe, cached).

    The fused multiply-add is a property of how torch was compiled, so it is probed once
    per input shape instead of assumed; a mismatch falls back to ``F.interpolate``.
    """
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    scales = np.array([1e-3, 1.0, 37.0, 1e4], dtype=np.float32)[:, None, None]
    probe = (rng.standard_normal((16, h, w)).astype(np.float32) * np.tile(scales, (4, 1, 1))).astype(np.float32)
    maps = torch.from_numpy(probe)
    with torch.no_grad():
        reference = F.interpolate(maps[:, None], size=(size, size), mode="bilinear", align_corners=True)[:, 0]
        return bool(torch.equal(_separable_bilinear(maps, size), reference))


@functools.lru_cache(maxsize=64)
def compiled_bilinear_is_exact(h: int, w: int, size: int) -> bool:
    """Whether the compiled EZ-VSL upsampling (`avu.metrics.vggss_compiled.upsample_bilinear`)
    equals ``F.interpolate`` here (seeded probe per input shape, cached).

    Whether torch's own kernel fuses its multiply-adds is a property of how torch was built,
    so it is probed instead of assumed; a mismatch sends the maps through torch itself
    (`upsample_bilinear_align_corners`).
    """
    import torch
    import torch.nn.functional as F

    from avu.metrics import vggss_compiled as compiled

    rng = np.random.default_rng(1)
    n = 16
    scales = np.array([1e-3, 1.0, 37.0, 1e4], dtype=np.float32)[np.arange(n) % 4, None, None]
    probe = (rng.standard_normal((n, h, w)).astype(np.float32) * scales).astype(np.float32)
    out = np.empty((n, size, size), dtype=np.float32)
    compiled.upsample_bilinear(probe, out, *align_corners_axis(w, size), *align_corners_axis(h, size))
    with torch.no_grad():
        reference = F.interpolate(torch.from_numpy(probe)[:, None], size=(size, size), mode="bilinear",
                                  align_corners=True)[:, 0].numpy()
    return bool(np.array_equal(out, reference))


def upsample_bilinear_align_corners(heatmaps: np.ndarray, size: int = GT_SIZE, work: Workspace | None = None) -> np.ndarray:
    """``F.interpolate(h, size=(size, size), mode='bilinear', align_corners=True)`` (EZ-VSL), float32.

    Bit for bit torch's result: separable (`_separable_bilinear`) where the probe confirms
    it, else ``F.interpolate`` itself. With ``work`` the result is a view into it.
    """
    import torch

    maps = np.ascontiguousarray(heatmaps, dtype=np.float32)
    n, h, w = maps.shape
    if not _separable_bilinear_is_exact(h, w, size):
        return _torch_interpolate(maps, size, "bilinear")
    work = Workspace.ensure(work, n, size)
    out = work.values[:n].reshape(n, size, size)
    with torch.no_grad():
        _separable_bilinear(torch.from_numpy(maps), size, out=torch.from_numpy(out))
    return out


def upsample_bicubic_align_corners(heatmaps: np.ndarray, size: int = GT_SIZE) -> np.ndarray:
    """``F.interpolate(h, size=(size, size), mode='bicubic', align_corners=True)`` (SLAVC), float32."""
    return _torch_interpolate(heatmaps, size, "bicubic")


def upsample(heatmaps: np.ndarray, method: str, size: int = GT_SIZE, work: Workspace | None = None) -> np.ndarray:
    """Upsample (n, h, w) heatmaps to (n, size, size) float32 with ``method`` in `UPSAMPLERS`."""
    if method == "cv2_linear":
        return upsample_cv2_linear(heatmaps, size, work)
    if method == "bilinear_align_corners":
        return upsample_bilinear_align_corners(heatmaps, size, work)
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


#: every SELECTION_STRIDE-th pixel forms the sample that brackets the order statistic
SELECTION_STRIDE = 16
#: half-width of the bracket in standard deviations of the sample quantile's rank
SELECTION_SIGMAS = 4.0


def _count_rows_int(mask: np.ndarray) -> np.ndarray:
    """True values per row of a (n, P) bool array, int64."""
    return np.array([np.count_nonzero(row) for row in mask], dtype=np.int64)


def kth_smallest_rows(flat: np.ndarray, k: int, work: Workspace | None = None) -> tuple[np.ndarray, ...]:
    """Exact ``sort(row)[k]`` of each row of (n, P) float32, plus how many values are < and <= it.

    Returns (value, n_less, n_less_equal), (n,) each. Equal to a full sort, but without one:
    the quantiles of every `SELECTION_STRIDE`-th pixel give a bracket [lo, hi] that holds the
    answer with overwhelming probability; the pixels below lo are counted, the (few thousand)
    pixels inside are partitioned. A row whose bracket misses (checked by the counts, never
    assumed) is partitioned whole, so the result is exact for any input.
    """
    flat = np.asarray(flat)
    n, p = flat.shape
    if work is None:
        work = Workspace(n, int(round(np.sqrt(p))))
    value = np.empty(n, dtype=flat.dtype)
    n_less = np.empty(n, dtype=np.int64)
    n_less_equal = np.empty(n, dtype=np.int64)
    if n == 0:
        return value, n_less, n_less_equal
    sample = flat[:, ::SELECTION_STRIDE]
    m = sample.shape[1]
    centre = k * m / p
    spread = SELECTION_SIGMAS * 0.5 * np.sqrt(m) + 2
    q_lo, q_hi = max(0, int(centre - spread)), min(m - 1, int(np.ceil(centre + spread)))
    part = np.sort(np.ascontiguousarray(sample), axis=1)  # SIMD sort of a contiguous copy: cheapest here
    lo, hi = part[:, q_lo : q_lo + 1], part[:, q_hi : q_hi + 1]
    band = work.mask[:n].reshape(n, -1)[:, :p]
    np.greater_equal(flat, lo, out=band)
    below = p - _count_rows_int(band)
    above = work.mask2[:n].reshape(n, -1)[:, :p]
    np.less_equal(flat, hi, out=above)
    band &= above
    where = np.flatnonzero(band)
    inside = flat.reshape(-1)[where]
    ends = np.searchsorted(where, np.arange(1, n + 1) * p)
    start = 0
    for i in range(n):
        rank = k - int(below[i])
        candidates = inside[start : ends[i]]
        if 0 <= rank < len(candidates):
            base = int(below[i])
        else:  # bracket missed (e.g. heavy ties): whole row
            candidates, rank, base = flat[i], k, 0
        v = np.partition(candidates, rank)[rank]
        value[i] = v
        n_less[i] = base + np.count_nonzero(candidates < v)
        n_less_equal[i] = base + np.count_nonzero(candidates <= v)
        start = ends[i]
    return value, n_less, n_less_equal


#: the largest float32 below 1
_BELOW_ONE = np.nextafter(np.float32(1), np.float32(0))


def normalized_maps(maps: np.ndarray, rule: str, work: Workspace | None = None) -> np.ndarray:
    """The score map each official chain thresholds, (n, S*S) float32 (a view into ``work``).

    ``ezvsl``: ``normalize_img(h)``. ``lvs``: ``1 - normalize_img(-h)``, which is
    ``1 - (max - h) / (max - min)`` with the same float32 roundings, or ``1 - (-h)`` for a
    constant map (left unnormalised).
    """
    maps = np.asarray(maps, dtype=np.float32)
    n, size = maps.shape[0], maps.shape[-1]
    work = Workspace.ensure(work, n, size)
    flat = maps.reshape(n, -1)
    if rule == "ezvsl":
        return normalize_img(flat, out=work.pred[:n])
    if rule != "lvs":
        raise ValueError(f"unknown binarisation {rule!r}; known: {BINARIZERS}")
    _, high, span, constant = _min_max(flat)
    pred = work.pred[:n]
    np.subtract(high[:, None], flat, out=pred)
    pred /= np.where(constant, np.float32(1), span)[:, None]
    if constant.any():
        pred[constant] = -flat[constant]
    np.subtract(np.float32(1), pred, out=pred)
    return pred


def mask_threshold(pred: np.ndarray, rule: str, work: Workspace | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(t, selected) of normalised maps (n, P): the mask is ``pred > t`` (lvs) or ``pred >= t`` (ezvsl).

    ``t`` derives from the official median ``sort(pred)[int(P / 2)]`` (`kth_smallest_rows`);
    ``selected`` (n,) int64 is the number of mask pixels, known from the selection's counts.
    LVS keeps ``pred > median`` plus any pixel still >= 1: with median < 1 every such pixel
    is above the median anyway; with median >= 1 the mask is ``pred >= 1``, i.e. ``pred >``
    the float32 just below 1.
    """
    n, p = pred.shape
    value, n_less, n_less_equal = kth_smallest_rows(pred, int(p / 2), work)
    if rule == "ezvsl":
        return value, p - n_less
    if rule != "lvs":
        raise ValueError(f"unknown binarisation {rule!r}; known: {BINARIZERS}")
    thr = np.minimum(value, _BELOW_ONE)
    selected = p - n_less_equal
    for i in np.flatnonzero(value > _BELOW_ONE):
        selected[i] = np.count_nonzero(pred[i] > thr[i])
    return thr, selected


def _compare(pred: np.ndarray, thr, rule: str, out: np.ndarray | None = None) -> np.ndarray:
    """The mask of `mask_threshold`'s ``t``: ``pred > t`` (lvs) or ``pred >= t`` (ezvsl)."""
    if rule == "lvs":
        return np.greater(pred, thr, out=out)
    return np.greater_equal(pred, thr, out=out)


def binarize_lvs(maps: np.ndarray, work: Workspace | None = None) -> np.ndarray:
    """LVS mask of upsampled maps (n, S, S) float32 -> bool: ``pred > median`` or ``pred >= 1``."""
    return _binarize(maps, "lvs", work)


def binarize_ezvsl(maps: np.ndarray, work: Workspace | None = None) -> np.ndarray:
    """EZ-VSL mask of upsampled maps (n, S, S) float32 -> bool: ``normalize_img(h) >= median``."""
    return _binarize(maps, "ezvsl", work)


def _binarize(maps: np.ndarray, rule: str, work: Workspace | None) -> np.ndarray:
    maps = np.asarray(maps, dtype=np.float32)
    n, size = maps.shape[0], maps.shape[-1]
    work = Workspace.ensure(work, n, size)
    pred = normalized_maps(maps, rule, work)
    thr, _ = mask_threshold(pred, rule, work)
    mask = work.mask[:n]
    _compare(pred, thr[:, None], rule, out=mask)
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


# -- the evaluator's path: compiled median and counts ---------------------------------------------
#
# `box_terms` upsamples a chunk (OpenCV's own ``cv2.resize`` per map for LVS; torch's arithmetic,
# compiled, for EZ-VSL) and hands it to `avu.metrics.vggss_compiled.box_counts`, which finds each
# map's sorted position k exactly without sorting it, evaluates the official scores and counts
# the official mask against the union of the boxes, with the GIL released (see that module).


def _mark(timings: dict[str, float] | None, stage: str, since: float) -> float:
    """Add the seconds since ``since`` to ``timings[stage]`` (when timing); the new start."""
    if timings is None:
        return 0.0
    now = time.perf_counter()
    timings[stage] = timings.get(stage, 0.0) + now - since
    return now


def box_terms(
    maps: np.ndarray, upsampling: str, rule: str, pixel_boxes: np.ndarray, box_counts: np.ndarray,
    size: int = GT_SIZE, work: Workspace | None = None, timings: dict[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ciou, intersection, denominator) of raw heatmaps (n, h, w) against box GT, float64 (n,) each.

    Exactly the official per-sample values: ``maps`` are upsampled with ``upsampling`` (skipped
    when already ``size`` x ``size``: ``cv2.resize`` and ``F.interpolate(align_corners=True)``
    then return the same values), masked under ``rule`` and counted against the union of each
    sample's boxes (``pixel_boxes``, ``box_counts`` as in `gt_maps_from_pixel_boxes`).
    ``timings``: seconds per stage are added to it (benchmarks).
    """
    from avu.metrics import vggss_compiled as compiled

    t = time.perf_counter() if timings is not None else 0.0
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    n, h, w = maps.shape
    s = size
    if rule not in BINARIZERS:
        raise ValueError(f"unknown binarization {rule!r}; known: {BINARIZERS}")
    if (h, w) == (s, s):
        grid = maps
    elif upsampling == "bilinear_align_corners" and compiled_bilinear_is_exact(h, w, s):
        work = Workspace.ensure(work, n, s)
        grid = work.values[:n].reshape(n, s, s)
        compiled.upsample_bilinear(maps, grid, *align_corners_axis(w, s), *align_corners_axis(h, s))
    else:
        grid = np.ascontiguousarray(upsample(maps, upsampling, s, work), dtype=np.float32)
    t = _mark(timings, "upsample", t)
    inter, selected, area = np.empty(n), np.empty(n), np.empty(n)
    compiled.box_counts(grid.reshape(n, s * s), rule == "lvs", int(s * s / 2), s,
                        np.ascontiguousarray(pixel_boxes, dtype=np.int64), np.ascontiguousarray(box_counts, dtype=np.int64),
                        inter, selected, area)
    den = area + selected - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        ciou = inter / den
    _mark(timings, "median, scores, counts", t)
    return ciou, inter, den


#: ground truth of a batch: GT maps (n, S, S) (bool or soft float), or (pixel_boxes, box_counts)
GroundTruth = Union[np.ndarray, tuple[np.ndarray, np.ndarray]]


def scoring_threads() -> int:
    """Threads `localization_ciou` scores chunks on: ``AVU_EVAL_THREADS`` when set, else the
    usable cores, at most 8. Values do not depend on the count. The compiled kernels release the
    GIL for a whole chunk, so threads share the work (1.9-2.0x on two cores,
    docs/performance.md; more cores were not measured)."""
    import os

    from avu.threads import usable_cores

    raw = os.environ.get("AVU_EVAL_THREADS", "").strip()
    if raw:
        count = int(raw) if raw.isascii() and raw.isdigit() else 0
        if count < 1:
            raise ValueError(f"AVU_EVAL_THREADS must be a positive integer, got {raw!r}")
        return count
    return max(1, min(8, usable_cores()))


def localization_ciou(
    heatmaps: np.ndarray,
    gt: GroundTruth,
    upsampling: str,
    rule: str,
    size: int = GT_SIZE,
    chunk_size: int = DEFAULT_CHUNK,
    before_chunk: Callable[[slice], None] | None = None,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ciou, intersection, denominator) of every heatmap under one protocol, in chunks.

    ``gt``: GT maps aligned with ``heatmaps``, or ``(pixel_boxes, box_counts)`` (see
    `gt_maps_from_pixel_boxes`), so that 5,158 GT maps never sit in memory at once.
    ``before_chunk(rows)`` runs before each chunk is scored (the evaluator checks the chunk's
    values there, while they pass through the cache anyway).
    ``threads`` (default `scoring_threads`): chunks are scored on that many threads, each with its
    own buffers; results come back in chunk order, and when chunks fail, the first one's error is
    raised, as with one thread.
    """
    n = len(heatmaps)
    chunk_size = max(1, int(chunk_size))
    starts = list(range(0, n, chunk_size))
    if not starts:
        empty = np.zeros(0, dtype=np.float64)
        return empty, empty, empty
    capacity = min(chunk_size, n)
    workers = min(scoring_threads() if threads is None else max(1, int(threads)), len(starts))
    local = threading.local()

    def score(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        work = getattr(local, "work", None)
        if work is None:
            work = local.work = Workspace(capacity, size)
        part = slice(start, min(start + chunk_size, n))
        if before_chunk is not None:
            before_chunk(part)
        if isinstance(gt, tuple):
            return box_terms(heatmaps[part], upsampling, rule, gt[0][part], gt[1][part], size, work)
        return ciou_terms(infer_masks(heatmaps[part], upsampling, rule, size, work), gt[part])

    if workers == 1:
        parts = [score(start) for start in starts]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers, thread_name_prefix="avu-vggss") as pool:
            parts = list(pool.map(score, starts))  # in chunk order: the first failing chunk raises
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
