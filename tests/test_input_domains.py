"""Issue #15 (a stated domain, no silent inf/NaN, clear errors) and #11 (the guarantee column).

Every reproducer of the issue handled here is a test: a correct value within its bound (against
an independent reference: an mpmath recursion, a 2-D Gauss-Hermite rule, the certified Arb
path), or a ``ValueError`` whose message names the argument or the depth, within 10 s.
"""
import json
import math
import time
import warnings

import mpmath
import numpy as np
import pytest

from spectra.analytic import MLPKernel, cube_spectrum, get_activation, mlp_kernel, sphere_spectrum
from spectra.analytic.accuracy import AccuracyWarning
from spectra.analytic.spectrum import Spectrum, guarantee_of
from spectra.empirical import MLP, train
from spectra.empirical.metrics import (kernel_alignment, relative_kernel_change, sharpness, sharpness_curve,
                                       top_k_energy)
from spectra.empirical.training import Constant, Schedule, StepDecay

TINY = float(np.finfo(float).tiny)


def _timed(fn, limit=10.0):
    t = time.perf_counter()
    out = fn()
    assert time.perf_counter() - t < limit
    return out


# ---------------------------------------------------------------------------------------------
# 1. the domain: variances, Cauchy-Schwarz, zero norms
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda: mlp_kernel(0.5, "relu", 1, 1e-320, 0.0, "ck"),
    lambda: mlp_kernel(0.5, "relu", 1, 2.0, 1e-320, "ck"),
    lambda: cube_spectrum(4, "relu", 1, 1e-320, 0.0, "ck"),  # gave trace 0
    lambda: MLPKernel("erf", 1, 2.0, 5e-324),
])
def test_subnormal_variances_refused(call):
    with pytest.raises(ValueError, match=r"(weight|bias)_var must be .*2\.2250738585072014e-308"):
        call()


def test_smallest_normal_variance_and_zero_bias_accepted():
    assert float(MLPKernel("relu", 0, TINY, 0.0, "ck")(1.0)) == TINY
    assert float(mlp_kernel(1.0, "erf", 1, 2.0, TINY, "ck")) > 0


@pytest.mark.parametrize("call, where", [
    # the grid reproducer's kernel (weight_var 1e308: inf eigenvalues and a NaN trace before)
    (lambda: cube_spectrum(8, "relu", 2, 1e308, 0.0, "ck"), "input layer"),
    (lambda: mlp_kernel(0.5, "relu", 2, 1e154, 0.0, "ck"), "depth 1"),
    # 'cannot convert float NaN to integer' before
    (lambda: cube_spectrum(8, "relu", 2, 1e200, 0.0, "ntk"), "depth 1"),
    (lambda: cube_spectrum(8, "monomial(2)", 20, 2.0, 0.0, "ntk", precision=64), "depth 9"),  # inf, max_lr 0
    (lambda: cube_spectrum(1, "monomial(3)", 5, 3.0, 0.0, "ck"), "depth 5"),  # OverflowError before
    (lambda: cube_spectrum(33, "monomial(2)", 10, 100, 100, "ck", precision="float64"), "depth 6"),  # OverflowError
])
def test_overflowing_kernels_refused_naming_the_depth(call, where):
    with pytest.raises(ValueError, match="overflows float64") as exc:
        _timed(call)
    assert where in str(exc.value) and "use a smaller" in str(exc.value)


def test_overflow_message_gives_the_exact_magnitude():
    # x^2 squares the variance: Sigma^{l+1}(1) = 2 * 3 * Sigma^l(1)^2 with Sigma^1 = 2 (weight_var 2)
    q = mpmath.mpf(2)
    for _ in range(9):
        q = 2 * 3 * q**2
    with pytest.raises(ValueError) as exc:
        MLPKernel("monomial(2)", 20, 2.0, 0.0, "ck")
    assert f"10^{float(mpmath.log10(q)):.1f}" in str(exc.value)


def test_underflowing_kernels_refused():
    with pytest.raises(ValueError, match="underflows float64 at depth 1"):
        mlp_kernel(0.5, "relu", 3, 1e-300, 0.0, "ck")  # Sigma^2 = 5e-601
    with pytest.raises(ValueError, match="underflows float64 at depth 1"):
        MLPKernel("tanh", 3, 1e-300, 0.0)
    # a tiny weight variance is fine while the diagonal stays a normal float
    assert 0 < float(mlp_kernel(0.5, "tanh", 30, 1e-8, 0.0, "ck")) < 1e-230


def test_cauchy_schwarz():
    with pytest.raises(ValueError, match="Cauchy-Schwarz"):
        mlp_kernel(2.0, "relu", 2)
    with pytest.raises(ValueError, match="Cauchy-Schwarz"):
        MLPKernel("relu", 2)(np.array([0.5, -1.5]))
    with pytest.raises(ValueError, match="Cauchy-Schwarz"):
        mlp_kernel(0.8, "erf", 1, norm_x=0.5, norm_y=1.0)  # sqrt(0.5) = 0.707
    # the zero-norm reproducer (NaN before): c = 1 with norm_x = 0 is impossible
    with pytest.raises(ValueError, match="Cauchy-Schwarz"):
        mlp_kernel(1.0, "gelu", 2, 4.0, 1e-8, "ntk", norm_x=0.0, norm_y=0.5)
    # rounding-level violations are clipped to the bound, not refused
    assert float(mlp_kernel(1 + 1e-12, "relu", 2)) == float(mlp_kernel(1.0, "relu", 2))
    assert float(mlp_kernel(-1 - 1e-12, "gelu", 2)) == float(mlp_kernel(-1.0, "gelu", 2))


def test_zero_norm_without_bias_refused():
    for act in ("relu", "gelu", "tanh"):
        with pytest.raises(ValueError, match="norm 0 with bias_var=0"):
            mlp_kernel(0.0, act, 2, 4.0, 0.0, "ntk", norm_x=0.0, norm_y=0.5)
    with pytest.raises(ValueError, match="norm 0 with bias_var=0"):
        MLPKernel("relu", 1, 2.0, 0.0)(0.0, norm_x=0.0)


def _gauss_hermite_2d(phi, a, b, c, n=160):
    """E[phi(u) phi(v)] for (u, v) ~ N(0, [[a, b], [b, c]]): a 2-D Gauss-Hermite rule (an independent reference)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / w.sum()
    Z1, Z2 = np.meshgrid(z, z, indexing="ij")
    W = np.outer(w, w)
    u = math.sqrt(a) * Z1
    v = (b / math.sqrt(a)) * Z1 + math.sqrt(max(c - b * b / a, 0.0)) * Z2
    return float(np.sum(W * phi(u) * phi(v)))


def _relu_pair(a, b, c):
    """E[relu(u) relu(v)] and E[step(u) step(v)] for covariance [[a, b], [b, c]] (Cho & Saul 2009)."""
    t = math.acos(b / math.sqrt(a * c))
    return (math.sqrt(a * c) * (math.sin(t) + (math.pi - t) * math.cos(t)) / (2 * math.pi),
            (math.pi - t) / (2 * math.pi))


@pytest.mark.parametrize("act", ["tanh", "gelu", "erf", "sin", "relu"])
def test_zero_norm_with_bias_is_the_kernel_of_the_bias(act):
    # norm_x = 0: the first-layer pre-activation of x is N(0, bias_var), correlated with y's by bias_var
    wv, bv, ny = 2.0, 0.3, 0.5
    a, rtol = get_activation(act), 1e-10
    if act == "relu":
        v, dv = _relu_pair(bv, bv, wv * ny + bv)
    else:  # smooth: a 160 x 160 Gauss-Hermite rule converges to rounding
        v, dv = (_gauss_hermite_2d(f, bv, bv, wv * ny + bv) for f in (a.fn, a.derivative))
    ref_ck = wv * v + bv
    ref_ntk = ref_ck + wv * dv * bv
    ck = float(mlp_kernel(0.0, act, 1, wv, bv, "ck", norm_x=0.0, norm_y=ny))
    ntk = float(mlp_kernel(0.0, act, 1, wv, bv, "ntk", norm_x=0.0, norm_y=ny))
    assert ck == pytest.approx(ref_ck, rel=rtol)
    assert ntk == pytest.approx(ref_ntk, rel=rtol)
    # the parameters, at a possible c: finite (NaN before for c = 1, which is refused now)
    v = mlp_kernel(0.0, act, 2, 4.0, 1e-8, "ntk", norm_x=0.0, norm_y=0.5)
    assert np.isfinite(v) and v >= 0


# ---------------------------------------------------------------------------------------------
# 2. overflow on the way is repaired; negative eigenvalues are flagged
# ---------------------------------------------------------------------------------------------
def _relu_reference(c, depth, wv, kind):
    """The relu CK/NTK at correlation c, unit norms, no bias: an mpmath recursion (arc-cosine kernel)."""
    with mpmath.workdps(60):
        q, s, theta = mpmath.mpf(wv), mpmath.mpf(wv) * c, mpmath.mpf(wv) * c
        for _ in range(depth):
            rho = s / q
            t = mpmath.acos(rho)
            s_new = wv * q * (mpmath.sin(t) + (mpmath.pi - t) * rho) / (2 * mpmath.pi)
            theta = s_new + wv * (mpmath.pi - t) / (2 * mpmath.pi) * theta
            s, q = s_new, wv * q / 2
        return s if kind == "ck" else theta


@pytest.mark.parametrize("kind", ["ck", "ntk"])
def test_deep_relu_kernel_is_finite_and_right(kind):
    # NaN before (sqrt(v1 v2) overflowed); the truth is about 1.4e157 (CK) and 7e159 (NTK)
    vals = _timed(lambda: mlp_kernel([0.5, 1.0], "relu", 520, 4.0, 0.0, kind))
    ref = [_relu_reference(mpmath.mpf(c), 520, 4, kind) for c in (0.5, 1.0)]
    assert np.all(np.isfinite(vals))
    for v, r in zip(vals, ref):
        assert abs(v - float(r)) <= 1e-13 * float(r)
    if kind == "ck":
        assert vals[1] == 2.0**522  # Sigma(x, x) = weight_var * 2^L exactly


def test_cos_at_large_weight_variance_is_finite_and_right():
    # all NaN before (exp(-1000) cosh(1000) = 0 * inf); checked against the certified Arb path
    f64 = _timed(lambda: cube_spectrum(3, "cos", 3, 1000.0, 0.5, "ntk", precision="float64"))
    arb = cube_spectrum(3, "cos", 3, 1000.0, 0.5, "ntk", precision=256)
    assert np.all(np.isfinite(f64.eigenvalues)) and math.isfinite(f64.trace)
    err = np.abs(f64.eigenvalues - arb.eigenvalues) / arb.eigenvalues
    assert np.all(err <= f64.rel_error_bound) and np.all(f64.rel_error_bound < 1e-10)
    assert f64.max_learning_rate == pytest.approx(2 / np.max(arb.eigenvalues), rel=1e-10)


def test_deep_gelu_is_a_clear_error():
    # "cannot convert float NaN to integer" before
    for depth in (170, 1000):
        with pytest.raises(ValueError, match="float64 kernel is not valid at depth 163") as exc:
            _timed(lambda: cube_spectrum(16, "gelu", depth, 2.5, 0, "ck"))
        assert "use a smaller weight_var or depth" in str(exc.value)


def test_negative_float64_eigenvalues_are_flagged():
    # -1.5e-19 with a NaN log10 (cube) and -2.5e-20 (sphere): bound inf, guarantee 'none', a warning
    with pytest.warns(AccuracyWarning):
        s = _timed(lambda: cube_spectrum(33, "swish", 1, 0.1, 1.0, "ck", precision="float64"))
    neg = s.eigenvalues < 0
    assert np.any(neg) and np.all(np.isinf(s.rel_error_bound[neg]))
    assert all(s.guarantee[i] == "none" for i in np.flatnonzero(neg))
    with pytest.warns(AccuracyWarning):
        s = sphere_spectrum(64, "cos", 2, 0.1, 100.0, "ntk", precision="float64", degrees=[7])
    assert s.eigenvalues[0] < 0 and s.guarantee == ["none"] and not s.meets_rtol[0]


def _spectrum(eig, rel, cert, method, trace=1.0):
    n = len(eig)
    return Spectrum("cube", 4, np.arange(n), np.asarray(eig, dtype=float), np.zeros(n), [mpmath.mpf(0)] * n,
                    [1] * n, np.zeros(n), np.asarray(rel, dtype=float), np.asarray(cert), list(method), trace)


def test_spectrum_refuses_non_finite_and_distrusts_negative_values():
    with pytest.raises(ValueError, match=r"non-finite eigenvalues at degrees \[1\]"):
        _spectrum([1.0, np.nan], [0, 0], [True, True], ["arb@64"] * 2)
    with pytest.raises(ValueError, match="non-finite"):
        _spectrum([1.0, np.inf], [0, 0], [True, True], ["arb@64"] * 2)
    with pytest.raises(ValueError, match="trace"):
        _spectrum([1.0], [0], [True], ["arb@64"], trace=np.nan)
    s = _spectrum([1.0, -1e-20], [1e-20, 1e-30], [True, True], ["arb@64"] * 2)
    assert s.rel_error_bound.tolist() == [1e-20, math.inf] and s.certified.tolist() == [True, False]
    assert s.guarantee == ["certified", "none"]


def test_activation_parameters_overflow_is_a_value_error():
    with pytest.raises(ValueError, match="slope"):
        get_activation("leaky_relu(1e308)")


# ---------------------------------------------------------------------------------------------
# 3. the empirical side
# ---------------------------------------------------------------------------------------------
def _gram():
    X = np.random.default_rng(0).standard_normal((6, 3))
    return X @ X.T, X, X[:, 0]


def test_alignment_of_huge_grams():
    K, _, y = _gram()
    a = kernel_alignment(K, y)
    assert 0 < a < 1
    assert kernel_alignment(K * 2.0**900, y) == a  # a power of two: exactly the same rounding
    assert kernel_alignment(K * 1e300, y) == pytest.approx(a, rel=1e-14)  # was NaN or 0
    assert kernel_alignment(K, y * 1e300) == pytest.approx(a, rel=1e-14)
    assert kernel_alignment(K * 1e300, y, centered=True) == pytest.approx(kernel_alignment(K, y, centered=True),
                                                                         rel=1e-14)


def test_sharpness_and_energies_of_huge_grams():
    big = np.full((3, 3), 1e308)  # LinAlgError before
    assert sharpness(big, 0.1) == pytest.approx(1e307, rel=1e-14)  # 0.1 * lambda_max (3e308) / 3
    lam, s = sharpness_curve([big], [0.1])
    assert lam[0] == pytest.approx(1e308, rel=1e-14) and s[0] == pytest.approx(1e307, rel=1e-14)
    with pytest.raises(ValueError, match="overflows float64"):
        sharpness(np.eye(3) * 1e308, 10.0)
    K, _, y = _gram()
    assert np.allclose(top_k_energy(K * 1e300, y * 1e300), top_k_energy(K, y), rtol=1e-12, atol=1e-14)
    assert relative_kernel_change(big, -big) == 2.0  # NaN before
    assert relative_kernel_change(big, big / 2, normalized=True) == 0.0


def test_training_overflows_are_clear():
    _, X, y = _gram()
    with pytest.raises(ValueError, match="StepDecay.*overflows float64"):
        train(MLP(3, 8, depth=1, seed=0), X, y, n_steps=20, schedule=StepDecay(1.0, list(range(1, 15)), 1e100))

    class Bad(Schedule):
        def __call__(self, step):
            return math.inf if step >= 2 else 0.1

        def to_dict(self):
            return {"kind": "bad"}

    with pytest.raises(ValueError, match="lr=inf at step 2"):
        train(MLP(3, 8, depth=1, seed=0), X, y, n_steps=5, schedule=Bad(), record=("loss",))


def test_a_raising_custom_activation_in_training():
    from spectra.analytic import custom_activation

    _, X, y = _gram()
    exp = np.vectorize(math.exp)  # math.exp raises OverflowError beyond 709
    act = custom_activation(lambda x: exp(x), lambda x: exp(x))
    with pytest.warns(RuntimeWarning, match="OverflowError"):
        run = train(MLP(3, 8, depth=1, seed=0, activation=act), X * 300, y, n_steps=5, lr=1.0, record=("loss",))
    assert run.diverged and "the network raised OverflowError" in run.message

    def picky(x):
        x = np.asarray(x, dtype=float)
        if np.any(np.abs(x) > 50):
            raise RuntimeError("input too large")
        return np.tanh(x)

    act = custom_activation(picky, lambda x: 1 - np.tanh(x) ** 2)
    with pytest.raises(ValueError, match="RuntimeError at step 0: input too large"):
        train(MLP(3, 8, depth=1, seed=0, activation=act), X * 300, y, n_steps=5, lr=1.0, record=("loss",))


def test_constant_rate_training_unchanged():
    _, X, y = _gram()
    a = train(MLP(3, 8, depth=1, seed=0), X, y, n_steps=30, lr=0.1, record=("loss",))
    b = train(MLP(3, 8, depth=1, seed=0), X, y, n_steps=30, schedule=Constant(0.1), record=("loss",))
    assert np.array_equal(a.train_loss, b.train_loss) and not a.diverged


# ---------------------------------------------------------------------------------------------
# 5. the guarantee column (#11)
# ---------------------------------------------------------------------------------------------
def test_guarantee_of():
    assert guarantee_of(True, "arb@100", 1e-30) == "certified"
    assert guarantee_of(True, "zero", 0.0) == "certified"
    assert guarantee_of(False, "arb-mehler@300", 1e-30) == "verified"
    assert guarantee_of(False, "arb-gl 56/80 @135", 1e-30) == "verified"
    assert guarantee_of(False, "radial 24/32 x float64-gl 56", 1e-8) == "float64"
    assert guarantee_of(False, "homogeneous: sphere float64", 1e-12) == "float64"
    assert guarantee_of(True, "arb@100", math.inf) == "none"


def test_guarantee_cube_arb_and_float64_paths():
    s = cube_spectrum(8, "relu", 2, degrees=[0, 1, 2, 3])  # mu_0 by float64, the rest certified
    assert s.method[0] == "float64" and s.method[1].startswith("arb@")
    assert s.guarantee == ["float64", "certified", "certified", "certified"]
    f = cube_spectrum(8, "erf", 2, precision="float64", rtol=1e-6)
    assert set(f.guarantee) == {"float64", "certified"}
    assert all(g == ("certified" if m == "zero" else "float64") for g, m in zip(f.guarantee, f.method))
    a = cube_spectrum(8, "erf", 2, precision=200)
    assert all(g == "certified" for g in a.guarantee)


def test_guarantee_sphere_and_mehler():
    s = sphere_spectrum(10, "relu", 2, max_degree=3)
    assert all(m.startswith("arb-gl") for m in s.method)
    # a rigorous Funk-Hecke bound is 'certified'; two rule sizes (arb-gl N1/N2) are 'verified'
    assert s.guarantee == ["certified" if c else "verified" for c in s.certified]
    f = sphere_spectrum(10, "relu", 2, max_degree=3, precision="float64", rtol=1e-6)
    assert f.guarantee == ["float64"] * 4
    t = cube_spectrum(8, "tanh", 1, 2.0, 0.1, degrees=[3])
    assert t.method[0].startswith("arb-mehler") and t.guarantee == ["verified"]


def test_guarantee_in_every_output(tmp_path):
    s = cube_spectrum(8, "relu", 2, degrees=[0, 1, 2])
    assert [r["guarantee"] for r in s.rows()] == s.guarantee
    assert json.loads(s.to_json())["guarantee"] == s.guarantee
    csv_rows = [line for line in s.to_csv().splitlines() if not line.startswith("#")]
    assert csv_rows[0].split(",")[-1] == "guarantee"
    assert [r.split(",")[-1] for r in csv_rows[1:]] == s.guarantee
    table = s.to_table().splitlines()
    assert table[3].split()[-1] == "guarantee" and [line.split()[-1] for line in table[4:]] == s.guarantee
    s.save(tmp_path / "s.json")
    assert Spectrum.load(tmp_path / "s.json").guarantee == s.guarantee


def test_no_runtime_warnings_leak_from_repaired_values():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        mlp_kernel([0.5, 1.0], "relu", 520, 4.0, 0.0, "ck")


def test_domain_check_of_a_whole_grid():
    # what cube_spectrum_grid needs (it returned inf/NaN for these): one vectorized check over the grid
    from spectra.analytic._kernel_domain import check_kernel_domain

    def check(act, L, wv, bv):
        check_kernel_domain(get_activation(act), L, np.asarray(wv, float)[:, None], np.asarray(bv, float)[None, :],
                            "ntk", float_only=True)

    with pytest.raises(ValueError, match=r"weight_var=1e\+308.*overflows float64 at the input layer"):
        check("relu", 2, [2.0, 1e308], [0.0])
    with pytest.raises(ValueError, match="overflows float64 at depth 9"):
        check("monomial(2)", 30, [2.0], [0, 1, 2])
    with pytest.raises(ValueError, match="bias_var=0.*underflows"):
        check("tanh", 3, [1e-300], [0.0, 1.0])
    check("erf", 8, [1.0, 2.0, 3.0], [0.0, 0.5, 1.0])  # the golden grid: accepted
