r"""Isotropic Gaussian inputs ``x ~ N(0, I_d)``.

``L^2`` splits into blocks (radial functions) x (degree-``k`` spherical harmonics, multiplicity
``N(d, k)``); :func:`spectra.analytic.gaussian_spectrum` gives the top eigenvalue of each block.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_generator, check_dim, check_int
from ..analytic import gaussian as _analytic_gaussian
from ..analytic.bases import sphere_multiplicity
from .base import Domain

__all__ = ["Gaussian", "sample_gaussian"]


def sample_gaussian(dim: int, n: int, *, seed=0) -> np.ndarray:
    """``n`` points of ``N(0, I_dim)``, shape ``(n, dim)``.

    Examples
    --------
    >>> sample_gaussian(4, 2, seed=0).shape
    (2, 4)
    """
    dim = check_dim(dim)
    n = check_int(n, "n", minimum=1)
    return as_generator(seed).standard_normal((n, dim))


@dataclass(frozen=True, repr=False)
class Gaussian(Domain):
    """Inputs ``x ~ N(0, I_dim)`` (``dim >= 2``).

    Degree ``k`` = radial functions times degree-``k`` spherical harmonics; each radial eigenvalue
    of block ``k`` has multiplicity ``N(d, k)``.

    Examples
    --------
    >>> g = Gaussian(4)
    >>> g, g.multiplicity(2), g.sample(3, seed=0).shape
    (Gaussian(4), 9, (3, 4))
    """

    name = "gaussian"
    min_dim = 2

    def multiplicity(self, k: int) -> int:
        """``N(d, k)``: the multiplicity of each radial eigenvalue of degree ``k``."""
        return sphere_multiplicity(self.dim, k)

    def sample(self, n=None, *, seed=0) -> np.ndarray:
        """``n`` points of ``N(0, I_dim)`` (:func:`sample_gaussian`)."""
        return sample_gaussian(self.dim, self._require_n(n), seed=seed)

    def degree_spectrum(self, gram, X=None, **options):
        """Not available: a sample does not separate the radial eigenvalues of a degree block.

        The pairwise projection ``E[K(x,y) P_k(<x^,y^>)]`` measures ``<1, R_k 1>`` of the radial
        kernel ``R_k``, not its top eigenvalue; project on the sphere (:class:`Sphere`) instead.
        """
        raise NotImplementedError("degree_spectrum is not defined for Gaussian inputs (the radial eigenvalues of a "
                                  "degree block are not separated by a pairwise projection); use Sphere(dim)")

    def _engine(self):
        return _analytic_gaussian._spectrum

