r"""Exact eigenvalues of MLP kernels on the boolean cube :math:`\{\pm1\}^d`.

Every kernel ``Phi(<x,y>/d)`` on the cube is diagonalized by the Walsh monomials
``chi_S``; the eigenvalue ``mu_k`` of degree ``k = |S|`` has multiplicity ``C(d, k)`` and

.. math::
    \mu_k = 2^{-d}\sum_{j=0}^d K_j(k)\,\Phi_j,\qquad \Phi_j = \Phi(1 - 2j/d),\qquad
    \sum_k K_j(k) s^j = (1-s)^k(1+s)^{d-k}\ \text{(Krawtchouk)} .

Because ``2^{-d} sum_j |K_j(k)| <= 1``, an error ``eps`` in the kernel values moves every
``mu_k`` by at most ``eps`` (absolute).  Two paths use this:

* **float64** (fast; numba for hyperparameter grids): kernel values in float64, transform
  by a precomputed float64 Krawtchouk matrix.  Stated tolerance (not certified):
  ``|error| <= FAST_KERNEL_TOL * (depth + 1) * s_d * max|Phi| + (d + 1) u max|Phi|`` with
  ``s_d = sqrt(d)`` for kinked activations (the relu duals' square roots amplify rounding
  near correlation 1) and 1 otherwise; the Hermite-series tolerance is added for
  activations without a closed form.  For the closed forms other than the relu and step
  families, when ``(d + 1) L <= VERIFY_EVALS``, the tolerance is instead a certified bound of the
  float64 kernel values' errors, from Arb balls at 128 bits (their conditioning at large variances,
  erf's arcsine for one, has no fixed multiple of ``u``), plus the transform's rounding.  For the relu and step families the tolerance is at least
  a running error bound of the recursion (:mod:`spectra.analytic._kink_error`): near correlation
  +-1 (a tiny bias puts ``c = -1`` there) the step dual amplifies rounding like
  ``u / sqrt(1 - rho^2)``, up to ``sqrt(u)``, and ``auto`` then takes the certified path.
  The tests check this bound against the exact path.
* **exact** (certified): kernel values as Arb balls at a working precision ``p``, rounded
  to integers ``N_j ~ 2^p Phi_j``; the Krawtchouk transform of the integers is done
  *exactly* with integer polynomial arithmetic (FLINT), via
  ``sum_j C(d,j) N_j (1-s)^j (1+s)^{d-j} = 2^{d+p} sum_k C(d,k) mu_k s^k``,
  split in halves recursively.  The result is exact up to the input error, so
  ``|mu_k - computed| <= max_j (radius_j + 2^{-p-1})``: a certified bound.  The precision
  is raised until every requested eigenvalue meets ``rtol``.

Eigenvalues that vanish by symmetry (from the odd/even polynomial structure of ``Phi``,
see :func:`spectra.analytic.kernel_structure`) are returned as exactly 0.
"""
from __future__ import annotations

import math
import time
from functools import lru_cache

import numpy as np

from .._budget import check_memory, cube_cost
from .._validation import check_dim
from . import _kink_error
from .bases import krawtchouk_matrix, krawtchouk_transform
from .accuracy import check_accuracy
from .kernels import MLPKernel
from .precision import MAX_PRECISION, arb_log10, arb_rel_error, arb_to_mpf, to_fixed_point, working_precision
from .spectrum import Spectrum, check_spectrum_inputs, fractional_variances, parse_degrees, result_columns

__all__ = ["cube_spectrum", "cube_grid_points", "float64_tolerance", "hermite_tolerance", "hermite_tolerances",
           "FAST_KERNEL_TOL"]

#: Relative float64 rounding tolerance per layer of the kernel recursion (times u = 2^-53 ...).
FAST_KERNEL_TOL = 64 * np.finfo(float).eps


def cube_grid_points(dim: int) -> np.ndarray:
    """The values ``c_j = 1 - 2j/d``, ``j = 0..d`` taken by ``<x, y>/d`` on the cube; shape (d+1,)."""
    d = check_dim(dim)
    return 1.0 - 2.0 * np.arange(d + 1) / d


@lru_cache(maxsize=4)
def _binomials(d: int) -> tuple:
    """``C(d, j)`` for ``j = 0..d`` (one pass of exact products: ``math.comb`` per ``j`` costs O(d^2) at large d)."""
    row = [1] * (d + 1)
    c = 1
    for j in range(1, d + 1):
        c = c * (d - j + 1) // j
        row[j] = c
    return tuple(row)


def _float_transform(phi: np.ndarray, degrees, *, only=None) -> dict:
    """``mu_k`` of float64 kernel values, transformed exactly and rounded once to float64.

    Few degrees: float64 Krawtchouk rows (error <= (d+1) u max|Phi|).  Many degrees: the float
    values are exact dyadic numbers, so they are scaled to integers and sent through the exact
    integer transform (no rounding at all until the final division).  ``only`` (a subset of
    ``{0, 1}``) restricts the many-degree case to those degrees, summed exactly with their
    closed-form Krawtchouk rows (the same correctly rounded numbers, without the full transform).
    """
    d = phi.size - 1
    degrees = tuple(sorted(set(int(k) for k in degrees)))
    if len(degrees) <= 32:
        return dict(zip(degrees, krawtchouk_matrix(d, degrees) @ phi))
    parts = [math.frexp(float(x)) for x in phi]
    e_min = min(e for _, e in parts) - 53
    ints = [int(m * (1 << 53)) << (e - 53 - e_min) for m, e in parts]
    binom = _binomials(d)
    if only is None:
        coeffs = krawtchouk_transform([b * n for b, n in zip(binom, ints)])
    else:
        # coefficient k of the transform is sum_j C(d, j) N_j [s^k] (1-s)^j (1+s)^(d-j): for k = 0 the
        # bracket is 1, for k = 1 it is d - 2j
        degrees = tuple(k for k in degrees if k in only)
        coeffs = {0: sum(b * n for b, n in zip(binom, ints))}
        if 1 in degrees:
            coeffs[1] = sum(b * n * (d - 2 * j) for j, (b, n) in enumerate(zip(binom, ints)))
    out = {}
    for k in degrees:
        num, den = coeffs[k], binom[k] << d
        if e_min >= 0:
            out[k] = (num << e_min) / den
        else:
            out[k] = num / (den << -e_min)
    return out


def float64_tolerance(kern: MLPKernel, phi_max: float, *, n_terms: int, kink_scale: float) -> float:
    """Stated absolute float64 tolerance of a linear functional of kernel values.

    ``FAST_KERNEL_TOL (L + 1) s max|Phi|`` for the recursion (``s = kink_scale`` for kinked
    activations, whose duals' square roots amplify rounding near correlation +-1, else 1), plus
    ``n_terms u max|Phi|`` for the summation, plus the Hermite-series tolerance.
    """
    s = kink_scale if kern.activation.kinked else 1.0
    tol = FAST_KERNEL_TOL * (kern.depth + 1) * s * phi_max + n_terms * np.finfo(float).eps * phi_max
    return tol + hermite_tolerance(kern, phi_max)


def _fast_tolerance(kern: MLPKernel, d: int, phi: np.ndarray) -> float:
    """Absolute error bound of the float64 path's eigenvalues from its kernel values ``phi`` (shape (d+1,)).

    For the relu and step families it is at least the running bound of
    :mod:`spectra.analytic._kink_error`, which follows the conditioning of the duals near
    correlation +-1 (a tiny bias puts ``c = -1`` there); for an even or odd kernel only the points
    ``c >= 0`` count, the others being their mirror images (:func:`_mirror`).  For the other
    closed forms the float64 values are checked against Arb balls (:func:`_arb_checked_error`)
    when that costs at most :data:`VERIFY_EVALS` dual evaluations: the closed forms' own
    conditioning (erf's arcsine or gelu's cancellation at a large weight variance, cos's
    ``e^-q cosh`` growth through the layers) has no fixed multiple of ``u``.  Past that budget,
    and for the Hermite-series activations, it is :func:`float64_tolerance` (kink scale sqrt(d)).
    """
    phi_max = float(np.max(np.abs(phi)))
    summation = (d + 1) * np.finfo(float).eps * phi_max
    if kern.activation.exact and not _kink_error.supports(kern.activation) and (d + 1) * max(kern.depth, 1) <= VERIFY_EVALS:
        return _arb_checked_error(kern, d, phi) + summation
    tol = float64_tolerance(kern, phi_max, n_terms=d + 1, kink_scale=math.sqrt(d))
    if _kink_error.supports(kern.activation):
        half = d // 2 + 1 if _parity(kern) else d + 1
        c = cube_grid_points(d)[:half]
        ck, ntk = _kink_error.kinked_error_bounds(kern.activation, kern.depth, np.array([[kern.weight_var]]),
                                                  np.array([[kern.bias_var]]), c,
                                                  _kink_error.grid_point_errors(d)[:half])
        run = float((ck if kern.kind == "ck" else ntk)[-1, 0])
        tol = max(tol, run + summation)
    return tol


#: Dual evaluations (points times depth) the float64 path may spend checking its kernel values in
#: Arb (about 6-15 us each: at most a few tenths of a second).
VERIFY_EVALS = 20_000
_VERIFY_BITS = 128


def _arb_checked_error(kern: MLPKernel, d: int, phi: np.ndarray) -> float:
    """A certified upper bound of ``max_j |phi_j - Phi(c_j)|`` for float64 values ``phi`` on the cube grid.

    The exact values are enclosed in Arb balls at 128 bits (inf when a ball is not finite).
    """
    from flint import arb

    with working_precision(_VERIFY_BITS):
        balls = kern.values_arb([arb(d - 2 * j) / d for j in range(d + 1)], diag_index=0)
        worst = 0.0
        for f, b in zip(phi, balls):
            if not (b.is_finite() and math.isfinite(f)):
                return math.inf
            worst = max(worst, math.nextafter(float((arb(float(f)) - b).abs_upper()), math.inf))  # rounded up
    return worst


def _parity(kern: MLPKernel) -> int:
    """+1 for an even kernel, -1 for an odd one (by the symmetry structure), 0 otherwise."""
    odd, even = kern.structure
    return 1 if odd < 0 <= even else (-1 if even < 0 <= odd else 0)


def _mirror(kern: MLPKernel, phi: np.ndarray) -> np.ndarray:
    """Kernel values with ``Phi(-c)`` set to ``+-Phi(c)`` for an even/odd kinked kernel.

    Exact symmetry: the float64 recursion at ``c = -1`` of, e.g., abs without bias passes
    correlation 1 computed as ``1 - u`` through the step dual, a ``sqrt(u)`` error (1.9e-12 relative
    at depth 5); its mirror ``c = 1`` is the exactly evaluated diagonal.
    """
    par = _parity(kern) if _kink_error.supports(kern.activation) else 0
    if not par:
        return phi
    d = phi.size - 1
    out = phi.copy()
    j = np.arange((d + 1) // 2)  # c_j > 0; the middle point c = 0 (even d) stays as computed
    out[d - j] = par * phi[j]
    return out


def hermite_tolerance(kern: MLPKernel, phi_max: float) -> float:
    """Stated absolute error of the Hermite-series duals propagated through the layers (0 for closed forms)."""
    if kern.activation.hermite is None:
        return 0.0
    return float(hermite_tolerances(kern.activation, kern.depth, kern.weight_var, kern.bias_var, phi_max))


def hermite_tolerances(act, depth, weight_var, bias_var, phi_max):
    """:func:`hermite_tolerance` vectorized over depths and variance pairs (broadcasting; 0 for closed forms).

    ``(L + 1) max(w, 1)^(L + 1) (e_phi(q) + e_phi'(q)) max(max|Phi|, 1)`` with ``q = w + b`` and
    ``e`` the Hermite duals' :meth:`~spectra.analytic.hermite.HermiteDual.error_bound` at ``q``.
    """
    if act.hermite is None:
        return np.zeros(np.broadcast(depth, weight_var, bias_var, phi_max).shape)
    depth, wv, bv = np.asarray(depth, dtype=float), np.asarray(weight_var, dtype=float), np.asarray(bias_var, dtype=float)
    q = wv + bv
    qs, inv = np.unique(np.ravel(q), return_inverse=True)
    e = np.zeros(qs.shape)
    for h in act.hermite:
        _, m2, tail = h.coefficients(qs)
        e = e + tail + 64 * np.finfo(float).eps * m2
    e = e[inv].reshape(q.shape)
    # the Hermite tolerance is relative to E[phi^2]; each layer scales it by at most w * (1 + ...)
    with np.errstate(over="ignore"):
        return (depth + 1) * np.maximum(wv, 1.0) ** (depth + 1) * e * np.maximum(phi_max, 1.0)


def _exact_balls(kern: MLPKernel, d: int, prec: int):
    """Certified eigenvalue balls for all degrees 0..d at working precision ``prec``."""
    from flint import arb, fmpz

    binom = _binomials(d)
    par = _parity(kern)
    # an even/odd kernel is evaluated at c >= 0 only: Phi(-1) = +-Phi(1) comes from the diagonal
    # recursion; evaluated directly, abs without bias meets correlation 1 as a ball around 1, whose
    # square root halves the correct bits at every layer (2^L bits of precision)
    n_eval = d // 2 + 1 if par else d + 1
    with working_precision(prec):
        cs = [arb(d - 2 * j) / d for j in range(n_eval)]
        vals = kern.values_arb(cs, diag_index=0)
        vals = vals + [par * vals[d - j] for j in range(n_eval, d + 1)]
        p = prec + 8
        err = arb(0)
        ints = []
        for v in vals:
            if not v.is_finite():
                raise ArithmeticError("non-finite kernel ball; precision too low")
            ints.append(to_fixed_point(v, p))
            err = err.max(v.rad())
        err = err + arb(2) ** (-p - 1)
        coeffs = krawtchouk_transform([b * n for b, n in zip(binom, ints)])
        scale = arb(2) ** (d + p)
        balls = []
        for k, ck in enumerate(coeffs):
            mu = arb(fmpz(ck)) / (scale * binom[k])
            balls.append(mu + arb(0, err))
        trace = vals[0]
    return balls, trace


#: Seconds the certified path may spend raising its precision; past it (or past MAX_PRECISION bits)
#: the bound reached is returned with an AccuracyWarning (AccuracyError with ``strict=True``).
MAX_SECONDS = 20.0

#: Bits kept beyond log2(Phi(1)/mu_min) and the target: the radius growth of the kernel
#: recursion (about log2 d for kinked duals near c = 1) and the fixed-point rounding.
_GUARD_BITS = 32


def _log2_inv_mu_estimate(kern: MLPKernel, d: int, k: int) -> float:
    """A float-level estimate of ``log2(1/mu_k)`` (the bits below ``Phi``'s scale), no Arb at all.

    ``Phi(c) = sum_n a_n c^n`` with ``a_n >= 0``, and on the cube every power ``c^n`` has
    non-negative eigenvalues, the degree-``k`` one being ``k!/d^k`` for ``n = k``: so
    ``mu_k >= a_k k!/d^k`` (``a_k ~ (k+2)^-2`` assumed, which analytic kernels undercut, and then
    the certificate raises the precision).  Kinked duals (relu family) are singular at
    ``c = +-1``, so their ``a_n`` decay only like a power of ``n``; the powers ``n >> d`` fold
    onto every degree with eigenvalue about ``2^(1-d)``, so ``mu_k >~ 2^-d d^-3`` as well
    (about ``2^-(d+7)`` for the relu NTK of depth 2 at ``d = 4096``, where the Taylor bound alone
    says ``2^-5900``).
    """
    taylor = -(math.lgamma(k + 1) - k * math.log(d) - 2 * math.log(k + 2)) / math.log(2)
    if kern.activation.kinked:
        return min(taylor, d + 3 * math.log2(d))
    return taylor


def _initial_precision(kern: MLPKernel, d: int, degs, rtol: float, phi1: float) -> int:
    """Working precision for the certified path: ``log2(Phi(1)/mu_min)`` estimated in float, plus target and guard bits."""
    need = max([0.0] + [_log2_inv_mu_estimate(kern, d, int(k)) for k in degs])
    return int(need + math.log2(max(phi1, 1.0)) - math.log2(rtol) + _GUARD_BITS + math.log2(d + 1))


def cube_spectrum(dim: int, activation="relu", depth: int = 2, weight_var: float = 2.0, bias_var: float = 0.0,
                  kernel: str = "ntk", *, degrees=None, max_degree=None, rtol: float = 1e-12,
                  precision="auto", strict: bool = False) -> Spectrum:
    r"""Eigenvalues ``mu_k`` of the MLP CK or NTK on the boolean cube, with guarantees.

    Parameters
    ----------
    dim : int
        Input dimension ``d >= 1``.
    activation : str or Activation
        See :func:`spectra.analytic.available_activations`.
    depth : int
        Number of nonlinear layers ``L >= 0`` (default 2).
    weight_var, bias_var : float
        ``sigma_w^2 > 0``, ``sigma_b^2 >= 0`` (NTK parametrization; first-layer covariance
        ``sigma_w^2 <x,y>/d + sigma_b^2``).
    kernel : {"ntk", "ck"}
    degrees : sequence of int, optional
        Degrees in ``[0, d]``; default all, or ``0..max_degree``.
    max_degree : int, optional
        Compute degrees ``0..max_degree`` (``<= d``) when ``degrees`` is not given.
    rtol : float
        Target relative accuracy of every returned eigenvalue (default 1e-12).
    precision : "auto", "float64" or int
        ``"auto"`` picks the cheapest path meeting ``rtol`` per degree (float64 where its
        tolerance suffices, else certified Arb with automatically raised precision);
        ``"float64"`` forces the fast path and reports its tolerance; an integer forces the
        exact path at that many bits and reports the certified bound, whatever it is.
    strict : bool
        Raise :class:`~spectra.analytic.accuracy.AccuracyError` instead of emitting an
        :class:`~spectra.analytic.accuracy.AccuracyWarning` when a bound exceeds ``rtol``.

    Returns
    -------
    Spectrum
        With ``domain="cube"``, multiplicities ``C(d, k)``, certified bounds where
        ``method == "arb"``.

    Raises
    ------
    ValueError, TypeError
        For ``dim < 1``, negative or NaN variances, ``depth < 0``, unknown activation or
        kernel, degrees outside ``[0, d]``.

    Examples
    --------
    >>> s = cube_spectrum(7, "relu", depth=1, weight_var=2.0, bias_var=0.0, kernel="ck", degrees=[0, 1, 2, 3])
    >>> [round(float(x), 10) for x in s.eigenvalues]
    [0.6840221815, 0.1428571429, 0.0140995528, 0.0]
    >>> s = cube_spectrum(128, "relu", depth=2, kernel="ntk", degrees=[128])
    >>> round(float(s.log10_eigenvalues[0]), 4), bool(s.rel_error_bound[0] <= 1e-12)
    (-39.5432, True)
    """
    d, kern, rtol, precision = check_spectrum_inputs(dim, activation, depth, weight_var, bias_var, kernel,
                                                     rtol, precision)
    spec = _spectrum(kern, d, parse_degrees(degrees, max_degree, maximum=d), rtol, precision)
    return check_accuracy(spec, rtol, strict=strict)


def _spectrum(kern: MLPKernel, d: int, degs: np.ndarray, rtol: float, precision) -> Spectrum:
    """:func:`cube_spectrum` for validated inputs (the engine behind ``Cube(d).spectrum(kernel)``)."""
    act = kern.activation
    zero = np.array([kern.structural_zero(int(k)) for k in degs])

    # --- fast path: float64 kernel values, float64 Krawtchouk rows
    phi = _mirror(kern, np.asarray(kern._f64(cube_grid_points(d)), dtype=float))
    phi_max = float(np.max(np.abs(phi)))
    tol_abs = _fast_tolerance(kern, d, phi)
    all_degs = tuple(sorted(set(int(k) for k in degs) | ({0, 1} if d >= 1 else {0})))
    # |mu_k| <= max|Phi| (the transform is non-expansive), so a float64 value can meet rtol only if
    # max|Phi| >= tol_abs (1 + rtol) / rtol; otherwise the certified path takes every non-zero degree
    # and the float64 transform is needed for mu_0 and mu_1 only (the learning rate)
    float_ok = precision == "float64" or not act.high_precision or (precision == "auto" and phi_max * rtol >= 0.5 * tol_abs)
    if float_ok and len(all_degs) > 32:  # the float64 transform of every degree is exact in integers
        check_memory(cube_cost(d)[0], f"the float64 cube spectrum at d={d} ({len(all_degs)} degrees)")
    mu_fast = _float_transform(phi, all_degs, only=None if float_ok else (0, 1))
    trace = float(phi[0])

    eig, log10, exact, rel, cert, method = result_columns(len(degs))
    cert[:] = True  # exact zeros and certified values; the float64 path clears its own
    need_exact = []
    import mpmath

    for i, k in enumerate(degs):
        if zero[i]:
            exact[i] = mpmath.mpf(0)
            continue
        if not float_ok:
            need_exact.append(i)
            continue
        m = mu_fast[int(k)]
        r = tol_abs / (m - tol_abs) if m > tol_abs else math.inf
        if precision == "float64" or (precision == "auto" and (r <= rtol or not act.high_precision)):
            eig[i], rel[i], cert[i], method[i] = m, r, False, "float64"
            log10[i] = math.log10(m) if m > 0 else (-np.inf if m == 0 else np.nan)
            exact[i] = mpmath.mpf(m)
        else:
            need_exact.append(i)

    if isinstance(precision, (int, np.integer)) and not act.high_precision:
        raise ValueError(f"precision={precision}: activation {act.name!r} has only float64 duals (a plain "
                         "callable); use precision='auto' or 'float64', or give custom_activation a sympy expression")

    if need_exact:
        prec = int(precision) if isinstance(precision, (int, np.integer)) else _initial_precision(kern, d, degs[need_exact], rtol, abs(trace))
        start = time.perf_counter()
        while True:
            # the exact transform's memory, refused before it is allocated (issue #15, bounded cost)
            check_memory(cube_cost(d, bits=prec, many_degrees=False)[0],
                         f"the certified cube spectrum at d={d} ({prec} bits)")
            t0 = time.perf_counter()
            try:
                balls, trace_ball = _exact_balls(kern, d, prec)
            except ArithmeticError:
                balls = None
            took = time.perf_counter() - t0
            if balls is None:
                ok, worst_extra = False, prec
            else:
                ok, worst_extra = True, 0
                for i in need_exact:
                    r = arb_rel_error(balls[int(degs[i])])
                    if r > rtol:
                        ok = False
                        worst_extra = max(worst_extra, prec if not math.isfinite(r) else int(math.log2(r / rtol)) + 16)
            if ok or isinstance(precision, (int, np.integer)) or prec >= MAX_PRECISION:
                break
            nxt = min(prec + worst_extra, MAX_PRECISION)
            # bounded time: an attempt costs about prec^2; one that would end past MAX_SECONDS is not
            # started, and the bound reached so far goes out with an AccuracyWarning (strict: an error)
            if balls is not None and time.perf_counter() - start + took * (nxt / prec) ** 2 > MAX_SECONDS:
                break
            prec = nxt
        if balls is None:
            # a refusal naming the inputs, not an arithmetic failure deep inside (issue #15)
            raise ValueError(f"{kern.describe() if hasattr(kern, 'describe') else kern.kind.upper()} on the cube "
                             f"d={d}: the kernel cannot be evaluated in ball arithmetic at {prec} bits (the precision "
                             f"cap is {MAX_PRECISION} bits, the time budget {MAX_SECONDS:g} s); use a smaller "
                             "weight_var or depth, or precision='float64'")
        for i in need_exact:
            b = balls[int(degs[i])]
            exact[i] = arb_to_mpf(b)
            eig[i] = float(exact[i])
            log10[i] = arb_log10(b)
            rel[i] = arb_rel_error(b)
            cert[i] = act.exact  # Mehler-series duals (no closed form) are verified, not certified
            method[i] = f"arb@{prec}" if act.exact else f"arb-mehler@{prec}"
        trace = float(arb_to_mpf(trace_ball))

    binom = _binomials(d)
    mult = [binom[int(k)] for k in degs]
    fv = fractional_variances(mult, exact, trace)
    top = max(mu_fast.get(0, 0.0), mu_fast.get(1, 0.0))
    max_lr = 2.0 / top if top > 0 else None
    return Spectrum("cube", d, degs, eig, log10, exact, mult, fv, rel, cert, method, trace, max_lr, kern.params())
