"""Run the ``avu`` CLI in-process and capture exit code and output."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from avu.cli import main


@dataclass
class CliRun:
    code: int
    out: str
    err: str


def run_cli(*argv: str) -> CliRun:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse errors
            code = int(exc.code or 0)
    return CliRun(code, out.getvalue(), err.getvalue())
