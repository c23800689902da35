"""Task-specific text prompts (and AVQA questions) encoded into tokens that condition the decoder.

Each task has a short natural-language instruction (``model.prompt.texts``); AVQA appends
the question. Words are hashed into ``buckets`` ids (avu.codec.text), embedded, and passed
through a small transformer. With ``model.prompt.enabled=false`` (ablation ``no_prompts``)
only the AVQA question is kept (it is input, not instruction) and the decoder starts from a
generic ``<bos>`` instead of the task token.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from avu.codec.text import TEXT_PAD, encode_text, word_id, words
from avu.model.layers import Block

DEFAULT_PROMPTS = {
    "ave": "localize the audio visual event: which event class is both heard and seen, in which seconds",
    "llp": "parse the video: list every event class that is heard or seen",
    "vggss": "localize the sounding object: give the boxes around what makes the sound",
    "avs_s4": "segment the sounding object: which frames show the object making the sound",
    "avs_ms3": "segment all sounding objects: which frames show objects making the sounds",
    "avss": "segment and name the sounding objects: which classes sound in each frame",
    "avqa": "answer the question about the sounds and sights",
}


def prompt_text(task: str, texts: Mapping[str, str] | None, enabled: bool, question: str | None = None) -> str:
    parts = []
    if enabled:
        parts.append((texts or DEFAULT_PROMPTS).get(task, DEFAULT_PROMPTS[task]))
    if question:
        parts.append(question)
    return " ".join(parts)


def text_ids(task: str, questions: Sequence[str] | None, batch: int, *, texts: Mapping[str, str] | None,
             enabled: bool, buckets: int, max_words: int) -> torch.Tensor:
    """(B, max_words) word ids of the prompt (+ question) of each sample."""
    qs = list(questions) if questions is not None else [None] * batch
    return torch.from_numpy(np.stack([
        encode_text(prompt_text(task, texts, enabled, q), buckets, max_words) for q in qs
    ]))


def world_word_groups(buckets: int) -> np.ndarray:
    """Per word id: the world category (avu.data.world) that word names in a MUSIC-AVQA question,
    or -1. The words come from the answer vocabulary's instrument names ("acoustic_guitar":
    "acoustic" and "guitar"); a word that would name two categories names none. A hash
    collision gives another word the same id (rare with 2,048 buckets; avu.codec.text)."""
    from avu.data import world

    index = {c: i for i, c in enumerate(world.categories())}
    named: dict[int, set[int]] = {}
    for name, category in world.class_map("avqa").items():
        for w in words(name.replace("_", " ")):
            named.setdefault(word_id(w, buckets), set()).add(index[category])
    groups = np.full(buckets, -1, dtype=np.int64)
    for wid, cats in named.items():
        if len(cats) == 1:
            groups[wid] = next(iter(cats))
    return groups


class PromptEncoder(nn.Module):
    """Word ids (B, L) -> tokens (B, L, d) and the padding mask (B, L)."""

    def __init__(self, buckets: int, d_model: int, heads: int, depth: int = 1, max_words: int = 48) -> None:
        super().__init__()
        self.embed = nn.Embedding(buckets, d_model, padding_idx=TEXT_PAD)
        self.pos = nn.Parameter(torch.zeros(max_words, d_model))
        nn.init.normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList([Block(d_model, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(d_model)

    def forward(self, ids: torch.Tensor, extra: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``extra`` (B, L, d): added to the word embeddings (the world categories words name)."""
        padding = ids == TEXT_PAD
        x = self.embed(ids) + self.pos[: ids.shape[1]]
        if extra is not None:
            x = x + extra
        # rows with no words at all keep one (ignored later) key so attention stays defined
        safe = padding.clone()
        safe[:, 0] = False
        for block in self.blocks:
            x = block(x, key_padding=safe)
        return self.norm(x), padding
