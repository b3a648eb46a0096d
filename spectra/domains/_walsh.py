"""The fast Walsh-Hadamard transform: numba kernels, in place, unnormalised.

Imported lazily (only by the functions of :mod:`spectra.domains.cube` that transform), so that
``import spectra.domains`` does not load numba. ``cache=True`` keeps the compiled code on disk.
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["fwht_inplace"]


@njit(cache=True)
def _fwht_rows(A):  # pragma: no cover - compiled
    """``A <- H A``: butterflies along axis 0 of a C-contiguous ``(2^d, m)`` array."""
    n, m = A.shape
    h = 1
    while h < n:
        for i in range(0, n, 2 * h):
            for j in range(i, i + h):
                for c in range(m):
                    x = A[j, c]
                    y = A[j + h, c]
                    A[j, c] = x + y
                    A[j + h, c] = x - y
        h *= 2


@njit(cache=True)
def _fwht_cols(A):  # pragma: no cover - compiled
    """``A <- A H``: butterflies along axis 1 of a C-contiguous ``(m, 2^d)`` array, row by row."""
    m, n = A.shape
    for r in range(m):
        h = 1
        while h < n:
            for i in range(0, n, 2 * h):
                for j in range(i, i + h):
                    x = A[r, j]
                    y = A[r, j + h]
                    A[r, j] = x + y
                    A[r, j + h] = x - y
            h *= 2


def fwht_inplace(A: np.ndarray, axis: int) -> None:
    """Apply ``H`` along ``axis`` (0 or 1) of a C-contiguous float64 2-D array, in place.

    The caller has validated ``A`` (finite, float64, C order, power-of-two length on ``axis``).
    """
    if axis == 0:
        _fwht_rows(A)
    else:
        _fwht_cols(A)
