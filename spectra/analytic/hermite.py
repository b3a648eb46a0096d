r"""Dual kernels of smooth activations without a closed form, by Hermite series.

With :math:`h_k` the orthonormal probabilists' Hermite polynomials and
:math:`b_k(v)=\mathbb E[\phi(\sqrt v Z)h_k(Z)]` (Mehler's formula),

.. math::
    \mathbb E[\phi(u)\phi(v)] = \sum_k b_k(v_1)b_k(v_2)\rho^k,\qquad
    \mathbb E[\phi'(u)\phi'(v)] = \sum_k b'_k(v_1)b'_k(v_2)\rho^k,

with :math:`b'_k(v)=\mathbb E[\phi'(\sqrt v Z)h_k(Z)]` computed from the supplied
derivative.  The coefficients come from Gauss–Hermite quadrature with ``N = 2K + 40``
nodes, the basis evaluated as Hermite *functions* (scaled by the square root of the
weights) so that nothing overflows.

Stated accuracy
---------------
The number of terms ``K`` is doubled (up to ``K_MAX``) until the missing energy
``E[phi^2] - sum_k b_k^2`` is below ``HERMITE_RTOL * E[phi^2]``; when ``K_MAX`` is reached first
(tanh at variances above about 2) the loop stops with a larger missing energy.  For ``|rho| <= 1``
the truncation error is bounded by the geometric mean of the two missing energies, which
:meth:`HermiteDual.error_bound` returns (plus float64 rounding); that bound, not a fixed number, is
what the spectra report.  The accuracy actually reached is about ``1e-15`` relative to ``E[phi^2]``
at variances up to 1 and degrades to a few ``1e-14`` (tanh at ``q = 2.6``: ``2e-14``) where
``K_MAX`` is reached.  At ``rho = 1`` with equal variances the second moment of the same rule is
used.  This path is float64 only; the high-precision duals of the same activations are the Arb
Mehler series of :mod:`spectra.analytic._mehler` (``Activation.mehler``).
Kinked activations (relu-like) must not use it: Gauss–Hermite quadrature cannot
integrate a kink (errors ~1e-3).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ._activation import INF, Activation

HERMITE_RTOL = 1e-16
K_START = 120
K_MAX = 960

__all__ = ["HermiteDual", "hermite_activation", "builtin_hermite_activation", "HERMITE_RTOL"]


@lru_cache(maxsize=8)
def _basis(K: int):
    """Nodes ``z`` (N,), and Hermite functions ``Psi`` (K+1, N) = h_k(z_i) sqrt(w_i)."""
    from scipy import special  # on first use only: importing spectra stays light

    N = 2 * K + 40
    z, w = special.roots_hermitenorm(N)
    w = w / np.sqrt(2 * np.pi)
    sw = np.sqrt(w)
    psi = np.empty((K + 1, N))
    psi[0] = sw
    psi[1] = z * sw
    for k in range(1, K):
        psi[k + 1] = (z * psi[k] - np.sqrt(k) * psi[k - 1]) / np.sqrt(k + 1)
    return z, sw, psi


class HermiteDual:
    """Hermite-series evaluator for one function ``f`` (an activation or its derivative)."""

    def __init__(self, f):
        self.f = f
        self._cache: dict = {}

    def coefficients(self, v: np.ndarray):
        """Coefficients ``(len(v), K+1)``, second moments ``(len(v),)`` and missing energy."""
        v = np.asarray(v, dtype=float).ravel()
        K = K_START
        while True:
            z, sw, psi = _basis(K)
            with np.errstate(over="ignore", invalid="ignore"):
                F = np.asarray(self.f(np.sqrt(v)[:, None] * z[None, :]), dtype=float) * sw[None, :]
            if not np.all(np.isfinite(F)):
                raise ValueError("activation returned non-finite values inside the Gauss-Hermite range")
            B = F @ psi.T
            m2 = np.einsum("ij,ij->i", F, F)
            tail = np.maximum(m2 - np.einsum("ij,ij->i", B, B), 0.0)
            if np.all(tail <= HERMITE_RTOL * np.maximum(m2, 1e-300)) or K >= K_MAX:
                return B, m2, tail
            K *= 2

    def __call__(self, c, v1, v2):
        c, v1, v2 = np.broadcast_arrays(np.asarray(c, float), np.asarray(v1, float), np.asarray(v2, float))
        shape = c.shape
        c, v1, v2 = c.ravel(), v1.ravel(), v2.ravel()
        allv, inv = np.unique(np.concatenate([v1, v2]), return_inverse=True)
        B, m2, _ = self.coefficients(allv)
        i1, i2 = inv[: v1.size], inv[v1.size:]
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.clip(c / np.sqrt(v1 * v2), -1.0, 1.0)
        rho = np.where(np.isfinite(rho), rho, 0.0)
        K = B.shape[1] - 1
        acc = B[i1, K] * B[i2, K]
        for k in range(K - 1, -1, -1):
            acc = acc * rho + B[i1, k] * B[i2, k]
        diag = (rho == 1.0) & (v1 == v2)
        acc = np.where(diag, m2[i1], acc)
        return acc.reshape(shape)

    def error_bound(self, v1, v2) -> float:
        """Truncation bound ``sqrt(tail(v1) tail(v2))`` plus quadrature round-off, maximized."""
        v = np.unique(np.concatenate([np.ravel(v1), np.ravel(v2)]).astype(float))
        _, m2, tail = self.coefficients(v)
        return float(np.max(tail) + 64 * np.finfo(float).eps * np.max(m2))


def hermite_activation(name, fn, derivative, structure=(INF, INF), derivative_structure=(INF, INF),
                       description="", *, mehler=None) -> Activation:
    """Build an :class:`Activation` whose duals are Hermite series (float64).

    ``mehler = (phi_arb, dphi_arb, tau)`` adds the high-precision Arb duals (see ``Activation.mehler``).
    """
    hv, hd = HermiteDual(fn), HermiteDual(derivative)
    return Activation(name=name, fn=fn, derivative=derivative, dual=hv, dual_derivative=hd,
                      dual_arb=None, dual_derivative_arb=None, structure=structure,
                      derivative_structure=derivative_structure,
                      kinked=False, description=description or "Hermite series", hermite=(hv, hd), mehler=mehler)


def _sig(x):
    from scipy import special

    return special.expit(x)


_BUILTIN = {
    # name: (fn, derivative, structure of phi, structure of phi')
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2, (INF, -1), (-1, INF)),
    # softplus(x) = x/2 + log(2 cosh(x/2)): linear + even
    "softplus": (lambda x: np.logaddexp(0.0, x), _sig, (1, INF), (INF, 0)),
    # sigmoid = 1/2 + odd
    "sigmoid": (_sig, lambda x: _sig(x) * (1 - _sig(x)), (INF, 0), (-1, INF)),
    # swish = x/2 + x (sigmoid - 1/2): linear + even
    "swish": (lambda x: x * _sig(x), lambda x: _sig(x) * (1 + x * (1 - _sig(x))), (1, INF), (INF, 0)),
}
_BUILT: dict = {}


def _sig_arb(x):
    return 1 / (1 + (-x).exp())


def _softplus_arb(x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|), no overflow at large |x|
    return (x.exp()).log1p() if x < 0 else x + ((-x).exp()).log1p()


def _arb_tanh_der(x):
    return 1 - x.tanh() ** 2


def _arb_sig_der(x):
    s = _sig_arb(x)
    return s * (1 - s)


def _arb_swish(x):
    return x * _sig_arb(x)


def _arb_swish_der(x):
    s = _sig_arb(x)
    return s * (1 + x * (1 - s))


# Arb phi, phi' and the half-width of the strip where phi is analytic (poles of tanh at i pi/2,
# of the logistic function at i pi)
_ARB = {
    "tanh": (lambda x: x.tanh(), _arb_tanh_der, math.pi / 2),
    "softplus": (_softplus_arb, _sig_arb, math.pi),
    "sigmoid": (_sig_arb, _arb_sig_der, math.pi),
    "swish": (_arb_swish, _arb_swish_der, math.pi),
}


def builtin_hermite_activation(name: str) -> Activation:
    """tanh, softplus, sigmoid or swish, with Hermite-series duals."""
    if name not in _BUILT:
        fn, der, st, dst = _BUILTIN[name]
        _BUILT[name] = hermite_activation(name, fn, der, st, dst, description=f"{name} (Hermite series)",
                                          mehler=_ARB[name])
    return _BUILT[name]
