"""Bounded cost: memory limits and deadlines that long computations check before and while they run.

A computation that can outgrow the machine estimates its memory up front and calls
:func:`check_memory`, which refuses (``ValueError`` naming the estimate and the limit) before any
heavy allocation.  Long loops call :func:`check_deadline` between steps, which raises
:class:`TimeLimitExceeded` once the deadline set by :func:`time_limit` (the CLI's ``--timeout``)
has passed.

The memory limit is, in this order: the value given to :func:`set_memory_limit` (the CLI's
``--max-memory``), the environment variable ``SPECTRA_MAX_MEMORY`` (bytes, or a number with a
``K``/``M``/``G``/``T`` suffix; inherited by sweep workers), or half the machine's physical
memory.
"""
from __future__ import annotations

import math
import os
import time
from contextlib import contextmanager

__all__ = ["TimeLimitExceeded", "check_deadline", "check_memory", "cube_cost", "format_bytes", "memory_limit",
           "parse_size", "physical_memory", "set_memory_limit", "time_limit"]

ENV_VAR = "SPECTRA_MAX_MEMORY"
_SUFFIX = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}

_limit: int | None = None
_deadline: float | None = None
_timeout: float | None = None


class TimeLimitExceeded(RuntimeError):
    """A computation ran past the deadline of :func:`time_limit` (the CLI's ``--timeout``)."""


def physical_memory() -> int:
    """Bytes of physical memory (``os.sysconf``), or 8 GiB where the platform does not say."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return 8 * 2**30


def parse_size(text, name: str = "--max-memory") -> int:
    """``"4G"`` -> 4294967296; a plain number is bytes.

    Examples
    --------
    >>> parse_size("1.5K"), parse_size("2G"), parse_size(1000)
    (1536, 2147483648, 1000)
    """
    if isinstance(text, bool):
        raise TypeError(f"{name} must be a size such as 4G, 512M or a number of bytes, got {text!r}")
    if isinstance(text, (int, float)):
        value, unit = float(text), ""
    else:
        s = str(text).strip().upper()
        for tail in ("IB", "B"):
            if s.endswith(tail) and len(s) > len(tail):
                s = s[: -len(tail)]
                break
        unit = s[-1] if s and s[-1] in "KMGT" else ""
        try:
            value = float(s[: len(s) - len(unit)])
        except ValueError:
            raise ValueError(f"{name} must be a size such as 4G, 512M or a number of bytes, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive size, got {text!r}")
    return int(value * _SUFFIX[unit])


def format_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``.

    Examples
    --------
    >>> format_bytes(3 * 2**30)
    '3.0 GiB'
    """
    if not math.isfinite(n):
        return "an unbounded amount"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def set_memory_limit(nbytes) -> None:
    """Set the memory limit for this process (None: back to the environment or half the RAM)."""
    global _limit
    _limit = None if nbytes is None else parse_size(nbytes, "max_memory")


def memory_limit() -> int:
    """The memory limit in bytes (see the module docstring for where it comes from)."""
    if _limit is not None:
        return _limit
    env = os.environ.get(ENV_VAR)
    if env:
        return parse_size(env, ENV_VAR)
    return physical_memory() // 2


def check_memory(nbytes: float, what: str, limit=None) -> None:
    """Refuse a computation whose estimated memory ``nbytes`` exceeds the limit.

    Raises
    ------
    ValueError
        Naming ``what``, the estimate and the limit.

    Examples
    --------
    >>> check_memory(2**20, "a small table", limit=2**30)
    >>> check_memory(2**40, "a 1 TiB table", limit=2**30)
    Traceback (most recent call last):
    ...
    ValueError: a 1 TiB table needs about 1.0 TiB of memory, above the limit of 1.0 GiB (set it with --max-memory or SPECTRA_MAX_MEMORY; default half the RAM)
    """
    lim = memory_limit() if limit is None else parse_size(limit, "max_memory")
    if not nbytes <= lim:  # also refuses a NaN estimate
        raise ValueError(f"{what} needs about {format_bytes(nbytes)} of memory, above the limit of "
                         f"{format_bytes(lim)} (set it with --max-memory or {ENV_VAR}; default half the RAM)")


@contextmanager
def time_limit(seconds):
    """Within the block, :func:`check_deadline` raises once ``seconds`` have passed (None: no limit)."""
    global _deadline, _timeout
    old = _deadline, _timeout
    if seconds is not None:
        seconds = float(seconds)
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(f"--timeout must be a positive number of seconds, got {seconds}")
        _deadline, _timeout = time.monotonic() + seconds, seconds
    try:
        yield
    finally:
        _deadline, _timeout = old


def check_deadline(what: str = "the computation") -> None:
    """Raise :class:`TimeLimitExceeded` if the deadline of :func:`time_limit` has passed."""
    if _deadline is not None and time.monotonic() > _deadline:
        raise TimeLimitExceeded(f"{what} stopped after the time limit of {_timeout:g} s (--timeout)")


# ---------------------------------------------------------------------------------------------
# cost model of the cube's exact Krawtchouk transform (spectra.analytic.cube)
# ---------------------------------------------------------------------------------------------
#: Resident memory of a process that has imported the spectrum engines (bytes).
_BASE_BYTES = 60 * 2**20
#: Peak bytes of the exact Krawtchouk transform of ``d + 1`` integers of ``p`` bits (the certified
#: path at ``p`` bits; the float64 path with more than 32 degrees has ``p`` about 110): about
#: ``(d + 1)/8 (29 d + 5 p)``, since the two Taylor shifts give coefficients of ``2d`` to ``3d + p`` bits
#: and the integer list, its products with ``C(d, j)``, two FLINT polynomials and their Python
#: coefficients are alive together.
_PER_D, _PER_BIT = 29, 5
#: Bytes per ``d^2`` of the binomial row ``C(d, j)`` that every cube spectrum builds (Python ints).
_BINOM_BYTES = 0.33


def cube_cost(d: int, *, bits: int | None = None, many_degrees: bool = True) -> tuple:
    """Estimated peak memory (bytes) and time (seconds, one core) of one cube spectrum.

    A model calibrated by measurement (peak ``ru_maxrss`` and wall time of ``cube_spectrum(d,
    "relu", 2)`` in a fresh process, python-flint 0.6, a 2-core machine shared with other jobs, so
    the times are rough):

    ======================  =======  ========  ======
    path                    d        peak      time
    ======================  =======  ========  ======
    certified, d+130 bits   2048     68 MiB    1.6 s
    certified               4096     121 MiB   13 s
    certified               8192     335 MiB   25-60 s
    certified               16384    1134 MiB  320 s
    certified at 105 bits   16384    983 MiB   26 s
    transform, 32906 bits   32768    4546 MiB  231 s
    float64, all degrees    8192     293 MiB   14 s
    float64, all degrees    16384    929 MiB   65 s
    float64, 3 degrees      30000    341 MiB   2.9 s
    float64, 3 degrees      100000   3250 MiB  34 s
    ======================  =======  ========  ======

    Memory grows like ``d (d + bits)``: every path builds the binomials ``C(d, j)`` (``d^2/3``
    bytes); the float64 path with more than 32 degrees (``many_degrees``) and the certified path
    at ``bits`` bits (None: not taken) transform ``d + 1`` integers exactly.  The estimate is the
    largest of these parts (they run one after the other), within about 10 % of the peaks above
    (4.31 GiB against 4.44 GiB measured for the transform at d = 32768).
    Time grows like ``d^2`` to ``d^2.4``; its estimate is good to a factor of about 3.

    Examples
    --------
    >>> mem, secs = cube_cost(8192, bits=8318)
    >>> round(mem / 2**20), round(secs)
    (333, 28)
    >>> format_bytes(cube_cost(10**6, many_degrees=False)[0])
    '307.4 GiB'
    """
    d = int(d)
    parts = [_BINOM_BYTES * d * d]
    secs = 33.6 * (d / 1e5) ** 2
    if many_degrees:
        parts.append((d + 1) / 8 * (_PER_D * d + _PER_BIT * 110))
        secs = max(secs, 14.0 * (d / 8192) ** 2.3)
    if bits is not None:
        parts.append((d + 1) / 8 * (_PER_D * d + _PER_BIT * int(bits)))
        secs = max(secs, 14.0 * (d / 8192) ** 2.3 * (1 + int(bits) / max(d, 1)))
    return _BASE_BYTES + max(parts), secs
