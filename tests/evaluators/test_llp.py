"""LLP evaluator: golden parity with the official code, agreement with the slow oracle, formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from avu.data.annotations.llp import load_references
from avu.evaluators.llp import AVVP_OFFICIAL, LlpEvaluator
from avu.metrics import llp as kernels
from tests.oracles import llp as oracle

pytestmark = pytest.mark.llp

ATOL = 1e-9
SEG_KEY = "segment_level[f_a,f_v,f_event(a+v pooled),f_av]"
EVT_KEY = "event_level[f_a,f_v,f_event,f_av]"
EWM_INPUTS = "event_wise_metric_inputs(runs as [start,end) per event; pred, gt)"
#: our metric name -> key in golden full_eval_cases.json
GOLDEN_NAMES = {
    "segment_audio": "segment_audio_F1", "segment_visual": "segment_visual_F1",
    "segment_av": "segment_audiovisual_F1", "segment_type_av": "segment_Type@AV",
    "segment_event_av": "segment_Event@AV",
    "event_audio": "event_audio_F1", "event_visual": "event_visual_F1",
    "event_av": "event_audiovisual_F1", "event_type_av": "event_Type@AV", "event_event_av": "event_Event@AV",
}


@pytest.fixture(scope="module")
def golden(golden_dir: Path) -> Path:
    path = golden_dir / "avvp"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def avvp(golden_datasets_dir: Path) -> Path:
    """The official val/test and evaluation files, shipped with the golden cases."""
    return golden_datasets_dir / "avvp"


@pytest.fixture(scope="module")
def refs(avvp: Path) -> dict[str, object]:
    return {
        "test": load_references(avvp, "test"),
        "test2020": load_references(avvp, "test", version="2020"),
        "val": load_references(avvp, "val"),
    }


# -- per-video golden cases ------------------------------------------------------------------

def _per_video_cases(golden: Path):
    expected = json.loads((golden / "per_video_cases.json").read_text())
    with np.load(golden / "per_video_cases.npz") as data:
        arrays = {k: data[k] for k in data.files}
    cases = []
    for key, arr in arrays.items():
        if key.startswith("random_"):
            cases.append((key, arr, expected["random"][int(key.split("_")[1])]))
        else:
            cases.append((key, arr, expected["edge"][key[len("edge_"):]]))
    return cases


def test_per_video_cases_match_official(golden: Path) -> None:
    cases = _per_video_cases(golden)
    assert len(cases) == 46  # 40 random + 6 edge cases
    so_a, so_v, gt_a, gt_v = (np.stack([arr[k] for _, arr, _ in cases]) for k in range(4))
    seg = kernels.segment_level(so_a, so_v, gt_a, gt_v)
    evt = kernels.event_level(so_a, so_v, gt_a, gt_v)
    for i, (name, _, exp) in enumerate(cases):
        np.testing.assert_allclose(seg[i], exp[SEG_KEY], rtol=0, atol=ATOL, err_msg=name)
        np.testing.assert_allclose(evt[i], exp[EVT_KEY], rtol=0, atol=ATOL, err_msg=name)
        # one video at a time gives the very same numbers as the batch
        single = kernels.per_video_scores(so_a[i:i + 1], so_v[i:i + 1], gt_a[i:i + 1], gt_v[i:i + 1])[0]
        np.testing.assert_array_equal(single, np.concatenate([seg[i], evt[i]]))


def test_extract_event_matches_official(golden: Path) -> None:
    expected = json.loads((golden / "per_video_cases.json").read_text())
    assert expected["extract_event"]
    for name, runs in expected["extract_event"].items():
        seq = np.asarray(expected["extract_event_inputs"][name])
        assert kernels.extract_events(seq) == [(r[0], r[-1] + 1) for r in runs], name
        assert [list(np.flatnonzero(m)) for m in oracle.extract_event(seq)] == runs, name


def _row(runs) -> np.ndarray:
    row = np.zeros(10, dtype=np.uint8)
    for start, end in runs or []:
        row[start:end] = 1
    return row


def test_event_wise_metric_matches_official(golden: Path) -> None:
    expected = json.loads((golden / "per_video_cases.json").read_text())
    assert expected["event_wise_metric[TP,FP,FN]"]
    for name, counts in expected["event_wise_metric[TP,FP,FN]"].items():
        pred_runs, gt_runs = expected[EWM_INPUTS][name]
        pred, gt = _row(pred_runs), _row(gt_runs)
        # the hand-built event lists are exactly the events of these rows
        assert kernels.extract_events(pred) == [tuple(r) for r in pred_runs or []]
        assert kernels.extract_events(gt) == [tuple(r) for r in gt_runs or []]
        assert list(kernels.event_wise_counts(pred, gt)) == counts, name
        assert list(oracle.event_wise_metric(oracle.extract_event(pred), oracle.extract_event(gt))) == counts, name


def test_event_list_counts_match_the_golden_event_lists(golden: Path) -> None:
    expected = json.loads((golden / "per_video_cases.json").read_text())
    for name, counts in expected["event_wise_metric[TP,FP,FN]"].items():
        pred_runs, gt_runs = expected[EWM_INPUTS][name]  # None = no events, as officially
        assert list(kernels.event_list_counts(pred_runs, gt_runs)) == counts, name


#: hand-made event lists a binary row cannot express: (pred, GT, (TP, FP, FN) by hand)
EVENT_LIST_CASES = {
    "adjacent_preds_half_each": ([(0, 2), (2, 4)], [(0, 4)], (2, 0, 0)),
    "adjacent_gts_one_pred": ([(0, 4)], [(0, 2), (2, 4)], (1, 0, 0)),
    "adjacent_both": ([(0, 2), (2, 4)], [(0, 2), (2, 4)], (2, 0, 0)),
    "adjacent_preds_one_too_short": ([(0, 1), (1, 4)], [(0, 4)], (1, 1, 0)),
    "overlapping_preds": ([(0, 3), (1, 4)], [(0, 2)], (1, 1, 0)),
    "repeated_pred": ([(5, 6), (5, 6)], [(5, 6)], (2, 0, 0)),
    "last_segment": ([(9, 10)], [(8, 10)], (1, 0, 0)),
    "empty_list_is_none": ([], [(2, 4)], (0, 0, 1)),
    "both_empty": (None, [], (0, 0, 0)),
}


@pytest.mark.parametrize("case", list(EVENT_LIST_CASES))
def test_event_list_counts_match_the_official_definition(case: str) -> None:
    pred, gt, by_hand = EVENT_LIST_CASES[case]
    official = oracle.event_wise_metric([oracle.to_vec(*e) for e in pred or []], [oracle.to_vec(*e) for e in gt or []])
    assert official == by_hand
    assert kernels.event_list_counts(pred, gt) == by_hand


def test_adjacent_events_differ_from_their_binary_row() -> None:
    """The row [0, 4) is one event; the list [0, 2), [2, 4) is two: the binary-row form cannot score it."""
    pred, gt, counts = EVENT_LIST_CASES["adjacent_preds_half_each"]
    assert kernels.event_wise_counts(_row(pred), _row(gt)) == (1, 0, 0) != counts


def _random_events(rng: np.random.Generator, n_segments: int = 10) -> list[tuple[int, int]]:
    starts = rng.integers(0, n_segments, size=rng.integers(0, 5))
    return [(int(s), int(rng.integers(s + 1, n_segments + 1))) for s in starts]


@pytest.mark.parametrize("iou", [0.3, 0.5, 0.7])
def test_event_list_counts_agree_with_oracle_on_random_lists(iou: float) -> None:
    rng = np.random.default_rng(21)
    for _ in range(400):
        pred, gt = _random_events(rng), _random_events(rng)
        official = oracle.event_wise_metric([oracle.to_vec(*e) for e in pred], [oracle.to_vec(*e) for e in gt], iou)
        assert kernels.event_list_counts(pred, gt, iou) == official, (pred, gt)


def test_event_lists_of_rows_equal_the_row_form() -> None:
    rng = np.random.default_rng(22)
    for pred, gt in ((rng.random((2, 10)) < 0.5).astype(np.uint8) for _ in range(300)):
        assert kernels.event_list_counts(kernels.extract_events(pred), kernels.extract_events(gt)) == \
            kernels.event_wise_counts(pred, gt)


@pytest.mark.parametrize("bad", [(3, 3), (-1, 2), (5, 11), (4, 2)])
def test_malformed_events_are_refused(bad: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match=rf"GT event \[{bad[0]}, {bad[1]}\)"):
        kernels.event_list_counts([(0, 2)], [(1, 3), bad])


def test_event_level_lists_match_official_and_rows() -> None:
    rng = np.random.default_rng(23)
    for _ in range(20):
        lists = [[_random_events(rng) if rng.random() < 0.3 else None for _ in range(kernels.NUM_CLASSES)]
                 for _ in range(6)]
        got = kernels.event_level_lists(*lists)
        np.testing.assert_allclose(got, oracle.event_level_lists(*lists), rtol=0, atol=1e-12)
    # lists extracted from rows give the row form's event_level (AV lists from the a AND v rows)
    so_a, so_v, gt_a, gt_v = (rng.random((4, kernels.NUM_CLASSES, 10)) < 0.4)
    rows = (so_a, so_v, so_a & so_v, gt_a, gt_v, gt_a & gt_v)
    lists = [[kernels.extract_events(r) for r in m] for m in rows]
    np.testing.assert_array_equal(kernels.event_level_lists(*lists), kernels.event_level(so_a[None], so_v[None],
                                                                                         gt_a[None], gt_v[None])[0])


# -- full official eval() cases --------------------------------------------------------------

def _inputs(golden: Path, case: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    if case.startswith("random_test1200"):
        with np.load(golden / "full_eval_random_test.npz") as d:
            return d["global_prob"], d["frame_prob"]
    if case == "perfect_from_dense_GT":
        with np.load(golden / "full_eval_perfect_test.npz") as d:
            return d["global_prob"], d["frame_prob"]
    if case == "uniform_random_val649":
        with np.load(golden / "full_eval_random_val.npz") as d:
            return d["global_prob"], d["frame_prob"]
    if case == "all_zero_predictions":
        return np.zeros((n, 25), np.float32), np.zeros((n, 10, 2, 25), np.float32)
    if case == "frame_all_one_video_gate_zero":
        return np.full((n, 25), 0.49, np.float32), np.ones((n, 10, 2, 25), np.float32)
    raise AssertionError(f"golden case {case!r} is new: teach this test its inputs")


def _refs_for(case: str, refs):
    if case == "random_test1200_with_v2020_audio_csv":
        return refs["test2020"]
    return refs["val"] if "val" in case else refs["test"]


def test_every_full_eval_case_matches_official(golden: Path, refs) -> None:
    cases = json.loads((golden / "full_eval_cases.json").read_text())
    assert len(cases) == 6
    for case, expected in cases.items():
        references = _refs_for(case, refs)
        assert len(references) == expected["n_videos"], case
        global_prob, frame_prob = _inputs(golden, case, len(references))
        evaluator = LlpEvaluator(references)
        evaluator.update(references.ids, {"global_prob": global_prob, "frame_prob": frame_prob})
        result = evaluator.compute()
        assert result.counts == {"expected": expected["n_videos"], "evaluated": expected["n_videos"], "missing": 0}
        assert result.metrics.keys() == GOLDEN_NAMES.keys()
        for ours, theirs in GOLDEN_NAMES.items():
            assert result.metrics[ours] == pytest.approx(expected[theirs], abs=ATOL, rel=0), (case, ours)
        assert result.metrics["segment_type_av"] == pytest.approx(
            expected["return_value(avg_type segment-level)"], abs=ATOL, rel=0)
        printed = [f"{result.metrics[k]:.1f}" for k in GOLDEN_NAMES]
        assert printed == [line.rsplit(": ", 1)[1] for line in expected["printed_by_official_eval"]], case
        assert result.annotation_version == ("2020" if "v2020" in case else "2024-04")


def test_golden_inputs_are_in_csv_row_order(golden: Path, refs) -> None:
    for name, split in (("full_eval_random_test.npz", "test"), ("full_eval_random_val.npz", "val")):
        with np.load(golden / name) as d:
            assert list(d["filenames"]) == refs[split].ids


def test_per_video_outputs_match_official(golden: Path, refs) -> None:
    gp, fp = _inputs(golden, "random_test1200", 1200)
    pred_a, pred_v = kernels.binarize(gp, fp)
    scores = kernels.per_video_scores(pred_a, pred_v, refs["test"].gt_audio, refs["test"].gt_visual)
    with np.load(golden / "full_eval_random_test_per_video_outputs.npz") as d:
        np.testing.assert_allclose(scores[:, :4], d["segment_level"], rtol=0, atol=ATOL)
        np.testing.assert_allclose(scores[:, 4:], d["event_level"], rtol=0, atol=ATOL)


def test_annotation_versions_differ_only_on_the_fixed_rows(refs) -> None:
    new, old = refs["test"], refs["test2020"]
    assert new.ids == old.ids
    assert np.array_equal(new.gt_visual, old.gt_visual)
    changed = sorted(new.ids[i] for i in np.flatnonzero((new.gt_audio != old.gt_audio).any(axis=(1, 2))))
    # 2020: two rows named "Baby_cry_infant_cry" and one "KvIjsmANkxI_10_20`" matched no video
    assert changed == ["JfZEqeLZqWk_30_40", "KvIjsmANkxI_10_20"]
    assert new.stats["eval_audio_rows_matched"] - old.stats["eval_audio_rows_matched"] == 3


# -- fast kernels vs the slow oracle ---------------------------------------------------------

def _random_video_arrays(rng: np.random.Generator, n: int):
    """Predictions and GT with runs, gaps, empty classes and whole empty videos."""
    gp = rng.random((n, 25))
    gp[rng.random((n, 25)) < 0.5] = 0.0
    fp = rng.random((n, 10, 2, 25))
    fp[rng.random(fp.shape) < 0.05] = 0.5  # exactly on the inclusive threshold
    gp[rng.random(gp.shape) < 0.05] = 0.5
    gt_a = (rng.random((n, 25, 10)) < 0.25) & (rng.random((n, 25, 1)) < 0.2)
    gt_v = (rng.random((n, 25, 10)) < 0.35) & (rng.random((n, 25, 1)) < 0.2)
    gt_a[: n // 10] = False  # some videos with no audio GT
    gt_v[n // 10: n // 5] = False
    return gp, fp, gt_a.astype(np.uint8), gt_v.astype(np.uint8)


def test_fast_path_agrees_with_oracle_on_random_inputs() -> None:
    rng = np.random.default_rng(12345)
    gp, fp, gt_a, gt_v = _random_video_arrays(rng, 150)
    fast_a, fast_v = kernels.binarize(gp, fp)
    fast = kernels.per_video_scores(fast_a, fast_v, gt_a, gt_v)
    slow_rows = []
    for i in range(len(gp)):
        so_a, so_v = oracle.binarize_video(gp[i], fp[i])
        np.testing.assert_array_equal(so_a.astype(bool), fast_a[i])
        np.testing.assert_array_equal(so_v.astype(bool), fast_v[i])
        slow_rows.append(oracle.per_video(so_a, so_v, gt_a[i].astype(float), gt_v[i].astype(float)))
    np.testing.assert_allclose(fast, np.asarray(slow_rows), rtol=0, atol=1e-12)
    fast_metrics = kernels.aggregate(fast)
    slow_metrics = oracle.summarize(slow_rows)
    for name in GOLDEN_NAMES:
        assert fast_metrics[name] == pytest.approx(slow_metrics[name], abs=1e-9, rel=0)


@pytest.mark.parametrize("iou", [0.3, 0.5, 0.7])
def test_event_tables_agree_with_oracle_on_all_small_patterns(iou: float) -> None:
    """Every (pred, GT) pattern pair on a random sample of the 2**20 pairs, plus structured ones."""
    rng = np.random.default_rng(7)
    codes = np.concatenate([rng.integers(0, 1024, size=(400, 2)),
                            np.array([[0, 0], [1023, 0], [0, 1023], [1023, 1023], [0b1010101010, 0b0101010101]])])
    bits = ((codes[..., None] >> np.arange(10)) & 1).astype(np.uint8)
    for pred, gt in bits:
        slow = oracle.event_wise_metric(oracle.extract_event(pred), oracle.extract_event(gt), iou)
        assert kernels.event_wise_counts(pred, gt, iou) == slow, (pred, gt)


def test_oracle_gt_builder_agrees_with_reader(avvp: Path, refs) -> None:
    from avu.data.annotations.llp import read_eval_rows

    for split in ("val", "test2020"):
        references = refs[split]
        audio = read_eval_rows(avvp / ("v2020/AVVP_eval_audio.csv" if split == "test2020" else "AVVP_eval_audio.csv"))
        rows = list(zip(audio.filenames, audio.onset.tolist(), audio.offset.tolist(), audio.class_index.tolist()))
        for i in range(0, len(references), 37):
            np.testing.assert_array_equal(oracle.build_gt(references.ids[i], rows), references.gt_audio[i])


# -- payload forms and protocol ---------------------------------------------------------------

def test_binary_payload_equals_probability_payload(refs) -> None:
    references = refs["val"]
    rng = np.random.default_rng(3)
    n = len(references)
    gp, fp = rng.random((n, 25)), rng.random((n, 10, 2, 25))
    pred_a, pred_v = kernels.binarize(gp, fp)
    ev_prob, ev_bin = LlpEvaluator(references), LlpEvaluator(references)
    ev_prob.update(references.ids, {"global_prob": gp, "frame_prob": fp})
    ev_bin.update(references.ids, {"audio": pred_a.transpose(0, 2, 1), "visual": pred_v.transpose(0, 2, 1)})
    assert ev_prob.compute().metrics == ev_bin.compute().metrics


def test_protocol_is_default_and_parameters_are_used(refs) -> None:
    from avu import protocols

    assert protocols.get("llp") is AVVP_OFFICIAL
    assert dict(AVVP_OFFICIAL.params) == {"video_threshold": 0.5, "frame_threshold": 0.5, "iou_threshold": 0.5}
    references = refs["val"]
    rng = np.random.default_rng(5)
    payload = {"global_prob": rng.random((len(references), 25)), "frame_prob": rng.random((len(references), 10, 2, 25))}
    results = {}
    for name, protocol in (("official", AVVP_OFFICIAL), ("strict", AVVP_OFFICIAL.with_params(iou_threshold=0.9)),
                           ("gate", AVVP_OFFICIAL.with_params(video_threshold=0.0))):
        ev = LlpEvaluator(references, protocol)
        ev.update(references.ids, payload)
        results[name] = ev.compute()
    # a stricter IoU changes only event-level numbers; no gate changes segment-level ones too
    assert results["strict"].metrics["segment_audio"] == results["official"].metrics["segment_audio"]
    assert results["strict"].metrics["event_audio"] < results["official"].metrics["event_audio"]
    assert results["gate"].metrics["segment_audio"] != results["official"].metrics["segment_audio"]
    assert results["official"].protocol["key"] == "avvp_official.v1"
    assert results["official"].primary_metric == "segment_audio"


def test_weak_only_split_is_refused(datasets_dir: Path) -> None:
    from avu.errors import AvuInputError

    avvp = datasets_dir / "avvp"  # AVVP_train.csv is not among the shipped files

    with pytest.raises(AvuInputError, match="weak labels only"):
        LlpEvaluator(load_references(avvp, "train"))
    from tests.helpers.cli import run_cli

    run = run_cli("evaluate", "--benchmark", "llp", "--predictions", avvp / "nothing.npz", "--annotations", avvp,
                  "--split", "train")
    assert run.code == 2 and "'train' has weak labels only" in run.err and len(run.err.strip().splitlines()) == 1


def test_partial_and_missing(refs) -> None:
    from avu.errors import MissingSamplesError

    references = refs["val"]
    payload = {"global_prob": np.ones((10, 25)), "frame_prob": np.ones((10, 10, 2, 25))}
    ev = LlpEvaluator(references)
    ev.update(references.ids[:10], payload)
    with pytest.raises(MissingSamplesError, match="639 of 649"):
        ev.compute()
    ev = LlpEvaluator(references, allow_partial=True)
    ev.update(references.ids[:10], payload)
    result = ev.compute()
    assert result.partial and result.counts["evaluated"] == 10
