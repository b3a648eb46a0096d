"""Tests of the random-matrix diagnostics against closed forms and planted structure."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from spectra.empirical.random_matrix import (
    find_outliers,
    fit_mp,
    gram_esd,
    ks_distance,
    mp_cdf,
    mp_density,
    mp_edges,
    mp_quantile,
    outlier_threshold,
    plot_esd,
    plot_powerlaw_tail,
    powerlaw_alpha,
    top_eigvec_overlap,
    top_singular_overlap,
    tracy_widom_scale,
    wasserstein1,
    weight_esd,
)


# ----------------------------------------------------------------------------- ESD
def test_weight_esd_matches_eigvalsh():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((40, 25))
    ref = np.linalg.eigvalsh(W.T @ W / 40)
    assert np.allclose(weight_esd(W), ref, atol=1e-10)
    # d > h: zeros are appended, and the rest matches W W^T / h
    W2 = rng.standard_normal((10, 25))
    lam = weight_esd(W2)
    assert lam.shape == (25,)
    assert np.allclose(lam, np.linalg.eigvalsh(W2.T @ W2 / 10), atol=1e-10)


def test_gram_esd_normalize():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 30))
    K = A @ A.T
    assert np.allclose(gram_esd(K, normalize=True) * 30, np.linalg.eigvalsh(K))


# ----------------------------------------------------------------------------- MP law
@pytest.mark.parametrize("gamma", [0.1, 0.5, 2 / 3, 1.0])
def test_mp_density_normalised_and_moments(gamma):
    lo, hi = mp_edges(2.0, gamma)
    f = lambda x, k: x**k * float(mp_density(x, 2.0, gamma))  # noqa: E731
    m0 = quad(f, lo, hi, args=(0,), limit=200)[0]
    m1 = quad(f, lo, hi, args=(1,), limit=200)[0]
    m2 = quad(f, lo, hi, args=(2,), limit=200)[0]
    assert m0 == pytest.approx(1.0, abs=1e-6)
    assert m1 == pytest.approx(2.0, rel=1e-6)  # mean sigma2
    assert m2 == pytest.approx(4.0 * (1 + gamma), rel=1e-6)  # sigma2^2 (1 + gamma)


def test_mp_cdf_quantile_inverse_and_atom():
    p = np.linspace(0.01, 0.99, 50)
    q = mp_quantile(p, 1.3, 0.4)
    assert np.allclose(mp_cdf(q, 1.3, 0.4), p, atol=1e-6)
    # gamma = 2: half the mass sits at zero
    assert float(mp_cdf(1e-12, 1.0, 2.0)) == pytest.approx(0.5, abs=1e-6)
    x = np.linspace(0.2, 5.0, 7)
    num = [quad(lambda t: float(mp_density(t, 1.0, 0.3)), mp_edges(1.0, 0.3)[0], xi)[0] for xi in x]
    assert np.allclose(mp_cdf(x, 1.0, 0.3), np.minimum(num, 1.0), atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mp_fit_recovers_sigma2_within_1pct(seed):
    rng = np.random.default_rng(seed)
    sigma2 = 0.7
    W = math.sqrt(sigma2) * rng.standard_normal((1500, 1000))
    lam = weight_esd(W)
    fit = fit_mp(lam)  # gamma fitted too
    assert abs(fit.sigma2 / sigma2 - 1) < 0.01
    assert abs(fit.gamma - 1000 / 1500) < 0.02
    fixed = fit_mp(lam, gamma=1000 / 1500)
    assert abs(fixed.sigma2 / sigma2 - 1) < 0.01
    assert fixed.lambda_plus == pytest.approx(sigma2 * (1 + math.sqrt(2 / 3)) ** 2, rel=0.01)


def test_mp_fit_robust_to_outliers_and_detects_wrong_shape():
    rng = np.random.default_rng(3)
    lam = weight_esd(rng.standard_normal((1500, 1000)))
    spiked = lam.copy()
    spiked[-5:] = 50.0 + np.arange(5)  # five huge outliers
    assert abs(fit_mp(spiked, gamma=2 / 3).sigma2 - 1) < 0.01
    # a plain moment estimate would be off by ~25 %
    assert abs(spiked.mean() - 1) > 0.2
    # an exponential ESD is not MP: the fit residual is much larger
    expo = rng.exponential(size=1000)
    assert fit_mp(expo).residual > 5 * fit_mp(lam).residual


# ----------------------------------------------------------------------------- outliers (BBP)
def _spiked_weights(rng, h, d, ell, v):
    """Rows iid N(0, I + ell v v^T): sample covariance W^T W / h has a BBP spike iff ell > sqrt(d/h)."""
    G = rng.standard_normal((h, d))
    return G + (math.sqrt(1 + ell) - 1) * np.outer(G @ v, v)


def test_tracy_widom_threshold_null_calibration():
    rng = np.random.default_rng(4)
    h, d = 400, 200
    mu, s = tracy_widom_scale(h, d)
    tops = np.array([weight_esd(rng.standard_normal((h, d)))[-1] for _ in range(40)])
    z = (tops - mu) / s
    # TW1 has mean -1.21 and sd 1.27; allow finite-size/MC slack
    assert -2.0 < z.mean() < -0.4
    assert 0.7 < z.std() < 1.9
    assert np.mean(tops > outlier_threshold(h, d, s=2.02)) <= 0.1


def test_bbp_spike_found_above_and_not_below_transition():
    rng = np.random.default_rng(5)
    h, d = 2000, 1000
    gamma = d / h  # BBP transition at ell = sqrt(gamma) = 0.707
    v = rng.standard_normal(d)
    v /= np.linalg.norm(v)
    above = _spiked_weights(rng, h, d, 3.0, v)
    rep = find_outliers(above)
    assert rep.count == 1
    # BBP location (1 + ell)(1 + gamma / ell) = 4.667
    assert rep.outliers[0] == pytest.approx(4 * (1 + gamma / 3), rel=0.05)
    assert rep.outliers[0] > rep.threshold > rep.bulk_edge
    # eigenvector overlap^2 -> (1 - gamma/ell^2) / (1 + gamma/ell) = 0.810
    ov = top_singular_overlap(above, v)
    assert ov == pytest.approx(math.sqrt((1 - gamma / 9) / (1 + gamma / 3)), abs=0.05)
    below = _spiked_weights(rng, h, d, 0.3, v)
    assert find_outliers(below).count == 0
    assert top_singular_overlap(below, v) < 0.3


def test_top_eigvec_overlap_planted():
    rng = np.random.default_rng(6)
    n = 300
    y = rng.standard_normal(n)
    A = rng.standard_normal((n, n)) / math.sqrt(n)
    K = A @ A.T + 10 * np.outer(y, y) / n
    assert top_eigvec_overlap(K, y) > 0.9
    assert top_eigvec_overlap(A @ A.T, y) < 0.3


# ----------------------------------------------------------------------------- power law
@pytest.mark.parametrize("alpha", [1.8, 2.5, 4.0])
def test_alpha_recovered_from_pareto_ks_and_median(alpha):
    rng = np.random.default_rng(7)
    x = 0.5 * (1 - rng.random(10_000)) ** (-1 / (alpha - 1))  # density ~ x^-alpha on [0.5, inf)
    ks = powerlaw_alpha(x, "ks")
    assert abs(ks.alpha - alpha) < 0.1
    assert ks.alpha_se == pytest.approx((ks.alpha - 1) / math.sqrt(ks.n_tail))
    med = powerlaw_alpha(x, "median")
    assert abs(med.alpha - alpha) < 0.1
    assert med.n_tail == pytest.approx(5000, abs=1)
    assert med.xmin == pytest.approx(np.median(x))


def test_alpha_ks_finds_the_tail_of_a_mixture():
    # uniform body + Pareto tail above x = 5: the KS rule must find xmin near 5, the median
    # rule lands in the body and gives a different alpha
    rng = np.random.default_rng(8)
    body = rng.uniform(0.1, 5.0, 7000)
    tail = 5.0 * (1 - rng.random(3000)) ** (-1 / 2.0)  # alpha = 3
    x = np.concatenate([body, tail])
    ks = powerlaw_alpha(x, "ks")
    assert abs(ks.alpha - 3.0) < 0.15
    assert 4.0 < ks.xmin < 7.0
    med = powerlaw_alpha(x, "median")
    assert abs(med.alpha - 3.0) > 5 * med.alpha_se
    assert med.ks_distance > 2 * ks.ks_distance


def test_alpha_brute_force_ks_scan():
    rng = np.random.default_rng(9)
    x = np.sort(rng.lognormal(size=200))
    best = (np.inf, None)
    for i in range(0, 200 - 10 + 1):
        t = x[i:]
        a = 1 + t.size / np.sum(np.log(t / x[i]))
        F = 1 - (t / x[i]) ** (1 - a)
        k = np.arange(t.size)
        D = max(np.max(np.abs(F - (k + 1) / t.size)), np.max(np.abs(F - k / t.size)))
        if D < best[0]:
            best = (D, a)
    fit = powerlaw_alpha(x, "ks")
    assert fit.ks_distance == pytest.approx(best[0], rel=1e-10)
    assert fit.alpha == pytest.approx(best[1], rel=1e-10)


def test_given_xmin_and_zero_eigenvalues_dropped():
    x = np.array([0.0, 0.0, 1.0, 2.0, 4.0, 8.0])
    fit = powerlaw_alpha(x, 1.0, min_tail=2)
    assert fit.alpha == pytest.approx(1 + 4 / np.sum(np.log([1, 2, 4, 8])))


# ----------------------------------------------------------------------------- distances
def test_distances_closed_form_and_scale():
    a = np.array([0.0, 1.0, 2.0, 3.0])
    assert wasserstein1(a, a + 0.5) == pytest.approx(0.5)
    assert wasserstein1(a + 1, a + 1.5, relative=True) == pytest.approx(0.5 / 2.5)
    stat, p = ks_distance(a, a + 10)
    assert stat == 1.0 and p < 0.05
    rng = np.random.default_rng(10)
    l1 = weight_esd(rng.standard_normal((600, 300)))
    l2 = weight_esd(rng.standard_normal((600, 300)))
    assert ks_distance(l1, l2)[1] > 0.01
    assert wasserstein1(l1, l2, relative=True) < 0.05
    assert ks_distance(l1, 1.5 * l2)[1] < 1e-3


# ----------------------------------------------------------------------------- bad input
def test_bad_input_errors():
    with pytest.raises(ValueError, match="empty"):
        powerlaw_alpha([])
    with pytest.raises(ValueError, match="empty"):
        fit_mp(np.array([]))
    with pytest.raises(ValueError, match="empty"):
        wasserstein1([], [1.0])
    with pytest.raises(ValueError, match="empty"):
        weight_esd(np.zeros((0, 3)))
    W = np.ones((5, 4))
    W[1, 2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        weight_esd(W)
    W[1, 2] = np.inf
    with pytest.raises(ValueError, match="finite"):
        find_outliers(W)
    with pytest.raises(ValueError, match="square"):
        gram_esd(np.ones((3, 4)))
    with pytest.raises(ValueError, match="square"):
        top_eigvec_overlap(np.ones((3, 4)), np.ones(3))
    with pytest.raises(ValueError, match="symmetric"):
        gram_esd(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="finite"):
        gram_esd(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="2-D"):
        weight_esd(np.ones(5))
    with pytest.raises(ValueError, match="sigma2"):
        mp_edges(-1.0, 0.5)
    with pytest.raises(ValueError, match="gamma"):
        mp_density(1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="xmin"):
        powerlaw_alpha([1.0, 2.0, 3.0], "mean", min_tail=2)
    with pytest.raises(ValueError, match="min_tail"):
        powerlaw_alpha([1.0, 2.0], min_tail=10)
    with pytest.raises(ValueError, match="levels"):
        fit_mp(np.arange(1, 50.0), levels=(0.9, 0.1))
    with pytest.raises(ValueError, match="direction"):
        top_singular_overlap(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="non-zero"):
        top_singular_overlap(np.ones((3, 2)), np.zeros(2))
    with pytest.raises(TypeError):
        weight_esd(np.array([["a", "b"]]))


def test_plots_write_png(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(11)
    lam = weight_esd(rng.standard_normal((300, 200)))
    fig, axs = plt.subplots(1, 3)
    plot_esd([lam, 1.1 * lam], labels=["a", "b"], mp=(1.0, 2 / 3), ax=axs[0], threshold=3.4)
    plot_esd(lam, mp=(1.0, 2 / 3), log=True, ax=axs[1])
    x = (1 - rng.random(500)) ** -1.0
    plot_powerlaw_tail(x, powerlaw_alpha(x), label="pareto", ax=axs[2])
    out = tmp_path / "esd.png"
    fig.savefig(out)
    plt.close(fig)
    assert out.stat().st_size > 1000
    with pytest.raises(ValueError, match="labels"):
        plot_esd([lam], labels=["a", "b"])


def test_numba_only_when_the_ks_scan_runs():
    """Importing the diagnostics does not load the numba kernel; the 'ks' scan does (issue #14)."""
    import ast
    import pathlib
    import subprocess
    import sys

    import spectra.empirical.random_matrix as rm

    folder = pathlib.Path(rm.__file__).parent
    for f in folder.glob("*.py"):
        names = {a.name.split(".")[0] for n in ast.walk(ast.parse(f.read_text())) if isinstance(n, ast.Import)
                 for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in ast.walk(ast.parse(f.read_text()))
                  if isinstance(n, ast.ImportFrom)}
        assert ("numba" in names) == (f.name == "_powerlaw_numba.py"), f.name
    kernel = "spectra.empirical.random_matrix._powerlaw_numba"
    code = ("import sys, numpy as np; from spectra.empirical.random_matrix import powerlaw_alpha; "
            f"x = np.arange(1.0, 40.0); a = {kernel!r} in sys.modules; powerlaw_alpha(x, 'median'); "
            f"b = {kernel!r} in sys.modules; powerlaw_alpha(x, 'ks'); print(a, b, {kernel!r} in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False", "True"]
