r"""Seeded input samplers and regression targets for finite-width experiments.

Domains (conventions of ``formulas.md`` §1):

* **cube** ``{-1, +1}^d`` with the uniform measure.  For ``d <= 16`` the full cube is
  enumerated in the *Hadamard order*: row ``i`` has ``x_j = (-1)^{bit_j(i)}`` (bit 0 = least
  significant), so the Walsh monomial of the subset with bitmask ``S`` evaluated at row ``i``
  is ``(-1)^{popcount(i & S)}`` -- exactly entry ``(i, S)`` of the Sylvester-Hadamard matrix,
  which is what :func:`spectra.empirical.projections.fwht` applies.
* **sphere** of radius ``sqrt(d)`` (``||x||^2 = d``), uniform measure.
* **gaussian** ``N(0, I_d)``.

Targets: Walsh monomials (parities) ``chi_S``, random cube polynomials of a chosen degree,
degree-``k`` spherical-harmonic targets ``sum_j a_j P_k(<x, z_j>/d)``, and teacher networks.
Every random object takes an explicit ``seed``.
"""
from __future__ import annotations

import math

import numpy as np

from .._validation import check_dim, check_finite_array, check_int

__all__ = [
    "FULL_CUBE_MAX_DIM",
    "cube_points",
    "sample_sphere",
    "sample_gaussian",
    "sample_inputs",
    "cube_index",
    "walsh_monomial",
    "random_cube_polynomial",
    "spherical_harmonic_target",
    "teacher_target",
]

#: Largest dimension for which :func:`cube_points` enumerates the full cube by default.
FULL_CUBE_MAX_DIM = 16


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int(seed, "seed", minimum=0))


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
    rng = _rng(seed)
    return 1.0 - 2.0 * rng.integers(0, 2, size=(n, dim)).astype(np.float64)


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
    g = _rng(seed).standard_normal((n, dim))
    norms = np.linalg.norm(g, axis=1, keepdims=True)
    norms[norms == 0] = 1.0  # probability zero; avoids a division by zero
    return g * (math.sqrt(dim) / norms)


def sample_gaussian(dim: int, n: int, *, seed=0) -> np.ndarray:
    """``n`` points of ``N(0, I_dim)``, shape ``(n, dim)``.

    Examples
    --------
    >>> sample_gaussian(4, 2, seed=0).shape
    (2, 4)
    """
    dim = check_dim(dim)
    n = check_int(n, "n", minimum=1)
    return _rng(seed).standard_normal((n, dim))


def sample_inputs(domain: str, dim: int, n: int | None = None, *, seed=0) -> np.ndarray:
    """Dispatch to :func:`cube_points`, :func:`sample_sphere` or :func:`sample_gaussian`.

    ``n=None`` is allowed only for the cube (full enumeration).

    Examples
    --------
    >>> sample_inputs("cube", 3).shape
    (8, 3)
    """
    if not isinstance(domain, str) or domain.lower() not in ("cube", "sphere", "gaussian"):
        raise ValueError(f"domain must be one of 'cube', 'sphere', 'gaussian', got {domain!r}")
    domain = domain.lower()
    if domain == "cube":
        return cube_points(dim, n, seed=seed)
    if n is None:
        raise ValueError(f"n (number of points) is required for domain {domain!r}")
    if domain == "sphere":
        return sample_sphere(dim, n, seed=seed)
    return sample_gaussian(dim, n, seed=seed)


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


def _subset_mask(subset, dim: int) -> np.ndarray:
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
    s = _subset_mask(subset, X.shape[1])
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
    seed : int

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
    rng = _rng(seed)
    sizes = [degree] if homogeneous else list(range(degree + 1))
    available = sum(math.comb(d, k) for k in sizes)
    if n_terms is None:
        n_terms = min(math.comb(d, degree), 8) if homogeneous else min(available, 8)
    n_terms = min(check_int(n_terms, "n_terms", minimum=1), available)
    chosen: list[tuple] = []
    seen = set()
    # the first term always has the full degree so the polynomial has exactly that degree
    while len(chosen) < n_terms:
        k = degree if not chosen else int(rng.choice(sizes))
        if sum(1 for c in chosen if len(c) == k) >= math.comb(d, k):
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
    seed : int

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
    from .projections import gegenbauer, harmonic_multiplicity

    X = check_finite_array(X, "X", ndim=2)
    d = X.shape[1]
    degree = check_int(degree, "degree", minimum=0)
    n_terms = check_int(n_terms, "n_terms", minimum=1)
    rng = _rng(seed)
    Z = sample_sphere(d, n_terms, seed=rng)
    signs = rng.choice([-1.0, 1.0], size=n_terms)
    T = np.clip(X @ Z.T / d, -1.0, 1.0)
    f = gegenbauer(degree, d, T) @ signs
    return f * math.sqrt(harmonic_multiplicity(d, degree) / n_terms)


def teacher_target(X, width: int = 64, depth: int = 1, activation="relu", weight_var=2.0, bias_var=0.0,
                   *, seed=0) -> np.ndarray:
    """Output of a random teacher network (an :class:`~spectra.empirical.network.MLP`).

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> teacher_target(cube_points(4), width=8, seed=0).shape
    (16,)
    """
    from .network import MLP

    X = check_finite_array(X, "X", ndim=2)
    net = MLP(X.shape[1], width, depth, activation, weight_var, bias_var, seed=seed)
    return net(X)[:, 0]
