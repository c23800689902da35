"""The torch Dataset every benchmark shares: samples that point at media, plus a decoded cache.

A benchmark module turns its annotation reader's `References` into `SampleSpec`s (sample
id, which media, the normalised target). `ClipDataset` decodes the media (frames resized
to ``frame_size``, audio at ``sample_rate``), caches it, and builds the item dict of the
data contract. Several samples may share one clip (MUSIC-AVQA questions share a video):
media are decoded and cached once per clip.

Cache: with ``cache=True`` every clip is decoded once, at construction (with a progress
bar), into ``.npy`` files under ``<data root>/.avu_cache/`` (or ``~/.cache/avu`` when the
root is read-only) and memory-mapped; later epochs, processes and DataLoader workers read
them with no decoding. The cache key covers the media paths, sizes and mtimes, so changed
files are decoded again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from avu import fileio
from avu.data import media
from avu.errors import AvuInputError

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
CACHE_DIR_NAME = ".avu_cache"
CACHE_FORMAT = 1


@dataclass
class ClipMedia:
    """Where one clip's media are: frame files (explicit, or a folder to sample) and a wav."""

    key: str
    wav: Path | None
    seconds: float
    n_frames: int
    #: explicit frame files (None entries are official padding frames: black)
    frames: list[Path | None] | None = None
    #: or a folder of frames sampled evenly (real extractions at any fps); 1-based names expected
    frame_dir: Path | None = None
    frame_pattern: str = "{k:06d}.jpg"


@dataclass
class SampleSpec:
    sample_id: str
    media: ClipMedia
    #: the benchmark-normalised target (numpy arrays, strings, tuples)
    target: dict[str, Any] = field(default_factory=dict)
    #: target entries decoded from files (masks): name -> loader returning a numpy array
    lazy_target: dict[str, Callable[[], np.ndarray]] = field(default_factory=dict)


def frame_files(clip: ClipMedia) -> list[Path | None]:
    """The clip's ``n_frames`` frame files; a missing file is an error naming it."""
    if clip.frames is not None:
        for p in clip.frames:
            if p is not None and not p.is_file():
                raise AvuInputError(p, f"clip {clip.key!r}", "frame not found")
        return list(clip.frames)
    folder = clip.frame_dir
    assert folder is not None
    if not folder.is_dir():
        raise AvuInputError(folder, f"clip {clip.key!r}", "frame folder not found")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
    if len(files) < clip.n_frames:
        present = {p.name for p in files}
        for k in range(1, clip.n_frames + 1):
            name = clip.frame_pattern.format(k=k)
            if name not in present:
                raise AvuInputError(folder / name, f"clip {clip.key!r}",
                                    f"frame not found ({len(files)} frames in the folder, {clip.n_frames} needed)")
        raise AvuInputError(folder, f"clip {clip.key!r}", f"{len(files)} frames, {clip.n_frames} needed")
    if len(files) == clip.n_frames:
        return list(files)
    # more frames than needed (e.g. 8 fps or a 60 s video): the frame in the middle of each segment
    idx = ((np.arange(clip.n_frames) + 0.5) * len(files) / clip.n_frames).astype(int)
    return [files[i] for i in idx]


def decode_frames(clip: ClipMedia, size: int) -> np.ndarray:
    """(T, size, size, 3) uint8; padding frames are black."""
    out = np.zeros((clip.n_frames, size, size, 3), np.uint8)
    for t, p in enumerate(frame_files(clip)):
        if p is not None:
            out[t] = media.read_frame(p, size)
    return out


def decode_audio(clip: ClipMedia, sample_rate: int, samples: int) -> np.ndarray:
    """(samples,) int16 (exact for 16-bit wavs), cropped or zero-padded to the clip length."""
    if clip.wav is None:
        return np.zeros(samples, np.int16)
    audio, _ = media.read_wav(clip.wav, expected_seconds=clip.seconds, sample_rate=sample_rate)
    audio = media.fit_length(audio, samples)
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


class DataInputError(AvuInputError):
    """An `AvuInputError` raised inside a DataLoader worker.

    PyTorch re-raises a worker's exception in the main process by calling its class with one
    argument, the worker's formatted traceback (``torch._utils.ExceptionWrapper.reraise``);
    plain `AvuInputError` cannot be built that way, so PyTorch would raise a RuntimeError
    holding the whole traceback. This subclass rebuilds the original one-line message from it.
    """

    def __init__(self, path, where: str | None = None, message: str | None = None):
        if where is None and message is None and isinstance(path, str) and "Traceback" in path:
            prefix = f"{type(self).__module__}.{type(self).__qualname__}: "
            lines = [ln for ln in path.splitlines() if ln.startswith(prefix)]
            super().__init__(None, None, lines[-1][len(prefix):] if lines else path.strip().splitlines()[-1])
        else:
            super().__init__(path, where, "" if message is None else message)


def worker_safe(getitem: Callable) -> Callable:
    """In a DataLoader worker, raise `AvuInputError` as `DataInputError` (one line in the main process)."""
    import functools

    @functools.wraps(getitem)
    def wrapper(self, i: int):
        try:
            return getitem(self, i)
        except AvuInputError as exc:
            if torch.utils.data.get_worker_info() is None or isinstance(exc, DataInputError):
                raise
            raise DataInputError(exc.path, exc.where, exc.reason) from None

    return wrapper


class ClipDataset(Dataset):
    """Raw-media dataset over `SampleSpec`s (see the module docstring)."""

    def __init__(self, benchmark: str, root: Path, split: str, specs: list[SampleSpec], *, frame_size: int = 64,
                 sample_rate: int = 16000, audio_seconds: float = 10.0, cache: bool = True,
                 cache_dir: str | Path | None = None, progress: bool = True, references: Any = None):
        self.benchmark = benchmark
        self.root = Path(root)
        self.split = split
        self.specs = specs
        self.frame_size = frame_size
        self.sample_rate = sample_rate
        self.samples_per_clip = round(audio_seconds * sample_rate)
        self.references = references
        self.ids = [s.sample_id for s in specs]
        keys: dict[str, int] = {}
        self.clips: list[ClipMedia] = []
        self.clip_of = np.zeros(len(specs), np.int64)
        for i, s in enumerate(specs):
            if s.media.key not in keys:
                keys[s.media.key] = len(self.clips)
                self.clips.append(s.media)
            self.clip_of[i] = keys[s.media.key]
        self._cache_paths: dict[str, Path] | None = None
        self._arrays: dict[str, np.ndarray] | None = None
        if cache:
            self._cache_paths = self._build_cache(cache_dir, progress)

    # ----------------------------------------------------------------------------- cache
    def _cache_key(self) -> str:
        h = hashlib.sha256()
        h.update(json.dumps([CACHE_FORMAT, self.benchmark, self.split, self.frame_size, self.sample_rate,
                             self.samples_per_clip, len(self.specs)]).encode())
        for clip in self.clips:
            paths = [clip.wav] + (list(clip.frames) if clip.frames is not None else [clip.frame_dir])
            for p in paths:
                if p is None:
                    h.update(b"-\n")
                    continue
                try:
                    st = p.stat()
                    h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}\n".encode())
                except FileNotFoundError:
                    h.update(f"{p}:missing\n".encode())
        for s in self.specs:
            h.update(f"{s.sample_id}:{s.media.key}:{sorted(s.lazy_target)}\n".encode())
        return h.hexdigest()[:20]

    def _cache_base(self, cache_dir: str | Path | None) -> Path:
        if cache_dir is not None:
            return Path(cache_dir)
        if os.environ.get("AVU_CACHE_DIR"):
            return Path(os.environ["AVU_CACHE_DIR"])
        preferred = self.root / CACHE_DIR_NAME
        if os.access(self.root, os.W_OK):
            return preferred
        return Path.home() / ".cache" / "avu"

    def _build_cache(self, cache_dir: str | Path | None, progress: bool) -> dict[str, Path]:
        base = self._cache_base(cache_dir) / f"{self.benchmark}-{self.split}-{self.frame_size}px-{self._cache_key()}"
        names = {"frames": base / "frames.npy", "audio": base / "audio.npy"}
        lazy_names = sorted({k for s in self.specs for k in s.lazy_target})
        names.update({f"target_{k}": base / f"target_{k}.npy" for k in lazy_names})
        if all(p.is_file() for p in names.values()):
            return names
        import contextlib

        n_frames = self.clips[0].n_frames if self.clips else 0
        base.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:  # written straight to disk (no full copy in memory), renamed at the end
            tmp = {name: stack.enter_context(fileio.atomic_path(path, suffix=".npy")) for name, path in names.items()}
            frames = np.lib.format.open_memmap(tmp["frames"], mode="w+", dtype=np.uint8,
                                               shape=(len(self.clips), n_frames, self.frame_size, self.frame_size, 3))
            audio = np.lib.format.open_memmap(tmp["audio"], mode="w+", dtype=np.int16,
                                              shape=(len(self.clips), self.samples_per_clip))
            bar = tqdm(range(len(self.clips)), desc=f"decoding {self.benchmark}/{self.split}", unit="clip",
                       disable=not progress, leave=False)
            for c in bar:
                frames[c] = decode_frames(self.clips[c], self.frame_size)
                audio[c] = decode_audio(self.clips[c], self.sample_rate, self.samples_per_clip)
            for k in lazy_names:
                first = np.asarray(self.specs[0].lazy_target[k]())
                arr = np.lib.format.open_memmap(tmp[f"target_{k}"], mode="w+", dtype=first.dtype,
                                                shape=(len(self.specs),) + first.shape)
                arr[0] = first
                for i in range(1, len(self.specs)):
                    value = np.asarray(self.specs[i].lazy_target[k]())
                    if value.shape != first.shape:
                        raise AvuInputError(None, f"sample {self.specs[i].sample_id!r}",
                                            f"{k} has shape {value.shape}, the first sample's is {first.shape}")
                    arr[i] = value
                arr.flush()
                del arr
            frames.flush()
            audio.flush()
            del frames, audio
        return names

    def _array(self, name: str) -> np.ndarray:
        if self._arrays is None:
            assert self._cache_paths is not None
            self._arrays = {k: np.load(p, mmap_mode="r") for k, p in self._cache_paths.items()}
        return self._arrays[name]

    def __getstate__(self):  # memory maps are reopened in each DataLoader worker, never pickled
        state = dict(self.__dict__)
        state["_arrays"] = None
        return state

    # ----------------------------------------------------------------------------- items
    def __len__(self) -> int:
        return len(self.specs)

    def clip_arrays(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(frames uint8 (T,H,W,3), audio int16 (S,)) of sample i."""
        c = int(self.clip_of[i])
        if self._cache_paths is not None:
            return np.asarray(self._array("frames")[c]), np.asarray(self._array("audio")[c])
        clip = self.clips[c]
        return decode_frames(clip, self.frame_size), decode_audio(clip, self.sample_rate, self.samples_per_clip)

    def target(self, i: int) -> dict[str, Any]:
        spec = self.specs[i]
        out = dict(spec.target)
        for k, load in spec.lazy_target.items():
            out[k] = np.asarray(self._array(f"target_{k}")[i]) if self._cache_paths is not None else load()
        return {k: torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v for k, v in out.items()}

    @worker_safe
    def __getitem__(self, i: int) -> dict[str, Any]:
        frames, audio = self.clip_arrays(i)
        return {
            "benchmark": self.benchmark,
            "sample_id": self.specs[i].sample_id,
            "audio": torch.from_numpy(audio.astype(np.float32) / 32768.0),
            "frames": torch.from_numpy(np.ascontiguousarray(frames.transpose(0, 3, 1, 2))).float().div_(255.0),
            "target": self.target(i),
        }
