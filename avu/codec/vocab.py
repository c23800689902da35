"""One output vocabulary for every task: named groups of tokens laid out in a fixed order.

The vocabulary is a pure function of the codec settings and the class lists, so the same
settings always give the same token ids (checkpoints store the settings, not the ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from avu import BENCHMARK_IDS

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
#: markers inside sequences (LLP modality sections, box starts, mask classes)
AUDIO, VISUAL, BOX, SOUNDING, BACKGROUND = "<audio>", "<visual>", "<box>", "<sounding>", "<background>"
MARKERS = (AUDIO, VISUAL, BOX, SOUNDING, BACKGROUND)


def task_token(task: str) -> str:
    return f"<task:{task}>"


def time_token(t: int) -> str:
    return f"<t:{t}>"


def frame_token(k: int) -> str:
    return f"<f:{k}>"


def coord_token(i: int) -> str:
    return f"<xy:{i}>"


def run_token(n: int) -> str:
    return f"<run:{n}>"


def class_token(namespace: str, name: str) -> str:
    return f"{namespace}:{name}"


@dataclass
class Vocabulary:
    """Token strings with ids, grouped in named contiguous ranges."""

    groups: list[tuple[str, list[str]]]
    tokens: list[str] = field(init=False)
    ranges: dict[str, range] = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = []
        self.ranges = {}
        for name, members in self.groups:
            start = len(self.tokens)
            self.tokens.extend(members)
            self.ranges[name] = range(start, len(self.tokens))
        self._ids = {tok: i for i, tok in enumerate(self.tokens)}
        if len(self._ids) != len(self.tokens):
            dup = sorted({t for t in self.tokens if self.tokens.count(t) > 1})
            raise ValueError(f"duplicate tokens in vocabulary: {dup[:5]}")

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._ids

    def id(self, token: str) -> int:
        return self._ids[token]

    def get(self, token: str, default: int | None = None) -> int | None:
        return self._ids.get(token, default)

    def token(self, index: int) -> str:
        return self.tokens[index]

    def group_of(self, index: int) -> str:
        for name, r in self.ranges.items():
            if index in r:
                return name
        raise IndexError(index)

    def ids(self, tokens: Iterable[str]) -> list[int]:
        return [self._ids[t] for t in tokens]


def build_vocabulary(
    classes: dict[str, Sequence[str]],
    *,
    max_time: int,
    coord_bins: int,
    max_run: int,
) -> Vocabulary:
    """The layout: specials, task tokens, markers, time boundaries, frame indices, coordinates,
    run lengths, classes.

    ``classes`` maps a namespace (``ave``, ``llp``, ``avss``, ``ans``) to its class names in
    the benchmark's index order; the AVE background class is left out (background is
    "no span"), and so is the AVSS background (it is the ``<background>`` marker).
    """
    groups: list[tuple[str, list[str]]] = [
        ("special", list(SPECIALS)),
        ("task", [task_token(b) for b in BENCHMARK_IDS]),
        ("marker", list(MARKERS)),
        ("time", [time_token(t) for t in range(max_time + 1)]),
        ("frame", [frame_token(k) for k in range(max_time)]),
        ("coord", [coord_token(i) for i in range(coord_bins)]),
        ("run", [run_token(n) for n in range(1, max_run + 1)]),
    ]
    for namespace, names in classes.items():
        groups.append((f"class:{namespace}", [class_token(namespace, n) for n in names]))
    return Vocabulary(groups)
