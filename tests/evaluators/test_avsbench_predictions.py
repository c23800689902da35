"""AVSBench prediction files (NPZ, JSON arrays, COCO RLE, PNG folders) through ``avu evaluate``:
every format gives the same numbers, and malformed files end with exit code 2 and one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from avu.data.annotations import avsbench as ann
from avu.metrics.avsbench import avss_palette, sigmoid32
from tests.evaluators.test_avsbench_layout import (
    random_avss_labels,
    random_binary_masks,
    upscale,
    write_avss,
    write_ms3,
    write_s4,
)
from tests.helpers.cli import run_cli

pytestmark = [pytest.mark.avs_s4, pytest.mark.avs_ms3, pytest.mark.avss]

S4_IDS = ["s4a", "s4b", "s4c", "s4d", "s4e"]
MS3_IDS = ["m3a", "m3b", "m3c"]
AVSS_IDS = ["u_v2", "u_v1s", "u_v1m"]
AVSS_SUBSETS = ["v2", "v1s", "v1m"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A data root holding avsbench/ with S4, MS3 and AVSS test splits in the official layout."""
    root = tmp_path_factory.mktemp("avs_data")
    folder = root / "avsbench"
    rng = np.random.default_rng(0)
    s4 = random_binary_masks(rng, len(S4_IDS))
    ms3 = random_binary_masks(rng, len(MS3_IDS))
    labels = random_avss_labels(rng, AVSS_SUBSETS)
    write_s4(folder, S4_IDS, s4)
    write_ms3(folder, MS3_IDS, ms3)
    write_avss(folder, AVSS_IDS, AVSS_SUBSETS, labels)
    logits = (rng.normal(0, 2, size=s4.shape) + 3 * (s4 - 0.5)).astype(np.float32)
    gt_avss = np.stack([upscale(lab) for lab in labels])
    pred_avss = gt_avss.copy()
    pred_avss[:, :, :40, :40] = 0
    pred_avss[0, 2, 100:150, 100:150] = 12
    return {"root": root, "folder": folder, "s4": s4, "ms3": ms3, "logits": logits,
            "avss_gt": gt_avss, "avss_pred": pred_avss}


def evaluate(data, bench: str, predictions: Path, *extra: str) -> dict:
    out = predictions.parent / f"{predictions.name}.result.json"
    res = run_cli("evaluate", "--benchmark", bench, "--predictions", predictions,
                  "--annotations", data["folder"], "--output", out, *extra)
    assert res.code == 0, res.err
    return json.loads(out.read_text())


def rle(mask: np.ndarray) -> dict:
    enc = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in enc["size"]], "counts": enc["counts"].decode("ascii")}


def write_json(path: Path, bench: str, preds: dict) -> Path:
    path.write_text(json.dumps({"benchmark": bench, "predictions": preds}))
    return path


def write_png_video(folder: Path, frames: np.ndarray, name=lambda k: f"{k}.png") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k, f in enumerate(frames):
        Image.fromarray(f).save(folder / name(k))


# ---------------------------------------------------------------------------------------------
# formats agree
# ---------------------------------------------------------------------------------------------
def test_binary_formats_agree(data, tmp_path):
    logits = data["logits"]
    probs = sigmoid32(logits)
    binary = probs > 0.5
    levels = np.round(probs * 255).astype(np.uint8)

    npz_logits = tmp_path / "logits.npz"
    np.savez(npz_logits, ids=np.array(S4_IDS), logits=logits, benchmark=np.array("avs_s4"))
    json_probs = write_json(tmp_path / "probs.json", "avs_s4", {s: {"probs": p.tolist()} for s, p in zip(S4_IDS, probs)})
    a, b = evaluate(data, "avs_s4", npz_logits), evaluate(data, "avs_s4", json_probs)
    assert a["metrics"] == b["metrics"]
    assert a["protocol"]["key"] == "avsbench_v1.v1" and a["protocol"]["params"] == {"batch_size": 4}
    assert a["counts"] == {"expected": 5, "evaluated": 5, "missing": 0}

    # binary masks: RLE JSON (string and list counts), PNG folder (flat and official S4 layout), NPZ bool
    json_rle = write_json(tmp_path / "rle.json", "avs_s4", {s: {"masks": [rle(f) for f in m]} for s, m in zip(S4_IDS, binary)})
    uncompressed = {s: {"masks": [{"size": [32, 32], "counts": _runs(f)} for f in m]} for s, m in zip(S4_IDS, binary)}
    json_runs = write_json(tmp_path / "runs.json", "avs_s4", uncompressed)
    npz_bool = tmp_path / "bool.npz"
    np.savez(npz_bool, ids=np.array(S4_IDS), probs=binary)
    flat, nested = tmp_path / "png_flat", tmp_path / "png_nested"
    refs = ann.load_s4_references(data["folder"])
    for sid, m in zip(S4_IDS, binary):
        write_png_video(flat / sid, m.astype(np.uint8) * 255)
        write_png_video(nested / refs.categories[sid] / sid, m.astype(np.uint8) * 255, lambda k, s=sid: f"{s}_{k}.png")
    results = [evaluate(data, "avs_s4", p) for p in (json_rle, json_runs, npz_bool, flat, nested)]
    assert all(r["metrics"] == results[0]["metrics"] for r in results)
    assert results[0]["metrics"]["miou"] == a["metrics"]["miou"]  # the same foreground decisions

    # 8-bit probability maps: PNG levels == NPZ probs of levels / 255
    maps = tmp_path / "png_levels"
    for sid, m in zip(S4_IDS, levels):
        write_png_video(maps / sid, m)
    npz_levels = tmp_path / "levels.npz"
    np.savez(npz_levels, ids=np.array(S4_IDS), probs=levels.astype(np.float32) / np.float32(255))
    assert evaluate(data, "avs_s4", maps)["metrics"] == evaluate(data, "avs_s4", npz_levels)["metrics"]


def _runs(mask: np.ndarray) -> list[int]:
    flat = mask.astype(np.uint8).flatten(order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    edges = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(edges).tolist()
    return ([0] + runs) if flat[0] else runs


def test_protocol_choice_and_data_root(data, tmp_path):
    npz = tmp_path / "ms3.npz"
    rng = np.random.default_rng(5)
    np.savez(npz, ids=np.array(MS3_IDS), logits=rng.normal(size=data["ms3"].shape).astype(np.float32))
    res = run_cli("evaluate", "--benchmark", "avs_ms3", "--predictions", npz, "--data-root", data["root"],
                  "--protocol", "avsbench_v1[batch_size=1]")
    assert res.code == 0, res.err
    assert "avsbench_v1[batch_size=1].v1" in res.out
    official = evaluate(data, "avs_ms3", npz)
    bs1 = evaluate(data, "avs_ms3", npz, "--protocol", "avsbench_v1[batch_size=1]")
    pooled = evaluate(data, "avs_ms3", npz, "--protocol", "dataset_v1")
    assert official["metrics"]["miou"] == pytest.approx(pooled["metrics"]["miou"], abs=1e-12)
    assert bs1["metrics"]["fscore"] != pooled["metrics"]["fscore"]
    assert bs1["extras"]["batches"] == 3 and official["extras"]["batches"] == 1
    assert official["metrics"]["fscore"] == pytest.approx(pooled["metrics"]["fscore"], abs=1e-12)  # 3 videos < 4


def test_avss_formats_agree(data, tmp_path):
    pred = data["avss_pred"]
    npz = tmp_path / "labels.npz"
    np.savez(npz, ids=np.array(AVSS_IDS), labels=pred)
    names = ann.AVSS_CLASSES
    json_rle = write_json(tmp_path / "rle.json", "avss", {
        sid: {"masks": [{(names[c] if c % 2 else str(c)): rle(frame == c) for c in np.unique(frame)} for frame in p]}
        for sid, p in zip(AVSS_IDS, pred)})
    indexed, colour = tmp_path / "png_indexed", tmp_path / "png_rgb"
    palette = avss_palette()
    for sid, p in zip(AVSS_IDS, pred):
        write_png_video(indexed / sid, p)
        write_png_video(colour / sid, palette[p], lambda k, s=sid: f"{s}_{k}.png")
    results = [evaluate(data, "avss", p) for p in (npz, json_rle, indexed, colour)]
    assert all(r["metrics"] == results[0]["metrics"] for r in results)
    perfect = tmp_path / "perfect.npz"
    np.savez(perfect, ids=np.array(AVSS_IDS), labels=data["avss_gt"])
    best = evaluate(data, "avss", perfect)
    n_present = len(np.unique(data["avss_gt"]))
    assert best["metrics"]["miou"] == pytest.approx(100 * n_present / 71, abs=1e-9)
    assert best["extras"]["per_class_frames"]["background"] == 30
    assert results[0]["metrics"]["miou"] < best["metrics"]["miou"]


# ---------------------------------------------------------------------------------------------
# malformed files: exit 2, one line naming file and sample/field, no output left behind
# ---------------------------------------------------------------------------------------------
def _npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def _s4_logits(data, n=None, frames=5, size=32):
    n = len(S4_IDS) if n is None else n
    return np.random.default_rng(1).normal(size=(n, frames, size, size)).astype(np.float32)


def _png_folder(data, tmp: Path, frames=5) -> Path:
    folder = tmp / "pngs"
    for sid in S4_IDS:
        write_png_video(folder / sid, np.zeros((frames, 32, 32), np.uint8))
    return folder


def _bad_missing(data, tmp):
    return "avs_s4", _npz(tmp / "p.npz", ids=np.array(S4_IDS[:-1]), logits=_s4_logits(data, 4)), "sample 's4e'"


def _bad_unknown(data, tmp):
    return "avs_s4", _npz(tmp / "p.npz", ids=np.array(S4_IDS[:-1] + ["nope"]), logits=_s4_logits(data)), "sample 'nope'"


def _bad_duplicate(data, tmp):
    return "avs_s4", _npz(tmp / "p.npz", ids=np.array(S4_IDS[:-1] + ["s4a"]), logits=_s4_logits(data)), "sample 's4a': appears twice"


def _bad_nan(data, tmp):
    lg = _s4_logits(data)
    lg[2, 3, 5, 5] = np.nan
    return "avs_s4", _npz(tmp / "p.npz", ids=np.array(S4_IDS), logits=lg), "sample 's4c': logits frame 3: non-finite"


def _bad_size(data, tmp):
    return "avs_s4", _npz(tmp / "p.npz", ids=np.array(S4_IDS), logits=_s4_logits(data, size=16)), "sample 's4a': logits: masks are 16x16"


def _bad_frames(data, tmp):
    return "avs_s4", _npz(tmp / "p.npz", ids=np.array(S4_IDS), logits=_s4_logits(data, frames=4)), "logits: 4 frames per video, expected 5"


def _bad_dtype(data, tmp):
    return "avs_s4", _npz(tmp / "p.npz", ids=np.array(S4_IDS), logits=np.zeros((5, 5, 32, 32), np.int32)), "logits: wrong dtype int32"


def _bad_probs(data, tmp):
    p = np.full((5, 5, 32, 32), 0.5, np.float32)
    p[4, 0, 0, 0] = 1.5
    return "avs_s4", _npz(tmp / "p.npz", ids=np.array(S4_IDS), probs=p), "sample 's4e': probs frame 0: probability outside"


def _bad_field(data, tmp):
    return "avs_s4", _npz(tmp / "p.npz", ids=np.array(S4_IDS), heatmaps=_s4_logits(data)), "heatmaps: unknown field"


def _bad_benchmark(data, tmp):
    return "avs_s4", write_json(tmp / "p.json", "avs_ms3", {"s4a": {"probs": [[[0.5]]]}}), "benchmark: file holds 'avs_ms3'"


def _bad_truncated(data, tmp):
    full = json.dumps({"benchmark": "avs_s4", "predictions": {"s4a": {"probs": np.zeros((5, 2, 2)).tolist()}}})
    (tmp / "p.json").write_text(full[: len(full) // 2])
    return "avs_s4", tmp / "p.json", "invalid or truncated JSON"


def _bad_empty(data, tmp):
    (tmp / "p.npz").write_bytes(b"")
    return "avs_s4", tmp / "p.npz", "empty file"


def _bad_rle_counts(data, tmp):
    good = rle(np.ones((32, 32), bool))
    preds = {s: {"masks": [good] * 5} for s in S4_IDS}
    preds["s4b"]["masks"] = [good, good, {"size": [32, 32], "counts": [10, 20]}, good, good]
    return "avs_s4", write_json(tmp / "p.json", "avs_s4", preds), "sample 's4b': masks frame 2: bad RLE: run lengths cover 30"


def _bad_rle_string(data, tmp):
    good = rle(np.ones((32, 32), bool))
    preds = {s: {"masks": [good] * 5} for s in S4_IDS}
    preds["s4d"]["masks"] = [good, {"size": [32, 32], "counts": "0~~~"}] + [good] * 3
    return "avs_s4", write_json(tmp / "p.json", "avs_s4", preds), "sample 's4d': masks frame 1: bad RLE"


def _bad_rle_frames(data, tmp):
    good = rle(np.ones((32, 32), bool))
    preds = {s: {"masks": [good] * 5} for s in S4_IDS}
    preds["s4c"]["masks"] = [good] * 6
    return "avs_s4", write_json(tmp / "p.json", "avs_s4", preds), "sample 's4c': masks: 6 frames, expected 5"


def _bad_png_corrupt(data, tmp):
    folder = _png_folder(data, tmp)
    (folder / "s4b" / "3.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    return "avs_s4", folder, "3.png: sample 's4b': unreadable PNG"


def _bad_png_missing_frame(data, tmp):
    folder = _png_folder(data, tmp)
    (folder / "s4e" / "4.png").unlink()
    return "avs_s4", folder, "4.png: sample 's4e': frame 4 missing"


def _bad_png_unknown_video(data, tmp):
    folder = _png_folder(data, tmp)
    write_png_video(folder / "stranger", np.zeros((5, 32, 32), np.uint8))
    return "avs_s4", folder, "sample 'stranger': unknown id"


def _bad_png_mode(data, tmp):
    folder = _png_folder(data, tmp)
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(folder / "s4a" / "0.png")
    return "avs_s4", folder, "0.png: sample 's4a': PNG mode RGB"


def _bad_avss_label(data, tmp):
    lab = data["avss_pred"].copy()
    lab[1, 7, 3, 3] = 71
    return "avss", _npz(tmp / "p.npz", ids=np.array(AVSS_IDS), labels=lab), "sample 'u_v1s': labels frame 7: class 71 out of range 0..70"


def _bad_avss_frames(data, tmp):
    return "avss", _npz(tmp / "p.npz", ids=np.array(AVSS_IDS), labels=data["avss_pred"][:, :5]), "labels: 5 frames per video, expected 10"


def _bad_avss_float(data, tmp):
    return "avss", _npz(tmp / "p.npz", ids=np.array(AVSS_IDS), labels=data["avss_pred"].astype(np.float32)), "labels: wrong dtype float32"


def _bad_avss_colour(data, tmp):
    folder = tmp / "rgb"
    palette = avss_palette()
    for sid, p in zip(AVSS_IDS, data["avss_pred"]):
        write_png_video(folder / sid, palette[p])
    rgb = palette[data["avss_pred"][2, 6]].copy()
    rgb[10, 20] = (1, 2, 3)
    Image.fromarray(rgb).save(folder / "u_v1m" / "6.png")
    return "avss", folder, "6.png: sample 'u_v1m': colour (1, 2, 3) at pixel (10, 20)"


def _bad_avss_rle_class(data, tmp):
    frame = {"background": rle(np.ones((224, 224), bool))}
    preds = {sid: {"masks": [frame] * 10} for sid in AVSS_IDS}
    preds["u_v2"]["masks"] = [frame] * 9 + [{"unicorn": rle(np.ones((224, 224), bool))}]
    return "avss", write_json(tmp / "p.json", "avss", preds), "sample 'u_v2': masks frame 9 class 'unicorn': unknown class"


def _bad_avss_rle_overlap(data, tmp):
    frame = {"background": rle(np.ones((224, 224), bool))}
    clash = {"background": rle(np.ones((224, 224), bool)), "dog": rle(np.ones((224, 224), bool))}
    preds = {sid: {"masks": [frame] * 10} for sid in AVSS_IDS}
    preds["u_v1s"]["masks"] = [frame, clash] + [frame] * 8
    return "avss", write_json(tmp / "p.json", "avss", preds), "sample 'u_v1s': masks frame 1 class 'dog': overlaps class 'background'"


def _bad_suffix(data, tmp):
    (tmp / "p.txt").write_text("hello")
    return "avss", tmp / "p.txt", "unknown prediction format"


BAD = [_bad_missing, _bad_unknown, _bad_duplicate, _bad_nan, _bad_size, _bad_frames, _bad_dtype, _bad_probs,
       _bad_field, _bad_benchmark, _bad_truncated, _bad_empty, _bad_rle_counts, _bad_rle_string, _bad_rle_frames,
       _bad_png_corrupt, _bad_png_missing_frame, _bad_png_unknown_video, _bad_png_mode, _bad_avss_label,
       _bad_avss_frames, _bad_avss_float, _bad_avss_colour, _bad_avss_rle_class, _bad_avss_rle_overlap, _bad_suffix]


@pytest.mark.parametrize("make", BAD, ids=[f.__name__[5:] for f in BAD])
def test_malformed_predictions_exit_2_with_one_line(data, tmp_path, make):
    bench, path, expected = make(data, tmp_path)
    out = tmp_path / "result.json"
    res = run_cli("evaluate", "--benchmark", bench, "--predictions", path, "--annotations", data["folder"],
                  "--output", out)
    assert res.code == 2, (res.code, res.err)
    line = res.err.strip()
    assert "\n" not in line and "Traceback" not in line, res.err
    assert line.startswith("avu: error: ")
    assert str(path) in line, line  # the file, or a PNG inside the prediction folder
    assert expected in line, line
    assert not out.exists()
    assert not list(tmp_path.glob(".result.json*"))


@pytest.mark.parametrize("protocol, expected", [
    ("avsbench_v1[batch_size=0]", "--protocol: batch_size must be a positive integer, got 0"),
    ("avsbench_v1[bs=1]", "unknown parameter(s) ['bs']"),
    ("avsbench_v2", "unknown protocol 'avsbench_v2'"),
])
def test_protocol_errors(data, tmp_path, protocol, expected):
    npz = _npz(tmp_path / "p.npz", ids=np.array(S4_IDS), logits=_s4_logits(data))
    res = run_cli("evaluate", "--benchmark", "avs_s4", "--predictions", npz, "--annotations", data["folder"],
                  "--protocol", protocol)
    assert res.code == 2 and expected in res.err and res.err.count("\n") == 1, res.err


def test_default_batch_size_names_the_default_protocol(data, tmp_path):
    npz = _npz(tmp_path / "p.npz", ids=np.array(S4_IDS), logits=_s4_logits(data))
    explicit = evaluate(data, "avs_s4", npz, "--protocol", "avsbench_v1[batch_size=4]")
    assert explicit["protocol"]["key"] == "avsbench_v1.v1"
    assert explicit["metrics"] == evaluate(data, "avs_s4", npz)["metrics"]
