"""The markdown tables avu writes: ``| a | b |`` rows under a ``|---|---|`` rule, cells unpadded,
``|`` inside a cell escaped.

tabulate's ``pipe`` and ``github`` formats pad every cell to its column's width, which would
rewrite every committed table (leaderboards/*.md, the README's leaderboard block), so the
compact form is kept here, once."""

from __future__ import annotations

from collections.abc import Sequence


def escape(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(escape(str(v)) for v in row) + " |" for row in rows]
    return "\n".join(lines)
