"""Command-line interface: ``spectra <command> ...`` (also ``python -m spectra``).

Each command lives in its own module of this package and exposes
``register(subparsers)``, which adds an ``argparse`` sub-parser and sets ``func`` to a
callable ``func(args) -> int``.  The grammar the commands share (``-o/--output``,
``--quiet``, the list syntax, the defaults) is in :mod:`spectra.cli._common`.

Bad input, a usage error or a file that cannot be written is reported as one line
``spectra: error: ...`` on stderr with exit code 2 and no traceback.

Two options bound any command's cost and may stand anywhere on the command line:
``--max-memory SIZE`` (e.g. ``4G``; default half the RAM, or ``SPECTRA_MAX_MEMORY``): a
computation whose estimated memory is larger is refused before it starts; ``--timeout
SECONDS``: the command stops with exit code 2 once that much time has passed (checked
between steps of the long loops and by an interval timer; a single compiled call that is
already running finishes first).  SIGTERM, like Ctrl-C, stops the command and removes any
half-written output (exit code 143).
"""
from __future__ import annotations

import importlib
import os
import signal
import sys
import threading

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
    # read by main() before parsing, so that they may stand anywhere; listed here for --help
    parser.add_argument("--max-memory", metavar="SIZE",
                        help="refuse a computation estimated to need more memory than SIZE (e.g. 4G; default half "
                             "the RAM, or $SPECTRA_MAX_MEMORY); may stand anywhere on the command line")
    parser.add_argument("--timeout", metavar="SECONDS", type=float,
                        help="stop with exit code 2 after SECONDS; may stand anywhere on the command line")
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


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so that ``finally`` blocks remove temporary files."""


def _pop_budget_options(argv: list) -> tuple:
    """Remove ``--max-memory X`` and ``--timeout X`` (anywhere in argv); return (values, rest)."""
    found, rest, i = {}, [], 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in ("--max-memory", "--timeout"):
            if not eq:
                if i + 1 >= len(argv):
                    raise ValueError(f"{name} needs a value")
                value, i = argv[i + 1], i + 1
            found[name] = value
        elif arg == "--":
            rest.extend(argv[i:])
            break
        else:
            rest.append(arg)
        i += 1
    return found, rest


def _on_timer(signum, frame):
    from .._budget import TimeLimitExceeded

    raise TimeLimitExceeded(f"stopped after the time limit of {_on_timer.seconds:g} s (--timeout)")


def _on_term(signum, frame):
    raise _Terminated()


def _error(msg: str) -> int:
    print(f"spectra: error: {msg}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    """Entry point of the ``spectra`` console script; returns the exit code.

    ``--help`` and ``--version`` exit through ``SystemExit(0)`` as usual with argparse; a usage
    error returns 2 after its one-line message.
    """
    from .. import _budget

    parser = build_parser()
    try:
        budget, argv = _pop_budget_options(list(sys.argv[1:] if argv is None else argv))
        timeout = None
        if "--max-memory" in budget:
            _budget.set_memory_limit(_budget.parse_size(budget["--max-memory"], "--max-memory"))
        if "--timeout" in budget:
            try:
                timeout = float(budget["--timeout"])
            except ValueError:
                raise ValueError(f"--timeout must be a number of seconds, got {budget['--timeout']!r}") from None
            if not (timeout > 0 and timeout < 1e9):
                raise ValueError(f"--timeout must be a positive number of seconds, got {budget['--timeout']}")
    except ValueError as exc:
        return _error(str(exc))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code in (0, None):
            raise
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    main_thread = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, _on_term) if main_thread else None
    if timeout is not None and main_thread:
        _on_timer.seconds = timeout
        old_alarm = signal.signal(signal.SIGALRM, _on_timer)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with _budget.time_limit(timeout):
            return int(args.func(args) or 0)
    except _Terminated:
        print("spectra: terminated", file=sys.stderr)
        return 143
    except _budget.TimeLimitExceeded as exc:
        return _error(str(exc))
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
    finally:
        if main_thread:
            if timeout is not None:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old_alarm)
            signal.signal(signal.SIGTERM, old_term)
        _budget.set_memory_limit(None)
