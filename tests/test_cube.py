"""Cube spectra against independent references: brute-force Gram eigendecomposition,
an mpmath implementation of the recursion with a naive Krawtchouk sum, and known values."""
import json
import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectra.analytic import cube_spectrum, cube_spectrum_grid, kernel_structure, mlp_kernel


def full_cube(d):
    idx = np.arange(2**d)
    return 1.0 - 2.0 * ((idx[:, None] >> np.arange(d)) & 1)


# --------------------------------------------------------------------------- brute force, d <= 10
BRUTE_CASES = [
    ("relu", "ck", 1, 2.0, 0.0, 6),
    ("relu", "ntk", 2, 2.0, 0.3, 8),
    ("relu", "ntk", 3, 1.3, 1.0, 10),
    ("erf", "ck", 3, 2.5, 0.1, 9),
    ("erf", "ntk", 1, 1.0, 0.0, 8),
    ("erf", "ntk", 4, 4.0, 0.5, 7),
    ("tanh", "ck", 2, 1.5, 0.2, 8),
    ("tanh", "ntk", 3, 2.0, 0.0, 7),
    ("gelu", "ck", 2, 2.0, 0.5, 8),
    ("gelu", "ntk", 3, 1.0, 0.1, 9),
]


@pytest.mark.parametrize("act,kernel,depth,wv,bv,d", BRUTE_CASES)
def test_matches_bruteforce_gram(act, kernel, depth, wv, bv, d):
    X = full_cube(d)
    K = mlp_kernel(X @ X.T / d, act, depth, wv, bv, kernel)
    brute = np.sort(np.linalg.eigvalsh(K / 2**d))
    s = cube_spectrum(d, act, depth, wv, bv, kernel)
    expanded = np.sort(np.repeat(s.eigenvalues, [math.comb(d, k) for k in range(d + 1)]))
    assert np.max(np.abs(brute - expanded)) <= 1e-12 * brute[-1]
    # trace identity on the same data
    assert abs(sum(m * e for m, e in zip(s.multiplicities, s.eigenvalues)) - K[0, 0]) <= 1e-12 * K[0, 0]


# --------------------------------------------------------------------------- independent mpmath reference
def _mp_kernel_values(d, act, depth, wv, bv, kernel, dps):
    """Own mpmath implementation of the recursion (closed-form relu/erf duals), at c_j = 1 - 2j/d."""
    with mpmath.workdps(dps):
        wv, bv = mpmath.mpf(wv), mpmath.mpf(bv)
        pi = mpmath.pi

        def duals(c, q):
            if act == "relu":
                rho = c / q
                if rho >= 1:
                    return q / 2, mpmath.mpf(1) / 2
                th = mpmath.acos(rho)
                return q * (mpmath.sin(th) + (pi - th) * rho) / (2 * pi), (pi - th) / (2 * pi)
            den = 1 + 2 * q
            return 2 / pi * mpmath.asin(2 * c / den), 4 / pi / mpmath.sqrt(den**2 - 4 * c * c)

        out = []
        for j in range(d + 1):
            c = mpmath.mpf(d - 2 * j) / d
            q = wv + bv
            sig = wv * c + bv
            th = sig
            for _ in range(depth):
                V, Vd = duals(sig, q)
                qV, _ = duals(q, q)
                sig_new = wv * V + bv
                th = sig_new + wv * Vd * th
                sig, q = sig_new, wv * qV + bv
            out.append(sig if kernel == "ck" else th)
        return out


def _mp_eigs(d, vals, dps):
    """Naive Krawtchouk sum mu_k = 2^-d sum_j K_j(k) Phi_j with exact integer K_j(k)."""
    with mpmath.workdps(dps):
        mus = []
        for k in range(d + 1):
            acc = mpmath.mpf(0)
            for j in range(d + 1):
                kr = sum((-1) ** i * math.comb(k, i) * math.comb(d - k, j - i) for i in range(0, min(j, k) + 1))
                acc += kr * vals[j]
            mus.append(acc / mpmath.mpf(2) ** d)
        return mus


@pytest.mark.parametrize("act,kernel,depth,wv,bv", [("relu", "ntk", 2, 2.0, 0.0), ("erf", "ck", 4, 2.5, 0.1)])
def test_every_degree_d128_against_mpmath(act, kernel, depth, wv, bv):
    d = 128
    s = cube_spectrum(d, act, depth, wv, bv, kernel, rtol=1e-12)
    dps = 160
    ref = _mp_eigs(d, _mp_kernel_values(d, act, depth, wv, bv, kernel, dps), dps)
    assert len(s.exact) == d + 1
    worst = 0.0
    for k in range(d + 1):
        r = ref[k]
        assert r > mpmath.mpf(10) ** (-dps + 40), "reference not resolved"
        rel = abs((s.exact[k] - r) / r)
        worst = max(worst, float(rel))
        assert s.rel_error_bound[k] <= 1e-12
    assert worst <= 1e-12
    # log10 values agree with the reference to double precision
    assert np.allclose(s.log10_eigenvalues, [float(mpmath.log10(r)) for r in ref], rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- reference values (computed independently from the closed forms; Yang & Salman 2019 setting)
@pytest.mark.parametrize("act,wv,bv,kernel,L,d,mus", [
    ("relu", 2, 0, "ck", 1, 128, [0.6391114575, 0.0078125, 3.900907422e-05, 0, 2.457375607e-09]),
    ("relu", 2, 1, "ntk", 3, 7, [9.898175403, 0.5785267557, 0.09420700047, 0.02977150248, 0.01815693938]),
    ("erf", 1, 0, "ntk", 3, 128, [0, 0.006832842838, 0, 5.739957168e-07, 0]),
    ("erf", 4, 0.5, "ck", 3, 128, [1.202192878, 0.007777258468, 1.858480132e-05, 6.226760768e-07, 8.286966273e-09]),
])
def test_reference_table(act, wv, bv, kernel, L, d, mus):
    s = cube_spectrum(d, act, L, wv, bv, kernel, degrees=range(5))
    for got, want in zip(s.eigenvalues, mus):
        if want == 0:
            assert got == 0.0
        else:
            assert abs(got - want) <= 5e-10 * abs(want)


def test_exact_zero_by_symmetry_is_zero_not_noise():
    s = cube_spectrum(64, "erf", 3, 2.0, 0.0, "ck")
    assert all(s.eigenvalues[k] == 0.0 and s.method[k] == "zero" for k in range(0, 65, 2))
    assert all(s.eigenvalues[k] > 0 for k in range(1, 65, 2))
    assert s.log10_eigenvalues[2] == -np.inf
    s = cube_spectrum(20, "relu", 1, 2.0, 0.0, "ntk")
    assert all(s.eigenvalues[k] == 0.0 for k in range(3, 21, 2))
    assert s.eigenvalues[1] > 0


def test_underflowing_eigenvalues_are_faithful():
    s = cube_spectrum(1200, "relu", 2, 2.0, 0.0, "ntk", degrees=[1199, 1200])
    assert np.all(s.eigenvalues < 1e-300)  # underflows (to 0 or a subnormal) in float64
    assert np.all(s.log10_eigenvalues < -308) and np.all(s.log10_eigenvalues > -1e4)
    assert abs(float(mpmath.log10(s.exact[0])) - s.log10_eigenvalues[0]) < 1e-9
    assert np.all(s.rel_error_bound <= 1e-12)


def test_float64_tolerance_holds_against_exact():
    rng = np.random.default_rng(0)
    for act in ["relu", "erf", "gelu", "abs", "leaky_relu(0.2)"]:
        for _ in range(4):
            d = int(rng.integers(4, 200))
            L = int(rng.integers(0, 7))
            wv, bv = float(rng.uniform(0.5, 4)), float(rng.choice([0.0, rng.uniform(0, 2)]))
            kern = str(rng.choice(["ck", "ntk"]))
            f = cube_spectrum(d, act, L, wv, bv, kern, precision="float64")
            e = cube_spectrum(d, act, L, wv, bv, kern, rtol=1e-14)
            bound = np.where(np.isfinite(f.rel_error_bound), f.rel_error_bound * np.abs(f.eigenvalues), np.inf)
            err = np.abs(f.eigenvalues - e.eigenvalues)
            ok = (err <= bound) | (err == 0) | ~np.isfinite(f.rel_error_bound)
            assert ok.all(), (act, d, L, wv, bv, kern, err[~ok], bound[~ok])
            # where the bound is infinite, the tolerance exceeds the value: check the absolute tolerance
            inf = ~np.isfinite(f.rel_error_bound)
            if inf.any():
                scale = max(abs(f.trace), 1.0)
                assert np.max(err[inf]) <= 1e-11 * scale


def test_grid_matches_single_points():
    g = cube_spectrum_grid(32, "relu", 4, [1.0, 2.0, 3.0], [0.0, 0.7], max_degree=6)
    for L in (0, 2, 4):
        for i, wv in enumerate([1.0, 2.0, 3.0]):
            for j, bv in enumerate([0.0, 0.7]):
                for kern in ("ck", "ntk"):
                    s = cube_spectrum(32, "relu", L, wv, bv, kern, degrees=range(7))
                    got = getattr(g, f"eigenvalues_{kern}")[L, i, j]
                    bound = getattr(g, f"abs_error_bound_{kern}")[L, i, j]  # same for every degree
                    assert np.all(np.abs(got - s.eigenvalues) <= bound + 1e-300)
                    fv = getattr(g, f"fractional_variance_{kern}")[L, i, j]
                    comb = np.array([math.comb(32, k) for k in range(7)], float)
                    fv_tol = comb * bound / s.trace + 1e-12 * s.fractional_variance
                    assert np.all(np.abs(fv - s.fractional_variance) <= fv_tol)


def test_grid_hermite_activation_matches_single_point():
    g = cube_spectrum_grid(12, "tanh", 2, [1.5], [0.2], max_degree=4)
    s = cube_spectrum(12, "tanh", 2, 1.5, 0.2, "ntk", degrees=range(5))
    assert np.allclose(g.eigenvalues_ntk[2, 0, 0], s.eigenvalues, rtol=1e-10)


def test_grid_save_load_roundtrip_and_foreign_file(tmp_path):
    from spectra.analytic import load_cube_grid

    g = cube_spectrum_grid(8, "erf", 2, [1.0, 2.0], [0.0], max_degree=3)
    p = tmp_path / "g.npz"
    g.save(p)
    h = load_cube_grid(p)
    assert np.array_equal(h.eigenvalues_ntk, g.eigenvalues_ntk)
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.ones(3))
    with pytest.raises(ValueError, match="not a spectra"):
        load_cube_grid(bad)
    txt = tmp_path / "t.npz"
    txt.write_text("hello")
    with pytest.raises(ValueError, match="not a spectra"):
        load_cube_grid(txt)


def test_json_keys_and_exact_zero():
    s = cube_spectrum(6, "erf", 1, 1.0, 0.0, "ck")
    obj = json.loads(s.to_json())
    for key in ["degrees", "eigenvalues", "log10_eigenvalues", "multiplicities", "fractional_variance", "rel_error_bound"]:
        assert len(obj[key]) == 7
    assert obj["log10_eigenvalues"][0] is None and obj["eigenvalues"][0] == 0.0  # exact zero (issue #13)
    assert obj["activation"] == "erf" and obj["dim"] == 6


def test_max_learning_rate_is_full_cube_threshold():
    d = 8
    X = full_cube(d)
    K = mlp_kernel(X @ X.T / d, "relu", 2, 2.0, 0.1, "ntk")
    lam = np.linalg.eigvalsh(K)[-1]
    s = cube_spectrum(d, "relu", 2, 2.0, 0.1, "ntk", degrees=[0])
    assert abs(s.max_learning_rate - 2 * 2**d / lam) <= 1e-12 * s.max_learning_rate


# --------------------------------------------------------------------------- property tests
hp = dict(
    act=st.sampled_from(["relu", "erf", "gelu", "abs", "sin", "leaky_relu(0.1)"]),
    kern=st.sampled_from(["ck", "ntk"]),
    d=st.integers(1, 24),
    L=st.integers(0, 5),
    wv=st.floats(0.2, 4.0),
    bv=st.sampled_from([0.0, 0.05, 0.5, 2.0]),
)


@settings(max_examples=40, deadline=None)
@given(**hp)
def test_trace_nonnegativity_parity(act, kern, d, L, wv, bv):
    s = cube_spectrum(d, act, L, wv, bv, kern)
    total = math.fsum(float(m * e) for m, e in zip(s.multiplicities, s.exact))
    assert abs(total - s.trace) <= 1e-11 * abs(s.trace)
    assert np.all(s.eigenvalues >= 0)
    struct = kernel_structure(act, L, bv, kern)
    odd_kernel = struct[1] == -1
    even_kernel = struct[0] == -1
    if odd_kernel:
        assert np.all(s.eigenvalues[0::2] == 0)
    if even_kernel:
        assert np.all(s.eigenvalues[1::2] == 0)
    if act == "erf" and bv == 0.0:
        assert odd_kernel and np.all(s.eigenvalues[0::2] == 0)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,match", [
    (dict(dim=0), "dim"),
    (dict(dim=4, weight_var=-1.0), "weight_var"),
    (dict(dim=4, bias_var=float("nan")), "bias_var"),
    (dict(dim=4, activation="nope"), "activation"),
    (dict(dim=4, depth=-1), "depth"),
    (dict(dim=4, kernel="rbf"), "kernel"),
    (dict(dim=4, degrees=[5]), "degrees"),
    (dict(dim=4, degrees=[-1]), "degrees"),
    (dict(dim=4, rtol=0.0), "rtol"),
    (dict(dim=4, precision=10), "precision"),
])
def test_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        cube_spectrum(**kwargs)
