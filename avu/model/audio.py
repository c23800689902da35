"""Audio encoders: a torchaudio log-mel front end + CNN, or a projection of pre-extracted features.

Both give one token per one-second segment, ``(B, T, d)``.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
import torchaudio
from torch import nn

from avu.model.layers import conv_block


class LogMel(nn.Module):
    """Waveform (B, S) -> log-mel per segment (B, T, n_mels, frames_per_segment)."""

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, hop: int = 160, n_mels: int = 64,
                 segments: int = 10) -> None:
        super().__init__()
        self.sample_rate, self.hop, self.segments = sample_rate, hop, segments
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels, power=2.0, center=True,
        )
        self.frames_per_segment = sample_rate // hop

    @torch.no_grad()
    def forward(self, wave: torch.Tensor, segments: int | None = None) -> torch.Tensor:
        """The clip is cut into ``segments`` equal whole-second parts (a one-frame task such
        as VGG-SS gets the whole clip as one segment); short clips are zero-padded."""
        segments = segments or self.segments
        seconds = max(segments, int(round(wave.shape[-1] / self.sample_rate)))
        seconds = -(-seconds // segments) * segments
        need = seconds * self.sample_rate
        wave = wave.float()
        if wave.shape[-1] < need:
            wave = torch.nn.functional.pad(wave, (0, need - wave.shape[-1]))
        spec = torch.log(self.mel(wave[..., :need]) + 1e-6)  # (B, n_mels, frames)
        f = self.frames_per_segment * (seconds // segments)
        spec = spec[..., : segments * f]
        b, m, _ = spec.shape
        return spec.view(b, m, segments, f).permute(0, 2, 1, 3).contiguous()


class AudioCNN(nn.Module):
    """Log-mel segments (B, T, M, F) -> (B, T, d): stride-2 conv blocks, mean+max pooling."""

    def __init__(self, d_model: int, channels: tuple[int, ...] = (32, 64, 128), norm: str = "bn") -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for c in channels:
            layers.append(conv_block(cin, c, stride=2, norm=norm))
            cin = c
        self.body = nn.Sequential(*layers)
        self.proj = nn.Linear(2 * cin, d_model)
        # log-mel has a large offset; a learned affine normalisation of the input
        self.input_norm = nn.BatchNorm2d(1) if norm == "bn" else nn.GroupNorm(1, 1)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        b, t, m, f = mel.shape
        x = self.input_norm(mel.reshape(b * t, 1, m, f).float() if mel.dtype == torch.float16 else mel.reshape(b * t, 1, m, f))
        x = self.body(x.contiguous(memory_format=torch.channels_last) if x.is_cuda else x)
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)
        return self.proj(pooled).view(b, t, -1)


class AudioFeatureProjector(nn.Module):
    """Pre-extracted per-segment features (B, T, Da) -> (B, T, d)."""

    def __init__(self, in_dim: int, d_model: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.LayerNorm(in_dim), nn.Linear(in_dim, d_model))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.proj(feats.float())


def build_audio(cfg: Mapping[str, Any], d_model: int) -> tuple[nn.Module, LogMel | None]:
    """The audio encoder and, for raw input, its log-mel front end."""
    kind = cfg["kind"]
    if kind == "features":
        return AudioFeatureProjector(int(cfg["feature_dim"]), d_model), None
    if kind != "cnn":
        raise ValueError(f"model.audio.kind must be cnn|features, got {kind!r}")
    mel = cfg["mel"]
    front = LogMel(sample_rate=int(mel["sample_rate"]), n_fft=int(mel["n_fft"]), hop=int(mel["hop"]),
                   n_mels=int(mel["n_mels"]))
    return AudioCNN(d_model, tuple(cfg["channels"]), cfg["norm"]), front
