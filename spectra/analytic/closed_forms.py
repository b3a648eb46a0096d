r"""Activations with closed-form dual kernels (float64, Arb, and a numba dispatch code).

The relu family ``a min(x, 0) + b max(x, 0)`` (relu, leaky relu, abs) and its derivative family
``a 1[x<0] + b 1[x>0]`` (step) are one constructor each, :func:`ab_relu` and :func:`ab_step`; erf,
gelu, sin, cos, identity and monomials ``x^n`` have their own closed forms (:mod:`.duals`).
"""
from __future__ import annotations

import math

import numpy as np

from . import duals as D
from ._activation import INF, Activation
from ._dispatch import Dual

__all__ = ["ab_relu", "ab_step", "leaky_relu", "monomial", "closed_forms"]


def _closed(name, fn, der, V, dV, Va, dVa, st, dst, code, params=(0.0, 0.0), kinked=False, desc="", diag=None):
    return Activation(name, fn, der, V, dV, Va, dVa, st, dst, code, tuple(float(p) for p in params), kinked, desc,
                      None, diag)


def _zero_like(x):
    return np.zeros_like(np.asarray(x, dtype=float))


def _zero_dual(c, v1, v2):
    c, v1, v2 = D._b(c, v1, v2)
    return np.zeros(np.broadcast(c, v1, v2).shape)


def _zero_dual_arb(c, v1, v2):
    return D._arb()(0)


def _check_slopes(a, b):
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b)) or max(abs(a), abs(b)) > 1e150:
        raise ValueError(f"relu-family slopes must be finite with |slope| <= 1e150, got ({a!r}, {b!r})")
    return a, b


def _ab_structure(a: float, b: float) -> tuple:
    """(odd, even) degrees of ``(a + b)/2 x + (b - a)/2 |x|`` (or of ``(a+b)/2 + (b-a)/2 sign x`` shifted)."""
    return (1 if a + b else -1, INF if b != a else -1)


def _relu_fn(x):
    return np.maximum(x, 0.0)


def _step_fn(x):
    return (np.asarray(x) > 0).astype(float)


def _ab_relu_fns(a: float, b: float):
    """Elementwise ``phi`` and ``phi'`` (relu and abs keep numpy's fast ufuncs and ``phi'(0) = 0``)."""
    if (a, b) == (0.0, 1.0):
        return _relu_fn, _step_fn
    if (a, b) == (-1.0, 1.0):
        return np.abs, np.sign

    def fn(x):
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, b * x, a * x)

    def der(x):
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, b, a) * 1.0

    return fn, der


def ab_relu(a: float, b: float, name: str, desc: str = "") -> Activation:
    r"""The relu family :math:`\phi(x) = a\min(x, 0) + b\max(x, 0)` with its closed-form duals.

    relu is ``(0, 1)``, leaky relu ``(alpha, 1)``, abs ``(-1, 1)``. With ``R``, ``S`` the relu and
    step duals (Cho & Saul 2009): ``E[phi phi] = (a - b)^2 R(c) + a b c`` and
    ``E[phi' phi'] = (a - b)^2 S(c) + a b``.

    Examples
    --------
    >>> absx = ab_relu(-1.0, 1.0, "abs")
    >>> float(absx.dual(1.0, 1.0, 1.0))        # E|u|^2 = 1
    1.0
    """
    a, b = _check_slopes(a, b)
    w, ab = (a - b) ** 2, a * b

    fn, der = _ab_relu_fns(a, b)

    def diag(q):
        # at correlation 1: E[phi^2] = (a^2 + b^2) q / 2, E[phi'^2] = (a^2 + b^2) / 2
        return (a * a + b * b) * q / 2, D._arb()(a * a + b * b) / 2

    st = _ab_structure(a, b)
    dst = (st[1], 0 if a + b else -1)
    return _closed(name, fn, der,
                   _affine(w, ab, D.relu_dual, linear=True), _affine(w, ab, D.step_dual),
                   _affine(w, ab, D.relu_dual_arb, linear=True), _affine(w, ab, D.step_dual_arb),
                   st, dst, Dual.RELU_FAMILY, (a, b), kinked=b != a, desc=desc or f"{a:g} min(x,0) + {b:g} max(x,0)",
                   diag=diag)


def _affine(w: float, ab: float, dual, *, linear: bool = False):
    """``w dual(c) + ab c`` (``linear``) or ``w dual(c) + ab``; ``dual`` itself when ``(w, ab) = (1, 0)``.

    Returning ``dual`` unchanged keeps relu's float64 values and Arb radii exactly those of the
    relu dual (an Arb product by 1 may round its radius up).
    """
    if (w, ab) == (1.0, 0.0):
        return dual
    if linear:
        return lambda c, v1, v2: w * dual(c, v1, v2) + ab * (np.asarray(c, dtype=float) if isinstance(c, (float, int, np.ndarray)) else c)
    return lambda c, v1, v2: w * dual(c, v1, v2) + ab


def ab_step(a: float, b: float, name: str, desc: str = "") -> Activation:
    r"""The derivative family :math:`\psi(x) = a\,1[x < 0] + b\,1[x > 0]` (step ``(0, 1)``, sign ``(-1, 1)``).

    ``E[psi psi] = (a - b)^2 S(c) + a b``; ``psi' = 0`` almost everywhere, so its NTK term is 0.

    Examples
    --------
    >>> float(ab_step(0.0, 1.0, "step").dual(1.0, 1.0, 1.0))
    0.5
    """
    a, b = _check_slopes(a, b)
    w, ab = (a - b) ** 2, a * b

    if (a, b) == (0.0, 1.0):
        fn = _step_fn
    else:
        def fn(x):
            x = np.asarray(x, dtype=float)
            return np.where(x > 0, b, np.where(x < 0, a, 0.0)) * 1.0

    def diag(q):
        return D._arb()(a * a + b * b) / 2, D._arb()(0)

    odd, even = _ab_structure(a, b)
    return _closed(name, fn, _zero_like, _affine(w, ab, D.step_dual), _zero_dual,
                   _affine(w, ab, D.step_dual_arb), _zero_dual_arb,
                   (even, 0 if a + b else -1), (-1, -1), Dual.STEP_FAMILY, (a, b), kinked=b != a,
                   desc=desc or f"{a:g} 1[x<0] + {b:g} 1[x>0] (its NTK term is 0)", diag=diag)


def leaky_relu(alpha: float) -> Activation:
    """Leaky relu ``max(x, alpha x)``: :func:`ab_relu` with ``(alpha, 1)``."""
    a = float(alpha)
    if not np.isfinite(a):
        raise ValueError(f"leaky relu slope must be finite, got {alpha!r}")
    return ab_relu(a, 1.0, f"leaky_relu({a:g})", desc=f"max(x, {a:g} x)")


def monomial(n: int) -> Activation:
    """The monomial ``x^n``, ``n`` an integer in [1, 12] (bivariate-normal moment duals)."""
    if not (isinstance(n, (int, np.integer)) and 1 <= n <= 12):
        raise ValueError(f"monomial degree must be an integer in [1, 12], got {n!r}")
    n = int(n)

    def fn(x):
        return np.asarray(x, dtype=float) ** n

    def der(x):
        return n * np.asarray(x, dtype=float) ** (n - 1)

    def V(c, v1, v2):
        return D.monomial_moment(n, c, v1, v2)

    def dV(c, v1, v2):
        if n == 1:
            return np.ones(np.broadcast(*D._b(c, v1, v2)).shape)
        return n * n * D.monomial_moment(n - 1, c, v1, v2)

    def Va(c, v1, v2):
        return D.monomial_moment_arb(n, c, v1, v2)

    def dVa(c, v1, v2):
        if n == 1:
            return D._arb()(1)
        return n * n * D.monomial_moment_arb(n - 1, c, v1, v2)

    st = (n, -1) if n % 2 else (-1, n)
    m = n - 1
    dst = (-1, 0) if m == 0 else ((m, -1) if m % 2 else (-1, m))
    return _closed(f"monomial({n})", fn, der, V, dV, Va, dVa, st, dst, Dual.MONOMIAL, (n, 0), desc=f"x^{n}")


def _identity_V(c, v1, v2):
    c, v1, v2 = D._b(c, v1, v2)
    return np.broadcast_to(c, np.broadcast(c, v1, v2).shape).copy()


def _ones_dual(c, v1, v2):
    return np.ones(np.broadcast(*D._b(c, v1, v2)).shape)


def _build_closed_forms() -> dict:
    """The registry of parameter-free closed forms, by name."""
    reg = {}
    reg["relu"] = ab_relu(0.0, 1.0, "relu", desc="max(x, 0)")
    reg["abs"] = ab_relu(-1.0, 1.0, "abs", desc="|x|")
    reg["step"] = ab_step(0.0, 1.0, "step", desc="1[x > 0] (its NTK term is 0)")
    reg["erf"] = _closed("erf", D.erf_fn, lambda x: 2 / np.sqrt(np.pi) * np.exp(-np.asarray(x, float) ** 2),
                         D.erf_dual, D.erf_dual_derivative, D.erf_dual_arb, D.erf_dual_derivative_arb,
                         (INF, -1), (-1, INF), Dual.ERF, desc="erf(x)")
    reg["sin"] = _closed("sin", np.sin, np.cos,
                         lambda c, v1, v2: np.exp(-(np.asarray(v1, float) + v2) / 2) * np.sinh(c),
                         lambda c, v1, v2: np.exp(-(np.asarray(v1, float) + v2) / 2) * np.cosh(c),
                         lambda c, v1, v2: (-(v1 + v2) / 2).exp() * c.sinh(),
                         lambda c, v1, v2: (-(v1 + v2) / 2).exp() * c.cosh(),
                         (INF, -1), (-1, INF), Dual.SIN, desc="sin(x)")
    reg["cos"] = _closed("cos", np.cos, lambda x: -np.sin(x),
                         lambda c, v1, v2: np.exp(-(np.asarray(v1, float) + v2) / 2) * np.cosh(c),
                         lambda c, v1, v2: np.exp(-(np.asarray(v1, float) + v2) / 2) * np.sinh(c),
                         lambda c, v1, v2: (-(v1 + v2) / 2).exp() * c.cosh(),
                         lambda c, v1, v2: (-(v1 + v2) / 2).exp() * c.sinh(),
                         (-1, INF), (INF, -1), Dual.COS, desc="cos(x)")
    reg["identity"] = _closed("identity", lambda x: np.asarray(x, dtype=float) * 1.0,
                              lambda x: np.ones_like(np.asarray(x, dtype=float)),
                              _identity_V, _ones_dual, lambda c, v1, v2: c, lambda c, v1, v2: D._arb()(1),
                              (1, -1), (-1, 0), Dual.IDENTITY, desc="x (linear network)")
    reg["gelu"] = _closed("gelu", D.gelu_fn, D.gelu_derivative, D.gelu_dual, D.gelu_dual_derivative,
                          D.gelu_dual_arb, D.gelu_dual_derivative_arb, (1, INF), (INF, 0), Dual.GELU,
                          desc="x Phi(x) (exact, erf-based)")
    return reg




_CLOSED = None


def closed_forms() -> dict:
    """``{name: Activation}`` for the parameter-free closed forms (built once)."""
    global _CLOSED
    if _CLOSED is None:
        _CLOSED = _build_closed_forms()
    return _CLOSED
