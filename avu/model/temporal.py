"""Multi-scale temporal perception over the segment sequence.

The audio and visual segment tokens are average-pooled in time at several granularities
(``scales``: 1 = per second, 2 = pairs of seconds, ...). At each scale one or more
transformer blocks attend jointly over both modalities' pooled tokens, the result is
repeated back to one token per second, and the scales are fused by a linear layer into a
residual update. ``enabled=False`` (ablation ``no_temporal``) makes the module the identity.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from avu.model.layers import Block


class MultiScaleTemporal(nn.Module):
    def __init__(self, d_model: int, heads: int, scales: Sequence[int] = (1, 2, 4), depth: int = 1,
                 max_segments: int = 10, dropout: float = 0.0, enabled: bool = True) -> None:
        super().__init__()
        self.enabled = enabled
        self.scales = tuple(int(s) for s in scales)
        if not enabled:
            return
        self.modality = nn.Parameter(torch.zeros(2, d_model))
        self.pos = nn.ParameterList(
            [nn.Parameter(torch.zeros(math.ceil(max_segments / s), d_model)) for s in self.scales]
        )
        for p in [self.modality, *self.pos]:
            nn.init.normal_(p, std=0.02)
        self.blocks = nn.ModuleList(
            [nn.ModuleList([Block(d_model, heads, dropout=dropout) for _ in range(depth)]) for _ in self.scales]
        )
        self.fuse = nn.Linear(len(self.scales) * d_model, d_model)
        self.norm = nn.LayerNorm(len(self.scales) * d_model)

    def forward(self, audio: torch.Tensor, visual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, d) audio and visual segment tokens -> the same shapes, temporally contextualised."""
        if not self.enabled:
            return audio, visual
        b, t, d = audio.shape
        x = torch.stack([audio, visual], dim=2) + self.modality  # (B, T, 2, d)
        outs = []
        for scale, pos, blocks in zip(self.scales, self.pos, self.blocks):
            ts = math.ceil(t / scale)
            if scale > 1:
                pad = ts * scale - t
                y = x.permute(0, 2, 3, 1).reshape(b * 2, d, t)
                if pad:  # replicate the last segment so partial windows average real segments
                    y = F.pad(y, (0, pad), mode="replicate")
                y = F.avg_pool1d(y, scale).view(b, 2, d, ts).permute(0, 3, 1, 2)
            else:
                y = x
            y = (y + pos[:ts, None, :]).reshape(b, ts * 2, d)
            for block in blocks:
                y = block(y)
            y = y.view(b, ts, 2, d)
            if scale > 1:
                y = y.repeat_interleave(scale, dim=1)[:, :t]
            outs.append(y)
        x = x + self.fuse(self.norm(torch.cat(outs, dim=-1)))
        return x[:, :, 0], x[:, :, 1]
