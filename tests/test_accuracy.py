"""Issue #11: every activation to the requested accuracy, and never a silent miss.

References are independent of the package's method: the smooth activations' cube spectra come
from tests/data/smooth_reference.json (Gauss-Hermite quadrature and Mehler's series in mpmath,
made by tests/data/make_smooth_reference.py), the package uses the trapezoidal rule in Arb.
"""
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from spectra.analytic import cube_spectrum, custom_activation, get_activation, sphere_spectrum
from spectra.analytic.accuracy import AccuracyError, AccuracyWarning, unreliable_fraction_mask

DATA = Path(__file__).parent / "data" / "smooth_reference.json"
SMOOTH = ["tanh", "softplus", "sigmoid", "swish"]


def _reference_cases():
    if not DATA.exists():
        return []
    return json.loads(DATA.read_text())["cases"]


@pytest.mark.parametrize("case", [c for c in _reference_cases() if c["activation"] in SMOOTH], ids=lambda c: f"{c['activation']}-L{c['depth']}-{c['kernel']}-d{c['dim']}")
def test_smooth_cube_matches_independent_reference(case):
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccuracyWarning)  # must meet rtol: no warning
        s = cube_spectrum(case["dim"], case["activation"], case["depth"], 2.0, 0.1, case["kernel"])
    assert s.meets_rtol.all() and np.all(s.rel_error_bound <= 1e-12)
    with mpmath.workdps(50):  # the references have 40 digits: compare them at more than 53 bits
        _compare(s, case)


def _compare(s, case):
    ref = [mpmath.mpf(x) for x in case["mu"]]
    ref2 = [mpmath.mpf(x) for x in case["mu_fewer_nodes"]]
    for k in range(case["dim"] + 1):
        if ref[k] == 0:
            continue
        ref_err = abs(ref[k] - ref2[k])  # the reference's own (two node counts) uncertainty
        rel = abs(s.exact[k] - ref[k]) / abs(ref[k])
        assert rel <= 1e-10, (k, float(rel))
        # the bound holds (up to the reference's own error)
        assert abs(s.exact[k] - ref[k]) <= s.rel_error_bound[k] * abs(s.exact[k]) + 2 * ref_err + abs(ref[k]) * 1e-30


def test_tanh_without_bias_has_exact_even_zeros():
    s = cube_spectrum(16, "tanh", 2, 2.0, 0.0, "ntk")
    assert all(s.exact[k] == 0 and s.method[k] == "zero" for k in range(0, 17, 2))
    assert s.meets_rtol.all() and all(s.exact[k] > 0 for k in range(1, 17, 2))


def test_precision_is_honoured_for_smooth_activations():
    # was: TypeError '>' not supported between 'NoneType' and 'int'
    s = cube_spectrum(8, "tanh", 2, 2.0, 0.1, precision=100)
    assert all(m == "arb-mehler@100" for m in s.method)
    assert not s.certified.any()  # verified, not certified
    t = sphere_spectrum(100, "tanh", 2, 2.0, 0.1, max_degree=4, precision=160)
    assert "@160" in t.method[0]


def test_precision_refused_for_float64_only_activations():
    act = custom_activation(np.tanh, lambda x: 1 - np.tanh(x) ** 2, "plain")
    with pytest.raises(ValueError, match="precision"):
        cube_spectrum(8, act, 1, precision=100)
    with pytest.raises(ValueError, match="precision"):
        sphere_spectrum(50, act, 1, max_degree=3, precision=100)


def test_miss_warns_names_degrees_and_strict_raises():
    with pytest.warns(AccuracyWarning, match=r"degrees \[.*\]; worst bound"):
        s = cube_spectrum(8, "tanh", 2, 2.0, 0.1, precision="float64", rtol=1e-15)
    assert s.rtol == 1e-15 and not s.meets_rtol.all()
    assert np.array_equal(s.meets_rtol, s.rel_error_bound <= 1e-15)
    with pytest.raises(AccuracyError):
        cube_spectrum(8, "tanh", 2, 2.0, 0.1, precision="float64", rtol=1e-15, strict=True)
    with pytest.warns(AccuracyWarning):  # the float64 path cannot reach 1e-15: says so
        sphere_spectrum(10, "tanh", 2, 2.0, 0.1, max_degree=6, precision="float64", rtol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccuracyWarning)
        cube_spectrum(8, "relu", 2)  # meets rtol: silent


def test_rtol_is_honoured_not_ignored():
    loose = cube_spectrum(16, "tanh", 2, 2.0, 0.1, rtol=1e-6)
    tight = cube_spectrum(16, "tanh", 2, 2.0, 0.1, rtol=1e-20)
    assert loose.meets_rtol.all() and tight.meets_rtol.all()
    assert np.all(tight.rel_error_bound <= 1e-20)


def test_exact_holds_full_working_precision():
    # was: arb_to_mpf rounded to mpmath's 53-bit context
    from flint import arb

    from spectra.analytic.precision import arb_to_mpf, working_precision

    with working_precision(200):
        x = arb(1) / 3
        m = arb_to_mpf(x)
    man, exp = x.mid().man_exp()
    assert m == mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(int(man), int(exp)))
    assert m._mpf_[3] > 150  # about 200 bits kept (mpmath.mpf((man, exp)) kept 53)
    s = cube_spectrum(64, "relu", 2, degrees=[64])
    assert s.exact[0]._mpf_[3] > 60  # more mantissa bits than a double


def test_hermite_float64_bound_holds_where_k_max_is_reached():
    # the float64 Hermite tolerance must cover the true error (tanh at q = 2.6: about 2e-14 relative)
    from flint import arb

    from spectra.analytic import hermite
    from spectra.analytic._mehler import mehler_duals
    from spectra.analytic.precision import working_precision

    act = get_activation("tanh")
    q = 2.6
    with working_precision(200):
        exact = mehler_duals([(act.mehler[0], arb(q))], 200, act.mehler[2]).endpoint(1)
    ref = float(exact.mid())
    hv = act.hermite[0]
    assert abs(float(hv(q, q, q)) - ref) <= hv.error_bound([q], [q])
    assert "2e-14" in hermite.__doc__


def test_unreliable_fraction_mask():
    fv = np.array([0.5, 1e-9, -1e-8, 1.2])
    mask = unreliable_fraction_mask(fv, 1e-12, [1, 100, 1, 10**15], 1.0)
    assert mask.tolist() == [False, True, True, True]


def test_cli_warning_line_and_strict_exit_code():
    cmd = [sys.executable, "-m", "spectra", "eigen", "--domain", "cube", "--dim", "8", "--activation", "tanh",
           "--precision", "float64", "--rtol", "1e-15", "--quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0 and "spectra: warning:" in r.stderr and "degrees [" in r.stderr
    r = subprocess.run(cmd + ["--strict"], capture_output=True, text=True)
    assert r.returncode == 3 and "spectra: error:" in r.stderr
    r = subprocess.run(cmd[:-5] + ["--quiet", "--strict"], capture_output=True, text=True)  # relu default rtol: met
    assert r.returncode == 0 and "warning" not in r.stderr


ACTS = ["relu", "erf", "gelu", "tanh", "sigmoid", "softplus", "swish", "abs", "sin"]


@settings(max_examples=25, deadline=None)
@given(act=st.sampled_from(ACTS), domain=st.sampled_from(["cube", "sphere"]), d=st.integers(2, 12),
       depth=st.integers(0, 2), rtol_exp=st.integers(-16, -2), prec=st.sampled_from(["float64", "auto"]))
def test_no_silent_miss(act, domain, d, depth, rtol_exp, prec):
    rtol = 10.0 ** rtol_exp
    fn = cube_spectrum if domain == "cube" else sphere_spectrum
    kw = {} if domain == "cube" else {"max_degree": 6}
    if domain == "sphere" and prec == "auto" and act in SMOOTH:
        prec = "float64"  # small d: the sphere takes the float64 path for these anyway
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = fn(max(d, 2), act, depth, 2.0, 0.1, rtol=rtol, precision=prec, **kw)
    warned = any(issubclass(w.category, AccuracyWarning) for w in caught)
    missed = bool(np.any(~(s.rel_error_bound <= rtol)))
    assert warned == missed
    assert np.array_equal(s.meets_rtol, s.rel_error_bound <= rtol)
    if missed:
        with pytest.raises(AccuracyError):
            fn(max(d, 2), act, depth, 2.0, 0.1, rtol=rtol, precision=prec, strict=True, **kw)


MISH = "x*tanh(log(1 + exp(x)))"


def _mish_np(x):
    return x * np.tanh(np.logaddexp(0.0, x))


def test_sympy_mish_forward_pass_matches_numpy():
    from spectra.empirical.network import MLP

    mish = custom_activation(MISH, name="mish")
    x = np.linspace(-6, 6, 101)
    assert np.allclose(mish.fn(x), _mish_np(x), rtol=1e-14, atol=1e-15)
    h = 1e-6
    assert np.allclose(mish.derivative(x), (_mish_np(x + h) - _mish_np(x - h)) / (2 * h), rtol=1e-7, atol=1e-8)
    plain = custom_activation(_mish_np, mish.derivative, name="mish")
    X = np.random.default_rng(0).standard_normal((5, 4))
    a = MLP(4, 32, depth=2, activation=mish, seed=1).forward(X)[0]
    b = MLP(4, 32, depth=2, activation=plain, seed=1).forward(X)[0]
    assert np.allclose(a, b, rtol=1e-13, atol=1e-14)
    with pytest.raises(ValueError, match="parity"):
        custom_activation(MISH, parity="odd")
    with pytest.raises(ValueError, match="one variable"):
        custom_activation("x*y")


def test_sympy_mish_cube_matches_independent_reference():
    cases = [c for c in _reference_cases() if c["activation"] == "mish"]
    if not cases:
        pytest.skip("no mish reference (python tests/data/make_smooth_reference.py mish)")
    mish = custom_activation(MISH, name="mish")
    for case in cases:
        s = cube_spectrum(case["dim"], mish, case["depth"], 2.0, 0.1, case["kernel"])
        assert np.all(s.rel_error_bound <= 1e-12)
        with mpmath.workdps(50):
            _compare(s, case)


@pytest.mark.slow
def test_sphere_smooth_large_dim_meets_rtol_and_agrees_with_float64():
    for act in ("tanh", "softplus"):
        s = sphere_spectrum(100, act, 2, 2.0, 0.1, max_degree=30)
        assert s.meets_rtol.all() and "mehler" in s.method[1]
        f = sphere_spectrum(100, act, 2, 2.0, 0.1, max_degree=30, precision="float64", rtol=0.5)
        ok = f.rel_error_bound <= 1e-6
        assert ok[:3].all()
        assert np.allclose(s.eigenvalues[ok], f.eigenvalues[ok], rtol=1e-6, atol=0)
