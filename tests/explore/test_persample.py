"""Per-sample values equal the evaluators' own per-sample records, and they add up to the result."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from avu import BENCHMARK_IDS
from avu.benchmarks import dataset_dir, get_spec
from avu.data.synth.baselines import predictions
from avu.explore import persample
from avu.metrics import avsbench as avs_kernels

KINDS = ("oracle", "prior", "chance")


@functools.lru_cache(maxsize=None)
def _run(tiny_suite, benchmark: str, kind: str, shuffle: bool = True):
    """(references, result, records by id, per-sample values) of one baseline; computed once per test process."""
    spec = get_spec(benchmark)
    refs = spec.load_references(dataset_dir(tiny_suite, benchmark), split="test", version=spec.default_annotation_version)
    train = spec.load_references(dataset_dir(tiny_suite, benchmark), split="train", version=spec.default_annotation_version)
    payload = predictions(benchmark, kind, refs, train, np.random.default_rng(1))
    ids = list(refs.ids)
    if shuffle:  # the file's order is not the split's: per-sample values must follow the ids
        perm = np.random.default_rng(2).permutation(len(ids))
        ids = [ids[i] for i in perm]
        payload = persample.take(payload, list(perm))
    evaluator = spec.evaluator(refs)
    evaluator.update(ids, payload)
    result = evaluator.compute()
    records = dict(zip(evaluator.last_ids, evaluator.last_records))
    out = list(persample.samples(benchmark, evaluator, ids, payload))
    return refs, result, records, out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bench", BENCHMARK_IDS)
def test_canonical_order_and_every_sample(tiny_suite, bench, kind):
    refs, _, _, out = _run(tiny_suite, bench, kind)
    assert [s.id for s in out] == list(refs.ids)


@pytest.mark.parametrize("kind", KINDS)
def test_ave_labels_are_the_records_and_average_to_the_accuracy(tiny_suite, kind):
    refs, result, records, out = _run(tiny_suite, "ave", kind)
    for s in out:
        assert s.detail["labels"] == records[s.id].tolist()
        assert s.metric == pytest.approx(np.mean(np.equal(records[s.id], refs.labels[refs.index(s.id)])) * 100)
        assert s.ok == (s.metric == 100.0)
    assert np.mean([s.metric for s in out]) == pytest.approx(result.metrics["accuracy"], abs=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_llp_per_video_f_are_the_records(tiny_suite, kind):
    from avu.metrics.llp import PER_VIDEO_COLUMNS

    _, result, records, out = _run(tiny_suite, "llp", kind)
    for s in out:
        assert [s.detail["scores"][c] for c in PER_VIDEO_COLUMNS] == [v * 100.0 for v in records[s.id]]
        assert s.metric == s.detail["scores"]["segment_audio"]
    assert np.mean([s.metric for s in out]) == pytest.approx(result.metrics["segment_audio"], abs=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_vggss_ciou_is_the_record_and_the_mask_gives_it(tiny_suite, kind):
    _, result, records, out = _run(tiny_suite, "vggss", kind)
    for s in out:
        record = records[s.id]
        assert (s.metric is None and math.isnan(record)) or s.metric == record
        mask, gt = s.layers["mask"], s.layers["gt"]
        assert mask.sum() == s.detail["selected"]  # the drawn mask is the protocol's mask
        assert (mask & gt).sum() / (gt.sum() + (mask & ~gt).sum()) == pytest.approx(record, abs=1e-12)
        assert s.ok == (record >= 0.5)
    assert np.mean([s.ok for s in out]) * 100 == pytest.approx(result.metrics["ciou_ap50"], abs=1e-9)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bench", ["avs_s4", "avs_ms3"])
def test_binary_segmentation_frame_iou_is_the_record_and_the_drawn_mask_gives_it(tiny_suite, bench, kind):
    _, _, records, out = _run(tiny_suite, bench, kind)
    for s in out:
        record = records[s.id]
        assert s.detail["iou"] == [v * 100.0 for v in record["iou"]]
        pred, gt = s.layers["pred"].astype(bool), s.layers["gt"].astype(bool)
        for t in np.flatnonzero(record["nonempty"]):  # the official Jaccard on frames with a GT object
            drawn = (pred[t] & gt[t]).sum() / ((pred[t] | gt[t]).sum() + avs_kernels.IOU_EPS)
            assert drawn == pytest.approx(record["iou"][t], abs=1e-12)
        assert s.metric == pytest.approx(np.mean(record["iou"]) * 100.0, abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_avss_video_miou_is_the_evaluator_reduction_of_its_record(tiny_suite, kind):
    _, _, records, out = _run(tiny_suite, "avss", kind)
    for s in out:
        r = records[s.id]
        expected = avs_kernels.avss_summary(r["iou_sum"], r["f_sum"], r["count"])["miou_present_classes"] * 100.0
        assert s.metric == pytest.approx(expected, abs=1e-12)
        assert len(s.detail["frame_miou"]) == 10


@pytest.mark.parametrize("kind", KINDS)
def test_avqa_answer_is_the_record(tiny_suite, kind):
    refs, result, records, out = _run(tiny_suite, "avqa", kind)
    for s in out:
        assert s.detail["answer"] == records[s.id]
        assert s.ok == (records[s.id] == refs.answers[refs.index(s.id)])
        assert s.truth["question"]
    assert np.mean([s.ok for s in out]) * 100 == pytest.approx(result.metrics["overall"], abs=1e-9)


def test_a_partial_file_gives_the_samples_it_has(tiny_suite):
    spec = get_spec("vggss")
    refs = spec.load_references(dataset_dir(tiny_suite, "vggss"), split="test", version="official")
    train = spec.load_references(dataset_dir(tiny_suite, "vggss"), split="train", version="official")
    payload = persample.take(predictions("vggss", "chance", refs, train, np.random.default_rng(0)), [3, 1])
    ev = spec.evaluator(refs, allow_partial=True)
    out = list(persample.samples("vggss", ev, [refs.ids[3], refs.ids[1]], payload))
    assert [s.id for s in out] == [refs.ids[1], refs.ids[3]]
