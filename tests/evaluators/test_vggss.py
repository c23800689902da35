"""VGG-SS: annotations, golden parity with the official LVS and EZ-VSL chains, edge cases, oracle agreement."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from avu.data.annotations.vggss import flickr_gt_map, load_references, parse_flickr_xml
from avu.errors import AvuInputError
from avu.evaluators.vggss import VggssEvaluator
from avu.metrics import vggss as kernels
from tests.oracles import vggss as oracle

pytestmark = pytest.mark.vggss

FLOAT64_TOL = 1e-9
PIPELINES = {"lvs": ("cv2_linear", "lvs"), "ezvsl": ("bilinear_align_corners", "ezvsl")}
EMPTY_GT_ID = "MKC9LvRivTM_000030"


@pytest.fixture(scope="module")
def refs(golden_datasets_dir: Path):
    return load_references(golden_datasets_dir / "vggss")  # the official files, shipped with the golden cases


@pytest.fixture(scope="module")
def golden(golden_dir: Path):
    folder = golden_dir / "vggss"
    heat = np.load(folder / "vggss_heatmaps14.npz")
    return {
        "names": [str(n) for n in heat["names"]],
        "heatmaps": heat["heatmap14"],
        "pipelines": json.loads((folder / "vggss_pipelines.json").read_text()),
        "edge": json.loads((folder / "ciou_edge_cases.json").read_text()),
        "edge_arrays": dict(np.load(folder / "ciou_edge_cases.npz")),
    }


def golden_value(block: dict, prefix: str):
    """A golden entry by the start of its (descriptive) key."""
    (key,) = [k for k in block if k.startswith(prefix)]
    return block[key]


def nan_floats(values) -> np.ndarray:
    return np.array([np.nan if v == "NaN" else v for v in values], dtype=np.float64)


# -- annotations ---------------------------------------------------------------------------------


def test_test_split_counts(refs, datasets_dir: Path) -> None:
    csv_ids = [line.strip() for line in (datasets_dir / "vggss" / "vggss_test.csv").read_text().splitlines() if line.strip()]
    assert len(refs) == 5158 and refs.ids == csv_ids
    assert len(set(refs.classes)) == 221
    assert int(refs.box_counts.sum()) == sum(len(b) for b in refs.boxes)
    assert int((refs.box_counts == 1).sum()) == 4619 and int(refs.box_counts.max()) == 7
    assert set(refs.files) == {"vggss.json", "vggss_test.csv"} and refs.annotation_version == "official"


def test_json_file_directly_gives_the_same_split(refs, datasets_dir: Path) -> None:
    direct = load_references(datasets_dir / "vggss" / "vggss.json")
    assert direct.ids == refs.ids and np.array_equal(direct.pixel_boxes, refs.pixel_boxes)


def test_ezvsl_heard_and_unheard_splits(datasets_dir: Path) -> None:
    heard = load_references(datasets_dir / "vggss", split="heard_test")
    unheard = load_references(datasets_dir / "vggss", split="unheard_test")
    assert (len(heard), len(unheard)) == (2564, 2575)
    assert not set(heard.ids) & set(unheard.ids)


def test_unknown_split_and_version_are_one_line_errors(datasets_dir: Path) -> None:
    with pytest.raises(AvuInputError, match="no 'val' split file"):
        load_references(datasets_dir / "vggss", split="val")
    with pytest.raises(AvuInputError, match="unknown version"):
        load_references(datasets_dir / "vggss", version="2099")


def test_corrupt_boxes_clip_as_officially(refs, golden) -> None:
    cases = golden["edge"]["vggss_negative_coordinate_files"]
    assert len(cases) == 12
    for name, case in cases.items():
        raw = refs.boxes_of(name)
        assert np.array_equal(raw, np.array(case["bbox"])) and raw.min() < -1e16
        row = refs.index(name)
        assert refs.pixel_boxes[row, : refs.box_counts[row]].tolist() == case["boxes_EZVSL"]
        assert refs.gt_map(name).sum() == case["gt_area_LVS"]
    assert refs.gt_map(EMPTY_GT_ID).sum() == 0


def test_vectorised_gt_maps_equal_both_official_builders(refs, golden) -> None:
    assert golden["pipelines"]["gt_map_LVS_equals_EZVSL_for_all_samples"] is True
    rows = np.array([refs.index(n) for n in golden["names"]])
    maps = refs.gt_maps(rows)
    for name, gt in zip(golden["names"], maps):
        boxes = refs.boxes_of(name)
        assert np.array_equal(gt, oracle.bbox2gtmap(boxes) > 0)
        assert np.array_equal(gt, oracle.lvs_gt_map(boxes) > 0)


# -- golden: both official pipelines on 252 real ids -------------------------------------------------


@pytest.fixture(scope="module")
def golden_results(refs, golden):
    rows = np.array([refs.index(n) for n in golden["names"]])
    out = {}
    for name, (upsampling, rule) in PIPELINES.items():
        out[name] = kernels.localization_ciou(golden["heatmaps"], refs.gt_maps(rows), upsampling, rule)
    return out


def test_golden_lvs_per_sample(golden, golden_results) -> None:
    block = golden["pipelines"]["LVS_hche11"]
    expected = np.array(golden_value(block, "per_sample"), dtype=np.float64)
    ciou, inter, den = golden_results["lvs"]
    assert np.array_equal(inter, expected[:, 1]) and np.array_equal(den, expected[:, 2])
    np.testing.assert_allclose(ciou, expected[:, 0], rtol=0, atol=FLOAT64_TOL)


def test_golden_lvs_dataset_scores(golden, golden_results) -> None:
    block = golden["pipelines"]["LVS_hche11"]
    ciou = golden_results["lvs"][0]
    assert abs(kernels.ciou_ap50(ciou) - golden_value(block, "cIoU@0.5")) <= FLOAT64_TOL
    assert abs(kernels.auc(ciou) - golden_value(block, "AUC")) <= FLOAT64_TOL
    np.testing.assert_allclose(kernels.success_curve(ciou), block["success_rate_curve"], rtol=0, atol=FLOAT64_TOL)


def test_golden_ezvsl_per_sample_and_scores(golden, golden_results) -> None:
    block = golden["pipelines"]["EZVSL"]
    ciou = golden_results["ezvsl"][0]
    np.testing.assert_allclose(ciou, block["per_sample_ciou"], rtol=0, atol=FLOAT64_TOL)
    assert abs(kernels.ciou_ap50(ciou) - golden_value(block, "AP50")) <= FLOAT64_TOL
    assert abs(kernels.ciou_mean(ciou) - golden_value(block, "Avg-cIoU")) <= FLOAT64_TOL
    assert abs(kernels.auc(ciou) - golden_value(block, "AUC")) <= FLOAT64_TOL


@pytest.mark.parametrize("protocol", ["lvs", "ezvsl"])
def test_golden_through_the_evaluator_in_percent(refs, golden, protocol: str) -> None:
    subset = refs.subset(golden["names"])
    evaluator = VggssEvaluator(subset, protocol=protocol)
    evaluator.update(golden["names"], {"heatmaps": golden["heatmaps"]})
    result = evaluator.compute()
    block = golden["pipelines"]["LVS_hche11" if protocol == "lvs" else "EZVSL"]
    ap50 = golden_value(block, "cIoU@0.5" if protocol == "lvs" else "AP50")
    assert result.primary_metric == "ciou_ap50" and result.protocol["name"] == protocol
    assert abs(result.metrics["ciou_ap50"] - 100 * ap50) <= 1e-7
    assert abs(result.metrics["auc"] - 100 * golden_value(block, "AUC")) <= 1e-7
    if protocol == "ezvsl":
        assert abs(result.metrics["ciou_mean"] - 100 * golden_value(block, "Avg-cIoU")) <= 1e-7
    else:
        np.testing.assert_allclose(result.extras["success_curve"], block["success_rate_curve"], rtol=0, atol=FLOAT64_TOL)


@pytest.mark.parametrize("protocol", ["lvs", "ezvsl"])
def test_results_record_the_opencv_version(refs, golden, tmp_path: Path, protocol: str) -> None:
    from avu.scoring import result_document

    subset = refs.subset(golden["names"][:3])
    evaluator = VggssEvaluator(subset, protocol=protocol)
    evaluator.update(subset.ids, {"heatmaps": golden["heatmaps"][:3]})
    result = evaluator.compute()
    assert result.provenance == {"opencv": cv2.__version__}
    doc = result_document(result, tmp_path / "preds.npz", subset)
    assert doc["provenance"]["opencv"] == cv2.__version__ and "git" in doc["provenance"]


def test_the_two_protocols_differ_on_real_ids(golden_results) -> None:
    """Guards against one chain silently standing in for the other."""
    assert not np.array_equal(golden_results["lvs"][0], golden_results["ezvsl"][0])


# -- golden: cal_CIOU edge cases -------------------------------------------------------------------

EDGE_CASES = ["perfect_binary", "empty_pred", "empty_gt_nonempty_pred", "empty_gt_empty_pred_nan", "flickr_style_soft_gt"]


@pytest.mark.parametrize("case", EDGE_CASES)
def test_golden_cal_ciou_edge_cases(golden, case: str) -> None:
    expected = golden["edge"][case]
    pred = golden["edge_arrays"][f"{case}_pred"][None].astype(np.float64)
    gt = golden["edge_arrays"][f"{case}_gt"][None].astype(np.float64)
    if case != "flickr_style_soft_gt":  # binary GT takes the boolean path too
        assert set(np.unique(gt)) <= {0.0, 1.0}
        gt_forms = [gt, gt > 0]
    else:
        gt_forms = [gt]
    lvs = nan_floats(golden_value(expected, "LVS"))
    ez = nan_floats(golden_value(expected, "EZVSL"))
    thr = kernels.median_threshold(pred)
    assert thr[0] == expected["median_thr"]
    for g in gt_forms:
        got_lvs = np.concatenate(kernels.ciou_terms(pred >= 0.5, g))  # [ciou, inter, den]
        got_ez = np.concatenate(kernels.ciou_terms(pred >= thr[:, None, None], g))
        np.testing.assert_allclose(got_lvs, lvs, rtol=0, atol=FLOAT64_TOL, equal_nan=True)
        np.testing.assert_allclose(got_ez, ez, rtol=0, atol=FLOAT64_TOL, equal_nan=True)
    assert np.isnan(lvs[0]) == (case == "empty_gt_empty_pred_nan")


def test_golden_constant_and_tied_heatmaps(golden) -> None:
    edge, arrays = golden["edge"], golden["edge_arrays"]
    gt = arrays["box_gt"][None] > 0
    for name in ("constant", "tied"):
        heat = arrays[f"{name}_heatmap14"][None]
        lvs = kernels.ciou_terms(kernels.infer_masks(heat, "cv2_linear", "lvs"), gt)
        expected = golden_value(edge, f"{name}_heatmap_LVS_pipeline")
        np.testing.assert_allclose(np.concatenate(lvs), expected, rtol=0, atol=FLOAT64_TOL)
    constant_ez = kernels.ciou_terms(kernels.infer_masks(arrays["constant_heatmap14"][None], "bilinear_align_corners", "ezvsl"), gt)
    assert abs(constant_ez[0][0] - edge["constant_heatmap_EZVSL_pipeline_ciou"]) <= FLOAT64_TOL
    # EZ-VSL's >= median rule on the cv2-resized tied map selects every pixel
    tied_ez = kernels.ciou_terms(kernels.binarize_ezvsl(kernels.upsample_cv2_linear(arrays["tied_heatmap14"][None])), gt)
    assert abs(tied_ez[0][0] - edge["tied_heatmap_EZVSL_threshold_on_same_cv2_resized_map_ciou"]) <= FLOAT64_TOL
    assert tied_ez[2][0] == gt[0].size and tied_ez[1][0] == gt.sum()  # every pixel selected


def test_golden_flickr_xml_parsing(golden) -> None:
    case = golden["edge"]["flickr_xml"]
    boxes = parse_flickr_xml(case["xml"])
    assert boxes.tolist() == case["EZVSL_boxes_224"]
    values, counts = np.unique(flickr_gt_map(boxes), return_counts=True)
    assert {str(v): int(c) for v, c in zip(values, counts)} == case["gt_map_value_counts"]


def test_flickr_xml_with_a_stray_element_is_a_one_line_error() -> None:
    with pytest.raises(AvuInputError, match="expected <bbox>"):
        parse_flickr_xml("<annotation><bboxes><note>x</note></bboxes></annotation>", "broken.xml")


# -- dataset scores --------------------------------------------------------------------------------


def test_nan_ciou_counts_as_a_failure_everywhere() -> None:
    cious = np.array([np.nan, 1.0, 0.5, 0.2])
    assert kernels.ciou_ap50(cious) == 0.5
    assert kernels.success_curve(cious)[0] == 0.75  # even at threshold 0
    assert kernels.ciou_mean(cious) == pytest.approx((1.0 + 0.5 + 0.2) / 4, abs=0)
    assert np.isnan(oracle.dataset_scores(list(cious))["mean"])  # the official np.mean propagates NaN


def test_success_thresholds_are_the_official_float_products() -> None:
    assert kernels.SUCCESS_THRESHOLDS[3] == 0.15000000000000002 and len(kernels.SUCCESS_THRESHOLDS) == 21


def test_lvs_nan_sample_end_to_end(refs) -> None:
    """A constant negative map selects nothing under LVS; with the empty GT that is 0/0."""
    subset = refs.subset([EMPTY_GT_ID, refs.ids[0]])
    heat = np.stack([np.full((224, 224), -0.5, np.float32), np.random.default_rng(0).random((224, 224), np.float32)])
    evaluator = VggssEvaluator(subset, protocol="lvs")
    evaluator.update(subset.ids, {"heatmaps": heat})
    result = evaluator.compute()
    assert result.extras["samples_nan_ciou"] == 1
    assert np.isfinite(list(result.metrics.values())).all()


# -- fast path vs the slow oracle -------------------------------------------------------------------


def random_heatmaps(rng: np.random.Generator, n: int, shape: tuple[int, int]) -> np.ndarray:
    heat = rng.standard_normal((n, *shape)).astype(np.float32)
    heat[0] = 0.3  # constant, all selected by both rules
    heat[1] = -0.25  # constant below zero: LVS selects nothing
    heat[2] = np.round(heat[2])  # heavy ties
    heat[3] = heat[3] > 0.5  # binary map
    heat[4] *= 1e-30  # tiny dynamic range
    heat[5] = np.exp(3 * heat[5])  # skewed
    heat[6] = np.minimum(heat[6], -1.5)  # most pixels tie at the maximum: the LVS median is 1
    return heat


@pytest.mark.parametrize("protocol", ["lvs", "ezvsl"])
@pytest.mark.parametrize("shape", [(14, 14), (7, 7), (5, 9), (224, 224), (31, 2)])
def test_fast_path_equals_the_oracle(refs, protocol: str, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(7 + shape[0] * 31 + shape[1])
    n = 12
    heat = random_heatmaps(rng, n, shape)
    rows = rng.choice(len(refs), size=n, replace=False)
    rows[1] = refs.index(EMPTY_GT_ID)
    boxes = (refs.pixel_boxes[rows], refs.box_counts[rows])
    ciou, inter, den = kernels.localization_ciou(heat, boxes, *PIPELINES[protocol], chunk_size=5)
    slow = oracle.evaluate(heat, [refs.boxes[r] for r in rows], protocol)
    assert np.array_equal(ciou, slow["ciou"], equal_nan=True)
    assert np.array_equal(inter, slow["inter"]) and np.array_equal(den, slow["den"])
    if protocol == "lvs":
        assert np.isnan(ciou[1])  # constant negative map on the empty GT: 0/0
    assert abs(kernels.auc(ciou) - slow["auc"]) <= FLOAT64_TOL
    assert kernels.ciou_ap50(ciou) == slow["ap50"]


def lvs_map_family(family: str, rng: np.random.Generator, n: int = 10) -> np.ndarray:
    """Heatmaps whose median ties the LVS mask depends on (float32)."""
    if family == "quantised":  # four levels: the upsampled maps are full of exact ties
        return (rng.integers(0, 4, (n, 14, 14)) * np.float32(0.1)).astype(np.float32)
    if family == "constant":  # stays exactly constant under cv2.resize: all selected (> 0) or none (< 0)
        values = np.array([0.3, -0.2, 1.0, -1.0, 0.0, 7.5, -1e-3, 2.0**-20, -123.25, 0.1], np.float32)[:n]
        return np.broadcast_to(values[:, None, None], (n, 14, 14)).copy()
    side = int(family.removeprefix("random"))
    return rng.standard_normal((n, side, side)).astype(np.float32)


LVS_FAMILIES = ["quantised", "constant", "random7", "random14", "random224"]


@pytest.mark.parametrize("family", LVS_FAMILIES)
def test_lvs_upsampling_is_opencv_itself(family: str) -> None:
    heat = lvs_map_family(family, np.random.default_rng(11))
    expected = np.stack([cv2.resize(h, (224, 224), interpolation=cv2.INTER_LINEAR) for h in heat])
    work = kernels.Workspace(4, 224)  # a reused workspace, as the chunked evaluator uses it
    for start in range(0, len(heat), 4):
        got = kernels.upsample_cv2_linear(heat[start:start + 4], work=work)
        assert np.array_equal(got, expected[start:start + 4])
    if family == "constant":  # OpenCV's SIMD path keeps a constant map exactly constant
        assert all(np.unique(m).size == 1 and m[0, 0] == h[0, 0] for m, h in zip(expected, heat))


@pytest.mark.parametrize("family", LVS_FAMILIES)
def test_lvs_equals_the_official_chain_on_opencv_resize(refs, family: str) -> None:
    """Per-sample intersection, union and cIoU exactly as ``cv2.resize`` + LVS ``test.py`` give them."""
    rng = np.random.default_rng(5 + LVS_FAMILIES.index(family))
    heat = lvs_map_family(family, rng)
    rows = rng.choice(len(refs), size=len(heat), replace=False)
    rows[1] = refs.index(EMPTY_GT_ID)  # constant -0.2 there: empty mask on empty GT, 0/0
    ciou, inter, den = kernels.localization_ciou(heat, (refs.pixel_boxes[rows], refs.box_counts[rows]),
                                                 "cv2_linear", "lvs", chunk_size=4)
    official = [oracle.cal_ciou(official_lvs_mask(h), oracle.lvs_gt_map(refs.boxes[r]), 0.5) for h, r in zip(heat, rows)]
    want_ciou, want_inter, want_den = (np.array(v, dtype=np.float64) for v in zip(*official))
    assert np.array_equal(inter, want_inter) and np.array_equal(den, want_den)
    assert np.array_equal(ciou, want_ciou, equal_nan=True)
    scores = oracle.dataset_scores(list(want_ciou))
    assert abs(kernels.ciou_ap50(ciou) - scores["ap50"]) <= FLOAT64_TOL
    assert abs(kernels.auc(ciou) - scores["auc"]) <= FLOAT64_TOL
    if family == "constant":
        assert np.isnan(ciou[1]) and (inter[heat[:, 0, 0] < 0] == 0).all()  # pred = 1 - (-h) < 1: nothing kept


def official_lvs_mask(heatmap: np.ndarray) -> np.ndarray:
    """LVS ``test.py`` from ``cv2.resize`` to the binarised ``pred`` (written out here, not via the kernels)."""
    pred = 1 - oracle.normalize_img(-cv2.resize(heatmap, (224, 224), interpolation=cv2.INTER_LINEAR))
    threshold = np.sort(pred.flatten())[int(pred.shape[0] * pred.shape[1] / 2)]
    pred[pred > threshold] = 1
    pred[pred < 1] = 0
    return pred


def test_box_counting_equals_mask_counting(refs) -> None:
    """The rectangle fast path of the evaluator counts exactly what the full GT maps count."""
    multi = np.flatnonzero(refs.box_counts > 1)
    corrupt = [refs.index(n) for n in (EMPTY_GT_ID, "Db6Hjt0x28k_000056", "7Soo7mXCnq0_000063")]
    rows = np.concatenate([multi[:: max(1, len(multi) // 40)], corrupt, np.arange(40)])
    infer = np.random.default_rng(1).random((len(rows), 224, 224)) < 0.5
    infer[0] = False
    by_boxes = kernels.ciou_terms_boxes(infer, refs.pixel_boxes[rows], refs.box_counts[rows])
    by_maps = kernels.ciou_terms(infer, refs.gt_maps(rows))
    for a, b in zip(by_boxes, by_maps):
        assert np.array_equal(a, b, equal_nan=True)


# -- prediction files and payloads ------------------------------------------------------------------


def test_json_and_npz_files_read_the_same(refs, tmp_path: Path) -> None:
    from avu.predictions.vggss import read_predictions

    ids = refs.ids[:3]
    maps = np.random.default_rng(4).random((3, 7, 9))  # float64 on purpose: read as float32
    (tmp_path / "p.json").write_text(json.dumps(
        {"benchmark": "vggss", "predictions": {s: {"heatmap": m.tolist()} for s, m in zip(ids, maps)}}))
    np.savez(tmp_path / "p.npz", ids=np.array(ids), heatmaps=maps)
    for name in ("p.json", "p.npz"):
        got_ids, payload = read_predictions(tmp_path / name, refs)
        assert got_ids == ids and payload["heatmaps"].dtype == np.float32
        assert np.array_equal(payload["heatmaps"], maps.astype(np.float32))


def test_torch_payload_equals_numpy_payload(refs) -> None:
    import torch

    ids = refs.ids[:4]
    maps = np.random.default_rng(5).standard_normal((4, 14, 14)).astype(np.float32)
    results = []
    for payload in ({"heatmaps": maps}, {"heatmaps": torch.from_numpy(maps)}):
        evaluator = VggssEvaluator(refs, allow_partial=True)
        evaluator.update(ids, payload)
        results.append(evaluator.compute().to_dict())
    assert results[0] == results[1] and results[0]["partial"]


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e39])
def test_update_names_the_sample_with_a_bad_value_in_a_later_chunk(refs, bad: float) -> None:
    """The evaluator scans each chunk for NaN/inf just before scoring it (not the whole payload first)."""
    ids = refs.ids[: kernels.DEFAULT_CHUNK + 5]
    maps = np.random.default_rng(6).standard_normal((len(ids), 14, 14))  # float64: 1e39 overflows float32
    maps[kernels.DEFAULT_CHUNK + 2, 3, 4] = bad
    evaluator = VggssEvaluator(refs, allow_partial=True)
    reason = "overflows float32" if np.isfinite(bad) else "non-finite value"
    with pytest.raises(AvuInputError, match=f"{ids[kernels.DEFAULT_CHUNK + 2]}.*{reason}"):
        evaluator.update(ids, {"heatmaps": maps})
    assert not evaluator._records  # nothing kept from the chunks scored before the bad one
