"""Smooth activations on the sphere (issue #11, items 1 and 5): tanh and softplus against independent references.

The references (tests/data/sphere_smooth_refs.json, made by tests/data/make_sphere_smooth_refs.py)
are built without any quadrature in the angle: Hermite coefficients by composite Gauss-Legendre,
the kernel as a power series in t with non-negative coefficients, and lambda_k = sum_n a_n E[t^n P_k]
by the exact moment recurrence.  The package evaluates Mehler series with trapezoidal coefficients
at Gauss-Legendre nodes in the angle.  Every degree k <= 30 must be within 1e-10 relative, every
returned bound <= 1e-12 (the default rtol) and it must hold against the reference.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest

from spectra.analytic import sphere_spectrum
from spectra.analytic.accuracy import AccuracyWarning

REFS = json.loads((Path(__file__).parent / "data" / "sphere_smooth_refs.json").read_text())
FULL = [(act, d, depth, kern) for act in ("tanh", "softplus") for d in (3, 10, 100) for depth in (1, 2)
        for kern in ("ck", "ntk")]
# every activation, dimension, depth and kernel appears at least once; the rest of the grid is marked slow
FAST = [("tanh", 3, 2, "ntk"), ("tanh", 10, 1, "ck"), ("softplus", 3, 1, "ck"), ("softplus", 10, 2, "ntk"),
        ("tanh", 100, 1, "ntk")]


def _check(act, d, depth, kern):
    ref = REFS[f"{act}/d={d}/depth={depth}/{kern}"]
    # the reference's own accuracy: its series tail bound, the difference of its two coefficient rules,
    # and the 40 significant digits it is stored with
    ref_err = 10 * (ref["rel_tail_bound"] + ref["rel_diff_two_rules"]) + 1e-39
    assert ref_err < 1e-20
    with warnings.catch_warnings():
        warnings.simplefilter("error", AccuracyWarning)  # the default rtol must be met: no warning
        s = sphere_spectrum(d, act, depth, 2.0, 0.1, kern, max_degree=30)
    assert s.rel_error_bound.max() <= 1e-12
    assert all(m.startswith("arb-gl-mehler") for m in s.method)
    with mpmath.workdps(60):
        lam = [mpmath.mpf(x) for x in ref["eigenvalues"]]
        assert abs(s.trace - float(mpmath.mpf(ref["trace"]))) <= 1e-14 * s.trace
        for k in range(31):
            dev = abs(s.exact[k] - lam[k]) / abs(lam[k])
            assert dev <= 1e-10, (k, float(dev))
            assert dev <= s.rel_error_bound[k] * (1 + 1e-6) + ref_err, (k, float(dev), s.rel_error_bound[k])


@pytest.mark.parametrize("combo", FAST)
def test_against_reference(combo):
    _check(*combo)


@pytest.mark.slow
@pytest.mark.parametrize("combo", [c for c in FULL if c not in FAST])
def test_against_reference_full(combo):
    _check(*combo)


def test_precision_and_rtol_honoured():
    """``precision=`` (an int) and ``rtol=`` change the computation and its stated bound; never ignored."""
    loose = sphere_spectrum(10, "tanh", 1, 2.0, 0.1, "ck", max_degree=8, rtol=1e-6)
    tight = sphere_spectrum(10, "tanh", 1, 2.0, 0.1, "ck", max_degree=8)
    assert loose.rtol == 1e-6 and np.all(loose.rel_error_bound <= 1e-6)
    assert loose.extra["quadrature"]["precision_bits"] < tight.extra["quadrature"]["precision_bits"]
    fixed = sphere_spectrum(10, "tanh", 1, 2.0, 0.1, "ck", max_degree=8, precision=160)
    assert fixed.extra["quadrature"]["precision_bits"] == 160
    assert np.all(fixed.rel_error_bound <= 1e-12)
    for i in range(9):
        assert abs(fixed.exact[i] - tight.exact[i]) <= tight.rel_error_bound[i] * abs(tight.exact[i])


def test_float64_only_activation_refuses_precision_and_warns():
    """A plain callable has only float64 duals: an integer precision is refused, a missed rtol warns."""
    from spectra.analytic import custom_activation

    act = custom_activation(lambda x: np.tanh(x) + 0.1 * x, lambda x: 1 - np.tanh(x) ** 2 + 0.1, name="tanh_plus")
    with pytest.raises(ValueError, match="precision"):
        sphere_spectrum(5, act, 1, 2.0, 0.1, "ck", max_degree=4, precision=200)
    with pytest.warns(AccuracyWarning):
        sphere_spectrum(5, act, 1, 2.0, 0.1, "ck", max_degree=4, rtol=1e-15)
