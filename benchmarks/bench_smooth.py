"""Smooth activations on the cube (issue #11, "Speed"): every eigenvalue of the tanh NTK (depth 2,
sigma_w^2 = 2, sigma_b^2 = 0.1) at rtol 1e-12, timed after a warm-up call at a small d.

The warm-up (d = 16) loads the imports, FLINT and numba; the Mehler coefficients it caches are at a
lower precision than any timed size needs (the precision grows with d), so each timed call computes
its own ("first" column).
"repeat" is the same call again, with the coefficients cached.  Acceptance: d = 128 in <= 30 s.

The certified path stops at its wall-clock budget (cube.MAX_SECONDS, 20 s) with an AccuracyWarning;
"all meet" and "warned" say whether that happened, and --no-budget lifts it.

Run: python benchmarks/bench_smooth.py [--dims 64 128 256] [--activation tanh] [--no-repeat] [--no-budget]
"""
import argparse
import os
import time
import warnings

import numpy as np

from spectra.analytic import cube as cube_mod
from spectra.analytic import cube_spectrum
from spectra.analytic.accuracy import AccuracyWarning


def _timed(d, act, rtol):
    t, c = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AccuracyWarning)
        s = cube_spectrum(d, act, 2, 2.0, 0.1, "ntk", rtol=rtol)
    return time.perf_counter() - t, time.process_time() - c, s, bool(caught)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dims", type=int, nargs="+", default=[64, 128, 256])
    ap.add_argument("--activation", default="tanh")
    ap.add_argument("--rtol", type=float, default=1e-12)
    ap.add_argument("--no-repeat", action="store_true", help="skip the second (cached) call")
    ap.add_argument("--no-budget", action="store_true",
                    help="lift the certified path's wall-clock budget (spectra.analytic.cube.MAX_SECONDS), so that a "
                         "size that needs longer reaches rtol instead of stopping with an AccuracyWarning")
    args = ap.parse_args()
    if args.no_budget:
        cube_mod.MAX_SECONDS = float("inf")
    cube_spectrum(16, args.activation, 2, 2.0, 0.1, "ntk")  # warm-up: imports, FLINT, numba
    print(f"{args.activation} NTK depth 2, sigma_w^2 = 2, sigma_b^2 = 0.1, cube, every degree, rtol {args.rtol:g}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time grows with the load, CPU time less)")
    print(f"{'d':>5} {'degrees':>8} {'first s':>8} {'(CPU s)':>8} {'repeat s':>9} {'max rel bound':>14} {'all meet':>9}"
          f" {'warned':>7} {'min log10 mu':>13} {'method':>18}")
    for d in args.dims:
        dt, cpu, s, warned = _timed(d, args.activation, args.rtol)
        rep = "" if args.no_repeat else f"{_timed(d, args.activation, args.rtol)[0]:.2f}"
        print(f"{d:>5} {len(s.degrees):>8} {dt:>8.2f} {cpu:>8.2f} {rep:>9} {s.rel_error_bound.max():>14.2e}"
              f" {str(bool(s.meets_rtol.all())):>9} {str(warned):>7} {np.min(s.log10_eigenvalues):>13.2f}"
              f" {s.method[-1]:>18}", flush=True)


if __name__ == "__main__":
    main()
