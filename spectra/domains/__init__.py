"""Input domains: the concept shared by the exact theory and the finite-width experiments.

:class:`Cube`, :class:`Sphere` and :class:`Gaussian` (immutable, validated once) each own their
multiplicities and eigenbasis (Walsh/FWHT and Krawtchouk; Gegenbauer and spherical harmonics;
radial blocks), a seeded sampler, their targets, the projection of a measured Gram matrix onto
their degrees (:class:`DegreeSpectrum`) and ``spectrum(kernel)``, the exact eigenvalues from
:mod:`spectra.analytic`.

Read in this order: ``base`` (the interface) -> ``cube`` and ``walsh`` -> ``sphere`` ->
``gaussian`` -> ``result`` (:class:`DegreeSpectrum`) -> ``registry`` (domains by name).

Examples
--------
>>> X = Cube(10).sample()
>>> type(Cube(10).degree_spectrum(X @ X.T)) is type(Sphere(10).degree_spectrum(X @ X.T, X))
True
"""
from .base import Domain
from .cube import FULL_CUBE_MAX_DIM, Cube, cube_points, cube_sample_degree_projections, random_cube_polynomial, \
    walsh_monomial
from .gaussian import Gaussian, sample_gaussian
from .registry import DOMAINS, get_domain, sample_inputs
from .result import DegreeSpectrum, MatchedSpectrum, matched_eigenvalues
from .sphere import Sphere, sample_sphere, sphere_degree_projections, spherical_harmonic_target
from .walsh import cube_degree_spectrum, cube_index, fwht, subset_degrees, walsh_coefficients, walsh_degree_energy

__all__ = [
    # the nouns
    "Domain", "Cube", "Sphere", "Gaussian", "DegreeSpectrum", "get_domain", "DOMAINS",
    # samplers and targets
    "cube_points", "sample_sphere", "sample_gaussian", "sample_inputs", "FULL_CUBE_MAX_DIM",
    "walsh_monomial", "random_cube_polynomial", "spherical_harmonic_target",
    # bases and projections
    "fwht", "cube_index", "subset_degrees", "walsh_coefficients", "walsh_degree_energy", "cube_degree_spectrum",
    "cube_sample_degree_projections", "sphere_degree_projections", "matched_eigenvalues", "MatchedSpectrum",
]
