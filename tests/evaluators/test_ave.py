"""AVE evaluator: golden parity with the official code, oracle agreement, references, formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from avu.data.annotations import ave as annotations
from avu.data.annotations.ave import AVE_CLASSES, load_references, make_references
from avu.errors import AvuInputError
from avu.evaluators.ave import SPEC, AveEvaluator
from avu.metrics import ave as kernels
from avu.predictions.ave import read_predictions
from tests.helpers.cli import run_cli
from tests.oracles import ave as oracle

pytestmark = pytest.mark.ave

ATOL = 1e-9
CASES = ("random_test402", "perfect", "all_background_pred", "all_zero_scores_ties", "gt_all_background_small")
ARGMAX_KEYS = ("AVE-ECCV18.supervised_main.compute_acc", "PSP.measure.compute_acc")
GATE_KEYS = (
    "CMRAN.supv_main.compute_accuracy_supervised(full batch)",
    "CMBS.supv_main.compute_accuracy_supervised(full batch)",
    "CMRAN.weakly_main.compute_accuracy_supervised(full batch)",
    "CMRAN.supv_main.validate_epoch AverageMeter(bs=16, weight=bs*10)",
    "CMRAN.weakly_main.validate_epoch AverageMeter(bs=16, weight=bs)",
)
WEAK_KEYS = (
    "CMRAN.weakly_main.compute_accuracy_weak(time-first scores)",
    "CMBS.weakly_main.compute_accuracy_weak(time-first scores)",
)


@pytest.fixture(scope="module")
def ave_dir(datasets_dir: Path) -> Path:
    return datasets_dir / "ave"


@pytest.fixture(scope="module")
def test_refs(ave_dir: Path):
    return load_references(ave_dir, "test")


def _case(golden_dir: Path, name: str) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(golden_dir / "ave" / f"{name}.npz") as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, json.loads((golden_dir / "ave" / f"{name}.json").read_text())


def _case_refs(arrays: dict[str, np.ndarray]):
    """References rebuilt from the case's recorded official labels (one event window per clip).

    AVE's annotation files state no licence, so they are not shipped with the tests; that the
    reader rebuilds these labels from the real files is checked by test_golden_labels_are_the_split.
    """
    gt = arrays["labels"].argmax(-1)
    event = gt != annotations.BACKGROUND
    has = event.any(axis=1)
    starts = np.where(has, event.argmax(axis=1), 0)
    ends = np.where(has, annotations.NUM_SEGMENTS - event[:, ::-1].argmax(axis=1), 0)
    categories = np.where(has, gt[np.arange(len(gt)), starts], 0)  # category irrelevant when all background
    return make_references([f"golden{i}" for i in range(len(gt))], categories, starts, ends)


def _write_dataset(refs, folder: Path) -> Path:
    """An AVE folder in the official git layout (Annotations.txt + test_order.h5) holding ``refs``."""
    import h5py

    folder.mkdir()
    lines = [f"{AVE_CLASSES[c]}&{v}&good&{s}&{e}" for c, v, s, e in zip(refs.categories, refs.ids, refs.starts, refs.ends)]
    (folder / "Annotations.txt").write_text("\n".join(lines) + "\n")
    with h5py.File(folder / "test_order.h5", "w") as f:
        f["order"] = np.arange(len(lines))
    return folder


# -- golden parity -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_golden_kernels(golden_dir: Path, name: str) -> None:
    arrays, expected = _case(golden_dir, name)
    gt = arrays["labels"]
    frac = kernels.segment_accuracy(arrays["x_labels"], gt)
    gate = kernels.event_gate_accuracy(arrays["is_event_scores"], arrays["event_scores"], gt)
    weak = kernels.weak_accuracy_time_first(arrays["weak_event_scores_time_first"], gt)
    for key in ARGMAX_KEYS:
        assert abs(frac - expected[key]) <= ATOL, key
    for key in GATE_KEYS:
        assert abs(gate - expected[key]) <= ATOL, key
    for key in WEAK_KEYS:
        assert abs(weak - expected[key]) <= ATOL, key


@pytest.mark.parametrize("name", CASES)
def test_golden_evaluator(golden_dir: Path, name: str) -> None:
    arrays, expected = _case(golden_dir, name)
    refs = _case_refs(arrays)
    np.testing.assert_array_equal(refs.one_hot(), arrays["labels"])  # one event window per clip, as recorded
    ids = refs.ids

    ev = AveEvaluator(refs)
    ev.update(ids, {"scores": arrays["x_labels"]})
    res = ev.compute()
    assert res.protocol["key"] == "ave_argmax.v1"
    assert abs(res.metrics["accuracy"] - 100 * expected[ARGMAX_KEYS[0]]) <= ATOL
    assert res.extras["segments"] == 10 * len(ids)

    weak = AveEvaluator(refs)
    weak.update(ids, {"scores": np.transpose(arrays["weak_event_scores_time_first"], (1, 0, 2))})
    assert abs(weak.compute().metrics["accuracy"] - expected[WEAK_KEYS[0]]) <= ATOL

    gate = AveEvaluator(refs, protocol="ave_event_gate")
    gate.update(ids, {"is_event": arrays["is_event_scores"], "event_scores": arrays["event_scores"]})
    assert abs(gate.compute().metrics["accuracy"] - expected[GATE_KEYS[0]]) <= ATOL


@pytest.mark.parametrize("protocol", ["ave_argmax", "ave_event_gate"])
def test_golden_through_cli(golden_dir: Path, tmp_path: Path, protocol: str) -> None:
    arrays, expected = _case(golden_dir, "random_test402")
    refs = _case_refs(arrays)
    ave_dir = _write_dataset(refs, tmp_path / "ave")
    pred = tmp_path / "pred.npz"
    np.savez(pred, ids=np.array(refs.ids), benchmark=np.array("ave"), scores=arrays["x_labels"],
             is_event=arrays["is_event_scores"], event_scores=arrays["event_scores"])
    out = tmp_path / "out.json"
    run = run_cli("evaluate", "--benchmark", "ave", "--predictions", pred, "--annotations", ave_dir,
                  "--protocol", protocol, "--output", out)
    assert run.code == 0, run.err
    doc = json.loads(out.read_text())
    want = 100 * expected[ARGMAX_KEYS[0]] if protocol == "ave_argmax" else expected[GATE_KEYS[0]]
    assert abs(doc["metrics"]["accuracy"] - want) <= ATOL
    assert doc["annotation_version"] == "official" and doc["counts"]["evaluated"] == 402


def test_golden_labels_are_the_split(golden_dir: Path, test_refs) -> None:
    """The reader rebuilds, from the real files, the test order and labels the golden cases recorded."""
    arrays, _ = _case(golden_dir, "random_test402")
    np.testing.assert_array_equal(test_refs.rows, arrays["test_order"])
    np.testing.assert_array_equal(test_refs.one_hot(), arrays["labels"])


# -- oracle agreement ----------------------------------------------------------------------------

def _random_inputs(rng: np.random.Generator, n: int):
    labels = rng.integers(0, 29, size=(n, 10))
    scores = rng.normal(size=(n, 10, 29))
    # make many predictions right, and include exact ties (lowest index must win)
    hit = rng.random((n, 10)) < 0.5
    np.put_along_axis(scores, labels[..., None], np.where(hit, 5.0, scores.min() - 1)[..., None], axis=-1)
    scores[0, 0, :] = 1.0
    is_event = rng.normal(size=(n, 10)) * 2
    is_event[0, :3] = [0.0, 1e-300, -1e-300]  # the strict gate: sigmoid exactly 0.5 -> background
    event_scores = rng.normal(size=(n, 28))
    event_scores[1, :] = 0.0
    return labels, scores, is_event, event_scores


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_equals_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    labels, scores, is_event, event_scores = _random_inputs(rng, n)
    one_hot = np.eye(29)[labels]
    assert abs(kernels.segment_accuracy(scores, one_hot) - oracle.compute_acc(one_hot, scores)) <= 1e-12
    assert abs(kernels.event_gate_accuracy(is_event, event_scores, labels)
               - oracle.compute_accuracy_supervised(labels, is_event, event_scores)) <= 1e-9

    cats = rng.integers(0, 28, n)
    starts = rng.integers(0, 11, n)
    ends = np.minimum(starts + rng.integers(0, 11, n), 10)
    refs = make_references([f"v{i:03d}" for i in range(n)], cats, starts, ends)
    ev = AveEvaluator(refs)
    ev.update(refs.ids, {"scores": scores})
    assert abs(ev.compute().metrics["accuracy"] - 100 * oracle.compute_acc(refs.labels, scores)) <= 1e-9
    ev = AveEvaluator(refs, "ave_event_gate")
    ev.update(refs.ids, {"is_event": is_event, "event_scores": event_scores})
    want = oracle.compute_accuracy_supervised(refs.labels, is_event, event_scores)
    assert abs(ev.compute().metrics["accuracy"] - want) <= 1e-9


def test_event_gate_is_strict_and_in_logit_precision() -> None:
    gate = kernels.event_gate
    assert gate(np.array([[0.0, -1.0, 1.0]])).tolist() == [[False, False, True]]
    # sigmoid(1e-8) rounds to 0.5 in float32 (background) but not in float64 (event)
    assert gate(np.array([[1e-8]], np.float32)).tolist() == [[False]]
    assert gate(np.array([[1e-8]], np.float64)).tolist() == [[True]]


def test_labels_payload_equals_scores_payload(test_refs) -> None:
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(len(test_refs), 10, 29)).astype(np.float32)
    a, b = AveEvaluator(test_refs), AveEvaluator(test_refs)
    a.update(test_refs.ids, {"scores": scores})
    b.update(test_refs.ids, {"labels": scores.argmax(-1)})
    assert a.compute().metrics == b.compute().metrics


def test_protocol_needs_its_fields(test_refs) -> None:
    ev = AveEvaluator(test_refs, "ave_event_gate")
    with pytest.raises(AvuInputError, match="is_event"):
        ev.update(test_refs.ids[:2], {"scores": np.zeros((2, 10, 29))})
    ev = AveEvaluator(test_refs)
    with pytest.raises(AvuInputError, match="scores"):
        ev.update(test_refs.ids[:2], {"is_event": np.zeros((2, 10)), "event_scores": np.zeros((2, 28))})


# -- references ----------------------------------------------------------------------------------

def test_reference_counts(ave_dir: Path) -> None:
    rows = annotations.read_annotations(ave_dir / "Annotations.txt")
    assert len(rows) == 4143
    assert len({r.video_id for r in rows}) == 4097
    sizes = {s: len(load_references(ave_dir, s)) for s in ("train", "val", "test")}
    assert sizes == {"train": 3339, "val": 402, "test": 402}


def test_test_ids_are_youtube_ids(test_refs) -> None:
    assert len(set(test_refs.video_ids)) == 402
    assert test_refs.ids == test_refs.video_ids
    assert SPEC.default_annotation_version == "official" and test_refs.annotation_version == "official"


def test_repeated_ids_are_suffixed(ave_dir: Path) -> None:
    val = load_references(ave_dir, "val")
    suffixed = [i for i in val.ids if "#" in i]
    assert suffixed == ["3tsi7DKGrWQ#2"]
    first, second = val.index("3tsi7DKGrWQ"), val.index("3tsi7DKGrWQ#2")
    assert first < second and val.video_ids[second] == "3tsi7DKGrWQ"
    assert val.categories[first] != val.categories[second]
    train = load_references(ave_dir, "train")
    assert sum("#" in i for i in train.ids) == 27 and len(set(train.ids)) == 3339


def test_labels_match_official_label_files(ave_dir: Path) -> None:
    import h5py

    with h5py.File(ave_dir / "labels_closs.h5", "r") as f:
        event_mask = f["avadataset"][()]
    with h5py.File(ave_dir / "mil_labels.h5", "r") as f:
        mil = f["avadataset"][()]
    for split in ("train", "val", "test"):
        refs = load_references(ave_dir, split)
        np.testing.assert_array_equal(refs.labels != annotations.BACKGROUND, event_mask[refs.rows] == 1)
        np.testing.assert_array_equal(refs.categories, mil[refs.rows].argmax(-1))
    zero = [s for s in load_references(ave_dir, "train").samples() if s.start == s.end]
    zero += [s for split in ("val", "test") for s in load_references(ave_dir, split).samples() if s.start == s.end]
    assert len(zero) == 1 and (zero[0].labels == 28).all() and zero[0].row == 26


def test_class_list_matches_categories_file(ave_dir: Path) -> None:
    lines = (ave_dir / "dataset_zip" / "categories.txt").read_text().splitlines()
    assert tuple(lines) == AVE_CLASSES


def test_header_and_set_files_give_the_same_split(ave_dir: Path, test_refs, tmp_path: Path) -> None:
    # zip layout only: headered Annotations.txt + testSet.txt, no .h5 order files
    for name in ("Annotations.txt", "testSet.txt", "valSet.txt"):
        (tmp_path / name).write_bytes((ave_dir / "dataset_zip" / name).read_bytes())
    zipped = load_references(tmp_path, "test")
    assert zipped.ids == test_refs.ids
    np.testing.assert_array_equal(zipped.rows, test_refs.rows)
    np.testing.assert_array_equal(zipped.labels, test_refs.labels)
    val = load_references(tmp_path, "val")
    np.testing.assert_array_equal(val.rows, load_references(ave_dir, "val").rows)
    # the headered file given directly, split from the .h5 beside the dataset folder
    direct = load_references(ave_dir / "dataset_zip" / "Annotations.txt", "test")
    assert direct.ids == test_refs.ids


def test_bad_annotations(tmp_path: Path, ave_dir: Path) -> None:
    lines = (ave_dir / "Annotations.txt").read_text().splitlines()
    (tmp_path / "test_order.h5").write_bytes((ave_dir / "test_order.h5").read_bytes())
    bad = tmp_path / "Annotations.txt"
    bad.write_text("\n".join(lines[:5] + ["Kazoo&abc&good&0&10"] + lines[6:]) + "\n")
    with pytest.raises(AvuInputError, match=r"line 6: unknown AVE category"):
        load_references(tmp_path, "test")
    bad.write_text("\n".join(lines[:3] + ["Bark&abc&good&4&11"] + lines[4:]) + "\n")
    with pytest.raises(AvuInputError, match=r"line 4: need 0 <= StartTime"):
        load_references(tmp_path, "test")
    bad.write_text("\n".join(lines) + "\n")
    assert len(load_references(tmp_path, "test")) == 402
    with pytest.raises(AvuInputError, match="no train_order.h5 or trainSet.txt"):
        load_references(tmp_path, "train")
    with pytest.raises(AvuInputError, match="unknown AVE split"):
        load_references(ave_dir, "dev")


def test_subset_and_samples(test_refs) -> None:
    sub = test_refs.subset([5, 0, 7])
    assert sub.ids == [test_refs.ids[5], test_refs.ids[0], test_refs.ids[7]]
    np.testing.assert_array_equal(sub.labels[1], test_refs.labels[0])
    s = next(iter(test_refs.samples()))
    assert s.id == test_refs.ids[0] and s.category_name == AVE_CLASSES[s.category]


# -- formats -------------------------------------------------------------------------------------

def test_json_and_npz_read_the_same(test_refs, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = len(test_refs)
    scores = rng.normal(size=(n, 10, 29))
    is_event = rng.normal(size=(n, 10)).astype(np.float32)
    event_scores = rng.normal(size=(n, 28))
    npz = tmp_path / "p.npz"
    np.savez(npz, ids=np.array(test_refs.ids), scores=scores, is_event=is_event, event_scores=event_scores)
    js = tmp_path / "p.json"
    js.write_text(json.dumps({"benchmark": "ave", "predictions": {
        sid: {"scores": scores[i].tolist(), "is_event": is_event[i].tolist(), "event_scores": event_scores[i].tolist()}
        for i, sid in enumerate(test_refs.ids)}}))
    ids_a, pa = read_predictions(npz, test_refs)
    ids_b, pb = read_predictions(js, test_refs)
    assert ids_a == ids_b == test_refs.ids
    assert pa["is_event"].dtype == np.float32 and pb["is_event"].dtype == np.float64
    np.testing.assert_array_equal(pa["scores"], pb["scores"])
    np.testing.assert_array_equal(pa["is_event"], pb["is_event"].astype(np.float32))


# -- accumulation ----------------------------------------------------------------------------

def test_duplicates_unknown_ids_and_tensors(test_refs) -> None:
    import torch

    ids = test_refs.ids[:3]
    labels = np.zeros((3, 10), np.int64)
    ev = AveEvaluator(test_refs, allow_partial=True)
    ev.update(ids, {"labels": torch.from_numpy(labels)})  # torch tensors are accepted as batch payloads
    ev.update(ids[:1], {"labels": labels[:1]})  # an identical repeat (sampler padding) is fine
    with pytest.raises(AvuInputError, match="conflicting duplicate"):
        ev.update(ids[:1], {"labels": labels[:1] + 1})
    with pytest.raises(AvuInputError, match="conflicting duplicate"):
        AveEvaluator(test_refs).update([ids[0], ids[0]], {"labels": np.stack([labels[0], labels[0] + 1])})
    with pytest.raises(AvuInputError, match="sample 'nope'"):
        ev.update([ids[0], "nope"], {"labels": labels[:2]})
    res = ev.compute()
    assert res.partial and res.counts == {"expected": 402, "evaluated": 3, "missing": 399}
    want = 100 * np.mean(test_refs.labels[:3] == 0)
    assert res.metrics["accuracy"] == pytest.approx(want, abs=1e-12)
