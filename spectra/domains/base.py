"""The :class:`Domain` interface shared by :class:`~spectra.domains.Cube`, ``Sphere`` and ``Gaussian``.

A domain is the concept shared by theory and experiment: an input distribution, the
multiplicities of its kernel eigenspaces, a seeded sampler, its natural targets, the projection
of a measured Gram matrix onto its degrees, and ``spectrum(kernel)``, the exact infinite-width
eigenvalues of an MLP kernel on it (:mod:`spectra.analytic`). Domains are immutable and
validated once, when built.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._validation import check_dim, check_finite_array

__all__ = ["Domain"]



@dataclass(frozen=True)
class Domain(ABC):
    """An input domain of dimension ``dim`` (abstract).

    Subclasses set ``name`` and ``min_dim`` and implement :meth:`multiplicity`, :meth:`sample`,
    :meth:`degree_spectrum` and :meth:`_spectrum_function`.
    """

    dim: int
    name: ClassVar[str] = "domain"
    min_dim: ClassVar[int] = 1

    def __post_init__(self):
        object.__setattr__(self, "dim", check_dim(self.dim, minimum=self.min_dim))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dim})"

    # ------------------------------------------------------------------ the eigenspaces
    @abstractmethod
    def multiplicity(self, k: int) -> int:
        """Dimension of the degree-``k`` eigenspace of every kernel of ``<x, y>`` (exact int)."""

    def multiplicities(self, degrees) -> np.ndarray:
        """:meth:`multiplicity` of each degree; int64, or object dtype beyond int64.

        Examples
        --------
        >>> from spectra.domains import Cube
        >>> Cube(4).multiplicities(range(5)).tolist()
        [1, 4, 6, 4, 1]
        """
        return np.array([self.multiplicity(int(k)) for k in degrees])

    # ------------------------------------------------------------------ sampling and data
    @abstractmethod
    def sample(self, n=None, *, seed=0) -> np.ndarray:
        """``n`` seeded points of the domain, shape ``(n, dim)``."""

    def _require_n(self, n) -> int:
        """The number of points a random sampler needs (only the full cube can be listed)."""
        if n is None:
            raise ValueError(f"n (number of points) is required for {self!r}")
        return n

    def _check_points(self, X, name: str = "X") -> np.ndarray:
        X = check_finite_array(X, name, ndim=2)
        if X.shape[1] != self.dim:
            raise ValueError(f"{name} must have {self.dim} columns to lie in {self!r}, got shape {X.shape}")
        return X

    # ------------------------------------------------------------------ measured spectra
    @abstractmethod
    def degree_spectrum(self, gram, X=None, **options):
        """Project a measured Gram matrix on points of the domain onto its degrees (a ``DegreeSpectrum``)."""

    # ------------------------------------------------------------------ exact spectra
    @abstractmethod
    def _engine(self):
        """The :mod:`spectra.analytic` engine ``_spectrum(kernel, d, degrees, rtol, precision)`` of this domain."""

    def _degree_range(self) -> dict:
        """Keyword arguments of :func:`spectra.analytic.spectrum.parse_degrees` for this domain."""
        from ..analytic.spectrum import DEFAULT_MAX_DEGREE

        return {"default_max": DEFAULT_MAX_DEGREE}

    def spectrum(self, kernel, degrees=None, max_degree=None, rtol: float = 1e-12, precision="auto", *,
                 strict: bool = False):
        """Exact eigenvalues of an MLP kernel on this domain, one per degree.

        The kernel was validated when it was built; only the call's own options are checked here.

        Parameters
        ----------
        kernel : spectra.analytic.MLPKernel
        degrees : sequence of int, optional
            The degrees to compute; default ``0..max_degree``.
        max_degree : int, optional
            Highest degree when ``degrees`` is not given (default: every degree on the cube, 20 elsewhere).
        rtol : float
            Requested relative accuracy.
        precision : "auto", "float64" or int
            As in :func:`spectra.analytic.cube_spectrum`.
        strict : bool
            Raise ``AccuracyError`` instead of emitting an ``AccuracyWarning`` when a bound exceeds ``rtol``.

        Returns
        -------
        spectra.analytic.Spectrum

        Examples
        --------
        >>> from spectra import MLPKernel, Sphere
        >>> Sphere(10).spectrum(MLPKernel("relu", depth=2), max_degree=3).degrees.tolist()
        [0, 1, 2, 3]
        """
        from .._validation import check_rtol
        from ..analytic import MLPKernel
        from ..analytic.accuracy import check_accuracy
        from ..analytic.spectrum import check_precision, parse_degrees

        if not isinstance(kernel, MLPKernel):
            raise TypeError(f"kernel must be a spectra.analytic.MLPKernel, got {type(kernel).__name__}")
        degs = parse_degrees(degrees, max_degree, **self._degree_range())
        rtol = check_rtol(rtol)
        spec = self._engine()(kernel, self.dim, degs, rtol, check_precision(precision))
        return check_accuracy(spec, rtol, strict=strict)


def check_gram_and_points(K, X, *, min_points: int = 2):
    """``(K, X, n, d)`` for a Gram matrix ``K`` (n, n) measured on points ``X`` (n, d); clear errors otherwise."""
    K = check_finite_array(K, "K", ndim=2)
    X = check_finite_array(X, "X", ndim=2)
    n, d = X.shape
    if K.shape != (n, n):
        raise ValueError(f"K must have shape ({n}, {n}) to match X, got {K.shape}")
    if n < min_points:
        raise ValueError(f"X must have at least {min_points} points, got {n}")
    return K, X, n, d
