"""MUSIC-AVQA evaluator: golden parity with the official test(), oracle agreement, references, formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from avu.data.annotations.avqa import ANSWER_VOCAB, QUESTION_TYPES, load_references, make_references
from avu.errors import AvuInputError
from avu.evaluators.avqa import SPEC, AvqaEvaluator
from avu.metrics import avqa as kernels
from avu.predictions.avqa import read_predictions
from tests.helpers.cli import run_cli
from tests.oracles import avqa as oracle

pytestmark = pytest.mark.avqa

ATOL = 1e-9
#: golden name -> avu metric name
GOLDEN_NAMES = {
    "Audio Counting": "audio_counting", "Audio Cmp": "audio_comparative", "Audio (pooled)": "audio",
    "Visual Counting": "visual_counting", "Visual Loc": "visual_location", "Visual (pooled)": "visual",
    "AV Ext": "av_existential", "AV counting": "av_counting", "AV Loc": "av_location", "AV Cmp": "av_comparative",
    "AV Temporal": "av_temporal", "AV (pooled)": "av", "Overall": "overall",
}
#: case -> (annotation version, protocol, key of the expected values in results.json)
CASES = {
    "random_test_original": ("json", "avqa_pooled", "exact_values_same_grouping_as_official"),
    "perfect_test_original": ("json", "avqa_pooled", "exact_values_same_grouping_as_official"),
    "always_yes_test_original": ("json", "avqa_pooled", "exact_values_same_grouping_as_official"),
    "random_test_json_update_aligned": ("json_update", "avqa_pooled", "exact_values_same_grouping_as_official"),
    "random_test_json_update_OFFICIAL_MISALIGNED": (
        "json_update", "avqa_legacy_json_types", "exact_values_same_grouping_as_official"),
}
MISALIGNED_ALIGNED_KEY = "exact_values_with_ALIGNED_types (what the numbers should be)"


@pytest.fixture(scope="module")
def avqa_dir(datasets_dir: Path) -> Path:
    return datasets_dir / "music_avqa"


@pytest.fixture(scope="module")
def golden_avqa(golden_datasets_dir: Path) -> Path:
    """The official test files, shipped with the golden cases (the rest of the folder is in ../shared)."""
    return golden_datasets_dir / "music_avqa"


@pytest.fixture(scope="module")
def refs(golden_avqa: Path) -> dict[str, object]:
    return {v: load_references(golden_avqa, "test", v) for v in ("json", "json_update")}


@pytest.fixture(scope="module")
def golden(golden_dir: Path) -> tuple[Path, dict]:
    folder = golden_dir / "music_avqa"
    return folder, json.loads((folder / "results.json").read_text())


def _arrays(folder: Path, case: str) -> dict[str, np.ndarray]:
    with np.load(folder / f"{case}.npz") as data:
        return {k: data[k] for k in data.files}


def _check(metrics: dict[str, float], expected: dict) -> None:
    assert set(metrics) == set(GOLDEN_NAMES.values())
    for golden_name, name in GOLDEN_NAMES.items():
        assert abs(metrics[name] - expected[golden_name]) <= ATOL, name


def _n_per_type(extras: dict) -> dict[str, int]:
    return extras["n_per_type"]


# -- golden parity -------------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_evaluator(golden, refs, case: str) -> None:
    folder, results = golden
    version, protocol, key = CASES[case]
    arrays = _arrays(folder, case)
    ref = refs[version]
    assert arrays["target_answer"].tolist() == ref.answers  # GT answers = the official labels
    assert tuple(arrays["ans_vocab"].tolist()) == ANSWER_VOCAB
    np.testing.assert_array_equal(ref.answer_labels(), arrays["target_index"])

    ev = AvqaEvaluator(ref, protocol=protocol)
    ev.update(ref.ids, {"answers": arrays["pred_answer"].tolist()})
    res = ev.compute()
    expected = results[case][key]
    _check(res.metrics, expected)
    assert _n_per_type(res.extras) == expected["n_per_type"]
    assert abs(res.metrics["overall"] - results[case]["return_value(Overall %)"]) <= ATOL
    printed = [line.rsplit(": ", 1)[1] for line in results[case]["printed_by_official_test"]]
    assert printed == [f"{v:.2f} %" for v in res.metrics.values()]  # same 13 numbers, same order
    assert res.primary_metric == "overall"


def test_golden_misaligned_case_under_the_pooled_protocol(golden, refs) -> None:
    folder, results = golden
    case = "random_test_json_update_OFFICIAL_MISALIGNED"
    arrays = _arrays(folder, case)
    ref = refs["json_update"]
    ev = AvqaEvaluator(ref)  # default protocol: the types of the evaluated file itself
    ev.update(ref.ids, {"answers": arrays["pred_answer"].tolist()})
    res = ev.compute()
    expected = results[case][MISALIGNED_ALIGNED_KEY]
    _check(res.metrics, expected)
    assert _n_per_type(res.extras) == expected["n_per_type"]


def test_legacy_protocol_equals_pooled_on_the_original_json(golden, refs) -> None:
    folder, _ = golden
    arrays = _arrays(folder, "random_test_original")
    out = []
    for protocol in ("avqa_pooled", "avqa_legacy_json_types"):
        ev = AvqaEvaluator(refs["json"], protocol=protocol)
        ev.update(refs["json"].ids, {"answers": arrays["pred_answer"].tolist()})
        out.append(ev.compute().metrics)
    assert out[0] == out[1]


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_kernels_from_indices(golden, refs, case: str) -> None:
    folder, results = golden
    version, protocol, key = CASES[case]
    arrays = _arrays(folder, case)
    types = refs[version].type_index
    if protocol == "avqa_legacy_json_types":
        types = refs["json"].type_index[: len(types)]
    _check(kernels.avqa_accuracies_from_indices(arrays["pred_index"], arrays["target_index"], types),
           results[case][key])


def test_golden_through_cli_with_answer_index(golden, golden_avqa: Path, refs, tmp_path: Path) -> None:
    folder, results = golden
    arrays = _arrays(folder, "random_test_original")
    ref = refs["json"]
    # a model with its own vocabulary order: indices must be mapped by string
    perm = np.random.default_rng(0).permutation(len(ANSWER_VOCAB))
    vocab = np.array(ANSWER_VOCAB)[perm]
    inverse = np.argsort(perm)
    pred = tmp_path / "pred.npz"
    np.savez(pred, ids=np.array(ref.ids), answer_index=inverse[arrays["pred_index"]], ans_vocab=vocab)
    out = tmp_path / "out.json"
    run = run_cli("evaluate", "--benchmark", "avqa", "--predictions", pred, "--annotations", golden_avqa,
                  "--annotation-version", "json", "--output", out)
    assert run.code == 0, run.err
    doc = json.loads(out.read_text())
    _check(doc["metrics"], results["random_test_original"]["exact_values_same_grouping_as_official"])
    assert doc["annotation_version"] == "json" and doc["counts"]["evaluated"] == 9185
    assert doc["primary_metric"] == "overall"


# -- oracle agreement ----------------------------------------------------------------------------

def _random_split(rng: np.random.Generator, n: int, n_types: int = 9):
    types = rng.integers(0, n_types, n)
    answers = rng.choice(ANSWER_VOCAB, n).tolist()
    refs = make_references(rng.permutation(10 * n)[:n], [f"{i:08d}" for i in range(n)], types, answers)
    preds = [a if rng.random() < 0.6 else str(rng.choice(ANSWER_VOCAB)) for a in answers]
    preds[0] = "not an answer"
    rows = [{"type": json.dumps(list(QUESTION_TYPES[t])), "anser": a} for t, a in zip(types, answers)]
    return refs, preds, rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_equals_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    refs, preds, rows = _random_split(rng, 500)
    ev = AvqaEvaluator(refs)
    ev.update(refs.ids, {"answers": preds})
    res = ev.compute()
    want = oracle.official_test(rows, preds)
    assert res.metrics.keys() == want.keys()
    for k in want:
        assert abs(res.metrics[k] - want[k]) <= 1e-9, k
    assert res.extras["out_of_vocab_answers"] == 1


def test_empty_types_are_left_out() -> None:
    rng = np.random.default_rng(5)
    refs, preds, rows = _random_split(rng, 50, n_types=3)  # only audio_* and visual_counting
    ev = AvqaEvaluator(refs)
    ev.update(refs.ids, {"answers": preds})
    metrics = ev.compute().metrics
    assert set(metrics) == {"audio_counting", "audio_comparative", "audio", "visual_counting", "visual", "overall"}
    assert metrics == pytest.approx(oracle.official_test(rows, preds), abs=1e-12)


def test_modalities_are_pooled_not_averaged() -> None:
    # Audio Counting 1/1 right, Audio Comparative 0/3 -> pooled 25 %, not the mean 50 %
    refs = make_references([1, 2, 3, 4], ["v"] * 4, [0, 1, 1, 1], ["two", "yes", "yes", "yes"])
    ev = AvqaEvaluator(refs)
    ev.update(refs.ids, {"answers": ["two", "no", "no", "no"]})
    m = ev.compute().metrics
    assert m["audio_counting"] == 100.0 and m["audio_comparative"] == 0.0 and m["audio"] == 25.0


# -- references ----------------------------------------------------------------------------------

def test_reference_counts(avqa_dir: Path, refs) -> None:
    assert len(refs["json"]) == 9185 and len(refs["json_update"]) == 9129
    assert len(load_references(avqa_dir, "val", "json")) == 4595
    assert len(load_references(avqa_dir, "val", "json_update")) == 4568
    assert len(ANSWER_VOCAB) == 42 and len(set(ANSWER_VOCAB)) == 42
    assert len(QUESTION_TYPES) == len(kernels.TYPE_NAMES) == 9
    counts = np.bincount(refs["json"].type_index, minlength=9).tolist()
    assert counts == [1022, 601, 1199, 1228, 995, 1274, 927, 1115, 824]
    assert len(set(refs["json"].answers)) == 41 and set(refs["json"].answers) <= set(ANSWER_VOCAB)
    assert len(set(refs["json"].video_ids)) == 6399
    assert SPEC.default_annotation_version == "json_update"


def test_vocab_matches_the_dump(avqa_dir: Path) -> None:
    lines = (avqa_dir / "dg_sct" / "ans_vocab.txt").read_text().splitlines()
    assert tuple(line for line in lines if line) == ANSWER_VOCAB


def test_duplicate_questions_get_suffixes(refs) -> None:
    orig = refs["json"]
    suffixed = [i for i in orig.ids if "#" in i]
    assert len(suffixed) == 55 and all(s.endswith("#2") for s in suffixed)
    first, second = orig.index("1138"), orig.index("1138#2")
    assert first < second
    assert orig.video_ids[first] == orig.video_ids[second] == "00005778"
    assert {orig.answers[first], orig.answers[second]} == {"two", "four"}
    assert not any("#" in i for i in refs["json_update"].ids)
    assert refs["json_update"].ids == [str(q) for q in refs["json_update"].question_ids]


def test_samples_for_loaders(refs) -> None:
    s = refs["json"].sample(0)
    assert s.id == "12" and s.video_id == "00000093" and s.type == ("Audio", "Counting")
    assert s.answer_label == ANSWER_VOCAB.index(s.answer)
    templated = next(x for x in refs["json"].samples() if x.templ_values)
    assert "<" not in templated.question and all(v in templated.question for v in templated.templ_values)


def test_reading_a_file_directly(avqa_dir: Path, refs) -> None:
    direct = load_references(avqa_dir / "json_update" / "avqa-test.json", "test", "json_update")
    assert direct.ids == refs["json_update"].ids and direct.root == avqa_dir
    with pytest.raises(AvuInputError, match="annotation version 'json_update', not 'json'"):
        load_references(avqa_dir / "json_update" / "avqa-test.json", "test", "json")
    with pytest.raises(AvuInputError, match="'val' split"):
        load_references(avqa_dir / "json" / "avqa-val.json", "test", "json")
    with pytest.raises(AvuInputError, match="json_update/avqa-train.json not found"):
        load_references(avqa_dir, "train", "json_update")


def test_bad_annotations(tmp_path: Path) -> None:
    folder = tmp_path / "json_update"
    folder.mkdir()
    good = {"video_id": "1", "question_id": 1, "type": '["Audio", "Counting"]', "anser": "two",
            "question_content": "How many?", "templ_values": "[]", "question_deleted": 0}
    cases = {
        "unknown question type": {**good, "type": '["Audio", "Temporal"]'},
        "not a list literal": {**good, "type": "[Audio"},
        "anser: field missing": {k: v for k, v in good.items() if k != "anser"},
        "question_id: must be an integer": {**good, "question_id": "1"},
    }
    for message, row in cases.items():
        (folder / "avqa-test.json").write_text(json.dumps([good, row]))
        with pytest.raises(AvuInputError, match=message) as err:
            load_references(tmp_path, "test")
        assert "row 1" in str(err.value)


# -- formats -------------------------------------------------------------------------------------

def test_json_forms_read_the_same(refs, tmp_path: Path) -> None:
    ref = refs["json_update"]
    rng = np.random.default_rng(1)
    answers = rng.choice(ANSWER_VOCAB, len(ref)).tolist()
    forms = {
        "object": {sid: {"answer": a} for sid, a in zip(ref.ids, answers)},
        "plural_key": {sid: {"answers": a} for sid, a in zip(ref.ids, answers)},
        "bare": dict(zip(ref.ids, answers)),
    }
    got = []
    for name, preds in forms.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"benchmark": "avqa", "predictions": preds}))
        got.append(read_predictions(path, ref))
    vocab = list(reversed(ANSWER_VOCAB))
    path = tmp_path / "index.json"
    path.write_text(json.dumps({"benchmark": "avqa", "ans_vocab": vocab, "predictions": {
        sid: {"answer_index": vocab.index(a)} for sid, a in zip(ref.ids, answers)}}))
    got.append(read_predictions(path, ref))
    npz = tmp_path / "p.npz"
    np.savez(npz, ids=np.array(ref.ids), answers=np.array(answers))
    got.append(read_predictions(npz, ref))
    for ids, payload in got:
        assert ids == ref.ids and payload == {"answers": answers}


def test_subset(refs) -> None:
    ref = refs["json"]
    sub = ref.subset([3, 1])
    assert sub.ids == [ref.ids[3], ref.ids[1]] and sub.answers == [ref.answers[3], ref.answers[1]]
    assert sub.sample(0) == ref.sample(3)
