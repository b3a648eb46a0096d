"""Outliers of a weight ESD beyond the Marchenko–Pastur edge, and overlaps with planted directions.

The outlier margin uses Johnstone's (2001) Tracy–Widom centring and scale of the largest
eigenvalue of a white Wishart matrix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spectra._validation import check_finite_array, check_int, check_positive

from ._checks import _check_gram, _check_weight
from .esd import weight_esd
from .marchenko_pastur import MPFit, fit_mp, mp_edges

__all__ = ["TW1_QUANTILES", "tracy_widom_scale", "outlier_threshold", "OutlierReport", "find_outliers",
           "top_singular_overlap", "top_eigvec_overlap"]

#: Quantiles of the Tracy–Widom (beta = 1) law, for the outlier margin.
TW1_QUANTILES = {0.90: 0.45, 0.95: 0.98, 0.99: 2.02}

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
