"""The grammar every ``spectra`` command shares.

* ``-o/--output FILE`` on every command that writes a result (stdout when omitted), written
  atomically; ``--quiet`` on every command (no progress, no "wrote FILE" notes);
* one "wrote FILE" line per file written, always on stderr (:func:`note_written`);
* one list syntax: comma-separated items, each a number or an inclusive ``START:STOP:NUM``
  range (``--degrees 0,1,5:10:6``, ``--weight-var 1:5:41``), parsed by :func:`list_type`;
* the same network defaults everywhere (depth 2, relu, NTK, weight_var 2, bias_var 0) unless
  a command documents its reason (:func:`add_kernel_args`);
* bad input: one ``spectra: error: ...`` line on stderr and exit code 2 (:class:`Parser`);
  a value that starts with ``-`` and is not a number (``-inf``) must be attached with ``=``
  (``--bias-var=-inf``), as the error then says;
* ``--plot FILE`` needs an image extension (``.png``, ``.pdf``, ``.svg``, ...), checked before any
  work: the extension picks the format, and a name without one is refused instead of silently
  getting a PNG.
"""
from __future__ import annotations

import argparse
import errno
import os
import re
import sys

import numpy as np

__all__ = ["LIST_HELP", "PLOT_FORMATS", "Parser", "add_kernel_args", "add_output_args", "check_cube_cost",
           "check_writable", "choice_list_type", "flatten", "list_type", "note_written", "parse_list", "scalar_type",
           "write_output"]

# Inclusive ranges are capped so that a typo cannot allocate gigabytes.
_MAX_RANGE = 1_000_000
LIST_HELP = "comma-separated; items may be START:STOP:NUM ranges"
#: File extensions ``--plot`` accepts (matplotlib's savefig formats).
PLOT_FORMATS = ("png", "pdf", "svg", "svgz", "eps", "ps", "pgf", "jpg", "jpeg", "tif", "tiff", "webp", "gif",
                "avif", "raw", "rgba")


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line (``spectra: error: ...``), exit code 2."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Treat "-1", "-0.5", "-1:1:3" as values, not as unknown options: the value checks then
        # give a message naming the argument and its range instead of "expected one argument".
        self._negative_number_matcher = re.compile(r"^-\.?\d[\d.eE+\-:,]*$")

    def error(self, message):
        if "expected one argument" in message or "expected at least one argument" in message:
            message += " (a value that starts with '-' must be attached with '=', e.g. --bias-var=-1:1:3)"
        message = " ".join(str(message).split())  # one line, whatever the message holds
        sys.stderr.write(f"spectra: error: {message} (see '{self.prog} --help')\n")
        sys.exit(2)

    def parse_known_args(self, args=None, namespace=None):
        ns, rest = super().parse_known_args(args, namespace)
        plot = getattr(ns, "plot", None)
        if isinstance(plot, str) and plot not in ("", "-"):
            ext = os.path.splitext(plot)[1].lstrip(".").lower()
            if ext not in PLOT_FORMATS:
                self.error(f"argument --plot: {plot!r} needs an image extension ({', '.join(PLOT_FORMATS[:4])}, ...): "
                           f"the extension picks the format" + (f"; {ext!r} is not one" if ext else ""))
        return ns, rest


# ---------------------------------------------------------------------------------------------
# lists
# ---------------------------------------------------------------------------------------------
def _number(text: str, integer: bool):
    if integer:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None


def _range(item: str, integer: bool) -> np.ndarray:
    parts = item.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise ValueError(f"a range is START:STOP:NUM, got {item!r}")
    start, stop = _number(parts[0].strip(), integer), _number(parts[1].strip(), integer)
    try:
        num = int(parts[2])
    except ValueError:
        raise ValueError(f"NUM of the range {item!r} must be an integer") from None
    if not 1 <= num <= _MAX_RANGE:
        raise ValueError(f"NUM of the range {item!r} must be in [1, {_MAX_RANGE}]")
    vals = np.linspace(start, stop, num)
    if integer:
        ints = np.round(vals)
        if not np.allclose(vals, ints, rtol=0, atol=1e-9):
            raise ValueError(f"the range {item!r} gives non-integer values; "
                             f"choose NUM so that (STOP-START)/(NUM-1) is an integer")
        return ints.astype(np.int64)
    return vals


def parse_list(text: str, flag: str, *, integer: bool = False):
    """Parse ``"a,b,START:STOP:NUM,..."`` into a list of ints or a float array.

    Parameters
    ----------
    text : str
        Comma-separated items; each is a number or an inclusive range ``START:STOP:NUM``
        (``numpy.linspace(START, STOP, NUM)``).  Empty items (``"8,,16"``) are refused.
    flag : str
        The option's name, used in error messages.
    integer : bool, default False
        Require integers (a range must then give integers, e.g. ``0:4:3``).

    Returns
    -------
    list of int or numpy.ndarray
        ``list`` of Python ints if ``integer``, else a float64 array.

    Examples
    --------
    >>> parse_list("0,1,5:10:6", "--degrees", integer=True)
    [0, 1, 5, 6, 7, 8, 9, 10]
    >>> parse_list("1:2:3", "--weight-var")
    array([1. , 1.5, 2. ])
    >>> parse_list("8,,16", "--dims", integer=True)
    Traceback (most recent call last):
    ...
    ValueError: --dims: empty item in '8,,16' (comma-separated; items may be START:STOP:NUM ranges)
    """
    text = str(text)
    items = [t.strip() for t in text.split(",")]
    if any(not t for t in items):
        raise ValueError(f"{flag}: empty item in {text!r} ({LIST_HELP})")
    chunks = []
    try:
        for item in items:
            if ":" in item:
                chunks.append(_range(item, integer))
            else:
                chunks.append(np.array([_number(item, integer)], dtype=np.int64 if integer else np.float64))
    except ValueError as exc:
        raise ValueError(f"{flag}: {exc}") from None
    vals = np.concatenate(chunks)
    return [int(v) for v in vals] if integer else vals


def list_type(flag: str, *, integer: bool = False):
    """An argparse ``type=`` that parses one list token with :func:`parse_list`."""
    def parse(text):
        try:
            return parse_list(text, flag, integer=integer)
        except ValueError as exc:
            # argparse prefixes "argument FLAG: "; drop our own prefix
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{flag}: ")) from None
    parse.__name__ = "integer list" if integer else "number list"
    return parse


def flatten(value):
    """Join the tokens of an ``nargs='+'`` list option (each already parsed) into one list."""
    if value is None:
        return None
    if len(value) and isinstance(value[0], (list, np.ndarray)):
        return [v for chunk in value for v in chunk]
    return list(value)


def choice_list_type(flag: str, choices):
    """An argparse ``type=`` for a comma-separated list of names from ``choices``."""
    def parse(text):
        items = [t.strip() for t in str(text).split(",")]
        if any(not t for t in items):
            raise argparse.ArgumentTypeError(f"empty item in {text!r} (comma-separated)")
        bad = [t for t in items if t not in choices]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad[0]!r}; choose from {', '.join(choices)}")
        return items
    parse.__name__ = "name list"
    return parse


# ---------------------------------------------------------------------------------------------
# shared options
# ---------------------------------------------------------------------------------------------
def scalar_type(flag: str, *, integer: bool = False):
    """An argparse ``type=`` for one number, whose error names the option and what it expects.

    A list or range (``1:5:3``) is refused with a pointer to the commands that take lists.
    """
    def parse(text):
        try:
            return _number(str(text).strip(), integer)
        except ValueError:
            what = "an integer" if integer else "a number"
            hint = " (this option takes one value; lists and START:STOP:NUM ranges are for 'spectra grid')" \
                if ("," in str(text) or ":" in str(text)) else ""
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}{hint}") from None
    parse.__name__ = "integer" if integer else "number"
    return parse


def add_kernel_args(p: argparse.ArgumentParser, *, dim=128, activation="relu", depth=2, weight_var=2.0,
                    bias_var=0.0, kernel="ntk", reason: str = "") -> None:
    """The network's hyperparameters with the package defaults; ``None`` leaves an option out."""
    why = f"; {reason}" if reason else ""
    if dim is not None:
        p.add_argument("--dim", type=scalar_type("--dim", integer=True), default=dim,
                       help=f"input dimension d (default {dim})")
    if activation is not None:
        p.add_argument("--activation", default=activation,
                       help=f"activation (relu, erf, gelu, tanh, leaky_relu(0.1), ...; default {activation}{why})")
    if depth is not None:
        p.add_argument("--depth", type=scalar_type("--depth", integer=True), default=depth,
                       help=f"number of nonlinear layers L (0 = linear model; default {depth})")
    if weight_var is not None:
        p.add_argument("--weight-var", type=scalar_type("--weight-var"), default=weight_var,
                       help=f"sigma_w^2 > 0 (default {weight_var:g})")
    if bias_var is not None:
        p.add_argument("--bias-var", type=scalar_type("--bias-var"), default=bias_var,
                       help=f"sigma_b^2 >= 0 (default {bias_var:g}{why})")
    if kernel is not None:
        p.add_argument("--kernel", choices=["ck", "ntk"], default=kernel, help=f"conjugate kernel (ck) or neural tangent kernel (ntk); default {kernel}{why}")


def add_output_args(p: argparse.ArgumentParser, *, writes: str | None = "the result",
                    required: bool = False, quiet_help: str = "no progress and no 'wrote FILE' notes on stderr"):
    """``-o/--output`` (when the command writes a file) and ``--quiet``.

    ``required`` only changes the help: the command checks it (so that a hidden alias of the
    option, such as ``grid --out``, also satisfies it).
    """
    if writes is not None:
        where = " (required)" if required else " instead of stdout"
        p.add_argument("-o", "--output", metavar="FILE", default=None,
                       help=f"write {writes} to FILE{where}, atomically")
    p.add_argument("--quiet", action="store_true", help=quiet_help)


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------
def check_writable(path, *, make_parents: bool = False) -> None:
    """Raise ``OSError`` naming ``path`` now if it cannot be written later (before any work).

    ``None`` and ``"-"`` (stdout) pass.  With ``make_parents`` a missing folder is fine (the
    command creates it), but an existing non-folder on the way is not.
    """
    if path in (None, "-"):
        return
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "is a directory", path)
    folder = os.path.dirname(os.path.abspath(path))
    probe = folder
    while not os.path.exists(probe):
        if not make_parents:
            raise FileNotFoundError(errno.ENOENT, f"folder {os.path.dirname(path) or '.'} does not exist", path)
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise NotADirectoryError(errno.ENOTDIR, f"{probe} is not a folder", path)
    if probe == folder and not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"folder {os.path.dirname(path) or '.'} is not writable", path)
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "file is not writable", path)


def note_written(path, quiet: bool = False, detail: str = "") -> None:
    """The one "wrote FILE" line, on stderr (silent with ``--quiet``)."""
    if not quiet and path is not None:
        sys.stderr.write(f"wrote {os.fspath(path)}{': ' + detail if detail else ''}\n")


def write_output(text: str, path, quiet: bool = False) -> None:
    """Print ``text`` to stdout, or write it atomically to ``path`` and note it on stderr."""
    if not text.endswith("\n"):
        text += "\n"
    if path in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from .._io import atomic_write

    atomic_write(path, lambda fh: fh.write(text))
    note_written(path, quiet)


# ---------------------------------------------------------------------------------------------
# cost
# ---------------------------------------------------------------------------------------------
def check_cube_cost(dim, *, activation, depth, weight_var, bias_var, kernel, degrees=None, max_degree=None,
                    rtol=1e-12, precision="auto", quiet=False, command="eigen") -> None:
    """Refuse a cube spectrum whose estimated peak memory exceeds the limit, before any heavy work.

    The estimate (:func:`spectra._budget.cube_cost`, calibrated by measurement) follows the paths
    :func:`spectra.analytic.cube_spectrum` takes: the binomials ``C(d, j)``, the float64 transform
    when more than 32 degrees are asked for, and the certified transform at the working precision
    the cube path starts with (its own sizing function, about ``d`` bits for all degrees of a relu
    kernel).  A refusal names the estimate, the limit, the largest ``d`` that fits and a cheaper
    path; an accepted estimate above a minute is noted on stderr (``--timeout`` bounds it).
    """
    from .._budget import check_memory, cube_cost, format_bytes, memory_limit
    from ..analytic import cube as _cube
    from ..analytic.spectrum import check_spectrum_inputs, parse_degrees

    d, kern, rtol, precision = check_spectrum_inputs(dim, activation, depth, weight_var, bias_var, kernel, rtol,
                                                     precision)
    degs = parse_degrees(degrees, max_degree, maximum=d)
    many = len(set(degs.tolist()) | {0, 1}) > 32 and precision in ("auto", "float64")
    bits = None
    if isinstance(precision, int):
        bits = precision
    elif precision == "auto" and kern.activation.high_precision:
        live = [int(k) for k in degs if not kern.structural_zero(int(k))]
        try:
            bits = _cube._initial_precision(kern, d, live, rtol, abs(kern.diagonal(1.0))) if live else None
        except (ValueError, OverflowError):  # the engine reports these itself
            bits = None
    mem, secs = cube_cost(d, bits=bits, many_degrees=many)
    limit = memory_limit()
    if mem > limit:
        def fits(dd):
            return cube_cost(dd, bits=None if bits is None else max(53, bits * dd // d), many_degrees=many)[0] <= limit
        lo, hi = 1, d
        while hi - lo > 1:  # the largest d this path fits, with the precision scaled like d
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        path = (f"certified path at ~{bits} bits" if bits is not None else "float64 path") + \
            (" for all degrees" if many else "")
        cheap = cube_cost(d, many_degrees=False)[0]
        hint = f"; this path fits up to about d={lo}" + (
            f"; --precision float64 with at most 32 --degrees needs about {format_bytes(cheap)}"
            if command == "eigen" and cheap <= limit and (bits is not None or many) else "")
        try:
            check_memory(mem, f"the cube spectrum at d={d} ({path})")
        except ValueError as exc:
            raise ValueError(f"{exc}{hint}") from None
    if secs > 60 and not quiet:
        sys.stderr.write(f"{command}: the cube spectrum at d={d} is estimated at {secs / 60:.0f} min and "
                         f"{format_bytes(mem)} (one core; --timeout SECONDS bounds it)\n")
