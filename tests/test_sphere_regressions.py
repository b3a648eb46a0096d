"""Regressions found by the API fuzz test (tests/test_fuzz_api.py) on the sphere/Gaussian/Mehler engines."""
import warnings

import pytest

from spectra.analytic import gaussian_spectrum, sphere_spectrum


@pytest.mark.parametrize("act", ["relu", "abs", "step", "sign"])
@pytest.mark.parametrize("kind", ["ck", "ntk"])
def test_depth0_kinked_sphere_with_bias(act, kind):
    # depth 0 with a bias: the certifier indexed the (empty) list of layer variances (IndexError)
    s = sphere_spectrum(2, act, 0, 1.0, 1.0, kind, max_degree=3)
    # the depth-0 kernel is c + 1 on the circle: lambda_0 = 1, lambda_1 = 1/2, the rest 0
    assert s.eigenvalues[0] == pytest.approx(1.0, rel=1e-14)
    assert s.eigenvalues[1] == pytest.approx(0.5, rel=1e-14)
    assert list(s.eigenvalues[2:]) == [0.0, 0.0]
    assert s.certified[0] and s.certified[1]


def test_depth0_relu_sphere_fuzz_case():
    s = sphere_spectrum(2, "relu", 0, 1.0, 1.0, "ck", max_degree=0)
    assert s.eigenvalues[0] == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("act", ["relu", "step"])
def test_depth0_kinked_gaussian_with_bias(act):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = gaussian_spectrum(5, act, 0, 1.0, 1.0, "ck", max_degree=2)
    assert s.eigenvalues[0] > 0


def test_mehler_next_K_tiny_tail():
    # a missing energy below the smallest float (float(.) == 0) made log() raise and left `lt` unbound
    from flint import arb

    from spectra.analytic._mehler import MehlerDual

    tiny = arb(2) ** -2000
    b = [arb(1)] * 40
    Kn = MehlerDual._next_K(32, 0.5, tiny, b, b, tiny, tiny, arb(2) ** -1500)
    assert 32 < Kn <= 64
