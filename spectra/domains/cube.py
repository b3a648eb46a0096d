r"""The boolean cube ``{-1, +1}^d`` with the uniform measure: points, Walsh basis, targets.

For ``d <= 16`` the full cube is enumerated in the *Hadamard order*: row ``i`` has
``x_j = (-1)^{bit_j(i)}`` (bit 0 = least significant), so the Walsh monomial of the subset with
bitmask ``S`` evaluated at row ``i`` is ``(-1)^{popcount(i & S)}`` -- exactly entry ``(i, S)`` of
the Sylvester-Hadamard matrix ``H``, which the fast Walsh-Hadamard transform applies in
``d 2^d`` additions (:mod:`spectra.domains.walsh`). Every kernel of ``<x, y>/d`` is diagonal in
the Walsh basis, with eigenvalue ``mu_k`` of multiplicity ``C(d, k)`` on the monomials
of degree ``k`` (``spectra.conventions()``). Random cube samples are projected onto the degrees by
the Krawtchouk U-statistic (:func:`cube_sample_degree_projections`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_generator, check_dim, check_finite_array, check_int
from ..analytic import cube as _analytic_cube
from ..analytic.bases import cube_multiplicity, krawtchouk_matrix
from .base import Domain, check_gram_and_points
from .result import DegreeSpectrum, sampled_spectrum
from .walsh import cube_degree_spectrum, cube_index, full_cube_order, walsh_degree_energy

__all__ = ["Cube", "FULL_CUBE_MAX_DIM", "cube_points", "walsh_monomial", "random_cube_polynomial",
           "cube_sample_degree_projections"]

#: Largest dimension for which :func:`cube_points` enumerates the full cube by default.
FULL_CUBE_MAX_DIM = 16


def cube_points(dim: int, n: int | None = None, *, seed=0) -> np.ndarray:
    """Points of the boolean cube ``{-1, +1}^dim``.

    Parameters
    ----------
    dim : int
        Dimension ``d >= 1``.
    n : int or None
        ``None`` (default): the full cube, all ``2^d`` points in Hadamard order (only for
        ``d <= 16``).  An integer: ``n`` points drawn uniformly at random with replacement
        (seeded); ``n = 2^d`` with ``d <= 16`` also returns the full cube.
    seed : int or numpy.random.Generator
        Seed of the random draw (ignored for the full cube).

    Returns
    -------
    ndarray, shape (n, dim), float64
        Row ``i`` of the full cube is ``x_j = (-1)^{bit_j(i)}``.

    Examples
    --------
    >>> cube_points(2)
    array([[ 1.,  1.],
           [-1.,  1.],
           [ 1., -1.],
           [-1., -1.]])
    >>> cube_points(30, 5, seed=1).shape
    (5, 30)
    """
    dim = check_dim(dim)
    if n is None:
        if dim > FULL_CUBE_MAX_DIM:
            raise ValueError(f"dim must be <= {FULL_CUBE_MAX_DIM} to enumerate the full cube, got {dim}; "
                             "pass n to draw random points")
        n = 1 << dim
    n = check_int(n, "n", minimum=1)
    if dim <= FULL_CUBE_MAX_DIM and n == (1 << dim):
        idx = np.arange(n, dtype=np.int64)
        bits = (idx[:, None] >> np.arange(dim, dtype=np.int64)[None, :]) & 1
        return 1.0 - 2.0 * bits.astype(np.float64)
    rng = as_generator(seed)
    return 1.0 - 2.0 * rng.integers(0, 2, size=(n, dim)).astype(np.float64)


def _subset_indices(subset, dim: int) -> np.ndarray:
    if isinstance(subset, (int, np.integer)) and not isinstance(subset, bool):
        raise TypeError("subset must be a sequence of coordinate indices (e.g. [0, 3]), not an int")
    s = np.asarray(list(subset), dtype=np.int64)
    if s.size and (s.min() < 0 or s.max() >= dim):
        raise ValueError(f"subset indices must lie in [0, {dim - 1}], got {s.tolist()}")
    if len(set(s.tolist())) != s.size:
        raise ValueError(f"subset indices must be distinct, got {s.tolist()}")
    return s


def walsh_monomial(X, subset) -> np.ndarray:
    """Walsh monomial (parity) ``chi_S(x) = prod_{i in S} x_i`` on cube points.

    Parameters
    ----------
    X : array_like, shape (n, d)
    subset : sequence of int
        Coordinates ``S``; the empty set gives the constant 1.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> walsh_monomial(cube_points(2), [0, 1]).tolist()
    [1.0, -1.0, -1.0, 1.0]
    """
    X = check_finite_array(X, "X", ndim=2)
    s = _subset_indices(subset, X.shape[1])
    return np.prod(X[:, s], axis=1) if s.size else np.ones(X.shape[0])


def random_cube_polynomial(X, degree: int, *, n_terms: int | None = None, homogeneous: bool = True,
                           seed=0) -> np.ndarray:
    r"""A random multilinear polynomial of a chosen degree on cube points.

    ``f = sum_S a_S chi_S`` over ``n_terms`` distinct random subsets ``S`` with ``|S| = degree``
    (``homogeneous=True``) or ``|S| <= degree`` with at least one term of size ``degree``.  The
    coefficients are Gaussian and rescaled so that ``sum a_S^2 = 1``, i.e. ``E_x f^2 = 1`` under
    the uniform measure.

    Parameters
    ----------
    X : array_like, shape (n, d)
    degree : int
        ``0 <= degree <= d``.
    n_terms : int or None
        Number of monomials (default: ``min(C(d, degree), 8)``); capped at the number available.
    homogeneous : bool
    seed : int or numpy.random.Generator

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> X = cube_points(6)
    >>> f = random_cube_polynomial(X, 2, seed=0)
    >>> round(float(np.mean(f ** 2)), 12)
    1.0
    """
    X = check_finite_array(X, "X", ndim=2)
    d = X.shape[1]
    degree = check_int(degree, "degree", minimum=0, maximum=d)
    rng = as_generator(seed)
    sizes = [degree] if homogeneous else list(range(degree + 1))
    available = sum(cube_multiplicity(d, k) for k in sizes)
    if n_terms is None:
        n_terms = min(cube_multiplicity(d, degree), 8) if homogeneous else min(available, 8)
    n_terms = min(check_int(n_terms, "n_terms", minimum=1), available)
    chosen: list[tuple] = []
    seen = set()
    # the first term always has the full degree so the polynomial has exactly that degree
    while len(chosen) < n_terms:
        k = degree if not chosen else int(rng.choice(sizes))
        if sum(1 for c in chosen if len(c) == k) >= cube_multiplicity(d, k):
            continue
        S = tuple(sorted(rng.choice(d, size=k, replace=False).tolist()))
        if S not in seen:
            seen.add(S)
            chosen.append(S)
    coef = rng.standard_normal(len(chosen))
    coef /= np.linalg.norm(coef)
    f = np.zeros(X.shape[0])
    for a, S in zip(coef, chosen):
        f += a * (np.prod(X[:, list(S)], axis=1) if S else 1.0)
    return f




def cube_sample_degree_projections(K, X, max_degree: int, *, chunk_size: int = 2048) -> DegreeSpectrum:
    r"""Per-degree projections of a Gram matrix on random cube samples (not the full cube).

    Since ``sum_{|S|=k} chi_S(x) chi_S(y) = K_k(j)`` (Krawtchouk polynomial of the Hamming
    distance ``j``), ``E_{x,y}[K(x,y) K_k(j)] / C(d,k) = mu_k``; estimated by the U-statistic
    over pairs ``i != j``. The weights ``K_k(j)/C(d,k) = K_j(k)/C(d,j)`` (Krawtchouk symmetry) come
    from :func:`spectra.analytic.bases.krawtchouk_matrix`.

    Parameters
    ----------
    K : array_like, shape (n, n)
    X : array_like, shape (n, d), entries +-1
    max_degree : int
    chunk_size : int

    Returns
    -------
    DegreeSpectrum
        ``method="krawtchouk"``, degrees ``0..max_degree``; the estimates are in ``mean``.

    Examples
    --------
    >>> X = cube_points(12, 600, seed=0)
    >>> mu = cube_sample_degree_projections(X @ X.T / 12, X, 2).mean   # linear kernel: mu_1 = 1/12
    >>> bool(abs(mu[1] - 1 / 12) < 0.005)
    True
    """
    K, X, n, d = check_gram_and_points(K, X)
    if d <= 62:
        cube_index(X)  # validates the +-1 entries
    elif not np.all(np.abs(X) == 1.0):
        raise ValueError("X must be a cube sample with entries in {-1, +1}")
    max_degree = check_int(max_degree, "max_degree", minimum=0, maximum=d)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    degrees = range(max_degree + 1)
    binom = np.array([float(cube_multiplicity(d, j)) for j in range(d + 1)])
    kr = np.ldexp(krawtchouk_matrix(d, degrees), d) / binom  # kr[k, j] = K_k(j) / C(d, k)
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
    mult = [cube_multiplicity(d, k) for k in degrees]
    return sampled_spectrum("cube", d, out / (n * (n - 1)), mult, n, "krawtchouk")


@dataclass(frozen=True, repr=False)
class Cube(Domain):
    """The boolean cube ``{-1, +1}^dim`` with the uniform measure.

    Degree ``k`` = Walsh monomials ``chi_S`` with ``|S| = k``, multiplicity ``C(d, k)``.

    Examples
    --------
    >>> cube = Cube(3)
    >>> cube, cube.multiplicity(1), cube.sample().shape, Cube(40).sample(5, seed=1).shape
    (Cube(3), 3, (8, 3), (5, 40))
    >>> X = cube.sample()
    >>> cube.degree_spectrum(X @ X.T / 3).mean.round(6).tolist()     # linear kernel: mu_1 = 1/3
    [0.0, 0.333333, 0.0, 0.0]
    """

    name = "cube"

    def multiplicity(self, k: int) -> int:
        """``C(d, k)``, the number of Walsh monomials of degree ``k``."""
        return cube_multiplicity(self.dim, k)

    def sample(self, n=None, *, seed=0) -> np.ndarray:
        """All ``2^d`` points in Hadamard order if ``n`` is None (``d <= 16``), else ``n`` uniform draws.

        See :func:`cube_points`.
        """
        return cube_points(self.dim, n, seed=seed)

    # ------------------------------------------------------------------ basis and targets
    def krawtchouk_matrix(self, degrees=None) -> np.ndarray:
        """``M`` with ``mu = M @ Phi(1 - 2j/d)``: :func:`spectra.analytic.bases.krawtchouk_matrix`."""
        return krawtchouk_matrix(self.dim, degrees)

    def walsh_monomial(self, X, subset) -> np.ndarray:
        """The parity ``chi_S`` on cube points ``X`` (:func:`walsh_monomial`)."""
        return walsh_monomial(self._check_points(X), subset)

    def random_polynomial(self, X, degree: int, *, n_terms: int | None = None, homogeneous: bool = True,
                          seed=0) -> np.ndarray:
        """A random unit-norm polynomial of degree ``degree`` (:func:`random_cube_polynomial`)."""
        return random_cube_polynomial(self._check_points(X), degree, n_terms=n_terms, homogeneous=homogeneous,
                                      seed=seed)

    def degree_energy(self, v, X=None) -> np.ndarray:
        """Per-degree energy fractions of values on the full cube (:func:`~spectra.domains.walsh.walsh_degree_energy`)."""
        return walsh_degree_energy(v, None if X is None else self._check_points(X))

    # ------------------------------------------------------------------ measured spectra
    def degree_spectrum(self, gram, X=None, *, max_degree: int | None = None, kernel=None, blocks: bool = True,
                        eig_max_degree: int | None = None, chunk_size: int = 2048) -> DegreeSpectrum:
        """Project a Gram matrix on cube points onto the degrees.

        The full cube (``X`` None = Hadamard order, or ``X`` holding every point once, any order)
        goes through the Walsh transform (``method="walsh"``,
        :func:`~spectra.domains.walsh.cube_degree_spectrum`); any other sample through the
        Krawtchouk U-statistic (``method="krawtchouk"``, :func:`cube_sample_degree_projections`).

        Parameters
        ----------
        gram : array_like, shape (n, n)
            Gram matrix ``K(x_i, x_j)`` (not divided by ``n``).
        X : array_like, shape (n, dim), optional
            The points; required unless ``gram`` is on the full cube in Hadamard order.
        max_degree : int, optional
            Highest degree reported; default ``dim`` (full cube) or ``min(dim, 8)`` (samples).
        kernel : spectra.analytic.MLPKernel, optional
            Also compute the exact eigenvalues of these degrees (``analytic``, ``ratio``).
        blocks, eig_max_degree
            Full cube: as in :func:`~spectra.domains.walsh.cube_degree_spectrum`.
        chunk_size : int
            Samples: rows processed at once.

        Returns
        -------
        DegreeSpectrum
        """
        K = check_finite_array(gram, "gram", ndim=2)
        n = K.shape[0]
        if K.shape[1] != n:
            raise ValueError(f"gram must be square, got shape {K.shape}")
        X = None if X is None else self._check_points(X)
        if X is not None and X.shape[0] != n:
            raise ValueError(f"X must have {n} rows to match gram, got {X.shape[0]}")
        if X is None or self._is_full_cube(X):
            if n != 1 << min(self.dim, 62):
                raise ValueError(f"gram of shape {K.shape} is not on the full cube of {self!r} (2^{self.dim} points);"
                                 " pass the sample X")
            out = cube_degree_spectrum(K, X, blocks=blocks, eig_max_degree=eig_max_degree)
            if max_degree is not None:
                out = out.truncate(check_int(max_degree, "max_degree", minimum=0, maximum=self.dim))
        else:
            m = min(self.dim, 8) if max_degree is None else max_degree
            out = cube_sample_degree_projections(K, X, m, chunk_size=chunk_size)
        return out if kernel is None else out.with_analytic(self.spectrum(kernel, degrees=out.degrees.tolist()))

    def _is_full_cube(self, X) -> bool:
        if self.dim > 30 or X.shape[0] != 1 << self.dim:
            return False
        try:
            full_cube_order(X, X.shape[0], "gram")
        except ValueError:
            return False
        return True

    # ------------------------------------------------------------------ exact spectra
    def _engine(self):
        return _analytic_cube._spectrum

    def _degree_range(self) -> dict:
        return {"maximum": self.dim}

