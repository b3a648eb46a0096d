r"""The sphere of radius ``sqrt(d)`` (``||x||^2 = d``) with the uniform measure.

Degree ``k`` = spherical harmonics of degree ``k``, multiplicity ``N(d, k)``. By the addition
theorem a kernel ``Phi(<x,y>/d)`` has the Funk-Hecke eigenvalues
``lambda_k = E_{x,y}[Phi(<x,y>/d) P_k(<x,y>/d)]`` with the Gegenbauer polynomial ``P_k``
normalised by ``P_k(1) = 1`` (:mod:`spectra.analytic.bases`; ``spectra.conventions()``), which a
sample estimates by the U-statistic ``(1/(n(n-1))) sum_{i != j} K_ij P_k(t_ij)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import as_generator, check_dim, check_finite_array, check_int
from ..analytic import sphere as _analytic_sphere
from ..analytic.bases import gegenbauer, sphere_multiplicity
from .base import Domain, check_gram_and_points
from .result import DegreeSpectrum, sampled_spectrum

__all__ = ["Sphere", "sample_sphere", "spherical_harmonic_target", "sphere_degree_projections"]

#: Largest number of Gegenbauer values held at once by :func:`sphere_degree_projections` (256 MB).
_MAX_BLOCK = 1 << 25


def sample_sphere(dim: int, n: int, *, seed=0) -> np.ndarray:
    """``n`` uniform points on the sphere of radius ``sqrt(dim)``, shape ``(n, dim)``.

    Examples
    --------
    >>> X = sample_sphere(5, 3, seed=0)
    >>> np.allclose((X ** 2).sum(1), 5.0)
    True
    """
    dim = check_dim(dim)
    n = check_int(n, "n", minimum=1)
    g = as_generator(seed).standard_normal((n, dim))
    norms = np.linalg.norm(g, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # probability zero; avoids a division by zero
    return g * (math.sqrt(dim) / norms)


def spherical_harmonic_target(X, degree: int, *, n_terms: int = 1, seed=0) -> np.ndarray:
    r"""A random degree-``k`` spherical harmonic on points of the sphere of radius ``sqrt(d)``.

    ``f(x) = sqrt(N(d, k) / n_terms) * sum_j s_j P_k(<x, z_j>/d)`` with ``z_j`` uniform on the
    same sphere, random signs ``s_j`` and ``P_k`` the Gegenbauer polynomial with ``P_k(1) = 1``.
    Each term has ``E_x P_k^2 = 1/N(d, k)``, so a single term has unit mean square; ``f`` lies
    exactly in the degree-``k`` eigenspace of every dot-product kernel.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Points with ``||x||^2 = d`` (other norms are evaluated with ``<x, z>/d`` as is).
    degree : int
    n_terms : int
    seed : int or numpy.random.Generator

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> X = sample_sphere(3, 20000, seed=1)
    >>> f = spherical_harmonic_target(X, 2, seed=0)
    >>> abs(float(np.mean(f ** 2)) - 1.0) < 0.05
    True
    """
    X = check_finite_array(X, "X", ndim=2)
    d = check_dim(X.shape[1], "X.shape[1]", minimum=2)
    degree = check_int(degree, "degree", minimum=0)
    n_terms = check_int(n_terms, "n_terms", minimum=1)
    rng = as_generator(seed)
    Z = sample_sphere(d, n_terms, seed=rng)
    signs = rng.choice([-1.0, 1.0], size=n_terms)
    T = np.clip(X @ Z.T / d, -1.0, 1.0)
    f = gegenbauer(d, degree, T)[degree] @ signs
    return f * math.sqrt(sphere_multiplicity(d, degree) / n_terms)


def sphere_degree_projections(K, X, max_degree: int, *, exclude_diagonal: bool = True,
                              chunk_size: int = 2048) -> DegreeSpectrum:
    r"""Per-degree Gegenbauer projections of a Gram matrix on sphere samples.

    Estimates the Funk-Hecke eigenvalues ``lambda_k = E_{x,y}[K(x,y) P_k(<x,y>/d)]`` (uniform
    probability measure) by ``(1/(n(n-1))) sum_{i != j} K_ij P_k(t_ij)`` (or ``1/n^2`` and all
    pairs if ``exclude_diagonal=False``, which adds a bias ``~ K(x,x)/n``), with
    ``t_ij = <x_i,x_j>/d``.

    Parameters
    ----------
    K : array_like, shape (n, n)
    X : array_like, shape (n, d)
        Points on the sphere of radius ``sqrt(d)``, ``d >= 2``.
    max_degree : int
    exclude_diagonal : bool
    chunk_size : int
        Rows processed at once (fewer if the ``max_degree + 1`` Gegenbauer values of a chunk
        would exceed 2^25 numbers).

    Returns
    -------
    DegreeSpectrum
        ``method="gegenbauer"`` (``"gegenbauer-all-pairs"`` with the diagonal), degrees
        ``0..max_degree``; the estimates are in ``mean``.

    Examples
    --------
    >>> X = sample_sphere(3, 400, seed=0)
    >>> lam = sphere_degree_projections(X @ X.T / 3, X, 2).mean   # linear kernel: lambda_1 = 1/3
    >>> bool(abs(lam[1] - 1 / 3) < 0.02)
    True
    """
    K, X, n, d = check_gram_and_points(K, X)
    d = check_dim(d, "X.shape[1]", minimum=2)
    max_degree = check_int(max_degree, "max_degree", minimum=0)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    rows = min(chunk_size, max(1, _MAX_BLOCK // ((max_degree + 1) * n)))
    out = np.zeros(max_degree + 1)
    for s in range(0, n, rows):
        sl = slice(s, min(s + rows, n))
        T = np.clip(X[sl] @ X.T / d, -1.0, 1.0)
        Kb = np.array(K[sl], dtype=np.float64)
        if exclude_diagonal:
            r = np.arange(sl.start, sl.stop)
            Kb[r - sl.start, r] = 0.0
        P = gegenbauer(d, max_degree, T)
        for k in range(max_degree + 1):
            out[k] += np.sum(Kb * P[k])
    mean = out / (n * (n - 1) if exclude_diagonal else n * n)
    mult = [sphere_multiplicity(d, k) for k in range(max_degree + 1)]
    method = "gegenbauer" if exclude_diagonal else "gegenbauer-all-pairs"
    return sampled_spectrum("sphere", d, mean, mult, n, method)


@dataclass(frozen=True, repr=False)
class Sphere(Domain):
    """The sphere of radius ``sqrt(dim)`` in ``R^dim`` (``dim >= 2``), uniform measure.

    Degree ``k`` = spherical harmonics of degree ``k``, multiplicity ``N(d, k)``.

    Examples
    --------
    >>> sphere = Sphere(3)
    >>> sphere, [sphere.multiplicity(k) for k in range(4)], sphere.sample(5, seed=0).shape
    (Sphere(3), [1, 3, 5, 7], (5, 3))
    >>> X = sphere.sample(400, seed=0)
    >>> s = sphere.degree_spectrum(X @ X.T / 3, X, max_degree=2)   # linear kernel: lambda_1 = 1/3
    >>> s.method, bool(abs(s.mean[1] - 1 / 3) < 0.02)
    ('gegenbauer', True)
    """

    name = "sphere"
    min_dim = 2

    def multiplicity(self, k: int) -> int:
        """``N(d, k)``, the dimension of the degree-``k`` spherical harmonics."""
        return sphere_multiplicity(self.dim, k)

    def sample(self, n=None, *, seed=0) -> np.ndarray:
        """``n`` uniform points on the sphere of radius ``sqrt(dim)`` (:func:`sample_sphere`)."""
        return sample_sphere(self.dim, self._require_n(n), seed=seed)

    # ------------------------------------------------------------------ basis and targets
    def gegenbauer(self, max_degree: int, t) -> np.ndarray:
        """``P_k(t)`` for ``k = 0..max_degree``: :func:`spectra.analytic.bases.gegenbauer`."""
        return gegenbauer(self.dim, max_degree, t)

    def harmonic_target(self, X, degree: int, *, n_terms: int = 1, seed=0) -> np.ndarray:
        """A random unit-mean-square harmonic of degree ``degree`` (:func:`spherical_harmonic_target`)."""
        return spherical_harmonic_target(self._check_points(X), degree, n_terms=n_terms, seed=seed)

    # ------------------------------------------------------------------ measured spectra
    def degree_spectrum(self, gram, X=None, *, max_degree: int | None = None, kernel=None,
                        exclude_diagonal: bool = True, chunk_size: int = 2048) -> DegreeSpectrum:
        """Project a Gram matrix on sphere samples ``X`` onto the degrees (Gegenbauer U-statistic).

        Parameters
        ----------
        gram : array_like, shape (n, n)
        X : array_like, shape (n, dim)
            The points (required).
        max_degree : int, optional
            Highest degree; default ``min(dim, 8)``.
        kernel : spectra.analytic.MLPKernel, optional
            Also compute the exact eigenvalues of these degrees (``analytic``, ``ratio``).
        exclude_diagonal, chunk_size
            As in :func:`sphere_degree_projections`.

        Returns
        -------
        DegreeSpectrum
        """
        if X is None:
            raise ValueError(f"X (the sample points) is required to project a Gram matrix on {self!r}")
        X = self._check_points(X)
        m = min(self.dim, 8) if max_degree is None else max_degree
        out = sphere_degree_projections(gram, X, m, exclude_diagonal=exclude_diagonal, chunk_size=chunk_size)
        return out if kernel is None else out.with_analytic(self.spectrum(kernel, max_degree=int(out.degrees[-1])))

    # ------------------------------------------------------------------ exact spectra
    def _engine(self):
        return _analytic_sphere._spectrum

