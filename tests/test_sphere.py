"""Sphere spectra: closed forms, an independent mpmath quadrature, Monte-Carlo Gram matrices, decay, bad input."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from spectra.analytic import sphere_spectrum
from spectra.analytic.bases import gegenbauer, sphere_multiplicity


# ----------------------------------------------------------------------------- references
def _a(alpha: int, k: int, d: int):
    """Closed-form Gegenbauer coefficient E_tau_d[t_+^alpha P_k(t)] (Beta integrals; Bach 2017, "Breaking the curse of dimensionality with convex neural networks"), in mpmath."""
    G = mpmath.gamma
    if k <= alpha:
        return (mpmath.factorial(alpha) * G(mpmath.mpf(d) / 2) * G(mpmath.mpf(alpha - k + 1) / 2)
                / (2 ** (k + 1) * mpmath.factorial(alpha - k) * mpmath.sqrt(mpmath.pi) * G(mpmath.mpf(d + k + alpha) / 2)))
    if (k - alpha) % 2 == 0:
        return mpmath.mpf(0)
    i = (k - alpha - 1) // 2
    return ((-1) ** i * mpmath.factorial(alpha) * mpmath.factorial(k - alpha - 1) * G(mpmath.mpf(d) / 2)
            / (2**k * mpmath.sqrt(mpmath.pi) * mpmath.factorial(i) * G(mpmath.mpf(d + k + alpha) / 2)))


def _relu_closed(d: int, k: int, kernel: str, wv=2.0):
    ck = wv**2 * d * _a(1, k, d) ** 2
    if kernel == "ck":
        return ck
    if k == 0:  # t P_0 = P_1
        ntk_extra = _a(0, 1, d) ** 2
    else:
        ntk_extra = ((k + d - 2) * _a(0, k + 1, d) ** 2 + k * _a(0, k - 1, d) ** 2) / (2 * k + d - 2)
    return ck + wv**2 * ntk_extra


def _mp_kernel(c, act, depth, wv, bv, kernel):
    """The MLP kernel written independently in mpmath (the recursion of docs/conventions.md; Cho & Saul 2009 duals)."""
    wv, bv = mpmath.mpf(wv), mpmath.mpf(bv)

    def duals(s, q):
        if act == "relu":
            rho = max(min(s / q, 1), -1)
            th = mpmath.acos(rho)
            return q * (mpmath.sin(th) + (mpmath.pi - th) * rho) / (2 * mpmath.pi), (mpmath.pi - th) / (2 * mpmath.pi)
        den = 1 + 2 * q
        return 2 / mpmath.pi * mpmath.asin(2 * s / den), 4 / (mpmath.pi * mpmath.sqrt(den**2 - 4 * s**2))

    sig = wv * c + bv
    q = wv + bv
    theta = sig
    for _ in range(depth):
        v, vd = duals(sig, q)
        qn = wv * duals(q, q)[0] + bv
        sig = wv * v + bv
        theta = sig + wv * vd * theta
        q = qn
    return sig if kernel == "ck" else theta


def _mp_reference(d, K, act, depth, wv, bv, kernel, dps=40):
    """lambda_0..K by tanh-sinh quadrature in theta (mpmath.quad), kernel values memoised."""
    with mpmath.workdps(dps):
        cd = mpmath.gamma(mpmath.mpf(d) / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(mpmath.mpf(d - 1) / 2))
        memo = {}

        def base(th):
            if th not in memo:
                t = mpmath.cos(th)
                P = [mpmath.mpf(1), t]
                for k in range(1, K):
                    P.append(((2 * k + d - 2) * t * P[k] - k * P[k - 1]) / (k + d - 2))
                memo[th] = (_mp_kernel(t, act, depth, wv, bv, kernel) * mpmath.sin(th) ** (d - 2), P)
            return memo[th]

        pts = mpmath.linspace(0, mpmath.pi, 9)
        return [cd * mpmath.quad(lambda th: base(th)[0] * base(th)[1][k], pts) for k in range(K + 1)]


# ----------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("d", [2, 3, 10, 50])
@pytest.mark.parametrize("kernel", ["ck", "ntk"])
def test_arccosine_closed_forms(d, kernel):
    s = sphere_spectrum(d, "relu", 1, 2.0, 0.0, kernel, max_degree=30)
    ref = [_relu_closed(d, k, kernel) for k in range(31)]
    for k in range(31):
        if ref[k] == 0:
            assert s.eigenvalues[k] == 0.0 and s.method[k] == "zero"
        else:
            assert abs(s.exact[k] - ref[k]) <= 1e-12 * ref[k], (k, s.exact[k], ref[k])
            assert s.rel_error_bound[k] <= 1e-12


def test_reference_table_and_zeros():
    s = sphere_spectrum(10, "relu", 1, 2.0, 0.0, "ntk", max_degree=5)
    np.testing.assert_allclose(s.eigenvalues, [0.7361253313, 0.2, 0.01714491756, 0, 0.0001930807666, 0], rtol=1e-9)
    assert list(s.eigenvalues[[3, 5]]) == [0.0, 0.0]
    # step CK: eigenvalues a^{(0)}_k^2 (times sigma_w^4)
    st = sphere_spectrum(5, "step", 1, 1.0, 0.0, "ck", max_degree=12)
    for k in range(13):
        assert abs(st.exact[k] - _a(0, k, 5) ** 2) <= 1e-12 * max(_a(0, k, 5) ** 2, 1e-300)


def test_multiplicity_and_trace():
    assert [sphere_multiplicity(3, k) for k in range(5)] == [1, 3, 5, 7, 9]
    assert [sphere_multiplicity(2, k) for k in range(4)] == [1, 2, 2, 2]
    s = sphere_spectrum(4, "erf", 2, 2.0, 0.5, "ntk", max_degree=60)
    total = sum(m * x for m, x in zip(s.multiplicities, s.exact))
    assert abs(total - s.trace) < 1e-12 * s.trace  # erf: geometric decay, the sum converges
    assert abs(s.extra["tail_fractional_variance"]) < 1e-12
    r = sphere_spectrum(3, "relu", 1, 2.0, 0.0, "ck", max_degree=40)
    assert 0 < r.extra["tail_fractional_variance"] < 1e-3
    assert r.max_learning_rate == pytest.approx(2 / max(r.eigenvalues[:2]))


def test_mercer_reconstruction():
    d, K = 5, 80
    s = sphere_spectrum(d, "erf", 2, 3.0, 0.2, "ck", max_degree=K)
    t = np.array([-0.7, 0.1, 0.5, 0.9])
    P = gegenbauer(d, K, t)
    recon = (np.array(s.multiplicities, float) * s.eigenvalues) @ P
    from spectra.analytic import mlp_kernel

    np.testing.assert_allclose(recon, mlp_kernel(t, "erf", 2, 3.0, 0.2, "ck"), rtol=1e-12)


# ----------------------------------------------------------------------------- mpmath quadrature
FULL_GRID = [(act, kernel, d, depth, bv) for act in ("relu", "erf") for kernel in ("ck", "ntk")
             for d in (3, 10, 100) for depth in (1, 2, 3) for bv in (0.0, 0.5)]
# a subset in which every level of every factor appears; the rest of the full grid follows
FAST_GRID = [("relu", "ntk", 3, 3, 0.5), ("relu", "ck", 10, 2, 0.0), ("relu", "ntk", 100, 1, 0.0),
             ("erf", "ck", 3, 1, 0.5), ("erf", "ntk", 10, 3, 0.0), ("erf", "ck", 100, 2, 0.5)]


def _check_against_mpmath(act, kernel, d, depth, bv):
    K = 20
    s = sphere_spectrum(d, act, depth, 2.0, bv, kernel, max_degree=K)
    ref = _mp_reference(d, K, act, depth, 2.0, bv, kernel, dps=45 if d == 100 else 30)
    for k in range(K + 1):
        if s.method[k] == "zero":
            assert s.eigenvalues[k] == 0.0
            assert abs(ref[k]) < 1e-20 * s.trace
        else:
            assert abs(s.exact[k] - ref[k]) <= 1e-10 * abs(ref[k]), (k, s.exact[k], ref[k])


@pytest.mark.parametrize("combo", FAST_GRID)
def test_against_mpmath_quadrature(combo):
    _check_against_mpmath(*combo)


@pytest.mark.parametrize("combo", [c for c in FULL_GRID if c not in FAST_GRID])
def test_against_mpmath_quadrature_full(combo):
    _check_against_mpmath(*combo)


def test_float64_path_and_hermite_activation():
    s = sphere_spectrum(6, "relu", 2, 2.0, 0.3, "ntk", max_degree=10, precision="float64")
    a = sphere_spectrum(6, "relu", 2, 2.0, 0.3, "ntk", max_degree=10)
    assert all(m == "float64" for m in s.method) and not s.certified.any()
    for i in range(len(s)):
        if a.eigenvalues[i] != 0:
            assert abs(s.eigenvalues[i] - a.eigenvalues[i]) <= max(s.rel_error_bound[i], 1e-15) * 1.01 * abs(a.eigenvalues[i])
    # tanh on the float64 rule when asked for it (issue #11: by default it now takes the Arb Mehler path)
    t = sphere_spectrum(6, "tanh", 1, 1.5, 0.1, "ck", max_degree=6, precision="float64")
    assert all(m in ("float64", "zero") for m in t.method)
    assert np.all(np.isfinite(t.rel_error_bound))
    a = sphere_spectrum(6, "tanh", 1, 1.5, 0.1, "ck", max_degree=6)
    assert all(m.startswith("arb-gl-mehler") or m == "zero" for m in a.method)
    assert np.all(a.rel_error_bound <= 1e-12)
    for i in range(len(t)):
        if a.eigenvalues[i] != 0:
            assert abs(t.eigenvalues[i] - a.eigenvalues[i]) <= t.rel_error_bound[i] * abs(a.eigenvalues[i]) * 1.01


def test_large_dimension_and_circle():
    s = sphere_spectrum(10000, "relu", 2, 2.0, 0.1, "ntk", max_degree=6)
    assert np.all(s.rel_error_bound <= 1e-12)
    # d^k lambda_k is close to Phi^(k)(0) at d = 10^4 (within O(k^2/d))
    from spectra.analytic import kernel_taylor_derivatives

    der = kernel_taylor_derivatives("relu", 2, 2.0, 0.1, "ntk", max_order=6)
    for k in range(7):
        assert abs(float(s.exact[k] * 10000**k) / float(der[k]) - 1) < 3 * (k + 1) ** 2 / 10000
    c = sphere_spectrum(2, "erf", 1, 2.0, 0.0, "ck", max_degree=9)  # circle: Fourier cosine coefficients
    ref = [mpmath.quad(lambda th: _mp_kernel(mpmath.cos(th), "erf", 1, 2.0, 0.0, "ck") * mpmath.cos(k * th),
                       [0, mpmath.pi]) / mpmath.pi for k in range(10)]
    for k in range(10):
        if c.method[k] == "zero":
            assert abs(ref[k]) < 1e-14
        else:
            assert abs(c.exact[k] - ref[k]) < 1e-12 * abs(ref[k])


# ----------------------------------------------------------------------------- Monte-Carlo
def _monte_carlo_gram(d, n):
    """Eigenvalues of K/n (n uniform points) grouped by multiplicity N(d, k), within 3 SE."""
    from spectra.analytic import mlp_kernel

    rng = np.random.default_rng(d)
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    G = mlp_kernel(np.clip(x @ x.T, -1, 1), "relu", 2, 2.0, 0.5, "ntk") / n
    ev = np.linalg.eigvalsh(G)[::-1]
    s = sphere_spectrum(d, "relu", 2, 2.0, 0.5, "ntk", max_degree=12)
    order = np.argsort(-s.eigenvalues)
    pos, checked = 0, 0
    for j, k in enumerate(order):
        m = s.multiplicities[k]
        if pos + m > (50 if d < 5 else 100):  # beyond, clusters reach the MC noise floor
            break
        lam = s.eigenvalues[k]
        nxt = s.eigenvalues[order[j + 1]] if j + 1 < len(order) else 0.0
        prv = s.eigenvalues[order[j - 1]] if j > 0 else np.inf
        cluster = ev[pos:pos + m]
        pos += m
        if not (lam > 1.3 * nxt and prv > 1.3 * lam):
            continue  # clusters too close to be separated by sorting
        # SE of the cluster mean: within-cluster scatter / sqrt(m); for the single k = 0
        # eigenvalue the relative SE of the k = 1 cluster (same O(n^-1/2) scale)
        if m >= 3:
            se = cluster.std(ddof=1) / math.sqrt(m)
        else:
            c1 = ev[1:1 + d]
            se = lam * c1.std(ddof=1) / c1.mean()
        assert abs(cluster.mean() - lam) <= 3 * se, (k, cluster.mean(), lam, se)
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("d", [3, 10])
def test_monte_carlo_gram_n4000(d):
    """The issue's size: n = 4000 uniform points, eigenvalues of K/n grouped by multiplicity."""
    _monte_carlo_gram(d, 4000)


# ----------------------------------------------------------------------------- decay
def _slope(s, ks):
    """Log-log slope against the Gegenbauer index nu = k + (d-2)/2 (the natural asymptotic variable:
    the exact eigenvalues are C nu^-s (1 + O(1/nu^2)); against plain k the O(d/k) shift biases the
    fitted slope over k in [50, 200] by ~0.07 at d = 5)."""
    lam = np.array([float(s.exact[k]) for k in ks])
    return np.polyfit(np.log(ks + (s.dim - 2) / 2), np.log(lam), 1)[0]


@pytest.mark.parametrize("d", [3, 5])
def test_decay_rates(d):
    ks = np.arange(50, 201)
    ntk = sphere_spectrum(d, "relu", 2, 2.0, 0.1, "ntk", max_degree=200)
    ck = sphere_spectrum(d, "relu", 2, 2.0, 0.1, "ck", max_degree=200)
    assert abs(_slope(ntk, ks) + d) < 0.05
    assert abs(_slope(ck, ks) + d + 2) < 0.05
    one = sphere_spectrum(d, "relu", 1, 2.0, 0.0, "ntk", max_degree=200)
    even = ks[ks % 2 == 0]
    assert abs(_slope(one, even) + d) < 0.05
    assert all(one.eigenvalues[k] == 0.0 for k in range(3, 201, 2))
    assert np.all(ntk.rel_error_bound[50:] <= 1e-12)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(dim=1), ValueError, "dim"),
    (dict(dim=0), ValueError, "dim"),
    (dict(dim=2.5), TypeError, "dim"),
    (dict(degrees=[-1, 2]), ValueError, "degrees"),
    (dict(max_degree=-3), ValueError, "max_degree"),
    (dict(degrees=[1.5]), TypeError, "degrees"),
    (dict(depth=-1), ValueError, "depth"),
    (dict(weight_var=0.0), ValueError, "weight_var"),
    (dict(bias_var=-0.1), ValueError, "bias_var"),
    (dict(bias_var=float("nan")), ValueError, "bias_var"),
    (dict(kernel="gp"), ValueError, "kernel"),
    (dict(activation="nope"), ValueError, "nope"),
    (dict(rtol=0.0), ValueError, "rtol"),
    (dict(precision="quad"), ValueError, "precision"),
    (dict(precision=10), ValueError, "precision"),
])
def test_bad_input(kwargs, exc, word):
    base = dict(dim=3, activation="relu", depth=1, weight_var=2.0, bias_var=0.0, kernel="ntk", max_degree=3)
    base.update(kwargs)
    with pytest.raises(exc, match=word):
        sphere_spectrum(**base)
