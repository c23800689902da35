"""Dense heads beside the token decoder.

- `MaskHead`: pixels for the mask tasks. The codec's presence tokens say which frames and
  classes sound; the head turns audio-conditioned patches, the guidance map and a finer
  skip feature map into per-pixel embeddings, and scores them against the embeddings of
  the class tokens themselves (``<background>``, ``<sounding>``, the AVSS class tokens), so
  mask classes and decoder tokens share one vocabulary.
- `ParsingHead`: LLP segment-level parsing under weak (video-level) supervision: per-segment
  audio and visual class probabilities, pooled over time and modality by learned
  attention (multiple-instance learning) into the video-level probability.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class MaskHead(nn.Module):
    def __init__(self, d_model: int, skip_channels: int, dim: int = 64, upsample: int = 2, norm: str = "bn") -> None:
        super().__init__()
        self.grid_in = nn.Conv2d(d_model + 1, dim, 1)
        self.skip_in = nn.Conv2d(skip_channels, dim, 1) if skip_channels else None
        self.upsample = upsample
        norm_layer = (lambda c: nn.BatchNorm2d(c)) if norm == "bn" else (lambda c: nn.GroupNorm(min(8, c), c))
        self.refine = nn.Sequential(
            nn.Conv2d(dim, dim, 3, padding=1, bias=False), norm_layer(dim), nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, 3, padding=1),
        )
        self.classes = nn.Linear(d_model, dim)
        self.dim = dim

    def pixel_embeddings(self, patches: torch.Tensor, map_logits: torch.Tensor, skip: torch.Tensor | None) -> torch.Tensor:
        """(B, T, h, w, d), (B, T, h, w), (B*T, C, H', W') -> (B*T, dim, H', W')."""
        b, t, h, w, d = patches.shape
        x = torch.cat([patches, map_logits[..., None]], dim=-1).reshape(b * t, h, w, d + 1).permute(0, 3, 1, 2)
        x = self.grid_in(x.contiguous())
        if self.skip_in is not None and skip is not None:
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False) + self.skip_in(skip)
        elif self.upsample > 1:
            x = F.interpolate(x, scale_factor=self.upsample, mode="bilinear", align_corners=False)
        return self.refine(x)

    def forward(self, pixels: torch.Tensor, class_embeddings: torch.Tensor, frames: int) -> torch.Tensor:
        """Logits (B, T, K, H', W') of K classes given their token embeddings (K, d)."""
        k = self.classes(class_embeddings)  # (K, dim)
        logits = torch.einsum("nchw,kc->nkhw", pixels, k) / math.sqrt(self.dim)
        n, kk, hh, ww = logits.shape
        return logits.view(n // frames, frames, kk, hh, ww)


class ParsingHead(nn.Module):
    """HAN-style multiple-instance pooling for weakly supervised audio-visual parsing."""

    def __init__(self, d_model: int, classes: int) -> None:
        super().__init__()
        self.prob = nn.Linear(d_model, classes)
        self.time_att = nn.Linear(d_model, classes)
        self.modal_att = nn.Linear(d_model, classes)

    def forward(self, audio: torch.Tensor, visual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, d) x2 -> frame_prob (B, T, 2, C) and global_prob (B, C)."""
        x = torch.stack([audio, visual], dim=2)
        frame_prob = torch.sigmoid(self.prob(x).float())
        time_w = self.time_att(x).float().softmax(dim=1)
        modal_w = self.modal_att(x).float().softmax(dim=2)
        global_prob = (frame_prob * time_w * modal_w).sum(dim=(1, 2)).clamp(1e-6, 1 - 1e-6)
        return frame_prob, global_prob
