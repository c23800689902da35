"""Torch datasets on the generated suite: the data contract, ids, caching, DataLoader use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from avu import BENCHMARK_IDS
from avu.benchmarks import dataset_dir, get_spec
from avu.data.datasets import build_dataset, collate

FRAMES = {"ave": 10, "llp": 10, "vggss": 1, "avs_s4": 5, "avs_ms3": 5, "avss": 10, "avqa": 10}
SECONDS = {"ave": 10, "llp": 10, "vggss": 10, "avs_s4": 5, "avs_ms3": 5, "avss": 10, "avqa": 10}
BENCHES = [pytest.param(b, marks=getattr(pytest.mark, b)) for b in BENCHMARK_IDS]


def check_target(bench: str, split: str, t: dict, batch: int) -> None:
    if bench == "ave":
        assert t["labels"].shape == (batch, 10) and t["labels"].dtype == torch.int64
        assert int(t["labels"].min()) >= 0 and int(t["labels"].max()) <= 28
    elif bench == "llp":
        assert t["video_labels"].shape == (batch, 25) and t["video_labels"].dtype == torch.float32
        if split != "train":
            assert t["audio"].shape == t["visual"].shape == (batch, 10, 25) and t["audio"].dtype == torch.uint8
            # weak labels are the union of the dense events
            union = (t["audio"].amax(1) | t["visual"].amax(1)).float()
            assert torch.equal(union, t["video_labels"])
    elif bench == "vggss":
        assert t["gt_map"].shape == (batch, 224, 224)
        assert all(b.ndim == 2 and b.shape[1] == 4 for b in t["boxes"])
    elif bench in ("avs_s4", "avs_ms3"):
        assert t["masks"].shape == (batch, 5, 224, 224) and t["masks"].dtype == torch.uint8
        assert set(torch.unique(t["masks"]).tolist()) <= {0, 1}
        assert t["mask_valid"].shape == (batch, 5)
    elif bench == "avss":
        assert t["labels"].shape == (batch, 10, 224, 224) and t["labels"].dtype == torch.uint8
        assert int(t["labels"].max()) <= 70
        # official padding frames of v1 clips are all background
        assert not t["labels"][~t["frame_valid"]].any()
    elif bench == "avqa":
        assert len(t["question"]) == len(t["answer"]) == len(t["qtype"]) == batch
        assert all("<" not in q for q in t["question"])
        assert t["answer_label"].shape == (batch,) and int(t["answer_label"].min()) >= 0


@pytest.mark.parametrize("bench", BENCHES)
def test_contract_every_split(tiny_suite: Path, bench: str):
    spec = get_spec(bench)
    for split in ("train", "val", "test"):
        ds = build_dataset(bench, tiny_suite, split, frame_size=32, progress=False)
        refs = spec.load_references(dataset_dir(tiny_suite, bench), split=split, version=spec.default_annotation_version)
        assert ds.ids == list(refs.ids)  # the evaluator's ids, in official order
        n = min(3, len(ds))
        batch = collate([ds[i] for i in range(n)])
        assert batch["benchmark"] == [bench] * n
        assert batch["sample_id"] == ds.ids[:n]
        assert batch["frames"].shape == (n, FRAMES[bench], 3, 32, 32) and batch["frames"].dtype == torch.float32
        assert 0.0 <= float(batch["frames"].min()) and float(batch["frames"].max()) <= 1.0
        assert batch["audio"].shape == (n, SECONDS[bench] * 16000) and batch["audio"].dtype == torch.float32
        assert float(batch["audio"].abs().max()) > 0.001
        check_target(bench, split, batch["target"], n)


def test_cache_equals_direct_decoding_and_is_reused(tiny_suite: Path, tmp_path: Path):
    cached = build_dataset("avss", tiny_suite, "val", frame_size=48, cache_dir=tmp_path, progress=False)
    direct = build_dataset("avss", tiny_suite, "val", frame_size=48, cache=False)
    for i in range(len(direct)):
        a, b = cached[i], direct[i]
        assert torch.equal(a["frames"], b["frames"]) and torch.equal(a["audio"], b["audio"])
        assert torch.equal(a["target"]["labels"], b["target"]["labels"])
    files = sorted(tmp_path.rglob("*.npy"))
    assert files
    stamps = [f.stat().st_mtime_ns for f in files]
    build_dataset("avss", tiny_suite, "val", frame_size=48, cache_dir=tmp_path, progress=False)
    assert [f.stat().st_mtime_ns for f in sorted(tmp_path.rglob("*.npy"))] == stamps


def test_avqa_questions_share_decoded_video(tiny_suite: Path, tmp_path: Path):
    ds = build_dataset("avqa", tiny_suite, "val", frame_size=32, cache_dir=tmp_path, progress=False)
    assert len(ds.clips) < len(ds)  # several questions per video, decoded once
    i, j = [k for k in range(len(ds)) if ds.clip_of[k] == ds.clip_of[0]][:2]
    assert torch.equal(ds[i]["frames"], ds[j]["frames"])


def test_dataloader_with_workers(tiny_suite: Path, tmp_path: Path):
    ds = build_dataset("ave", tiny_suite, "train", frame_size=32, cache_dir=tmp_path, progress=False)
    loader = DataLoader(ds, batch_size=3, num_workers=2, collate_fn=collate)
    ids = [sid for batch in loader for sid in batch["sample_id"]]
    assert ids == ds.ids


def test_frames_resize_and_audio_match_the_files(tiny_suite: Path):
    from avu.data import media

    ds = build_dataset("vggss", tiny_suite, "test", frame_size=224, cache=False)
    item = ds[0]
    sid = item["sample_id"]
    img = media.read_frame(tiny_suite / "vggss/frames" / f"{sid}.jpg")
    assert np.array_equal((item["frames"][0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8), img)
    wav, sr = media.read_wav(tiny_suite / "vggss/audio" / f"{sid}.wav")
    assert sr == 16000 and np.array_equal(item["audio"].numpy(), wav)


def test_unknown_benchmark_and_mode(tiny_suite: Path):
    from avu.errors import AvuInputError

    with pytest.raises(AvuInputError, match="unknown benchmark"):
        build_dataset("ave2", tiny_suite, "test")
    with pytest.raises(AvuInputError, match="unknown mode"):
        build_dataset("ave", tiny_suite, "test", mode="video")
    with pytest.raises(AvuInputError, match="no official pre-extracted features"):
        build_dataset("avss", tiny_suite, "test", mode="features")
