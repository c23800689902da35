"""SLAVC ``EvaluatorFull`` (silent clips, confidences, precision / AP / F1): golden parity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from avu.data.annotations.vggss import load_references
from avu.metrics import vggss as kernels

pytestmark = pytest.mark.vggss

FLOAT64_TOL = 1e-9


@pytest.fixture(scope="module")
def case(golden_dir: Path, golden_datasets_dir: Path):
    folder = golden_dir / "vggss"
    golden = json.loads((folder / "slavc_evaluatorfull.json").read_text())
    heat = np.load(folder / "vggss_heatmaps14.npz")
    position = {str(n): i for i, n in enumerate(heat["names"])}
    names = golden["inputs"]["names"]
    bb_counts = np.array(golden["inputs"]["bb_count"])
    refs = load_references(golden_datasets_dir / "vggss")
    gt = refs.gt_maps([refs.index(n) for n in names])
    gt[bb_counts == 0] = False  # silent clips: no box, all-zero GT
    maps = heat["heatmap14"][[position[n] for n in names]]
    infer = kernels.binarize_ezvsl(kernels.upsample_bicubic_align_corners(maps))  # normalize_img >= median
    ciou, _, _ = kernels.ciou_terms(infer, gt)
    areas = gt.reshape(len(names), -1).sum(axis=1).astype(np.float64)
    return golden, bb_counts, ciou, areas, np.array(golden["inputs"]["conf"])


def test_sounding_counts_match_the_boxes(case, golden_datasets_dir: Path) -> None:
    golden, bb_counts, _, _, _ = case
    refs = load_references(golden_datasets_dir / "vggss")
    for name, count in zip(golden["inputs"]["names"], bb_counts):
        assert count in (0, len(refs.boxes_of(name)))
    assert (bb_counts[3::4] == 0).all() and (bb_counts > 0).sum() == 60


def test_per_sample_ciou_and_area(case) -> None:
    golden, _, ciou, areas, _ = case
    np.testing.assert_allclose(ciou, golden["ciou_list"], rtol=0, atol=FLOAT64_TOL)
    assert areas.tolist() == golden["area_list"]


def test_finalize_stats(case) -> None:
    golden, bb_counts, ciou, areas, conf = case
    stats = kernels.slavc_finalize_stats(bb_counts, ciou, areas, conf)
    expected = golden["finalize_stats"]
    assert set(stats) == set(expected)
    for key, want in expected.items():
        got = stats[key]
        if isinstance(want, str):
            assert got == want, key
        else:
            assert abs(got - want) <= FLOAT64_TOL, (key, got, want)


def test_headline_numbers(case) -> None:
    golden, bb_counts, ciou, _, conf = case
    assert abs(kernels.slavc_precision_at_50(bb_counts, ciou) - golden["precision_at_50"]) <= FLOAT64_TOL
    assert abs(kernels.slavc_f1_at_50(bb_counts, ciou, conf) - golden["f1_at_50(conf_thr=0.5)"]) <= FLOAT64_TOL
    assert abs(kernels.slavc_ap(bb_counts, ciou, conf, 0.5) - golden["ap_at_50"]) <= FLOAT64_TOL


def test_empty_subset_is_nan_and_tiny_subset_has_no_ap() -> None:
    stats = kernels.slavc_finalize_stats(np.array([1, 0]), np.array([0.9, 0.0]), np.array([50_000.0, 0.0]),
                                         np.array([0.7, 0.2]), iou_thrs=(0.5,))
    assert np.isnan(stats["Precision-small@50"]) and np.isnan(stats["AUC-medium@50"])
    assert stats["AP-huge@50"] == 0 and stats["Precision-huge@50"] == 1.0
