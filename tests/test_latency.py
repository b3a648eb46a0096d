"""Issue #14 (fast where the user waits): what the speed-ups must keep.

The timings themselves are in ``benchmarks/bench_commands.py``; these tests check the pieces that
make them possible: light imports of the main command, the right-sized certified precision
(still certified, raised when the estimate is short), the exact transform, the float64 shortcut
for ``mu_0, mu_1``, the blocked empirical NTK and the uncompressed grid file.
"""
from __future__ import annotations

import math
import random
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from spectra.analytic import cube as cube_mod
from spectra.analytic import cube_spectrum, cube_spectrum_grid, load_cube_grid
from spectra.analytic.bases import krawtchouk_transform


def test_eigen_command_loads_no_heavy_module():
    code = ("import sys, io, contextlib\n"
            "from spectra.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    rc = main(['eigen', '--dim', '16'])\n"
            "heavy = ['numba', 'scipy', 'sympy', 'matplotlib', 'spectra.empirical', 'spectra.domains']\n"
            "print(rc, ' '.join(m for m in heavy if any(k == m or k.startswith(m + '.') for k in sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0"], out.stdout + out.stderr


def _naive_transform(a):
    d = len(a) - 1
    out = [0] * (d + 1)
    for j, x in enumerate(a):
        p = [1]
        for _ in range(j):
            p = [u - v for u, v in zip(p + [0], [0] + p)]
        for _ in range(d - j):
            p = [u + v for u, v in zip(p + [0], [0] + p)]
        out = [o + x * c for o, c in zip(out, p)]
    return out


@pytest.mark.parametrize("d", [0, 1, 2, 5, 16, 33])
def test_krawtchouk_transform_is_exact(d):
    rng = random.Random(d)
    a = [rng.randint(-10**40, 10**40) for _ in range(d + 1)]
    assert krawtchouk_transform(a) == _naive_transform(a)
    assert krawtchouk_transform([0] * (d + 1)) == [0] * (d + 1)


def test_binomial_row():
    assert list(cube_mod._binomials(40)) == [math.comb(40, j) for j in range(41)]


def test_float_transform_of_mu0_mu1_alone_is_the_same_number():
    # more than 32 degrees: the full exact transform; only=(0, 1): two exact sums, same rounding
    for d, act in ((64, "relu"), (100, "erf")):
        from spectra.analytic import MLPKernel

        phi = np.asarray(MLPKernel(act, depth=3, bias_var=0.3)._f64(cube_mod.cube_grid_points(d)))
        full = cube_mod._float_transform(phi, range(d + 1))
        part = cube_mod._float_transform(phi, range(d + 1), only=(0, 1))
        assert part == {0: full[0], 1: full[1]}


def test_certified_precision_is_right_sized_for_relu():
    # relu NTK: mu_min is about 2^-(d+7); the old Taylor-only guess asked for about 1.44 d + 100 bits
    d = 1024
    s = cube_spectrum(d, "relu", 2)
    bits = int(s.method[-1].split("@")[1])
    assert bits < d + 160
    assert np.all(s.rel_error_bound <= 1e-12) and bool(s.certified.all())


def test_precision_is_raised_when_the_estimate_falls_short(monkeypatch):
    ref = cube_spectrum(96, "erf", 3, 2.0, 0.2)
    monkeypatch.setattr(cube_mod, "_log2_inv_mu_estimate", lambda kern, d, k: 0.0)
    s = cube_spectrum(96, "erf", 3, 2.0, 0.2)
    arb = np.array([m.startswith("arb@") for m in s.method])
    assert np.all(s.rel_error_bound <= 1e-12) and bool(s.certified[arb].all())
    assert min(int(m.split("@")[1]) for m, a in zip(s.method, arb) if a) > 128  # raised from the short first guess
    for a, b, r in zip(ref.exact, s.exact, ref.rel_error_bound + s.rel_error_bound):
        assert abs(a - b) <= r * abs(a)


def test_blocked_ntk_matches_one_block():
    from spectra.empirical import MLP

    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((37, 5)), rng.standard_normal((23, 5))
    net = MLP(5, 16, depth=2, n_outputs=2, bias_var=0.3, seed=1)
    for X2 in (None, Y):
        K1, p1 = net.ntk_gram(X, X2, per_layer=True)
        K2, p2 = net.ntk_gram(X, X2, per_layer=True, chunk_size=7)
        np.testing.assert_allclose(K2, K1, rtol=1e-12, atol=1e-12 * np.abs(K1).max())
        for l in p1:
            np.testing.assert_allclose(p2[l], p1[l], rtol=1e-12, atol=1e-12 * np.abs(p1[l]).max())
    K = net.ntk_gram(X, chunk_size=7)
    assert np.array_equal(K, K.transpose(0, 2, 1))  # mirrored blocks: exactly symmetric


def test_grid_file_is_stored_uncompressed_and_round_trips(tmp_path):
    g = cube_spectrum_grid(16, "erf", max_depth=3, weight_var=[1.0, 2.0], bias_var=[0.0, 0.5], max_degree=4)
    path = tmp_path / "g.npz"
    g.save(path)
    with zipfile.ZipFile(path) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
    h = load_cube_grid(path)
    assert all(np.array_equal(getattr(h, k), v) for k, v in g.arrays.items())
