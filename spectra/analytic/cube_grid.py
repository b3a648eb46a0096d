"""Cube spectra over hyperparameter grids (depth x weight variance x bias variance), float64.

This is the fast path of :mod:`spectra.analytic.cube` vectorized over a grid, as in Yang &
Salman's hyperparameter pictures: for every depth ``0..L`` and every pair
``(weight_var[i], bias_var[j])`` it returns ``mu_0..mu_K`` of the CK and the NTK.  Kernel
values come from a fused numba loop (parallel over pairs, streamed in chunks so memory
stays bounded), and the Krawtchouk transform is one BLAS matrix product per chunk.  Every
entry carries the stated float64 tolerance of :mod:`spectra.analytic.cube` as an absolute
error bound; use :func:`spectra.analytic.cube_spectrum` for certified values of any single
point.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from .._io import atomic_write
from .._validation import check_depth, check_dim, check_int, check_variance
from .activations import get_activation
from .bases import krawtchouk_matrix
from .cube import FAST_KERNEL_TOL, cube_grid_points
from .kernels import _recursion_f64

__all__ = ["CubeGrid", "cube_spectrum_grid", "load_cube_grid"]

_FORMAT = "spectra.cube_grid.v1"


@dataclass
class CubeGrid:
    """Grid of cube eigenvalues.

    Arrays ``eigenvalues_ck``, ``eigenvalues_ntk``, ``fractional_variance_ck``,
    ``fractional_variance_ntk`` have shape ``(L + 1, n_w, n_b, K + 1)``: depth ``0..L``, weight
    variance, bias variance, degree ``0..K``; eigenvalues are unnormalized ``mu_k``.
    ``trace_ck``/``trace_ntk`` (``Phi(1)``) and ``abs_error_bound_ck``/``abs_error_bound_ntk``
    (stated float64 tolerance, the same for every degree) have shape ``(L + 1, n_w, n_b)``.
    """

    dim: int
    activation: str
    weight_var: np.ndarray
    bias_var: np.ndarray
    arrays: dict

    def __getattr__(self, name):
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(name)

    def save(self, path) -> None:
        """Write an ``.npz`` atomically (temporary file in the same folder, then rename)."""
        atomic_write(path, lambda fh: np.savez_compressed(
            fh, format=np.array(_FORMAT), dim=self.dim, activation=np.array(self.activation),
            weight_var=self.weight_var, bias_var=self.bias_var, **self.arrays), binary=True)


def load_cube_grid(path) -> CubeGrid:
    """Load a file written by :meth:`CubeGrid.save`; a file that is not ours raises ValueError."""
    try:
        z = np.load(os.fspath(path), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"path: {path!s} is not a spectra cube-grid file ({exc})") from None
    if "format" not in z.files or str(z["format"]) != _FORMAT:
        raise ValueError(f"path: {path!s} is not a spectra cube-grid file (format marker missing)")
    arrays = {k: z[k] for k in z.files if k not in ("format", "dim", "activation", "weight_var", "bias_var")}
    return CubeGrid(int(z["dim"]), str(z["activation"]), z["weight_var"], z["bias_var"], arrays)


def cube_spectrum_grid(dim: int, activation="relu", max_depth: int = 2, weight_var=2.0, bias_var=0.0, *,
                       max_degree: int = 8, chunk_bytes: int = 48 * 2**20) -> CubeGrid:
    """Cube CK and NTK eigenvalues for every depth ``0..max_depth`` on a variance grid.

    Parameters
    ----------
    dim : int
        Input dimension ``d >= 1``.
    activation : str or Activation
        Default ``"relu"``.
    max_depth : int
        Largest number of nonlinear layers ``L >= 0`` (default 2); all depths ``0..L`` are returned.
    weight_var, bias_var : float or 1-D array_like
        Grid axes (``sigma_w^2 > 0``, ``sigma_b^2 >= 0``); the grid is their outer product.
    max_degree : int
        Largest degree ``K`` in ``[0, d]``.
    chunk_bytes : int
        Memory budget for the kernel values of one chunk of grid points.

    Returns
    -------
    CubeGrid

    Examples
    --------
    >>> g = cube_spectrum_grid(16, "erf", max_depth=3, weight_var=[1.0, 2.0], bias_var=[0.0, 0.5], max_degree=4)
    >>> g.eigenvalues_ntk.shape
    (4, 2, 2, 5)
    >>> bool(g.eigenvalues_ck[2, 0, 0, 2] == 0.0)   # erf without bias: even degrees vanish
    True
    """
    d = check_dim(dim)
    act = get_activation(activation)
    L = check_depth(max_depth, "max_depth")
    K = check_int(max_degree, "max_degree", minimum=0, maximum=d)
    wv = np.atleast_1d(check_variance(weight_var, "weight_var", positive=True)).astype(float)
    bv = np.atleast_1d(check_variance(bias_var, "bias_var")).astype(float)
    if wv.ndim != 1 or bv.ndim != 1:
        raise ValueError("weight_var and bias_var must be scalars or 1-D arrays (grid axes)")
    W, B = np.meshgrid(wv, bv, indexing="ij")
    Wf, Bf = W.ravel().copy(), B.ravel().copy()
    P = Wf.size
    c = cube_grid_points(d)
    m = d + 1
    M = np.ascontiguousarray(krawtchouk_matrix(d, range(K + 1)).T)  # (m, K+1)
    comb = np.array([float(math.comb(d, k)) for k in range(K + 1)])
    s_d = math.sqrt(d) if act.kinked else 1.0
    per_pair = 2 * (L + 1) * m * 8
    chunk = max(1, min(P, chunk_bytes // per_pair))

    tol = np.array([FAST_KERNEL_TOL * s_d, (d + 1) * np.finfo(float).eps])
    # (kernel: CK, NTK) x depth x pair x [eigenvalues 0..K, trace Phi(1), abs. error bound]
    res = np.empty((2, L + 1, P, K + 3))
    if act.dispatch:
        from ._duals_numba import grid_spectra

        Mh = np.ascontiguousarray(M.T[:, : d // 2 + 1])  # (K+1, d//2 + 1): the rows' first half
        grid_spectra(int(act.dispatch), np.array(act.dispatch_params, dtype=float), L, Wf, Bf, c, Mh, tol, res)
    else:
        depth_factor = np.arange(L + 1)[:, None] + 1.0
        for start in range(0, P, chunk):
            stop = min(P, start + chunk)
            vals = list(_recursion_f64(act, L, Wf[start:stop, None], Bf[start:stop, None], c[None, :], 1.0, 1.0))
            for idx in (0, 1):
                v = np.stack([x[idx] for x in vals])  # (L+1, n, m)
                n = v.shape[1]
                res[idx, :, start:stop, : K + 1] = (v.reshape(-1, m) @ M).reshape(L + 1, n, K + 1)
                res[idx, :, start:stop, K + 1] = v[:, :, 0]
                res[idx, :, start:stop, K + 2] = (tol[0] * depth_factor + tol[1]) * np.abs(v).max(axis=2)
    out = {}
    for idx, name in enumerate(("ck", "ntk")):
        # contiguous copies, so that the reshapes below are views (the symmetry zeros are written into them)
        mu, tr = np.ascontiguousarray(res[idx, ..., : K + 1]), np.ascontiguousarray(res[idx, ..., K + 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(tr > 0, 1.0 / tr, 0.0)
        out[f"eigenvalues_{name}"] = mu
        out[f"fractional_variance_{name}"] = comb * mu * inv[..., None]
        out[f"trace_{name}"] = tr
        out[f"abs_error_bound_{name}"] = np.ascontiguousarray(res[idx, ..., K + 2])
    # exact zeros by symmetry (odd/even or polynomial kernels): same rule as cube_spectrum
    from .kernels import kernel_structures, structural_zero

    for name in ("ck", "ntk"):
        arr = out[f"eigenvalues_{name}"].reshape(L + 1, wv.size, bv.size, K + 1)
        fv = out[f"fractional_variance_{name}"].reshape(L + 1, wv.size, bv.size, K + 1)
        for has_bias in (False, True):
            cols = (bv > 0) if has_bias else (bv == 0)
            if not np.any(cols):
                continue
            for depth, st in enumerate(kernel_structures(act, L, 1.0 if has_bias else 0.0, name)):
                for k in range(K + 1):
                    if structural_zero(st, k):
                        arr[depth][:, cols, k] = 0.0
                        fv[depth][:, cols, k] = 0.0
    shaped = {}
    for k, v in out.items():
        shaped[k] = v.reshape((L + 1, wv.size, bv.size) + v.shape[2:])
    return CubeGrid(d, act.name, wv, bv, shaped)
