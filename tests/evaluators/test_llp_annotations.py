"""LLP annotation reader: counts against the official files, versions, and one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from avu.data.annotations import llp
from avu.errors import AvuInputError

pytestmark = pytest.mark.llp

OFFICIAL_COUNTS = {"train": 10_000, "val": 649, "test": 1_200, "full": 11_849}


@pytest.fixture(scope="module")
def avvp(datasets_dir: Path) -> Path:
    return datasets_dir / "avvp"


@pytest.mark.parametrize("version", llp.VERSIONS)
def test_split_counts_and_row_counts(avvp: Path, version: str) -> None:
    refs = {s: llp.load_references(avvp, s, version=version) for s in OFFICIAL_COUNTS}
    assert {s: len(r) for s, r in refs.items()} == OFFICIAL_COUNTS
    for split in ("val", "test"):
        stats = refs[split].stats
        assert stats["eval_audio_rows"] == 4_131
        assert stats["eval_visual_rows"] == 2_495
        assert stats["eval_audio_rows_empty_span"] == 6
        assert refs[split].has_dense
        assert refs[split].gt_audio.shape == (OFFICIAL_COUNTS[split], 25, 10)
        assert refs[split].gt_audio.dtype == np.uint8
    for split in ("train", "full"):
        assert not refs[split].has_dense and refs[split].gt_audio is None
    # the three splits are disjoint and make up the full set
    union = refs["train"].ids + refs["val"].ids + refs["test"].ids
    assert len(set(union)) == len(union) and set(union) == set(refs["full"].ids)
    # no audio rows at all: 4 val / 5 test videos; no visual rows: 70 / 121 (design notes)
    assert refs["val"].stats["videos_without_audio_rows"] == 4
    assert refs["test"].stats["videos_without_audio_rows"] == 5
    assert refs["val"].stats["videos_without_visual_rows"] == 70
    assert refs["test"].stats["videos_without_visual_rows"] == 121
    # every row of the eval files belongs to val or test, but for the unmatched (typo) names
    matched = refs["val"].stats["eval_audio_rows_matched"] + refs["test"].stats["eval_audio_rows_matched"]
    rows = llp.read_eval_rows(avvp / llp.AUDIO_FILES[version])
    unmatched = sum(name not in set(refs["full"].ids) for name in rows.filenames)
    assert matched + unmatched == 4_131
    assert refs["test"].annotation_version == version


def test_weak_labels_and_order(avvp: Path) -> None:
    refs = llp.load_references(avvp, "test")
    assert refs.ids[:2] == ["4YdbENYcIyE_23_33", "KSRjje7GH44_60_70"]  # CSV row order
    assert refs.weak_labels.shape == (1200, 25)
    assert np.flatnonzero(refs.weak_labels[1]).tolist() == [llp.CLASS_INDEX["Speech"], llp.CLASS_INDEX["Blender"]]
    ids, weak = llp.weak_labels(avvp, "train")
    assert len(ids) == 10_000 and weak.shape == (10_000, 25) and weak.sum(axis=1).min() >= 1
    # the first audio row of the eval file: 4YdbENYcIyE_23_33, 0-4, Baby_cry_infant_cry
    assert refs.gt_audio[0, llp.CLASS_INDEX["Baby_cry_infant_cry"]].tolist() == [1] * 4 + [0] * 6
    assert set(refs.files) == {"AVVP_test_pd.csv", "AVVP_eval_audio.csv", "AVVP_eval_visual.csv"}
    old = llp.load_references(avvp, "test", version="2020")
    assert "v2020/AVVP_eval_audio.csv" in old.files and old.manifest_hash != refs.manifest_hash


def test_a_file_in_the_folder_names_the_folder(avvp: Path) -> None:
    assert llp.load_references(avvp / "AVVP_val_pd.csv", "val").ids == llp.load_references(avvp, "val").ids
    assert len(llp.load_references(avvp / "v2020" / "AVVP_eval_audio.csv", "val", version="2020")) == 649


def test_unknown_split_and_version(avvp: Path) -> None:
    with pytest.raises(AvuInputError, match="unknown LLP split 'dev'"):
        llp.load_references(avvp, "dev")
    with pytest.raises(AvuInputError, match="unknown LLP version '2019'"):
        llp.load_references(avvp, "test", version="2019")


def _copy(avvp: Path, tmp_path: Path) -> Path:
    root = tmp_path / "avvp"
    shutil.copytree(avvp, root)
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)  # the shared copy is read-only
    return root


def _edit(path: Path, line: int, text: str) -> None:
    lines = path.read_text().split("\n")
    lines[line - 1] = text
    path.write_text("\n".join(lines))


@pytest.mark.parametrize(
    "file, line, text, where, message",
    [
        ("AVVP_eval_audio.csv", 3, "KSRjje7GH44_60_70\teight\t10\tBlender", "line 3: onset", "not an integer"),
        ("AVVP_eval_audio.csv", 3, "KSRjje7GH44_60_70\t8\t11\tBlender", "line 3: offset", "outside 0..10"),
        ("AVVP_eval_visual.csv", 2, "4YdbENYcIyE_23_33\t0\t10\tBaby", "line 2: event_labels", "unknown class 'Baby'"),
        ("AVVP_eval_visual.csv", 4, "4YdbENYcIyE_23_33 0 10 Speech", "line 4", "1 TAB-separated fields"),
        ("AVVP_test_pd.csv", 1, "filename,event_labels", "line 1", "header"),
        ("AVVP_test_pd.csv", 3, "4YdbENYcIyE_23_33\tSpeech", "line 3: filename", "already on line 2"),
        ("AVVP_test_pd.csv", 2, "4YdbENYcIyE_23_33\t", "line 2: event_labels", "empty"),
        ("AVVP_test_pd.csv", 2, "4YdbENYcIyE_23_33\tSpeech,Dogs", "line 2: event_labels", "unknown class 'Dogs'"),
    ],
)
def test_malformed_rows_give_one_line_errors(avvp: Path, tmp_path: Path, file, line, text, where, message) -> None:
    root = _copy(avvp, tmp_path)
    _edit(root / file, line, text)
    with pytest.raises(AvuInputError) as info:
        llp.load_references(root, "test")
    err = info.value
    assert err.path == str(root / file) and err.where == where and message in err.reason
    assert "\n" not in str(err)


def test_missing_files_and_generated_suites(avvp: Path, tmp_path: Path) -> None:
    root = _copy(avvp, tmp_path)
    (root / "v2020" / "AVVP_eval_audio.csv").unlink()
    assert len(llp.load_references(root, "test")) == 1200
    with pytest.raises(AvuInputError, match="annotation file not found"):
        llp.load_references(root, "test", version="2020")
    assert len(llp.load_references(root, "train", version="2020")) == 10_000  # weak labels need no eval file
    (tmp_path / "avu_suite.json").write_text("{}")
    assert llp.load_references(root, "val").annotation_version == "generated"
