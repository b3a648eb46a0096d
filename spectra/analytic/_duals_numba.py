"""Closed-form dual kernels as numba scalar functions, for the hyperparameter-grid fast path.

Dispatch codes match ``Activation.numba_code``: 1 relu, 2 leaky relu (param = slope),
3 abs, 4 step, 5 erf, 6 sin, 7 cos, 8 identity, 9 monomial (param = degree), 10 gelu.
Nothing is compiled at import: the first call compiles and caches to disk (``cache=True``).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_PI = math.pi


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
def dual_pair(code, param, c, v1, v2):
    """Return ``(E[phi(u)phi(v)], E[phi'(u)phi'(v)])`` for the closed form ``code``."""
    if code == 1 or code == 2 or code == 3 or code == 4:
        s2 = v1 * v2 - c * c
        s = math.sqrt(s2) if s2 > 0.0 else 0.0
        th = math.atan2(s, c)
        relu = (s + (_PI - th) * c) / (2 * _PI)
        step = (_PI - th) / (2 * _PI)
        if code == 1:
            return relu, step
        if code == 2:
            w = (1.0 - param) ** 2
            return param * c + w * relu, param + w * step
        if code == 3:
            return 2.0 / _PI * (s + c * (_PI / 2 - th)), 2.0 / _PI * (_PI / 2 - th)
        return step, 0.0
    if code == 5:
        a = (1 + 2 * v1) * (1 + 2 * v2)
        x = 2 * c / math.sqrt(a)
        x = min(1.0, max(-1.0, x))
        return 2.0 / _PI * math.asin(x), 4.0 / _PI / math.sqrt(a - 4 * c * c)
    if code == 6:
        e = math.exp(-(v1 + v2) / 2)
        return e * math.sinh(c), e * math.cosh(c)
    if code == 7:
        e = math.exp(-(v1 + v2) / 2)
        return e * math.cosh(c), e * math.sinh(c)
    if code == 8:
        return c, 1.0
    if code == 9:
        n = int(param)
        p = v1 * v2
        if n == 1:
            return c, 1.0
        return _mono_moment(n, c, p), n * n * _mono_moment(n - 1, c, p)
    if code == 10:
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


@njit(cache=True, parallel=True)
def grid_kernel_values(code, param, depth, wv, bv, cgrid, ck_out, ntk_out):
    """Kernel values on the cube grid for many (weight_var, bias_var) pairs and every depth.

    wv, bv : (P,) ; cgrid : (m,) ; ck_out, ntk_out : (P, depth + 1, m), filled in place.
    """
    P = wv.shape[0]
    m = cgrid.shape[0]
    for p in prange(P):
        w = wv[p]
        b = bv[p]
        sig = np.empty(m)
        th = np.empty(m)
        q = w + b
        for j in range(m):
            sig[j] = w * cgrid[j] + b
            th[j] = sig[j]
            ck_out[p, 0, j] = sig[j]
            ntk_out[p, 0, j] = th[j]
        for l in range(depth):
            vq, _ = dual_pair(code, param, q, q, q)
            for j in range(m):
                V, Vd = dual_pair(code, param, sig[j], q, q)
                s_new = w * V + b
                th[j] = s_new + w * Vd * th[j]
                sig[j] = s_new
                ck_out[p, l + 1, j] = s_new
                ntk_out[p, l + 1, j] = th[j]
            q = w * vq + b
