"""Reading and writing the media of a clip: 16-bit PCM wav, RGB frames, masks.

Writers are deterministic (fixed encoder settings, no metadata or timestamps), so a
generated suite is byte-identical for the same seed. Readers raise `AvuInputError`
with one line naming the file, so a bad file is reported clearly even from inside a
DataLoader worker.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
from PIL import Image

from avu.errors import AvuInputError

#: encoder settings that fix the bytes of every written image
PNG_COMPRESS_LEVEL = 1
JPEG_QUALITY = 90


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int = 16000) -> None:
    """Write mono float audio in [-1, 1] as 16-bit PCM (clipped)."""
    pcm = np.clip(np.round(np.asarray(audio, dtype=np.float64) * 32767.0), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    Path(path).write_bytes(buf.getvalue())


def read_wav(path: str | Path, *, expected_seconds: float | None = None, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read a PCM wav as float32 mono in [-1, 1]; returns (audio, sample_rate).

    With ``expected_seconds``, a file shorter than that (by more than 1 %) is an error:
    a truncated download or copy is reported instead of silently padded.
    With ``sample_rate``, audio at another rate is resampled (linear interpolation).
    """
    path = Path(path)
    if not path.is_file():
        raise AvuInputError(path, None, "audio file not found")
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError, OSError) as exc:
        raise AvuInputError(path, None, f"unreadable wav ({exc})") from None
    if width not in (1, 2, 4):
        raise AvuInputError(path, None, f"unsupported sample width {width} bytes")
    got = len(raw) // (width * channels)
    if got < n:
        raise AvuInputError(path, None, f"truncated wav: header says {n} samples, file holds {got}")
    dtype = {1: np.uint8, 2: "<i2", 4: "<i4"}[width]
    data = np.frombuffer(raw[: got * width * channels], dtype=dtype).astype(np.float32)
    if width == 1:
        data = (data - 128.0) / 128.0
    else:
        data /= float(2 ** (8 * width - 1))
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    if expected_seconds is not None and len(data) < 0.99 * expected_seconds * rate:
        raise AvuInputError(path, None, f"truncated wav: {len(data) / rate:.2f} s, expected {expected_seconds:g} s")
    if sample_rate is not None and rate != sample_rate:
        data = resample(data, rate, sample_rate)
        rate = sample_rate
    return data, rate


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Linear-interpolation resampling (adequate for the harness; not band-limited)."""
    n_out = round(len(audio) * rate_out / rate_in)
    t = np.arange(n_out, dtype=np.float64) * (rate_in / rate_out)
    return np.interp(t, np.arange(len(audio)), audio).astype(np.float32)


def fit_length(audio: np.ndarray, n: int) -> np.ndarray:
    """Crop or zero-pad to exactly ``n`` samples."""
    if len(audio) >= n:
        return audio[:n]
    return np.pad(audio, (0, n - len(audio)))


def encode_image(array: np.ndarray, fmt: str) -> bytes:
    """Encode an HxWx3 uint8 (or HxW / palette) image with fixed settings."""
    img = array if isinstance(array, Image.Image) else Image.fromarray(array)
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL, optimize=False)
    elif fmt in ("jpg", "jpeg"):
        img.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False, subsampling=0)
    else:  # pragma: no cover - programming error
        raise ValueError(fmt)
    return buf.getvalue()


def write_image(path: str | Path, array: np.ndarray) -> None:
    """Write an image; the format follows the suffix (.png / .jpg)."""
    path = Path(path)
    Path(path).write_bytes(encode_image(array, path.suffix.lstrip(".").lower()))


def _open(path: Path) -> Image.Image:
    if not path.is_file():
        raise AvuInputError(path, None, "image file not found")
    try:
        img = Image.open(path)
        img.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise AvuInputError(path, None, f"unreadable image ({exc})") from None
    return img


def read_frame(path: str | Path, size: int | None = None) -> np.ndarray:
    """An RGB frame as uint8 (H, W, 3), resized (bilinear) to size x size when given."""
    path = Path(path)
    if not path.is_file():
        raise AvuInputError(path, None, "frame not found")
    try:
        img = Image.open(path)
        if size is not None and img.format == "JPEG":
            img.draft("RGB", (size, size))  # DCT-domain downscale: much faster decoding
        img = img.convert("RGB")
    except (OSError, SyntaxError, ValueError) as exc:
        raise AvuInputError(path, None, f"unreadable image ({exc})") from None
    if size is not None and img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def read_binary_mask(path: str | Path, size: int | None = None) -> np.ndarray:
    """A {0,1} uint8 mask (H, W): any non-zero pixel is foreground (S4 mode '1' / MS3 palette)."""
    img = _open(Path(path))
    arr = np.asarray(img.convert("L") if img.mode not in ("1", "L", "P") else img)
    if arr.ndim == 3:
        arr = arr[..., 0]
    mask = (arr > 0).astype(np.uint8)
    if size is not None and mask.shape != (size, size):
        mask = np.asarray(Image.fromarray(mask).resize((size, size), Image.NEAREST))
    return mask


def read_color_label(path: str | Path, palette: np.ndarray, size: int | None = None) -> np.ndarray:
    """Class map (H, W) uint8 from an RGB colour mask by exact palette match; unknown colours -> 0.

    This is the official AVSS rule (``color_mask_to_label``): exact RGB equality, argmax
    over the palette, so a colour not in the palette becomes class 0 (background).
    """
    img = _open(Path(path)).convert("RGB")
    if size is not None and img.size != (size, size):
        img = img.resize((size, size), Image.NEAREST)
    rgb = np.asarray(img, dtype=np.int64)
    key = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    pal = np.asarray(palette, dtype=np.int64)
    pal_key = (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]
    lut = {int(k): i for i, k in reversed(list(enumerate(pal_key)))}  # first match wins, like argmax
    uniq, inv = np.unique(key, return_inverse=True)
    cls = np.array([lut.get(int(u), 0) for u in uniq], dtype=np.uint8)
    return cls[inv].reshape(key.shape)
