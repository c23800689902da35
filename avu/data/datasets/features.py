"""Datasets over the official pre-extracted features (files named and shaped as released).

  ave    ave/audio_feature.h5   ["avadataset"] (4143, 10, 128)      VGGish, row = Annotations.txt row
         ave/visual_feature.h5  ["avadataset"] (4143, 10, 7, 7, 512) VGG-19 pool5
  llp    avvp/feats/vggish/<ytid>.npy (10, 128); feats/res152/<ytid>.npy (80, 2048) -> mean of 8
         frames per second -> (10, 2048); feats/r2plus1d_18/<ytid>.npy (10, 512) ("motion_feat")
         (<ytid> = the first 11 characters of the filename, as the official loader)
  avqa   music_avqa/feats/vggish/<video_id>.npy (60, 128); feats/res18/<video_id>.npy (60, 512)
         or, with ``visual="res18_14x14"``, feats/res18_14x14/<video_id>.npy (60, 512, 14, 14)
         -> every 6th second -> T = 10 (visual maps returned as (10, 14, 14, 512))
Items: "benchmark", "sample_id", "audio_feat" float32 (T, Da), "visual_feat" float32 (T, Dv) or
(T, h, w, Dv), "target" as in raw mode. Missing files: one-line errors naming the file.
The other benchmarks have no official features: asking for them is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from avu.benchmarks import dataset_dir
from avu.data.datasets.base import worker_safe
from avu.errors import AvuInputError

AVE_AUDIO = "audio_feature.h5"
AVE_VISUAL = "visual_feature.h5"
AVE_KEY = "avadataset"
LLP_KINDS = {"vggish": (10, 128), "res152": (80, 2048), "r2plus1d_18": (10, 512)}
AVQA_VISUAL = {"res18": "res18", "res18_14x14": "res18_14x14"}
AVQA_STRIDE = 6


def load_npy(path: Path, shape: tuple[int, ...] | None, where: str) -> np.ndarray:
    """A feature .npy as float32, its shape checked; one-line errors naming the file."""
    if not path.is_file():
        raise AvuInputError(path, where, "feature file not found")
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise AvuInputError(path, where, f"unreadable .npy ({exc})") from None
    if shape is not None and tuple(arr.shape) != tuple(shape):
        raise AvuInputError(path, where, f"shape {tuple(arr.shape)}, expected {tuple(shape)}")
    return np.asarray(arr, dtype=np.float32)


class _TargetsMixin:
    """Targets identical to raw mode, from the same specs (media are never decoded here)."""

    def _targets(self, benchmark: str, root: Path, split: str, version: str | None):
        from avu.data.datasets.raw import specs_for

        self.specs, self.references, _ = specs_for(benchmark, root, split, version)
        self.ids = [s.sample_id for s in self.specs]

    def target(self, i: int) -> dict[str, Any]:
        spec = self.specs[i]
        out = dict(spec.target)
        for k, load in spec.lazy_target.items():
            out[k] = load()
        return {k: torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v for k, v in out.items()}


class AveFeatures(_TargetsMixin, Dataset):
    def __init__(self, root: Path, split: str, annotation_version: str | None = None):
        self.benchmark = "ave"
        self._targets("ave", root, split, annotation_version)
        folder = dataset_dir(root, "ave")
        self.paths = {"audio": folder / AVE_AUDIO, "visual": folder / AVE_VISUAL}
        self.rows = np.asarray(self.references.rows, dtype=np.int64)
        for name, path in self.paths.items():
            shape = self._shape(path)
            tail = (10, 128) if name == "audio" else (10, 7, 7, 512)
            if tuple(shape[1:]) != tail:
                raise AvuInputError(path, AVE_KEY, f"shape {tuple(shape)}, expected (N, {', '.join(map(str, tail))})")
            if len(self.rows) and self.rows.max() >= shape[0]:
                raise AvuInputError(path, AVE_KEY, f"{shape[0]} rows, but the split uses row {int(self.rows.max())}")
        self._files: dict[str, Any] | None = None

    @staticmethod
    def _shape(path: Path) -> tuple[int, ...]:
        import h5py

        if not path.is_file():
            raise AvuInputError(path, None, "feature file not found")
        try:
            with h5py.File(path, "r") as f:
                if AVE_KEY not in f:
                    raise AvuInputError(path, AVE_KEY, "dataset missing")
                return tuple(f[AVE_KEY].shape)
        except OSError as exc:
            raise AvuInputError(path, None, f"not a readable HDF5 file ({exc})") from None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_files"] = None  # h5py handles are opened per worker
        return state

    def _dataset(self, name: str):
        import h5py

        if self._files is None:
            self._files = {k: h5py.File(p, "r")[AVE_KEY] for k, p in self.paths.items()}
        return self._files[name]

    def __len__(self) -> int:
        return len(self.specs)

    @worker_safe
    def __getitem__(self, i: int) -> dict[str, Any]:
        row = int(self.rows[i])
        return {
            "benchmark": "ave", "sample_id": self.ids[i],
            "audio_feat": torch.from_numpy(np.asarray(self._dataset("audio")[row], np.float32)),
            "visual_feat": torch.from_numpy(np.asarray(self._dataset("visual")[row], np.float32)),
            "target": self.target(i),
        }


class LlpFeatures(_TargetsMixin, Dataset):
    def __init__(self, root: Path, split: str, annotation_version: str | None = None, motion: bool = True):
        self.benchmark = "llp"
        self._targets("llp", root, split, annotation_version)
        self.folder = dataset_dir(root, "llp") / "feats"
        self.motion = motion
        if not self.folder.is_dir():
            raise AvuInputError(self.folder, None, "LLP feature folder not found (expected feats/{vggish,res152,r2plus1d_18}/)")

    def __len__(self) -> int:
        return len(self.specs)

    def _feat(self, kind: str, sid: str) -> np.ndarray:
        return load_npy(self.folder / kind / f"{sid[:11]}.npy", LLP_KINDS[kind], f"sample {sid!r}")

    @worker_safe
    def __getitem__(self, i: int) -> dict[str, Any]:
        sid = self.ids[i]
        res = self._feat("res152", sid).reshape(10, 8, 2048).mean(axis=1)  # official: average 8 frames/s
        item = {"benchmark": "llp", "sample_id": sid,
                "audio_feat": torch.from_numpy(self._feat("vggish", sid)),
                "visual_feat": torch.from_numpy(np.ascontiguousarray(res, np.float32))}
        if self.motion:
            item["motion_feat"] = torch.from_numpy(self._feat("r2plus1d_18", sid))
        item["target"] = self.target(i)
        return item


class AvqaFeatures(_TargetsMixin, Dataset):
    def __init__(self, root: Path, split: str, annotation_version: str | None = None, visual: str = "res18"):
        self.benchmark = "avqa"
        if visual not in AVQA_VISUAL:
            raise AvuInputError(None, "visual", f"unknown MUSIC-AVQA visual feature {visual!r}; known: {sorted(AVQA_VISUAL)}")
        self._targets("avqa", root, split, annotation_version)
        self.folder = dataset_dir(root, "avqa") / "feats"
        self.visual = visual
        if not self.folder.is_dir():
            raise AvuInputError(self.folder, None, "MUSIC-AVQA feature folder not found (expected feats/vggish/, feats/res18/ ...)")
        self.video_ids = [s.media.key for s in self.specs]

    def __len__(self) -> int:
        return len(self.specs)

    @worker_safe
    def __getitem__(self, i: int) -> dict[str, Any]:
        vid, where = self.video_ids[i], f"sample {self.ids[i]!r}"
        audio = load_npy(self.folder / "vggish" / f"{vid}.npy", (60, 128), where)[::AVQA_STRIDE]
        if self.visual == "res18":
            folder = next((self.folder / d for d in ("res18", "resnet18") if (self.folder / d).is_dir()), self.folder / "res18")
            vis = load_npy(folder / f"{vid}.npy", (60, 512), where)[::AVQA_STRIDE]
        else:
            vis = load_npy(self.folder / "res18_14x14" / f"{vid}.npy", (60, 512, 14, 14), where)[::AVQA_STRIDE]
            vis = vis.transpose(0, 2, 3, 1)  # (10, 14, 14, 512), channels last like AVE
        return {"benchmark": "avqa", "sample_id": self.ids[i],
                "audio_feat": torch.from_numpy(np.ascontiguousarray(audio)),
                "visual_feat": torch.from_numpy(np.ascontiguousarray(vis)),
                "target": self.target(i)}




def build_features_dataset(benchmark: str, root: Path, split: str, annotation_version: str | None = None, **options):
    if benchmark == "ave":
        return AveFeatures(root, split, annotation_version, **options)
    if benchmark == "llp":
        return LlpFeatures(root, split, annotation_version, **options)
    if benchmark == "avqa":
        return AvqaFeatures(root, split, annotation_version, **options)
    raise AvuInputError(None, "mode", f"{benchmark} has no official pre-extracted features; use mode='raw'")
