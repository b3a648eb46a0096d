"""Issue #11, "Smooth activations, cube", at d = 32 and 64 (d = 8 and 16: tests/test_accuracy.py).

The references in tests/data/cube_smooth_refs.json (made by tests/data/make_cube_smooth_refs.py) use
no Hermite coefficients and no Mehler series: every kernel value Phi(c_j), c_j = 1 - 2j/d, is a 2-D
Gaussian integral done by the 2-D trapezoidal rule in the (u, v) plane in Arb (about 70 digits,
verified by a second rule), composed through the CK/NTK recursion, and transformed to mu_k by the
exact Krawtchouk sum in rationals.  The package computes the duals by Mehler's series and the
transform by FLINT polynomial arithmetic.

Every degree must agree with the reference to 1e-10 relative, carry a bound <= 1e-12 (the default
rtol), and the bound must hold: |mu - ref| <= bound |mu| + (the reference's own uncertainty).
"""
import json
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest

from spectra.analytic import MLPKernel, cube_spectrum
from spectra.analytic import cube as cube_mod
from spectra.analytic.accuracy import AccuracyWarning

DATA = Path(__file__).parent / "data"
REFS = json.loads((DATA / "cube_smooth_refs.json").read_text())
OLD = DATA / "smooth_reference.json"  # the Mehler/Gauss-Hermite reference of tests/test_accuracy.py

# One d = 64 case per activation (all four (depth, kernel) pairs among them) and d = 32 at depth 1 run
# by default; the rest is marked slow to keep this file well under 30 s.
DEFAULT = {("tanh", 64, 2, "ntk"), ("softplus", 64, 1, "ck"), ("sigmoid", 64, 2, "ck"), ("swish", 64, 1, "ntk"),
           ("tanh", 32, 1, "ck"), ("softplus", 32, 1, "ntk"), ("sigmoid", 32, 1, "ntk"), ("swish", 32, 1, "ck"),
           ("tanh_nobias", 64, 2, "ntk")}


@pytest.fixture(autouse=True)
def _no_time_budget(monkeypatch):
    # This file checks accuracy, not speed (benchmarks/bench_smooth.py times it): without this, the
    # certified path's wall-clock budget (cube.MAX_SECONDS) stops early on a loaded machine, e.g. swish
    # d = 64 depth 2 NTK at 180 bits (bound 3.3e-11 at k = 64, with an AccuracyWarning) at load 8 on 2 cores.
    monkeypatch.setattr(cube_mod, "MAX_SECONDS", 3600.0)


def _key(c):
    name = c["activation"] if c["bias_var"] else c["activation"] + "_nobias"
    return (name, c["dim"], c["depth"], c["kernel"])


def _params(cases):
    return [pytest.param(c, id="{}-d{}-L{}-{}".format(*_key(c)),
                         marks=() if _key(c) in DEFAULT else pytest.mark.slow) for c in cases]


BIASED = [c for c in REFS["cases"] if c["bias_var"] == 0.1 and c["dim"] in (32, 64)]
NOBIAS = [c for c in REFS["cases"] if c["bias_var"] == 0.0]


def _spectrum(case):
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccuracyWarning)  # must meet the default rtol without a warning
        return cube_spectrum(case["dim"], case["activation"], case["depth"], 2.0, case["bias_var"], case["kernel"])


def _check_degree(s, case, k):
    ref, ref_err = mpmath.mpf(case["mu"][k]), mpmath.mpf(case["mu_err"][k])
    assert ref_err <= 1e-14 * abs(ref), (k, "reference not accurate enough")
    mu, bound = s.exact[k], s.rel_error_bound[k]
    dev = abs(mu - ref)
    assert bound <= 1e-12, (k, bound)
    assert dev <= 1e-10 * abs(ref), (k, mpmath.nstr(mu, 20), case["mu"][k][:22], float(dev / abs(ref)))
    assert dev <= bound * abs(mu) + ref_err, (k, float(dev / abs(ref)), bound)  # the bound holds
    assert abs(mpmath.mpf(float(s.eigenvalues[k])) - ref) <= 1e-10 * abs(ref)  # the float64 copy too


@pytest.mark.parametrize("case", _params(BIASED))
def test_smooth_cube_matches_quadrature_reference(case):
    s = _spectrum(case)
    assert s.meets_rtol.all()
    with mpmath.workdps(110):  # the references carry 90 digits and bounds reach 1e-55: compare well above 53 bits
        for k in range(case["dim"] + 1):
            _check_degree(s, case, k)


@pytest.mark.parametrize("case", _params(NOBIAS))
def test_tanh_without_bias_zeros_and_odd_degrees(case):
    s = _spectrum(case)
    assert s.meets_rtol.all()
    with mpmath.workdps(110):
        for k in range(case["dim"] + 1):
            if k % 2 == 0:  # exact zeros by symmetry; the reference's even degrees are zero within its error
                assert s.exact[k] == 0 and s.eigenvalues[k] == 0 and s.method[k] == "zero"
                assert abs(mpmath.mpf(case["mu"][k])) <= mpmath.mpf(case["mu_err"][k])
            else:
                assert s.exact[k] > 0
                _check_degree(s, case, k)


def test_reference_uses_the_package_conventions():
    # the references' kernel values against the package's float64 kernel (same conventions)
    worst = 0.0
    for c in REFS["cases"]:
        if c["dim"] != 64:
            continue
        kern = MLPKernel(c["activation"], depth=c["depth"], weight_var=2.0, bias_var=c["bias_var"], kind=c["kernel"])
        ref = np.array([float(mpmath.mpf(x)) for x in c["phi"]])
        got = kern(1 - 2 * np.arange(65) / 64)
        worst = max(worst, np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
    assert worst <= 1e-12


def test_two_independent_references_agree_at_small_d():
    # this file's quadrature reference and the Mehler/Gauss-Hermite one of tests/test_accuracy.py
    # (d = 8, 16) must agree within the sum of their own stated uncertainties
    old = {(c["activation"], c["dim"], c["depth"], c["kernel"]): c for c in json.loads(OLD.read_text())["cases"]}
    n = 0
    with mpmath.workdps(110):
        for c in REFS["cases"]:
            o = old.get((c["activation"], c["dim"], c["depth"], c["kernel"]))
            if o is None or c["bias_var"] != 0.1:
                continue
            for k in range(c["dim"] + 1):
                a, b, b2 = (mpmath.mpf(x[k]) for x in (c["mu"], o["mu"], o["mu_fewer_nodes"]))
                assert abs(a - b) <= mpmath.mpf(c["mu_err"][k]) + abs(b - b2) + abs(b) * mpmath.mpf(10) ** -38, (c["activation"], k)
                n += 1
    assert n == 4 * 2 * 2 * (9 + 17)
