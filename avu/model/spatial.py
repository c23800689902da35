"""Cross-modal guidance spatial perception: each segment's audio token queries that
segment's visual patches.

Outputs per segment: the audio-guided visual token (attention-pooled patches), the
guidance map (patch logits; the localisation heatmap and the mask head's prior), a
location token (summary statistics of the map for the decoder, so box tokens can be
read off it) and audio-conditioned patches (FiLM) for the mask head.

``guided=False`` (ablation ``no_spatial``) replaces the audio query by a learned,
audio-independent query (a visual saliency map) and drops the FiLM conditioning, so the
model keeps spatial information but loses the audio guidance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class SpatialOutput:
    pooled: torch.Tensor       # (B, T, d) guided visual token
    patches: torch.Tensor      # (B, T, h, w, d) audio-conditioned patches
    map_logits: torch.Tensor   # (B, T, h, w) guidance map (pre-sigmoid)
    location: torch.Tensor     # (B, T, d) location token


class AudioGuidedSpatial(nn.Module):
    """Audio-queried multi-head attention over the patch grid of each segment."""

    #: side of the pooled map fed to the location token (independent of the grid size)
    LOC_GRID = 4

    def __init__(self, d_model: int, heads: int = 4, guided: bool = True, max_grid: int = 32,
                 key_dim: int = 16) -> None:
        super().__init__()
        self.heads, self.guided, self.key_dim = heads, guided, key_dim
        self.row = nn.Parameter(torch.zeros(max_grid, d_model))
        self.col = nn.Parameter(torch.zeros(max_grid, d_model))
        nn.init.normal_(self.row, std=0.02)
        nn.init.normal_(self.col, std=0.02)
        self.norm_v = nn.LayerNorm(d_model)
        self.norm_a = nn.LayerNorm(d_model)
        # queries and keys live in a small space (key_dim per head); values are the patches
        # themselves, pooled per head and projected once per segment (cheap on large grids)
        self.q = nn.Linear(d_model, heads * key_dim)
        self.k = nn.Linear(d_model, heads * key_dim)
        self.out = nn.Linear(heads * d_model, d_model)
        self.query = nn.Parameter(torch.zeros(d_model))  # used when not guided
        nn.init.normal_(self.query, std=0.02)
        self.film = nn.Linear(d_model, 2 * d_model) if guided else None
        if self.film is not None:
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)
        # the map is calibrated (scale, offset) so it can be trained as a per-patch logit
        self.map_scale = nn.Parameter(torch.tensor(1.0))
        self.map_bias = nn.Parameter(torch.tensor(0.0))
        loc_in = self.LOC_GRID * self.LOC_GRID + 6
        self.loc = nn.Sequential(nn.Linear(loc_in, d_model), nn.GELU(), nn.Linear(d_model, d_model))

    def forward(self, audio: torch.Tensor, patches: torch.Tensor) -> SpatialOutput:
        b, t, h, w, d = patches.shape
        patches = patches + (self.row[:h, None, :] + self.col[None, :w, :])
        pv = self.norm_v(patches).reshape(b, t, h * w, d)
        if self.guided:
            q = self.q(self.norm_a(audio))  # (B, T, d)
        else:
            q = self.q(self.query).expand(b, t, self.heads * self.key_dim)
        kd = self.key_dim
        qh = q.view(b, t, self.heads, kd)
        kh = self.k(pv).view(b, t, h * w, self.heads, kd)
        sim = torch.einsum("bthc,btphc->bthp", qh, kh) / math.sqrt(kd)  # (B, T, heads, hw)
        attn = sim.float().softmax(dim=-1).to(pv.dtype)
        pooled = torch.einsum("bthp,btpc->bthc", attn, pv).reshape(b, t, self.heads * d)
        pooled = self.out(pooled) + pv.mean(dim=2)
        map_logits = (sim.mean(dim=2) * self.map_scale + self.map_bias).view(b, t, h, w)
        location = self.loc(self._map_summary(map_logits))
        if self.film is not None:
            gamma, beta = self.film(self.norm_a(audio)).chunk(2, dim=-1)
            patches = patches * (1 + gamma[:, :, None, None, :]) + beta[:, :, None, None, :]
        return SpatialOutput(pooled, patches, map_logits, location)

    def _map_summary(self, map_logits: torch.Tensor) -> torch.Tensor:
        """Pooled map, soft-argmax centre and spread, peak and mean of the map."""
        b, t, h, w = map_logits.shape
        flat = map_logits.float().reshape(b * t, h * w)
        p = flat.softmax(dim=-1).view(b * t, h, w)
        ys = (torch.arange(h, device=p.device, dtype=p.dtype) + 0.5) / h
        xs = (torch.arange(w, device=p.device, dtype=p.dtype) + 0.5) / w
        py, px = p.sum(dim=2), p.sum(dim=1)
        cy, cx = (py * ys).sum(-1), (px * xs).sum(-1)
        sy = ((py * (ys - cy[:, None]) ** 2).sum(-1) + 1e-8).sqrt()
        sx = ((px * (xs - cx[:, None]) ** 2).sum(-1) + 1e-8).sqrt()
        sig = torch.sigmoid(flat)
        pooled = F.adaptive_avg_pool2d(sig.view(b * t, 1, h, w), self.LOC_GRID).flatten(1)
        stats = torch.stack([cx, cy, sx, sy, sig.amax(-1), sig.mean(-1)], dim=-1)
        out = torch.cat([pooled, stats], dim=-1).view(b, t, -1)
        return out.to(map_logits.dtype)
