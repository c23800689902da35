"""VGG-SS box path (`avu.metrics.vggss.box_terms`, compiled in `avu.metrics.vggss_compiled`) against a
straightforward per-sample computation.

The reference here is written out independently of the kernels: per sample, the official
upsampling call (``cv2.resize`` for ``lvs``, ``F.interpolate`` for ``ezvsl``), the official
scores (``normalize_img``, ``1 - normalize_img(-h)``), the official median ``np.sort(pred)[25088]``
(the sorted position both repositories read; not ``np.median``, which would average the two
middle values), the official mask and the counts against the GT map built box by box. The fast
path must give every sample's intersection, union and cIoU exactly.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from avu.data.annotations.vggss import load_references
from avu.metrics import vggss as kernels

pytestmark = pytest.mark.vggss

SIZE = 224
PROTOCOLS = {"lvs": "cv2_linear", "ezvsl": "bilinear_align_corners"}
EMPTY_GT_ID = "MKC9LvRivTM_000030"


@pytest.fixture(scope="module")
def refs(golden_datasets_dir: Path):
    return load_references(golden_datasets_dir / "vggss")


def upsampled(heatmap: np.ndarray, protocol: str, size: int = SIZE) -> np.ndarray:
    if protocol == "lvs":
        return cv2.resize(heatmap, (size, size), interpolation=cv2.INTER_LINEAR)
    with torch.no_grad():
        up = F.interpolate(torch.from_numpy(heatmap)[None, None], size=(size, size), mode="bilinear", align_corners=True)
    return up.numpy()[0, 0]


def normalize_img(value: np.ndarray) -> np.ndarray:
    vmin, vmax = value.min(), value.max()
    if not (vmax - vmin) == 0:
        value = (value - vmin) / (vmax - vmin)
    return value


def straightforward(heatmap: np.ndarray, protocol: str, boxes: np.ndarray, size: int = SIZE) -> tuple[float, float, float]:
    """(ciou, intersection, union) of one sample, the plain way (``size``: of the GT map, 224 officially)."""
    up = upsampled(heatmap, protocol, size)
    pred = 1 - normalize_img(-up) if protocol == "lvs" else normalize_img(up)
    thr = np.sort(pred.flatten())[int(size * size / 2)]
    mask = (pred > thr) | (pred >= 1) if protocol == "lvs" else pred >= thr
    gt = np.zeros((size, size), dtype=bool)
    for xmin, ymin, xmax, ymax in boxes:
        gt[ymin:ymax, xmin:xmax] = True
    inter = float(np.count_nonzero(mask & gt))
    union = float(np.count_nonzero(gt) + np.count_nonzero(mask & ~gt))
    return (inter / union if union else float("nan")), inter, union


def family(name: str, rng: np.random.Generator, n: int, side: int) -> np.ndarray:
    shape = (n, side, side)
    if name == "random":
        return rng.standard_normal(shape, dtype=np.float32)
    if name == "quantised":  # four levels: many exact ties at the median after upsampling
        return (rng.integers(0, 4, shape) * np.float32(0.1)).astype(np.float32)
    if name == "levels255":  # 8-bit heatmaps saved as k / 255
        return (rng.integers(0, 256, shape) / np.float32(255)).astype(np.float32)
    if name == "constant":
        values = np.array([0.3, -0.2, 0.0, -1e-9, 1e-9, 7.5, -1e-3, 2.0**-20, -123.25, 1.0, -0.0, 4e-39])
        return np.broadcast_to(values[np.arange(n) % len(values), None, None], shape).astype(np.float32)
    if name == "tied_max":  # most pixels tie at the maximum: the LVS median score is 1
        return np.minimum(rng.standard_normal(shape, dtype=np.float32), np.float32(-1.5))
    if name == "tied_min":
        return np.maximum(rng.standard_normal(shape, dtype=np.float32), np.float32(0.8))
    if name == "offset":  # |v| / span near and above the 8-bit binning guard
        offsets = np.float32(10.0) ** rng.integers(0, 8, (n, 1, 1)).astype(np.float32)
        return (rng.standard_normal(shape, dtype=np.float32) + offsets).astype(np.float32)
    if name == "tiny":  # spans of 1e-30 and subnormal values
        scale = np.where(np.arange(n) % 2, np.float32(1e-30), np.float32(1e-38))[:, None, None]
        return (rng.standard_normal(shape, dtype=np.float32) * scale).astype(np.float32)
    if name == "skewed":
        return np.exp(np.float32(3) * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
    if name == "signed_zero":
        maps = np.where(rng.random(shape) < 0.5, np.float32(-0.0), np.float32(0.0)).astype(np.float32)
        maps[:, 0, 0] = np.float32(1.0)
        return maps
    raise ValueError(name)


FAMILIES = ["random", "quantised", "levels255", "constant", "tied_max", "tied_min", "offset", "tiny", "skewed",
            "signed_zero"]


def check_family(refs, protocol: str, maps: np.ndarray, seed: int, chunk_size: int = 5) -> None:
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(refs), size=len(maps), replace=False)
    rows[0] = refs.index(EMPTY_GT_ID)
    multi = np.flatnonzero(refs.box_counts > 1)
    rows[1:4] = multi[rng.choice(len(multi), 3, replace=False)]  # union of several boxes
    ciou, inter, union = kernels.localization_ciou(
        maps, (refs.pixel_boxes[rows], refs.box_counts[rows]), PROTOCOLS[protocol], protocol, chunk_size=chunk_size)
    want = np.array([straightforward(m, protocol, refs.pixel_boxes[r][: refs.box_counts[r]]) for m, r in zip(maps, rows)])
    assert np.array_equal(inter, want[:, 1])
    assert np.array_equal(union, want[:, 2])
    assert np.array_equal(ciou, want[:, 0], equal_nan=True)


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
@pytest.mark.parametrize("side", [7, 14, 224])
@pytest.mark.parametrize("name", FAMILIES)
def test_per_sample_counts_equal_the_straightforward_chain(refs, protocol: str, side: int, name: str) -> None:
    seed = FAMILIES.index(name) * 1000 + side * 10 + len(protocol)
    maps = family(name, np.random.default_rng(seed), 12, side)
    check_family(refs, protocol, maps, seed)


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_odd_shapes_and_chunkings(refs, protocol: str) -> None:
    rng = np.random.default_rng(3)
    for shape, chunk in (((5, 9), 1), ((31, 2), 4), ((2, 2), 7), ((224, 100), 3), ((13, 17), 32)):
        maps = rng.standard_normal((9, *shape), dtype=np.float32)
        maps[2] = np.round(maps[2])
        maps[5] = maps[5, :1]  # rows that repeat: ties along one axis
        check_family(refs, protocol, maps, 17 + shape[0], chunk_size=chunk)


def tie_across_bin_edge(protocol: str, lo: float, hi: float) -> tuple[np.float32, np.float32]:
    """Two neighbouring float32 values of a [lo, hi] map, in different 8-bit bins, with equal official scores.

    Scores merge neighbouring values where the float32 spacing of ``max - v`` (LVS) or ``v - min``
    (EZ-VSL) is coarser than that of v. With the median on such a tie, the mask starts at the
    tie's first value, not at the median's: a path that groups pixel values (the earlier 8-bit
    bins, the compiled path's brackets and histogram bins) must still treat the tie as one score.
    """
    alpha = 255.0 / (hi - lo)
    low, high = np.float32(lo), np.float32(hi)
    for j in range(255):
        edge = np.float32((j + 0.5) / alpha + lo)
        candidates = (edge + np.arange(-2048, 2048, dtype=np.float32) * np.spacing(edge)).astype(np.float32)
        bins = cv2.convertScaleAbs(candidates[None], alpha=alpha, beta=-lo * alpha)[0]
        span = high - low
        score = np.float32(1) - (high - candidates) / span if protocol == "lvs" else (candidates - low) / span
        for i in np.flatnonzero((bins[:-1] != bins[1:]) & (score[:-1] == score[1:])):
            if candidates[i] < candidates[i + 1]:
                return candidates[i], candidates[i + 1]
    raise AssertionError("no tie across a bin edge found")


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_median_tie_across_a_bin_edge(refs, protocol: str) -> None:
    lo, hi = (0.0, 1.0) if protocol == "lvs" else (-1.0, 1.0)
    a, b = tie_across_bin_edge(protocol, lo, hi)
    share_a = np.array([0.3, 0.45, 0.55, 0.7, 0.5, 0.5])[:, None, None]  # the median on either value
    maps = np.where(np.random.default_rng(9).random((6, SIZE, SIZE)) < share_a, a, b).astype(np.float32)
    maps[:, 0, 0], maps[:, -1, -1] = lo, hi
    maps[4, :100] = np.float32(hi)
    check_family(refs, protocol, maps, 9)


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_upsampling_is_skipped_only_where_it_copies(protocol: str) -> None:
    """At 224x224 both official upsamplings return the input bit for bit (so the path reads it directly)."""
    maps = np.random.default_rng(2).standard_normal((3, SIZE, SIZE), dtype=np.float32)
    maps[0, :4, :4] = -0.0
    maps[1, :2, :2] = np.float32(1e-42)  # subnormal
    for m in maps:
        assert np.array_equal(upsampled(m, protocol).view(np.uint32), m.view(np.uint32))


@pytest.mark.parametrize("shape", [(14, 14), (7, 7), (13, 17), (2, 2), (224, 100), (5, 224)])
def test_compiled_bilinear_equals_torch_interpolate(shape: tuple[int, int]) -> None:
    """The compiled ``ezvsl`` upsampling (`vggss_compiled.upsample_bilinear`) is ``F.interpolate``
    bit for bit, on random, quantised, constant and wide-ranging maps, wherever its probe says so;
    where torch's kernel does not fuse its multiply-adds, the evaluator must take torch's path."""
    from avu.metrics import vggss_compiled as compiled

    if not kernels.compiled_bilinear_is_exact(*shape, SIZE):
        pytest.skip("this torch build does not fuse its multiply-adds: the evaluator takes the torch path")
    rng = np.random.default_rng(sum(shape))
    h, w = shape
    maps = np.stack([
        *rng.standard_normal((4, h, w), dtype=np.float32),
        *(rng.integers(0, 4, (3, h, w)) * np.float32(0.1)).astype(np.float32),
        np.full((h, w), np.float32(0.3)), np.full((h, w), np.float32(-0.0)),
        (rng.standard_normal((h, w)) * np.float32(1e30)).astype(np.float32),
        (rng.standard_normal((h, w)) * np.float32(1e-38)).astype(np.float32),
        np.exp(np.float32(3) * rng.standard_normal((h, w), dtype=np.float32)).astype(np.float32),
    ]).astype(np.float32)
    out = np.empty((len(maps), SIZE, SIZE), dtype=np.float32)
    compiled.upsample_bilinear(maps, out, *kernels.align_corners_axis(w, SIZE), *kernels.align_corners_axis(h, SIZE))
    want = np.stack([upsampled(m, "ezvsl") for m in maps])
    assert np.array_equal(out.view(np.uint32), want.view(np.uint32))  # the sign of zero included


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_threads_give_the_same_values_in_the_same_order(refs, protocol: str) -> None:
    rng = np.random.default_rng(21)
    maps = np.concatenate([family(name, rng, 4, 14) for name in FAMILIES])
    rows = rng.choice(len(refs), size=len(maps), replace=False)
    gt = (refs.pixel_boxes[rows], refs.box_counts[rows])
    one = kernels.localization_ciou(maps, gt, PROTOCOLS[protocol], protocol, chunk_size=3, threads=1)
    for threads in (2, 3):
        many = kernels.localization_ciou(maps, gt, PROTOCOLS[protocol], protocol, chunk_size=3, threads=threads)
        for a, b in zip(one, many):
            assert np.array_equal(a, b, equal_nan=True)


def test_threads_raise_the_first_failing_chunks_error(refs) -> None:
    maps = np.random.default_rng(5).standard_normal((40, 7, 7), dtype=np.float32)
    gt = (refs.pixel_boxes[:40], refs.box_counts[:40])

    def check(part: slice) -> None:
        if part.start in (8, 24, 32):  # chunks 3, 7 and 9 are bad
            raise ValueError(f"bad chunk at {part.start}")

    for threads in (1, 2, 4):
        with pytest.raises(ValueError, match="bad chunk at 8$"):
            kernels.localization_ciou(maps, gt, "cv2_linear", "lvs", chunk_size=4, before_chunk=check, threads=threads)


def test_scoring_threads_reads_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("AVU_EVAL_THREADS", "1")
    assert kernels.scoring_threads() == 1
    for bad in ("two", "0", "-1"):
        monkeypatch.setenv("AVU_EVAL_THREADS", bad)
        with pytest.raises(ValueError, match="AVU_EVAL_THREADS"):
            kernels.scoring_threads()
    monkeypatch.delenv("AVU_EVAL_THREADS")
    assert 1 <= kernels.scoring_threads() <= 8


def test_kernels_compile_where_no_cache_can_be_written(monkeypatch) -> None:
    """numba refuses ``cache=True`` when it finds no writable cache folder: the kernels then
    compile in memory instead of failing the import."""
    from avu.metrics import vggss_compiled as compiled

    real, asked = compiled.njit, []

    def njit(cache: bool = False, **options):
        asked.append(cache)
        if cache:
            raise RuntimeError("cannot cache function 'double': no locator available for file '<here>'")
        return real(cache=False, **options)

    monkeypatch.setattr(compiled, "njit", njit)
    double = compiled._kernel()(lambda x: 2 * x)
    assert double(21) == 42
    assert asked == [True, False]


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_output_sizes_smaller_than_the_sampling_step(protocol: str, size: int) -> None:
    """The kernels' strided sample still starts inside a map of a few pixels."""
    rng = np.random.default_rng(size)
    maps = rng.standard_normal((12, 3, 3), dtype=np.float32)
    maps[3] = np.float32(0.25)  # constant
    boxes = np.zeros((12, 1, 4), dtype=np.int64)
    boxes[:, 0] = [0, 0, max(size // 2, 1), size]
    got = kernels.box_terms(maps, PROTOCOLS[protocol], protocol, boxes, np.ones(12, dtype=np.int64), size=size)
    want = np.array([straightforward(m, protocol, boxes[0], size) for m in maps])
    for column, values in enumerate(got):
        assert np.array_equal(values, want[:, column], equal_nan=True)
