"""Command-line interface: ``spectra <command> ...`` (also ``python -m spectra``).

Each command lives in its own module of this package and exposes
``register(subparsers)``, which adds an ``argparse`` sub-parser and sets ``func`` to a
callable ``func(args) -> int``.  Bad input (``ValueError``/``TypeError``) is reported as a
one-line ``spectra: error: ...`` on stderr with exit code 2 and no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Order shown in ``spectra --help``.
COMMANDS = ["eigen", "grid", "compare_domains", "validate", "sweep", "reproduce"]

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="spectra",
        description="Exact infinite-width CK/NTK spectra of MLPs, and finite networks measured against them.",
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


class _ArgError(Exception):
    pass


def main(argv=None) -> int:
    """Entry point of the ``spectra`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"spectra: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("spectra: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
