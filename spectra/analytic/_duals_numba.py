"""Closed-form dual kernels as numba scalar functions, for the hyperparameter-grid fast path.

Dispatch codes are the :class:`spectra.analytic._dispatch.Dual` enum (``Activation.dispatch``,
with the two parameters ``Activation.dispatch_params``). Nothing is compiled at import: the first call compiles and caches to disk (``cache=True``).

The grid loops use :func:`fast_asin`, an arcsine accurate to a few ulp (checked against
mpmath in the tests) that, unlike a libm call, the compiler can inline and vectorize: with
``s = 8 t^2 - 1``, ``asin(t) = t + t^3 p(s)`` on ``t in [0, 1/2]``, where ``p`` is the degree-15
Chebyshev interpolant of ``(asin(t) - t)/t^3`` converted to monomials in ``s`` (all
coefficients positive, so the evaluation is well conditioned; regenerated from mpmath at 60
digits by :func:`asin_polynomial_coefficients` and compared in the tests), and the reduction
``asin(x) = pi/2 - 2 asin(sqrt((1 - x)/2))`` for ``x > 1/2``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._dispatch import Dual

_PI = math.pi

# monomial coefficients of p(s); see asin_polynomial_coefficients()
(_A0, _A1, _A2, _A3, _A4, _A5, _A6, _A7, _A8, _A9, _A10, _A11, _A12, _A13, _A14, _A15) = (
    0.17680460199399817, 0.010972967607792887, 0.0009145648551063198, 8.778021135214018e-05,
    9.151973253346758e-06, 1.0074723773600861e-06, 1.152465800464819e-07, 1.356525871543887e-08,
    1.6323529641784557e-09, 1.9990729247880127e-10, 2.4835270711079188e-11, 3.122177880550882e-12,
    3.9568454696764674e-13, 5.0674316063557387e-14, 7.014554144816755e-15, 9.1160151405125e-16)


def asin_polynomial_coefficients(n: int = 16) -> list:
    """Regenerate the coefficients of ``p`` with mpmath (60 digits): Chebyshev interpolation of
    ``(asin(t) - t)/t^3`` at ``n`` nodes in ``s = 8 t^2 - 1 in [-1, 1]``, then conversion to monomials."""
    import mpmath

    with mpmath.workdps(60):
        vals = []
        for i in range(n):
            s = mpmath.cos(mpmath.pi * (i + mpmath.mpf(1) / 2) / n)
            z = (1 + s) / 8
            t = mpmath.sqrt(z)
            vals.append((mpmath.asin(t) - t) / (z * t))
        cheb = [sum(vals[i] * mpmath.cos(mpmath.pi * k * (i + mpmath.mpf(1) / 2) / n) for i in range(n))
                * (1 if k == 0 else 2) / n for k in range(n)]
        T = [[mpmath.mpf(1)], [mpmath.mpf(0), mpmath.mpf(1)]]
        for k in range(2, n):
            a = [mpmath.mpf(0)] + [2 * x for x in T[k - 1]]
            b = T[k - 2] + [mpmath.mpf(0)] * (len(a) - len(T[k - 2]))
            T.append([x - y for x, y in zip(a, b)])
        poly = [mpmath.mpf(0)] * n
        for k in range(n):
            for i, cf in enumerate(T[k]):
                poly[i] += cheb[k] * cf
        return [float(x) for x in poly]


@njit(cache=True, inline="always")
def _asin_small(t):
    # t in [0, 1/2]; Estrin's scheme keeps the dependency chain short
    z = t * t
    s = 8.0 * z - 1.0
    s2 = s * s
    s4 = s2 * s2
    s8 = s4 * s4
    p01 = _A0 + _A1 * s
    p23 = _A2 + _A3 * s
    p45 = _A4 + _A5 * s
    p67 = _A6 + _A7 * s
    p89 = _A8 + _A9 * s
    p1011 = _A10 + _A11 * s
    p1213 = _A12 + _A13 * s
    p1415 = _A14 + _A15 * s
    q0 = p01 + p23 * s2
    q1 = p45 + p67 * s2
    q2 = p89 + p1011 * s2
    q3 = p1213 + p1415 * s2
    f = (q0 + q1 * s4) + (q2 + q3 * s4) * s8
    return t + t * z * f


@njit(cache=True, inline="always")
def fast_asin(x):
    """Arcsine of ``x`` in [-1, 1] to a few ulp (see module docstring)."""
    a = abs(x)
    if a <= 0.5:
        r = _asin_small(a)
    else:
        r = 0.5 * _PI - 2.0 * _asin_small(math.sqrt(0.5 * (1.0 - a)))
    return r if x >= 0 else -r


@njit(cache=True, inline="always")
def fast_asin_select(x):
    """:func:`fast_asin` without branches (both reductions computed, then selected): vectorizes."""
    a = abs(x)
    small = a <= 0.5
    u = a if small else math.sqrt(0.5 * (1.0 - a))
    p = _asin_small(u)
    r = p if small else 0.5 * _PI - 2.0 * p
    return r if x >= 0 else -r


@njit(cache=True)
def fast_asin_array(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = fast_asin(x[i])
    return out


@njit(cache=True)
def _mono_moment(n, c, p):
    # E[u^n v^n] = sum_k k! (n!/(2^j j! k!))^2 c^k p^j, j = (n-k)/2, p = v1 v2
    out = 0.0
    k = n % 2
    while k <= n:
        j = (n - k) // 2
        coef = math.gamma(n + 1) / (2.0**j * math.gamma(j + 1) * math.gamma(k + 1))
        out += math.gamma(k + 1) * coef * coef * c**k * p**j
        k += 2
    return out


@njit(cache=True)
def _poly_g(coef, m, v):
    # g_m(v) = sum_{j >= m, j - m even} a_j j!/(j-m)! (j-m-1)!! v^((j-m)/2)  (see closed_forms_extra)
    out = 0.0
    j = m
    while j < coef.shape[0]:
        r = j - m
        w = 1.0
        for t in range(r + 1, j + 1):
            w *= t
        for t in range(1, r, 2):
            w *= t
        out += w * coef[j] * v ** (r // 2)
        j += 2
    return out


@njit(cache=True)
def _poly_dual(coef, shift, c, v1, v2):
    out = 0.0
    fact = 1.0
    for m in range(coef.shape[0] - shift):
        if m > 0:
            fact *= m
        out += _poly_g(coef, m + shift, v1) * _poly_g(coef, m + shift, v2) * c**m / fact
    return out


@njit(cache=True, inline="always")
def _relu_power(n, c, s, theta, P):
    """(E[u_+^n v_+^n], n^2 E[u_+^(n-1) v_+^(n-1)]) for n in {2, 3} (Cho & Saul 2009)."""
    t = _PI - theta
    v1 = (s + t * c) / (2.0 * _PI)
    v2 = (3.0 * s * c + t * (P + 2.0 * c * c)) / (2.0 * _PI)
    if n == 2:
        return v2, 4.0 * v1
    return (s * (4.0 * P + 11.0 * c * c) + t * (9.0 * P * c + 6.0 * c * c * c)) / (2.0 * _PI), 9.0 * v2


@njit(cache=True, inline="always")
def _relu_family(code, a, b, c, s, theta):
    """Duals of a min(x,0) + b max(x,0) (and of its derivative), from s = sqrt(v1 v2 - c^2) and the angle.

    E[phi(u)phi(v)] = (a - b)^2 R(c) + a b c with R the relu dual, and E[psi psi] = (a - b)^2 S + a b
    for psi = a 1[x<0] + b 1[x>0] with S the step dual (Cho & Saul 2009 arc-cosine kernels).
    """
    w = (a - b) * (a - b)
    step = w * ((_PI - theta) / (2.0 * _PI)) + a * b
    if code == Dual.RELU_FAMILY:
        return w * ((s + (_PI - theta) * c) / (2.0 * _PI)) + a * b * c, step
    return step, 0.0


@njit(cache=True)
def dual_pair(code, params, c, v1, v2):
    """Return ``(E[phi(u)phi(v)], E[phi'(u)phi'(v)])`` for the closed form ``code`` with ``params`` (1-D)."""
    if code == Dual.RELU_FAMILY or code == Dual.STEP_FAMILY:
        s2 = v1 * v2 - c * c
        s = math.sqrt(s2) if s2 > 0.0 else 0.0
        return _relu_family(code, params[0], params[1], c, s, math.atan2(s, c))
    if code == Dual.RELU_POWER:
        P = v1 * v2
        s2 = P - c * c
        s = math.sqrt(s2) if s2 > 0.0 else 0.0
        return _relu_power(int(params[0]), c, s, math.atan2(s, c), P)
    if code == Dual.EXP:
        e = math.exp((v1 + v2) / 2 + c)
        return e, e
    if code == Dual.GAUSSIAN:
        D = (1 + 2 * v1) * (1 + 2 * v2) - 4 * c * c
        r = 1.0 / math.sqrt(D)
        return r, 4.0 * c * r / D
    if code == Dual.SCALED_ERF:
        a2 = params[0] * params[0]
        b2 = params[1] * params[1]
        A = (1 + 2 * b2 * v1) * (1 + 2 * b2 * v2)
        x = min(1.0, max(-1.0, 2 * b2 * c / math.sqrt(A)))
        return (a2 * 2.0 / _PI * math.asin(x) + params[2] * params[2],
                a2 * b2 * 4.0 / _PI / math.sqrt(A - 4 * b2 * b2 * c * c))
    if code == Dual.POLYNOMIAL:
        return _poly_dual(params, 0, c, v1, v2), _poly_dual(params, 1, c, v1, v2)
    if code == Dual.ERF:
        a = (1 + 2 * v1) * (1 + 2 * v2)
        x = 2 * c / math.sqrt(a)
        x = min(1.0, max(-1.0, x))
        return 2.0 / _PI * math.asin(x), 4.0 / _PI / math.sqrt(a - 4 * c * c)
    if code == Dual.SIN:
        e = math.exp(-(v1 + v2) / 2)
        return e * math.sinh(c), e * math.cosh(c)
    if code == Dual.COS:
        e = math.exp(-(v1 + v2) / 2)
        return e * math.cosh(c), e * math.sinh(c)
    if code == Dual.IDENTITY:
        return c, 1.0
    if code == Dual.MONOMIAL:
        n = int(params[0])
        p = v1 * v2
        if n == 1:
            return c, 1.0
        return _mono_moment(n, c, p), n * n * _mono_moment(n - 1, c, p)
    if code == Dual.GELU:
        s2 = (1 + v1) * (1 + v2)
        D = s2 - c * c
        al = 1 / (1 + v1) + 1 / (1 + v2) - 1
        x = min(1.0, max(-1.0, c / math.sqrt(s2)))
        asn = math.asin(x)
        rD = math.sqrt(D)
        V = c / 4 + (c * asn + (v1 * v2 + al * c * c) / rD) / (2 * _PI)
        dV = 0.25 + (asn + c / rD + 2 * al * c / rD + c * (v1 * v2 + al * c * c) / (D * rD)) / (2 * _PI)
        return V, dV
    return np.nan, np.nan


@njit(cache=True, inline="always")
def _dual_lane(code, params, c, q, inv):
    """(V, V') at covariance c for equal variances q (inv = 1/q); branch-light for SIMD lanes."""
    if code == Dual.ERF:
        den = 1.0 + 2.0 * q
        x = min(1.0, max(-1.0, 2.0 * c / den))
        return 2.0 / _PI * fast_asin(x), 4.0 / _PI / (den * math.sqrt((1.0 - x) * (1.0 + x)))
    if code == Dual.RELU_FAMILY or code == Dual.STEP_FAMILY or code == Dual.RELU_POWER:
        # theta = arccos(c/q) from 1 -+ rho = (q -+ c)/q: exact at c = q (no sqrt(eps) error)
        ac = abs(c)
        half = min(1.0, max(0.0, 0.5 * (q - ac) * inv))
        t = 2.0 * fast_asin(math.sqrt(half))
        theta = t if c >= 0.0 else _PI - t
        d2 = (q - c) * (q + c)
        if code == Dual.RELU_POWER:
            return _relu_power(int(params[0]), c, math.sqrt(max(d2, 0.0)), theta, q * q)
        return _relu_family(code, params[0], params[1], c, math.sqrt(max(d2, 0.0)), theta)
    return dual_pair(code, params, c, q, q)


# parallel=True, by measurement (issue #14, the README grid in a fresh process, 2 cores): loading the
# cached parallel function costs no more than the serial one (0.37 s vs 0.39 s) and the run is 2.5x
# faster (0.12 s vs 0.31 s quiet; 0.38 s vs 0.95 s loaded), so the first call is sooner too
@njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def grid_spectra(code, params, depth, wv, bv, cgrid, Mh, tol, out):
    """Fused recursion + Krawtchouk transform over (weight_var, bias_var) pairs.

    Pairs are processed in blocks whose members share control flow, so the inner loops run
    over pairs and vectorize.  code, params : the activation's :class:`Dual` and its
    parameters (1-D); wv, bv : (P,); cgrid : (m,); Mh : (K+1, m//2 + 1), the first half of the
    Krawtchouk rows (M[k, d-j] = (-1)^k M[k, j]); tol : (2,) = (tol_a, tol_b).
    Output ``out`` : (2, depth+1, P, K+3), kernel 0 = CK, 1 = NTK; ``out[..., :K+1]`` the
    eigenvalues, ``out[..., K+1]`` the kernel at c = 1 and ``out[..., K+2]`` the stated absolute
    error bound ``(tol_a (l + 1) + tol_b) max|Phi|``.
    """
    tol_a = tol[0]
    tol_b = tol[1]
    P = wv.shape[0]
    m = cgrid.shape[0]
    h = Mh.shape[1]
    K1 = Mh.shape[0]
    B = 32
    nblocks = (P + B - 1) // B
    for blk in prange(nblocks):
        p0 = blk * B
        nb = min(B, P - p0)
        sig = np.empty((m, B))
        th = np.empty((m, B))
        q = np.empty(B)
        inv = np.empty(B)
        w = np.empty(B)
        b = np.empty(B)
        acc_s = np.empty((K1, B))
        acc_t = np.empty((K1, B))
        for i in range(B):
            w[i] = wv[p0 + i] if i < nb else 1.0
            b[i] = bv[p0 + i] if i < nb else 0.0
            q[i] = w[i] + b[i]
        for j in range(m):
            for i in range(B):
                sig[j, i] = w[i] * cgrid[j] + b[i]
                th[j, i] = sig[j, i]
        for l in range(depth + 1):
            if l > 0:
                for i in range(B):
                    inv[i] = 1.0 / q[i]
                if code == Dual.ERF:  # written out so that the lane loop vectorizes
                    for i in range(B):
                        inv[i] = 1.0 / (1.0 + 2.0 * q[i])
                    for j in range(m):
                        for i in range(B):
                            x = min(1.0, max(-1.0, 2.0 * sig[j, i] * inv[i]))
                            V = 2.0 / _PI * fast_asin_select(x)
                            Vd = 4.0 / _PI * inv[i] / math.sqrt((1.0 - x) * (1.0 + x))
                            s_new = w[i] * V + b[i]
                            th[j, i] = s_new + w[i] * Vd * th[j, i]
                            sig[j, i] = s_new
                    for i in range(B):
                        q[i] = w[i] * (2.0 / _PI * fast_asin_select(min(1.0, 2.0 * q[i] * inv[i]))) + b[i]
                else:
                    for j in range(m):
                        for i in range(B):
                            V, Vd = _dual_lane(code, params, sig[j, i], q[i], inv[i])
                            s_new = w[i] * V + b[i]
                            th[j, i] = s_new + w[i] * Vd * th[j, i]
                            sig[j, i] = s_new
                    for i in range(B):
                        # same function as for the grid, so that the point c = 1 stays exactly at q
                        vq, _ = _dual_lane(code, params, q[i], q[i], inv[i])
                        q[i] = w[i] * vq + b[i]
            acc_s[:, :] = 0.0
            acc_t[:, :] = 0.0
            for j in range(h):
                jj = m - 1 - j
                mid = 0.5 if jj == j else 1.0  # the middle point pairs with itself
                for k in range(K1):
                    coef = Mh[k, j] * mid
                    if k % 2 == 0:
                        for i in range(B):
                            acc_s[k, i] += coef * (sig[j, i] + sig[jj, i])
                            acc_t[k, i] += coef * (th[j, i] + th[jj, i])
                    else:
                        for i in range(B):
                            acc_s[k, i] += coef * (sig[j, i] - sig[jj, i])
                            acc_t[k, i] += coef * (th[j, i] - th[jj, i])
            for i in range(nb):
                vs = 0.0
                vt = 0.0
                for j in range(m):
                    vs = max(vs, abs(sig[j, i]))
                    vt = max(vt, abs(th[j, i]))
                for k in range(K1):
                    out[0, l, p0 + i, k] = acc_s[k, i]
                    out[1, l, p0 + i, k] = acc_t[k, i]
                out[0, l, p0 + i, K1] = sig[0, i]
                out[1, l, p0 + i, K1] = th[0, i]
                out[0, l, p0 + i, K1 + 1] = (tol_a * (l + 1) + tol_b) * vs
                out[1, l, p0 + i, K1 + 1] = (tol_a * (l + 1) + tol_b) * vt
