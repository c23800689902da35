"""The ``avu`` command line. Each subcommand lives in its own module, imported lazily.

A subcommand module defines ``configure(parser)`` and ``run(args) -> int``. Bad input
(`AvuInputError`) is printed as one line, ``avu: error: <file>: <field>: <reason>``, with
exit code 2 and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn, Sequence

from avu import __version__
from avu.errors import EXIT_BAD_INPUT, AvuInputError, one_line

#: subcommand -> (module, one-line help)
COMMANDS = {
    "evaluate": ("avu.scoring", "score a prediction file with a benchmark's evaluator"),
    "data": ("avu.data.cli", "generate the embedded suite (synth), render examples (show)"),
    "predict": ("avu.inference", "write a trained checkpoint's predictions in the documented formats"),
    "manifest": ("avu.data.manifest", "build or check the manifests of the real test splits"),
    "profile": ("avu.profile.cli", "time a model: throughput, latency, FLOPs, MFU, memory, energy"),
    "explore": ("avu.explore.cli", "write a static site to browse a report's or a result's samples"),
}


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line, ``avu evaluate: error: ...``, exit 2, like bad input; the full
    usage only on ``--help``. Subcommand parsers inherit the class."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {one_line(message)}\n")


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = OneLineParser(prog="avu", description="avu: audio-visual benchmark harness")
    parser.add_argument("--version", action="version", version=f"avu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in commands or COMMANDS:
        module_name, help_text = COMMANDS[name]
        p = sub.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.configure(p)
        p.set_defaults(_run=module.run, _parser=p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # import only the module of the chosen subcommand, so `avu evaluate` stays fast
    chosen = [a for a in argv[:1] if a in COMMANDS]
    parser = build_parser(chosen or None)
    args, extra = parser.parse_known_args(argv)
    if extra:  # name the subcommand in the error, as its own parser does
        args._parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args._run(args) or 0)
    except AvuInputError as exc:
        print(f"avu: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("avu: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
