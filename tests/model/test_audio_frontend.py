"""The log-mel front end cuts clips into whole-second segments (one-frame tasks get the whole
clip as one segment)."""

from __future__ import annotations

import torch

from avu.model.audio import LogMel


def test_segments():
    front = LogMel(16000, n_fft=512, hop=640, n_mels=40)
    wave = torch.randn(3, 160000)
    assert front(wave, segments=10).shape == (3, 10, 40, 25)
    assert front(wave, segments=1).shape == (3, 1, 40, 250)  # VGG-SS: the whole clip
    assert front(torch.randn(3, 80000), segments=5).shape == (3, 5, 40, 25)  # AVSBench S4/MS3: 5 s
    short = front(torch.randn(1, 70000), segments=5)  # zero-padded to whole seconds
    assert short.shape == (1, 5, 40, 25) and torch.isfinite(short).all()
