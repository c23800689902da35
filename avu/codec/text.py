"""Input text (task prompts, AVQA questions) as word ids by stable hashing.

A fixed number of hash buckets means the model can be built before any data is seen and
the same word gets the same id on every machine (blake2b, not Python's salted ``hash``).
With 2,048 buckets the ~200 words of MUSIC-AVQA questions and the prompts collide with
probability ~1 - exp(-200^2 / (2 * 2047)) per pair set, i.e. a handful of shared ids at
most; a collision only merges two word embeddings.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Sequence

import numpy as np

TEXT_PAD = 0
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def words(text: str) -> list[str]:
    """Lower-cased words; punctuation (incl. the full-width question mark) dropped."""
    return _WORD.findall(text.lower())


@functools.lru_cache(maxsize=65536)
def word_id(word: str, buckets: int) -> int:
    digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
    return 1 + int.from_bytes(digest, "little") % (buckets - 1)


def encode_text(text: str, buckets: int, max_words: int) -> np.ndarray:
    """Word ids, padded with 0 (or cut) to ``max_words``."""
    ids = [word_id(w, buckets) for w in words(text)][:max_words]
    out = np.zeros(max_words, dtype=np.int64)
    out[: len(ids)] = ids
    return out


def encode_texts(texts: Sequence[str], buckets: int, max_words: int) -> np.ndarray:
    return np.stack([encode_text(t, buckets, max_words) for t in texts]) if texts else np.zeros((0, max_words), np.int64)
