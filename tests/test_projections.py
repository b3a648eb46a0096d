"""FWHT, per-degree cube spectra, Gegenbauer/sphere projections and multiplicity matching."""
import math

import numpy as np
import pytest
from scipy.linalg import hadamard
from scipy.special import eval_gegenbauer

from spectra.analytic import mlp_kernel
from spectra.analytic.bases import gegenbauer, sphere_multiplicity
from spectra.domains import subset_degrees
from spectra.empirical import (cube_degree_spectrum, cube_points, cube_sample_degree_projections, fwht,
                               matched_eigenvalues, random_cube_polynomial, sample_sphere,
                               sphere_degree_projections, walsh_coefficients, walsh_degree_energy,
                               walsh_monomial)


@pytest.mark.parametrize("d", [0, 1, 3, 7])
def test_fwht_equals_dense_walsh_transform(d):
    rng = np.random.default_rng(d)
    n = 1 << d
    H = hadamard(n)
    v = rng.standard_normal(n)
    A = rng.standard_normal((n, 3))
    B = rng.standard_normal((2, n))
    assert np.allclose(fwht(v), H @ v, rtol=0, atol=1e-12)
    assert np.allclose(fwht(A, axis=0), H @ A, rtol=0, atol=1e-12)
    assert np.allclose(fwht(B, axis=1), B @ H, rtol=0, atol=1e-12)


def test_hadamard_order_of_cube_points_is_walsh_basis():
    """Column S of the Hadamard matrix is chi_S on cube_points(d) (the documented order)."""
    d = 5
    X = cube_points(d)
    H = hadamard(1 << d)
    for S in [0, 1, 6, 19, 31]:
        subset = [j for j in range(d) if S >> j & 1]
        assert np.array_equal(walsh_monomial(X, subset), H[:, S])
    assert subset_degrees(d).tolist() == [bin(S).count("1") for S in range(32)]


def test_walsh_degree_energy_and_coefficients_in_any_order():
    d = 6
    X = cube_points(d)
    f = 0.6 * walsh_monomial(X, [0, 4]) + 0.8 * walsh_monomial(X, [1, 2, 5])
    perm = np.random.default_rng(0).permutation(1 << d)
    e = walsh_degree_energy(f[perm], X[perm])
    assert np.allclose(e, [0, 0, 0.36, 0.64, 0, 0, 0])
    c = walsh_coefficients(f[perm], X[perm])
    assert math.isclose(c[0b010001], 0.6) and math.isclose(c[0b100110], 0.8)
    g = random_cube_polynomial(X, 3, seed=2)
    assert math.isclose(walsh_degree_energy(g)[3], 1.0)
    E = walsh_degree_energy(np.stack([f, g], axis=1))
    assert E.shape == (d + 1, 2) and np.allclose(E.sum(0), 1.0)
    assert np.all(walsh_degree_energy(np.zeros(8)) == 0)
    with pytest.raises(ValueError, match="power-of-two"):
        walsh_degree_energy(np.ones(6))
    with pytest.raises(ValueError, match="exactly once"):
        walsh_degree_energy(np.ones(8), np.ones((8, 3)))


@pytest.mark.parametrize("act,depth,wv,bv,kern", [("relu", 2, 2.0, 0.3, "ntk"), ("erf", 3, 2.5, 0.1, "ck"),
                                                   ("erf", 1, 1.0, 0.0, "ntk")])
def test_cube_degree_spectrum_of_analytic_gram_is_exact(act, depth, wv, bv, kern):
    """Infinite-width Gram: mu_k per degree = brute-force eigenvalues with multiplicity C(d,k); no spread."""
    d = 7
    X = cube_points(d)
    perm = np.random.default_rng(1).permutation(1 << d)
    X = X[perm]
    K = mlp_kernel(X @ X.T / d, act, depth, wv, bv, kern)
    s = cube_degree_spectrum(K, X)
    ev = np.sort(np.linalg.eigvalsh(K / (1 << d)))
    expect = np.sort(np.repeat(s.mean, s.multiplicities))
    assert np.allclose(ev, expect, atol=1e-13 * ev.max())
    assert np.all(s.block_max - s.block_min <= 1e-12 * ev.max())
    assert s.off_block < 1e-12 and np.all(s.diag_std <= 1e-13 * ev.max())
    assert np.all(s.spread <= 1e-13 * ev.max())
    try:  # the lead's analytic cube spectrum, when available
        from spectra.analytic import cube_spectrum
    except ImportError:
        return
    mu = cube_spectrum(d, act, depth, wv, bv, kernel=kern).eigenvalues
    assert np.allclose(s.mean, mu, rtol=1e-10, atol=1e-14 * ev.max())


def test_cube_degree_spectrum_spread_for_a_finite_width_gram():
    from spectra.empirical import MLP

    X = cube_points(6)
    K = MLP(6, 32, 1, "relu", seed=0).ntk_gram(X)
    s = cube_degree_spectrum(K)
    evals = np.linalg.eigvalsh(K / 64)
    assert math.isclose(np.sum(s.mean * s.multiplicities), evals.sum(), rel_tol=1e-12)  # trace
    assert s.off_block > 0 and np.all(s.block_min <= s.mean + 1e-15) and np.all(s.block_max >= s.mean - 1e-15)
    assert s.block_max.max() <= evals.max() + 1e-12
    # independent reference: dense Walsh-basis matrix, eigenvalues of each degree block
    H = hadamard(64).astype(float)
    M = H @ K @ H / 64 ** 2
    deg = np.array([bin(S).count("1") for S in range(64)])
    for k in range(7):
        ev = np.linalg.eigvalsh(M[np.ix_(deg == k, deg == k)])
        assert math.isclose(s.spread[k], ev.std(), rel_tol=1e-9, abs_tol=1e-15)
        assert math.isclose(s.block_min[k], ev[0], rel_tol=1e-9, abs_tol=1e-15)
        assert math.isclose(s.mean[k], ev.mean(), rel_tol=1e-12, abs_tol=1e-15)
    t = cube_degree_spectrum(K, eig_max_degree=2)
    assert np.all(np.isnan(t.block_max[3:])) and np.allclose(t.spread, s.spread)


def test_gegenbauer_matches_scipy_and_multiplicities():
    t = np.linspace(-1, 1, 41)
    for d in (3, 5, 10):
        a = (d - 2) / 2
        for k in range(7):
            ref = eval_gegenbauer(k, a, t) / eval_gegenbauer(k, a, 1.0)
            assert np.allclose(gegenbauer(d, k, t)[k], ref, atol=1e-13)
    assert np.allclose(gegenbauer(2, 4, t)[4], np.cos(4 * np.arccos(t)), atol=1e-13)  # Chebyshev
    assert [sphere_multiplicity(5, k) for k in range(5)] == [1, 5, 14, 30, 55]


def _funk_hecke(phi, d, kmax):
    from scipy.special import gammaln, roots_jacobi

    a = (d - 3) / 2
    t, w = roots_jacobi(400, a, a)
    cd = math.exp(gammaln(d / 2) - 0.5 * math.log(math.pi) - gammaln((d - 1) / 2))
    return np.array([cd * np.sum(w * phi(t) * gegenbauer(d, kmax, t)[k]) for k in range(kmax + 1)])


def test_sphere_projections_estimate_funk_hecke_eigenvalues():
    d, n = 5, 1500
    X = sample_sphere(d, n, seed=4)
    phi = lambda t: mlp_kernel(t, "erf", 2, 2.0, 0.2, "ntk")  # noqa: E731
    K = phi(np.clip(X @ X.T / d, -1, 1))
    lam = sphere_degree_projections(K, X, 4, chunk_size=500).mean
    ref = _funk_hecke(phi, d, 4)
    # degenerate U-statistic: error ~ Phi(1)/n; a check with a real margin
    assert np.all(np.abs(lam - ref) <= 0.03 * np.abs(ref) + 5e-4), (lam, ref)
    # trace check of the reference itself: sum N(d,k) lambda_k -> Phi(1)
    assert sum(sphere_multiplicity(d, k) * ref[k] for k in range(5)) < phi(1.0)


def test_cube_sample_projections_estimate_mu_k():
    d, n = 12, 1500
    X = cube_points(d, n, seed=0)
    act = ("relu", 2, 2.0, 0.3, "ntk")
    K = mlp_kernel(X @ X.T / d, *act)
    est = cube_sample_degree_projections(K, X, 3, chunk_size=700).mean
    # exact mu_k by the Krawtchouk form (independent of the estimator)
    c = 1 - 2 * np.arange(d + 1) / d
    phi = mlp_kernel(c, *act)
    mu = [sum(math.comb(d, j) * sum((-1) ** i * math.comb(j, i) * math.comb(d - j, k - i) for i in range(k + 1))
              / math.comb(d, k) * phi[j] for j in range(d + 1)) / 2 ** d for k in range(4)]
    assert np.allclose(est, mu, rtol=0.05, atol=2e-3 * phi[0] / d), (est, mu)


def test_matched_eigenvalues():
    d = 5
    X = cube_points(d)
    K = mlp_kernel(X @ X.T / d, "relu", 1, 2.0, 0.1, "ntk")
    s = cube_degree_spectrum(K)
    m = matched_eigenvalues(K, s.mean, s.multiplicities)
    assert np.allclose(m.empirical_mean, s.mean, atol=1e-13)
    with pytest.raises(ValueError, match="sum to"):
        matched_eigenvalues(K[:4, :4], s.mean, s.multiplicities)


def test_projection_bad_input():
    with pytest.raises(ValueError, match="square"):
        cube_degree_spectrum(np.ones((4, 2)))
    with pytest.raises(ValueError, match="finite"):
        cube_degree_spectrum(np.full((4, 4), np.nan))
    X = sample_sphere(3, 5, seed=0)
    with pytest.raises(ValueError, match="shape"):
        sphere_degree_projections(np.ones((4, 4)), X, 2)
    with pytest.raises(ValueError, match="dim"):
        gegenbauer(1, 2, 0.3)
