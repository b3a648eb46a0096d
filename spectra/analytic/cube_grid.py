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
from typing import ClassVar

import numpy as np

from .._budget import check_memory
from .._io import atomic_write
from .._progress import Progress
from .._results import ResultMixin, require_pandas
from .._validation import check_depth, check_dim, check_int, check_variance
from .activations import get_activation
from ._grid_bounds import add_conditioning as _add_conditioning, symmetry_zeros as _symmetry_zeros
from ._grid_file import ARRAYS, FORMAT, KINDS, read_grid_arrays
from ._kernel_domain import check_kernel_domain
from .accuracy import unreliable_fraction_mask
from .bases import krawtchouk_matrix
from .cube import FAST_KERNEL_TOL, cube_grid_points
from .kernels import _recursion_f64

__all__ = ["CubeGrid", "cube_spectrum_grid", "load_cube_grid"]

_FORMAT, _KINDS, _ARRAYS = FORMAT, KINDS, ARRAYS


@dataclass(repr=False, eq=False)
class CubeGrid(ResultMixin):
    """Grid of cube eigenvalues over depth x weight variance x bias variance x degree.

    Attributes
    ----------
    dim : int
    activation : str
    weight_var, bias_var : ndarray, shape (n_w,), (n_b,)
        The variance axes.
    depths : ndarray of int, shape (L + 1,)
        ``0..L``.
    degrees : ndarray of int, shape (K + 1,)
        ``0..K``.
    eigenvalues_ck, eigenvalues_ntk : ndarray, shape (L + 1, n_w, n_b, K + 1)
        Unnormalized ``mu_k``.
    fractional_variance_ck, fractional_variance_ntk : ndarray, shape (L + 1, n_w, n_b, K + 1)
        ``C(d, k) mu_k / Phi(1)``; **NaN** where its absolute error bound ``C(d, k) bound / Phi(1)``
        exceeds 1 % of it (or it is <= 0 within its bound): see :meth:`unreliable`.  A symmetry zero
        is exactly 0, never NaN.
    trace_ck, trace_ntk : ndarray, shape (L + 1, n_w, n_b)
        ``Phi(1)``.
    abs_error_bound_ck, abs_error_bound_ntk : ndarray, shape (L + 1, n_w, n_b)
        The stated float64 tolerance of every eigenvalue of that grid point (the same for every
        degree); an eigenvalue no larger than it is not resolved.  It includes the Hermite-series
        error (tanh, softplus, ...) and, for the relu and step families, a running bound of the
        rounding amplified near correlation +-1 (tiny biases).
    symmetry_zero_ck, symmetry_zero_ntk : bool ndarray, shape (L + 1, n_b, K + 1)
        Degrees that vanish exactly by symmetry (odd/even structure of the kernel), which does
        not depend on the weight variance.

    Examples
    --------
    >>> g = cube_spectrum_grid(16, "erf", max_depth=3, weight_var=[1.0, 2.0], bias_var=[0.0, 0.5], max_degree=4)
    >>> g.optimal_depth("ntk", 2).tolist()   # bias-free erf: degree 2 vanishes (masked), not "depth 0"
    [[None, 2], [None, 3]]
    >>> len(g.to_dataframe()) == 4 * 2 * 2 * 5
    True
    """

    dim: int
    activation: str
    weight_var: np.ndarray
    bias_var: np.ndarray
    depths: np.ndarray
    degrees: np.ndarray
    eigenvalues_ck: np.ndarray
    eigenvalues_ntk: np.ndarray
    fractional_variance_ck: np.ndarray
    fractional_variance_ntk: np.ndarray
    trace_ck: np.ndarray
    trace_ntk: np.ndarray
    abs_error_bound_ck: np.ndarray
    abs_error_bound_ntk: np.ndarray
    symmetry_zero_ck: np.ndarray
    symmetry_zero_ntk: np.ndarray

    FORMAT: ClassVar[str] = _FORMAT
    SHOWN: ClassVar[tuple] = ("kernel", "degree", "optimal_depth", "min", "median", "max")

    @property
    def arrays(self) -> dict:
        """The grid's arrays by name (as stored in the ``.npz``)."""
        return {name: getattr(self, name) for name in _ARRAYS}

    @property
    def shape(self) -> tuple:
        """``(L + 1, n_w, n_b, K + 1)``."""
        return self.eigenvalues_ck.shape

    def _kind(self, kind) -> str:
        if kind not in _KINDS:
            raise ValueError(f"kind must be 'ck' or 'ntk', got {kind!r}")
        return kind

    def resolved(self, kind: str = "ntk") -> np.ndarray:
        """True where ``|mu_k|`` exceeds its float64 error bound (and is not a symmetry zero)."""
        k = self._kind(kind)
        mu = getattr(self, f"eigenvalues_{k}")
        ok = np.abs(mu) > getattr(self, f"abs_error_bound_{k}")[..., None]
        return ok & ~getattr(self, f"symmetry_zero_{k}")[:, None, :, :]

    def unreliable(self, kind: str = "ntk") -> np.ndarray:
        """True where the fractional variance is masked: its absolute error bound exceeds 1 % of it.

        Shape ``(L + 1, n_w, n_b, K + 1)``; those entries of ``fractional_variance_<kind>`` are NaN
        (files written before the mask existed are checked by the same rule).
        """
        k = self._kind(kind)
        fv = getattr(self, f"fractional_variance_{k}")
        zero = np.broadcast_to(getattr(self, f"symmetry_zero_{k}")[:, None], fv.shape)
        comb = [math.comb(int(self.dim), int(j)) for j in self.degrees]
        bad = unreliable_fraction_mask(fv, getattr(self, f"abs_error_bound_{k}")[..., None], comb,
                                       getattr(self, f"trace_{k}")[..., None])
        return (bad | np.isnan(fv)) & ~zero

    def optimal_depth(self, kind: str = "ntk", degree: int = 1, *, resolved_only: bool = False) -> np.ma.MaskedArray:
        """The depth maximizing the fractional variance of ``degree``, per ``(weight_var, bias_var)``.

        Returns a masked integer array of shape ``(n_w, n_b)``: masked where the degree vanishes
        by symmetry at every depth (or has no positive fractional variance), so that such a
        degree never reads as "depth 0".  Ties go to the smallest depth.  With ``resolved_only``
        the values within their float64 error bound (:meth:`resolved`) are left out too, and a
        pair with none left is masked.
        """
        k = self._kind(kind)
        deg = check_int(degree, "degree", minimum=int(self.degrees[0]), maximum=int(self.degrees[-1]))
        best, ok = self._best_depths(k, resolved_only, slice(deg, deg + 1))
        return np.ma.masked_array(best[..., 0], mask=~ok[..., 0])

    def _best_depths(self, kind: str, resolved_only: bool, degrees=slice(None)) -> tuple:
        """Argmax over depth for the selected degrees at once: depths (n_w, n_b, m) and where defined."""
        fv = getattr(self, f"fractional_variance_{kind}")[..., degrees]  # (L+1, n_w, n_b, m)
        skip = getattr(self, f"symmetry_zero_{kind}")[:, None, :, degrees]  # (L+1, 1, n_b, m)
        if resolved_only:
            mu = getattr(self, f"eigenvalues_{kind}")[..., degrees]
            skip = skip | ~(np.abs(mu) > getattr(self, f"abs_error_bound_{kind}")[..., None])
        fv = np.where(skip | np.isnan(fv), -np.inf, fv)  # masked (NaN) values never win
        best = np.argmax(fv, axis=0)
        top = np.take_along_axis(fv, best[None], axis=0)[0]
        return self.depths[best], top > 0

    def summary(self) -> str:
        L, nw, nb, K = self.shape
        return (f"{self.activation} on the cube, d={self.dim}: depth 0..{L - 1} x {nw} weight_var "
                f"[{self.weight_var[0]:g}..{self.weight_var[-1]:g}] x {nb} bias_var "
                f"[{self.bias_var[0]:g}..{self.bias_var[-1]:g}] x degree 0..{K - 1}")

    def rows(self) -> list:
        """The best-depth table: per kernel and degree, the optimal depth over the variance pairs.

        Values within their float64 error bound are left out (``optimal_depth(resolved_only=True)``);
        ``symmetry`` counts the pairs where the degree vanishes by symmetry, ``unresolved`` those
        where no depth is resolved.
        """
        out = []
        for kind in _KINDS:
            # every degree at once (one argmax over depth), not one degree at a time
            depth_res, ok_res = self._best_depths(kind, True)
            # a pair counts as a symmetry zero only if the degree vanishes by symmetry at every depth
            # (a degree whose values are all within their error bound, NaN-masked, is unresolved)
            sym_b = getattr(self, f"symmetry_zero_{kind}").all(axis=0)  # (n_b, K + 1)
            for i, k in enumerate(self.degrees):
                vals = depth_res[..., i][ok_res[..., i]]
                sym = int(sym_b[:, i].sum()) * len(self.weight_var)
                row = {"kernel": kind, "degree": int(k), "optimal_depth": "-", "min": None, "median": None,
                       "max": None, "pairs": int(vals.size), "symmetry": sym,
                       "unresolved": int((~ok_res[..., i]).sum()) - sym}
                if vals.size:
                    lo, hi = int(vals.min()), int(vals.max())
                    row.update(optimal_depth=f"{lo}" if lo == hi else f"{lo}..{hi}", min=lo,
                               median=float(np.median(vals)), max=hi)
                elif sym == ok_res[..., i].size:
                    row["optimal_depth"] = "zero by symmetry"
                out.append(row)
        return out

    def metadata(self) -> dict:
        return {"domain": "cube", "dim": int(self.dim), "activation": self.activation,
                "max_depth": int(self.depths[-1]), "max_degree": int(self.degrees[-1])}

    def to_table(self) -> str:
        """The best depth per degree (over all variance pairs), CK and NTK."""
        n = len(self.weight_var) * len(self.bias_var)
        lines = [self.summary(), f"depth maximizing the fractional variance of degree k, over the {n} "
                 "(weight_var, bias_var) pairs (values within their float64 error bound left out):",
                 f"{'kernel':>6} {'k':>3} {'optimal depth':>16} {'median':>7} {'pairs':>6}  masked pairs"]
        for r in self.rows():
            med = "" if r["median"] is None else f"{r['median']:g}"
            why = [f"{r['symmetry']} zero by symmetry"] if r["symmetry"] else []
            why += [f"{r['unresolved']} unresolved"] if r["unresolved"] else []
            lines.append(f"{r['kernel']:>6} {r['degree']:>3} {r['optimal_depth']:>16} {med:>7} {r['pairs']:>6}  "
                         + ", ".join(why))
        return "\n".join(lines)

    def to_dataframe(self):
        """One row per (depth, weight_var, bias_var, degree) with both kernels' columns.

        Raises ImportError naming the ``pandas`` extra when pandas is missing.
        """
        pd = require_pandas()
        L1, nw, nb, K1 = self.shape
        idx = np.indices(self.shape).reshape(4, -1)
        cols = {"depth": self.depths[idx[0]], "weight_var": self.weight_var[idx[1]],
                "bias_var": self.bias_var[idx[2]], "degree": self.degrees[idx[3]]}
        for k in _KINDS:
            cols[f"eigenvalue_{k}"] = getattr(self, f"eigenvalues_{k}").ravel()
            cols[f"fractional_variance_{k}"] = getattr(self, f"fractional_variance_{k}").ravel()
            cols[f"abs_error_bound_{k}"] = np.repeat(getattr(self, f"abs_error_bound_{k}").ravel(), K1)
            cols[f"symmetry_zero_{k}"] = np.broadcast_to(getattr(self, f"symmetry_zero_{k}")[:, None],
                                                         self.shape).ravel()
        df = pd.DataFrame(cols)
        df.attrs.update(self.metadata())
        return df

    def to_dict(self) -> dict:
        out = self.metadata()
        out.update(weight_var=self.weight_var, bias_var=self.bias_var, depths=self.depths, degrees=self.degrees)
        out.update({name: getattr(self, name) for name in _ARRAYS})
        return out

    def plot(self, kind: str = "ntk", ax=None, *, weight_var=None, bias_var=None):
        """Fractional variance against depth, one line per degree, at one ``(weight_var, bias_var)``.

        The grid point is the one closest to the given variances (default: the middle of each
        axis).  Symmetry zeros and values within their error bound are left out.  Returns the axes.
        """
        from .._plotting import plt_or_raise

        k = self._kind(kind)
        plt = plt_or_raise()
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        iw, ib = self.nearest(weight_var, bias_var)
        fv = getattr(self, f"fractional_variance_{k}")[:, iw, ib]
        ok = self.resolved(k)[:, iw, ib]
        for j, deg in enumerate(self.degrees):
            y = np.where(ok[:, j] & (fv[:, j] > 0), fv[:, j], np.nan)
            if np.any(np.isfinite(y)):
                ax.plot(self.depths, y, "-", lw=1.2, label=f"k={int(deg)}")
        ax.set_yscale("log")
        ax.set_xlabel("depth L")
        ax.set_ylabel(f"{k.upper()} fractional variance")
        ax.set_title(f"{self.activation}, d={self.dim}, $\\sigma_w^2$={self.weight_var[iw]:.3g}, "
                     f"$\\sigma_b^2$={self.bias_var[ib]:.3g}", fontsize=9)
        ax.legend(fontsize=7, ncol=2)
        return ax

    def nearest(self, weight_var=None, bias_var=None) -> tuple:
        """Indices of the grid values closest to ``weight_var`` and ``bias_var`` (default: the middle)."""
        iw = len(self.weight_var) // 2 if weight_var is None else int(np.argmin(np.abs(self.weight_var - weight_var)))
        ib = len(self.bias_var) // 2 if bias_var is None else int(np.argmin(np.abs(self.bias_var - bias_var)))
        return iw, ib

    def save(self, path) -> None:
        """Write an ``.npz`` atomically (temporary file in the same folder, then rename).

        Uncompressed: the float64 eigenvalues barely compress (the README grid: 69 MB raw, 62 MB
        with zlib), and zlib took 3-6 s where writing takes 0.1-0.2 s.
        """
        atomic_write(path, lambda fh: np.savez(
            fh, format=np.array(_FORMAT), dim=self.dim, activation=np.array(self.activation),
            weight_var=self.weight_var, bias_var=self.bias_var, depths=self.depths, degrees=self.degrees,
            **self.arrays), binary=True)

    @classmethod
    def load(cls, path) -> "CubeGrid":
        """Read a file written by :meth:`save` (see :func:`load_cube_grid`)."""
        return load_cube_grid(path)


def load_cube_grid(path) -> CubeGrid:
    """Load a file written by :meth:`CubeGrid.save`.

    Raises
    ------
    ValueError
        Naming the file, for anything that is not a complete grid of ours: truncated, empty,
        foreign, mis-shaped, non-finite or of an unknown format version.
    """
    arrays = read_grid_arrays(path)
    L1, _, _, K1 = arrays["eigenvalues_ck"].shape
    depths = arrays.get("depths", np.arange(L1))
    degrees = arrays.get("degrees", np.arange(K1))
    act = str(arrays["activation"])
    for kind in _KINDS:
        if f"symmetry_zero_{kind}" not in arrays:  # version 1 files
            try:
                arrays[f"symmetry_zero_{kind}"] = _symmetry_zeros(get_activation(act), L1 - 1, arrays["bias_var"],
                                                                  K1 - 1, kind)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{os.fspath(path)}: is not a spectra cube-grid file ({exc})") from None
    return CubeGrid(int(arrays["dim"]), act, arrays["weight_var"], arrays["bias_var"], depths, degrees,
                    *(arrays[name] for name in _ARRAYS))


def _chunks(P: int, L: int, m: int, chunk_bytes: int) -> int:
    """Pairs per chunk: within the memory budget, and about 40 chunks for a progress report."""
    per_pair = 2 * (L + 1) * m * 8
    by_memory = max(1, min(P, chunk_bytes // per_pair))
    by_progress = max(32, -(-P // 40))
    return max(1, min(by_memory, -(-by_progress // 32) * 32))


def cube_spectrum_grid(dim: int, activation="relu", max_depth: int = 2, weight_var=2.0, bias_var=0.0, *,
                       max_degree: int = 8, chunk_bytes: int = 48 * 2**20, progress: bool = False) -> CubeGrid:
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
    progress : bool, default False
        Report progress on stderr when it is a terminal (see :mod:`spectra._progress`).

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
    # memory before anything is allocated: the d + 1 grid points and Krawtchouk rows, the work array
    # (CK and NTK x depth x pairs x (eigenvalues, trace, bound)) and the arrays returned from it
    check_memory(8.0 * ((d + 1) * (K + 4) + 2.0 * (L + 1) * wv.size * bv.size * (K + 3) * 3.3),
                 f"the grid (d={d}, {L + 1} depths x {wv.size} x {bv.size} variances x {K + 1} degrees)")
    # every layer's diagonal within float64 (this engine cannot repair a value in Arb): refuse up
    # front, naming the depth, instead of returning inf/NaN
    check_kernel_domain(act, L, wv[:, None], bv[None, :], "ntk", float_only=True)
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
    bar = Progress(P, "grid", quiet=not progress, piped=False)  # a terminal only: the command's stderr stays clean
    try:
        if act.dispatch:
            from ._duals_numba import grid_spectra

            Mh = np.ascontiguousarray(M.T[:, : d // 2 + 1])  # (K+1, d//2 + 1): the rows' first half
            params = np.array(act.dispatch_params, dtype=float)
            step = _chunks(P, L, m, chunk_bytes)  # pairs are independent: chunks only pace the progress report
            for start in range(0, P, step):
                stop = min(P, start + step)
                part = np.empty((2, L + 1, stop - start, K + 3))
                grid_spectra(int(act.dispatch), params, L, Wf[start:stop], Bf[start:stop], c, Mh, tol, part)
                res[:, :, start:stop] = part
                bar.update(stop - start, f"{stop}/{P} variance pairs")
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
                bar.update(stop - start, f"{stop}/{P} variance pairs")
    finally:
        bar.close()
    _add_conditioning(act, L, Wf, Bf, d, res, K, chunk_bytes)
    out = {}
    for idx, name in enumerate(_KINDS):
        # contiguous copies, so that the reshapes below are views (the symmetry zeros are written into them)
        mu, tr = np.ascontiguousarray(res[idx, ..., : K + 1]), np.ascontiguousarray(res[idx, ..., K + 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(tr > 0, 1.0 / tr, 0.0)
        out[f"eigenvalues_{name}"] = mu
        fv = np.multiply(comb, mu)
        fv *= inv[..., None]  # (comb * mu) * inv as before, in place: one full-size temporary fewer
        out[f"fractional_variance_{name}"] = fv
        out[f"trace_{name}"] = tr
        out[f"abs_error_bound_{name}"] = np.ascontiguousarray(res[idx, ..., K + 2])
    del res  # copied out above: freed before the masks' temporaries (peak memory, issue #14)
    # exact zeros by symmetry (odd/even or polynomial kernels): same rule as cube_spectrum
    zeros = {name: _symmetry_zeros(act, L, bv, K, name) for name in _KINDS}
    for name in _KINDS:
        arr = out[f"eigenvalues_{name}"].reshape(L + 1, wv.size, bv.size, K + 1)
        fv = out[f"fractional_variance_{name}"].reshape(L + 1, wv.size, bv.size, K + 1)
        z = np.broadcast_to(zeros[name][:, None], arr.shape)
        arr[z] = 0.0
        fv[z] = 0.0
        # a fractional variance whose bound exceeds 1 % of it (or that is <= 0 or > 1 within its bound) is NaN
        bound = out[f"abs_error_bound_{name}"].reshape(L + 1, wv.size, bv.size)[..., None]
        tr = out[f"trace_{name}"].reshape(L + 1, wv.size, bv.size)[..., None]
        bad = unreliable_fraction_mask(fv, bound, comb, tr) & ~z
        fv[bad] = np.nan
    shaped = {k: v.reshape((L + 1, wv.size, bv.size) + v.shape[2:]) for k, v in out.items()}
    shaped.update({f"symmetry_zero_{name}": zeros[name] for name in _KINDS})
    return CubeGrid(d, act.name, wv, bv, np.arange(L + 1), np.arange(K + 1), *(shaped[name] for name in _ARRAYS))
