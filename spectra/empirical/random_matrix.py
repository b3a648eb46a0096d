"""Random-matrix diagnostics of trained weights and kernel Grams.

Spectra of weight matrices and of CK/NTK Gram matrices compared with the Marchenko–Pastur
(MP) law: a robust MP fit of the bulk, the bulk edge, outliers beyond a Tracy–Widom margin,
the overlap of top singular vectors with a planted direction, the power-law tail exponent
(Clauset–Shalizi–Newman MLE), distances between spectra, and plots.  Definitions follow
``empirical-methods.md`` §10.6–§10.7.

Conventions
-----------
* A weight matrix ``W`` has shape ``(h, d)`` (``h`` = fan-out / width, ``d`` = fan-in).  Its
  empirical spectral distribution (ESD) is the set of ``d`` eigenvalues of ``W^T W / h``
  (squared singular values of ``W / sqrt(h)``, padded with zeros when ``d > h``).
* The MP aspect ratio is ``gamma = d / h``.  For iid entries of variance ``sigma2`` the ESD
  converges to MP(``sigma2``, ``gamma``) with edges ``sigma2 (1 +- sqrt(gamma))^2``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from numba import njit

from spectra._validation import check_finite_array, check_int, check_positive

__all__ = [
    "weight_esd",
    "gram_esd",
    "mp_edges",
    "mp_density",
    "mp_cdf",
    "mp_quantile",
    "MPFit",
    "fit_mp",
    "tracy_widom_scale",
    "outlier_threshold",
    "OutlierReport",
    "find_outliers",
    "top_singular_overlap",
    "top_eigvec_overlap",
    "PowerLawFit",
    "powerlaw_alpha",
    "wasserstein1",
    "ks_distance",
    "plot_esd",
    "plot_powerlaw_tail",
    "TW1_QUANTILES",
]

#: Quantiles of the Tracy–Widom (beta = 1) law, for the outlier margin.
TW1_QUANTILES = {0.90: 0.45, 0.95: 0.98, 0.99: 2.02}


# ----------------------------------------------------------------------------- validation
def _check_spectrum(eigs, name: str = "eigenvalues", *, min_size: int = 1) -> np.ndarray:
    arr = np.asarray(eigs)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty (an empty spectrum has no distribution)")
    arr = check_finite_array(arr, name).ravel()
    if arr.size < min_size:
        raise ValueError(f"{name} must hold at least {min_size} values, got {arr.size}")
    return arr


def _check_weight(W, name: str = "W") -> np.ndarray:
    arr = np.asarray(W)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D weight matrix of shape (h, d), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return check_finite_array(arr, name, hint=": training may have diverged")


def _check_gram(K, name: str = "K", *, sym_rtol: float = 1e-8) -> np.ndarray:
    arr = np.asarray(K)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) Gram matrix, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = check_finite_array(arr, name)
    scale = max(float(np.max(np.abs(arr))), np.finfo(float).tiny)
    asym = float(np.max(np.abs(arr - arr.T)))
    if asym > sym_rtol * scale:
        raise ValueError(f"{name} must be symmetric: max |K - K^T| = {asym:.3g} > {sym_rtol:g} * max |K|")
    return arr


# ----------------------------------------------------------------------------- spectra
def weight_esd(W) -> np.ndarray:
    """Eigenvalues of ``W^T W / h`` for a weight matrix ``W`` of shape ``(h, d)``.

    Parameters
    ----------
    W : array_like, shape (h, d)
        Finite weight matrix.

    Returns
    -------
    numpy.ndarray, shape (d,)
        Ascending eigenvalues (squared singular values of ``W / sqrt(h)``, with ``d - h`` zeros
        appended at the bottom when ``d > h``).

    Examples
    --------
    >>> import numpy as np
    >>> W = np.random.default_rng(0).standard_normal((300, 200))
    >>> lam = weight_esd(W)
    >>> lam.shape, round(float(lam.mean()), 1)
    ((200,), 1.0)
    """
    W = _check_weight(W)
    h, d = W.shape
    s = np.linalg.svd(W, compute_uv=False)
    lam = np.sort(s**2 / h)
    if d > h:
        lam = np.concatenate([np.zeros(d - h), lam])
    return lam


def gram_esd(K, *, normalize: bool = False) -> np.ndarray:
    """Ascending eigenvalues of a symmetric Gram matrix ``K`` (divided by ``n`` if ``normalize``).

    Parameters
    ----------
    K : array_like, shape (n, n)
        Square, symmetric, finite Gram matrix (CK or NTK).
    normalize : bool
        Return the eigenvalues of ``K / n`` (the scale of the integral operator).

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> gram_esd(np.array([[2.0, 1.0], [1.0, 2.0]]))
    array([1., 3.])
    """
    K = _check_gram(K)
    K = 0.5 * (K + K.T)
    lam = np.linalg.eigvalsh(K)
    return lam / K.shape[0] if normalize else lam


# ----------------------------------------------------------------------------- Marchenko–Pastur
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


# ----------------------------------------------------------------------------- outliers
def tracy_widom_scale(h: int, d: int, sigma2: float = 1.0) -> tuple[float, float]:
    """Johnstone's centring and scale of the top eigenvalue of ``W^T W / h``, ``W`` of shape (h, d).

    ``mu = sigma2 (sqrt(h - 1) + sqrt(d))^2 / h`` and
    ``s = sigma2 (sqrt(h - 1) + sqrt(d)) (1/sqrt(h - 1) + 1/sqrt(d))^(1/3) / h`` so that
    ``(lambda_max - mu) / s`` is asymptotically Tracy–Widom(1).

    Examples
    --------
    >>> mu, s = tracy_widom_scale(1500, 1000)
    >>> round(mu, 2), round(s, 4)
    (3.3, 0.0181)
    """
    h = check_int(h, "h", minimum=2)
    d = check_int(d, "d", minimum=1)
    s2 = check_positive(sigma2, "sigma2")
    a, b = math.sqrt(h - 1), math.sqrt(d)
    return s2 * (a + b) ** 2 / h, s2 * (a + b) * (1 / a + 1 / b) ** (1 / 3) / h


def outlier_threshold(h: int, d: int, sigma2: float = 1.0, s: float = TW1_QUANTILES[0.99]) -> float:
    """Outlier threshold ``mu + s * scale`` for the ESD of ``W^T W / h`` (see :func:`tracy_widom_scale`).

    ``s`` is a Tracy–Widom(1) quantile (default 2.02, the 0.99 quantile).

    Examples
    --------
    >>> round(outlier_threshold(1500, 1000), 3)
    3.335
    """
    s = float(s)
    if not math.isfinite(s):
        raise ValueError(f"s must be a finite Tracy–Widom quantile, got {s!r}")
    mu, sc = tracy_widom_scale(h, d, sigma2)
    return mu + s * sc


@dataclass
class OutlierReport:
    """Outliers of a weight ESD above the MP bulk edge plus a Tracy–Widom margin.

    Attributes
    ----------
    outliers : numpy.ndarray
        The eigenvalues above ``threshold``, descending.
    threshold : float
        ``mu_TW + s * sigma_TW`` (with the fitted or given ``sigma2``).
    bulk_edge : float
        MP edge ``sigma2 (1 + sqrt(d/h))^2``.
    fit : MPFit
        The bulk fit used.
    lambda_max : float
    """

    outliers: np.ndarray
    threshold: float
    bulk_edge: float
    fit: MPFit
    lambda_max: float
    count: int = field(init=False)

    def __post_init__(self):
        self.count = int(len(self.outliers))


def find_outliers(W, *, s: float = TW1_QUANTILES[0.99], sigma2: float | None = None) -> OutlierReport:
    """Eigenvalues of ``W^T W / h`` beyond the MP edge plus a Tracy–Widom margin.

    The bulk variance ``sigma2`` is fitted robustly with :func:`fit_mp` (aspect ratio fixed at
    ``d / h``) unless given; the threshold is :func:`outlier_threshold` with quantile ``s``.

    Parameters
    ----------
    W : array_like, shape (h, d)
    s : float
        Tracy–Widom(1) quantile of the margin (0.98 ~ 95 %, 2.02 ~ 99 %).
    sigma2 : float, optional
        Known entry variance of the bulk.

    Returns
    -------
    OutlierReport

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> W = rng.standard_normal((2000, 1000))
    >>> find_outliers(W).count
    0
    """
    W = _check_weight(W)
    h, d = W.shape
    lam = weight_esd(W)
    gamma = d / h
    fit = fit_mp(lam, gamma=gamma)
    s2 = fit.sigma2 if sigma2 is None else check_positive(sigma2, "sigma2")
    if sigma2 is not None:
        lm, lp = mp_edges(s2, gamma)
        fit = MPFit(s2, gamma, lm, lp, fit.residual, True)
    thr = outlier_threshold(h, d, s2, s)
    out = np.sort(lam[lam > thr])[::-1]
    return OutlierReport(outliers=out, threshold=thr, bulk_edge=mp_edges(s2, gamma)[1], fit=fit,
                         lambda_max=float(lam[-1]))


# ----------------------------------------------------------------------------- overlaps
def top_singular_overlap(W, direction, k: int = 1) -> float:
    """Overlap of the top-``k`` right singular vectors of ``W`` with a planted direction.

    ``|<v_1, beta>| / ||beta||`` for ``k = 1``; for ``k > 1`` the norm of the projection of
    ``beta / ||beta||`` onto the span of ``v_1..v_k``.

    Parameters
    ----------
    W : array_like, shape (h, d)
    direction : array_like, shape (d,)
        Non-zero planted direction (e.g. the teacher's ``beta``).
    k : int

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> beta = np.eye(50)[0]
    >>> W = rng.standard_normal((80, 50)) + 20 * np.outer(rng.standard_normal(80), beta)
    >>> top_singular_overlap(W, beta) > 0.95
    True
    """
    W = _check_weight(W)
    b = check_finite_array(direction, "direction", ndim=1)
    if b.shape[0] != W.shape[1]:
        raise ValueError(f"direction must have length d = {W.shape[1]}, got {b.shape[0]}")
    nb = float(np.linalg.norm(b))
    if nb == 0:
        raise ValueError("direction must be non-zero")
    k = check_int(k, "k", minimum=1, maximum=min(W.shape))
    _, _, vt = np.linalg.svd(W, full_matrices=False)
    return float(min(1.0, np.linalg.norm(vt[:k] @ (b / nb))))


def top_eigvec_overlap(K, target, k: int = 1) -> float:
    """Overlap ``|<u_1, y>| / ||y||`` of the top eigenvector(s) of a Gram ``K`` with a target ``y``.

    Parameters
    ----------
    K : array_like, shape (n, n)
    target : array_like, shape (n,)
    k : int
        Number of top eigenvectors spanned.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, -1.0, 1.0])
    >>> round(top_eigvec_overlap(np.eye(3) + 5 * np.outer(y, y), y), 6)
    1.0
    """
    K = _check_gram(K)
    y = check_finite_array(target, "target", ndim=1)
    if y.shape[0] != K.shape[0]:
        raise ValueError(f"target must have length n = {K.shape[0]}, got {y.shape[0]}")
    ny = float(np.linalg.norm(y))
    if ny == 0:
        raise ValueError("target must be non-zero")
    k = check_int(k, "k", minimum=1, maximum=K.shape[0])
    _, U = np.linalg.eigh(0.5 * (K + K.T))
    return float(min(1.0, np.linalg.norm(U[:, -k:].T @ (y / ny))))


# ----------------------------------------------------------------------------- power law
@dataclass
class PowerLawFit:
    """CSN power-law fit ``p(x) ~ x^-alpha`` for ``x >= xmin``.

    Attributes
    ----------
    alpha : float
        Hill/CSN maximum-likelihood exponent ``1 + n / sum(log(x / xmin))``.
    alpha_se : float
        Standard error ``(alpha - 1) / sqrt(n)``.
    xmin : float
    n_tail : int
        Number of values ``>= xmin``.
    ks_distance : float
        KS distance between the tail and the fitted power law.
    rule : str
        ``'ks'``, ``'median'`` or ``'given'``.
    """

    alpha: float
    alpha_se: float
    xmin: float
    n_tail: int
    ks_distance: float
    rule: str


@njit(cache=True)
def _ks_scan(x, min_tail):
    """For sorted positive ``x``: alpha and KS distance for every candidate xmin = x[i]."""
    n = x.shape[0]
    logx = np.log(x)
    suffix = np.zeros(n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + logx[i]
    last = n - min_tail
    alphas = np.full(n, np.nan)
    dists = np.full(n, np.inf)
    for i in range(0, last + 1):
        if i > 0 and x[i] == x[i - 1]:
            continue  # same xmin as before
        m = n - i
        s = suffix[i] - m * logx[i]
        if s <= 0.0:
            continue
        a = 1.0 + m / s
        dmax = 0.0
        for j in range(i, n):
            fit = 1.0 - math.exp((1.0 - a) * (logx[j] - logx[i]))
            k = j - i
            d1 = abs(fit - (k + 1) / m)
            d2 = abs(fit - k / m)
            if d1 > dmax:
                dmax = d1
            if d2 > dmax:
                dmax = d2
        alphas[i] = a
        dists[i] = dmax
    return alphas, dists


def _tail_fit(x: np.ndarray, i: int, xmin: float | None = None):
    xmin = x[i] if xmin is None else xmin
    tail = x[i:]
    m = tail.size
    s = float(np.sum(np.log(tail / xmin)))
    if s <= 0:
        raise ValueError("power-law fit: all tail values equal xmin; alpha is undefined")
    a = 1.0 + m / s
    fit = 1.0 - (tail / xmin) ** (1.0 - a)
    k = np.arange(m)
    d = float(max(np.max(np.abs(fit - (k + 1) / m)), np.max(np.abs(fit - k / m))))
    return a, xmin, m, d


def powerlaw_alpha(values, xmin="ks", *, min_tail: int = 10, floor: float = 1e-10) -> PowerLawFit:
    """Power-law tail exponent by the Clauset–Shalizi–Newman maximum-likelihood estimator.

    Parameters
    ----------
    values : array_like, shape (m,)
        Positive samples (e.g. an ESD); values ``<= floor`` are dropped (zero eigenvalues).
    xmin : {'ks', 'median'} or float
        ``'ks'``: scan every distinct value as ``xmin`` and keep the one minimising the KS
        distance between the tail and the fitted power law (CSN/WeightWatcher);
        ``'median'``: ``xmin`` = the median value (Kothapalli et al.); a number: that ``xmin``.
    min_tail : int
        Smallest tail size considered by the ``'ks'`` scan (>= 2).
    floor : float
        Values at or below it are ignored.

    Returns
    -------
    PowerLawFit
        With standard error ``(alpha - 1) / sqrt(n_tail)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = (1 - np.random.default_rng(0).random(5000)) ** (-1 / 1.5)   # alpha = 2.5
    >>> fit = powerlaw_alpha(x)
    >>> abs(fit.alpha - 2.5) < 0.15
    True
    """
    x = _check_spectrum(values, "values")
    min_tail = check_int(min_tail, "min_tail", minimum=2)
    x = np.sort(x[x > float(floor)])
    if x.size < min_tail:
        raise ValueError(f"values must hold at least min_tail = {min_tail} values above floor = {floor:g}, "
                         f"got {x.size}")
    if isinstance(xmin, str):
        rule = xmin.strip().lower()
        if rule == "ks":
            alphas, dists = _ks_scan(x, min_tail)
            if not np.any(np.isfinite(dists)):
                raise ValueError("power-law fit: no valid xmin candidate (values nearly constant)")
            i = int(np.argmin(dists))
        elif rule == "median":
            med = float(np.median(x))
            i = int(np.searchsorted(x, med, side="left"))
        else:
            raise ValueError(f"xmin must be 'ks', 'median' or a positive number, got {xmin!r}")
    else:
        xm = check_positive(xmin, "xmin")
        i = int(np.searchsorted(x, xm, side="left"))
        if x.size - i < 2:
            raise ValueError(f"xmin = {xm:g} leaves fewer than 2 values in the tail")
        rule = "given"
    exact = float(xmin) if rule == "given" else (med if rule == "median" else None)
    a, xm_, m, d = _tail_fit(x, i, exact)
    return PowerLawFit(alpha=float(a), alpha_se=float((a - 1) / math.sqrt(m)), xmin=float(xm_), n_tail=int(m),
                       ks_distance=float(d), rule=rule)


# ----------------------------------------------------------------------------- distances
def wasserstein1(a, b, *, relative: bool = False) -> float:
    """Wasserstein-1 distance between two empirical spectral distributions.

    ``relative=True`` divides by the mean of ``|a|`` (a scale-free distance).

    Examples
    --------
    >>> wasserstein1([0.0, 1.0], [1.0, 2.0])
    1.0
    """
    from scipy.stats import wasserstein_distance

    a = _check_spectrum(a, "a")
    b = _check_spectrum(b, "b")
    w = float(wasserstein_distance(a, b))
    if relative:
        scale = float(np.mean(np.abs(a)))
        if scale == 0:
            raise ValueError("relative=True needs a spectrum a with non-zero mean |a|")
        w /= scale
    return w


def ks_distance(a, b) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov statistic and p-value between two spectra.

    Examples
    --------
    >>> ks_distance([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])[0]
    0.0
    """
    from scipy.stats import ks_2samp

    a = _check_spectrum(a, "a")
    b = _check_spectrum(b, "b")
    import warnings

    with warnings.catch_warnings():  # exact p-values fall back to the asymptotic ones for ties
        warnings.simplefilter("ignore", RuntimeWarning)
        r = ks_2samp(a, b)
    return float(r.statistic), float(r.pvalue)


# ----------------------------------------------------------------------------- plots
def _pyplot():
    from spectra._plotting import plt_or_raise

    return plt_or_raise()


def plot_esd(spectra, *, labels=None, mp: tuple[float, float] | None = None, log: bool = False,
             bins: int = 60, ax=None, title: str | None = None, threshold: float | None = None):
    """Histogram(s) of ESDs with an optional Marchenko–Pastur overlay.

    Parameters
    ----------
    spectra : array_like or list of array_like
        One or several spectra (each 1-D, finite, non-empty).
    labels : list of str, optional
    mp : (sigma2, gamma), optional
        Overlay of the MP density.
    log : bool
        Histogram of ``log10(lambda)`` (as in the papers' ESD plots, with a log-scaled count
        axis); the MP density is transformed accordingly.  Non-positive values are dropped.
    bins : int
    ax : matplotlib Axes, optional
    title : str, optional
    threshold : float, optional
        Draw a vertical line at this value (bulk edge / outlier threshold).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> ax = plot_esd(weight_esd(np.random.default_rng(0).standard_normal((60, 30))), mp=(1.0, 0.5))
    """
    plt = _pyplot()
    if isinstance(spectra, np.ndarray) and spectra.ndim == 1:
        spectra = [spectra]
    elif not isinstance(spectra, (list, tuple)):
        spectra = [spectra]
    spectra = [_check_spectrum(s, "spectra") for s in spectra]
    if labels is not None and len(labels) != len(spectra):
        raise ValueError(f"labels must have one entry per spectrum ({len(spectra)}), got {len(labels)}")
    bins = check_int(bins, "bins", minimum=2)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for i, s in enumerate(spectra):
        lab = None if labels is None else labels[i]
        if log:
            s = s[s > 1e-12 * np.max(np.abs(s))]  # drop the numerically zero part (rank deficiency)
            if s.size == 0:
                raise ValueError("log=True needs positive eigenvalues")
            ax.hist(np.log10(s), bins=bins, density=True, histtype="step", lw=1.5, label=lab)
        else:
            ax.hist(s, bins=bins, density=True, histtype="step", lw=1.5, label=lab)
    if mp is not None:
        s2, g = _check_mp(*mp)
        lo, hi = mp_edges(s2, g)
        xs = np.linspace(max(lo, 1e-12 * hi), hi, 600)
        # keep only the continuous part's mass (histograms drop zero eigenvalues in log mode)
        dens = mp_density(xs, s2, g)
        if log:
            ax.plot(np.log10(xs), dens * xs * math.log(10), "k--", lw=1, label=f"MP($\\sigma^2$={s2:.3g}, $\\gamma$={g:.3g})")
        else:
            ax.plot(xs, dens, "k--", lw=1, label=f"MP($\\sigma^2$={s2:.3g}, $\\gamma$={g:.3g})")
    if threshold is not None:
        t = float(threshold)
        ax.axvline(math.log10(t) if log and t > 0 else t, color="r", ls=":", lw=1, label="outlier threshold")
    if log:
        ax.set_yscale("log")
        ax.set_xlabel(r"$\log_{10}\lambda$")
    else:
        ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel("density")
    if title:
        ax.set_title(title, fontsize=9)
    if labels is not None or mp is not None:
        ax.legend(fontsize=7)
    return ax


def plot_powerlaw_tail(values, fit: PowerLawFit | None = None, *, label: str | None = None, ax=None):
    """Log–log empirical complementary CDF of ``values`` with the fitted power-law tail.

    Examples
    --------
    >>> import numpy as np
    >>> x = (1 - np.random.default_rng(0).random(500)) ** (-1 / 1.5)
    >>> ax = plot_powerlaw_tail(x, powerlaw_alpha(x))
    """
    plt = _pyplot()
    x = _check_spectrum(values, "values")
    x = np.sort(x[x > 0])
    if x.size == 0:
        raise ValueError("values must contain positive numbers")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ccdf = 1.0 - np.arange(x.size) / x.size
    line = ax.loglog(x, ccdf, ".", ms=2, label=label)[0]
    if fit is not None:
        frac = fit.n_tail / x.size
        xs = np.geomspace(fit.xmin, x[-1], 50)
        ax.loglog(xs, frac * (xs / fit.xmin) ** (1 - fit.alpha), "--", color=line.get_color(), lw=1,
                  label=f"$\\alpha$={fit.alpha:.2f}±{fit.alpha_se:.2f} ({fit.rule})")
    ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel(r"$P(\Lambda\geq\lambda)$")
    ax.legend(fontsize=7)
    return ax
