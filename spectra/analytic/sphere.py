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
``N2``-point rule) + omitted-interval bound (rigorous) + ``|Q_{N1} - Q_{N2}|``, the difference
with a second rule with fewer nodes.  The last term is a *verification* of the quadrature
convergence, not a proof, so ``certified`` is False and ``method`` reads ``"arb-gl N1/N2 @prec"``.
The closed-form arc-cosine eigenvalues and an independent mpmath quadrature are the tests.

Activations without a closed-form dual (Hermite series) use the same rule in float64 with a
stated tolerance (``method == "float64"``).  Eigenvalues that vanish by symmetry are exactly 0.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .._validation import check_degrees, check_dim, check_int
from .kernels import _recursion_f64, kernel_structure, kernel_values_arb, structural_zero
from .precision import MAX_PRECISION, arb_log10, arb_to_mpf, working_precision
from .spectrum import Spectrum, fractional_variances, check_spectrum_inputs as _check_common

__all__ = ["sphere_spectrum", "sphere_multiplicity", "gegenbauer_normalized"]

#: Default highest degree when neither ``max_degree`` nor ``degrees`` is given.
DEFAULT_MAX_DEGREE = 20


def sphere_multiplicity(dim: int, k: int) -> int:
    """Dimension ``N(d, k)`` of the degree-``k`` spherical harmonics on ``S^{d-1}`` (exact int).

    Examples
    --------
    >>> [sphere_multiplicity(3, k) for k in range(5)]
    [1, 3, 5, 7, 9]
    >>> [sphere_multiplicity(5, k) for k in range(5)]
    [1, 5, 14, 30, 55]
    """
    d = check_dim(dim, minimum=2)
    k = check_int(k, "degree", minimum=0)
    if k == 0:
        return 1
    if k == 1:
        return d
    return math.comb(k + d - 1, d - 1) - math.comb(k + d - 3, d - 1)


def gegenbauer_normalized(dim: int, max_degree: int, t) -> np.ndarray:
    """Float64 ``P_k(t)`` for ``k = 0..K`` (normalised ``P_k(1) = 1``); shape ``(K+1,) + t.shape``.

    Examples
    --------
    >>> gegenbauer_normalized(3, 2, 0.5).round(6)      # Legendre: 1, t, (3t^2 - 1)/2
    array([ 1.   ,  0.5  , -0.125])
    """
    d = check_dim(dim, minimum=2)
    K = check_int(max_degree, "max_degree", minimum=0)
    t = np.asarray(t, dtype=float)
    out = np.empty((K + 1,) + t.shape)
    out[0] = 1.0
    if K >= 1:
        out[1] = t
    for k in range(1, K):
        out[k + 1] = ((2 * k + d - 2) * t * out[k] - k * out[k - 1]) / (k + d - 2)
    return out


# ------------------------------------------------------------------------------ quadrature
def _half_width(d: int, bits: int) -> float:
    """Half-width ``a`` of the theta interval around pi/2 outside which ``sin^{d-2} < 2^-bits``."""
    if d <= 2:
        return math.pi / 2
    c = 2.0 ** (-(bits + 8) / (d - 2))
    a = math.acos(c) if c < 1 else 0.0
    a = math.ceil(a * 64) / 64  # quantised so that caches are reused
    return math.pi / 2 if a >= 1.5 else a


def _node_count(d: int, K: int, a: float, bits: int) -> int:
    """Heuristic first node count: resolve P_K (~K nodes) and the sin^{d-2} bump at 2^-bits."""
    bump = a * math.sqrt(max(d - 2, 1)) * math.sqrt(bits * math.log(2) / 2) * 1.1
    n = int(K + 16 + bump)
    return (n + 7) // 8 * 8


def _growth_bits(d: int, K: int, a: float) -> int:
    """Extra bits covering the ball-radius growth of the Gegenbauer recurrence."""
    tmax = math.sin(a) if a < math.pi / 2 else 1.0
    bits = 0.0
    r0, r1 = 1.0, 1.0
    for k in range(1, K):
        r0, r1 = r1, ((2 * k + d - 2) * tmax * r1 + k * r0) / (k + d - 2)
        if r1 > 1e100:
            bits += math.log2(r1)
            r0, r1 = r0 / r1, 1.0
    return int(bits + math.log2(max(r1, 1.0))) + 16


@lru_cache(maxsize=16)
def _gl_rule(N: int, prec: int):
    with working_precision(prec):
        from flint import arb

        return tuple(arb.legendre_p_root(N, j, weight=True) for j in range(N))


@lru_cache(maxsize=24)
def _basis(d: int, N: int, a: float, K: int, prec: int):
    """Nodes ``t_j = cos theta_j`` and matrix ``B[k, j] = c_d a w_j sin^{d-2}(theta_j) P_k(t_j)``.

    Returns ``(t_nodes, B, trunc)`` with ``trunc`` the rigorous bound (times Phi(1)) of the
    omitted interval, all as Arb objects computed at ``prec + growth`` bits.
    """
    from flint import arb, arb_mat

    work = prec + _growth_bits(d, K, a)
    with working_precision(work):
        pi = arb.pi()
        half = pi / 2
        full = a >= math.pi / 2
        aa = half if full else arb(a)
        cd = arb(d) / 2
        cd = cd.gamma() / (pi.sqrt() * ((arb(d) - 1) / 2).gamma())
        rule = _gl_rule(N, work)
        th = [half + aa * x for x, _ in rule]
        t = [x.cos() for x in th]
        om = [cd * aa * w * (x.sin() ** (d - 2)) for (_, w), x in zip(rule, th)]
        rows = [om]
        if K >= 1:
            rows.append([o * p for o, p in zip(om, t)])
        P0, P1 = [arb(1)] * N, t
        for k in range(1, K):
            c1 = arb(2 * k + d - 2) / (k + d - 2)
            c0 = arb(k) / (k + d - 2)
            P2 = [c1 * tt * p1 - c0 * p0 for tt, p1, p0 in zip(t, P1, P0)]
            rows.append([o * p for o, p in zip(om, P2)])
            P0, P1 = P1, P2
        B = arb_mat(rows)
        trunc = arb(0) if full else (cd * (pi - 2 * aa) * aa.cos() ** (d - 2)).upper()
    return tuple(t), B, arb(trunc)


def _project(d: int, K: int, N: int, a: float, prec: int, values) -> list:
    """Arb balls ``lambda_k``, k = 0..K, of the N-point rule, for node values ``values(t_list)``.

    ``values`` may return a list (one column) or a list of columns (several kernels at once);
    the result is then a list of columns.
    """
    from flint import arb_mat

    t, B, _ = _basis(d, N, a, K, prec)
    with working_precision(prec):
        vals = values(list(t))
        many = isinstance(vals[0], (list, tuple))
        cols = vals if many else [vals]
        V = arb_mat([[col[j] for col in cols] for j in range(N)])
        L = B * V
        out = [[L[k, c] for k in range(K + 1)] for c in range(len(cols))]
    return out if many else out[0]


def _float_lambdas(d, K, N, a, act, depth, wv, bv, kernel):
    """Float64 rule (log-weights, so no underflow at large d); shape (K+1,)."""
    x, w = np.polynomial.legendre.leggauss(N)
    th = np.pi / 2 + a * x
    t = np.cos(th)
    logcd = math.lgamma(d / 2) - 0.5 * math.log(math.pi) - math.lgamma((d - 1) / 2)
    om = np.exp(logcd + np.log(a * w) + (d - 2) * np.log(np.sin(th)))
    phi = None
    for ck, ntk in _recursion_f64(act, depth, wv, bv, t, 1.0, 1.0):
        phi = ck if kernel == "ck" else ntk
    return gegenbauer_normalized(d, K, t) @ (om * phi)


# ------------------------------------------------------------------------------ public
def _parse_degrees(degrees, max_degree):
    if degrees is None:
        K = DEFAULT_MAX_DEGREE if max_degree is None else check_int(max_degree, "max_degree", minimum=0)
        return np.arange(K + 1)
    if max_degree is not None:
        check_int(max_degree, "max_degree", minimum=0)
    return check_degrees(degrees)


def _sphere_balls(d, K, act, depth, wv, bv, kernel, check, rtol, fixed_prec=None):
    """Balls and error bounds for lambda_0..K; ``check`` = degrees whose accuracy must reach rtol.

    Returns (lam2 balls, abs error bounds (arb), trace ball, prec, N1, N2, a).
    """
    from flint import arb

    prec = int(fixed_prec) if fixed_prec is not None else 64 + int(-math.log2(rtol)) + 32
    N_floor = 0
    for _ in range(16):
        a = _half_width(d, prec)
        N1 = max(_node_count(d, K, a, prec), N_floor)
        N2 = (int(N1 * 1.2) + 15) // 8 * 8
        vals = lambda tl: kernel_values_arb(tl, act, depth, wv, bv, kernel)  # noqa: E731
        lam1 = _project(d, K, N1, a, prec, vals)
        lam2 = _project(d, K, N2, a, prec, vals)
        with working_precision(prec):
            trace = kernel_values_arb([arb(1)], act, depth, wv, bv, kernel, diag_index=0)[0]
            trunc = _basis(d, N2, a, K, prec)[2] * abs(trace).upper()
            errs = [abs(l1 - l2).upper() + l2.rad() + trunc for l1, l2 in zip(lam1, lam2)]
            need_prec, need_nodes = prec, False
            for k in check:
                l2 = lam2[k]
                mag = abs(l2.mid())
                if not (abs(l2) - l2.rad() > 0) or l2.rad() + trunc > rtol * mag / 8:
                    if mag > 0 and abs(l2) - l2.rad() > 0:
                        extra = math.log2(float((arb(l2.rad()) + trunc) / (mag * rtol / 8))) + 16
                        need_prec = max(need_prec, prec + int(extra))
                    else:
                        need_prec = max(need_prec, 2 * prec)
                elif errs[k] > rtol * mag:
                    need_nodes = True
        if fixed_prec is not None:
            if need_nodes and N2 < 8 * (K + 64) + 16 * int(math.sqrt(d)) * 8:
                N_floor = N2 + 8
                continue
            break
        if need_prec > prec and prec < MAX_PRECISION:
            prec = min((need_prec + 31) // 32 * 32, MAX_PRECISION)
            N_floor = max(N_floor, N1)
            continue
        if need_nodes:
            N_floor = N2 + 8
            continue
        break
    return lam2, errs, trace, prec, N1, N2, a


def sphere_spectrum(dim: int, activation="relu", depth: int = 1, weight_var: float = 2.0, bias_var: float = 0.0,
                    kernel: str = "ntk", *, max_degree=None, degrees=None, rtol: float = 1e-12,
                    precision="auto") -> Spectrum:
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
        ``"auto"``: Arb with automatically raised precision (float64 with a stated tolerance for
        activations without closed-form duals); ``"float64"``: fast float64 rule; an int: Arb at
        that many bits, reporting whatever bound results.

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
    d, act, depth, kernel, wv, bv, rtol = _check_common(dim, activation, depth, weight_var, bias_var, kernel,
                                                        rtol, precision, min_dim=2)
    degs = _parse_degrees(degrees, max_degree)
    K = int(max(degs.max(), 1))
    struct = kernel_structure(act, depth, bv, kernel)
    zero_all = [structural_zero(struct, k) for k in range(K + 1)]
    import mpmath

    n = len(degs)
    eig = np.zeros(n)
    log10 = np.full(n, -np.inf)
    exact: list = [mpmath.mpf(0)] * n
    rel = np.zeros(n)
    cert = np.zeros(n, dtype=bool)
    method = ["zero"] * n
    extra: dict = {}
    if precision == "float64" or not act.exact:
        a = _half_width(d, 60)
        N = _node_count(d, K, a, 60)
        lam1 = _float_lambdas(d, K, N, a, act, depth, wv, bv, kernel)
        lam2 = _float_lambdas(d, K, int(N * 1.2) + 8, a, act, depth, wv, bv, kernel)
        phi1 = float(mlp_kernel_scalar(act, depth, wv, bv, kernel))
        from .cube import _fast_tolerance

        tol = _fast_tolerance(act, depth, int(N * 1.2) + 8, wv, bv, abs(phi1))
        lam_all = [mpmath.mpf(float(x)) for x in lam2]
        abs_err = [float(abs(x - y)) + tol for x, y in zip(lam1, lam2)]
        trace = phi1
        meth = "float64"
        for i, k in enumerate(degs):
            if zero_all[k]:
                continue
            m = float(lam2[k])
            eig[i], exact[i], method[i] = m, mpmath.mpf(m), meth
            log10[i] = math.log10(m) if m > 0 else (-np.inf if m == 0 else np.nan)
            rel[i] = abs_err[k] / (abs(m) - abs_err[k]) if abs(m) > abs_err[k] else math.inf
    else:
        check = [k for k in sorted(set(int(k) for k in degs) | {0, 1}) if not zero_all[k]]
        fixed = int(precision) if isinstance(precision, (int, np.integer)) else None
        balls, errs, trace_ball, prec, N1, N2, a = _sphere_balls(d, K, act, depth, wv, bv, kernel, check, rtol, fixed)
        lam_all = [arb_to_mpf(b) for b in balls]
        trace = float(arb_to_mpf(trace_ball))
        meth = f"arb-gl {N1}/{N2} @{prec}"
        for i, k in enumerate(degs):
            if zero_all[k]:
                continue
            b = balls[k]
            exact[i] = lam_all[k]
            eig[i] = float(exact[i])
            log10[i] = arb_log10(b) if b.mid() > 0 else np.nan
            err = arb_to_mpf(errs[k])
            rel[i] = float(err / (abs(exact[i]) - err)) if abs(exact[i]) > err else math.inf
            method[i] = meth
        extra["quadrature"] = dict(nodes=[N1, N2], precision_bits=prec, half_width=a)
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
    params = dict(activation=act.name, depth=depth, weight_var=float(wv), bias_var=float(bv), kernel=kernel)
    return Spectrum("sphere", d, degs, eig, log10, exact, mult, fv, rel, cert, method, trace, max_lr, params, extra)


def mlp_kernel_scalar(act, depth, wv, bv, kernel, c=1.0, norm_x=1.0, norm_y=1.0) -> float:
    """Float64 kernel value at one point (helper for the float64 paths)."""
    phi = None
    for ck, ntk in _recursion_f64(act, depth, wv, bv, np.asarray(c, float), norm_x, norm_y):
        phi = ck if kernel == "ck" else ntk
    return float(phi)
