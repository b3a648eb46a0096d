"""High-dimensional equivalence d^k mu_k -> Phi^(k)(0) on the cube, sphere and Gaussian."""
from __future__ import annotations

import math

import numpy as np
import pytest

from spectra.analytic import domain_equivalence, kernel_taylor_derivatives


def test_taylor_derivatives_closed_form():
    # relu CK, L=1, no bias, sigma_w^2=2: Phi = 2 (sqrt(1-c^2) + (pi - acos c) c) / pi
    # -> Phi(0) = 2/pi, Phi'(0) = 1, Phi''(0) = 2/pi, Phi'''(0) = 0, Phi''''(0) = 2/pi
    der = [float(x) for x in kernel_taylor_derivatives("relu", 1, 2.0, 0.0, "ck", max_order=4)]
    np.testing.assert_allclose(der, [2 / math.pi, 1.0, 2 / math.pi, 0.0, 2 / math.pi], rtol=1e-14, atol=1e-14)
    ref = [0.9099, 0.5126, 0.1274, 0.3888, 0.5867]  # Taylor coefficients of the erf CK (independent mpmath values)
    erf = [float(x) for x in kernel_taylor_derivatives("erf", 2, 2.0, 0.5, "ck", max_order=4)]
    np.testing.assert_allclose(erf, ref, atol=6e-5)


def test_errors_decrease_with_dimension():
    r = domain_equivalence("erf", 2, 2.0, 0.5, "ck", max_degree=4, dims=[32, 64, 128, 256])
    for dom in ("cube", "sphere", "gaussian"):
        e = r.errors(dom)
        assert np.all(np.diff(e, axis=0) < 0), (dom, e)
    # reference table at d = 256 (cube/sphere/Gauss), computed independently
    np.testing.assert_allclose(r.scaled["cube"][-1], [.9101, .5133, .1285, .3936, .602], atol=6e-4)
    np.testing.assert_allclose(r.scaled["sphere"][-1], [.9101, .5133, .1275, .3844, .575], atol=6e-4)
    np.testing.assert_allclose(r.scaled["gaussian"][-1], [.9108, .5127, .1274, .3833, .572], atol=6e-4)


def test_large_dimension_limit():
    r = domain_equivalence("erf", 2, 2.0, 0.5, "ck", max_degree=4, dims=[8, 4096], domains=["sphere", "gaussian"])
    for dom in ("sphere", "gaussian"):
        e = r.errors(dom)
        assert np.all(e[1] < e[0] / 40)
        assert np.all(e[1] / r.phi_derivatives < 3 * (np.arange(5) + 1) ** 2 / 4096)


def test_plot_and_bad_input(tmp_path):
    r = domain_equivalence("erf", 1, 2.0, 0.5, "ck", max_degree=1, dims=[8, 16], domains=["sphere"])
    p = tmp_path / "eq.png"
    r.plot(p)
    assert p.stat().st_size > 1000
    with pytest.raises(ValueError, match="domains"):
        domain_equivalence(dims=[8], domains=["torus"])
    with pytest.raises(ValueError, match="dims"):
        domain_equivalence(dims=[1])
    with pytest.raises(ValueError, match="closed-form"):
        kernel_taylor_derivatives("tanh", 1, 1.0, 0.0, "ck", max_order=2)
