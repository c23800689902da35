"""Media IO: exact round trips, fixed bytes, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from avu.data import media
from avu.data.classes import AVSS_CLASSES, avss_palette
from avu.errors import AvuInputError


def test_wav_round_trip_is_exact_for_16_bit(tmp_path: Path):
    x = np.round(np.random.default_rng(0).uniform(-0.9, 0.9, 16000) * 32767) / 32767
    media.write_wav(tmp_path / "a.wav", x)
    y, sr = media.read_wav(tmp_path / "a.wav")
    assert sr == 16000 and y.dtype == np.float32
    assert np.array_equal(np.round(y * 32768).astype(int), np.round(x * 32767).astype(int))
    media.write_wav(tmp_path / "b.wav", x)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_wav_resampling_and_length_check(tmp_path: Path):
    media.write_wav(tmp_path / "a.wav", np.zeros(8000), sample_rate=8000)
    y, sr = media.read_wav(tmp_path / "a.wav", sample_rate=16000, expected_seconds=1.0)
    assert sr == 16000 and len(y) == 16000
    with pytest.raises(AvuInputError, match="truncated wav: 1.00 s, expected 2 s"):
        media.read_wav(tmp_path / "a.wav", expected_seconds=2.0)
    with pytest.raises(AvuInputError, match="audio file not found"):
        media.read_wav(tmp_path / "missing.wav")
    (tmp_path / "junk.wav").write_bytes(b"RIFFjunk")
    with pytest.raises(AvuInputError, match="unreadable wav"):
        media.read_wav(tmp_path / "junk.wav")


def test_images_are_deterministic_and_masks_decode(tmp_path: Path):
    img = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    for name in ("a.png", "b.png", "a.jpg", "b.jpg"):
        media.write_image(tmp_path / name, img)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a.jpg").read_bytes() == (tmp_path / "b.jpg").read_bytes()
    assert np.array_equal(media.read_frame(tmp_path / "a.png"), img)
    assert media.read_frame(tmp_path / "a.jpg", size=16).shape == (16, 16, 3)
    mask = np.zeros((8, 8), np.uint8)
    mask[2:5, 3:6] = 255
    media.write_image(tmp_path / "m.png", mask)
    assert media.read_binary_mask(tmp_path / "m.png").sum() == 9
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(AvuInputError, match="bad.png: unreadable image"):
        media.read_frame(tmp_path / "bad.png")


def test_avss_palette_round_trip(tmp_path: Path):
    pal = np.asarray(avss_palette(), np.uint8)
    assert len(pal) == len(AVSS_CLASSES) and len({tuple(c) for c in pal}) == 71
    labels = np.arange(71, dtype=np.uint8).reshape(1, 71).repeat(3, 0)
    media.write_image(tmp_path / "l.png", pal[labels])
    back = media.read_color_label(tmp_path / "l.png", pal)
    assert np.array_equal(back, labels)
    odd = pal[labels].copy()
    odd[0, 5] = (1, 2, 3)  # not a palette colour -> background, as officially
    media.write_image(tmp_path / "o.png", odd)
    assert media.read_color_label(tmp_path / "o.png", pal)[0, 5] == 0
