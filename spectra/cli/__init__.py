"""Command-line interface: ``spectra <command> ...`` (also ``python -m spectra``).

Each command lives in its own module of this package and exposes
``register(subparsers)``, which adds an ``argparse`` sub-parser and sets ``func`` to a
callable ``func(args) -> int``.  The grammar the commands share (``-o/--output``,
``--quiet``, the list syntax, the defaults) is in :mod:`spectra.cli._common`.

Bad input, a usage error or a file that cannot be written is reported as one line
``spectra: error: ...`` on stderr with exit code 2 and no traceback.
"""
from __future__ import annotations

import importlib
import os
import sys

from ._common import Parser

# Order shown in ``spectra --help``.
COMMANDS = ["eigen", "grid", "compare_domains", "validate", "sweep", "reproduce", "learning_curve"]

__all__ = ["main", "build_parser"]


def build_parser() -> Parser:
    from .. import __version__

    parser = Parser(
        prog="spectra",
        description="Exact infinite-width CK/NTK spectra of MLPs, and finite networks measured against them. "
                    "Shared grammar: -o/--output FILE where a command writes a result, --quiet everywhere, "
                    "lists as comma-separated items with START:STOP:NUM ranges (e.g. --degrees 0,1,5:10:6).",
    )
    parser.add_argument("--version", action="version", version=f"spectra {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet is simply not offered
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        mod.register(sub)
    return parser


def _error(msg: str) -> int:
    print(f"spectra: error: {msg}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    """Entry point of the ``spectra`` console script; returns the exit code.

    ``--help`` and ``--version`` exit through ``SystemExit(0)`` as usual with argparse; a usage
    error returns 2 after its one-line message.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code in (0, None):
            raise
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError) as exc:
        return _error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except KeyboardInterrupt:
        print("spectra: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early (before OSError: a subclass)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ArithmeticError as exc:  # a computation that cannot be carried out (overflow, precision cap, ...)
        from ..analytic.accuracy import AccuracyError

        msg = str(exc).splitlines()[0] if str(exc) else "no message"
        if isinstance(exc, AccuracyError):
            print(f"spectra: error: {msg}", file=sys.stderr)
            return 3
        return _error(f"{type(exc).__name__}: {msg}")
    except OSError as exc:  # unwritable output, missing config, unreachable scheduler, ...
        reason = exc.strerror or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return _error(f"{exc.filename}: {reason}" if exc.filename is not None else reason)
