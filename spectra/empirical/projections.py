r"""Projections of measured Gram matrices and functions onto the theory's eigenfunctions.

* **Full cube.**  With the points in Hadamard order (:func:`spectra.empirical.data.cube_points`)
  the Walsh monomial ``chi_S`` is column ``S`` of the Sylvester-Hadamard matrix ``H``, which the
  fast Walsh-Hadamard transform (:func:`fwht`, numba) applies in ``d 2^d`` additions.  The Gram
  matrix in the Walsh basis is ``M = H K H / 4^d``; ``M[S, S]`` is the Rayleigh quotient of
  ``K/2^d`` at ``chi_S``, and the degree-``k`` diagonal block of ``M`` holds the measured spectrum of
  degree ``k`` (for an infinite-width kernel ``M`` is diagonal with entries ``mu_|S|``).
* **Sphere samples.**  By the addition theorem ``E_{x,y}[K(x,y) P_k(<x,y>/d)] = lambda_k``
  (``formulas.md`` §5.1, ``P_k(1) = 1``), estimated by the U-statistic
  ``(1/(n(n-1))) sum_{i != j} K_ij P_k(t_ij)``.
* **Any sample.**  Eigenvalues of ``K/n`` grouped in decreasing order into blocks of the analytic
  multiplicities.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from .._validation import check_dim, check_finite_array, check_int

__all__ = [
    "fwht",
    "walsh_coefficients",
    "walsh_degree_energy",
    "subset_degrees",
    "CubeDegreeSpectrum",
    "cube_degree_spectrum",
    "gegenbauer",
    "harmonic_multiplicity",
    "sphere_degree_projections",
    "cube_sample_degree_projections",
    "MatchedSpectrum",
    "matched_eigenvalues",
]


# ---------------------------------------------------------------------------------------- FWHT
@njit(cache=True)
def _fwht_axis0(A):  # pragma: no cover - compiled
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
def _fwht_axis1(A):  # pragma: no cover - compiled
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


def _log2_len(n: int, name: str) -> int:
    if n < 1 or n & (n - 1):
        raise ValueError(f"{name} must have a power-of-two length 2^d along the transform axis, got {n}")
    return n.bit_length() - 1


def fwht(a, axis: int = 0) -> np.ndarray:
    """Unnormalized fast Walsh-Hadamard transform ``H a`` along ``axis`` (a new float64 array).

    ``H[i, S] = (-1)^{popcount(i & S)}``; ``H @ H = 2^d I``.

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
    arr = check_finite_array(a, "a")
    if arr.ndim not in (1, 2):
        raise ValueError(f"a must be a 1-D or 2-D array, got shape {arr.shape}")
    if axis not in (0, 1) or (arr.ndim == 1 and axis != 0):
        raise ValueError(f"axis must be 0 (or 1 for 2-D input), got {axis!r}")
    _log2_len(arr.shape[axis], "a")
    out = np.array(arr, dtype=np.float64, order="C", copy=True)
    if out.ndim == 1:
        _fwht_axis1(out.reshape(1, -1))
    elif axis == 0:
        _fwht_axis0(out)
    else:
        _fwht_axis1(out)
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


def _full_cube_order(X, n: int, name: str):
    """Permutation putting rows of the full cube ``X`` into Hadamard order (None if already)."""
    from .data import cube_index

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
    >>> from spectra.empirical.data import cube_points, walsh_monomial
    >>> X = cube_points(3)
    >>> np.flatnonzero(walsh_coefficients(walsh_monomial(X, [0, 2]))).tolist()  # S = 0b101
    [5]
    """
    v = check_finite_array(v, "v")
    if v.ndim not in (1, 2):
        raise ValueError(f"v must be 1-D or 2-D, got shape {v.shape}")
    X = None if X is None else check_finite_array(X, "X", ndim=2)
    d, order = _full_cube_order(X, v.shape[0], "v")
    if order is not None:
        v = v[order]
    return fwht(v) / float(1 << d)


def walsh_degree_energy(v, X=None) -> np.ndarray:
    r"""Per-degree energy fractions ``e_k = sum_{|S|=k} hat v(S)^2 / sum_S hat v(S)^2``, ``k = 0..d``.

    Parameters
    ----------
    v : array_like, shape (2^d,) or (2^d, m)
        Function values on the full cube (columns: several functions).
    X : array_like, shape (2^d, d), optional
        Points of the rows of ``v``; default the Hadamard order of :func:`cube_points`.

    Returns
    -------
    ndarray, shape (d+1,) or (d+1, m)
        Sums to 1 (per column); all zeros for a zero vector.

    Examples
    --------
    >>> from spectra.empirical.data import cube_points, walsh_monomial
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


@dataclass
class CubeDegreeSpectrum:
    """Per-degree spectrum of a full-cube Gram matrix (arrays indexed by degree ``k = 0..d``).

    Attributes
    ----------
    degrees, multiplicities : ndarray of int
        ``k`` and ``C(d, k)``.
    mean : ndarray
        Mean Rayleigh quotient of ``K/2^d`` over the Walsh monomials of degree ``k`` (the
        eigenvalue estimate; equals the mean eigenvalue of the degree-``k`` block).
    diag_std : ndarray
        Standard deviation of those Rayleigh quotients within the degree.
    block_std : ndarray
        Standard deviation of the eigenvalues of the degree-``k`` diagonal block ``B_k`` of
        ``M = H K H / 4^d`` (the spread within the degree), exactly
        ``||B_k - mean_k I||_F / sqrt(C(d,k))``; equals ``diag_std`` if ``blocks=False``.
    block_min, block_max : ndarray
        Extreme eigenvalues of ``B_k`` for ``k <= eig_max_degree``; NaN (= not computed) above
        it or if ``blocks=False``.
    off_block : float
        ``||M - blockdiag(M)||_F / ||M||_F``: how far the Walsh basis is from diagonalizing the
        matrix across degrees (0 for any infinite-width kernel; 0.0 if ``blocks=False``).
    """

    degrees: np.ndarray
    multiplicities: np.ndarray
    mean: np.ndarray
    diag_std: np.ndarray
    block_min: np.ndarray
    block_max: np.ndarray
    block_std: np.ndarray
    off_block: float


def cube_degree_spectrum(K, X=None, *, blocks: bool = True, eig_max_degree: int | None = None) -> CubeDegreeSpectrum:
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
    CubeDegreeSpectrum

    Examples
    --------
    >>> from spectra.empirical.data import cube_points
    >>> X = cube_points(3)
    >>> s = cube_degree_spectrum(X @ X.T / 3)     # linear kernel: mu_1 = 1/3
    >>> s.mean.round(6).tolist()
    [0.0, 0.333333, 0.0, 0.0]
    """
    K = check_finite_array(K, "K", ndim=2)
    n = K.shape[0]
    if K.shape[1] != n:
        raise ValueError(f"K must be square, got shape {K.shape}")
    X = None if X is None else check_finite_array(X, "X", ndim=2)
    d, order = _full_cube_order(X, n, "K")
    if eig_max_degree is None:
        eig_max_degree = d if d <= 11 else -1
    eig_max_degree = check_int(eig_max_degree, "eig_max_degree", minimum=-1)
    M = np.array(K if order is None else K[np.ix_(order, order)], dtype=np.float64, order="C", copy=True)
    _fwht_axis0(M)
    _fwht_axis1(M)
    M /= float(n) * float(n)
    deg = subset_degrees(d)
    diag = np.diagonal(M)
    mult = np.array([math.comb(d, k) for k in range(d + 1)])
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
    return CubeDegreeSpectrum(np.arange(d + 1), mult, mean, dstd, bmin, bmax, bstd, off)


# ---------------------------------------------------------------------------------------- sphere
def harmonic_multiplicity(dim: int, k: int) -> int:
    """Number ``N(d, k)`` of linearly independent degree-``k`` spherical harmonics on ``S^{d-1}``.

    Examples
    --------
    >>> [harmonic_multiplicity(3, k) for k in range(4)]
    [1, 3, 5, 7]
    """
    dim = check_dim(dim, minimum=2)
    k = check_int(k, "k", minimum=0)
    if k == 0:
        return 1
    return math.comb(k + dim - 1, dim - 1) - math.comb(k + dim - 3, dim - 1)


def gegenbauer(k: int, dim: int, t) -> np.ndarray:
    r"""Gegenbauer polynomial ``P_k^{(d)}(t)`` normalized so that ``P_k(1) = 1``.

    Three-term recurrence ``P_{k+1} = ((2k+d-2) t P_k - k P_{k-1}) / (k+d-2)``; Legendre for
    ``d = 3``, Chebyshev ``T_k`` for ``d = 2``.

    Parameters
    ----------
    k : int
        Degree ``>= 0``.
    dim : int
        Ambient dimension ``d >= 2``.
    t : array_like

    Returns
    -------
    ndarray, shape of ``t``

    Examples
    --------
    >>> float(gegenbauer(2, 3, 0.5))   # Legendre P_2(0.5) = (3 * 0.25 - 1) / 2
    -0.125
    """
    k = check_int(k, "k", minimum=0)
    dim = check_dim(dim, minimum=2)
    t = np.asarray(t, dtype=np.float64)
    p_prev = np.ones_like(t)
    if k == 0:
        return p_prev
    p = t.copy()
    for j in range(1, k):
        p_prev, p = p, ((2 * j + dim - 2) * t * p - j * p_prev) / (j + dim - 2)
    return p


def sphere_degree_projections(K, X, max_degree: int, *, exclude_diagonal: bool = True,
                              chunk_size: int = 2048) -> np.ndarray:
    r"""Per-degree Gegenbauer projections of a Gram matrix on sphere samples.

    Estimates the Funk-Hecke eigenvalues ``lambda_k = E_{x,y}[K(x,y) P_k(<x,y>/d)]``
    (``formulas.md`` §5.1, uniform probability measure) by
    ``(1/(n(n-1))) sum_{i != j} K_ij P_k(t_ij)`` (or ``1/n^2`` and all pairs if
    ``exclude_diagonal=False``, which adds a bias ``~ K(x,x)/n``), with ``t_ij = <x_i,x_j>/d``.

    Parameters
    ----------
    K : array_like, shape (n, n)
    X : array_like, shape (n, d)
        Points on the sphere of radius ``sqrt(d)``, ``d >= 2``.
    max_degree : int
    exclude_diagonal : bool
    chunk_size : int
        Rows processed at once.

    Returns
    -------
    ndarray, shape (max_degree + 1,)

    Examples
    --------
    >>> from spectra.empirical.data import sample_sphere
    >>> X = sample_sphere(3, 400, seed=0)
    >>> lam = sphere_degree_projections(X @ X.T / 3, X, 2)   # linear kernel: lambda_1 = 1/3
    >>> bool(abs(lam[1] - 1 / 3) < 0.02)
    True
    """
    K = check_finite_array(K, "K", ndim=2)
    X = check_finite_array(X, "X", ndim=2)
    n, d = X.shape
    d = check_dim(d, "X.shape[1]", minimum=2)
    if K.shape != (n, n):
        raise ValueError(f"K must have shape ({n}, {n}) to match X, got {K.shape}")
    if n < 2:
        raise ValueError(f"X must have at least 2 points, got {n}")
    max_degree = check_int(max_degree, "max_degree", minimum=0)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    out = np.zeros(max_degree + 1)
    for s in range(0, n, chunk_size):
        sl = slice(s, min(s + chunk_size, n))
        T = np.clip(X[sl] @ X.T / d, -1.0, 1.0)
        Kb = np.array(K[sl], dtype=np.float64)
        if exclude_diagonal:
            r = np.arange(sl.start, sl.stop)
            Kb[r - sl.start, r] = 0.0
        # recurrence in place over degrees
        p_prev = np.ones_like(T)
        out[0] += Kb.sum()
        if max_degree >= 1:
            p = T.copy()
            out[1] += np.sum(Kb * p)
            for j in range(1, max_degree):
                p_prev, p = p, ((2 * j + d - 2) * T * p - j * p_prev) / (j + d - 2)
                out[j + 1] += np.sum(Kb * p)
    return out / (n * (n - 1) if exclude_diagonal else n * n)


def cube_sample_degree_projections(K, X, max_degree: int, *, chunk_size: int = 2048) -> np.ndarray:
    r"""Per-degree projections of a Gram matrix on random cube samples (not the full cube).

    Since ``sum_{|S|=k} chi_S(x) chi_S(y) = Kr_k(j)`` (Krawtchouk polynomial of the Hamming
    distance ``j``), ``E_{x,y}[K(x,y) Kr_k(j)] / C(d,k) = mu_k``; estimated by the U-statistic
    over pairs ``i != j``.

    Parameters
    ----------
    K : array_like, shape (n, n)
    X : array_like, shape (n, d), entries +-1
    max_degree : int
    chunk_size : int

    Returns
    -------
    ndarray, shape (max_degree + 1,)

    Examples
    --------
    >>> from spectra.empirical.data import cube_points
    >>> X = cube_points(12, 600, seed=0)
    >>> mu = cube_sample_degree_projections(X @ X.T / 12, X, 2)   # linear kernel: mu_1 = 1/12
    >>> bool(abs(mu[1] - 1 / 12) < 0.005)
    True
    """
    from .data import cube_index  # validates the +-1 entries

    K = check_finite_array(K, "K", ndim=2)
    X = check_finite_array(X, "X", ndim=2)
    n, d = X.shape
    if d <= 62:
        cube_index(X)
    elif not np.all(np.abs(X) == 1.0):
        raise ValueError("X must be a cube sample with entries in {-1, +1}")
    if K.shape != (n, n):
        raise ValueError(f"K must have shape ({n}, {n}) to match X, got {K.shape}")
    if n < 2:
        raise ValueError(f"X must have at least 2 points, got {n}")
    max_degree = check_int(max_degree, "max_degree", minimum=0, maximum=d)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    # Krawtchouk table kr[k, j] / C(d, k)
    kr = np.zeros((max_degree + 1, d + 1))
    for k in range(max_degree + 1):
        for j in range(d + 1):
            kr[k, j] = sum((-1) ** i * math.comb(j, i) * math.comb(d - j, k - i) for i in range(k + 1))
        kr[k] /= math.comb(d, k)
    out = np.zeros(max_degree + 1)
    for s in range(0, n, chunk_size):
        sl = slice(s, min(s + chunk_size, n))
        ham = np.rint((d - X[sl] @ X.T) / 2).astype(np.int64)
        Kb = np.array(K[sl], dtype=np.float64)
        r = np.arange(sl.start, sl.stop)
        Kb[r - sl.start, r] = 0.0
        # sum of K over pairs at each Hamming distance, then the Krawtchouk weights
        by_dist = np.bincount(ham.ravel(), weights=Kb.ravel(), minlength=d + 1)
        out += kr @ by_dist
    return out / (n * (n - 1))


# ---------------------------------------------------------------------------------------- any sample
@dataclass
class MatchedSpectrum:
    """Eigenvalues of ``K/n`` grouped by the analytic multiplicities.

    Attributes
    ----------
    analytic : ndarray, shape (g,)
        Analytic eigenvalues, in the order given.
    empirical_mean, empirical_min, empirical_max : ndarray, shape (g,)
        Mean / extremes of the empirical eigenvalues assigned to each analytic group.
    multiplicities : ndarray of int, shape (g,)
    """

    analytic: np.ndarray
    empirical_mean: np.ndarray
    empirical_min: np.ndarray
    empirical_max: np.ndarray
    multiplicities: np.ndarray


def matched_eigenvalues(K, eigenvalues, multiplicities) -> MatchedSpectrum:
    """Match the eigenvalues of ``K/n`` with an analytic spectrum, multiplicities respected.

    The analytic groups are sorted by decreasing eigenvalue and receive consecutive blocks of
    the decreasingly sorted empirical eigenvalues of ``K/n``, of the group's multiplicity.

    Parameters
    ----------
    K : array_like, shape (n, n)
        Symmetric Gram matrix.
    eigenvalues : array_like, shape (g,)
        Analytic operator eigenvalues (e.g. ``mu_k`` or ``lambda_k``).
    multiplicities : array_like of int, shape (g,)
        Their multiplicities; the total must be ``<= n``.

    Returns
    -------
    MatchedSpectrum

    Examples
    --------
    >>> K = np.diag([4.0, 2.0, 2.0, 0.0])
    >>> m = matched_eigenvalues(K, [0.5, 1.0], [2, 1])
    >>> m.empirical_mean.tolist()
    [0.5, 1.0]
    """
    K = check_finite_array(K, "K", ndim=2)
    n = K.shape[0]
    if K.shape[1] != n:
        raise ValueError(f"K must be square, got shape {K.shape}")
    lam = check_finite_array(eigenvalues, "eigenvalues", ndim=1)
    mult = np.asarray(multiplicities)
    if mult.shape != lam.shape or not np.issubdtype(mult.dtype, np.integer) or np.any(mult < 1):
        raise ValueError("multiplicities must be positive integers, one per eigenvalue")
    if mult.sum() > n:
        raise ValueError(f"the multiplicities sum to {int(mult.sum())} > n = {n}; pass fewer degrees")
    ev = np.linalg.eigvalsh(0.5 * (K + K.T) / n)[::-1]
    order = np.argsort(-lam, kind="stable")
    mean, lo, hi = np.zeros(lam.size), np.zeros(lam.size), np.zeros(lam.size)
    pos = 0
    for g in order:
        blk = ev[pos:pos + mult[g]]
        mean[g], lo[g], hi[g] = blk.mean(), blk.min(), blk.max()
        pos += mult[g]
    return MatchedSpectrum(lam.copy(), mean, lo, hi, mult.astype(np.int64))
