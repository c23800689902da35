"""The fast AVSBench kernels against the slow re-expression of the official loops
(tests/oracles/avsbench.py) on random inputs, the exact threshold lookup, and exact counts
beyond float32's 2**24."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avu.metrics import avsbench as K
from tests.oracles import avsbench as oracle

pytestmark = [pytest.mark.avs_s4, pytest.mark.avs_ms3, pytest.mark.avss]
TOL = 1e-6


def random_logits(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A mix of quantised logits, wide normals, exact zeros and saturating values (sigmoid == 1.0f)."""
    lg = rng.normal(0, 4, size=shape).astype(np.float32)
    pick = rng.random(shape)
    lg[pick < 0.3] = (rng.integers(-24, 25, size=shape) / 8.0).astype(np.float32)[pick < 0.3]
    lg[(pick >= 0.3) & (pick < 0.35)] = 0.0
    lg[(pick >= 0.35) & (pick < 0.4)] = 25.0
    return lg


def random_masks(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    v, t, h, w = shape
    yy, xx = np.mgrid[:h, :w]
    m = np.zeros(shape, np.uint8)
    for i in range(v):
        for j in range(t):
            cy, cx = rng.integers(0, h, 2)
            m[i, j] = ((yy - cy) ** 2 + (xx - cx) ** 2) < rng.integers(4, h * h // 4)
    if v > 1:
        m[1] = 0  # an all-empty video
    m[0, 3] = 0  # and an empty frame
    return m


def test_threshold_lookup_is_exact():
    binner, threshold_pos, half_pos = K._binary_binning()
    bounds = binner.bounds
    assert np.array_equal(bounds[threshold_pos], K.THRESHOLDS) and bounds[half_pos] == K.HALF_UP
    assert K.THRESHOLDS[-1] == np.float32(1.0) and K.THRESHOLDS.dtype == np.float32
    edges = np.concatenate([bounds, np.nextafter(bounds, np.float32(0)), np.nextafter(bounds, np.float32(2))])
    rng = np.random.default_rng(0)
    q = np.concatenate([
        edges, [0.0, np.float32(1e-45), np.float32(1e-38), 0.5, 1.0],
        rng.random(200_000, dtype=np.float32), rng.random(50_000, dtype=np.float32) ** 8,
    ]).astype(np.float32)
    q = q[(q >= 0) & (q <= 1)]
    np.testing.assert_array_equal(binner(q), np.searchsorted(bounds, q, side="right"))


def test_probability_semantics_match_oracle_per_frame():
    """Probabilities sitting exactly on thresholds and the 0.5 boundary, frame by frame."""
    rng = np.random.default_rng(1)
    candidates = np.concatenate([K.THRESHOLDS, np.nextafter(K.THRESHOLDS, np.float32(0)), [0.5, K.HALF_UP, 1.0]])
    candidates = candidates[(candidates >= 0) & (candidates <= 1)].astype(np.float32)
    probs = rng.choice(candidates, size=(6, 20, 20)).astype(np.float32)
    masks = random_masks(rng, (1, 6, 20, 20))[0]
    masks[0] = 1
    s = K.binary_frame_scores(probs, masks, "probs")
    for f in range(6):
        p, g = torch.from_numpy(probs[f]), torch.from_numpy(masks[f]).float()
        if g.sum() == 0:
            assert not s.nonempty[f] and not s.fcurve[f].any()
            continue
        prec, rec = oracle.frame_pr(p, g)
        fs = (1.3 * prec * rec / (0.3 * prec + rec)).nan_to_num(0.0).numpy()
        np.testing.assert_allclose(s.fcurve[f], fs, atol=TOL, rtol=0)
        fg = (p > 0.5).int()
        want_iou = float((fg * g).sum() / (torch.max(fg, g).sum() + 1e-7))
        assert s.iou[f] == pytest.approx(want_iou, abs=TOL)


@pytest.mark.parametrize("batch_size", [1, 2, 4, 7])
def test_protocols_match_official_loops(batch_size):
    rng = np.random.default_rng(10 + batch_size)
    shape = (7, 5, 24, 24)
    logits, masks = random_logits(rng, shape), random_masks(rng, shape)
    s = K.binary_frame_scores(logits.reshape(-1, 24, 24), masks.reshape(-1, 24, 24))
    iou, fc, ne = s.iou.reshape(7, 5), s.fcurve.reshape(7, 5, -1), s.nonempty.reshape(7, 5)
    fast = K.avsbench_v1(iou, fc, ne, batch_size)
    miou, fscore, per_batch = oracle.s4ms3_test(logits, masks, batch_size)
    assert fast["miou"] == pytest.approx(miou, abs=TOL)
    assert fast["fscore"] == pytest.approx(fscore, abs=TOL)
    np.testing.assert_allclose(fast["per_batch_fscore"], [b[1] for b in per_batch], atol=TOL, rtol=0)
    pooled = K.dataset_v1(iou, fc, ne)
    want_miou, want_f = oracle.s4ms3_dataset(logits, masks)
    assert pooled["miou"] == pytest.approx(want_miou, abs=TOL)
    assert pooled["fscore"] == pytest.approx(want_f, abs=TOL)


def test_score_kinds_agree():
    """logits, their float32 sigmoid as probs, and 8-bit levels of binary masks give the same curves."""
    rng = np.random.default_rng(3)
    logits = random_logits(rng, (4, 16, 16))
    masks = random_masks(rng, (1, 4, 16, 16))[0]
    a = K.binary_frame_scores(logits, masks, "logits")
    b = K.binary_frame_scores(K.sigmoid32(logits), masks, "probs")
    np.testing.assert_array_equal(a.fcurve, b.fcurve)
    np.testing.assert_array_equal(a.iou, b.iou)
    binary = K.sigmoid32(logits) > 0.5
    c = K.binary_frame_scores(binary, masks, "probs")
    d = K.binary_frame_scores(binary.astype(np.uint8) * 255, masks, "levels")
    np.testing.assert_array_equal(c.fcurve, d.fcurve)
    np.testing.assert_array_equal(c.iou, a.iou)


def test_avss_matches_official_loop():
    rng = np.random.default_rng(4)
    gt = rng.choice([0, 0, 0, 3, 9, 70], size=(4, 10, 32, 32)).astype(np.uint8)
    pred = np.where(rng.random(gt.shape) < 0.7, gt, rng.choice([0, 3, 5, 9, 70], size=gt.shape)).astype(np.uint8)
    gt[1, 5:] = 0  # v1-style padding
    fast = K.avss_scores(pred, gt)
    want = oracle.avss_test(pred, gt)
    for key in ("miou", "miou_no_last", "fscore", "fscore_no_last"):
        assert fast[key] == pytest.approx(want[key], abs=TOL), key
    np.testing.assert_allclose(fast["per_class_iou"], want["per_class_iou"], atol=TOL, rtol=0)
    np.testing.assert_allclose(fast["per_class_fscore"], want["per_class_fscore"], atol=TOL, rtol=0)
    np.testing.assert_array_equal(fast["per_class_count"], want["per_class_count"])


def one_hot_logits(labels: np.ndarray, n_classes: int = 71) -> torch.Tensor:
    """(F, C, H, W) logits whose argmax is ``labels`` (as the golden AVSS case feeds the official code)."""
    one_hot = torch.nn.functional.one_hot(torch.from_numpy(labels.astype(np.int64)), n_classes)
    return 10.0 * one_hot.permute(0, 3, 1, 2).float()


def binary_cases() -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """Hand-made 8x8 frames: (pred, gt, calc_binary_miou by hand). 70 is what the official code calls background."""
    zeros = np.zeros((8, 8), np.uint8)
    woman = np.full((8, 8), 70, np.uint8)
    corner = zeros.copy()
    corner[:4, :4] = 70
    half = zeros.copy()
    half[:, :4] = 70
    eps = 1e-7
    return {
        "no_class_70_anywhere": (np.full((8, 8), 5, np.uint8), zeros, 64 / (64 + eps)),  # AVSS background 0 is foreground
        "same_class_70_region": (corner, corner, 48 / (48 + eps)),
        "class_70_missed": (zeros, corner, 48 / (64 + eps)),
        "class_70_predicted_on_foreground": (corner, zeros, 48 / (64 + eps)),
        "all_70_gt_half_predicted": (half, woman, 32 / (64 + eps)),  # no-object frame: background agreement
        "all_70_gt_all_predicted": (woman, woman, 64 / (64 + eps)),
        "all_70_gt_none_predicted": (zeros, woman, 0.0),
        "all_70_predicted_no_70_gt": (woman, zeros, 0.0),
    }


@pytest.mark.parametrize("case", list(binary_cases()))
def test_avss_binary_miou_matches_the_official_definition(case: str) -> None:
    pred, gt, by_hand = binary_cases()[case]
    official = oracle.calc_binary_miou(one_hot_logits(pred[None]), torch.from_numpy(gt[None].astype(np.int64)))
    assert official == pytest.approx(by_hand, abs=TOL)
    assert K.avss_binary_miou(pred[None], gt[None]) == pytest.approx(by_hand, abs=1e-12)


def test_avss_binary_miou_of_many_frames_is_the_frame_mean() -> None:
    cases = binary_cases().values()
    pred = np.stack([p for p, _, _ in cases])
    gt = np.stack([g for _, g, _ in cases])
    rng = np.random.default_rng(6)
    noisy_gt = rng.choice([0, 3, 70, 70], size=(6, 16, 16)).astype(np.uint8)
    noisy_pred = np.where(rng.random(noisy_gt.shape) < 0.6, noisy_gt, 70).astype(np.uint8)
    for p, g in ((pred, gt), (noisy_pred, noisy_gt)):
        official = oracle.calc_binary_miou(one_hot_logits(p), torch.from_numpy(g.astype(np.int64)))
        assert K.avss_binary_miou(p, g) == pytest.approx(official, abs=TOL)
        assert K.avss_scores(p, g)["binary_miou"] == pytest.approx(official, abs=TOL)
    frames = K.avss_binary_iou_from_confusion(K.avss_frame_confusion(pred, gt))
    np.testing.assert_allclose(frames, [v for _, _, v in cases], atol=1e-12, rtol=0)


def test_avss_evaluator_reports_binary_miou_over_all_frames() -> None:
    """Batch-invariant: the evaluator's binary_miou is the official function on one call of every frame."""
    from avu.data.annotations.avsbench import references_from_arrays
    from avu.evaluators.avsbench import AvssEvaluator

    rng = np.random.default_rng(8)
    gt = rng.choice([0, 0, 9, 70], size=(3, 10, 16, 16)).astype(np.uint8)
    gt[0, 3] = 70  # a frame the official code calls object-free
    pred = np.where(rng.random(gt.shape) < 0.7, gt, rng.choice([0, 70], size=gt.shape)).astype(np.uint8)
    ids = ["a", "b", "c"]
    ev = AvssEvaluator(references_from_arrays("avss", ids, gt))
    ev.update(ids[2:], {"labels": pred[2:]})
    ev.update(ids[:2], {"labels": pred[:2]})
    flat_pred, flat_gt = pred.reshape(-1, 16, 16), gt.reshape(-1, 16, 16)
    official = oracle.calc_binary_miou(one_hot_logits(flat_pred), torch.from_numpy(flat_gt.astype(np.int64)))
    assert ev.compute().metrics["binary_miou"] == pytest.approx(100 * official, abs=100 * TOL)


def test_counts_beyond_float32_are_exact():
    """A 4097 x 4097 frame has 2**24 + 8193 pixels: float32 sums would round, int64 ones do not."""
    side = 4097
    n = side * side
    assert n > 2 ** 24
    probs = np.ones((1, side, side), dtype=bool)
    probs[0, 0, 0] = False  # one false negative
    masks = np.ones((1, side, side), dtype=np.uint8)
    hist = K.binary_histograms(probs, masks, "probs")
    assert int(hist.sum()) == n and int(hist[0, 1].sum()) == n
    s = K.binary_scores_from_histograms(hist)
    assert s.iou[0] == (n - 1) / (n + K.IOU_EPS)
    assert int(np.float32(n)) != n  # float32 cannot even hold the pixel count
    rec = (n - 1) / (n + K.PR_EPS)
    assert s.fcurve[0, 1] == pytest.approx(1.3 * rec / (0.3 + rec), rel=1e-15)

    labels = np.zeros((1, side, side), np.uint8)
    labels[0, :2] = 7
    inter, area_p, area_g = K.avss_frame_areas(labels, np.zeros_like(labels))
    assert int(area_g[0, 0]) == n and int(area_p[0, 0]) == n - 2 * side and int(inter[0, 0]) == n - 2 * side
    assert int(area_p[0, 7]) == 2 * side and int(inter[0, 7]) == 0


def test_kernel_input_checks():
    with pytest.raises(ValueError, match="must lie in"):
        K.to_probabilities(np.array([0.5, 1.5], np.float32), "probs")
    with pytest.raises(ValueError, match="out of range"):
        K.avss_frame_areas(np.full((1, 2, 2), 71, np.uint8), np.zeros((1, 2, 2), np.uint8))
    assert K.batch_fscore(np.ones((3, 255)), np.zeros(3, bool)) == 0.0
