r"""Closed-form dual kernels in float64 (numpy broadcasting) and in Arb ball arithmetic.

For a centred bivariate Gaussian ``(u, v)`` with variances ``v1``, ``v2`` and covariance ``c``:
``E[phi(u) phi(v)]`` for the activations of :mod:`spectra.analytic.activations`. The angle is
``atan2(sqrt(max(v1 v2 - c^2, 0)), c)``, so correlations at exactly +-1 give no NaN. Sources:
Cho & Saul 2009 (arc-cosine kernels: relu, step), Williams 1997 (erf), Tsuchida et al. 2021
(gelu), the bivariate normal moment formula (monomials), ``E[e^{i(u+v)}]`` (sin, cos).

Examples
--------
>>> float(relu_dual(0.0, 1.0, 1.0)), float(relu_dual(1.0, 1.0, 1.0))
(0.15915494309189535, 0.5)
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["relu_dual", "step_dual", "erf_fn", "erf_dual", "erf_dual_derivative", "gelu_fn", "gelu_derivative",
           "gelu_dual", "gelu_dual_derivative", "monomial_moment", "relu_dual_arb", "step_dual_arb", "erf_dual_arb",
           "erf_dual_derivative_arb", "gelu_dual_arb", "gelu_dual_derivative_arb", "monomial_moment_arb"]


def _b(c, v1, v2):
    c = np.asarray(c, dtype=float)
    v1 = np.asarray(v1, dtype=float)
    v2 = np.asarray(v2, dtype=float)
    return c, v1, v2


def _theta(c, v1, v2):
    s2 = np.maximum(v1 * v2 - c * c, 0.0)
    return np.sqrt(s2), np.arctan2(np.sqrt(s2), c)


def relu_dual(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    s, th = _theta(c, v1, v2)
    return (s + (np.pi - th) * c) / (2 * np.pi)


def step_dual(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    _, th = _theta(c, v1, v2)
    return (np.pi - th) / (2 * np.pi)


def erf_dual(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    den = np.sqrt((1 + 2 * v1) * (1 + 2 * v2))
    return 2.0 / np.pi * np.arcsin(np.clip(2 * c / den, -1.0, 1.0))


def erf_dual_derivative(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    return 4.0 / np.pi / np.sqrt((1 + 2 * v1) * (1 + 2 * v2) - 4 * c * c)


def _gelu_parts(c, v1, v2):
    s2 = (1 + v1) * (1 + v2)
    D = s2 - c * c
    alpha = 1 / (1 + v1) + 1 / (1 + v2) - 1
    asn = np.arcsin(np.clip(c / np.sqrt(s2), -1.0, 1.0))
    return D, alpha, asn


def gelu_dual(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    D, alpha, asn = _gelu_parts(c, v1, v2)
    return c / 4 + (c * asn + (v1 * v2 + alpha * c * c) / np.sqrt(D)) / (2 * np.pi)


def gelu_dual_derivative(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    D, alpha, asn = _gelu_parts(c, v1, v2)
    rD = np.sqrt(D)
    return 0.25 + (asn + c / rD + 2 * alpha * c / rD + c * (v1 * v2 + alpha * c * c) / (D * rD)) / (2 * np.pi)


def monomial_moment(n: int, c, v1, v2):
    """E[u^n v^n] = sum_{k = n mod 2}^{n} k! (n!/(2^j j! k!))^2 c^k (v1 v2)^j, j = (n-k)/2."""
    c, v1, v2 = _b(c, v1, v2)
    p = v1 * v2
    out = np.zeros(np.broadcast(c, p).shape)
    for k in range(n % 2, n + 1, 2):
        j = (n - k) // 2
        coef = math.factorial(k) * (math.factorial(n) / (2**j * math.factorial(j) * math.factorial(k))) ** 2
        out = out + coef * c**k * p**j
    return out


def erf_fn(x):
    """``erf`` elementwise (scipy, imported on first use so that importing spectra stays light)."""
    from scipy import special

    return special.erf(x)


def gelu_fn(x):
    """``x Phi(x)`` elementwise, ``Phi`` the standard normal CDF."""
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + erf_fn(x / np.sqrt(2.0)))


def gelu_derivative(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * (1.0 + erf_fn(x / np.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


# --------------------------------------------------------------------------------------
# Arb helpers (python-flint); imported lazily so that `import spectra` stays light
# --------------------------------------------------------------------------------------
_ARB = []


def _arb():
    # cached: an import statement per dual evaluation was a quarter of the Arb paths' time
    if not _ARB:
        from flint import arb

        _ARB.append(arb)
    return _ARB[0]


def _theta_arb(c, v1, v2):
    arb = _arb()
    s = (v1 * v2 - c * c).nonnegative_part().sqrt()
    return s, arb.atan2(s, c)


def relu_dual_arb(c, v1, v2):
    arb = _arb()
    s, th = _theta_arb(c, v1, v2)
    pi = arb.pi()
    return (s + (pi - th) * c) / (2 * pi)


def step_dual_arb(c, v1, v2):
    arb = _arb()
    _, th = _theta_arb(c, v1, v2)
    pi = arb.pi()
    return (pi - th) / (2 * pi)


def erf_dual_arb(c, v1, v2):
    arb = _arb()
    den = ((1 + 2 * v1) * (1 + 2 * v2)).sqrt()
    return 2 * (2 * c / den).asin() / arb.pi()


def erf_dual_derivative_arb(c, v1, v2):
    arb = _arb()
    return 4 / (arb.pi() * ((1 + 2 * v1) * (1 + 2 * v2) - 4 * c * c).sqrt())


def _gelu_parts_arb(c, v1, v2):
    s2 = (1 + v1) * (1 + v2)
    return s2 - c * c, 1 / (1 + v1) + 1 / (1 + v2) - 1, (c / s2.sqrt()).asin()


def gelu_dual_arb(c, v1, v2):
    arb = _arb()
    D, alpha, asn = _gelu_parts_arb(c, v1, v2)
    return c / 4 + (c * asn + (v1 * v2 + alpha * c * c) / D.sqrt()) / (2 * arb.pi())


def gelu_dual_derivative_arb(c, v1, v2):
    arb = _arb()
    D, alpha, asn = _gelu_parts_arb(c, v1, v2)
    rD = D.sqrt()
    return arb(1) / 4 + (asn + c / rD + 2 * alpha * c / rD + c * (v1 * v2 + alpha * c * c) / (D * rD)) / (2 * arb.pi())


def monomial_moment_arb(n: int, c, v1, v2):
    arb = _arb()
    p = v1 * v2
    out = arb(0)
    for k in range(n % 2, n + 1, 2):
        j = (n - k) // 2
        coef = math.factorial(k) * (math.factorial(n) // (2**j * math.factorial(j) * math.factorial(k))) ** 2
        # n!/(2^j j! k!) is an integer (it counts pairings), so coef is exact
        out = out + coef * c**k * p**j
    return out


