"""The closed forms of issue #11 (rectified monomials, sign, exp, the Gaussian, scaled erf, polynomials,
ELU): against 2-D mpmath quadrature (tests/data/make_closed_form_refs.py, 40 digits, two rule sizes),
float64 vs Arb vs numba, parity, the cube trace identity on the certified path, the grid, the network."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from spectra.analytic import cube_spectrum, cube_spectrum_grid, get_activation
from spectra.analytic.kernels import kernel_structure

REFS = json.loads((Path(__file__).parent / "data" / "closed_form_refs.json").read_text())
POINTS = [tuple(p) for p in REFS["_points"]]
NAMES = sorted(k for k in REFS if not k.startswith("_"))
#: every new name (the reference file holds parametrized instances of each)
NEW = NAMES + ["relu^2", "scaled_erf(-1, 2, 0)", "polynomial(0, 1, 0, -0.5)", "polynomial(2)", "elu(-0.5)"]


def _rel(x, ref):
    # an exact zero (x_+^n at rho = -1) must come out as 0 to 1e-15 absolute
    return abs(x - ref) / abs(ref) if ref != 0 else abs(x) / 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_reference_is_converged(name):
    # the two Gauss-Legendre rule sizes agree far below the 1e-12 the tests ask
    for row in REFS[name]:
        for kind in ("dual", "derivative"):
            if f"{kind}_lo" in row:
                a, b = float(row[f"{kind}_lo"]), float(row[f"{kind}_hi"])
                assert abs(a - b) <= 1e-20 * max(abs(b), 1e-300), (name, kind, a, b)


@pytest.mark.parametrize("name", NAMES)
def test_duals_match_mpmath_quadrature(name):
    act = get_activation(name)
    worst = 0.0
    for (v1, v2, c), row in zip(POINTS, REFS[name]):
        worst = max(worst, _rel(float(act.dual(c, v1, v2)), float(row["dual_hi"])))
        if "derivative_hi" in row:
            worst = max(worst, _rel(float(act.dual_derivative(c, v1, v2)), float(row["derivative_hi"])))
    assert worst <= 1e-12, (name, worst)


@pytest.mark.parametrize("name", NAMES)
def test_arb_duals_contain_mpmath_reference(name):
    import mpmath
    from flint import arb, ctx

    act = get_activation(name)
    old = ctx.prec
    ctx.prec = 160
    mpmath.mp.dps, old_dps = 50, mpmath.mp.dps  # the comparison itself at 50 digits
    try:
        for (v1, v2, c), row in zip(POINTS, REFS[name]):
            for kind, fn in (("dual", act.dual_arb), ("derivative", act.dual_derivative_arb)):
                if f"{kind}_hi" not in row:
                    continue
                ball = fn(arb(c), arb(v1), arb(v2))
                ref = mpmath.mpf(row[f"{kind}_hi"])
                # the reference carries about 35 correct digits; the ball must be tight and hold it
                tol = 1e-30 * max(abs(float(ref)), 1.0)
                assert float(ball.rad()) <= tol, (name, kind, ball)
                assert abs(mpmath.mpf(ball.mid().str(45, radius=False)) - ref) <= tol + float(ball.rad()), (name, kind)
    finally:
        ctx.prec = old
        mpmath.mp.dps = old_dps


def _grid_points():
    pts = []
    for q1, q2 in ((1.0, 1.0), (0.5, 2.0), (3.0, 3.0)):  # sqrt(q1 q2) exact: rho = +-1 exactly
        r = math.sqrt(q1 * q2)
        for rho in (-1.0, -0.999, -0.4, 0.0, 0.25, 0.9, 0.99999, 1.0):
            pts.append((rho * r, q1, q2))
    return pts


@pytest.mark.parametrize("name", NEW)
def test_float64_arb_numba_agree(name):
    from flint import arb, ctx

    from spectra.analytic._duals_numba import dual_pair

    act = get_activation(name)
    params = np.array(act.dispatch_params, dtype=float)
    old = ctx.prec
    ctx.prec = 200
    try:
        for c, v1, v2 in _grid_points():
            f = (float(act.dual(c, v1, v2)), float(act.dual_derivative(c, v1, v2)))
            a = (act.dual_arb(arb(c), arb(v1), arb(v2)), act.dual_derivative_arb(arb(c), arb(v1), arb(v2)))
            # ELU has no numba form (its float64 formula is ill-conditioned at large variances; see _elu)
            nb = dual_pair(int(act.dispatch), params, c, v1, v2) if act.dispatch else f
            # |E[f(u) f(v)]| <= sqrt(E[f(u)^2] E[f(v)^2]): the scale of the dual (and of its rounding)
            scales = [math.sqrt(abs(float(fn(arb(v1), arb(v1), arb(v1)).mid() * fn(arb(v2), arb(v2), arb(v2)).mid())))
                      for fn in (act.dual_arb, act.dual_derivative_arb)]
            for x, ball, y, scale in zip(f, a, nb, scales):
                mid = float(ball.mid())
                assert float(ball.rad()) <= 1e-40 * max(scale, 1.0) or abs(c) == math.sqrt(v1 * v2), (name, c, ball)
                assert abs(x - mid) <= 1e-14 * scale, (name, c, v1, v2, x, mid)
                assert abs(y - mid) <= 1e-14 * scale, (name, c, v1, v2, y, mid)
    finally:
        ctx.prec = old


@pytest.mark.parametrize("name, parity", [("relu_power(2)", None), ("relu_power(3)", None), ("sign", "odd"),
                                          ("exp", None), ("gaussian", "even"), ("scaled_erf(2, 0.5, 0)", "odd"),
                                          ("scaled_erf(2, 0.5, 1)", None), ("scaled_erf(0, 0.5, 1)", "even"),
                                          ("polynomial(0, 1, 0, -0.5)", "odd"), ("polynomial(1, 0, 3)", "even"),
                                          ("polynomial(1, 1)", None), ("elu", None)])
def test_structure_matches_parity(name, parity):
    act = get_activation(name)
    x = np.linspace(0.05, 3.0, 60)
    f, g = act.fn(x), act.fn(-x)
    is_odd, is_even = np.allclose(g, -f, atol=1e-14), np.allclose(g, f, atol=1e-14)
    assert (is_odd, is_even) == (parity == "odd", parity == "even")
    odd, even = act.structure
    assert (even < 0) == is_odd and (odd < 0) == is_even
    # the derivative's parity is the other one
    dodd, deven = act.derivative_structure
    if (dodd, deven) != (-1, -1):  # sign, constants: phi' = 0
        if is_odd:
            assert dodd < 0 <= deven
        if is_even:
            assert deven < 0 <= dodd
    # CK eigenvalues that the structure calls zero are zero on the cube (no bias)
    if parity is not None:
        st = kernel_structure(act, 2, 0.0, "ck")
        assert (st[1] < 0) if parity == "odd" else (st[0] < 0)


def test_polynomial_structure_is_its_degrees():
    p = get_activation("polynomial(1, 2, 0, 0, 5)")
    assert p.structure == (1, 4) and p.derivative_structure == (3, 0)
    # a polynomial network's kernel is a polynomial: degrees above its degree vanish exactly
    s = cube_spectrum(10, "polynomial(0, 1, 0.5)", 1, 1.0, 0.0, "ck")
    assert np.all(s.eigenvalues[3:] == 0.0) and np.all(s.eigenvalues[:3] > 0)


#: (name, weight_var, bias_var): variances that keep every kernel well inside float64
CUBE_CASES = [("relu_power(2)", 2.0, 0.1), ("relu_power(3)", 1.0, 0.0), ("relu^2", 1.5, 0.0), ("sign", 1.0, 0.2),
              ("exp", 0.5, 0.1), ("gaussian", 2.0, 0.1), ("scaled_erf(1.5, 0.7, -0.4)", 2.0, 0.1),
              ("scaled_erf(-1, 2, 0)", 1.0, 0.0), ("polynomial(0.5, -1, 0.25, 0, 0.125)", 1.0, 0.1),
              ("polynomial(0, 1, 0, -0.5)", 1.0, 0.0), ("elu", 2.0, 0.1), ("elu(0.5)", 1.5, 0.0)]


@pytest.mark.parametrize("name, wv, bv", CUBE_CASES)
def test_cube_trace_identity_and_certified(name, wv, bv):
    d = 9
    for kind in ("ck", "ntk"):
        # the default path: float64 where its stated tolerance meets rtol, certified Arb elsewhere
        s = cube_spectrum(d, name, 2, wv, bv, kind)
        total = sum(math.comb(d, int(k)) * float(m) for k, m in zip(s.degrees, s.exact))
        assert abs(total - s.trace) <= 1e-12 * abs(s.trace), (name, kind, total, s.trace)
        assert np.all(s.rel_error_bound <= 1e-12)
        assert all(c or m == "float64" for c, m in zip(s.certified, s.method)), s.method
        # the certified path alone (Arb duals) for every degree, and the same numbers
        e = cube_spectrum(d, name, 2, wv, bv, kind, precision=160)
        assert np.all(e.certified) and all(m.startswith("arb@") or m == "zero" for m in e.method), (name, kind)
        assert np.all(e.rel_error_bound <= 1e-30)
        assert np.all(np.abs(e.eigenvalues - s.eigenvalues) <= 1e-12 * np.abs(e.eigenvalues))
        total = sum(math.comb(d, int(k)) * m for k, m in zip(e.degrees, e.exact))
        assert abs(float(total) - e.trace) <= 1e-15 * abs(e.trace)
        # the trace is the kernel at c = 1, K(x, x)
        from spectra.analytic import mlp_kernel

        assert abs(float(mlp_kernel(1.0, name, 2, wv, bv, kind)) - s.trace) <= 1e-12 * abs(s.trace)


@pytest.mark.parametrize("name, wv, bv", CUBE_CASES)
def test_grid_matches_cube_spectrum(name, wv, bv):
    d, K = 9, 5
    g = cube_spectrum_grid(d, name, 2, [wv], [bv], max_degree=K)
    for kind in ("ck", "ntk"):
        s = cube_spectrum(d, name, 2, wv, bv, kind, max_degree=K)
        got = getattr(g, f"eigenvalues_{kind}")[2, 0, 0]
        tol = getattr(g, f"abs_error_bound_{kind}")[2, 0, 0]
        assert np.isfinite(tol) and tol < 1e-9 * abs(s.trace)
        assert np.all(np.abs(got - s.eigenvalues) <= tol + 1e-15 * abs(s.trace)), (name, kind, got, s.eigenvalues, tol)
        zero = getattr(g, f"symmetry_zero_{kind}")[2, 0]
        assert np.array_equal(zero, s.eigenvalues == 0.0)


@pytest.mark.parametrize("name", NEW)
def test_network_forward_and_name_round_trip(name):
    from spectra.empirical import MLP

    act = get_activation(name)
    assert get_activation(act.name).name == act.name  # the stored name parses back
    net = MLP(4, 64, 2, activation=name, weight_var=1.0, bias_var=0.1, seed=0)
    X = np.random.default_rng(0).standard_normal((5, 4))
    out = net(X)
    assert out.shape[0] == 5 and np.all(np.isfinite(out))


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_elu_float64_is_exact_at_large_variances(alpha):
    # the float64 formula loses ~e^q ulps; where that matters the float64 duals are the rounded Arb values
    from flint import arb, ctx

    from spectra.analytic.closed_forms_extra import elu

    act = elu(alpha)
    old = ctx.prec
    ctx.prec = 300
    try:
        for q in (0.5, 3.0, 12.0, 40.0):
            scale = [float(f(arb(q), arb(q), arb(q)).mid()) for f in (act.dual_arb, act.dual_derivative_arb)]
            c = np.linspace(-q, q, 9)
            got = (act.dual(c, q, q), act.dual_derivative(c, q, q))
            for i, ci in enumerate(c):
                ref = (act.dual_arb(arb(ci), arb(q), arb(q)), act.dual_derivative_arb(arb(ci), arb(q), arb(q)))
                for g, r, sc in zip(got, ref, scale):
                    assert abs(g[i] - float(r.mid())) <= 8e-16 * sc * 8, (alpha, q, ci, g[i], r)
    finally:
        ctx.prec = old


def test_sign_derivative_is_zero_almost_everywhere():
    # sign' = 2 delta: the package (like backpropagation) takes phi' = 0 a.e., so the NTK term is 0
    sign = get_activation("sign")
    assert float(sign.dual_derivative(0.3, 1.0, 1.0)) == 0.0
    assert np.all(sign.derivative(np.array([-1.0, 0.5])) == 0.0)
    ck = cube_spectrum(7, "sign", 1, 1.0, 0.0, "ck")
    ntk = cube_spectrum(7, "sign", 1, 1.0, 0.0, "ntk")
    # Theta = Sigma^2 + w V_{phi'} Theta^1 = Sigma^2: the same spectrum
    assert np.allclose(ck.eigenvalues, ntk.eigenvalues, rtol=1e-14, atol=0)


@pytest.mark.parametrize("bad", ["relu_power(4)", "relu_power(1)", "relu_power(2.5)", "scaled_erf(1, 2)",
                                 "scaled_erf(1, x, 0)", "polynomial()", "polynomial(0, 0)",
                                 "polynomial(" + ", ".join(["1"] * 14) + ")", "sign(2)", "exp(1)", "gaussian(0.5)",
                                 "scaled_erf(1, inf, 0)", "elu(nan)"])
def test_bad_names_are_refused(bad):
    with pytest.raises(ValueError):
        get_activation(bad)


def test_names_and_keywords():
    assert get_activation("relu^3").name == "relu_power(3)"
    assert get_activation("relu_power", degree=2).name == "relu_power(2)"
    assert get_activation("scaled_erf", a=2.0, b=-0.5, c=1e-3).name == "scaled_erf(2, -0.5, 0.001)"
    assert get_activation("polynomial", coefficients=[0, 1, 0, -0.5]).name == "polynomial(0, 1, 0, -0.5)"
    assert get_activation("polynomial(1, 2, 0, 0)").name == "polynomial(1, 2)"  # trailing zeros dropped
    assert get_activation("scaled_erf(0.1, 1, 0)").name == "scaled_erf(0.1, 1, 0)"
    assert get_activation("elu").name == "elu(1)" and get_activation("elu(-0.5)").name == "elu(-0.5)"
    # a parameter that %g would round keeps all its digits in the name
    p = get_activation("polynomial(0.123456789, 1)")
    assert p.name == "polynomial(0.123456789, 1)" and get_activation(p.name).dual(0.2, 1, 1) == p.dual(0.2, 1, 1)


def test_elu_refuses_variances_beyond_its_range():
    # e^{q} cancels against orthant probabilities: beyond (v1+v2)/2 + |c| = 200 a clear refusal, not minutes of Arb
    from spectra.analytic import mlp_kernel

    with pytest.raises(ValueError, match="elu"):
        mlp_kernel(np.array([-1.0, 0.0, 1.0]), "elu", 2, 100.0, 0.0, "ntk")
