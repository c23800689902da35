"""One exception type for bad user input.

Every problem with a user's file (predictions, annotations, data) is raised as
`AvuInputError`, whose message is a single line naming the file and the field or
sample id. The CLI prints it as ``avu: error: <message>`` and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path

EXIT_BAD_INPUT = 2


def one_line(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\n``, ``\\x1b``, ``\\u2028``).

    Field names, ids and paths come from users' files: a newline or terminal escape in
    one must not split the error line or reach the terminal raw.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class AvuInputError(Exception):
    """A user-supplied file or value is malformed.

    ``path``: the file at fault; ``where``: the field, key or sample id inside it.
    """

    def __init__(self, path: str | Path | None, where: str | None, message: str):
        self.path = None if path is None else str(path)
        self.where = where
        self.reason = " ".join(str(message).split())  # always one line
        parts = [p for p in (self.path, self.where) if p]
        super().__init__(one_line(": ".join(parts + [self.reason])))


class MissingSamplesError(AvuInputError):
    """Predictions do not cover every sample of the split (see ``--allow-partial``)."""
