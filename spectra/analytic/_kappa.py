"""Log-space numerics of the learning-curve equation (see :mod:`spectra.analytic.learning_curve`).

Every sum over degrees is a log-sum-exp of float64 logarithms, so multiplicities such as
``C(8192, 4096)`` and eigenvalues such as ``1e-2400`` never overflow or underflow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .spectrum import Spectrum

__all__: list = []


@dataclass(frozen=True)
class _Modes:
    """Log-space view of a spectrum: only the modes with a positive eigenvalue."""

    log_n: np.ndarray      # log N_k
    log_mu: np.ndarray     # log mu_k
    index: np.ndarray      # position of each mode in spec.degrees (-1 for extra radial modes)
    missing: float         # mass of the degrees not computed
    n_plus: float          # total multiplicity of the positive eigenvalues (may be inf)
    trace: float


def _modes(spec: Spectrum) -> _Modes:
    import mpmath

    log_n, log_mu, index, total, mults = [], [], [], [], []
    with mpmath.workdps(30):
        for i, (mult, mu) in enumerate(zip(spec.multiplicities, spec.exact)):
            mu = mpmath.mpf(mu)
            if mu > 0 and int(mult) > 0:
                log_n.append(math.log(int(mult)))
                log_mu.append(float(mpmath.log(mu)))
                index.append(i)
                mults.append(int(mult))
                total.append(mpmath.mpf(int(mult)) * mu)
        # Gaussian blocks: the radial eigenvalues below the top one are further modes
        for i, rad in enumerate(spec.extra.get("radial_eigenvalues", []) or []):
            for mu in list(rad)[1:]:
                if mu > 0:
                    mult = int(spec.multiplicities[i])
                    log_n.append(math.log(mult))
                    log_mu.append(math.log(mu))
                    index.append(-1)
                    mults.append(mult)
                    total.append(mpmath.mpf(mult) * mpmath.mpf(mu))
        s = mpmath.fsum(total)
        complete = spec.domain == "cube" and len(spec.degrees) == spec.dim + 1
        missing = 0.0 if complete else max(float(mpmath.mpf(spec.trace) - s), 0.0)
        n_plus = sum(mults)
    return _Modes(np.array(log_n), np.array(log_mu), np.array(index, dtype=int), missing,
                  float(n_plus) if n_plus < 2**1000 else math.inf, float(spec.trace))


def _lse(a: np.ndarray, axis=-1) -> np.ndarray:
    """log(sum(exp(a))) along ``axis``; ``-inf`` for an empty or all ``-inf`` slice."""
    if a.shape[axis] == 0:
        return np.full(np.delete(a.shape, axis if axis >= 0 else a.ndim + axis), -np.inf)
    m = np.max(a, axis=axis, keepdims=True)
    m_safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(m_safe, axis) + np.log(np.sum(np.exp(a - m_safe), axis=axis))


def _log_f(t: np.ndarray, md: _Modes, log_ridge: float):
    """``log F(kappa)`` and ``log(-kappa F'(kappa))`` at ``t = log kappa`` (shape of ``t``)."""
    lam = np.logaddexp(md.log_mu[None, :], t[:, None])                  # log(mu + kappa)
    term = md.log_n[None, :] + md.log_mu[None, :] - lam                 # log N mu/(mu+kappa)
    one_minus = t[:, None] - lam                                        # log(1 - L)
    r = log_ridge - t                                                   # log(delta/kappa)
    log_f = np.logaddexp(_lse(term), r)
    log_df = np.logaddexp(_lse(term + one_minus), r)
    return log_f, log_df


def _solve_log_kappa(log_target: np.ndarray, md: _Modes, ridge: float) -> np.ndarray:
    """Solve ``F(kappa) = n`` for ``t = log kappa`` (vectorized safeguarded Newton in ``t``)."""
    log_ridge = math.log(ridge) if ridge > 0 else -math.inf
    mass = _lse(md.log_n + md.log_mu) if md.log_n.size else -math.inf
    # F(kappa) <= (sum N mu + ridge)/kappa gives an upper end; step down until F >= n.
    hi = np.logaddexp(mass, log_ridge) - log_target
    lo = hi - 1.0
    for _ in range(64):
        f, _ = _log_f(lo, md, log_ridge)
        short = f < log_target
        if not np.any(short):
            break
        lo = np.where(short, hi - 2 * (hi - lo), lo)
    else:
        raise ArithmeticError("could not bracket kappa (ridge 0 too close to the number of modes?)")
    # log F is known to ~eps * max|log N mu| (each term's exponent carries that absolute error)
    scale = max([1.0] + [float(np.max(np.abs(a))) for a in (md.log_n + md.log_mu, log_target) if a.size])
    g_tol = 64 * np.finfo(float).eps * scale
    t = 0.5 * (lo + hi)
    for _ in range(200):
        f, df = _log_f(t, md, log_ridge)
        g = f - log_target                     # decreasing in t
        if np.all(np.abs(g) <= g_tol):
            return t
        lo = np.where(g > 0, t, lo)
        hi = np.where(g <= 0, t, hi)
        slope = -np.exp(df - f)                # d log F / d t, in [-1, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = t - g / slope
        ok = np.isfinite(step) & (step > lo) & (step < hi)
        new = np.where(ok, step, 0.5 * (lo + hi))
        # stop at ~1e-13 in log kappa (float64 rounding of the sums is ~1e-16 * max|log N mu|)
        if np.all(np.abs(new - t) <= 1e-13 * np.maximum(1.0, np.abs(t))):
            return new
        t = new
    return t


_BAND = 40.0  # outside |log mu_j - q| <= 40, mu/(mu + e^q) is 1 or mu/e^q to far below float64 rounding


def _log_half_sums(md: _Modes, q: np.ndarray) -> np.ndarray:
    """``log sum_j N_j mu_j / (mu_j + e^q)`` for every ``q`` (the equation's sum at ``kappa = e^q``).

    Sorted by ``mu``: modes far above ``e^q`` contribute ``N_j`` (a suffix sum), modes far below
    contribute ``N_j mu_j e^-q`` (a prefix sum); only the band in between is summed pairwise, so
    all degrees of ``d = 8192`` cost ``O(m * band)`` instead of ``O(m^2)``.
    """
    order = np.argsort(md.log_mu)
    lmu, lnn = md.log_mu[order], md.log_n[order]
    pre = np.concatenate([[-np.inf], np.logaddexp.accumulate(lnn + lmu)])            # sum_{j<i} N mu
    suf = np.concatenate([np.logaddexp.accumulate(lnn[::-1])[::-1], [-np.inf]])     # sum_{j>=i} N
    lo = np.searchsorted(lmu, q - _BAND)
    hi = np.searchsorted(lmu, q + _BAND, side="right")
    out = np.logaddexp(pre[lo] - q, suf[hi])
    for s in range(0, q.size, 256):  # row blocks keep the temporaries small
        b = slice(s, s + 256)
        width = int(np.max(hi[b] - lo[b]))
        if width == 0:
            continue
        cols = lo[b, None] + np.arange(width)[None, :]
        inside = cols < hi[b, None]
        cols = np.minimum(cols, lmu.size - 1)
        x = q[b, None] - lmu[cols]                                       # log(kappa / mu_j)
        term = lnn[cols] - (np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))))   # log N/(1 + kappa/mu)
        out[b] = np.logaddexp(out[b], _lse(np.where(inside, term, -np.inf)))
    return out
