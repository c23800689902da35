"""Compiled kernels of the VGG-SS box path (numba): the official median threshold and the cIoU
counts of each upsampled map, and EZ-VSL's bilinear upsampling, all outside the GIL.

Why compiled: the official chains sort every 224x224 map; an exact median needs far less (a
bracket from a sample, two passes, a selection among ~2 % of the pixels), but as numpy and
OpenCV calls it costs a dozen short calls per map, which hold the GIL between them, so a
second thread hardly helped (``docs/performance.md``). Here one call scores a chunk of maps
with the GIL released, and `avu.metrics.vggss.localization_ciou` runs chunks on both cores.

Exactness (the tests compare every count with a per-sample restatement of the official code):

* Both official scores are float32 functions of the upsampled value v that never decrease as v
  grows (LVS ``1 - (max - v) / span``, EZ-VSL ``(v - min) / span``: correctly rounded
  subtractions and a division are monotone), so ``sort(f(v))[k] == f(sort(v)[k])`` and each
  official mask (``f > f(v_k)`` or ``f >= 1`` for LVS, ``f >= f(v_k)`` for EZ-VSL) is the set of
  pixels from one value T up. The kernel finds v_k = ``sort(v)[k]`` with float32 comparisons
  only, and T by evaluating f with the official float32 operations on the pixels near v_k (on
  every pixel where the tie of f(v_k) may reach further; `mask_start`). Ties and the sign of
  zero need no special case: every decision is a float comparison, as in the official code.
* No fast-math: LLVM keeps IEEE float32 arithmetic and contracts nothing into fused
  multiply-adds, except where `_fma32` asks for one.
* `upsample_bilinear` computes torch's ``F.interpolate(bilinear, align_corners=True)`` as ATen's
  CPU kernel does in this torch build (one fused multiply-add per axis); whether that holds is
  checked against ``F.interpolate`` per input shape before it is used
  (`avu.metrics.vggss.compiled_bilinear_is_exact`).

The first call in a fresh environment compiles (~8 s on the 2-core development machine, once:
the machine code is cached beside this file, or in numba's user cache where the package is
read-only; where neither can be written, each process compiles again).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def _kernel(inline: bool = False):
    """``numba.njit`` without the GIL, cached on disk where numba finds a writable place."""

    def compile_(function):
        options = {"nogil": True, "inline": "always"} if inline else {"nogil": True}
        try:
            return njit(cache=True, **options)(function)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return njit(cache=False, **options)(function)

    return compile_


#: every SAMPLE_STEP-th row and column of a map guesses where its median lies (1,024 pixels of a
#: 224x224 map); 7 is prime to the upsampling factors of 7x7 and 14x14 maps
SAMPLE_STEP = 7
#: sample ranks, relative to the median's, of the four thresholds that split a map into five
#: brackets; the rank error of a 1,024-pixel sample has a standard deviation of ~16, so the
#: median usually lies in the inner bracket (~2.3 % of the pixels) or next to it, and whichever
#: bracket holds it, the result is exact (four measured faster than six: fewer compares per pixel)
BRACKET_RANKS = (-48, -12, 12, 48)
#: bins of each refinement step of `select_kth` (and of the sample's histogram)
SELECT_BINS = 256


@intrinsic
def _fma32(typingctx, a, b, c):
    """``fma(a, b, c)`` in float32, one rounding (LLVM's ``llvm.fma.f32``: the FMA instruction, or
    a correctly rounded library call on CPUs without one)."""
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        f32 = ir.FloatType()
        fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(f32, [f32, f32, f32]), "llvm.fma.f32")
        return builder.call(fma, args)

    return sig, codegen


@_kernel()
def upsample_bilinear(src, out, j0, j1, a0, a1, i0, i1, l0, l1):
    """(n, h, w) float32 -> ``out`` (n, size, size): along the width ``fma(x0, a0, x1 * a1)`` from
    source columns j0, j1, then along the height ``fma(r0, l0, r1 * l1)`` from rows i0, i1 of that
    (`avu.metrics.vggss.align_corners_axis` gives the indices and weights)."""
    n, h, _ = src.shape
    size = out.shape[1]
    rows = np.empty((h, size), np.float32)
    for r in range(n):
        for i in range(h):
            line = src[r, i]
            row = rows[i]
            for x in range(size):
                row[x] = _fma32(line[j0[x]], a0[x], line[j1[x]] * a1[x])
        for y in range(size):
            b0 = l0[y]
            b1 = l1[y]
            top = rows[i0[y]]
            bottom = rows[i1[y]]
            dst = out[r, y]
            for x in range(size):
                dst[x] = _fma32(top[x], b0, bottom[x] * b1)


@_kernel(inline=True)
def _bin(x, origin, scale):
    """The histogram bin of float32 x over a range starting at ``origin`` (float64 arithmetic:
    monotone in x, so bins keep the values' order)."""
    return min(int((np.float64(x) - origin) * scale), SELECT_BINS - 1)


@_kernel()
def select_kth(buf, m, kk, hist):
    """The kk-th smallest of ``buf[:m]`` (0 <= kk < m), reordering ``buf``.

    Each step spreads the values' range over SELECT_BINS bins (a monotone float64 mapping),
    keeps the bin holding position kk and moves kk into it; the smallest value falls in the
    first bin and the largest in the last, so every step drops at least one value.
    """
    while True:
        low = buf[0]
        high = buf[0]
        for i in range(m):
            x = buf[i]
            if x < low:
                low = x
            if x > high:
                high = x
        if low == high:
            return low
        if m <= 32:
            part = buf[:m]
            part.sort()
            return part[kk]
        origin = np.float64(low)
        scale = SELECT_BINS / (np.float64(high) - origin)
        hist[:] = 0
        for i in range(m):
            hist[_bin(buf[i], origin, scale)] += 1
        below = 0
        b = 0
        while below + hist[b] <= kk:
            below += hist[b]
            b += 1
        kept = 0
        for i in range(m):
            x = buf[i]
            if _bin(x, origin, scale) == b:
                buf[kept] = x
                kept += 1
        m = kept
        kk -= below


@_kernel(inline=True)
def _order_key(bits):
    """An int32 whose order is the float32 order of the value with these bits (-0 just below +0)."""
    return bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))


@_kernel()
def _from_key(key):
    keys = np.empty(1, np.int32)
    keys[0] = _order_key(key)  # the mapping is its own inverse
    return keys.view(np.float32)[0]


@_kernel()
def _sample_thresholds(v, k, side, buf, hist, t):
    """``t`` (len(BRACKET_RANKS),): values at BRACKET_RANKS around the median's rank in a strided
    sample of the map (edges of the sample's histogram bins), non-decreasing."""
    p = v.shape[0]
    first = min(SAMPLE_STEP // 2, side - 1)  # at least one pixel of a small map
    count = 0
    smin = v[first * side + first]
    smax = smin
    for y in range(first, side, SAMPLE_STEP):
        for x in range(first, side, SAMPLE_STEP):
            z = v[y * side + x]
            buf[count] = z
            count += 1
            smin = min(smin, z)
            smax = max(smax, z)
    if not smin < smax:
        t[:] = smin
        return
    origin = np.float64(smin)
    scale = SELECT_BINS / (np.float64(smax) - origin)
    hist[:] = 0
    for i in range(count):
        hist[_bin(buf[i], origin, scale)] += 1
    mid = count * k // p
    j = 0
    cumulative = 0
    for b in range(SELECT_BINS):
        cumulative += hist[b]
        while j < len(BRACKET_RANKS) and cumulative > mid + BRACKET_RANKS[j]:
            t[j] = np.float32(origin + b / scale)
            j += 1
    t[j:] = smax


@_kernel()
def _scan(v, t, inside):
    """One vectorised pass over a map: its min and max (as order keys: float min and max do not
    vectorise without fast-math), how many pixels lie below each of the four thresholds ``t``,
    and ``inside[i] = t[1] <= v[i] < t[2]`` (the inner bracket, which usually holds the median)."""
    bits = v.view(np.int32)
    low = np.int32(0x7FFFFFFF)
    high = np.int32(-0x80000000)
    t0, t1, t2, t3 = t[0], t[1], t[2], t[3]
    c0 = c1 = c2 = c3 = np.int32(0)
    for i in range(v.shape[0]):
        key = _order_key(bits[i])
        low = min(low, key)
        high = max(high, key)
        x = v[i]
        c0 += np.int32(x < t0)
        c1 += np.int32(x < t1)
        c2 += np.int32(x < t2)
        c3 += np.int32(x < t3)
        inside[i] = (x >= t1) & (x < t2)
    return low, high, (c0, c1, c2, c3)


@_kernel()
def _mark_bracket(v, lower, upper, bounded, inside):
    """``inside[i] = lower <= v[i] < upper`` (``v[i] >= lower`` when not ``bounded``)."""
    for i in range(v.shape[0]):
        x = v[i]
        inside[i] = (x >= lower) & ((x < upper) | (not bounded))


@intrinsic
def _trailing_zeros(typingctx, word):
    """Trailing zero bits of a nonzero uint64 (LLVM's ``llvm.cttz.i64``: one instruction)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        cttz = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, [i64, ir.IntType(1)]), "llvm.cttz.i64")
        return builder.call(cttz, [args[0], ir.Constant(ir.IntType(1), 1)])

    return sig, codegen


@_kernel()
def _gather(v, inside, buf):
    """The values of ``v`` marked ``inside`` (bytes 0 or 1), in order, into ``buf``; their count.
    Eight mask bytes are read as one word and its set bits visited one by one: a bracket is
    usually ~2 % of the pixels."""
    p = v.shape[0]
    m = 0
    whole = p // 8 * 8
    words = inside[:whole].view(np.uint64)
    for w in range(words.shape[0]):
        word = words[w]
        while word != 0:
            buf[m] = v[w * 8 + int(_trailing_zeros(word) >> np.uint64(3))]
            m += 1
            word &= word - np.uint64(1)
    for i in range(whole, p):
        if inside[i]:
            buf[m] = v[i]
            m += 1
    return m


@_kernel(inline=True)
def _score(x, lvs, low, high, span):
    """The official float32 score of pixel value x of a non-constant map: LVS
    ``1 - normalize_img(-v) = 1 - (high - v) / span``, EZ-VSL ``normalize_img(v) = (v - low) / span``."""
    if lvs:
        return np.float32(1) - (high - x) / span
    return (x - low) / span


@_kernel()
def mask_start(v, k, side, lvs, hist, buf, work, inside, t):
    """(T, selected) of one map ``v`` (side * side,) float32: the official mask is ``v >= T``
    (T = inf: empty, -inf: every pixel) and holds ``selected`` pixels.

    The official scores never decrease as v grows, so each official mask (LVS ``f > f_k``, or
    ``f >= f_k`` when the median score f_k is 1; EZ-VSL ``f >= f_k``, with f_k the score of
    v_k = ``sort(v)[k]``) is the set of pixels from some value T up:

    1. thresholds at BRACKET_RANKS around the median of a strided sample (`_sample_thresholds`);
    2. one vectorised pass: min, max, the counts below each threshold (`_scan`); they say which
       bracket holds sorted position k;
    3. that bracket's pixels are gathered; `select_kth` among them gives v_k;
    4. T is the smallest gathered value in the mask, and the pixels below T are those below the
       bracket plus the gathered ones below T; unless the tie of f_k may reach past the bracket,
       where the official scores of every pixel decide (one more pass).
    """
    p = v.shape[0]
    _sample_thresholds(v, k, side, buf, hist, t)
    low_key, high_key, below_counts = _scan(v, t, inside)
    low, high = _from_key(low_key), _from_key(high_key)
    one = np.float32(1)
    span = high - low
    if span == 0:  # constant: normalize_img leaves it unscaled; LVS scores 1 - (-v), all tied
        if lvs and not one + low >= one:
            return np.float32(np.inf), 0
        return np.float32(-np.inf), p

    below = 0
    lower, upper, bounded = low, high, False  # the bracket: lower <= v < upper (or v >= lower)
    j = 0
    while j < len(BRACKET_RANKS) and below_counts[j] <= k:
        below, lower = below_counts[j], t[j]
        j += 1
    if j < len(BRACKET_RANKS):
        upper, bounded = t[j], True
    if j != 2 or below_counts[1] > k:  # not the inner bracket that `_scan` marked
        _mark_bracket(v, lower, upper, bounded, inside)
    m = _gather(v, inside, buf)
    work[:m] = buf[:m]  # select_kth reorders its copy; T is looked for among all of buf[:m]
    vk = select_kth(work, m, k - below, hist)

    fk = _score(vk, lvs, low, high, span)
    strict = lvs and fk < one  # the mask is {f > fk}, else {f >= fk}
    threshold = np.float32(np.inf)
    below_fk = False  # a gathered value scores below fk: the tie of fk starts inside the bracket
    for i in range(m):
        x = buf[i]
        f = _score(x, lvs, low, high, span)
        if (f > fk) if strict else (f >= fk):
            threshold = min(threshold, x)
        elif f < fk:
            below_fk = True
    exact = (threshold < np.inf or not bounded) if strict else (below_fk or below == 0)
    if not exact:  # the tie of fk may reach past the bracket: every pixel's score decides
        threshold = np.float32(np.inf)
        selected = 0
        for i in range(p):
            x = v[i]
            f = _score(x, lvs, low, high, span)
            hit = (f > fk) if strict else (f >= fk)
            selected += hit
            threshold = min(threshold, x if hit else np.float32(np.inf))
        return threshold, selected
    outside = below
    for i in range(m):
        outside += buf[i] < threshold
    return threshold, p - outside


@_kernel(inline=True)
def _box(bounds, side):
    """xmin, ymin, xmax, ymax within [0, side] (the pixel bounds already are; a slice clips alike)."""
    return (min(max(bounds[0], 0), side), min(max(bounds[1], 0), side), min(max(bounds[2], 0), side),
            min(max(bounds[3], 0), side))


@_kernel()
def box_counts(maps, lvs, k, side, pixel_boxes, counts, inter, selected, area):
    """Per map of ``maps`` (n, side * side) float32, upsampled and finite (the evaluator refuses NaN
    and inf before scoring; nothing here checks bounds): the official mask's pixel count
    (``selected``), its count inside the union of the sample's boxes (``inter``) and the union's
    area (``area``), float64 (n,) each, written in place.

    ``lvs``: the LVS mask (``1 - normalize_img(-v)`` above its sorted position k, or at 1), else
    EZ-VSL's (``normalize_img(v)`` at or above it). ``pixel_boxes`` (n, B, 4) int64 xmin, ymin,
    xmax, ymax, the first ``counts[r]`` real, each as the Python slice ``[ymin:ymax, xmin:xmax]``.
    """
    n, p = maps.shape
    hist = np.zeros(SELECT_BINS, np.int64)
    buf = np.empty(p, np.float32)
    work = np.empty(p, np.float32)
    inside = np.zeros(p, np.uint8)
    gt = np.zeros(p, np.uint8)
    t = np.empty(len(BRACKET_RANKS), np.float32)
    for r in range(n):
        v = maps[r]
        threshold, selected[r] = mask_start(v, k, side, lvs, hist, buf, work, inside, t)
        boxes = counts[r]
        hits = 0
        if boxes == 1:
            x0, y0, x1, y1 = _box(pixel_boxes[r, 0], side)
            area[r] = max(y1 - y0, 0) * max(x1 - x0, 0)
            for y in range(y0, y1):
                row = v[y * side : (y + 1) * side]
                for x in range(x0, x1):
                    hits += row[x] >= threshold
        elif boxes > 1:
            gt[:] = 0
            for b in range(boxes):
                x0, y0, x1, y1 = _box(pixel_boxes[r, b], side)
                for y in range(y0, y1):
                    gt[y * side + x0 : y * side + max(x1, x0)] = 1
            covered = 0
            for i in range(p):
                covered += gt[i]
                hits += gt[i] & (v[i] >= threshold)
            area[r] = covered
        else:
            area[r] = 0
        inter[r] = hits
