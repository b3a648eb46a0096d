"""The cube grid's stated bounds and exact zeros, per depth and variance pair.

``add_conditioning`` adds the Hermite-series error (tanh, softplus, ...) and, for the relu and
step families, the running bound of the rounding amplified near correlation +-1
(:mod:`spectra.analytic._kink_error`) to the float64 tolerance; ``symmetry_zeros`` marks the
degrees that vanish by the kernel's odd/even structure, by the same rule as ``cube_spectrum``.
"""
from __future__ import annotations

import numpy as np

from . import _kink_error
from .cube import cube_grid_points, hermite_tolerances

__all__ = ["add_conditioning", "symmetry_zeros"]


def add_conditioning(act, L: int, wv: np.ndarray, bv: np.ndarray, d: int, res: np.ndarray, K: int,
                      chunk_bytes: int) -> None:
    """Add to the bounds in ``res`` (in place) the Hermite-series error (tanh, ...; per depth and pair,
    with max|Phi| = Phi(1), the trace, for these positive semi-definite kernels) and, for the relu and
    step families, the running bound of :mod:`spectra.analytic._kink_error` (tiny biases)."""
    if act.hermite is not None:
        for idx in (0, 1):
            res[idx, :, :, K + 2] += hermite_tolerances(act, np.arange(L + 1)[:, None], wv[None, :], bv[None, :],
                                                        np.abs(res[idx, :, :, K + 1]))
    if _kink_error.supports(act):
        ck, ntk = _kink_error.grid_bounds(act, L, wv, bv, cube_grid_points(d), chunk_bytes)
        res[0, :, :, K + 2] += ck
        res[1, :, :, K + 2] += ntk


def symmetry_zeros(act, L: int, bv: np.ndarray, K: int, kind: str) -> np.ndarray:
    """(L + 1, n_b, K + 1): degrees that vanish by the odd/even structure (same rule as cube_spectrum)."""
    from .kernels import kernel_structures, structural_zero

    out = np.zeros((L + 1, bv.size, K + 1), dtype=bool)
    for has_bias in (False, True):
        cols = (bv > 0) if has_bias else (bv == 0)
        if not np.any(cols):
            continue
        for depth, st in enumerate(kernel_structures(act, L, 1.0 if has_bias else 0.0, kind)):
            for k in range(K + 1):
                if structural_zero(st, k):
                    out[depth][cols, k] = True
    return out
