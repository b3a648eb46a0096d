r"""The Walsh basis of the full cube: Hadamard order, FWHT, Walsh coefficients, per-degree spectra.

With the ``2^d`` points of the cube in *Hadamard order* (row ``i`` has ``x_j = (-1)^{bit_j(i)}``,
:func:`spectra.domains.cube.cube_points`), the Walsh monomial ``chi_S`` of the subset with
bitmask ``S`` is column ``S`` of the Sylvester-Hadamard matrix ``H``, ``H[i, S] =
(-1)^{popcount(i & S)}``, which the fast Walsh-Hadamard transform (:func:`fwht`, numba, compiled
on first use) applies in ``d 2^d`` additions. A Gram matrix in the Walsh basis is
``M = H K H / 4^d``; ``M[S, S]`` is the Rayleigh quotient of ``K/2^d`` at ``chi_S`` and the
degree-``k`` diagonal block of ``M`` holds the measured spectrum of degree ``k`` (for an
infinite-width kernel ``M`` is diagonal with entries ``mu_|S|``, multiplicity ``C(d, k)``).
"""
from __future__ import annotations

import math

import numpy as np

from .._validation import check_dim, check_finite_array, check_int
from ..analytic.bases import cube_multiplicity
from .result import DegreeSpectrum

__all__ = ["cube_index", "fwht", "subset_degrees", "walsh_coefficients", "walsh_degree_energy",
           "cube_degree_spectrum"]


def cube_index(X) -> np.ndarray:
    """Hadamard-order index of each cube point: ``sum_j bit_j 2^j`` with ``x_j = (-1)^{bit_j}``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Entries in ``{-1, +1}``; ``d <= 62``.

    Returns
    -------
    ndarray of int64, shape (n,)

    Examples
    --------
    >>> from spectra.domains.cube import cube_points
    >>> cube_index(cube_points(3)).tolist()
    [0, 1, 2, 3, 4, 5, 6, 7]
    """
    X = check_finite_array(X, "X", ndim=2)
    if X.shape[1] > 62:
        raise ValueError(f"X must have at most 62 columns to be indexed, got {X.shape[1]}")
    if not np.all(np.abs(X) == 1.0):
        raise ValueError("X must be a cube sample with entries in {-1, +1}")
    bits = (X < 0).astype(np.int64)
    return (bits << np.arange(X.shape[1], dtype=np.int64)[None, :]).sum(axis=1)


def _log2_len(n: int, name: str) -> int:
    if n < 1 or n & (n - 1):
        raise ValueError(f"{name} must have a power-of-two length 2^d along the transform axis, got {n}")
    return n.bit_length() - 1


def fwht(a, axis: int = 0) -> np.ndarray:
    """Unnormalized fast Walsh-Hadamard transform ``H a`` along ``axis`` (a new float64 array).

    ``H[i, S] = (-1)^{popcount(i & S)}``; ``H @ H = 2^d I``. Compiled with numba on first use.

    Parameters
    ----------
    a : array_like, shape (2^d,) or (2^d, m) (``axis=0``) or (m, 2^d) (``axis=1``)
    axis : {0, 1}

    Returns
    -------
    ndarray, same shape as ``a``

    Examples
    --------
    >>> fwht([1.0, 0.0, 0.0, 0.0]).tolist()
    [1.0, 1.0, 1.0, 1.0]
    >>> fwht([1.0, 2.0]).tolist()
    [3.0, -1.0]
    """
    from ._walsh import fwht_inplace

    arr = check_finite_array(a, "a")
    if arr.ndim not in (1, 2):
        raise ValueError(f"a must be a 1-D or 2-D array, got shape {arr.shape}")
    if axis not in (0, 1) or (arr.ndim == 1 and axis != 0):
        raise ValueError(f"axis must be 0 (or 1 for 2-D input), got {axis!r}")
    _log2_len(arr.shape[axis], "a")
    out = np.array(arr, dtype=np.float64, order="C", copy=True)
    if out.ndim == 1:
        fwht_inplace(out.reshape(1, -1), 1)
    else:
        fwht_inplace(out, axis)
    return out


def subset_degrees(dim: int) -> np.ndarray:
    """``|S|`` = popcount of each bitmask ``S = 0..2^dim-1``, shape ``(2^dim,)``.

    Examples
    --------
    >>> subset_degrees(2).tolist()
    [0, 1, 1, 2]
    """
    dim = check_dim(dim)
    if dim > 30:
        raise ValueError(f"dim must be <= 30 for a full-cube computation, got {dim}")
    idx = np.arange(1 << dim, dtype=np.int64)
    deg = np.zeros(idx.shape, dtype=np.int64)
    for j in range(dim):
        deg += (idx >> j) & 1
    return deg


def full_cube_order(X, n: int, name: str):
    """``(d, order)``: ``order`` puts the rows of the full cube ``X`` into Hadamard order (None if already)."""
    d = _log2_len(n, name)
    if X is None:
        return d, None
    idx = cube_index(X)
    if X.shape[0] != n or X.shape[1] != d:
        raise ValueError(f"X must be the full cube of shape ({n}, {d}) matching {name}, got {np.shape(X)}")
    if np.unique(idx).size != n:
        raise ValueError("X must contain every point of the cube exactly once")
    if np.array_equal(idx, np.arange(n)):
        return d, None
    order = np.empty(n, dtype=np.int64)
    order[idx] = np.arange(n)  # order[s] = row holding the point of Hadamard index s
    return d, order


def walsh_coefficients(v, X=None) -> np.ndarray:
    r"""Walsh coefficients ``hat v(S) = 2^{-d} sum_x v(x) chi_S(x)`` of a function on the full cube.

    Parameters
    ----------
    v : array_like, shape (2^d,) or (2^d, m)
    X : array_like, shape (2^d, d), optional
        The cube points of the rows of ``v`` (any order); default the Hadamard order.

    Returns
    -------
    ndarray, same shape as ``v``; entry ``S`` (bitmask) is ``hat v(S)``.

    Examples
    --------
    >>> from spectra.domains.cube import cube_points, walsh_monomial
    >>> X = cube_points(3)
    >>> np.flatnonzero(walsh_coefficients(walsh_monomial(X, [0, 2]))).tolist()  # S = 0b101
    [5]
    """
    v = check_finite_array(v, "v")
    if v.ndim not in (1, 2):
        raise ValueError(f"v must be 1-D or 2-D, got shape {v.shape}")
    X = None if X is None else check_finite_array(X, "X", ndim=2)
    d, order = full_cube_order(X, v.shape[0], "v")
    if order is not None:
        v = v[order]
    return fwht(v) / float(1 << d)


def walsh_degree_energy(v, X=None) -> np.ndarray:
    r"""Per-degree energy fractions ``e_k = sum_{|S|=k} hat v(S)^2 / sum_S hat v(S)^2``, ``k = 0..d``.

    Well defined even where degenerate eigenvalue blocks make a ranked top-``k`` energy
    ambiguous (:func:`spectra.empirical.top_k_energy`).

    Parameters
    ----------
    v : array_like, shape (2^d,) or (2^d, m)
        Function values on the full cube (columns: several functions).
    X : array_like, shape (2^d, d), optional
        Points of the rows of ``v``; default the Hadamard order of :func:`~spectra.domains.cube.cube_points`.

    Returns
    -------
    ndarray, shape (d+1,) or (d+1, m)
        Sums to 1 (per column); all zeros for a zero vector.

    Examples
    --------
    >>> from spectra.domains.cube import cube_points, walsh_monomial
    >>> X = cube_points(4)
    >>> walsh_degree_energy(walsh_monomial(X, [1, 2]) + 1.0, X).round(3).tolist()
    [0.5, 0.0, 0.5, 0.0, 0.0]
    """
    c = walsh_coefficients(v, X)
    d = c.shape[0].bit_length() - 1
    deg = subset_degrees(d)
    sq = c * c
    e = np.zeros((d + 1,) + sq.shape[1:])
    np.add.at(e, deg, sq)
    tot = e.sum(axis=0)
    return np.divide(e, tot, out=np.zeros_like(e), where=tot > 0)


def cube_degree_spectrum(K, X=None, *, blocks: bool = True, eig_max_degree: int | None = None) -> DegreeSpectrum:
    """Per-degree spectrum of a ``2^d x 2^d`` Gram matrix on the full cube, via the FWHT.

    Parameters
    ----------
    K : array_like, shape (2^d, 2^d)
        Symmetric Gram matrix (not divided by ``2^d``).
    X : array_like, shape (2^d, d), optional
        Points of the rows of ``K``; default the Hadamard order.
    blocks : bool
        Also measure the spread within each degree block and the off-block mass (cheap).
    eig_max_degree : int, optional
        Diagonalize the degree blocks ``k <= eig_max_degree`` for their extreme eigenvalues
        (cost ``C(d,k)^3`` each); default all degrees for ``d <= 11``, none above.

    Returns
    -------
    DegreeSpectrum
        ``method="walsh"``; ``mean``, ``spread``, ``diag_std``, ``block_min``, ``block_max`` and
        ``off_block`` as documented there.

    Examples
    --------
    >>> from spectra.domains.cube import cube_points
    >>> X = cube_points(3)
    >>> s = cube_degree_spectrum(X @ X.T / 3)     # linear kernel: mu_1 = 1/3
    >>> s.mean.round(6).tolist()
    [0.0, 0.333333, 0.0, 0.0]
    """
    from ._walsh import fwht_inplace

    K = check_finite_array(K, "K", ndim=2)
    n = K.shape[0]
    if K.shape[1] != n:
        raise ValueError(f"K must be square, got shape {K.shape}")
    X = None if X is None else check_finite_array(X, "X", ndim=2)
    d, order = full_cube_order(X, n, "K")
    if eig_max_degree is None:
        eig_max_degree = d if d <= 11 else -1
    eig_max_degree = check_int(eig_max_degree, "eig_max_degree", minimum=-1)
    M = np.array(K if order is None else K[np.ix_(order, order)], dtype=np.float64, order="C", copy=True)
    fwht_inplace(M, 0)
    fwht_inplace(M, 1)
    M /= float(n) * float(n)
    deg = subset_degrees(d)
    diag = np.diagonal(M)
    mult = np.array([cube_multiplicity(d, k) for k in range(d + 1)])
    mean = np.zeros(d + 1)
    dstd = np.zeros(d + 1)
    bmin, bmax, bstd = np.full(d + 1, np.nan), np.full(d + 1, np.nan), np.zeros(d + 1)
    for k in range(d + 1):
        idx = np.flatnonzero(deg == k)
        dk = diag[idx]
        mean[k] = dk.mean()
        dstd[k] = dk.std()
        if blocks:
            B = M[np.ix_(idx, idx)]
            B = 0.5 * (B + B.T)
            # std of the eigenvalues = ||B - mean I||_F / sqrt(m): no diagonalization, and centring
            # first avoids the cancellation of ||B||_F^2/m - mean^2
            Bc = B.copy()
            Bc.flat[:: idx.size + 1] -= mean[k]
            bstd[k] = math.sqrt(float(np.dot(Bc.ravel(), Bc.ravel())) / idx.size)
            if k <= eig_max_degree:
                ev = np.linalg.eigvalsh(B)
                bmin[k], bmax[k] = ev[0], ev[-1]
        else:
            bstd[k] = dstd[k]
    flat = M.ravel()
    total_sq = float(np.dot(flat, flat))
    off = 0.0
    if blocks and total_sq > 0:
        # sum the off-block squares directly (total - block would cancel down to ~sqrt(eps))
        off_sq = 0.0
        step = max(1, (1 << 22) // n)
        for r0 in range(0, n, step):
            rows = M[r0:r0 + step]
            outside = deg[r0:r0 + step, None] != deg[None, :]
            off_sq += float(np.sum(np.where(outside, rows, 0.0) ** 2))
        off = math.sqrt(off_sq / total_sq)
    return DegreeSpectrum("cube", d, np.arange(d + 1), mean, mult, n, "walsh", bstd, dstd, bmin, bmax, off)
