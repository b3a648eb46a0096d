r"""Eigenvalues of MLP kernels on the sphere :math:`\sqrt d\,S^{d-1}` (uniform probability measure).

Funk–Hecke: the degree-``k`` spherical harmonics (multiplicity ``N(d, k)``) share the eigenvalue

.. math::
    \lambda_k = c_d\int_{-1}^1 \Phi(t) P_k(t)(1-t^2)^{(d-3)/2}\,dt
              = c_d\int_0^\pi \Phi(\cos\theta) P_k(\cos\theta)\sin^{d-2}\theta\,d\theta ,
    \qquad c_d = \frac{\Gamma(d/2)}{\sqrt\pi\,\Gamma((d-1)/2)},

with ``P_k`` the Gegenbauer polynomial normalised by ``P_k(1) = 1`` (``T_k`` for ``d = 2``).

Method (documented choice: **high-precision Gauss–Legendre in the angle**).  In ``theta`` the
integrand is analytic on a neighbourhood of ``[0, pi]`` even for relu kernels (their
``sqrt(1 - t)`` singularities become ``sin(theta/2)``), so Gauss–Legendre converges
exponentially.  Because ``|P_k| <= 1`` and ``|Phi(t)| <= Phi(1)``, the sum cancels down from
``Phi(1)`` to ``lambda_k``; the whole computation therefore runs in Arb ball arithmetic at a
working precision of about ``log2(Phi(1) / lambda_k) + log2(1 / rtol)`` bits, chosen
automatically:

* nodes/weights from ``arb.legendre_p_root``; the basis ``omega_j P_k(cos theta_j)`` by the
  three-term recurrence, at extra precision covering the recurrence's ball-radius growth;
  cached per ``(d, N, interval, K, precision)``;
* kernel values by :func:`spectra.analytic.kernels.kernel_values_arb` (balls);
* for large ``d`` the weight ``sin^{d-2}`` concentrates at ``pi/2``; the integral is restricted
  to ``|theta - pi/2| <= a`` with the omitted part bounded rigorously by
  ``c_d (pi - 2a) cos^{d-2}(a) Phi(1)`` (added to the error bound).

Error bound per eigenvalue (``rel_error_bound``): ball radius (rigorous rounding error of the
``N2``-point rule) + omitted-interval bound (rigorous) + a quadrature bound:

* **certified** (closed-form duals; ``certified`` True, ``method`` ``"arb-gl-certified N2 @prec"``):
  the proven Gauss–Legendre bound ``16/3 M rho^{-2N} / (1 - 1/rho)`` of
  :mod:`spectra.analytic._gl_certify`, with ``M`` an Arb enclosure of the integrand on a Bernstein
  ellipse on which its analyticity is checked (kinked duals are written in the layer angles,
  where they are analytic); the node count is raised (up to 1024) until the bound meets ``rtol``;
* **verified** otherwise (``certified`` False, ``method`` ``"arb-gl N1/N2 @prec"`` or
  ``"arb-gl-mehler ..."``): ``|Q_{N1} - Q_{N2}|``, the difference with a second rule with fewer
  nodes, which checks the quadrature's convergence without proving it.

Activations without a closed form but with Arb functions (tanh, softplus, sigmoid, swish, sympy
activations) evaluate the kernel by the Mehler series of :mod:`spectra.analytic._mehler` at every
``d``: near correlation +-1 (small ``d``) the series needs ~``(bits / c)^2`` terms (the Hermite
coefficients of a function analytic in a strip decay like ``exp(-c sqrt k)``), and its tail is
bounded by the energy identity.  Plain Python callables use the same rule in float64 with a
stated tolerance (``method == "float64"``).  Eigenvalues that vanish by symmetry are exactly 0.
Tests: the closed-form arc-cosine eigenvalues, an independent mpmath quadrature (closed forms),
and power-series references built without quadrature for tanh and softplus
(``tests/data/make_sphere_smooth_refs.py``).
"""
from __future__ import annotations

import math

import numpy as np

from . import _funk_hecke as fh
from .bases import funk_hecke_rule, sphere_multiplicity
from .cube import float64_tolerance
from .accuracy import check_accuracy
from .kernels import MLPKernel
from .precision import arb_log10, arb_to_mpf
from .spectrum import (DEFAULT_MAX_DEGREE, Spectrum, check_spectrum_inputs, fractional_variances, parse_degrees,
                       result_columns)

__all__ = ["sphere_spectrum", "sphere_multiplicity"]



def float_lambdas(kern: MLPKernel, d: int, K: int, N: int, a: float) -> np.ndarray:
    """``lambda_0..K`` by the float64 Funk–Hecke rule with ``N`` nodes on ``|theta - pi/2| <= a``."""
    rule = funk_hecke_rule(d, K, N, a)
    return rule.project(kern._f64(rule.t))


def sphere_spectrum(dim: int, activation="relu", depth: int = 2, weight_var: float = 2.0, bias_var: float = 0.0,
                    kernel: str = "ntk", *, degrees=None, max_degree=None, rtol: float = 1e-12,
                    precision="auto", strict: bool = False) -> Spectrum:
    r"""Eigenvalues ``lambda_k`` of the MLP CK or NTK on the sphere of radius ``sqrt(d)``.

    Parameters
    ----------
    dim : int
        Input dimension ``d >= 2`` (``d = 2`` is the circle: Fourier coefficients).
    activation, depth, weight_var, bias_var, kernel
        As in :func:`spectra.analytic.cube_spectrum`.
    max_degree : int, optional
        Compute degrees ``0..max_degree`` (default 20 when ``degrees`` is not given either).
    degrees : sequence of int, optional
        Degrees ``>= 0`` to return (overrides ``max_degree``).
    rtol : float
        Target relative accuracy of every returned eigenvalue (default 1e-12).
    precision : "auto", "float64" or int
        ``"auto"``: Arb with automatically raised precision (closed forms: certified where the
        Gauss–Legendre bound is proven; tanh, softplus, sigmoid, swish and sympy activations: the
        Mehler-series duals, verified, at every ``d``); ``"float64"``: fast float64 rule; an int:
        Arb at that many bits, reporting whatever bound results (refused for float64-only
        activations, e.g. plain Python callables).
    strict : bool
        Raise :class:`~spectra.analytic.accuracy.AccuracyError` instead of emitting an
        :class:`~spectra.analytic.accuracy.AccuracyWarning` when a bound exceeds ``rtol``.

    Returns
    -------
    Spectrum
        ``domain="sphere"``, multiplicities ``N(d, k)``, ``trace = Phi(1)``, ``max_learning_rate =
        2 / max_k lambda_k``; ``extra["tail_fractional_variance"]`` = ``1 - sum_{k<=K} FV_k`` (the
        variance beyond the highest degree, from the trace) when the degrees are ``0..K``.

    Raises
    ------
    ValueError, TypeError
        ``dim < 2``, a negative degree, negative/NaN variances, ``depth < 0``, unknown activation
        or kernel, bad ``rtol`` or ``precision``.

    Examples
    --------
    >>> s = sphere_spectrum(3, "relu", depth=1, weight_var=2.0, bias_var=0.0, kernel="ntk", max_degree=5)
    >>> [round(float(x), 10) for x in s.eigenvalues]
    [1.0, 0.6666666667, 0.15625, 0.0, 0.0104166667, 0.0]
    """
    d, kern, rtol, precision = check_spectrum_inputs(dim, activation, depth, weight_var, bias_var, kernel,
                                                     rtol, precision, min_dim=2)
    spec = _spectrum(kern, d, parse_degrees(degrees, max_degree, default_max=DEFAULT_MAX_DEGREE), rtol, precision)
    return check_accuracy(spec, rtol, strict=strict)


def _mehler_reach(kern: MLPKernel, d: int, rtol: float) -> bool:
    """True when every correlation of the (truncated) Funk–Hecke rule stays below 0.97.

    No longer used by the sphere (its Mehler series handles correlations up to +-1); kept for the
    Gaussian engine, which imports it.
    """
    a = fh.half_width(d, 64 + int(-math.log2(rtol)) + 32)
    if a >= math.pi / 2:
        return False
    q = kern.weight_var + kern.bias_var
    return (kern.weight_var * math.sin(a) + kern.bias_var) / q <= 0.97


def _spectrum(kern: MLPKernel, d: int, degs: np.ndarray, rtol: float, precision) -> Spectrum:
    """:func:`sphere_spectrum` for validated inputs (the engine behind ``Sphere(d).spectrum(kernel)``)."""
    K = int(max(degs.max(), 1))
    zero_all = [kern.structural_zero(k) for k in range(K + 1)]
    import mpmath

    eig, log10, exact, rel, cert, method = result_columns(len(degs))
    extra: dict = {}
    act = kern.activation
    if isinstance(precision, (int, np.integer)) and not act.high_precision:
        raise ValueError(f"precision={precision}: activation {act.name!r} has only float64 duals; use "
                         "precision='auto' or 'float64'")
    if precision == "float64" or not act.high_precision:
        lam_all, abs_err = _float_lambdas_with_bounds(kern, d, K)
        trace = kern.diagonal()
        for i, k in enumerate(degs):
            if not zero_all[k]:
                _set_float(i, float(lam_all[k]), abs_err[k], eig, exact, log10, rel, method)
    else:
        check = [k for k in sorted(set(int(k) for k in degs) | {0, 1}) if not zero_all[k]]
        fixed = int(precision) if isinstance(precision, (int, np.integer)) else None
        balls, errs, trace_ball, prec, N1, N2, a, proven = fh.sphere_balls(kern, d, K, check, rtol, fixed)
        lam_all = [arb_to_mpf(b) for b in balls]
        trace = float(arb_to_mpf(trace_ball))
        meth = f"arb-gl {N1}/{N2} @{prec}" if kern.exact else f"arb-gl-mehler {N1}/{N2} @{prec}"
        for i, k in enumerate(degs):
            if zero_all[k]:
                continue
            b = balls[k]
            exact[i] = lam_all[k]
            eig[i] = float(exact[i])
            log10[i] = arb_log10(b) if b.mid() > 0 else np.nan
            if errs[k].is_finite():
                err = arb_to_mpf(errs[k])
                rel[i] = float(err / (abs(exact[i]) - err)) if abs(exact[i]) > err else math.inf
            else:  # the time budget stopped before this degree was resolved
                rel[i] = math.inf
            cert[i] = bool(proven[k])
            method[i] = f"arb-gl-certified {N2} @{prec}" if proven[k] else meth
        extra["quadrature"] = dict(nodes=[N1, N2], precision_bits=prec, half_width=a)
        if fixed is None and np.any(rel > rtol):
            # auto: where Arb stopped at its time budget short of rtol (e.g. a deep kernel whose correlations
            # all sit next to 1, where the Mehler series needs ~bits/(1 - rho) terms), the float64 rule's
            # stated tolerance is used if it is the better bound (an AccuracyWarning still follows)
            f_lam, f_err = _float_lambdas_with_bounds(kern, d, K)
            for i, k in enumerate(degs):
                m = float(f_lam[k])
                f_rel = f_err[k] / (abs(m) - f_err[k]) if abs(m) > f_err[k] else math.inf
                if not zero_all[k] and f_rel < rel[i]:
                    _set_float(i, m, f_err[k], eig, exact, log10, rel, method)
                    cert[i] = False
                    lam_all[k] = exact[i]
    for k in range(K + 1):
        if zero_all[k]:
            lam_all[k] = mpmath.mpf(0)
    mult = [sphere_multiplicity(d, int(k)) for k in degs]
    fv = fractional_variances(mult, exact, trace)
    if set(int(k) for k in degs) == set(range(int(degs.max()) + 1)):
        Kq = int(degs.max())
        s = mpmath.fsum(sphere_multiplicity(d, k) * lam_all[k] for k in range(Kq + 1))
        extra["tail_fractional_variance"] = float(1 - s / trace) if trace > 0 else None
    top = max(float(lam_all[0]), float(lam_all[1]))
    max_lr = 2.0 / top if top > 0 else None
    return Spectrum("sphere", d, degs, eig, log10, exact, mult, fv, rel, cert, method, trace, max_lr, kern.params(),
                    extra)


def _float_lambdas_with_bounds(kern: MLPKernel, d: int, K: int):
    """The float64 Funk–Hecke rule's ``lambda_0..K`` and their absolute tolerances (two node counts plus rounding)."""
    import mpmath

    a = fh.half_width(d, 60)
    N = fh.node_count(d, K, a, 60)
    N2 = int(N * 1.2) + 8
    lam1 = float_lambdas(kern, d, K, N, a)
    lam2 = float_lambdas(kern, d, K, N2, a)
    # rounding of the N2-term sum, and of kinked duals at the nodes nearest t = +-1
    tol = float64_tolerance(kern, abs(kern.diagonal()), n_terms=N2 + 1, kink_scale=math.sqrt(N2))
    return [mpmath.mpf(float(x)) for x in lam2], [float(abs(x - y)) + tol for x, y in zip(lam1, lam2)]


def _set_float(i, m, abs_err, eig, exact, log10, rel, method):
    """Fill row ``i`` of the result columns with a float64 value ``m`` and its absolute tolerance."""
    import mpmath

    eig[i], exact[i], method[i] = m, mpmath.mpf(m), "float64"
    log10[i] = math.log10(m) if m > 0 else (-np.inf if m == 0 else np.nan)
    rel[i] = abs_err / (abs(m) - abs_err) if abs(m) > abs_err else math.inf
