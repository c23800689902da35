"""Transformer building blocks on `F.scaled_dot_product_attention` (fused kernels on GPU)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    """Multi-head attention; ``kv`` given: cross-attention, else self-attention."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"d_model {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, kv: torch.Tensor | None = None, *, causal: bool = False,
                key_padding: torch.Tensor | None = None) -> torch.Tensor:
        """``key_padding``: bool (B, S), True where the key is padding (ignored)."""
        b, n, d = x.shape
        src = x if kv is None else kv
        h = self.heads
        q = self.q(x).view(b, n, h, d // h).transpose(1, 2)
        k, v = self.kv(src).view(b, src.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)
        mask = None
        if key_padding is not None:
            mask = (~key_padding)[:, None, None, :]
            if causal:
                mask = mask & torch.ones(n, src.shape[1], dtype=torch.bool, device=x.device).tril()
                causal = False
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=causal, dropout_p=self.dropout if self.training else 0.0,
        )
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class MLP(nn.Sequential):
    def __init__(self, dim: int, ratio: int = 4, dropout: float = 0.0) -> None:
        super().__init__(nn.Linear(dim, ratio * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ratio * dim, dim))


class Block(nn.Module):
    """Pre-norm transformer block: self-attention, optional cross-attention, MLP."""

    def __init__(self, dim: int, heads: int, *, cross: bool = False, mlp_ratio: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, dropout)
        self.norm_x = nn.LayerNorm(dim) if cross else None
        self.cross = Attention(dim, heads, dropout) if cross else None
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, mlp_ratio, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None = None, *, causal: bool = False,
                key_padding: torch.Tensor | None = None, memory_padding: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), causal=causal, key_padding=key_padding))
        if self.cross is not None and memory is not None:
            x = x + self.drop(self.cross(self.norm_x(x), memory, key_padding=memory_padding))
        return x + self.drop(self.mlp(self.norm2(x)))


def conv_block(cin: int, cout: int, stride: int = 1, norm: str = "bn") -> nn.Sequential:
    """3x3 conv, normalisation, ReLU."""
    norm_layer = nn.BatchNorm2d(cout) if norm == "bn" else nn.GroupNorm(min(8, cout), cout)
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), norm_layer, nn.ReLU(inplace=True))


class _GradScale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad * ctx.scale, None


def grad_scale(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Identity forward; the backward gradient is multiplied by ``scale`` (0: stop-gradient)."""
    if scale == 1.0:
        return x
    if scale == 0.0:
        return x.detach()
    return _GradScale.apply(x, scale)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter elements (``trainable_only``: those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
