r"""ELU, :math:`\phi(x) = x` for ``x > 0`` and :math:`\alpha(e^x - 1)` for ``x <= 0``: its duals.

Tsuchida, Pearce, van der Heide, Roosta & Gallagher (AAAI 2021) give the ELU kernel in terms of
bivariate normal orthant probabilities. Those are not elementary; here each is reduced by Owen's
formula (Owen 1956) to elementary terms and **Owen's T function**
:math:`T(h, a) = \frac{1}{2\pi}\int_0^a e^{-h^2(1+x^2)/2}/(1+x^2)\,dx`, a 1-D integral of an entire
function over ``|a| <= 1``: scipy's ``owens_t`` in float64, ``acb.integral`` (rigorous) in Arb.
Everything else is closed form.

Conditioning: the formula multiplies orthant probabilities by exponentials up to
``e^{(v1+v2)/2 + |c|}``, so in float64 it loses about ``e^q`` ulps at variances ``q``. The float64
duals therefore use it only where that factor is small and round the Arb form elsewhere (about a
millisecond per value); for the same reason there is no numba form (the cube grid takes the numpy
path for ELU).

Derivation (``(u, v)`` centred, variances ``v1``, ``v2``, covariance ``c``; ``s1 = sqrt(v1)``,
``s = sqrt(v1 v2 - c^2)``, ``Q(x) = Phi(-x)``): write ``phi = r + alpha g`` with ``r = max(x, 0)``,
``g = (e^x - 1) 1[x < 0]``. Exponential tilting turns ``E[e^u ...]`` into orthant probabilities
``F1 = P(u' < -s1, ...)``, Stein's lemma turns ``E[u 1[...]]`` into Gaussian densities times ``Q``:

* ``E[g g] = e^{(v1+v2)/2 + c} FA - e^{v1/2} F1 - e^{v2/2} F2 + (pi - theta)/(2 pi)``,
* ``E[r(u) g(v)] = e^{v2/2} (c (Q(s2) - F2) + s1 pdf(c/s1) Q(s/s1)) - s1/sqrt(8 pi)``,
* ``E[phi' phi'] = (pi - theta)/(2 pi) + alpha (e^{v2/2}(Q(s2) - F2) + e^{v1/2}(Q(s1) - F1))
  + alpha^2 e^{(v1+v2)/2 + c} FA``,

with ``F1 = Phi2(-s1, -c/s2)``, ``F2 = Phi2(-c/s1, -s2)``, ``FA = Phi2(-(v1+c)/s1, -(v2+c)/s2)``
(correlation ``rho = c/(s1 s2)``). In Owen's formula for these three, the arguments of ``T`` simplify:
``a = s/D`` with ``D = c`` (F1, F2) or ``D = v_i + c`` (FA), and ``|a h| = s/s_i``. Where
``|D| < s`` the identity ``T(h, a) + T(ah, 1/a) = ...`` gives ``T(s/s_i, D/s)`` instead, so every ``T``
is taken with ``|a| <= 1``, and ``D = 0`` (``c = 0``, or ``c = -v_i``) needs no special case.
At ``|rho| = 1`` (``s = 0``) every ``T`` vanishes; the diagonal ``c = v1 = v2 = q`` has the closed form
``E[phi^2] = q/2 + alpha^2 (e^{2q} Q(2 sqrt q) - 2 e^{q/2} Q(sqrt q) + 1/2)``.
"""
from __future__ import annotations

import math

import numpy as np

from . import duals as D

__all__ = ["elu_dual", "elu_dual_derivative", "elu_duals_arb", "elu_diag_arb"]

_SQ2PI = math.sqrt(2 * math.pi)


# ----------------------------------------------------------------------------- float64 (numpy)
def _special():
    from scipy import special

    return special


def _owen_term_f64(x, Dn, G, s, owens_t, Phi):
    """``-T(x, s/D)`` and the step ``-1/2 [D > 0]`` it brings, both regimes (see the module docstring)."""
    direct = np.abs(Dn) >= s
    with np.errstate(divide="ignore", invalid="ignore"):
        a_dir = np.where(direct & (Dn != 0), s / np.where(Dn == 0, 1.0, Dn), 0.0)
        a_big = np.where(direct, 0.0, Dn / np.where(s == 0, 1.0, s))
    t_dir = -owens_t(np.where(direct, x, 0.0), a_dir)
    X = 0.5 * (Phi(x) * Phi(-G) + Phi(G) * Phi(-x))
    t_big = X + owens_t(G, a_big) - 0.5 * (Dn > 0)
    return np.where(direct, t_dir, t_big)


def _orthants_f64(c, v1, v2, s):
    sp = _special()
    Phi, T = sp.ndtr, sp.owens_t
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    G1, G2 = s / s1, s / s2
    beta_c = 0.5 * (c <= 0)
    F1 = 0.5 * Phi(-s1) + 0.5 * Phi(-c / s2) + _owen_term_f64(-c / s2, c, G2, s, T, Phi) - beta_c
    F2 = 0.5 * Phi(-s2) + 0.5 * Phi(-c / s1) + _owen_term_f64(-c / s1, c, G1, s, T, Phi) - beta_c
    D1, D2 = v1 + c, v2 + c
    h, k = -D1 / s1, -D2 / s2
    beta = np.where(D1 * D2 > 0, 0.0, np.where(D1 * D2 == 0, 0.5 * (h + k < 0), 0.5))
    FA = (0.5 * Phi(h) + 0.5 * Phi(k) + _owen_term_f64(h, D1, G1, s, T, Phi)
          + _owen_term_f64(k, D2, G2, s, T, Phi) - beta)
    # |rho| = 1: the orthant probabilities are Phi(min(h, k)) (rho = 1) and 0 (rho = -1)
    one, pos = s == 0, c > 0
    F1 = np.where(one, np.where(pos, Phi(-s1), 0.0), F1)
    F2 = np.where(one, np.where(pos, Phi(-s2), 0.0), F2)
    FA = np.where(one, np.where(pos, Phi(np.minimum(h, k)), 0.0), FA)
    return F1, F2, FA


def _prep(c, v1, v2):
    c, v1, v2 = np.broadcast_arrays(*D._b(c, v1, v2))
    s, th = D._theta(c, v1, v2)
    return c, v1, v2, s, th


#: the float64 formula multiplies orthant probabilities (absolute error ~ eps) by up to
#: ``e^{(v1+v2)/2 + |c|}``: measured error ~ eps e^q relative to the kernel at equal variances q. Where
#: that exponent exceeds ``_F64_EXPONENT`` (error above ~10 eps) the value is taken from the Arb form.
_F64_EXPONENT = 2.0


def _hybrid(alpha: float, c, v1, v2):
    """``(V, V')`` in float64: the float formula where it is accurate, the Arb form (rounded) elsewhere."""
    c, v1, v2, s, th = _prep(c, v1, v2)
    V = _elu_dual_f64(alpha, c, v1, v2, s, th)
    dV = _elu_dual_derivative_f64(alpha, c, v1, v2, s, th)
    bad = ((v1 + v2) / 2 + np.abs(c) > _F64_EXPONENT) & (s > 0)
    if np.any(bad):
        V, dV = np.array(V, dtype=float), np.array(dV, dtype=float)
        for idx in map(tuple, np.argwhere(bad)):
            V[idx], dV[idx] = _arb_rounded(alpha, float(c[idx]), float(v1[idx]), float(v2[idx]))
    return V, dV


def _arb_rounded(alpha, c, v1, v2):
    """The Arb duals at a precision that makes them exact to float64 rounding (raised until it does)."""
    from flint import arb

    from .precision import working_precision

    prec = 80 + int(2 * ((v1 + v2) / 2 + abs(c)))
    while True:
        with working_precision(prec):
            V, dV = elu_duals_arb(alpha, arb(c), arb(v1), arb(v2))
            if all(x.is_finite() and float(x.rad()) <= 2.0**-60 * max(abs(float(x.mid())), 1e-300) for x in (V, dV)):
                return float(V.mid()), float(dV.mid())
        if prec > 1 << 14:
            raise ArithmeticError("ELU dual: no float64 value at 16384 bits (variances too large)")
        prec *= 2


_LAST = {}


def _pair(alpha, c, v1, v2):
    # the recursion asks for the dual and then its derivative at the same arrays: compute both once
    arrs = [np.asarray(x, dtype=float) for x in (c, v1, v2)]
    key = (alpha,) + tuple((a.shape, a.tobytes()) for a in arrs)
    if _LAST.get("key") != key:
        _LAST["key"], _LAST["val"] = key, _hybrid(alpha, *arrs)
    return _LAST["val"]


def elu_dual(alpha: float, c, v1, v2):
    """``E[phi(u) phi(v)]`` in float64 (numpy broadcasting); exact to a few ulp (see ``_F64_EXPONENT``)."""
    return _pair(alpha, c, v1, v2)[0]


def elu_dual_derivative(alpha: float, c, v1, v2):
    """``E[phi'(u) phi'(v)]`` in float64 (numpy broadcasting)."""
    return _pair(alpha, c, v1, v2)[1]


def _elu_dual_f64(alpha, c, v1, v2, s, th):
    Phi = _special().ndtr
    F1, F2, FA = _orthants_f64(c, v1, v2, s)
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    quad = (np.pi - th) / (2 * np.pi)
    relu = (s + (np.pi - th) * c) / (2 * np.pi)
    with np.errstate(over="ignore"):
        gg = np.exp((v1 + v2) / 2 + c) * FA - np.exp(v1 / 2) * F1 - np.exp(v2 / 2) * F2 + quad
        pdf1, pdf2 = np.exp(-c * c / (2 * v1)) / _SQ2PI, np.exp(-c * c / (2 * v2)) / _SQ2PI
        rg = np.exp(v2 / 2) * (c * (Phi(-s2) - F2) + s1 * pdf1 * Phi(-s / s1)) - s1 / (2 * _SQ2PI)
        gr = np.exp(v1 / 2) * (c * (Phi(-s1) - F1) + s2 * pdf2 * Phi(-s / s2)) - s2 / (2 * _SQ2PI)
    return relu + alpha * (rg + gr) + alpha * alpha * gg


def _elu_dual_derivative_f64(alpha, c, v1, v2, s, th):
    Phi = _special().ndtr
    F1, F2, FA = _orthants_f64(c, v1, v2, s)
    quad = (np.pi - th) / (2 * np.pi)
    with np.errstate(over="ignore"):
        cross = np.exp(v2 / 2) * (Phi(-np.sqrt(v2)) - F2) + np.exp(v1 / 2) * (Phi(-np.sqrt(v1)) - F1)
        return quad + alpha * cross + alpha * alpha * np.exp((v1 + v2) / 2 + c) * FA


# ----------------------------------------------------------------------------- Arb
def _arb_Phi(x):
    arb = D._arb()
    return (-x / arb(2).sqrt()).erfc() / 2


#: cap on integrand evaluations per Owen T: with wide input balls the integral cannot be made
#: tighter than its inputs, and the cap returns the (still rigorous) wider enclosure instead of searching
_EVAL_LIMIT = 4000


def _arb_owen(x, a):
    """Owen's T(x, a) for |a| <= 1 by rigorous integration (acb.integral) of an entire integrand.

    ``T = a/(2 pi) e^{-x^2/2} int_0^1 e^{-G^2 t^2/2}/(1 + a^2 t^2) dt`` with ``G = |a x|``; for ``G > 1``
    the substitution ``u = G t`` and a cut at ``u = K`` with the tail ``<= e^{-K^2/2}/K`` added to the
    radius keep the integrand O(1) on a short interval (a large ``G`` would otherwise force deep
    subdivision).
    """
    from flint import acb, arb, ctx

    if a == 0:
        return arb(0)
    # no tighter than the inputs: a wide ball cannot give a narrow integral, and chasing it is slow
    bits = min(ctx.prec, x.rel_accuracy_bits() + 8, a.rel_accuracy_bits() + 8)
    tol = arb(2) ** (-max(bits, 16))
    G2 = a * a * x * x
    pref = a * (-(x * x) / 2).exp() / (2 * arb.pi())
    if G2 <= 1:
        G2c, a2 = acb(G2), acb(a * a)
        val = acb.integral(lambda t, _: (-(G2c * t * t) / 2).exp() / (1 + a2 * t * t), 0, 1, rel_tol=tol,
                           abs_tol=tol, eval_limit=_EVAL_LIMIT).real
        return pref * val
    G = G2.sqrt()
    K = arb(math.sqrt(2 * math.log(2) * (ctx.prec + 20)))
    top = G.min(K) if G.upper() > K.lower() else G
    inv_x2 = acb(1 / (x * x))
    val = acb.integral(lambda u, _: (-(u * u) / 2).exp() / (1 + inv_x2 * u * u), 0, acb(top), rel_tol=tol,
                       abs_tol=tol, eval_limit=_EVAL_LIMIT).real
    if not (G.upper() <= K.lower()):
        val = val + arb(0, float(((-(K * K) / 2).exp() / K).upper()))
    return pref * val / G


def _arb_owen_term(x, Dn, G, s):
    """Arb version of :func:`_owen_term_f64` (the regime is chosen at the midpoints; both are exact identities)."""
    if abs(float(Dn.mid())) >= float(s.mid()) and float(Dn.mid()) != 0:
        return -_arb_owen(x, s / Dn)
    X = (_arb_Phi(x) * _arb_Phi(-G) + _arb_Phi(G) * _arb_Phi(-x)) / 2
    step = 0.5 if float(Dn.mid()) > 0 else 0.0
    return X + _arb_owen(G, Dn / s) - step


def _arb_orthants(c, v1, v2, s):
    s1, s2 = v1.sqrt(), v2.sqrt()
    if s == 0:  # |rho| = 1 exactly: Phi(min(h, k)) (rho = 1) and 0 (rho = -1)
        zero = D._arb()(0)
        if float(c.mid()) < 0:
            return zero, zero, zero
        return _arb_Phi(-s1), _arb_Phi(-s2), _arb_Phi(-((v1 + c) / s1).max((v2 + c) / s2))
    G1, G2 = s / s1, s / s2
    beta_c = 0.5 if float(c.mid()) <= 0 else 0.0
    half = D._arb()(1) / 2
    F1 = half * (_arb_Phi(-s1) + _arb_Phi(-c / s2)) + _arb_owen_term(-c / s2, c, G2, s) - beta_c
    F2 = half * (_arb_Phi(-s2) + _arb_Phi(-c / s1)) + _arb_owen_term(-c / s1, c, G1, s) - beta_c
    D1, D2 = v1 + c, v2 + c
    h, k = -D1 / s1, -D2 / s2
    p = float(D1.mid()) * float(D2.mid())
    beta = 0.0 if p > 0 else (0.5 if p < 0 or float((h + k).mid()) < 0 else 0.0)
    FA = half * (_arb_Phi(h) + _arb_Phi(k)) + _arb_owen_term(h, D1, G1, s) + _arb_owen_term(k, D2, G2, s) - beta
    return F1, F2, FA


#: largest ``(v1 + v2)/2 + |c|`` accepted: beyond it the cancellation of ``e^{(v1+v2)/2+|c|}`` against
#: orthant probabilities needs thousands of bits (minutes per kernel value); refused instead
ELU_MAX_EXPONENT = 200.0


def elu_duals_arb(alpha: float, c, v1, v2):
    """``(E[phi phi], E[phi' phi'])`` as Arb balls.

    Raises
    ------
    ValueError
        When ``(v1 + v2)/2 + |c| > ELU_MAX_EXPONENT`` (200).
    """
    arb = D._arb()
    m = float(((v1 + v2) / 2 + abs(c)).mid())
    if not m <= ELU_MAX_EXPONENT:
        raise ValueError(f"elu: pre-activation variances (v1 + v2)/2 + |c| = {m:.4g} exceed {ELU_MAX_EXPONENT:g}, where "
                         "the ELU dual's closed form cancels e^{q} against orthant probabilities; use a smaller "
                         "weight_var or depth")
    al = arb(alpha)
    s, th = D._theta_arb(c, v1, v2)
    pi = arb.pi()
    F1, F2, FA = _arb_orthants(c, v1, v2, s)
    s1, s2 = v1.sqrt(), v2.sqrt()
    sq = (2 * pi).sqrt()
    quad = (pi - th) / (2 * pi)
    relu = (s + (pi - th) * c) / (2 * pi)
    eA = ((v1 + v2) / 2 + c).exp()
    e1, e2 = (v1 / 2).exp(), (v2 / 2).exp()
    gg = eA * FA - e1 * F1 - e2 * F2 + quad
    pdf1, pdf2 = (-c * c / (2 * v1)).exp() / sq, (-c * c / (2 * v2)).exp() / sq
    rg = e2 * (c * (_arb_Phi(-s2) - F2) + s1 * pdf1 * _arb_Phi(-s / s1)) - s1 / (2 * sq)
    gr = e1 * (c * (_arb_Phi(-s1) - F1) + s2 * pdf2 * _arb_Phi(-s / s2)) - s2 / (2 * sq)
    V = relu + al * (rg + gr) + al * al * gg
    dV = quad + al * (e2 * (_arb_Phi(-s2) - F2) + e1 * (_arb_Phi(-s1) - F1)) + al * al * eA * FA
    return V, dV


def elu_diag_arb(alpha: float, q):
    """``(E[phi(u)^2], E[phi'(u)^2])`` for ``u ~ N(0, q)``: closed form (no Owen T)."""
    arb = D._arb()
    al2 = arb(alpha) ** 2
    r = q.sqrt()
    e2q = (2 * q).exp() * _arb_Phi(-2 * r)
    V = q / 2 + al2 * (e2q - 2 * (q / 2).exp() * _arb_Phi(-r) + arb(1) / 2)
    return V, arb(1) / 2 + al2 * e2q
