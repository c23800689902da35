"""Which class tokens name the same world category (avu.data.world), for shared embeddings.

The codec has one class namespace per benchmark (``ave:Bark``, ``llp:Dog``, ``avss:dog``,
answers such as ``ans:cello``); ``world_token_groups`` gives each token the index of its world
category, or -1, so the decoder can add one learned embedding per category to the tokens of
every benchmark that names it (``model.decoder.share_world_classes``).
"""

from __future__ import annotations

from avu.codec.codec import NAMESPACE, TokenCodec
from avu.data import world

#: the world table's benchmark for each codec namespace (AVQA answers: its instruments)
_TABLE_OF = {ns: bench for bench, ns in NAMESPACE.items()}


def world_token_groups(codec: TokenCodec) -> list[int]:
    """Per token id: the world category index of that class token, or -1."""
    index = {c: i for i, c in enumerate(world.categories())}
    groups = [-1] * len(codec)
    for ns, names in codec.classes.as_dict().items():
        mapping = world.class_map(_TABLE_OF[ns])
        for token, name in zip(codec.class_ids(ns), names):
            if name in mapping:  # AVQA: numbers, yes/no, places have no category
                groups[token] = index[mapping[name]]
    return groups


__all__ = ["world_token_groups"]
