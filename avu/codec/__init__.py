"""The token codec: one vocabulary and one encode/decode pair for all seven tasks.

- `TokenCodec` / `build_codec`: targets <-> token ids (avu/codec/codec.py)
- `Grammar`: next-token constraints for greedy decoding (avu/codec/grammar.py)
- `payload`: decoded targets -> evaluator payloads (avu/codec/payloads.py)
- `encode_text`: prompts and questions -> hashed word ids (avu/codec/text.py)
- `upper_bound`: metric of decode(encode(ground truth)) through the real evaluators
"""

from avu.codec.codec import (
    FRAMES, MASK_SIZE, ClassLists, CodecSettings, TokenCodec, build_codec, default_class_lists,
)
from avu.codec.grammar import Grammar
from avu.codec.payloads import payload
from avu.codec.text import encode_text, encode_texts

__all__ = [
    "FRAMES", "MASK_SIZE", "ClassLists", "CodecSettings", "TokenCodec", "build_codec",
    "default_class_lists", "Grammar", "payload", "encode_text", "encode_texts",
]
