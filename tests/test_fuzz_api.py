"""Issue #15: a hypothesis fuzz test of the public analytic API (fixed seed, about two and a half minutes).

Every call either returns a result or raises ValueError/TypeError.  A returned result has no
inf or NaN, eigenvalues that are >= 0 (or exactly 0), and a stated bound that holds against a
certified Arb reference computed with more working precision (cube spectra), across depths up to
1000, variances from 1e-20 to 1e6, every activation, and the tiny-bias band.  The number of
calls is the sum of the ``max_examples`` below: 900 by default, and 2100 with
``SPECTRA_FUZZ_SCALE=1`` (any factor scales every count: ``SPECTRA_FUZZ_SCALE=5 python -m pytest
tests/test_fuzz_api.py`` is a longer hunt).  The default keeps the suite inside CI's 10 minutes;
the cube (0.35 s a call, with its reference), kernel-value and sphere/Gaussian fuzzes are the slow ones.
At scale 1 the cube fuzz once found the gelu, erf and cos cases below; it passes since the float64
values of the closed forms are checked in Arb.
"""
import math
import os
import signal
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from spectra.analytic.accuracy import AccuracyWarning
from spectra.analytic import (cube_spectrum, cube_spectrum_grid, gaussian_spectrum, mlp_kernel,
                              sphere_spectrum)

# no shrinking: a failure is reported as found (shrinking the slow calls took minutes)
FUZZ = settings(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate])
OK_ERRORS = (ValueError, TypeError)
SCALE = float(os.environ.get("SPECTRA_FUZZ_SCALE", "0"))


def n_examples(full: int, default: int) -> int:
    """``default`` calls, or ``full`` times ``SPECTRA_FUZZ_SCALE`` when that is set."""
    return max(1, round(full * SCALE)) if SCALE > 0 else default
CALL_SECONDS = 60  # a call that takes longer counts as a hang (generous: CI machines are shared)

#: activations without a closed form (Hermite/Mehler series).  Their high-precision path is not yet
#: fast enough for this fuzz (issue #15, open): on the cube it can spend its whole time budget at
#: weight variances below 1e-6, and deep sigmoid kernels on the sphere stop at theirs (the test at the
#: end).  The spectrum fuzz tests draw closed forms only; the kernel-value and bad-input fuzz tests
#: still use every activation.
SERIES = {"tanh", "softplus", "sigmoid", "swish"}
#: known open (issue #15): the sphere's Mehler path at weight variances far above 1 runs for
#: minutes; the fuzz stays below that until it is fixed.  (The float64 bounds of gelu, erf and cos at
#: large variances, once capped here, are checked against Arb since this fuzz found them.)
SPHERE_SERIES_MAX_WV = 10.0
NAMES = ["relu", "abs", "step", "erf", "gelu", "tanh", "softplus", "sigmoid", "swish", "sin", "cos", "identity",
         "leaky_relu(0.1)", "leaky_relu(-0.5)", "monomial(0)", "monomial(1)", "monomial(2)", "monomial(3)"]
BAD = [None, "", "relu(3)", "erf(2)", "monomial(2.7)", "leaky_relu(x)", "nope", 3, "leaky_relu(1e400)"]

variance = st.one_of(st.just(0.0), st.floats(-20, 6).map(lambda e: 10.0 ** e))
weight_var = st.floats(-20, 6).map(lambda e: 10.0 ** e)
tiny_bias = st.floats(-18, -10).map(lambda e: 10.0 ** e)
depth = st.one_of(st.integers(0, 4), st.integers(5, 1000))
kind = st.sampled_from(["ck", "ntk"])
activation = st.sampled_from(NAMES)
closed_form = st.sampled_from([a for a in NAMES if a not in SERIES])



class Hang(Exception):
    pass


@contextmanager
def time_box(seconds=CALL_SECONDS):
    def on_alarm(signum, frame):
        raise Hang(f"call took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def call(fn, *args, **kw):
    """fn(*args, **kw), or None if it raised ValueError/TypeError; anything else fails the test."""
    with time_box(), warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        try:
            return fn(*args, **kw)
        except OK_ERRORS:
            return None


def check_spectrum(s):
    ev = np.asarray(s.eigenvalues, dtype=float)
    assert np.all(np.isfinite(ev)), ev
    # a negative value is allowed only as the midpoint of an unresolved ball, flagged by an infinite
    # bound (guarantee "none"; the engines warn): never as a claimed answer
    b = np.asarray(s.rel_error_bound, dtype=float)
    assert np.all((ev >= 0) | (b >= 1)), (ev, b)
    assert not np.any(np.isnan(s.log10_eigenvalues) & (b < 1)), s.log10_eigenvalues  # NaN only if flagged
    # a zero in float64 is an exact zero (log10 = -inf) or an underflow that exact/log10 still carry
    assert all(e > 0 or lg == -np.inf or (x > 0 and np.isfinite(lg)) or bk >= 1 for e, lg, x, bk in
               zip(ev, s.log10_eigenvalues, s.exact, b))
    fv = np.asarray(s.fractional_variance, dtype=float)
    b = np.asarray(s.rel_error_bound, dtype=float)
    # NaN only as the documented mask of a value whose bound exceeds 1 % (Gaussian blocks)
    assert np.all(np.isfinite(fv) | (np.isnan(fv) & ~(b <= 0.01))), (fv, b)
    ok = np.isfinite(fv)
    assert np.all(fv[ok] >= 0) and np.all(fv[ok] <= 1 + 1e-9), fv
    assert math.isfinite(s.trace) and s.trace >= 0
    assert not np.any(np.isnan(b))
    if s.max_learning_rate is not None:
        assert s.max_learning_rate > 0


def rel_gap(a, b) -> float:
    a, b = float(a), float(b)
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(b), 1e-300)


# ------------------------------------------------------------------ kernel values: 200 calls (600 at scale 1)
@settings(FUZZ, max_examples=n_examples(600, 200))
@given(act=activation, L=depth, wv=weight_var, bv=variance, kern=kind,
       c=st.floats(-1.5, 1.5), nx=st.one_of(st.just(0.0), st.floats(0.0, 4.0)), ny=st.floats(0.0, 4.0))
def test_mlp_kernel(act, L, wv, bv, kern, c, nx, ny):
    v = call(mlp_kernel, c, act, L, wv, bv, kern, norm_x=nx, norm_y=ny)
    if v is not None:
        assert np.all(np.isfinite(v)), (v, act, L, wv, bv, kern, c, nx, ny)


# ------------------------------------------------------------------ cube spectra with a reference: 120 calls (600 at scale 1)
@settings(FUZZ, max_examples=n_examples(600, 120))
@given(d=st.integers(1, 10), act=closed_form, L=depth, wv=weight_var, bv=st.one_of(variance, tiny_bias), kern=kind,
       rtol=st.sampled_from([1e-12, 1e-8, 1e-5]))
def test_cube_spectrum_bounds_hold(d, act, L, wv, bv, kern, rtol):
    assume(act not in SERIES or wv >= 1e-6)
    s = call(cube_spectrum, d, act, L, wv, bv, kern, rtol=rtol)
    if s is None:
        return
    check_spectrum(s)
    if not np.any(s.eigenvalues > 0):
        return
    # reference: the certified path with ample working precision (its own bound is rigorous)
    bits = 256 + 64 * int(max(0.0, -np.nanmin(np.where(s.eigenvalues > 0, np.log10(np.maximum(s.eigenvalues, 1e-300)),
                                                         0.0))) // 19)
    ref = call(cube_spectrum, d, act, L, wv, bv, kern, precision=min(bits, 4096), rtol=1e-30)
    if ref is None:
        return
    for k in range(len(s.degrees)):
        # certified (ball arithmetic) or verified (Mehler series: two truncations) reference values
        if not math.isfinite(ref.rel_error_bound[k]) or ref.rel_error_bound[k] > 1e-3:
            continue
        gap = rel_gap(s.exact[k], ref.exact[k])
        assert gap <= s.rel_error_bound[k] + ref.rel_error_bound[k] + 1e-300, (
            f"{act} d={d} L={L} wv={wv:g} bv={bv:g} {kern}: degree {s.degrees[k]} value {float(s.exact[k])!r} "
            f"({s.method[k]}) vs certified {float(ref.exact[k])!r}: relative gap {gap:.3g} > bound "
            f"{s.rel_error_bound[k]:.3g}")


# ------------------------------------------------------------------ sphere and Gaussian: 80 calls (300 at scale 1)
@settings(FUZZ, max_examples=n_examples(300, 80))
@given(dom=st.sampled_from(["sphere", "gaussian"]), d=st.integers(2, 40), act=closed_form,
       L=st.integers(0, 6), wv=st.floats(-3, 2).map(lambda e: 10.0 ** e), bv=st.one_of(st.just(0.0), st.floats(-8, 1).map(lambda e: 10.0 ** e)),
       kern=kind, K=st.integers(0, 8))
def test_sphere_and_gaussian(dom, d, act, L, wv, bv, kern, K):
    assume(act not in SERIES or wv <= SPHERE_SERIES_MAX_WV)
    fn = sphere_spectrum if dom == "sphere" else gaussian_spectrum
    s = call(fn, d, act, L, wv, bv, kern, max_degree=K)
    if s is not None:
        check_spectrum(s)
        assert float(np.nansum(s.fractional_variance)) <= 1 + 1e-6


# ------------------------------------------------------------------ grids: 100 calls (200 at scale 1)
@settings(FUZZ, max_examples=n_examples(200, 100))
@given(d=st.integers(1, 24), act=activation, L=st.integers(0, 40),
       wv=st.lists(weight_var, min_size=1, max_size=3), bv=st.lists(st.one_of(variance, tiny_bias), min_size=1, max_size=3),
       K=st.integers(0, 6))
def test_grid(d, act, L, wv, bv, K):
    g = call(cube_spectrum_grid, d, act, L, wv, bv, max_degree=min(K, d))
    if g is None:
        return
    for name in ("eigenvalues_ck", "eigenvalues_ntk", "trace_ck", "trace_ntk"):
        arr = getattr(g, name)
        assert np.all(np.isfinite(arr)), name
    for kern in ("ck", "ntk"):
        mu = getattr(g, f"eigenvalues_{kern}")
        bound = getattr(g, f"abs_error_bound_{kern}")[..., None]
        # a negative value is allowed only within its own absolute bound (the truth is >= 0)
        assert np.all(mu >= -bound), (kern, float(mu.min()))
        fv = getattr(g, f"fractional_variance_{kern}")
        ok = np.isnan(fv) | ((fv >= -1e-9) | (np.abs(mu) <= bound)) & ((fv <= 1 + 1e-9) | (np.abs(mu) <= bound))
        assert np.all(ok), kern


# ------------------------------------------------------------------ bad input: 400 calls
junk = st.one_of(st.none(), st.text(max_size=5), st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(-10**12, 10**12), st.lists(st.floats(), max_size=3), st.sampled_from(BAD))


@settings(FUZZ, max_examples=n_examples(400, 400))
@given(which=st.integers(0, 4), args=st.lists(junk, min_size=1, max_size=6), good=st.booleans())
def test_bad_input_only_value_or_type_errors(which, args, good):
    fns = [cube_spectrum, sphere_spectrum, gaussian_spectrum, cube_spectrum_grid, mlp_kernel]
    fn = fns[which]
    if good:  # one bad argument among good ones
        base = [4, "relu", 2, 2.0, 0.1] if which != 4 else [0.5, "relu", 2, 2.0, 0.1]
        pos = len(args[0]) % len(base) if isinstance(args[0], str) else 1
        base[pos] = args[-1]
        args = base
    r = call(fn, *args)
    if r is not None and hasattr(r, "eigenvalues"):
        check_spectrum(r)


def test_sigmoid_deep_ntk_sphere_is_bounded_and_flagged():
    """Found by this fuzz: a ZeroDivisionError in the Mehler series, then minutes at 1152 bits.

    At depth 6 with weight variance 0.03 every correlation of the last layer is within about 1e-11 of 1,
    where the series needs ~bits/(1 - rho) terms: the Arb path stops at its time budget, ``auto`` keeps
    the float64 rule where that is the better bound (degree 0, 4e-12), and the rest is flagged, not hidden.
    """
    with time_box(45), pytest.warns(AccuracyWarning, match="miss rtol"):
        s = sphere_spectrum(11, "sigmoid", 6, 10.0 ** -1.5, 0.0, "ntk", max_degree=6)
    check_spectrum(s)
    assert s.method[0] == "float64" and s.rel_error_bound[0] < 1e-10  # the float64 rule's stated tolerance
    assert not np.all(s.meets_rtol)


# Found by this fuzz (issue #15): the closed forms' own conditioning at large variances (erf's arcsine,
# gelu's cancellation near correlation -1, cos's e^-q cosh growth) exceeded the fixed multiple of u
# that the float64 tolerance used to state.  The float64 values are now checked against Arb balls;
# both the auto path and the forced float64 path must keep their bounds.
FLOAT64_CONDITIONING = [
    ((1, "gelu", 1, 5400.142049771527, 0.0, "ntk"), 1e-5),
    ((1, "erf", 5, 674188.3718837844, 0.0, "ntk"), 1e-5),
    ((3, "cos", 3, 10.0 ** 1.8, 9.789177684056601e-11, "ntk"), 1e-12),
    ((6, "gelu", 3, 1e5, 1e5, "ck"), 1e-8),
    ((8, "exp", 2, 1.5, 0.0, "ntk"), 1e-12),
    ((5, "sin", 6, 40.0, 0.5, "ntk"), 1e-12),
]


@pytest.mark.parametrize("precision", ["auto", "float64"])
@pytest.mark.parametrize("args, rtol", FLOAT64_CONDITIONING)
def test_float64_bound_follows_conditioning(args, rtol, precision):
    s = cube_spectrum(*args, rtol=rtol, precision=precision)
    ref = cube_spectrum(*args, precision=512, rtol=1e-30)
    for k in range(len(s.degrees)):
        assert rel_gap(s.exact[k], ref.exact[k]) <= s.rel_error_bound[k] + ref.rel_error_bound[k], (k, s.method[k])
    if precision == "auto":
        assert bool(np.all(s.meets_rtol | (s.eigenvalues == 0))), s.rel_error_bound


def test_gaussian_radial_blocks_bounded_time():
    """Found by this fuzz: the Arb radial blocks of a deep leaky relu NTK (angular rule of 2376 nodes,
    828 radial pairs, 12 million dual evaluations) took 125 s.  Their cost is now predicted from a timed
    sample first; past the budget ``auto`` takes the float64 rule on the same nodes, flagged where short."""
    with time_box(45), warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)
        s = gaussian_spectrum(4, "leaky_relu(0.1)", 6, 0.0031719234624550435, 0.051940682672044595, "ntk",
                              max_degree=1)
    check_spectrum(s)
    assert "float64-gl" in s.method[0] and s.rel_error_bound[0] < 1e-10
