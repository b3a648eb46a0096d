"""Benchmark of the empirical kernels and projections (prints numbers; asserts nothing).

1. Structured empirical NTK (``MLP.ntk_gram``) of a depth-3, width-1024 relu MLP on n = 4096
   cube points in float64 (target <= 8 s), and against its GEMM floor (issue #14, target <= 1.25x),
   measured in the same run, interleaved ``--reps`` times: the floor is the six ``M @ M.T`` Gram
   products (numpy, the definition of ``benchmarks/bench_commands.py``) of the width-1024 signals
   it needs (the inputs of layers 2-4 and the backward signals of layers 1-3).  Also printed: the
   same six Grams as bare BLAS ``dsyrk`` calls (one triangle, no mirror: a stricter floor) and the
   forward/backward passes alone.
2. The same structured NTK against the baseline "materialize the per-example Jacobian
   J (n x n_params), vectorized per layer, then J J^T", at an n where J fits in memory.
3. FWHT per-degree spectrum of a 2^13 x 2^13 Gram matrix, and the dense alternative
   (H K H by matrix products) at 2^11 for a ratio measured in the same run.

Run: ``python benchmarks/bench_empirical.py [--quick] [--reps N] [--only-floor]``.
"""
from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

from spectra.analytic import mlp_kernel
from spectra.empirical import MLP, cube_degree_spectrum, cube_points


def _timeit(fn, repeat=1):
    best = math.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def ntk_against_floor(net, X, reps):
    """ntk_gram against its Gram floor, all timings interleaved; prints raw times, medians, ratios."""
    import statistics

    from scipy.linalg.blas import dsyrk

    A, D = net.layer_signals(X)
    mats = [np.ascontiguousarray(m) for m in A + D[0] if m is not None and m.shape[1] == net.width]
    del A, D
    C = np.zeros((X.shape[0],) * 2)

    def floor():  # the definition of bench_commands.py: numpy's A @ A.T (syrk, then numpy mirrors it)
        for M in mats:
            M @ M.T

    def syrk_floor():  # one triangle each, written into one buffer (no allocation, no mirror)
        for M in mats:
            dsyrk(1.0, M.T, c=C.T, trans=1, lower=1, overwrite_c=1)

    def signals():  # the forward and backward passes alone
        net.layer_signals(X)

    fns = {"floor": floor, "ntk_gram": lambda: net.ntk_gram(X), "syrk_floor": syrk_floor, "signals": signals}
    t = {k: [] for k in fns}
    cpu = {k: [] for k in fns}  # CPU seconds of all threads: less sensitive to other processes' load
    for _ in range(reps):
        for k, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            t[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    med = {k: statistics.median(v) for k, v in t.items()}
    for k, v in t.items():
        print(f"    {k:10s} median {med[k]:.3f} s, min {min(v):.3f} s; runs {' '.join(f'{x:.3f}' for x in v)}; "
              f"CPU median {statistics.median(cpu[k]):.3f} s")
    r, rmin = med["ntk_gram"] / med["floor"], min(t["ntk_gram"]) / min(t["floor"])
    rrep = statistics.median(a / b for a, b in zip(t["ntk_gram"], t["floor"]))
    print(f"[1b] ntk_gram / GEMM floor ({len(mats)} x M @ M.T) = {r:.2f}x (medians), {rmin:.2f}x (minima), "
          f"{rrep:.2f}x (median of the ratios within a repetition) "
          f"(target <= 1.25x: {'ok' if r <= 1.25 else 'NO'}); against the bare dsyrk floor "
          f"{med['ntk_gram'] / med['syrk_floor']:.2f}x; the forward/backward passes alone are "
          f"{med['signals'] / med['floor']:.2f}x the floor; in CPU time ntk_gram / floor = "
          f"{statistics.median(cpu['ntk_gram']) / statistics.median(cpu['floor']):.2f}x; load average "
          f"{os.getloadavg()[0]:.1f}")


def jacobian_ntk(net, X):
    """Baseline: materialize every per-example gradient (n x n_params), then J J^T."""
    A, D = net.layer_signals(X, [0])
    D = D[0]
    n = X.shape[0]
    blocks = []
    for l, (ws, bs) in enumerate(net.layer_scales):
        delta = np.ones((n, 1)) if D[l] is None else D[l]
        blocks.append((ws * delta[:, :, None] * A[l][:, None, :]).reshape(n, -1))
        blocks.append(bs * delta)
    J = np.concatenate(blocks, axis=1)
    return J @ J.T, J.nbytes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    ap.add_argument("--reps", type=int, default=5, help="interleaved repetitions of ntk_gram and its floor")
    ap.add_argument("--only-floor", action="store_true", help="only [1] and the floor comparison [1b]")
    args = ap.parse_args(argv)
    d = 12
    n_big, n_jac, width, dcube = (1024, 64, 256, 10) if args.quick else (4096, 128, 1024, 13)

    # 1. structured NTK at n = 4096
    X = cube_points(d, n_big, seed=0)
    net = MLP(d, width, 3, "relu", 2.0, 0.0, seed=0)
    net.ntk_gram(X[:64])  # warm-up
    cpu0 = time.process_time()
    t_big, K = _timeit(lambda: net.ntk_gram(X))
    cpu = time.process_time() - cpu0
    print(f"[1] ntk_gram depth=3 width={width} relu n={n_big} float64: {t_big:.2f} s wall, {cpu:.2f} s CPU "
          f"(all threads) (target <= 8 s) -> {'OK' if t_big <= 8 else 'SLOWER THAN TARGET'}; "
          f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    del K
    ntk_against_floor(net, X, args.reps)
    if args.only_floor:
        return

    # 2. against materialized Jacobians
    Xs = X[:n_jac]
    t_struct, Ks = _timeit(lambda: net.ntk_gram(Xs), repeat=3)
    t_jac, (Kj, nbytes) = _timeit(lambda: jacobian_ntk(net, Xs))
    err = np.max(np.abs(Ks - Kj)) / np.max(np.abs(Kj))
    print(f"[2] n={n_jac}, n_params={net.n_params}: Jacobian J is {nbytes / 2**30:.2f} GiB; "
          f"structured {t_struct * 1e3:.1f} ms vs Jacobian+JJ^T {t_jac * 1e3:.0f} ms -> "
          f"{t_jac / t_struct:.0f}x faster (target >= 20x); max rel diff {err:.1e}")
    del Kj, Ks

    # 3. FWHT per-degree spectrum
    for dd, dense in ((11, True), (dcube, False)):
        Xc = cube_points(dd)
        n = 1 << dd
        phi = mlp_kernel(1 - 2 * np.arange(dd + 1) / dd, "relu", 2, 2.0, 0.0, "ntk")
        ham = (dd - Xc @ Xc.T).astype(np.int64) // 2
        Kc = phi[ham]
        del ham
        cube_degree_spectrum(Kc[:8, :8] if dd > 3 else Kc)  # compile / warm-up
        t_means, _ = _timeit(lambda: cube_degree_spectrum(Kc, blocks=False))
        t_blocks, s = _timeit(lambda: cube_degree_spectrum(Kc, blocks=True, eig_max_degree=-1))
        t_eig, s = _timeit(lambda: cube_degree_spectrum(Kc, blocks=True, eig_max_degree=4))
        line = (f"[3] 2^{dd} x 2^{dd} Gram: FWHT per-degree means {t_means:.2f} s; + block spreads "
                f"{t_blocks:.2f} s; + extreme eigenvalues of blocks k<=4 {t_eig:.2f} s")
        if dense:
            from scipy.linalg import hadamard

            H = hadamard(n).astype(np.float64)
            t_dense, _ = _timeit(lambda: np.diagonal(H @ Kc @ H).copy())
            line += f"; dense H K H by BLAS {t_dense:.2f} s ({t_dense / t_means:.1f}x the FWHT)"
            del H
        print(line)
        del Kc


if __name__ == "__main__":
    main()
