"""Certified cube spectra at large d: every eigenvalue of the relu NTK (depth 2, sigma_w^2 = 2,
sigma_b^2 = 0) to <= 1e-12 relative, timed after a warm-up call.  Also shows what float64 alone
returns (the precision a float64 implementation such as the paper's code can reach).

Run: python benchmarks/bench_cube.py [--dims 1024 4096]
"""
import argparse
import time

import numpy as np

from spectra.analytic import cube_spectrum


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dims", type=int, nargs="+", default=[128, 1024, 4096])
    args = ap.parse_args()
    cube_spectrum(64, "relu", 2, 2.0, 0.0, "ntk")  # warm-up (imports, caches)
    print(f"{'d':>6} {'eigenvalues':>11} {'wall s':>8} {'min log10 mu':>13} {'max rel bound':>14} {'precision':>10}"
          f" {'float64-only: degrees with rel err > 1e-6':>42}")
    for d in args.dims:
        cube_spectrum(d, "relu", 2, 2.0, 0.0, "ntk")  # warm-up at this size (float64 transform caches)
        t = time.perf_counter()
        s = cube_spectrum(d, "relu", 2, 2.0, 0.0, "ntk", rtol=1e-12)
        dt = time.perf_counter() - t
        f = cube_spectrum(d, "relu", 2, 2.0, 0.0, "ntk", precision="float64")
        rel = np.abs(f.eigenvalues - s.eigenvalues) / np.where(s.eigenvalues > 0, s.eigenvalues, np.inf)
        bad = np.nonzero(rel > 1e-6)[0]
        first_bad = int(bad[0]) if bad.size else None
        print(f"{d:>6} {len(s.degrees):>11} {dt:>8.3f} {s.log10_eigenvalues.min():>13.2f} {s.rel_error_bound.max():>14.2e}"
              f" {s.method[-1]:>10} {len(bad):>20} (first k = {first_bad})")


if __name__ == "__main__":
    main()
