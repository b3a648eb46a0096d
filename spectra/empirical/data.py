"""Regression targets that need a network, and the domain samplers under their historical import path.

The samplers and the domain targets live in :mod:`spectra.domains` (with :class:`~spectra.domains.Cube`,
:class:`~spectra.domains.Sphere` and :class:`~spectra.domains.Gaussian`); they are re-exported here so
that ``from spectra.empirical.data import cube_points`` keeps working. Only :func:`teacher_target`,
which draws an :class:`~spectra.empirical.network.MLP`, is defined here.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_finite_array
from ..domains import (FULL_CUBE_MAX_DIM, cube_index, cube_points, random_cube_polynomial, sample_gaussian,
                       sample_inputs, sample_sphere, spherical_harmonic_target, walsh_monomial)

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
