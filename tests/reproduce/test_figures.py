"""The report's pictures: right size, same bytes for the same inputs, blanks and colours right."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from avu import BENCHMARK_IDS
from avu.data.classes import avss_palette
from avu.reproduce import figures as F

METRICS = {b: "metric" for b in BENCHMARK_IDS}  # skip the registry lookup where it is not the point


def _png(path) -> np.ndarray:
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert "Software" not in img.info  # no matplotlib version in the bytes
        return np.asarray(img.convert("RGB"))


def _size(path) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.size


def _near(image: np.ndarray, rgb, tol: int = 2) -> int:
    """Number of pixels within ``tol`` of colour ``rgb`` in every channel."""
    return int((np.abs(image.astype(int) - np.asarray(rgb)) <= tol).all(axis=-1).sum())


def _bars_values():
    return {
        b: {"single": None if b == "vggss" else (40.0 + i, 38.0 + i, 43.0 + i),
            "joint": (45.0 + i, 44.0 + i, 47.0 + i), "baseline": 10.0 + i, "delta": (5.0, 1.0, 9.0)}
        for i, b in enumerate(BENCHMARK_IDS)
    }


# ---------------------------------------------------------------- bars

def test_bars_single_vs_joint_size_and_determinism(tmp_path):
    values = _bars_values()
    a = F.bars_single_vs_joint(values, tmp_path / "a.png")  # metric names from the registry
    b = F.bars_single_vs_joint(values, tmp_path / "b.png")
    assert a == tmp_path / "a.png"
    assert _size(a) == F.BARS_SIZE
    assert a.read_bytes() == b.read_bytes()
    _png(a)
    values["ave"]["joint"] = (60.0, 59.0, 61.0)
    c = F.bars_single_vs_joint(values, tmp_path / "c.png")
    assert c.read_bytes() != a.read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))  # atomic: no temporary left behind


def test_bars_accept_a_subset_and_an_interval_not_holding_the_mean(tmp_path):
    # a percentile bootstrap interval need not contain the point estimate
    values = {"avqa": {"single": (50.0, 51.0, 53.0), "joint": (55.0, 54.0, 56.0)}}
    out = F.bars_single_vs_joint(values, tmp_path / "x.png", metric_names=METRICS)
    assert _size(out) == F.BARS_SIZE


@pytest.mark.parametrize("values, message", [
    ({"nope": {"joint": (1, 0, 2)}}, "unknown benchmark"),
    ({}, "no benchmarks"),
    ({"ave": {"single": (1, 0, 2)}}, "'joint'"),
    ({"ave": {"joint": (1, 3, 2)}}, "lower bound"),
    ({"ave": {"joint": (math.nan, 0, 2)}}, "finite"),
    ({"ave": {"joint": (1, 0)}}, "(mean, lo, hi)"),
    ({"ave": {"joint": (1, 0, 2), "baseline": "x"}}, "number"),
])
def test_bars_reject_bad_input(tmp_path, values, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        F.bars_single_vs_joint(values, tmp_path / "x.png", metric_names=METRICS)
    assert not list(tmp_path.iterdir())


def test_main_table_bars(tmp_path):
    values = {b: {"ours": 30.0 + i, "baselines": {"chance": 5.0, "prior": 12.0}} for i, b in enumerate(BENCHMARK_IDS)}
    values["ave"]["baselines"]["AV-Unified (published)"] = 84.3  # only on one benchmark
    a = F.main_table_bars(values, tmp_path / "a.png", metric_names=METRICS)
    b = F.main_table_bars(values, tmp_path / "b.png", metric_names=METRICS)
    assert _size(a) == F.BARS_SIZE and a.read_bytes() == b.read_bytes()
    # "ours" is drawn in the first colour
    assert _near(_png(a), Image.new("RGB", (1, 1), F.COLOURS[0]).getpixel((0, 0)), tol=0) > 500
    with pytest.raises(ValueError, match="'ours'"):
        F.main_table_bars({"ave": {"baselines": {}}}, tmp_path / "c.png", metric_names=METRICS)
    too_many = {"ave": {"ours": 1.0, "baselines": {f"b{k}": 1.0 for k in range(len(F.COLOURS))}}}
    with pytest.raises(ValueError, match="reference names"):
        F.main_table_bars(too_many, tmp_path / "c.png", metric_names=METRICS)


# ---------------------------------------------------------------- transfer matrix

def test_transfer_matrix_blanks_nan_none_and_absent_alike(tmp_path):
    full = {("ave", "llp"): 2.5, ("llp", "ave"): -1.0, ("avqa", "ave"): 0.5}
    outs = []
    for name, missing in (("nan", math.nan), ("none", None), ("absent", ...)):
        matrix = dict(full)
        if missing is ...:
            matrix.pop(("llp", "ave"))
        else:
            matrix[("llp", "ave")] = missing
        outs.append(F.transfer_matrix(matrix, tmp_path / f"{name}.png"))
    assert _size(outs[0]) == F.TRANSFER_SIZE
    assert outs[0].read_bytes() == outs[1].read_bytes() == outs[2].read_bytes()
    measured = F.transfer_matrix(full, tmp_path / "full.png")
    assert measured.read_bytes() != outs[0].read_bytes()
    # blank cells are light grey: one more unmeasured cell -> more grey pixels
    grey = (237, 237, 237)
    assert _near(_png(outs[0]), grey, tol=1) > _near(_png(measured), grey, tol=1) + 1000


def test_transfer_matrix_all_blank_and_bad_input(tmp_path):
    out = F.transfer_matrix({("ave", "llp"): math.nan}, tmp_path / "blank.png")
    assert _size(out) == F.TRANSFER_SIZE
    with pytest.raises(ValueError, match="finite"):
        F.transfer_matrix({("ave", "llp"): math.inf}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="source_task, target_task"):
        F.transfer_matrix({"ave": 1.0}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="no entries"):
        F.transfer_matrix({}, tmp_path / "x.png")


def test_transfer_matrix_colours_diverge_around_zero(tmp_path):
    gain = _png(F.transfer_matrix({("ave", "llp"): 3.0, ("llp", "ave"): 0.0}, tmp_path / "g.png"))
    loss = _png(F.transfer_matrix({("ave", "llp"): -3.0, ("llp", "ave"): 0.0}, tmp_path / "l.png"))
    dark_blue, dark_red = (5, 48, 97), (103, 0, 31)  # the ends of RdBu
    assert _near(gain, dark_blue, tol=3) > 1000 and _near(gain, dark_red, tol=3) < 1000
    assert _near(loss, dark_red, tol=3) > 1000 and _near(loss, dark_blue, tol=3) < 1000


# ---------------------------------------------------------------- localisation

def _loc_examples(n: int = 5):
    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        frame = rng.random((3, 48, 64)).astype(np.float32) if k % 2 else rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        out.append({"sample_id": f"clip{k}", "frame": frame, "heatmap": rng.random((7, 7 + k)),
                    "boxes": np.array([[0.1, 0.2, 0.5, 0.7], [0.6, 0.6, 0.9, 0.95]])[: k % 3],
                    "ciou": None if k == 3 else 0.1 * k})
    return out


def test_localisation_examples_size_and_determinism(tmp_path):
    a = F.localisation_examples(_loc_examples(5), tmp_path / "a.png")
    b = F.localisation_examples(_loc_examples(5), tmp_path / "b.png")
    assert _size(a) == (4 * F.LOC_CELL[0], 2 * F.LOC_CELL[1] + F.TITLE_HEIGHT + F.LEGEND_HEIGHT)
    assert a.read_bytes() == b.read_bytes()
    # ground-truth boxes are drawn in lime
    assert _near(_png(a), (0, 255, 0), tol=30) > 200
    one = F.localisation_examples(_loc_examples(1), tmp_path / "one.png")
    assert _size(one) == (F.LOC_CELL[0], F.LOC_CELL[1] + F.TITLE_HEIGHT + F.LEGEND_HEIGHT)


@pytest.mark.parametrize("change, message", [
    ({"frame": np.full((3, 8, 8), 2.0, np.float32)}, r"\[0, 1\]"),
    ({"frame": np.zeros((8, 8), np.float32)}, "frame"),
    ({"heatmap": np.full((4, 4), np.nan)}, "NaN"),
    ({"heatmap": np.zeros((2, 2, 2))}, "heatmap"),
    ({"boxes": np.array([[0.5, 0.1, 0.2, 0.9]])}, "x0 <= x1"),
    ({"boxes": np.array([[0.0, 0.0, 224.0, 224.0]])}, "normalised"),
])
def test_localisation_examples_reject_bad_input(tmp_path, change, message):
    example = {**_loc_examples(1)[0], **change}
    with pytest.raises(ValueError, match=message):
        F.localisation_examples([example], tmp_path / "x.png")
    with pytest.raises(ValueError, match="no examples"):
        F.localisation_examples([], tmp_path / "x.png")


# ---------------------------------------------------------------- segmentation

def _seg_example(sample_id, gt_value, pred_value, semantic, frames=5, size=16):
    return {"sample_id": sample_id, "frames": np.zeros((frames, 3, 24, 24), np.float32),  # black frames
            "gt": np.full((frames, size, size), gt_value, np.uint8),
            "pred": np.full((frames, size, size), pred_value, np.uint8), "semantic": semantic}


def test_outline_has_a_dark_halo_and_follows_the_region():
    rgb = np.full((20, 20, 3), 200, np.uint8)
    mask = np.zeros((20, 20), bool)
    mask[5:15, 5:15] = True
    F.draw_outline(rgb, mask, F.PRED_OUTLINE)
    line = (rgb == F.PRED_OUTLINE).all(axis=-1)
    assert line[5, 5:15].all() and line[14, 5:15].all() and not line[9:11, 9:11].any()  # border only
    assert (rgb[3, 8] == F.HALO).all() and (rgb[8, 3] == F.HALO).all()  # halo just outside the line
    edge = F.outline(np.ones((6, 6), bool), width=1)  # a region touching the frame is outlined along it
    assert edge[0].all() and edge[:, 0].all() and not edge[2:4, 2:4].any()


def test_segmentation_outlines_in_their_colours(tmp_path):
    # over black frames: semantic classes outlined (dashed) in their palette colours, binary masks in
    # the GT / prediction outline colours, each with a legend row
    semantic = _png(F.segmentation_examples([_seg_example("v", 5, 2, True)], tmp_path / "s.png"))
    binary = _png(F.segmentation_examples([_seg_example("v", 1, 1, False)], tmp_path / "b.png"))
    palette = np.asarray(avss_palette())
    assert tuple(palette[5]) == (128, 0, 128) and tuple(palette[2]) == (0, 128, 0)
    assert _near(semantic, palette[5]) > 500 and _near(semantic, palette[2]) > 500
    assert _near(binary, palette[5]) == 0
    assert _near(binary, F.GT_OUTLINE, tol=30) > 500 and _near(binary, F.PRED_OUTLINE, tol=30) > 500
    assert semantic.shape[0] == binary.shape[0]


def test_segmentation_examples_size_and_determinism(tmp_path):
    examples = [_seg_example("s4clip", 1, 0, False, frames=5, size=32),
                _seg_example("avss_uid", 15, 45, True, frames=10, size=32)]
    examples[0]["frames"] = np.zeros((5, 20, 20, 3), np.uint8)  # channels-last uint8 works too
    a = F.segmentation_examples(examples, tmp_path / "a.png")
    b = F.segmentation_examples(examples, tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes()
    assert _size(a) == (F.SEG_LABEL_WIDTH + 10 * F.SEG_CELL, 4 * F.SEG_CELL + F.TITLE_HEIGHT + F.LEGEND_HEIGHT)
    few = F.segmentation_examples(examples[1:], tmp_path / "c.png", max_frames=3)
    assert _size(few) == (F.SEG_LABEL_WIDTH + 3 * F.SEG_CELL, 2 * F.SEG_CELL + F.TITLE_HEIGHT + F.LEGEND_HEIGHT)


@pytest.mark.parametrize("change, message", [
    ({"gt": np.full((5, 8, 8), 71, np.uint8)}, r"0\.\.70"),
    ({"gt": np.zeros((4, 8, 8), np.uint8)}, "T = 5"),
    ({"pred": np.zeros((5, 9, 9), np.uint8)}, "differ in shape"),
    ({"pred": np.zeros((5, 8, 8), np.float32)}, "integer"),
    ({"frames": np.zeros((5, 8, 8), np.float32)}, "frames must be"),
])
def test_segmentation_examples_reject_bad_input(tmp_path, change, message):
    example = {**_seg_example("v", 1, 2, True, size=8), **change}
    with pytest.raises(ValueError, match=message):
        F.segmentation_examples([example], tmp_path / "x.png")
