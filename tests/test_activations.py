"""Dual kernels against independent references: nested adaptive quadrature of the bivariate
expectation, Price's identity V_phi' = dV_phi/dc by finite differences, Arb vs float64, and
finite values at correlation +-1."""
import numpy as np
import pytest
from scipy import integrate

from spectra.analytic import available_activations, custom_activation, get_activation, mlp_kernel

POINTS = [(1.0, 1.0, 0.3), (0.7, 2.3, -0.9), (1.5, 0.4, 0.7), (2.0, 2.0, 1.99)]
CLOSED = ["relu", "leaky_relu(0.2)", "abs", "step", "erf", "sin", "cos", "identity", "monomial(3)", "monomial(4)", "gelu"]
HERMITE = ["tanh", "softplus", "sigmoid", "swish"]


def quad_dual(f, c, v1, v2):
    """E[f(u) f(v)] by nested adaptive quadrature, u = sqrt(v1) z1, v = c/sqrt(v1) z1 + s z2."""
    s = np.sqrt(max(v2 - c * c / v1, 0.0))
    a = c / np.sqrt(v1)
    g = lambda z: np.exp(-z * z / 2) / np.sqrt(2 * np.pi)

    def inner(z1):
        if s == 0:
            return float(f(np.array(a * z1)))
        kink = -a * z1 / s
        lo, hi = sorted([kink - 12.0, kink + 12.0])
        return integrate.quad(lambda z2: float(f(np.array(a * z1 + s * z2))) * g(z2), -13, 13, points=[kink], limit=200)[0]

    return integrate.quad(lambda z1: float(f(np.array(np.sqrt(v1) * z1))) * inner(z1) * g(z1), -12, 12, points=[0.0], limit=200)[0]


@pytest.mark.parametrize("name", CLOSED + HERMITE)
def test_dual_matches_quadrature(name):
    act = get_activation(name)
    for v1, v2, c in POINTS[:3]:
        ref = quad_dual(act.fn, c, v1, v2)
        assert abs(float(act.dual(c, v1, v2)) - ref) <= 1e-9 * max(1.0, abs(ref))
        if name != "step":  # phi' of step is a delta: its dual is taken as 0 (no NTK through a step)
            refd = quad_dual(act.derivative, c, v1, v2)
            assert abs(float(act.dual_derivative(c, v1, v2)) - refd) <= 1e-8 * max(1.0, abs(refd))


@pytest.mark.parametrize("name", [n for n in CLOSED if n != "step"] + HERMITE)
def test_price_identity(name):
    act = get_activation(name)
    h = 1e-5
    for v1, v2, c in POINTS[:3]:
        fd = (float(act.dual(c + h, v1, v2)) - float(act.dual(c - h, v1, v2))) / (2 * h)
        assert abs(fd - float(act.dual_derivative(c, v1, v2))) <= 2e-7 * max(1.0, abs(fd))


@pytest.mark.parametrize("name", CLOSED)
def test_arb_matches_float(name):
    from flint import arb, ctx

    act = get_activation(name)
    old = ctx.prec
    ctx.prec = 200
    try:
        for v1, v2, c in POINTS:
            a = act.dual_arb(arb(c), arb(v1), arb(v2))
            da = act.dual_derivative_arb(arb(c), arb(v1), arb(v2))
            assert abs(float(a.mid()) - float(act.dual(c, v1, v2))) <= 1e-13 * max(1.0, abs(float(a.mid())))
            assert abs(float(da.mid()) - float(act.dual_derivative(c, v1, v2))) <= 1e-12 * max(1.0, abs(float(da.mid())))
            assert float(a.rad()) < 1e-50
    finally:
        ctx.prec = old


@pytest.mark.parametrize("name", CLOSED + HERMITE)
def test_no_nan_at_correlation_pm1(name):
    act = get_activation(name)
    for q in (0.3, 1.0, 7.0):
        for c in (q, -q):
            assert np.isfinite(act.dual(c, q, q)) and np.isfinite(act.dual_derivative(c, q, q))
    # deep kernels on the whole cube grid, including c = +-1
    c = np.linspace(-1, 1, 33)
    depth, wv = (3, 1.0) if name.startswith("monomial") else (6, 2.0)  # x^n nets overflow when deep
    for kern in ("ck", "ntk"):
        assert np.all(np.isfinite(mlp_kernel(c, name, depth, wv, 0.0, kern)))


def test_diagonal_is_second_moment():
    for name in CLOSED + HERMITE:
        act = get_activation(name)
        for q in (0.5, 2.0):
            g = lambda z: float(act.fn(np.array(np.sqrt(q) * z))) ** 2 * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
            m2 = integrate.quad(g, -12, 12, points=[0.0], limit=200)[0]
            assert abs(float(act.dual(q, q, q)) - m2) <= 1e-7 * max(1.0, m2), name


def test_custom_activation_and_errors():
    act = custom_activation(np.tanh, lambda x: 1 - np.tanh(x) ** 2, "my_tanh", parity="odd")
    ref = get_activation("tanh")
    assert abs(float(act.dual(0.4, 1.2, 0.8)) - float(ref.dual(0.4, 1.2, 0.8))) < 1e-14
    with pytest.raises(ValueError, match="activation"):
        get_activation("swishy")
    with pytest.raises(TypeError):
        get_activation(3)
    with pytest.raises(ValueError, match="parity"):
        custom_activation(np.tanh, np.tanh, parity="both")
    with pytest.raises(ValueError, match="monomial"):
        get_activation("monomial(0)")
    assert "relu" in available_activations()


def test_mlp_kernel_broadcasting_and_all_depths():
    wv = np.array([1.0, 2.0])[:, None, None]
    bv = np.array([0.0, 0.5, 1.0])[None, :, None]
    c = np.linspace(-1, 1, 5)[None, None, :]
    K = mlp_kernel(c, "erf", 3, wv, bv, "ntk", all_depths=True)
    assert K.shape == (4, 2, 3, 5)
    for L in range(4):
        single = mlp_kernel(np.linspace(-1, 1, 5), "erf", L, 2.0, 0.5, "ntk")
        assert np.allclose(K[L, 1, 1], single, rtol=1e-15)
    with pytest.raises(ValueError, match="weight_var"):
        mlp_kernel(0.0, "relu", 1, -1.0, 0.0)
    with pytest.raises(ValueError, match="c must be finite"):
        mlp_kernel(np.nan, "relu", 1, 1.0, 0.0)


def test_declared_parity_is_checked_relative_to_scale():
    # issue #15: custom_activation(np.cos, -sin, parity="odd") must be refused (its spectrum's trace was wrong)
    with pytest.raises(ValueError, match="parity"):
        custom_activation(np.cos, lambda x: -np.sin(x), parity="odd")
    # a tiny function is judged against its own scale, not against 1 (the old check accepted this)
    with pytest.raises(ValueError, match="parity"):
        custom_activation(lambda x: 1e-13 * np.cos(x), lambda x: -1e-13 * np.sin(x), parity="odd")
    # not odd between the old probe points 0, 0.3, 1, 2.5 (the old check accepted this)
    with pytest.raises(ValueError, match="parity"):
        custom_activation(lambda x: np.sin(x) + 0.1 * np.sin(10 * np.pi * x) ** 2, np.cos, parity="odd")
    # right declarations pass, at any scale
    custom_activation(np.cos, lambda x: -np.sin(x), parity="even")
    custom_activation(lambda x: 1e-200 * np.sin(x), lambda x: 1e-200 * np.cos(x), parity="odd")


@pytest.mark.parametrize("name, slope", [("leaky_relu(-0.5)", -0.5), ("leaky_relu(1e-3)", 1e-3),
                                         ("leaky_relu(1e-05)", 1e-5), ("Leaky-ReLU(0.2)", 0.2)])
def test_leaky_relu_argument_survives_name_normalization(name, slope):
    # issue #11: the normalization once turned every "-" into "_", the argument's too ("_0.5")
    act = get_activation(name)
    assert act.fn(np.array([-2.0]))[0] == pytest.approx(-2.0 * slope, rel=1e-15)
    assert get_activation(act.name).name == act.name  # the package's own names parse back


def test_leaky_relu_negative_slope_on_the_cli():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "spectra", "eigen", "--dim", "4", "--activation", "leaky_relu(-0.5)",
                        "--depth", "1", "--format", "json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert '"leaky_relu(-0.5)"' in r.stdout
