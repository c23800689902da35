"""Feature-mode datasets on fixtures with the official file names and shapes."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from avu.data.datasets import build_dataset, collate
from avu.errors import AvuInputError


@pytest.mark.ave
def test_ave_h5_features_follow_the_annotation_rows(suite_copy):
    root = suite_copy("ave")
    n_rows = len((root / "ave/Annotations.txt").read_text().splitlines())
    rows = np.arange(n_rows, dtype=np.float64)
    with h5py.File(root / "ave/audio_feature.h5", "w") as f:  # official: float64 VGGish
        f.create_dataset("avadataset", data=np.broadcast_to(rows[:, None, None], (n_rows, 10, 128)))
    with h5py.File(root / "ave/visual_feature.h5", "w") as f:
        f.create_dataset("avadataset", data=np.broadcast_to(rows[:, None, None, None, None].astype(np.float32),
                                                            (n_rows, 10, 7, 7, 512)))
    ds = build_dataset("ave", root, "test", mode="features")
    batch = collate([ds[i] for i in range(len(ds))])
    assert batch["audio_feat"].shape == (len(ds), 10, 128) and batch["audio_feat"].dtype == torch.float32
    assert batch["visual_feat"].shape == (len(ds), 10, 7, 7, 512)
    expected = torch.as_tensor(ds.references.rows, dtype=torch.float32)
    assert torch.equal(batch["audio_feat"][:, 0, 0], expected)  # the split's Annotations.txt rows
    assert torch.equal(batch["visual_feat"][:, 3, 1, 2, 5], expected)
    raw = build_dataset("ave", root, "test", cache=False)
    assert torch.equal(batch["target"]["labels"], torch.stack([raw[i]["target"]["labels"] for i in range(len(raw))]))
    loader = DataLoader(ds, batch_size=4, num_workers=1, collate_fn=collate)  # h5 handles reopened per worker
    assert sum(len(b["sample_id"]) for b in loader) == len(ds)


@pytest.mark.ave
def test_ave_features_missing_or_misshapen(suite_copy):
    root = suite_copy("ave")
    with pytest.raises(AvuInputError, match="audio_feature.h5: feature file not found"):
        build_dataset("ave", root, "test", mode="features")
    with h5py.File(root / "ave/audio_feature.h5", "w") as f:
        f.create_dataset("avadataset", data=np.zeros((3, 10, 128)))
    with h5py.File(root / "ave/visual_feature.h5", "w") as f:
        f.create_dataset("avadataset", data=np.zeros((3, 10, 7, 7, 512), np.float32))
    with pytest.raises(AvuInputError, match="audio_feature.h5: avadataset: 3 rows"):
        build_dataset("ave", root, "test", mode="features")


@pytest.mark.llp
def test_llp_npy_features(suite_copy):
    root = suite_copy("avvp")
    ids = [ln.split("\t")[0] for ln in (root / "avvp/AVVP_test_pd.csv").read_text().splitlines()[1:]]
    for k, sid in enumerate(ids):
        yt = sid[:11]
        for kind, shape in {"vggish": (10, 128), "res152": (80, 2048), "r2plus1d_18": (10, 512)}.items():
            (root / "avvp/feats" / kind).mkdir(parents=True, exist_ok=True)
            arr = np.full(shape, k, np.float32)
            if kind == "res152":
                arr = np.tile(np.arange(8, dtype=np.float32)[None, :, None], (10, 1, 2048)).reshape(80, 2048) + k
            np.save(root / "avvp/feats" / kind / f"{yt}.npy", arr)
    ds = build_dataset("llp", root, "test", mode="features")
    item = ds[2]
    assert item["sample_id"] == ids[2]
    assert item["audio_feat"].shape == (10, 128) and float(item["audio_feat"][0, 0]) == 2
    assert item["visual_feat"].shape == (10, 2048)
    assert torch.allclose(item["visual_feat"], torch.full((10, 2048), 3.5 + 2))  # mean of 8 frames per second
    assert item["motion_feat"].shape == (10, 512)
    assert item["target"]["audio"].shape == (10, 25)
    (root / "avvp/feats/r2plus1d_18" / f"{ids[1][:11]}.npy").unlink()
    with pytest.raises(AvuInputError) as err:
        ds[1]
    assert f"r2plus1d_18/{ids[1][:11]}.npy" in str(err.value) and "not found" in str(err.value)
    np.save(root / "avvp/feats/r2plus1d_18" / f"{ids[1][:11]}.npy", np.zeros((8, 512), np.float32))
    with pytest.raises(AvuInputError, match=r"shape \(8, 512\), expected \(10, 512\)"):
        ds[1]


@pytest.mark.avqa
def test_avqa_features_every_sixth_second(suite_copy):
    root = suite_copy("music_avqa")
    ds0 = build_dataset("avqa", root, "val", cache=False)
    videos = sorted({ds0.specs[i].media.key for i in range(len(ds0))})
    t = np.arange(60, dtype=np.float32)
    for kind, shape in {"vggish": (60, 128), "res18": (60, 512)}.items():
        (root / "music_avqa/feats" / kind).mkdir(parents=True)
        for v in videos:
            np.save(root / "music_avqa/feats" / kind / f"{v}.npy",
                    np.broadcast_to(t.reshape(60, *([1] * (len(shape) - 1))), shape).astype(np.float32))
    ds = build_dataset("avqa", root, "val", mode="features")
    item = ds[0]
    assert item["audio_feat"].shape == (10, 128) and item["visual_feat"].shape == (10, 512)
    assert item["audio_feat"][:, 0].tolist() == [0, 6, 12, 18, 24, 30, 36, 42, 48, 54]
    assert item["target"]["answer"] == ds0[0]["target"]["answer"]
    (root / "music_avqa/feats/res18_14x14").mkdir()
    v0 = ds0.specs[0].media.key
    maps = np.zeros((60, 512, 14, 14), np.float32)
    maps[:, 7, 2, 3] = t
    np.save(root / "music_avqa/feats/res18_14x14" / f"{v0}.npy", maps)
    ds = build_dataset("avqa", root, "val", mode="features", visual="res18_14x14")
    assert ds[0]["visual_feat"].shape == (10, 14, 14, 512)
    assert ds[0]["visual_feat"][:, 2, 3, 7].tolist() == [0, 6, 12, 18, 24, 30, 36, 42, 48, 54]
    other = next(i for i in range(len(ds)) if ds.specs[i].media.key != v0)
    with pytest.raises(AvuInputError, match="res18_14x14/.*feature file not found"):
        ds[other]
