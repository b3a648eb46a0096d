"""Arbitrary-precision helpers: working precision, Arb <-> mpmath, fixed-point conversion.

All certified numbers in ``spectra`` are Arb balls (python-flint): a midpoint and a
radius that provably contains the exact value.  This module converts them to the forms
users see (mpmath numbers, float64, log10) without losing the guarantee.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

__all__ = ["working_precision", "arb_to_mpf", "arb_log10", "arb_rel_error", "to_fixed_point", "MAX_PRECISION"]

#: Largest working precision (bits) the automatic path will use before reporting a bound instead.
MAX_PRECISION = 1 << 17


@contextmanager
def working_precision(bits: int):
    """Temporarily set python-flint's working precision (in bits)."""
    from flint import ctx

    old = ctx.prec
    ctx.prec = int(bits)
    try:
        yield
    finally:
        ctx.prec = old


def arb_to_mpf(x):
    """Midpoint of an Arb ball as an exact ``mpmath.mpf`` (no rounding, no underflow).

    The mpf is built from the raw ``(man, exp)`` pair, so it keeps every bit of the midpoint
    whatever ``mpmath.mp.prec`` is (``mpmath.mpf((man, exp))`` would round to that precision).
    Arithmetic on it afterwards rounds to ``mpmath.mp.prec`` as usual.
    """
    import mpmath
    from mpmath.libmp import from_man_exp

    man, exp = x.mid().man_exp()
    return mpmath.mp.make_mpf(from_man_exp(int(man), int(exp)))


def arb_log10(x) -> float:
    """``log10`` of a positive ball's midpoint as a float (valid far below float64's range)."""
    man, exp = x.mid().man_exp()
    man, exp = int(man), int(exp)
    if man <= 0:
        return float("-inf") if man == 0 else float("nan")
    # man * 2^exp with man possibly huge: log10 via bit length to keep full double accuracy
    shift = max(man.bit_length() - 60, 0)
    return math.log10(man >> shift) + (exp + shift) * math.log10(2.0)


def arb_rel_error(x) -> float:
    """Upper bound on ``|mid - exact| / |exact|`` for a ball ``x``; ``inf`` if it contains 0."""
    from flint import arb

    rad = x.rad()
    lo = abs(x.mid()) - rad
    if not (lo > 0):
        return math.inf
    r = (arb(rad) / lo).upper()
    man, exp = r.mid().man_exp()
    if not int(man):
        return 0.0
    # a bound below float64's range is reported as the smallest subnormal, never as 0
    return max(math.ldexp(float(int(man)), int(exp)), 5e-324)


def to_fixed_point(x, p: int):
    """Round the midpoint of ``x`` to an integer ``N`` with ``|x - N 2^-p| <= rad(x) + 2^(-p-1)``."""
    man, exp = x.mid().man_exp()
    man, exp = int(man), int(exp)
    s = exp + p
    if s >= 0:
        return man << s
    s = -s
    return (man + (1 << (s - 1))) >> s


def arb_to_exact(x) -> list:
    """``[mid mantissa, mid exponent, rad mantissa, rad exponent]`` (mantissas as decimal strings):
    a JSON-able record of the ball ``x`` that :func:`arb_from_exact` restores bit for bit."""
    out = []
    for part in (x.mid(), x.rad()):
        m, e = part.man_exp()
        out += [str(int(m)), int(e)]
    return out


def arb_from_exact(rec) -> "arb":  # noqa: F821
    """The ball recorded by :func:`arb_to_exact` (exact: mantissa times a power of two)."""
    from flint import arb, ctx

    mm, me, rm, re_ = rec
    old = ctx.prec
    ctx.prec = max(old, len(mm) * 4 + 64, len(rm) * 4 + 64)  # > the mantissas' bits: products exact
    try:
        return arb(arb(int(mm)) * arb(2) ** int(me), arb(int(rm)) * arb(2) ** int(re_))
    finally:
        ctx.prec = old
