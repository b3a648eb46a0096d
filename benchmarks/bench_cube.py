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
    ap.add_argument("--plot", default=None, help="figure: certified vs float64-only eigenvalues at d = 128")
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


    if args.plot:
        plot(args.plot)


def plot(path, d=128):
    """Certified eigenvalues against what float64 arithmetic alone returns, relu NTK depth 2."""
    from spectra._plotting import plt_or_raise

    plt = plt_or_raise()
    s = cube_spectrum(d, "relu", 2, 2.0, 0.0, "ntk")
    f = cube_spectrum(d, "relu", 2, 2.0, 0.0, "ntk", precision="float64")
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.6))
    ax[0].plot(s.degrees, s.log10_eigenvalues, "o-", ms=3, label="spectra (certified, rel. err. <= 1e-12)")
    fv = np.abs(f.eigenvalues)
    ax[0].plot(f.degrees, np.log10(np.where(fv > 0, fv, np.nan)), "x", ms=4, label="|float64 computation|")
    ax[0].set_xlabel("degree k")
    ax[0].set_ylabel(r"$\log_{10}\,\mu_k$")
    ax[0].legend(fontsize=7)
    ax[0].set_title(f"relu NTK, depth 2, cube d={d}", fontsize=9)
    rel = np.abs(f.eigenvalues - s.eigenvalues) / s.eigenvalues
    ax[1].semilogy(s.degrees, rel, ".", ms=4)
    ax[1].axhline(1e-12, color="k", lw=0.8, ls="--")
    ax[1].set_xlabel("degree k")
    ax[1].set_ylabel("relative error of float64")
    ax[1].set_title("float64 kernel values + exact transform: error of each eigenvalue", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
