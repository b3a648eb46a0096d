r"""More activations with closed-form duals: rectified monomials, sign, exp, the Gaussian, scaled erf, polynomials.

For a centred bivariate Gaussian ``(u, v)`` with variances ``v1``, ``v2`` and covariance ``c``
(``P = v1 v2``, ``s = sqrt(P - c^2)``, ``theta = atan2(s, c)``):

* ``relu_power(n)``, :math:`x_+^n` (Cho & Saul 2009, arc-cosine kernels of order n):
  ``E[u_+^2 v_+^2] = (3 s c + (pi - theta)(P + 2 c^2)) / (2 pi)``,
  ``E[u_+^3 v_+^3] = (s (4 P + 11 c^2) + (pi - theta)(9 P c + 6 c^3)) / (2 pi)``;
  ``phi' = n x_+^(n-1)``, so the derivative dual is ``n^2`` times the dual of order ``n - 1``.
* ``sign``: the step family ``-1[x<0] + 1[x>0]``, dual ``(2/pi) asin(rho)``. Its derivative is
  ``2 delta(x)``; like ``step``, the package takes ``phi' = 0`` almost everywhere (what
  backpropagation through ``sign`` computes), so its NTK term is 0 and its NTK equals its CK.
* ``exp``: ``E[e^u e^v] = exp((v1 + v2)/2 + c)``, the same for the derivative.
* ``gaussian``, :math:`e^{-x^2}`: ``E = D^(-1/2)`` with ``D = (1 + 2 v1)(1 + 2 v2) - 4 c^2``
  (``det(I + 2 Sigma)``), and the derivative dual ``4 c D^(-3/2)`` (Price: the ``c``-derivative).
* ``scaled_erf(a, b, c)``, :math:`a\,\mathrm{erf}(bx) + c` (Williams 1997 for erf, with the
  variances scaled by ``b^2``; ``E[erf] = 0`` removes the cross terms):
  ``a^2 (2/pi) asin(2 b^2 c / sqrt((1 + 2 b^2 v1)(1 + 2 b^2 v2))) + c^2``, derivative dual
  ``a^2 b^2 (4/pi) / sqrt((1 + 2 b^2 v1)(1 + 2 b^2 v2) - 4 b^4 c^2)``.
* ``polynomial(a_0, ..., a_n)``, :math:`\sum_j a_j x^j`: by Isserlis' theorem (the Mehler series,
  which is finite for a polynomial) ``E[phi(u) phi(v)] = sum_m c^m/m! g_m(v1) g_m(v2)`` with
  ``g_m(v) = E[phi^(m)(sqrt(v) Z)] = sum_{j >= m, j - m even} a_j j!/(j - m)! (j - m - 1)!! v^((j-m)/2)``;
  the derivative dual is the same sum with ``g_(m+1)``.

Every dual has a float64 form (numpy broadcasting), an Arb form, and a numba form
(:mod:`spectra.analytic._duals_numba`, codes in :class:`spectra.analytic._dispatch.Dual`).

Examples
--------
>>> act = relu_power(2)
>>> float(act.dual(1.0, 1.0, 1.0))            # E[u_+^4] = 3/2
1.5
>>> round(float(gaussian_activation().dual(0.0, 1.0, 1.0)), 12)   # (E e^{-u^2})^2 = 1/3
0.333333333333
"""
from __future__ import annotations

import math

import numpy as np

from . import duals as D
from ._activation import INF, Activation
from ._dispatch import Dual
from .closed_forms import _closed, ab_step

__all__ = ["relu_power", "scaled_erf", "polynomial", "gaussian_activation", "elu", "extra_closed_forms",
           "format_param"]


def format_param(x: float) -> str:
    """A parameter as it appears in an activation name: short (``%g``) when that reads back exactly."""
    s = f"{x:g}"
    return s if float(s) == x else repr(float(x))


def _check_real(x, what: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a real number, got {x!r}") from None
    if not math.isfinite(v) or abs(v) > 1e150:
        raise ValueError(f"{what} must be finite with |{what}| <= 1e150, got {x!r}")
    return v


# ----------------------------------------------------------------------------- x_+^n
def _relu_power_V(n, c, s, th, P, pi):
    """Dual of x_+^n from s = sqrt(P - c^2) and theta (numpy or Arb); n in {1, 2, 3}."""
    if n == 1:
        return (s + (pi - th) * c) / (2 * pi)
    if n == 2:
        return (3 * s * c + (pi - th) * (P + 2 * c * c)) / (2 * pi)
    return (s * (4 * P + 11 * c * c) + (pi - th) * (9 * P * c + 6 * c * c * c)) / (2 * pi)


def _relu_power_f64(n, c, v1, v2):
    c, v1, v2 = D._b(c, v1, v2)
    s, th = D._theta(c, v1, v2)
    return _relu_power_V(n, c, s, th, v1 * v2, np.pi)


def _relu_power_arb(n, c, v1, v2):
    s, th = D._theta_arb(c, v1, v2)
    return _relu_power_V(n, c, s, th, v1 * v2, D._arb().pi())


def relu_power(n: int) -> Activation:
    r"""The rectified monomial :math:`x_+^n = \max(x, 0)^n`, ``n`` in {2, 3} (``relu_power(1)`` is relu).

    Cho & Saul's arc-cosine kernel of order ``n``; see the module docstring for the formulas.

    Examples
    --------
    >>> act = relu_power(3)
    >>> act.name, round(float(act.dual(2.0, 2.0, 2.0)), 12)   # E[u_+^6] = 15 q^3 / 2 at q = 2
    ('relu_power(3)', 60.0)
    """
    if not (isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n in (2, 3)):
        raise ValueError(f"relu_power degree must be the integer 2 or 3 (relu_power(1) is 'relu'), got {n!r}")
    n = int(n)

    def fn(x):
        return np.maximum(np.asarray(x, dtype=float), 0.0) ** n

    def der(x):
        return n * np.maximum(np.asarray(x, dtype=float), 0.0) ** (n - 1)

    def diag(q):
        # at correlation 1: E[u_+^{2n}] = (2n-1)!! q^n / 2 and E[(n u_+^{n-1})^2] = n^2 (2n-3)!! q^{n-1} / 2
        dfact = {2: (3, 1), 3: (15, 3)}[n]
        return dfact[0] * q**n / 2, n * n * dfact[1] * q ** (n - 1) / 2

    # x_+^2 = x^2/2 + x|x|/2 (odd part not a polynomial); x_+^3 = x^3/2 + |x|^3/2
    st = (INF, 2) if n == 2 else (3, INF)
    dst = (1, INF) if n == 2 else (INF, 2)
    return _closed(f"relu_power({n})", fn, der,
                   lambda c, v1, v2: _relu_power_f64(n, c, v1, v2),
                   lambda c, v1, v2: n * n * _relu_power_f64(n - 1, c, v1, v2),
                   lambda c, v1, v2: _relu_power_arb(n, c, v1, v2),
                   lambda c, v1, v2: n * n * _relu_power_arb(n - 1, c, v1, v2),
                   st, dst, Dual.RELU_POWER, (n, 0), kinked=True, desc=f"max(x, 0)^{n}", diag=diag)


# ----------------------------------------------------------------------------- exp, e^{-x^2}
def _exp_f64(c, v1, v2):
    c, v1, v2 = D._b(c, v1, v2)
    return np.exp((v1 + v2) / 2 + c)


def _exp_arb(c, v1, v2):
    return ((v1 + v2) / 2 + c).exp()


def _gauss_D(c, v1, v2):
    return (1 + 2 * v1) * (1 + 2 * v2) - 4 * c * c


def _gauss_f64(c, v1, v2):
    c, v1, v2 = D._b(c, v1, v2)
    return 1.0 / np.sqrt(_gauss_D(c, v1, v2))


def _gauss_der_f64(c, v1, v2):
    c, v1, v2 = D._b(c, v1, v2)
    d = _gauss_D(c, v1, v2)
    return 4 * c / (d * np.sqrt(d))


def _gauss_arb(c, v1, v2):
    return 1 / _gauss_D(c, v1, v2).sqrt()


def _gauss_der_arb(c, v1, v2):
    d = _gauss_D(c, v1, v2)
    return 4 * c / (d * d.sqrt())


def gaussian_activation() -> Activation:
    r"""The Gaussian bump :math:`e^{-x^2}` (registry name ``"gaussian"``); even, so its CK has only even degrees.

    Examples
    --------
    >>> act = gaussian_activation()
    >>> act.structure, round(float(act.dual(1.0, 1.0, 1.0)), 12)   # E[e^{-2u^2}] = 1/sqrt(5)
    ((-1, 1000000000), 0.4472135955)
    """
    def fn(x):
        x = np.asarray(x, dtype=float)
        return np.exp(-x * x)

    def der(x):
        x = np.asarray(x, dtype=float)
        return -2 * x * np.exp(-x * x)

    return _closed("gaussian", fn, der, _gauss_f64, _gauss_der_f64, _gauss_arb, _gauss_der_arb,
                   (-1, INF), (INF, -1), Dual.GAUSSIAN, desc="exp(-x^2)")


# ----------------------------------------------------------------------------- a erf(b x) + c
def scaled_erf(a: float, b: float, c: float = 0.0) -> Activation:
    r""":math:`a\,\mathrm{erf}(b x) + c`; ``scaled_erf(1, 1, 0)`` has the duals of ``erf``.

    Examples
    --------
    >>> act = scaled_erf(2.0, 0.5, 1.0)
    >>> act.name, act.structure          # odd part 2 erf(x/2) (not a polynomial), even part the constant 1
    ('scaled_erf(2, 0.5, 1)', (1000000000, 0))
    >>> float(act.dual(0.0, 1.0, 1.0))   # independent inputs: (E phi)^2 = c^2
    1.0
    """
    a = _check_real(a, "scaled_erf a")
    b = _check_real(b, "scaled_erf b")
    c0 = _check_real(c, "scaled_erf c")
    b2, a2, c2 = b * b, a * a, c0 * c0
    k = 2.0 / math.sqrt(math.pi)

    def fn(x):
        return a * D.erf_fn(b * np.asarray(x, dtype=float)) + c0

    def der(x):
        x = np.asarray(x, dtype=float)
        return (a * b * k) * np.exp(-b2 * x * x)

    def V(cc, v1, v2):
        cc, v1, v2 = D._b(cc, v1, v2)
        return a2 * D.erf_dual(b2 * cc, b2 * v1, b2 * v2) + c2

    def dV(cc, v1, v2):
        cc, v1, v2 = D._b(cc, v1, v2)
        return (a2 * b2) * D.erf_dual_derivative(b2 * cc, b2 * v1, b2 * v2)

    def Va(cc, v1, v2):
        arb = D._arb()
        B2 = arb(b) ** 2  # exact squares of the parameters (b * b in float64 rounds)
        return arb(a) ** 2 * D.erf_dual_arb(B2 * cc, B2 * v1, B2 * v2) + arb(c0) ** 2

    def dVa(cc, v1, v2):
        arb = D._arb()
        B2 = arb(b) ** 2
        return arb(a) ** 2 * B2 * D.erf_dual_derivative_arb(B2 * cc, B2 * v1, B2 * v2)

    live = a != 0 and b != 0
    st = (INF if live else -1, 0 if c0 != 0 else -1)
    dst = (-1, INF if live else -1)
    name = f"scaled_erf({format_param(a)}, {format_param(b)}, {format_param(c0)})"
    return _closed(name, fn, der, V, dV, Va, dVa, st, dst, Dual.SCALED_ERF, (a, b, c0),
                   desc=f"{a:g} erf({b:g} x) + {c0:g}")


# ----------------------------------------------------------------------------- polynomials
#: Largest polynomial degree (as for monomials: deeper compositions overflow float64 quickly).
MAX_POLY_DEGREE = 12


def _poly_g(coef: tuple, m: int, v, num):
    """``g_m(v) = E[phi^(m)(sqrt(v) Z)]``; ``num`` turns a coefficient into a float or an exact Arb ball."""
    out = 0
    for j in range(m, len(coef), 2):
        if coef[j] == 0:
            continue
        r = j - m  # even; j!/r! (r - 1)!! is an exact integer
        w = math.factorial(j) // math.factorial(r) * (math.factorial(r) // (2 ** (r // 2) * math.factorial(r // 2)))
        out = out + w * num(coef[j]) * v ** (r // 2)
    return out


def _poly_dual(coef: tuple, shift: int, c, v1, v2, num=float):
    """``sum_m c^m/m! g_(m+shift)(v1) g_(m+shift)(v2)``: the dual (shift 0) or the derivative dual (shift 1)."""
    out = 0
    for m in range(0, len(coef) - shift):
        out = out + _poly_g(coef, m + shift, v1, num) * _poly_g(coef, m + shift, v2, num) * c**m / math.factorial(m)
    return out


def polynomial(*coefficients) -> Activation:
    r"""The polynomial :math:`\sum_j a_j x^j`, coefficients in ascending order ``a_0, a_1, ...``.

    Degree at most 12; trailing zero coefficients are dropped; not all zero. The dual is the
    finite Mehler (Isserlis) sum of the module docstring.

    Examples
    --------
    >>> p = polynomial(0.0, 1.0, 0.0, -0.5)          # x - x^3/2
    >>> p.name, p.structure
    ('polynomial(0, 1, 0, -0.5)', (3, -1))
    >>> float(p.dual(1.0, 1.0, 1.0))                 # E[(u - u^3/2)^2] = 1 - 3 + 15/4
    1.75
    """
    if len(coefficients) == 1 and np.ndim(coefficients[0]) == 1:
        coefficients = tuple(coefficients[0])
    coef = [_check_real(a, "polynomial coefficient") for a in coefficients]
    while coef and coef[-1] == 0:
        coef.pop()
    if not coef:
        raise ValueError("polynomial coefficients must not all be zero (give a_0, a_1, ... in ascending order)")
    if len(coef) - 1 > MAX_POLY_DEGREE:
        raise ValueError(f"polynomial degree must be at most {MAX_POLY_DEGREE}, got {len(coef) - 1}")
    coef = tuple(coef)
    n = len(coef) - 1
    odd = max([j for j in range(1, n + 1, 2) if coef[j] != 0], default=-1)
    even = max([j for j in range(0, n + 1, 2) if coef[j] != 0], default=-1)
    dcoef = tuple(j * coef[j] for j in range(1, n + 1)) or (0.0,)

    def fn(x):
        x = np.asarray(x, dtype=float)
        return np.polynomial.polynomial.polyval(x, coef) * np.ones_like(x)

    def der(x):
        x = np.asarray(x, dtype=float)
        return np.polynomial.polynomial.polyval(x, dcoef) * np.ones_like(x)

    def V(c, v1, v2):
        c, v1, v2 = D._b(c, v1, v2)
        return np.broadcast_to(_poly_dual(coef, 0, c, v1, v2), np.broadcast(c, v1, v2).shape) * 1.0

    def dV(c, v1, v2):
        c, v1, v2 = D._b(c, v1, v2)
        return np.broadcast_to(_poly_dual(coef, 1, c, v1, v2), np.broadcast(c, v1, v2).shape) * 1.0

    def Va(c, v1, v2):
        return D._arb()(_poly_dual(coef, 0, c, v1, v2, D._arb()))

    def dVa(c, v1, v2):
        return D._arb()(_poly_dual(coef, 1, c, v1, v2, D._arb()))

    # phi' swaps the parts: odd part of phi' = derivative of the even part of phi, and vice versa
    dst = (even - 1 if even >= 2 else -1, odd - 1 if odd >= 1 else -1)
    name = f"polynomial({', '.join(format_param(a) for a in coef)})"
    return _closed(name, fn, der, V, dV, Va, dVa, (odd, even), dst, Dual.POLYNOMIAL, coef,
                   desc=" + ".join(f"{a:g} x^{j}" for j, a in enumerate(coef) if a))


# ----------------------------------------------------------------------------- ELU
def elu(alpha: float = 1.0) -> Activation:
    r"""ELU: :math:`x` for ``x > 0``, :math:`\alpha (e^x - 1)` for ``x <= 0`` (registry ``"elu"`` = ``elu(1)``).

    The duals are elementary up to Owen's T function, a 1-D integral of an entire function
    (see :mod:`spectra.analytic._elu`); in Arb it is integrated rigorously, so the cube spectra
    are certified like those of the other closed forms. The float64 formula loses about ``e^q``
    ulps at variances ``q``, so float64 values come from it only for small variances and from
    the Arb form otherwise; the cube grid uses that numpy path (no numba form).

    Examples
    --------
    >>> act = elu(1.0)
    >>> act.name, round(float(act.dual(0.0, 1.0, 1.0)), 12)    # (E phi(u))^2 for independent inputs
    ('elu(1)', 0.025766854121)
    """
    from . import _elu

    a = _check_real(alpha, "elu alpha")
    last = {}

    def arb_pair(c, v1, v2):
        # the recursion asks for the dual and then its derivative at the same balls: compute both once
        from flint import ctx

        args = (c, v1, v2, ctx.prec)
        old = last.get("args")
        if old is None or old[3] != ctx.prec or not all(x is y for x, y in zip(old[:3], args[:3])):
            last["args"], last["val"] = args, _elu.elu_duals_arb(a, c, v1, v2)  # keeps the balls alive
        return last["val"]

    def fn(x):
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0.0)))

    def der(x):
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0.0)))

    # phi'(0+) = 1 and phi'(0-) = alpha: a kink unless alpha = 1, and phi'' jumps in any case
    return _closed(f"elu({format_param(a)})", fn, der,
                   lambda c, v1, v2: _elu.elu_dual(a, c, v1, v2),
                   lambda c, v1, v2: _elu.elu_dual_derivative(a, c, v1, v2),
                   lambda c, v1, v2: arb_pair(c, v1, v2)[0], lambda c, v1, v2: arb_pair(c, v1, v2)[1],
                   (INF, INF) if a != 0 else (1, INF), (INF, INF) if a != 0 else (INF, 0), Dual.NONE, (a, 0.0),
                   kinked=True, desc=f"elu, alpha = {a:g}", diag=lambda q: _elu.elu_diag_arb(a, q))


# ----------------------------------------------------------------------------- registry
_EXTRA = None


def extra_closed_forms() -> dict:
    """``{name: Activation}`` for the parameter-free activations of this module (sign, exp, gaussian; built once)."""
    global _EXTRA
    if _EXTRA is None:
        _EXTRA = _build_extra()
    return _EXTRA


def _build_extra() -> dict:
    reg = {}
    reg["sign"] = ab_step(-1.0, 1.0, "sign", desc="sign(x) (phi' = 0 almost everywhere: its NTK term is 0)")
    reg["exp"] = _closed("exp", lambda x: np.exp(np.asarray(x, dtype=float)), lambda x: np.exp(np.asarray(x, dtype=float)),
                         _exp_f64, _exp_f64, _exp_arb, _exp_arb, (INF, INF), (INF, INF), Dual.EXP, desc="exp(x)")
    reg["gaussian"] = gaussian_activation()
    return reg
