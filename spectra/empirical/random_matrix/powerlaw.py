"""Power-law tail exponents by the Clauset–Shalizi–Newman (2009) maximum-likelihood estimator."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spectra._validation import check_int, check_positive

from ._checks import _check_spectrum

__all__ = ["PowerLawFit", "powerlaw_alpha"]


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
            from ._powerlaw_numba import _ks_scan  # numba only when a scan is asked for

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
