"""Input checks shared by the random-matrix diagnostics (spectra, weights, Grams)."""
from __future__ import annotations

import numpy as np

from spectra._validation import check_finite_array


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
