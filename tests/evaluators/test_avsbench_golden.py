"""Parity with the official AVSBench code on every golden case in tests/golden/avsbench.

The official outputs are float32 torch arithmetic: compared at 1e-6 (golden README); counts exact.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from avu.data.annotations.avsbench import references_from_arrays
from avu.evaluators.avsbench import AvssEvaluator, MS3Evaluator, S4Evaluator
from avu.metrics import avsbench as K

pytestmark = [pytest.mark.avs_s4, pytest.mark.avs_ms3, pytest.mark.avss]
TOL = 1e-6
EDGE_CASES = [
    "perfect", "all_empty_gt_all_negative_pred", "all_empty_gt_all_positive_pred", "some_empty_gt_frames_perfect_pred",
    "logit_exactly_zero", "all_negative_pred_nonempty_gt", "all_positive_pred_nonempty_gt", "random_logits_32px",
]


@pytest.fixture(scope="module")
def gold(golden_dir):
    root = golden_dir / "avsbench"
    return root, json.loads((root / "results.json").read_text())


@pytest.fixture(scope="module")
def s4ms3(gold):
    root, _ = gold
    d = np.load(root / "s4ms3_random.npz")
    return d["logits_int8"].astype(np.float32) / 8.0, d["masks"]


def test_every_golden_file_is_covered(gold):
    root, results = gold
    files = {p.name for p in root.glob("*.npz")}
    assert files == {"s4ms3_random.npz", "avss_random.npz"} | {f"edge_{n}.npz" for n in EDGE_CASES}
    assert set(results["edge"]) == set(EDGE_CASES)
    assert {k for k in results if k != "edge"} == {
        "s4ms3_random", "avss_random", "avss_random_batch1", "avss_perfect", "avss_calc_binary_miou_on_random"}


@pytest.mark.parametrize("name", EDGE_CASES)
def test_edge_cases(gold, name):
    root, results = gold
    d = np.load(root / f"edge_{name}.npz")
    want = results["edge"][name]
    assert K.mask_iou(d["logits"], d["masks"]) == pytest.approx(want["mask_iou"], abs=TOL)
    assert K.eval_fmeasure(d["logits"], d["masks"]) == pytest.approx(want["Eval_Fmeasure"], abs=TOL)


@pytest.mark.parametrize("variant", [
    "S4 utility, test_batch_size=1 (test.py default)", "MS3 utility, test_batch_size=1",
    "S4 utility, test_batch_size=4 (official test.sh)", "MS3 utility, test_batch_size=4 (official test.sh)",
])
def test_s4ms3_test_loop(gold, s4ms3, variant):
    _, results = gold
    logits, masks = s4ms3
    want = results["s4ms3_random"][variant]
    bs = int(variant.split("test_batch_size=")[1][0])
    v, t, h, w = logits.shape
    s = K.binary_frame_scores(logits.reshape(-1, h, w), masks.reshape(-1, h, w))
    out = K.avsbench_v1(s.iou.reshape(v, t), s.fcurve.reshape(v, t, -1), s.nonempty.reshape(v, t), bs)
    assert out["miou"] == pytest.approx(want["test miou (mean over batches of mask_iou)"], abs=TOL)
    assert out["fscore"] == pytest.approx(want["test F_score (mean over batches of Eval_Fmeasure)"], abs=TOL)
    per_batch = np.array(want["per_batch[miou,F]"])
    np.testing.assert_allclose(out["per_batch_miou"], per_batch[:, 0], atol=TOL, rtol=0)
    np.testing.assert_allclose(out["per_batch_fscore"], per_batch[:, 1], atol=TOL, rtol=0)

    # the same through the accumulating evaluator, fed in uneven batches
    bench, cls = ("avs_s4", S4Evaluator) if variant.startswith("S4") else ("avs_ms3", MS3Evaluator)
    ids = [f"video{i}" for i in range(v)]
    ev = cls(references_from_arrays(bench, ids, masks), protocol=f"avsbench_v1[batch_size={bs}]")
    for sl in (slice(0, 3), slice(3, 8)):
        ev.update(ids[sl], {"logits": logits[sl]})
    res = ev.compute()
    assert res.metrics["miou"] == pytest.approx(100 * want["test miou (mean over batches of mask_iou)"], abs=100 * TOL)
    assert res.metrics["fscore"] == pytest.approx(100 * want["test F_score (mean over batches of Eval_Fmeasure)"], abs=100 * TOL)
    assert res.extras["batches"] == len(per_batch)


def test_s4ms3_single_batch_and_per_frame(gold, s4ms3):
    _, results = gold
    logits, masks = s4ms3
    flat_l, flat_m = logits.reshape(-1, 224, 224), masks.reshape(-1, 224, 224)
    single = results["s4ms3_random"]["single_batch_of_all_40_frames"]
    assert K.mask_iou(flat_l, flat_m) == pytest.approx(single["mask_iou"], abs=TOL)
    assert K.eval_fmeasure(flat_l, flat_m) == pytest.approx(single["Eval_Fmeasure"], abs=TOL)
    per_frame = np.array(results["s4ms3_random"]["per_frame[mask_iou,Eval_Fmeasure] (each frame alone)"])
    s = K.binary_frame_scores(flat_l, flat_m)
    np.testing.assert_allclose(s.iou, per_frame[:, 0], atol=TOL, rtol=0)
    np.testing.assert_allclose([K.batch_fscore(s.fcurve[i], s.nonempty[i:i + 1]) for i in range(40)],
                               per_frame[:, 1], atol=TOL, rtol=0)

    # dataset_v1 = the official functions on one batch of every frame of the split
    ids = [f"video{i}" for i in range(8)]
    ev = S4Evaluator(references_from_arrays("avs_s4", ids, masks), protocol="dataset_v1")
    ev.update(ids, {"logits": logits})
    res = ev.compute()
    assert res.metrics["miou"] == pytest.approx(100 * single["mask_iou"], abs=100 * TOL)
    assert res.metrics["fscore"] == pytest.approx(100 * single["Eval_Fmeasure"], abs=100 * TOL)


@pytest.mark.parametrize("case", ["avss_random", "avss_random_batch1", "avss_perfect"])
def test_avss(gold, case):
    root, results = gold
    d = np.load(root / "avss_random.npz")
    gt = d["gt_labels"]
    pred = gt if case == "avss_perfect" else d["pred_labels"]
    want = results[case]
    out = K.avss_scores(pred, gt)
    assert out["miou"] == pytest.approx(want["miou (mean over ALL 71 classes, absent classes count as 0)"], abs=TOL)
    assert out["miou_no_last"] == pytest.approx(
        want['miou_noBg (mean of first 70 = drops class 70 "woman", NOT background)'], abs=TOL)
    assert out["fscore"] == pytest.approx(want["F_score"], abs=TOL)
    assert out["fscore_no_last"] == pytest.approx(want["F_score_noBg"], abs=TOL)
    assert out["n_classes_present"] == want["n_classes_with_nonzero_count"]
    assert out["miou_present_classes"] == pytest.approx(
        want["miou over present classes only (what the per-batch log line prints)"], abs=TOL)
    if "per_class_iou" in want:
        np.testing.assert_allclose(out["per_class_iou"], want["per_class_iou"], atol=TOL, rtol=0)
        np.testing.assert_allclose(out["per_class_fscore"], want["per_class_F"], atol=TOL, rtol=0)
        np.testing.assert_array_equal(out["per_class_count"], want["per_class_count(frames where class in pred or GT)"])
        log = np.array(want["vid_miou_list (per frame: sum(iou)/count(iou!=0); NaN if all zero)"], dtype=float)
        np.testing.assert_allclose(out["frame_miou_log"], log, atol=TOL, rtol=0, equal_nan=True)

    # through the evaluator (golden frames are 64x64; the v1 padding frames are in the GT arrays)
    ids = [f"uid{i}" for i in range(len(gt))]
    refs = references_from_arrays("avss", ids, gt, subsets=dict(zip(ids, d["kinds"].tolist())))
    ev = AvssEvaluator(refs)
    step = 1 if case == "avss_random_batch1" else 4
    for s in range(0, len(ids), step):
        ev.update(ids[s:s + step], {"labels": pred[s:s + step]})
    res = ev.compute()
    assert res.metrics["miou"] == pytest.approx(100 * out["miou"], abs=1e-9)
    assert res.metrics["binary_miou"] == pytest.approx(100 * out["binary_miou"], abs=1e-9)
    if case == "avss_random":  # class 70, which calc_binary_miou takes for background, occurs nowhere
        assert out["binary_miou"] == pytest.approx(results["avss_calc_binary_miou_on_random"], abs=TOL)
    assert res.metrics["fscore_no_last"] == pytest.approx(100 * out["fscore_no_last"], abs=1e-9)
    assert res.extras["classes_present"] == want["n_classes_with_nonzero_count"]
    if "per_class_iou" in want:
        per_class = np.array(list(res.extras["per_class_iou"].values())) / 100
        np.testing.assert_allclose(per_class, want["per_class_iou"], atol=TOL, rtol=0)
        assert list(res.extras["per_class_frames"].values()) == [int(c) for c in want["per_class_count(frames where class in pred or GT)"]]


def test_avss_golden_padding_frames_are_background(gold):
    root, _ = gold
    d = np.load(root / "avss_random.npz")
    v1 = np.isin(d["kinds"], ["v1s", "v1m"])
    assert v1.any() and not d["gt_labels"][v1, 5:].any()

