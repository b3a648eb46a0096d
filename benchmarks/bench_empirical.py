"""Benchmark of the empirical kernels and projections (prints numbers; asserts nothing).

1. Structured empirical NTK (``MLP.ntk_gram``) of a depth-3, width-1024 relu MLP on n = 4096
   cube points in float64 (target <= 8 s).
2. The same structured NTK against the baseline "materialize the per-example Jacobian
   J (n x n_params), vectorized per layer, then J J^T", at an n where J fits in memory.
3. FWHT per-degree spectrum of a 2^13 x 2^13 Gram matrix, and the dense alternative
   (H K H by matrix products) at 2^11 for a ratio measured in the same run.

Run: ``python benchmarks/bench_empirical.py [--quick]``.
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
