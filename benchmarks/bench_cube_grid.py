"""Yang & Salman's hyperparameter picture: erf, d = 128, depths 0..128,
sigma_w^2 in linspace(1, 5, 41), sigma_b^2 in linspace(0, 4, 41), degrees 0..8, CK and NTK.

Baseline: a straightforward vectorized-numpy implementation of the paper's algorithm
(kernel recursion on the d+1 grid values streamed over depth, then the "twostep"
finite-difference transform of NNspectra's boolCubeMu for each depth), written below.
Both are timed in this one run (best of --repeat), their results compared, and the peak
resident memory of each measured in a fresh subprocess.

Run: python benchmarks/bench_cube_grid.py
"""
import argparse
import math
import os
import subprocess
import sys
import time

import numpy as np

D, L, K = 128, 128, 8
WV = np.linspace(1, 5, 41)
BV = np.linspace(0, 4, 41)


def baseline(d=D, depth=L, wv=WV, bv=BV, kmax=K):
    """Vectorized numpy, streaming over depth; returns (ck, ntk) of shape (L+1, nw, nb, K+1)."""
    c = 1 - 2 * np.arange(d + 1) / d  # descending: Phi_j = Phi(1 - j Delta)
    W = wv[:, None, None]
    B = bv[None, :, None]
    weights = [np.array([math.comb(d - 2 * k, r) for r in range(d - 2 * k + 1)], dtype=float) / 2.0 ** (d - 2 * k)
               for k in range(kmax + 1)]

    def mu(phi):  # twostep differences (2k <= d)
        res = []
        cur = phi
        for k in range(kmax + 1):
            res.append(cur @ weights[k])
            cur = (cur[..., :-2] - cur[..., 2:]) / 4
        return np.stack(res, axis=-1)

    ck = np.empty((depth + 1, wv.size, bv.size, kmax + 1))
    ntk = np.empty_like(ck)
    sig = W * c + B
    q = W + B
    th = sig
    ck[0], ntk[0] = mu(sig), mu(th)
    for l in range(depth):
        den = 1 + 2 * q
        V = 2 / np.pi * np.arcsin(np.clip(2 * sig / den, -1, 1))
        Vd = 4 / np.pi / np.sqrt(den * den - 4 * sig * sig)
        q = W * (2 / np.pi * np.arcsin(2 * q / den)) + B
        sig = W * V + B
        th = sig + W * Vd * th
        ck[l + 1], ntk[l + 1] = mu(sig), mu(th)
    return ck, ntk


def package():
    from spectra.analytic import cube_spectrum_grid

    g = cube_spectrum_grid(D, "erf", L, WV, BV, max_degree=K)
    return g


def _hwm_mb():
    """Peak resident set size of this process (VmHWM), in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_child(which):
    """Run one implementation in a fresh process; return (peak MB after imports and warm-up, peak MB after the run)."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = (f"import sys; sys.path.insert(0, {here!r}); import bench_cube_grid as b; "
            f"b.package() if {which!r} == 'package' else None; "  # warm-up so the JIT is not counted
            f"r0 = b._hwm_mb(); b.{which}(); print(r0, b._hwm_mb())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    package()  # warm-up: numba compile/cache load
    tb, tp = [], []
    for _ in range(args.repeat):
        t = time.perf_counter(); ck_b, ntk_b = baseline(); tb.append(time.perf_counter() - t)
        t = time.perf_counter(); g = package(); tp.append(time.perf_counter() - t)
    # agreement wherever the float64 error (the package's stated bound, which also bounds the
    # baseline's error up to a small factor: same float64 kernel, non-expansive transform) is < 1e-10 relative
    res = {}
    for name, base in (("ck", ck_b), ("ntk", ntk_b)):
        ours = getattr(g, f"eigenvalues_{name}")
        bound = getattr(g, f"abs_error_bound_{name}")[..., None]
        ok = (np.abs(base) > 0) & (bound < 1e-10 * np.abs(base))
        rel = np.abs(ours - base)[ok] / np.abs(base[ok])
        res[name] = (ok.sum(), ok.size, rel.max())
    base_mem = _peak_child("baseline")
    pkg_mem = _peak_child("package")
    print(f"grid: erf, d={D}, depths 0..{L}, {WV.size}x{BV.size} variances, degrees 0..{K}, CK and NTK")
    print(f"baseline (vectorized numpy, streaming over depth): best {min(tb):.3f} s  (all: {', '.join(f'{x:.3f}' for x in tb)})")
    print(f"spectra.cube_spectrum_grid:                        best {min(tp):.3f} s  (all: {', '.join(f'{x:.3f}' for x in tp)})")
    print(f"speed-up (best/best): {min(tb) / min(tp):.1f}x")
    for name, (n_ok, n, worst) in res.items():
        print(f"{name}: compared {n_ok}/{n} entries where the float64 error is < 1e-10 relative; max rel diff {worst:.2e}")
    print(f"peak RSS baseline: {base_mem[1]:.0f} MB (before the run {base_mem[0]:.0f} MB)")
    print(f"peak RSS package:  {pkg_mem[1]:.0f} MB (before the run, after imports and warm-up, {pkg_mem[0]:.0f} MB)")


if __name__ == "__main__":
    main()
