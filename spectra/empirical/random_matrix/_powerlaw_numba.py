"""Compiled kernel of the power-law ``xmin`` scan.

Kept in its own module so that numba is imported (and the kernel compiled or loaded from its
cache) only when :func:`~spectra.empirical.random_matrix.powerlaw_alpha` scans with
``xmin='ks'``: importing :mod:`spectra.empirical` stays light.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


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
