"""The token decoder: a causal transformer over codec tokens, cross-attending to the fused
audio-visual memory; greedy decoding under the task grammar (avu.codec.grammar).

The output projection is tied to the token embedding; the vocabulary is padded to a
multiple of ``pad_to`` rows (Hopper-friendly matmul shapes), and padded rows are never
allowed by any grammar.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from avu.codec.grammar import Grammar
from avu.model.layers import Block


class TokenDecoder(nn.Module):
    def __init__(self, vocab_size: int, d_model: int, heads: int, depth: int, max_len: int = 64,
                 dropout: float = 0.0, pad_to: int = 1, shared_groups: Sequence[int] | None = None) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        padded = -(-vocab_size // pad_to) * pad_to
        self.embed = nn.Embedding(padded, d_model)
        nn.init.normal_(self.embed.weight, std=0.02)
        #: tokens of one group (class tokens of one world category in several benchmarks) share a
        #: group embedding added to their own; their own rows start at zero, so they start equal
        self.world_embed: nn.Embedding | None = None
        if shared_groups is not None and any(g >= 0 for g in shared_groups):
            groups = torch.full((padded,), -1, dtype=torch.long)
            groups[: len(shared_groups)] = torch.as_tensor(list(shared_groups), dtype=torch.long)
            self.world_embed = nn.Embedding(int(groups.max()) + 1, d_model)
            nn.init.normal_(self.world_embed.weight, std=0.02)
            with torch.no_grad():
                self.embed.weight[groups >= 0] = 0.0
            self.register_buffer("group_index", groups.clamp_min(0), persistent=False)
            self.register_buffer("group_on", (groups >= 0).unsqueeze(1).float(), persistent=False)
        self.pos = nn.Parameter(torch.zeros(max_len, d_model))
        nn.init.normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList([Block(d_model, heads, cross=True, dropout=dropout) for _ in range(depth)])
        self.norm = nn.LayerNorm(d_model)
        self.max_len = max_len

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor, memory_padding: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, L, V_padded) of the next token at every position of ``tokens`` (B, L)."""
        weight = self.weight()
        x = F.embedding(tokens, weight) + self.pos[: tokens.shape[1]]
        for block in self.blocks:
            x = block(x, memory, causal=True, memory_padding=memory_padding)
        return F.linear(self.norm(x), weight)

    def weight(self) -> torch.Tensor:
        """The (padded) token embedding matrix, input and output alike (tied)."""
        if self.world_embed is None:
            return self.embed.weight
        return self.embed.weight + self.world_embed.weight[self.group_index] * self.group_on

    @torch.no_grad()
    def greedy(self, first: torch.Tensor, memory: torch.Tensor, memory_padding: torch.Tensor | None,
               grammar: Grammar, max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens (B, <= max_len) starting with ``first`` (B,), and the chosen tokens' probabilities."""
        b = first.shape[0]
        tokens = first[:, None]
        probs = torch.ones(b, 1, device=first.device)
        states = [grammar.initial() for _ in range(b)]
        eos, pad = grammar.codec.eos, grammar.codec.pad
        for step in range(1, min(max_len, self.max_len)):
            logits = self.forward(tokens, memory, memory_padding)[:, -1].float()
            allowed = np.stack([grammar.allowed(s) for s in states])
            if step == max_len - 1:  # the last position can only close the sequence
                allowed = np.where(np.array([s == ("done",) for s in states])[:, None],
                                   allowed, np.eye(len(grammar.codec), dtype=bool)[eos][None])
            mask = torch.full_like(logits, float("-inf"))
            mask[:, : allowed.shape[1]] = torch.where(
                torch.from_numpy(allowed).to(logits.device), 0.0, float("-inf"))
            p = (logits + mask).softmax(dim=-1)
            nxt = p.argmax(dim=-1)
            tokens = torch.cat([tokens, nxt[:, None]], dim=1)
            probs = torch.cat([probs, p.gather(1, nxt[:, None])], dim=1)
            choice = nxt.tolist()
            states = [grammar.step(s, tok) for s, tok in zip(states, choice)]
            if all(tok in (eos, pad) for tok in choice):
                break
        return tokens, probs


def sequences(tokens: torch.Tensor) -> list[list[int]]:
    return [row for row in tokens.tolist()]


def pad_sequences(seqs: Sequence[Sequence[int]], pad: int, length: int | None = None) -> torch.Tensor:
    length = length or max(len(s) for s in seqs)
    out = torch.full((len(seqs), length), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        s = list(s)[:length]
        out[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return out
