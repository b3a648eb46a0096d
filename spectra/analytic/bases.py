r"""The eigenbases of the input domains: the one implementation of each engine.

* cube :math:`\{\pm1\}^d`: Walsh monomials of degree ``k``, multiplicity ``C(d, k)``; a kernel
  ``Phi(<x,y>/d)`` has ``mu_k = sum_j K_j(k) Phi(1 - 2j/d) / 2^d`` with the Krawtchouk
  coefficients ``K_j(k)``, the coefficients of ``(1-s)^k (1+s)^(d-k)``
  (O'Donnell, *Analysis of Boolean Functions*, 2014, ch. 1; Yang & Salman 2019, app.);
* sphere :math:`\sqrt d\,S^{d-1}`: spherical harmonics of degree ``k``, multiplicity
  ``N(d, k)``; Funk–Hecke gives ``lambda_k = c_d int Phi(t) P_k(t) (1-t^2)^{(d-3)/2} dt`` with the
  Gegenbauer polynomial ``P_k`` normalised by ``P_k(1) = 1`` (Atkinson & Han, *Spherical Harmonics
  and Approximations on the Unit Sphere*, 2012, ch. 2).

Every other module (the spectra, the domain objects, the measured projections) calls these;
nothing else in ``spectra`` re-implements the recurrences.

Examples
--------
>>> [cube_multiplicity(4, k) for k in range(5)], [sphere_multiplicity(3, k) for k in range(4)]
([1, 4, 6, 4, 1], [1, 3, 5, 7])
>>> gegenbauer(3, 2, 0.5).round(6)      # Legendre: 1, t, (3t^2 - 1)/2
array([ 1.   ,  0.5  , -0.125])
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .._validation import check_dim, check_int

__all__ = ["cube_multiplicity", "sphere_multiplicity", "krawtchouk_matrix", "krawtchouk_transform", "gegenbauer", "gegenbauer_arb",
           "funk_hecke_rule", "FunkHeckeRule", "log_sphere_constant"]


# ----------------------------------------------------------------------------- multiplicities
def cube_multiplicity(dim: int, k: int) -> int:
    """Number ``C(d, k)`` of Walsh monomials of degree ``k`` on ``{+-1}^d`` (exact int).

    Examples
    --------
    >>> cube_multiplicity(128, 64) > 2**120
    True
    """
    d = check_dim(dim)
    k = check_int(k, "degree", minimum=0, maximum=d)
    return math.comb(d, k)


def sphere_multiplicity(dim: int, k: int) -> int:
    """Dimension ``N(d, k)`` of the degree-``k`` spherical harmonics on ``S^{d-1}`` (exact int).

    Examples
    --------
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


# ----------------------------------------------------------------------------- Krawtchouk
@lru_cache(maxsize=64)
def _krawtchouk_rows(d: int, degrees: tuple) -> np.ndarray:
    """Float64 rows ``M[i, j] = K_j(k_i) / 2^d``, each correctly rounded from the exact integer."""
    from flint import fmpz_poly

    M = np.empty((len(degrees), d + 1))
    one_minus, one_plus = fmpz_poly([1, -1]), fmpz_poly([1, 1])
    den = 1 << d
    for i, k in enumerate(degrees):
        coeffs = [int(c) for c in (one_minus**k * one_plus ** (d - k)).coeffs()]
        coeffs += [0] * (d + 1 - len(coeffs))
        M[i] = [c / den for c in coeffs]  # int / int is correctly rounded in Python
    M.setflags(write=False)
    return M


def krawtchouk_matrix(dim: int, degrees=None) -> np.ndarray:
    """Matrix ``M`` with ``mu = M @ Phi_grid`` on the cube; shape ``(len(degrees), d + 1)``.

    ``Phi_grid[j] = Phi(1 - 2j/d)``; ``M[i, j] = K_j(k_i) / 2^d``. Read-only (cached).

    Examples
    --------
    >>> M = krawtchouk_matrix(3)
    >>> M @ np.ones(4)        # the constant kernel has only a degree-0 eigenvalue
    array([1., 0., 0., 0.])
    """
    d = check_dim(dim)
    if degrees is None:
        degs = tuple(range(d + 1))
    else:
        degs = tuple(check_int(k, "degree", minimum=0, maximum=d) for k in degrees)
    return _krawtchouk_rows(d, degs)


def krawtchouk_transform(a: list) -> list:
    """Coefficients of ``sum_j a_j (1-s)^j (1+s)^(d-j)``: the exact integer Krawtchouk transform.

    ``a`` holds ``d + 1`` Python integers.  With ``A(x) = sum_j a_j x^j`` and ``w = 1/(1+s)`` the
    sum is ``(1+s)^d A(2w - 1) = sum_i b_i (1+s)^(d-i)`` where ``A(2w - 1) = sum_i b_i w^i``: two
    Taylor shifts by -1 and +1 (FLINT compositions with ``x - 1`` and ``x + 1``, asymptotically
    fast) with the scaling ``b_i = 2^i [w^i] A(w - 1)`` between them.  At ``d = 8192`` with
    8300-bit values this is about a third faster than splitting the sum in halves with
    polynomial products.  The result is exact; the certified cube path is built on it.

    Examples
    --------
    >>> krawtchouk_transform([1, 0, 0])          # (1 + s)^2
    [1, 2, 1]
    >>> krawtchouk_transform([0, 1, 0])          # (1 - s)(1 + s)
    [1, 0, -1]
    """
    from flint import fmpz_poly

    d = len(a) - 1
    b = fmpz_poly(a)(fmpz_poly([-1, 1])).coeffs()  # A(w - 1): a pure shift, cheaper than composing with 2w - 1
    b += [0] * (d + 1 - len(b))
    b = [c << i for i, c in enumerate(b)]  # A(2w - 1)
    coeffs = [int(c) for c in fmpz_poly(b[::-1])(fmpz_poly([1, 1])).coeffs()]  # sum_i b_i u^(d-i) at u = 1 + s
    return coeffs + [0] * (d + 1 - len(coeffs))


# ----------------------------------------------------------------------------- Gegenbauer
def gegenbauer(dim: int, max_degree: int, t) -> np.ndarray:
    """Float64 ``P_k(t)`` for ``k = 0..K``, normalised ``P_k(1) = 1``; shape ``(K+1,) + t.shape``.

    Three-term recurrence ``(k + d - 2) P_{k+1} = (2k + d - 2) t P_k - k P_{k-1}`` (Chebyshev
    ``T_k`` for ``d = 2``). Stable for ``|t| <= 1``: every ``|P_k| <= 1`` there.

    Examples
    --------
    >>> gegenbauer(2, 3, 0.5).round(6)       # Chebyshev T_k(1/2) = cos(k pi/3)
    array([ 1. ,  0.5, -0.5, -1. ])
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


def gegenbauer_arb(dim: int, max_degree: int, t: list) -> list:
    """Arb-ball ``P_k(t_j)`` for ``k = 0..K`` at the current ``flint.ctx.prec``: a list of K+1 rows.

    The same recurrence as :func:`gegenbauer`; every ball contains the exact value. The caller
    sets a working precision that covers the radius growth of the recurrence.

    Examples
    --------
    >>> from flint import arb
    >>> [float(r[0].mid()) for r in gegenbauer_arb(3, 2, [arb(0.5)])]
    [1.0, 0.5, -0.125]
    """
    from flint import arb

    d = check_dim(dim, minimum=2)
    K = check_int(max_degree, "max_degree", minimum=0)
    rows = [[arb(1)] * len(t)]
    if K >= 1:
        rows.append(list(t))
    for k in range(1, K):
        c1 = arb(2 * k + d - 2) / (k + d - 2)
        c0 = arb(k) / (k + d - 2)
        rows.append([c1 * tt * p1 - c0 * p0 for tt, p1, p0 in zip(t, rows[-1], rows[-2])])
    return rows


# ----------------------------------------------------------------------------- Funk-Hecke
def log_sphere_constant(dim: int) -> float:
    """``log c_d`` with ``c_d = Gamma(d/2) / (sqrt(pi) Gamma((d-1)/2))``, the Funk–Hecke constant."""
    d = check_dim(dim, minimum=2)
    return math.lgamma(d / 2) - 0.5 * math.log(math.pi) - math.lgamma((d - 1) / 2)


class FunkHeckeRule(NamedTuple):
    """A float64 Funk–Hecke quadrature: ``lambda = P @ (weights * Phi(t))``.

    Attributes
    ----------
    t : ndarray, shape (N,)
        Nodes ``cos(theta_j)``.
    weights : ndarray, shape (N,)
        ``c_d a w_j sin^{d-2}(theta_j)`` (log-space product: no underflow at large ``d``).
    P : ndarray, shape (K+1, N)
        ``P_k(t_j)`` from :func:`gegenbauer`.
    """

    t: np.ndarray
    weights: np.ndarray
    P: np.ndarray

    def project(self, phi) -> np.ndarray:
        """``lambda_k`` for kernel values ``phi`` at the nodes; shape ``(K+1,) + phi.shape[1:]``."""
        phi = np.asarray(phi, dtype=float)
        w = self.weights.reshape((-1,) + (1,) * (phi.ndim - 1))
        return np.tensordot(self.P, w * phi, axes=(1, 0)) if phi.ndim > 1 else self.P @ (self.weights * phi)


def funk_hecke_rule(dim: int, max_degree: int, n_nodes: int, half_width: float = math.pi / 2) -> FunkHeckeRule:
    r"""Gauss–Legendre rule in the angle for the Funk–Hecke integral on :math:`S^{d-1}`.

    ``theta = pi/2 + half_width * x`` with the ``n_nodes``-point Gauss–Legendre nodes ``x``; in the
    angle, kernels of relu-like activations are analytic, so the rule converges exponentially.
    With ``half_width < pi/2`` only the central band is integrated (the weight ``sin^{d-2}`` is
    negligible outside it at large ``d``; the caller bounds the omitted part).

    Examples
    --------
    >>> rule = funk_hecke_rule(3, 2, 16)
    >>> np.abs(rule.project(np.ones(16))).round(12)   # a constant kernel has only lambda_0
    array([1., 0., 0.])
    """
    d = check_dim(dim, minimum=2)
    K = check_int(max_degree, "max_degree", minimum=0)
    N = check_int(n_nodes, "n_nodes", minimum=1)
    x, w = np.polynomial.legendre.leggauss(N)
    th = np.pi / 2 + half_width * x
    t = np.cos(th)
    om = np.exp(log_sphere_constant(d) + np.log(half_width * w) + (d - 2) * np.log(np.sin(th)))
    return FunkHeckeRule(t, om, gegenbauer(d, K, t))
