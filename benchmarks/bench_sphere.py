"""Sphere spectra speed: relu NTK depth 3, rtol 1e-12, after warm-up (caches of nodes/basis filled).

Baseline measured in the same run: the float64 rule (precision="float64") on the same problem.
"""
import time

from spectra.analytic import sphere_spectrum


def timed(f, reps=3):
    f()  # warm-up
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


for d, K in [(10, 200), (1000, 50)]:
    t, s = timed(lambda: sphere_spectrum(d, "relu", 3, 2.0, 0.0, "ntk", max_degree=K, rtol=1e-12))
    tf, _ = timed(lambda: sphere_spectrum(d, "relu", 3, 2.0, 0.0, "ntk", max_degree=K, precision="float64"))
    print(f"d={d:5d} degrees 0..{K}: arb {t:.3f} s (target <= 1 s)  max rel.err bound {max(s.rel_error_bound):.1e}  "
          f"min log10 mu {min(s.log10_eigenvalues):.1f}  [{s.method[-1]}]   float64 baseline {tf:.3f} s  ratio {t / tf:.1f}x")
