"""The Marchenko–Pastur law: edges, density, CDF, quantiles, and a robust fit of an ESD's bulk.

For iid entries of variance ``sigma2`` the ESD of ``W^T W / h`` (``W`` of shape ``(h, d)``)
converges to MP(``sigma2``, ``gamma = d / h``) (Marchenko & Pastur, 1967).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spectra._validation import check_int, check_positive

from ._checks import _check_spectrum

__all__ = ["mp_edges", "mp_density", "mp_cdf", "mp_quantile", "MPFit", "fit_mp"]


def _check_mp(sigma2, gamma):
    return check_positive(sigma2, "sigma2"), check_positive(gamma, "gamma")


def mp_edges(sigma2: float, gamma: float) -> tuple[float, float]:
    """Edges ``(lambda_-, lambda_+) = sigma2 (1 -+ sqrt(gamma))^2`` of the MP law.

    Examples
    --------
    >>> lo, hi = mp_edges(1.0, 2 / 3)
    >>> round(lo, 4), round(hi, 3)
    (0.0337, 3.3)
    """
    s2, g = _check_mp(sigma2, gamma)
    r = math.sqrt(g)
    return s2 * (1 - r) ** 2, s2 * (1 + r) ** 2


def mp_density(x, sigma2: float = 1.0, gamma: float = 0.5) -> np.ndarray:
    """Continuous part of the MP density at ``x`` (an atom ``1 - 1/gamma`` at 0 if ``gamma > 1``).

    ``p(x) = sqrt((l+ - x)(x - l-)) / (2 pi sigma2 gamma x)`` on ``[l-, l+]``, 0 elsewhere.

    Examples
    --------
    >>> from scipy.integrate import quad
    >>> round(quad(lambda t: float(mp_density(t, 1.0, 0.5)), *mp_edges(1.0, 0.5))[0], 6)
    1.0
    """
    s2, g = _check_mp(sigma2, gamma)
    x = np.asarray(x, dtype=float)
    lo, hi = mp_edges(s2, g)
    out = np.zeros_like(x)
    inside = (x > lo) & (x < hi) & (x > 0)
    xi = x[inside]
    out[inside] = np.sqrt((hi - xi) * (xi - lo)) / (2 * np.pi * s2 * g * xi)
    return out


def _mp_table(gamma: float, m: int = 4001):
    """Grid of the unit-variance MP CDF (continuous part normalised to 1) in the angle variable.

    With ``x = c - r cos(t)`` the integrand ``p(x) dx = r^2 sin(t)^2 / (2 pi gamma x) dt`` is
    smooth, so the trapezoid rule is accurate to ~1e-10 on this grid.
    """
    lo, hi = (1 - math.sqrt(gamma)) ** 2, (1 + math.sqrt(gamma)) ** 2
    c, r = 0.5 * (lo + hi), 0.5 * (hi - lo)
    t = np.linspace(0.0, np.pi, m)
    x = c - r * np.cos(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(x > 0, r**2 * np.sin(t) ** 2 / (2 * np.pi * gamma * np.maximum(x, 1e-300)), 0.0)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(t))])
    cdf /= cdf[-1]
    return x, cdf


def mp_cdf(x, sigma2: float = 1.0, gamma: float = 0.5) -> np.ndarray:
    """CDF of MP(``sigma2``, ``gamma``) including the atom at 0 when ``gamma > 1``.

    Examples
    --------
    >>> round(float(mp_cdf(10.0, 1.0, 0.5)), 6), round(float(mp_cdf(0.0, 1.0, 2.0)), 6)
    (1.0, 0.5)
    """
    s2, g = _check_mp(sigma2, gamma)
    x = np.asarray(x, dtype=float) / s2
    atom = max(0.0, 1.0 - 1.0 / g)
    gx, gc = _mp_table(g)
    cont = np.interp(x, gx, gc, left=0.0, right=1.0)
    return np.where(x >= 0, atom + (1 - atom) * cont, 0.0)


def mp_quantile(p, sigma2: float = 1.0, gamma: float = 0.5) -> np.ndarray:
    """Quantile function of MP(``sigma2``, ``gamma``) at probabilities ``p`` in [0, 1].

    Examples
    --------
    >>> q = mp_quantile([0.0, 1.0], 1.0, 0.25)
    >>> [round(float(v), 6) for v in q]
    [0.25, 2.25]
    """
    s2, g = _check_mp(sigma2, gamma)
    p = np.asarray(p, dtype=float)
    if np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError("p must be probabilities in [0, 1]")
    return s2 * _mp_quantile_unit(p, g)


def _mp_quantile_unit(p: np.ndarray, gamma: float) -> np.ndarray:
    atom = max(0.0, 1.0 - 1.0 / gamma)
    gx, gc = _mp_table(gamma)
    pc = np.clip((p - atom) / (1 - atom), 0.0, 1.0)
    return np.where(p <= atom if atom > 0 else np.zeros_like(p, dtype=bool), 0.0, np.interp(pc, gc, gx))


@dataclass
class MPFit:
    """A Marchenko–Pastur fit of the bulk of an ESD.

    Attributes
    ----------
    sigma2, gamma : float
        Fitted entry variance and aspect ratio ``d / h`` (``gamma`` is the given value when fixed).
    lambda_minus, lambda_plus : float
        Bulk edges ``sigma2 (1 -+ sqrt(gamma))^2``.
    residual : float
        RMS relative misfit of the fitted quantiles over the levels used.
    gamma_fixed : bool
        Whether ``gamma`` was supplied rather than fitted.
    """

    sigma2: float
    gamma: float
    lambda_minus: float
    lambda_plus: float
    residual: float
    gamma_fixed: bool


def fit_mp(eigenvalues, gamma: float | None = None, *, levels: tuple[float, float] = (0.05, 0.9),
           n_levels: int = 200) -> MPFit:
    """Fit MP(``sigma2``, ``gamma``) to the bulk of an ESD by matching quantiles.

    The empirical quantiles at ``n_levels`` probabilities in ``levels`` are matched to
    ``sigma2 * Q_gamma(p)`` by least squares (closed form in ``sigma2`` for each ``gamma``; a
    bounded 1-D search in ``gamma`` when it is not given).  Only the bulk quantiles enter, so a
    few outliers above the edge (spikes) do not move the fit.

    Parameters
    ----------
    eigenvalues : array_like, shape (m,)
        ESD, e.g. from :func:`weight_esd`; at least 20 values.
    gamma : float, optional
        Known aspect ratio ``d / h``.  Fitted (in ``(0, 4]``) if omitted.
    levels : (float, float)
        Probability range of the matched quantiles, ``0 <= lo < hi <= 1``.
    n_levels : int
        Number of matched quantiles (>= 5).

    Returns
    -------
    MPFit

    Examples
    --------
    >>> import numpy as np
    >>> from spectra.empirical.random_matrix import weight_esd
    >>> W = 1.5 * np.random.default_rng(1).standard_normal((1500, 1000))
    >>> fit = fit_mp(weight_esd(W))
    >>> abs(fit.sigma2 / 2.25 - 1) < 0.01, round(fit.gamma, 2)
    (True, 0.67)
    """
    lam = np.sort(_check_spectrum(eigenvalues, min_size=20))
    n_levels = check_int(n_levels, "n_levels", minimum=5)
    try:
        lo, hi = (float(levels[0]), float(levels[1]))
    except (TypeError, ValueError, IndexError):
        raise TypeError(f"levels must be a pair of probabilities, got {levels!r}") from None
    if not (0.0 <= lo < hi <= 1.0):
        raise ValueError(f"levels must satisfy 0 <= lo < hi <= 1, got {levels!r}")
    if lam[-1] <= 0:
        raise ValueError("eigenvalues must contain positive values to fit a Marchenko–Pastur law")
    p = np.linspace(lo, hi, n_levels)
    emp = np.quantile(lam, p)

    def solve(g):
        q = _mp_quantile_unit(p, g)
        s2 = float(np.dot(emp, q) / max(np.dot(q, q), 1e-300))
        res = math.sqrt(float(np.mean((emp - s2 * q) ** 2))) / max(float(np.mean(np.abs(emp))), 1e-300)
        return s2, res

    if gamma is not None:
        g = check_positive(gamma, "gamma")
        s2, res = solve(g)
        fixed = True
    else:
        from scipy.optimize import minimize_scalar

        # moment start: mean = sigma2, var = sigma2^2 gamma (for the full ESD)
        m1 = float(np.mean(lam))
        g0 = float(np.clip(np.var(lam) / max(m1**2, 1e-300), 1e-3, 4.0))
        grid = np.unique(np.clip(np.geomspace(g0 / 4, g0 * 4, 41), 1e-3, 4.0))
        errs = [solve(g)[1] for g in grid]
        i = int(np.argmin(errs))
        a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        if b > a:
            r = minimize_scalar(lambda g: solve(g)[1], bounds=(a, b), method="bounded",
                                options={"xatol": 1e-6})
            g = float(r.x)
        else:
            g = float(grid[i])
        s2, res = solve(g)
        fixed = False
    lm, lp = mp_edges(s2, g)
    return MPFit(sigma2=s2, gamma=g, lambda_minus=lm, lambda_plus=lp, residual=res, gamma_fixed=fixed)
