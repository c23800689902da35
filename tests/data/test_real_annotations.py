"""Every real annotation file in ../shared/datasets read through the loaders (and so the
official readers), with the official counts. No media are needed (cache=False decodes lazily)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from avu.data import classes
from avu.data.datasets import build_dataset


def load(datasets_dir: Path, benchmark: str, split: str, version: str | None = None):
    return build_dataset(benchmark, datasets_dir, split, cache=False, annotation_version=version)


@pytest.mark.ave
def test_ave(datasets_dir: Path):
    sizes = {"train": 3339, "val": 402, "test": 402}
    total = 0
    for split, n in sizes.items():
        ds = load(datasets_dir, "ave", split)
        assert len(ds) == n
        total += n
        assert ds.specs[0].target["labels"].shape == (10,)
    assert total == 4143 == len((datasets_dir / "ave/Annotations.txt").read_text().splitlines())
    test = load(datasets_dir, "ave", "test")
    bg = sum(int((s.target["labels"] == 28).sum()) for s in test.specs) / (402 * 10)
    assert round(100 * bg, 2) == 17.79  # the all-background score of design/evaluators.md
    cats = (datasets_dir / "ave/dataset_zip/categories.txt").read_text().splitlines()
    assert tuple(cats) == classes.AVE_CATEGORIES


@pytest.mark.llp
def test_llp_both_audio_versions(datasets_dir: Path):
    assert len(load(datasets_dir, "llp", "train")) == 10_000
    for version in ("2024-04", "2020"):
        val, test = load(datasets_dir, "llp", "val", version), load(datasets_dir, "llp", "test", version)
        assert (len(val), len(test)) == (649, 1200)
        assert test.references.stats["eval_audio_rows"] == 4131
        assert test.specs[0].target["audio"].shape == (10, 25)
    # the 2024 fix gives JfZEqeLZqWk_30_40 its two audio rows; the 2020 file misses them
    new = load(datasets_dir, "llp", "test", "2024-04").references
    old = load(datasets_dir, "llp", "test", "2020").references
    assert new.stats["eval_audio_rows_matched"] > old.stats["eval_audio_rows_matched"]
    header = (datasets_dir / "avvp/AVVP_train.csv").read_text().splitlines()[0]
    assert header == "filename\tevent_labels"
    from avu.data.annotations.llp import CLASSES

    assert CLASSES == classes.LLP_CLASSES


@pytest.mark.avqa
def test_music_avqa_both_json_versions_and_vocabulary(datasets_dir: Path):
    expected = {("json", "test"): 9185, ("json", "val"): 4595, ("json_update", "test"): 9129, ("json_update", "val"): 4568}
    for (version, split), n in expected.items():
        ds = load(datasets_dir, "avqa", split, version)
        assert len(ds) == n, (version, split)
    test = load(datasets_dir, "avqa", "test", "json")
    per_type = {}
    for s in test.specs:
        per_type[s.target["qtype"]] = per_type.get(s.target["qtype"], 0) + 1
    assert per_type[("Audio", "Counting")] == 1022 and per_type[("Audio-Visual", "Temporal")] == 824
    assert len({s.media.key for s in test.specs}) == 6399  # distinct videos of the test json
    vocab = (datasets_dir / "music_avqa/dg_sct/ans_vocab.txt").read_text().split("\n")
    vocab = [a for a in vocab if a]
    assert len(vocab) == 42 and tuple(vocab) == classes.AVQA_ANSWERS
    assert len({s.target["answer"] for s in test.specs}) == 41  # the test json holds 41 of the 42


@pytest.mark.vggss
def test_vggss(datasets_dir: Path):
    ds = load(datasets_dir, "vggss", "test")
    assert len(ds) == 5158
    assert sum(len(s.target["boxes"]) == 1 for s in ds.specs) == 4619
    assert len(load(datasets_dir, "vggss", "heard_test")) == 2564
    assert len(load(datasets_dir, "vggss", "unheard_test")) == 2575


@pytest.mark.avss
def test_avss_label_index(datasets_dir: Path):
    keys = list(json.loads((datasets_dir / "avsbench/label2idx.json").read_text()))
    assert tuple(keys) == classes.AVSS_CLASSES
    from avu.data.annotations.avsbench import AVSS_PALETTE

    assert [tuple(c) for c in AVSS_PALETTE] == classes.avss_palette()
