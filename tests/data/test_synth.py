"""The generated suite: deterministic, complete, in the official formats, with sane content."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from avu import BENCHMARK_IDS
from avu.benchmarks import dataset_dir, get_spec
from avu.data.annotations.common import SUITE_MARKER
from avu.data.classes import AVQA_ANSWERS, AVQA_QTYPES, AVSS_CLASSES
from avu.data.synth.catalog import catalog_for
from avu.data.synth.generate import FILE_LIST, SIZES, generate, suite_files
from avu.provenance import sha256_file
from tests.helpers.cli import run_cli


def test_suite_record(tiny_suite: Path):
    info = json.loads((tiny_suite / SUITE_MARKER).read_text())
    assert info["size"] == "tiny" and info["seed"] == 0 and info["benchmarks"] == list(BENCHMARK_IDS)
    listing = (tiny_suite / FILE_LIST).read_text().splitlines()
    files = suite_files(tiny_suite)
    assert len(listing) == len(files) == info["n_files"]
    # every listed hash is the file's hash (spot-check a spread of files)
    for line in listing[:: max(1, len(listing) // 25)]:
        digest, rel = line.split("  ", 1)
        assert sha256_file(tiny_suite / rel) == digest


def test_same_seed_is_byte_identical_and_other_seed_differs(tiny_suite: Path, tmp_path: Path):
    again = tmp_path / "again"
    generate(again, "tiny", seed=0, workers=1, progress=False)  # other worker count: same bytes
    assert (again / FILE_LIST).read_text() == (tiny_suite / FILE_LIST).read_text()
    assert (again / SUITE_MARKER).read_text() == (tiny_suite / SUITE_MARKER).read_text()
    other = tmp_path / "other"
    generate(other, "tiny", seed=1, benchmarks=["ave", "avs_s4"], workers=2, progress=False)
    a = set((tiny_suite / FILE_LIST).read_text().splitlines())
    b = set((other / FILE_LIST).read_text().splitlines())
    shared = {line.split("  ", 1)[1] for line in a & b}
    assert shared == {"ave/dataset_zip/categories.txt"}, "a different seed must change every file but the constants"


BENCHES = [pytest.param(b, marks=getattr(pytest.mark, b)) for b in BENCHMARK_IDS]


@pytest.mark.parametrize("bench", BENCHES)
def test_official_readers_read_every_split(tiny_suite: Path, bench: str):
    benchmark = bench
    spec = get_spec(benchmark)
    info = json.loads((tiny_suite / SUITE_MARKER).read_text())
    for split, n in zip(("train", "val", "test"), SIZES["tiny"][benchmark]):
        for version in spec.annotation_versions:
            refs = spec.load_references(dataset_dir(tiny_suite, benchmark), split=split, version=version)
            assert refs.annotation_version == "generated"
            assert len(refs) == info["counts"][benchmark][split]
            if benchmark != "avqa":
                assert len(refs) == n


def test_avss_test_split_covers_every_class(tiny_suite: Path):
    refs = get_spec("avss").load_references(tiny_suite / "avsbench", split="test", version="official")
    seen = set()
    for sid in refs.ids:
        seen |= set(np.unique(refs.masks(sid)).tolist())
    assert seen == set(range(len(AVSS_CLASSES)))


def test_avqa_questions_use_official_answers_and_all_types(tiny_suite: Path):
    rows = json.loads((tiny_suite / "music_avqa/json/avqa-train.json").read_text())
    assert {r["anser"] for r in rows} <= set(AVQA_ANSWERS)
    assert {tuple(json.loads(r["type"])) for r in rows} == set(AVQA_QTYPES)
    assert len({r["question_id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["question_content"].count("<") == len(json.loads(r["templ_values"]))


def test_vggss_boxes_give_exact_pixel_bounds(tiny_suite: Path):
    from PIL import Image

    entries = json.loads((tiny_suite / "vggss/vggss.json").read_text())
    for e in entries[:6]:
        assert e["bbox"], e["file"]
        for x0, y0, x1, y1 in e["bbox"]:
            px = [int(224 * v) for v in (x0, y0, x1, y1)]
            assert 0 <= px[0] < px[2] <= 224 and 0 <= px[1] < px[3] <= 224
        assert Image.open(tiny_suite / "vggss/frames" / f"{e['file']}.jpg").size == (224, 224)


def test_catalog_has_confusable_pairs_that_never_share_a_scene():
    from avu.data.classes import AVE_CATEGORIES

    cat = catalog_for("ave", AVE_CATEGORIES)
    looks = [c for c in cat.categories if c.look_alike >= 0]
    sounds = [c for c in cat.categories if c.sound_alike >= 0]
    assert looks and sounds
    for c in looks:
        other = cat[c.look_alike]
        assert (c.shape, c.colour) == (other.shape, other.colour) and c.texture != other.texture
        assert c.sound_key != other.sound_key
    for c in sounds:
        assert cat.conflicts(c.index, c.sound_alike)
        assert (c.shape, c.colour) != (cat[c.sound_alike].shape, cat[c.sound_alike].colour)
    signatures = {(c.shape, c.colour, c.texture, c.sound_key) for c in cat.categories}
    assert len(signatures) == len(cat)


def test_cli_synth_and_bad_size(tmp_path: Path):
    r = run_cli("data", "synth", "--out", tmp_path / "s", "--size", "tiny", "--benchmarks", "avs_ms3", "--quiet")
    assert r.code == 0, r.err
    assert "avs_ms3 6/4/6" in r.out
    assert (tmp_path / "s" / "avsbench/Multi-sources/ms3_meta_data.csv").is_file()
    r = run_cli("data", "synth", "--out", tmp_path / "t", "--size", "huge")
    assert r.code != 0 and not (tmp_path / "t").exists()


def test_cli_show(tiny_suite: Path, tmp_path: Path):
    out = tmp_path / "clip.png"
    r = run_cli("data", "show", "--root", tiny_suite, "--benchmark", "avs_ms3", "--out", out)
    assert r.code == 0, r.err
    assert out.stat().st_size > 10_000
    r = run_cli("data", "show", "--root", tiny_suite, "--benchmark", "ave", "--id", "nope", "--out", out)
    assert r.code == 2 and "nope" in r.err and len(r.err.strip().splitlines()) == 1


def test_knobs_change_the_suite_and_bad_knobs_are_one_line_errors(tiny_suite: Path, tmp_path: Path):
    r = run_cli("data", "synth", "--out", tmp_path / "k", "--size", "tiny", "--benchmarks", "avs_s4", "--quiet",
                "--knob", "noise_level=0.3", "--knob", "p_distractor=0")
    assert r.code == 0, r.err
    info = json.loads((tmp_path / "k" / SUITE_MARKER).read_text())
    assert info["knobs"]["noise_level"] == 0.3 and info["knobs"]["p_distractor"] == 0.0
    mine = {ln.split("  ")[1]: ln.split("  ")[0] for ln in (tmp_path / "k" / FILE_LIST).read_text().splitlines()}
    base = {ln.split("  ")[1]: ln.split("  ")[0] for ln in (tiny_suite / FILE_LIST).read_text().splitlines()}
    wavs = [p for p in mine if p.endswith(".wav")]
    assert wavs and all(mine[p] != base.get(p) for p in wavs)
    for bad in ("noise=1", "noise_level=x", "noise_level=2"):
        r = run_cli("data", "synth", "--out", tmp_path / "bad", "--size", "tiny", "--knob", bad)
        assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and "--knob" in r.err


def test_stale_suite_is_named_and_real_data_is_never_judged(tmp_path: Path):
    from avu.data.synth import GENERATOR_VERSION
    from avu.data.synth.generate import stale_reason

    def suite(name: str, **info) -> Path:
        root = tmp_path / name
        root.mkdir()
        record = {"generator": "avu.data.synth", "generator_version": GENERATOR_VERSION, "size": "small",
                  "clips": {"vggss": dict(zip(("train", "val", "test"), SIZES["small"]["vggss"]))}}
        (root / SUITE_MARKER).write_text(json.dumps({**record, **info}))
        return root

    assert stale_reason(suite("current")) is None
    assert "generator 2.0" in stale_reason(suite("old", generator_version="2.0"))
    fewer = stale_reason(suite("fewer", clips={"vggss": {"train": 300, "val": 50, "test": 100}}))
    assert fewer.startswith("vggss has") and "'test': 400" in fewer
    assert stale_reason(suite("other", generator="someone else", generator_version="0")) is None
    assert stale_reason(tmp_path / "no-marker") is None
