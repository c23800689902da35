"""Bad data gives one line naming the file (in the main process, and from DataLoader workers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from torch.utils.data import DataLoader

from avu.data import media
from avu.data.datasets import build_dataset, collate
from avu.errors import AvuInputError


def one_line(exc: AvuInputError, path: Path) -> str:
    msg = str(exc)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


@pytest.mark.ave
def test_truncated_wav(suite_copy):
    root = suite_copy("ave")
    ds = build_dataset("ave", root, "test", frame_size=32, cache=False)
    wav = root / "ave/audio" / f"{ds.ids[1]}.wav"
    wav.write_bytes(wav.read_bytes()[: 44 + 30_000])  # header intact, most samples gone
    with pytest.raises(AvuInputError) as err:
        ds[1]
    assert "truncated wav" in one_line(err.value, wav)
    with pytest.raises(AvuInputError) as err:  # with the cache, at construction
        build_dataset("ave", root, "test", frame_size=32, progress=False)
    one_line(err.value, wav)


@pytest.mark.ave
def test_wav_with_shortened_header_is_reported_too(tmp_path: Path):
    wav = tmp_path / "x.wav"
    media.write_wav(wav, [0.1] * 16000)
    wav.write_bytes(wav.read_bytes()[:30])
    with pytest.raises(AvuInputError) as err:
        media.read_wav(wav)
    one_line(err.value, wav)


@pytest.mark.llp
def test_missing_frame_names_the_frame(suite_copy):
    root = suite_copy("avvp")
    ds = build_dataset("llp", root, "val", frame_size=32, cache=False)
    frame = root / "avvp/frames" / ds.ids[0] / "000004.jpg"
    frame.unlink()
    with pytest.raises(AvuInputError) as err:
        ds[0]
    assert "frame not found" in one_line(err.value, frame)


@pytest.mark.avs_s4
def test_missing_png_frame_and_mask(suite_copy):
    root = suite_copy("avsbench")
    ds = build_dataset("avs_s4", root, "test", frame_size=32, cache=False)
    name = ds.ids[0]
    cat = ds.references.categories[name]
    frame = root / "avsbench/Single-source/s4_data/visual_frames/test" / cat / name / f"{name}_3.png"
    frame.unlink()
    with pytest.raises(AvuInputError) as err:
        ds[0]
    one_line(err.value, frame)
    other = ds.ids[1]
    mask = root / "avsbench/Single-source/s4_data/gt_masks/test" / ds.references.categories[other] / other / f"{other}_2.png"
    mask.write_bytes(b"not a png")
    with pytest.raises(AvuInputError) as err:
        ds[1]
    one_line(err.value, mask)


@pytest.mark.ave
def test_malformed_annotation_row(suite_copy):
    root = suite_copy("ave")
    ann = root / "ave/Annotations.txt"
    lines = ann.read_text().splitlines()
    lines[2] = lines[2].replace("&good&", "&good&x")  # StartTime not an integer
    ann.write_text("\n".join(lines) + "\n")
    with pytest.raises(AvuInputError) as err:
        build_dataset("ave", root, "train", frame_size=32, progress=False)
    assert "line 3" in one_line(err.value, ann)


@pytest.mark.llp
def test_malformed_llp_row(suite_copy):
    root = suite_copy("avvp")
    csv = root / "avvp/AVVP_eval_visual.csv"
    csv.write_text(csv.read_text().replace("\t", "\t\t", 1).replace("onset\t\t", "onset\t", 1) + "x\t1\n")
    with pytest.raises(AvuInputError) as err:
        build_dataset("llp", root, "test", frame_size=32, progress=False)
    one_line(err.value, csv)


@pytest.mark.avqa
def test_malformed_question_row(suite_copy):
    root = suite_copy("music_avqa")
    path = root / "music_avqa/json_update/avqa-val.json"
    rows = json.loads(path.read_text())
    rows[3]["type"] = "[\"Audio\", \"Counting\""
    path.write_text(json.dumps(rows))
    with pytest.raises(AvuInputError) as err:
        build_dataset("avqa", root, "val", frame_size=32, progress=False)
    assert "row 3" in one_line(err.value, path)


@pytest.mark.ave
def test_error_in_dataloader_worker_surfaces_as_one_line(suite_copy):
    root = suite_copy("ave")
    ds = build_dataset("ave", root, "test", frame_size=32, cache=False)
    wav = root / "ave/audio" / f"{ds.ids[4]}.wav"
    wav.write_bytes(wav.read_bytes()[:1000])
    loader = DataLoader(ds, batch_size=2, num_workers=1, collate_fn=collate)
    with pytest.raises(AvuInputError) as err:
        for _ in loader:
            pass
    assert "truncated wav" in one_line(err.value, wav)
