"""Gaussian-input spectra: homogeneous reduction, radial blocks vs Monte-Carlo, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from spectra.analytic import gaussian_spectrum, mlp_kernel, sphere_spectrum


@pytest.mark.parametrize("kernel", ["ck", "ntk"])
def test_bias_free_relu_equals_sphere(kernel):
    g = gaussian_spectrum(6, "relu", 3, 2.0, 0.0, kernel, max_degree=12)
    s = sphere_spectrum(6, "relu", 3, 2.0, 0.0, kernel, max_degree=12)
    assert np.array_equal(g.eigenvalues, s.eigenvalues) and g.domain == "gaussian"
    # the radial-block method, run on the same kernel, agrees within its stated bound
    r = gaussian_spectrum(6, "relu", 3, 2.0, 0.0, kernel, max_degree=6, method="radial")
    for k in range(7):
        assert abs(r.eigenvalues[k] - s.eigenvalues[k]) <= max(r.rel_error_bound[k], 1e-12) * 1.01 * s.eigenvalues[k] + 1e-12 * s.eigenvalues[k]


def _gaussian_mc(n, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    nx = (x**2).sum(1) / d
    G = mlp_kernel((x @ x.T) / d, "relu", 2, 2.0, 0.5, "ntk", norm_x=nx[:, None], norm_y=nx[None, :]) / n
    ev, V = np.linalg.eigh(G)
    return ev[::-1], V[:, ::-1]


def test_monte_carlo_top_eigenvalue_per_degree_k_le_4():
    """Top radial eigenvalue of every block k <= 4 vs a Monte-Carlo Gram (n = 3000, d = 4, with bias).

    Each Monte-Carlo eigenvector is assigned its angular degree by the addition theorem
    (A_k = N(d,k)/n P_k(<x_i, x_j>/(|x_i||x_j|)) projects onto degree-k harmonics times any radial
    function), which separates clusters whose eigenvalues interleave (block 2 vs block 0's second
    radial eigenvalue).  The top N(d,k) eigenvalues of degree k must average to the analytic top
    eigenvalue of block k within 3 standard errors.
    """
    from spectra.analytic import sphere_multiplicity
    from spectra.analytic.bases import gegenbauer

    d, n, K = 4, 3000, 4
    g = gaussian_spectrum(d, "relu", 2, 2.0, 0.5, "ntk", max_degree=K)
    np.testing.assert_allclose(g.eigenvalues[:2], [3.886, 0.6912], rtol=2e-3)  # independent radial-block computation
    ev, V = _gaussian_mc(n, d=d, seed=0)
    rng = np.random.default_rng(0)  # the same points as _gaussian_mc
    x = rng.standard_normal((n, d))
    xh = x / np.linalg.norm(x, axis=1, keepdims=True)
    T = np.clip(xh @ xh.T, -1, 1)
    top = 80
    content = np.empty((K + 1, top))
    for k in range(K + 1):
        Pk = gegenbauer(d, k, T)[-1]
        A = sphere_multiplicity(d, k) / n * Pk
        content[k] = np.einsum("ij,ij->j", V[:, :top], A @ V[:, :top])
    # an eigenvector belongs to degree k <= K when most of its energy is there (degrees > K
    # carry the rest of the spectrum; the finite-sample A_k are projectors only approximately)
    degree = np.where(content.max(axis=0) > 0.5, np.argmax(content, axis=0), -1)
    for k in range(K + 1):
        m = sphere_multiplicity(d, k)
        idx = np.nonzero(degree == k)[0][:m]
        assert len(idx) == m
        lam = g.eigenvalues[k]
        w = (V[:, idx] ** 2).sum(1) * n / m
        se = lam * w.std() / math.sqrt(n)
        assert abs(ev[idx].mean() - lam) <= 3 * se, (k, ev[idx].mean(), lam, se)


def test_stated_accuracy_and_structure():
    g = gaussian_spectrum(8, "erf", 2, 2.0, 0.0, "ck", max_degree=5)
    assert [g.method[k] for k in (0, 2, 4)] == ["zero"] * 3  # odd kernel
    assert np.all(g.rel_error_bound[[1, 3, 5]] < 1e-6) and not g.certified.any()
    f = gaussian_spectrum(8, "erf", 2, 2.0, 0.0, "ck", max_degree=5, precision="float64")
    np.testing.assert_allclose(f.eigenvalues[[1, 3]], g.eigenvalues[[1, 3]], rtol=1e-8)


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(dim=1), ValueError, "dim"),
    (dict(degrees=[-2]), ValueError, "degrees"),
    (dict(bias_var=-1.0), ValueError, "bias_var"),
    (dict(method="exact"), ValueError, "method"),
    (dict(method="homogeneous", bias_var=0.5), ValueError, "homogeneous"),
    (dict(radial_nodes=(1, 4), bias_var=0.5), ValueError, "radial_nodes"),
])
def test_bad_input(kwargs, exc, word):
    base = dict(dim=4, activation="relu", depth=1, weight_var=2.0, bias_var=0.0, kernel="ntk", max_degree=2)
    base.update(kwargs)
    with pytest.raises(exc, match=word):
        gaussian_spectrum(**base)
