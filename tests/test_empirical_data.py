"""Samplers and targets (spectra.domains, re-exported by spectra.empirical)."""
import numpy as np
import pytest

from spectra.empirical import (cube_points, random_cube_polynomial, sample_gaussian, sample_inputs, sample_sphere,
                               spherical_harmonic_target, sphere_degree_projections, teacher_target,
                               walsh_degree_energy)


def test_cube_enumeration_and_sampling():
    X = cube_points(5)
    assert X.shape == (32, 5) and np.unique(X, axis=0).shape[0] == 32
    assert X[0].tolist() == [1.0] * 5 and X[1].tolist() == [-1.0, 1, 1, 1, 1]
    Y = cube_points(20, 100, seed=3)
    assert Y.shape == (100, 20) and set(np.unique(Y)) == {-1.0, 1.0}
    assert np.array_equal(Y, cube_points(20, 100, seed=3)) and not np.array_equal(Y, cube_points(20, 100, seed=4))
    with pytest.raises(ValueError, match="dim must be <= 16"):
        cube_points(17)


def test_sphere_and_gaussian():
    X = sample_sphere(7, 5000, seed=0)
    assert np.allclose(np.sum(X ** 2, 1), 7.0)
    assert np.abs(X.mean(0)).max() < 0.1 and abs(np.mean(X ** 2) - 1) < 0.05
    G = sample_gaussian(3, 20000, seed=1)
    assert abs(G.var() - 1) < 0.03
    assert sample_inputs("sphere", 4, 3, seed=2).shape == (3, 4)
    with pytest.raises(ValueError, match="domain"):
        sample_inputs("torus", 3, 4)
    with pytest.raises(ValueError, match="n"):
        sample_inputs("gaussian", 3)


def test_cube_polynomial_degrees():
    X = cube_points(8)
    e = walsh_degree_energy(random_cube_polynomial(X, 3, n_terms=5, homogeneous=False, seed=1))
    assert e[3] > 0 and np.all(e[4:] == 0) and np.isclose(e.sum(), 1)
    f = random_cube_polynomial(X, 2, seed=0)
    assert np.isclose(np.mean(f ** 2), 1.0)
    with pytest.raises(ValueError, match="degree"):
        random_cube_polynomial(X, 9)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_spherical_harmonic_target_is_pure_degree(k):
    d, n = 5, 1200
    X = sample_sphere(d, n, seed=1)
    f = spherical_harmonic_target(X, k, n_terms=3, seed=2)
    # sum_j (1/n^2) sum_il f_i f_l P_j(t_il) estimates ||proj_j f||^2 / N(d, j): only j = k survives
    lam = sphere_degree_projections(np.outer(f, f), X, 4).mean
    others = np.delete(np.abs(lam), k)
    assert lam[k] > 20 * others.max()


def test_teacher_is_seeded():
    X = cube_points(4)
    a = teacher_target(X, width=16, depth=2, activation="tanh", seed=1)
    assert a.shape == (16,) and np.array_equal(a, teacher_target(X, width=16, depth=2, activation="tanh", seed=1))
