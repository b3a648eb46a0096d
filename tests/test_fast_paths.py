"""The numba fast paths: the custom arcsine and the symmetry-halved transform."""
import mpmath
import numpy as np

from spectra.analytic import _duals_numba as nb


def test_asin_coefficients_regenerate():
    regen = nb.asin_polynomial_coefficients()
    pinned = [getattr(nb, f"_A{i}") for i in range(16)]
    assert np.allclose(regen, pinned, rtol=4e-16, atol=0)


def test_fast_asin_against_mpmath():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-1, 1, 3000), [-1.0, -0.5, 0.0, 1e-300, 1e-9, 0.49999999, 0.5, 0.5000001, 1 - 1e-15, 1.0]])
    y = nb.fast_asin_array(x)
    with mpmath.workdps(40):
        ref = [mpmath.asin(mpmath.mpf(float(v))) for v in x]
        rel = [abs((mpmath.mpf(float(a)) - r) / r) if r != 0 else abs(a) for a, r in zip(y, ref)]
    assert max(float(r) for r in rel) < 8e-16
