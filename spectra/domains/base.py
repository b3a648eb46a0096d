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

_KERNEL_FIELDS = ("activation", "depth", "weight_var", "bias_var", "kind")


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
    def _spectrum_function(self):
        """The :mod:`spectra.analytic` engine of this domain (``cube_spectrum`` ...)."""

    def spectrum(self, kernel, degrees=None, max_degree=None, rtol: float = 1e-12, precision="auto"):
        """Exact eigenvalues of an MLP kernel on this domain, one per degree.

        Parameters
        ----------
        kernel : spectra.analytic.MLPKernel
            Any object with ``activation``, ``depth``, ``weight_var``, ``bias_var`` and ``kind``.
        degrees : sequence of int, optional
            The degrees to compute; default ``0..max_degree``.
        max_degree : int, optional
            Highest degree when ``degrees`` is not given (the engine's default if None).
        rtol : float
            Requested relative accuracy.
        precision : "auto", "float64" or int
            As in :func:`spectra.analytic.cube_spectrum`.

        Returns
        -------
        spectra.analytic.Spectrum

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> from spectra.domains import Sphere
        >>> k = SimpleNamespace(activation="relu", depth=2, weight_var=2.0, bias_var=0.0, kind="ntk")
        >>> Sphere(10).spectrum(k, max_degree=3).degrees.tolist()
        [0, 1, 2, 3]
        """
        args = _kernel_arguments(kernel)
        options = {"degrees": degrees, "rtol": rtol, "precision": precision}
        if max_degree is not None:
            options["max_degree"] = max_degree
        return self._spectrum_function()(self.dim, *args[:4], kernel=args[4], **options)


def _kernel_arguments(kernel) -> tuple:
    """``(activation, depth, weight_var, bias_var, kind)`` of a kernel object, or a clear TypeError."""
    missing = [f for f in _KERNEL_FIELDS if not hasattr(kernel, f)]
    if missing:
        raise TypeError(f"kernel must be a spectra.analytic.MLPKernel (an object with {', '.join(_KERNEL_FIELDS)}), "
                        f"got {type(kernel).__name__} without {', '.join(missing)}")
    return tuple(getattr(kernel, f) for f in _KERNEL_FIELDS)
