"""AVSBench annotation readers on small generated datasets in the official on-disk layout.

The writers here (`write_s4`, `write_ms3`, `write_avss`) are also used by the other
test_avsbench_* modules.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from avu.benchmarks import get_spec
from avu.data.annotations import avsbench as ann
from avu.errors import AvuInputError
from avu.metrics.avsbench import avss_palette

pytestmark = [pytest.mark.avs_s4, pytest.mark.avs_ms3, pytest.mark.avss]


# ---------------------------------------------------------------------------------------------
# writers of the official layout
# ---------------------------------------------------------------------------------------------
def random_binary_masks(rng: np.random.Generator, n: int, frames: int = 5, size: int = 32) -> np.ndarray:
    """(n, frames, size, size) {0,1} blobs; video 1 has an all-empty GT, video 0 one empty frame."""
    yy, xx = np.mgrid[:size, :size]
    masks = np.zeros((n, frames, size, size), np.uint8)
    for v in range(n):
        for f in range(frames):
            cy, cx, r = rng.integers(4, size - 4, 2).tolist() + [int(rng.integers(3, size // 3))]
            masks[v, f] = ((yy - cy) ** 2 + (xx - cx) ** 2) <= r * r
    if n > 1:
        masks[1] = 0
    masks[0, 2] = 0
    return masks


def write_s4(root: Path, ids: list[str], masks: np.ndarray, split: str = "test",
             categories: list[str] | None = None, train_ids: tuple[str, ...] = ("t_train",)) -> Path:
    """``root/Single-source/...`` with ``ids`` in ``split`` (+ train rows with one annotated frame)."""
    base = root / "Single-source"
    categories = categories or [("dog", "cat")[i % 2] for i in range(len(ids))]
    rows = ["name,start,category,split"]
    for sid, cat, m in zip(ids, categories, masks):
        rows.append(f"{sid},0,{cat},{split}")
        folder = base / "s4_data" / "gt_masks" / split / cat / sid
        folder.mkdir(parents=True, exist_ok=True)
        for k, frame in enumerate(m, start=1):
            Image.fromarray(frame * 255).save(folder / f"{sid}_{k}.png")
    for sid in train_ids:
        rows.append(f"{sid},0,dog,train")
        folder = base / "s4_data" / "gt_masks" / "train" / "dog" / sid
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full(masks.shape[2:], 255, np.uint8)).save(folder / f"{sid}_1.png")
    (base / "s4_meta_data.csv").write_text("\n".join(rows) + "\n")
    return root


def write_ms3(root: Path, ids: list[str], masks: np.ndarray, split: str = "test") -> Path:
    base = root / "Multi-sources"
    rows = ["name,split"]
    for sid, m in zip(ids, masks):
        rows.append(f"{sid},{split}")
        folder = base / "ms3_data" / "gt_masks" / split / sid
        folder.mkdir(parents=True, exist_ok=True)
        for k, frame in enumerate(m, start=1):
            Image.fromarray(frame * 255).save(folder / f"{sid}_{k}.png")
    rows.append("m_train,train")
    (base / "ms3_meta_data.csv").write_text("\n".join(rows) + "\n")
    return root


def random_avss_labels(rng: np.random.Generator, subsets: list[str], size: int = 28) -> np.ndarray:
    """(n, 10, size, size) class maps with 2-3 classes per video; v1 frames 5..9 all background."""
    labels = np.zeros((len(subsets), 10, size, size), np.uint8)
    for v, subset in enumerate(subsets):
        classes = rng.choice(np.arange(1, 71), size=2, replace=False)
        for f in range(ann.AVSS_SUBSETS[subset]):
            lab = np.zeros((size, size), np.uint8)
            y, x = rng.integers(0, size // 2, 2)
            lab[y:y + size // 2, x:x + size // 2] = classes[0]
            lab[: size // 4, -(size // 4):] = classes[1]
            if v == 0:
                lab[-3:, :3] = 70  # class 70 ('woman'), the one the official *_noBg drops
            labels[v, f] = lab
    return labels


def write_avss(root: Path, ids: list[str], subsets: list[str], labels: np.ndarray, split: str = "test",
               label2idx: bool = True) -> Path:
    """``root/metadata.csv`` + ``root/<label>/<uid>/labels_rgb/<k>.png`` colour masks."""
    palette = avss_palette()
    rows = ["vid,uid,s_min,s_sec,a_obj,split,label"]
    for sid, subset, lab in zip(ids, subsets, labels):
        rows.append(f"{sid}_yt,{sid},0,0,x,{split},{subset}")
        folder = root / subset / sid / "labels_rgb"
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(ann.AVSS_SUBSETS[subset]):
            Image.fromarray(palette[lab[k]]).save(folder / f"{k}.png")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    if label2idx:
        (root / "label2idx.json").write_text(json.dumps({c: i + 1 for i, c in enumerate(ann.AVSS_CLASSES)}))
    return root


def upscale(labels: np.ndarray, size: int = ann.AVSS_SIZE) -> np.ndarray:
    """What NEAREST resizing to ``size`` does to a mask whose side divides ``size``."""
    k = size // labels.shape[-1]
    return labels.repeat(k, axis=-2).repeat(k, axis=-1)


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------
def test_class_list_matches_shared_label2idx(datasets_dir):
    names = list(json.loads((datasets_dir / "avsbench" / "label2idx.json").read_text()))
    assert tuple(names) == ann.AVSS_CLASSES
    assert len(names) == 71 and names[0] == "background" and names[70] == "woman"


def test_palette_is_the_pascal_bit_palette():
    pal = avss_palette()
    assert pal.shape == (71, 3)
    assert pal[0].tolist() == [0, 0, 0] and pal[1].tolist() == [128, 0, 0] and pal[2].tolist() == [0, 128, 0]
    assert pal[7].tolist() == [128, 128, 128] and pal[8].tolist() == [64, 0, 0]
    assert len({tuple(c) for c in pal.tolist()}) == 71


def test_s4_reader_official_layout(tmp_path):
    rng = np.random.default_rng(1)
    masks = random_binary_masks(rng, 3)
    ids = ["vidA", "vidB", "vidC"]
    write_s4(tmp_path, ids, masks)
    refs = ann.load_s4_references(tmp_path)
    assert refs.ids == ids and refs.frames == 5 and refs.benchmark == "avs_s4"
    assert refs.categories == {"vidA": "dog", "vidB": "cat", "vidC": "dog"}
    for sid, m in zip(ids, masks):
        np.testing.assert_array_equal(refs.masks(sid), m)
    assert set(refs.files) == {"Single-source/s4_meta_data.csv", "Single-source/s4_data/gt_masks/test (15 PNG files)"}
    train = ann.load_s4_references(tmp_path / "Single-source" / "s4_meta_data.csv", split="train")
    assert train.ids == ["t_train"] and train.frames == 1 and train.masks("t_train").shape == (1, 32, 32)
    assert refs.manifest_hash != train.manifest_hash


def test_ms3_reader_and_manifest_hash_follows_masks(tmp_path):
    rng = np.random.default_rng(2)
    masks = random_binary_masks(rng, 2)
    write_ms3(tmp_path, ["m1", "m2"], masks)
    refs = ann.load_ms3_references(tmp_path)
    np.testing.assert_array_equal(refs.masks("m2"), masks[1])
    before = refs.manifest_hash
    Image.fromarray(np.full((32, 32), 255, np.uint8)).save(tmp_path / "Multi-sources/ms3_data/gt_masks/test/m1/m1_1.png")
    assert ann.load_ms3_references(tmp_path).manifest_hash != before


def test_ms3_refuses_non_binary_mask(tmp_path):
    write_ms3(tmp_path, ["m1"], random_binary_masks(np.random.default_rng(3), 1))
    bad = tmp_path / "Multi-sources/ms3_data/gt_masks/test/m1/m1_4.png"
    Image.fromarray(np.full((32, 32), 7, np.uint8)).save(bad)
    refs = ann.load_ms3_references(tmp_path)
    with pytest.raises(AvuInputError, match=r"m1_4\.png.*not binary"):
        refs.masks("m1")


def test_missing_and_corrupt_gt_png_are_named(tmp_path):
    write_s4(tmp_path, ["a1", "a2"], random_binary_masks(np.random.default_rng(4), 2))
    missing = tmp_path / "Single-source/s4_data/gt_masks/test/cat/a2/a2_5.png"
    missing.unlink()
    with pytest.raises(AvuInputError, match=r"a2_5\.png: sample 'a2': ground-truth mask not found"):
        ann.load_s4_references(tmp_path)
    refs = ann.load_s4_references(tmp_path, hash_masks=False)  # lazy: found when the masks are read
    with pytest.raises(AvuInputError, match="a2_5.png"):
        refs.masks("a2")
    missing.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(AvuInputError, match=r"a2_5\.png: sample 'a2': unreadable PNG"):
        ann.load_s4_references(tmp_path).masks("a2")


def test_reader_errors_name_csv_and_field(tmp_path):
    with pytest.raises(AvuInputError, match="annotation file not found"):
        ann.load_s4_references(tmp_path)
    write_ms3(tmp_path, ["m1"], random_binary_masks(np.random.default_rng(5), 1))
    with pytest.raises(AvuInputError, match=r"ms3_meta_data\.csv: split: no rows with split 'val'"):
        ann.load_ms3_references(tmp_path, split="val")
    csv = tmp_path / "Multi-sources/ms3_meta_data.csv"
    csv.write_text("name,split\nm1,test\nm1,test\n")
    with pytest.raises(AvuInputError, match="listed twice"):
        ann.load_ms3_references(tmp_path)
    csv.write_text("name,fold\nm1,test\n")
    with pytest.raises(AvuInputError, match="column 'split'"):
        ann.load_ms3_references(tmp_path)


def test_avss_reader_resizes_converts_and_pads(tmp_path):
    rng = np.random.default_rng(6)
    subsets = ["v2", "v1s", "v1m"]
    labels = random_avss_labels(rng, subsets)
    ids = ["u_v2", "u_v1s", "u_v1m"]
    write_avss(tmp_path, ids, subsets, labels)
    refs = ann.load_avss_references(tmp_path)
    assert refs.ids == ids and refs.frames == 10 and refs.subsets["u_v1s"] == "v1s"
    assert [refs.annotated_frames(s) for s in ids] == [10, 5, 5]
    for sid, lab in zip(ids, labels):
        got = refs.masks(sid)
        assert got.shape == (10, 224, 224) and got.dtype == np.uint8
        np.testing.assert_array_equal(got, upscale(lab))
    assert not refs.masks("u_v1s")[5:].any()  # official padding: all background
    assert "label2idx.json" in refs.files


def test_avss_unknown_colour_is_background_and_bad_label2idx_refused(tmp_path):
    labels = np.full((1, 10, 28, 28), 5, np.uint8)
    write_avss(tmp_path, ["u"], ["v1m"], labels)
    png = tmp_path / "v1m/u/labels_rgb/2.png"
    rgb = np.array(Image.open(png))
    rgb[:14] = (1, 2, 3)  # not a palette colour
    Image.fromarray(rgb).save(png)
    got = ann.load_avss_references(tmp_path).masks("u")
    assert (got[2, :112] == 0).all() and (got[2, 112:] == 5).all() and (got[1] == 5).all()
    (tmp_path / "label2idx.json").write_text(json.dumps({"background": 1, "dog": 2}))
    with pytest.raises(AvuInputError, match="label2idx.json.*71 AVSS classes"):
        ann.load_avss_references(tmp_path)


def test_avss_missing_test_frame_is_named(tmp_path):
    write_avss(tmp_path, ["u"], ["v2"], np.zeros((1, 10, 28, 28), np.uint8))
    (tmp_path / "v2/u/labels_rgb/9.png").unlink()
    with pytest.raises(AvuInputError, match=r"labels_rgb/9\.png: sample 'u'"):
        ann.load_avss_references(tmp_path)


def test_specs_load_through_registry(tmp_path):
    write_ms3(tmp_path, ["m1"], random_binary_masks(np.random.default_rng(7), 1))
    refs = get_spec("avs_ms3").load_references(tmp_path, split="test", version="official")
    assert refs.ids == ["m1"] and refs.annotation_version == "official"


def test_shared_avsbench_folder_has_no_masks(datasets_dir):
    """Only label2idx.json is public: the readers say which file is missing (manifest build skips)."""
    for bench in ("avs_s4", "avs_ms3", "avss"):
        with pytest.raises(AvuInputError, match="annotation file not found"):
            get_spec(bench).load_references(datasets_dir / "avsbench", split="test", version="official")
