"""Metrics on matrices with known answers."""
import math

import numpy as np
import pytest

from spectra.domains import cube_points, walsh_degree_energy, walsh_monomial
from spectra.empirical.metrics import (
    alignment_curve, degree_spectrum, energy_curve, kernel_alignment, kernel_specialization_matrix,
    relative_kernel_change, sharpness, sharpness_curve, top_k_energy)


def _orthobasis(n, seed=0):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return Q


def test_alignment_spectral_form_and_limits():
    n = 7
    Q = _orthobasis(n)
    lam = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.2, 0.1])
    K = Q @ np.diag(lam) @ Q.T
    y = np.random.default_rng(1).standard_normal(n)
    c = Q.T @ y
    expected = np.sum(lam * c**2) / (np.dot(y, y) * np.sqrt(np.sum(lam**2)))  # §2.1 spectral form
    assert kernel_alignment(K, y) == pytest.approx(expected, rel=1e-12)
    assert kernel_alignment(np.outer(y, y), y) == pytest.approx(1.0)
    assert kernel_alignment(np.eye(n), y) == pytest.approx(1 / math.sqrt(n))
    assert kernel_alignment(2.5 * K, y) == pytest.approx(expected)  # scale-free


def test_centered_alignment():
    n = 6
    y = np.array([1.0, 1, 1, -1, -1, -1]) + 3.0  # big mean: centering removes it
    ones = np.ones((n, n))
    yc = y - y.mean()
    # constant kernel: uncentered alignment 1/ sqrt(...) large, centered kernel is zero -> 0
    assert kernel_alignment(ones, y) == pytest.approx(18.0**2 / (6 * 60))  # (sum y)^2 / (n |y|^2)
    assert kernel_alignment(ones, y, centered=True) == 0.0
    K = np.outer(yc, yc) + 5 * ones
    assert kernel_alignment(K, y, centered=True) == pytest.approx(1.0)
    H = np.eye(n) - ones / n
    K2 = np.diag(np.arange(1.0, n + 1))
    Kc = H @ K2 @ H
    ref = yc @ Kc @ yc / (np.linalg.norm(Kc) * yc @ yc)
    assert kernel_alignment(K2, y, centered=True) == pytest.approx(ref)
    # matrix targets: <K, YY^T> / (|K| |YY^T|)
    Y = np.eye(n)[:, :2]
    assert kernel_alignment(Y @ Y.T, Y) == pytest.approx(1.0)
    np.testing.assert_allclose(alignment_curve(np.stack([np.eye(n), np.outer(y, y)]), y),
                               [y.sum() ** 0 * (y @ y) / (math.sqrt(n) * y @ y), 1.0])


def test_top_k_energy_known_basis():
    n = 5
    Q = _orthobasis(n, 3)
    K = Q @ np.diag([9.0, 7, 5, 3, 1]) @ Q.T
    coef = np.array([1.0, 2.0, 0.0, 2.0, 4.0])
    v = Q @ coef
    expected = np.cumsum(coef**2) / np.sum(coef**2)
    np.testing.assert_allclose(top_k_energy(K, v), expected, atol=1e-12)
    assert top_k_energy(K, v, k=2) == pytest.approx(5 / 25)
    np.testing.assert_allclose(top_k_energy(K, np.stack([v, Q[:, 0]], 1))[:, 1], np.ones(n), atol=1e-12)
    assert top_k_energy(K, np.zeros(n), k=1) == 0.0
    # over time: kernel whose top eigenvector rotates onto v
    Ks = np.stack([np.diag([2.0, 1.0]), np.diag([1.0, 2.0])])
    np.testing.assert_allclose(energy_curve(Ks, np.array([0.0, 1.0]), 1), [0.0, 1.0])
    np.testing.assert_allclose(energy_curve(Ks, np.array([[1.0, 0.0], [1.0, 1.0]]), 1), [1.0, 0.5])
    with pytest.raises(ValueError, match="k must be"):
        top_k_energy(K, v, k=6)


def test_degree_energy_on_cube():
    X = cube_points(4)
    v = 3 * walsh_monomial(X, [0]) + 4 * walsh_monomial(X, [1, 2, 3])
    np.testing.assert_allclose(walsh_degree_energy(v, X), [0, 9 / 25, 0, 16 / 25, 0], atol=1e-12)


def test_degree_spectrum_of_exact_kernel_matches_analytic():
    from spectra.analytic import mlp_kernel

    d = 5
    X = cube_points(d)
    C = X @ X.T / d
    K = mlp_kernel(C, "relu", 2, 2.0, 0.1, kernel="ntk")  # the infinite-width Gram itself
    out = degree_spectrum(K, X, "cube", activation="relu", depth=2, weight_var=2.0, bias_var=0.1)
    np.testing.assert_allclose(out.mean, out.analytic, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out.ratio[out.analytic > 1e-8], 1.0, rtol=1e-8)
    with pytest.raises(ValueError, match="give all of"):
        degree_spectrum(K, X, "cube", activation="relu")
    with pytest.raises(ValueError, match="domain"):
        degree_spectrum(K, X, "torus")


def test_degree_spectrum_with_a_kernel_object():
    from spectra.analytic import MLPKernel, mlp_kernel
    from spectra.domains import Cube, sample_sphere

    d = 5
    X = cube_points(d)
    K = mlp_kernel(X @ X.T / d, "relu", 2, 2.0, 0.1, kernel="ntk")
    k = MLPKernel("relu", 2, 2.0, 0.1)
    a = degree_spectrum(K, X, "cube", kernel=k)
    b = degree_spectrum(K, X, "cube", activation="relu", depth=2, weight_var=2.0, bias_var=0.1)
    assert np.array_equal(a.analytic, b.analytic) and np.array_equal(a.mean, b.mean)
    assert np.array_equal(a.mean, Cube(d).degree_spectrum(K, X).mean)
    with pytest.raises(ValueError, match="not both"):
        degree_spectrum(K, X, "cube", kernel=k, depth=2)
    Y = sample_sphere(d, 200, seed=0)
    s = degree_spectrum(mlp_kernel(np.clip(Y @ Y.T / d, -1, 1), "relu", 2, 2.0, 0.1, kernel="ntk"), Y, "sphere",
                        kernel=k, max_degree=3)
    assert type(s) is type(a) and s.method == "gegenbauer" and s.analytic.shape == (4,)


def test_sharpness():
    K = np.diag([8.0, 2.0, 1.0, 1.0])
    assert sharpness(K, 0.5) == pytest.approx(1.0)  # 0.5 * 8 / 4
    lam, s = sharpness_curve(np.stack([K, 2 * K]), [0.5, 0.25])
    np.testing.assert_allclose(lam, [2.0, 4.0])
    np.testing.assert_allclose(s, [1.0, 1.0])
    with pytest.raises(ValueError, match="lr must be"):
        sharpness(K, 0.0)


def test_ksm_symmetric_model_closed_form():
    # each head aligns with its own target with value a and with the others with b (§7)
    C, n = 4, 12
    rng = np.random.default_rng(0)
    Y = np.eye(C)[np.repeat(np.arange(C), n // C)]
    Ks = np.stack([2.0 * np.outer(Y[:, c], Y[:, c]) + np.eye(n) for c in range(C)])
    A = np.array([[kernel_alignment(Ks[c], Y[:, d]) for d in range(C)] for c in range(C)])
    a, b = A[0, 0], A[0, 1]
    M = kernel_specialization_matrix(Ks, Y)
    np.testing.assert_allclose(np.diag(M), C * a / (a + (C - 1) * b))
    off = M[~np.eye(C, dtype=bool)]
    np.testing.assert_allclose(off, C * b / (a + (C - 1) * b))
    np.testing.assert_allclose(M.mean(axis=0), 1.0)  # form (a): columns average to 1
    # identical heads -> no specialization
    same = np.stack([rng.standard_normal((n, n))] * C)
    same = np.einsum("cij,ckj->cik", same, same)
    np.testing.assert_allclose(kernel_specialization_matrix(same, Y), 1.0)
    with pytest.raises(ValueError, match="Y must have shape"):
        kernel_specialization_matrix(Ks, Y[:, :2])


def test_relative_kernel_change():
    K0 = np.diag([1.0, 2.0])
    assert relative_kernel_change(K0, K0) == 0.0
    Kt = K0 + np.array([[0.0, 1.0], [1.0, 0.0]])
    assert relative_kernel_change(Kt, K0) == pytest.approx(math.sqrt(2) / math.sqrt(5))
    assert relative_kernel_change(3 * K0, K0, normalized=True) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="same shape"):
        relative_kernel_change(np.eye(3), K0)
