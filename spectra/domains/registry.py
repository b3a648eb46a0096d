"""Domains by name: ``"cube"``, ``"sphere"``, ``"gaussian"`` (for the CLI, sweeps and configs)."""
from __future__ import annotations

import numpy as np

from .base import Domain
from .cube import Cube, cube_points
from .gaussian import Gaussian, sample_gaussian
from .sphere import Sphere, sample_sphere

__all__ = ["DOMAINS", "get_domain", "sample_inputs"]

#: The domain classes by name.
DOMAINS = {"cube": Cube, "sphere": Sphere, "gaussian": Gaussian}


def get_domain(name: str, dim: int) -> Domain:
    """The domain called ``name`` (case-insensitive) in dimension ``dim``.

    Examples
    --------
    >>> get_domain("Sphere", 10)
    Sphere(10)
    """
    if not isinstance(name, str) or name.lower() not in DOMAINS:
        raise ValueError(f"domain must be one of 'cube', 'sphere', 'gaussian', got {name!r}")
    return DOMAINS[name.lower()](dim)


def sample_inputs(domain: str, dim: int, n: int | None = None, *, seed=0) -> np.ndarray:
    """Points of the named domain, like ``get_domain(domain, dim).sample(n, seed=seed)``.

    ``n=None`` is allowed only for the cube (full enumeration). Calls the module-level samplers, which
    (unlike the classes) also accept ``dim = 1`` for the sphere and the Gaussian.

    Examples
    --------
    >>> sample_inputs("cube", 3).shape
    (8, 3)
    """
    if not isinstance(domain, str) or domain.lower() not in DOMAINS:
        raise ValueError(f"domain must be one of 'cube', 'sphere', 'gaussian', got {domain!r}")
    domain = domain.lower()
    if domain != "cube" and n is None:
        raise ValueError(f"n (number of points) is required for domain {domain!r}")
    if domain == "cube":
        return cube_points(dim, n, seed=seed)
    return (sample_sphere if domain == "sphere" else sample_gaussian)(dim, n, seed=seed)
