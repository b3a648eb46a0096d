"""Learning-curve theory against kernel regression and trained networks (issue #12).

Sections (run all by default, or name some on the command line):

* ``scale``   -- timing of ``learning_curve`` on the full cube spectrum at d = 4096, 30 sizes;
* ``cube``    -- where the finite-cube deviation begins: d = 12 with iid (repeating) and with
                 distinct training points, up to n = 2^d/2, and d = 24 up to n = 2048;
* ``sphere``  -- d = 10, relu NTK depth 2, harmonic targets of degree 1..3, n <= 1000;
* ``network`` -- wide networks trained to convergence against the NTK prediction at ridge 0,
                 cube d = 10, widths 256..4096 (the trend with width).

Usage: ``python benchmarks/bench_learning_curve.py [scale] [cube] [sphere] [network]``.
Every number printed is relative deviation ``measured / predicted - 1`` with the standard
error of the measured mean (relative), unless stated.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from spectra.analytic import cube_spectrum, learning_curve, sphere_spectrum
from spectra.empirical import kernel_regression_curve, network_regression_curve


def _row(label, ns, pred, meas):
    rel = meas.test_mse / pred.test_mse - 1
    se = meas.test_se / pred.test_mse
    cells = "  ".join(f"n={int(n)}: {r:+.3f}+-{s:.3f}" for n, r, s in zip(ns, rel, se))
    print(f"{label:<44} {cells}", flush=True)


def scale():
    t = time.perf_counter()
    s = cube_spectrum(4096, activation="relu", depth=2, weight_var=2.0, bias_var=0.0, kernel="ntk")
    t1 = time.perf_counter()
    ns = np.unique(np.round(np.geomspace(10, 1e12, 30)))
    lc = learning_curve(s, {1: 0.5, 3: 0.5}, ns, noise=0.01, ridge=0.0)
    t2 = time.perf_counter()
    finite = all(np.all(np.isfinite(getattr(lc, k))) for k in ("test_mse", "test_mse_noisy", "train_mse", "kappa"))
    print(f"scale: spectrum d=4096 {t1 - t:.1f}s, 30-point curve {t2 - t1:.2f}s, all finite: {finite}")


def cube():
    for act, ker in (("relu", "ntk"), ("erf", "ck")):
        s = cube_spectrum(12, activation=act, depth=2, weight_var=2.0, bias_var=0.1, kernel=ker)
        for tp, noise, ridge in (({2: 1.0}, 0.02, 1e-4), ({1: 0.3, 2: 0.4, 3: 0.3}, 0.1, 1e-2)):
            ns = [32, 64, 128, 256, 512, 1024, 2048]
            p = learning_curve(s, tp, ns, noise=noise, ridge=ridge)
            for rep in (True, False):
                m = kernel_regression_curve(s, tp, ns, noise=noise, ridge=ridge, trials=100, replace=rep)
                _row(f"cube d=12 {act} {ker} {tp} {'iid' if rep else 'distinct'}", ns, p, m)
        s = cube_spectrum(24, activation=act, depth=2, weight_var=2.0, bias_var=0.1, kernel=ker)
        tp = {1: 0.3, 2: 0.4, 3: 0.3}
        ns = [64, 256, 1024, 2048]
        p = learning_curve(s, tp, ns, noise=0.05, ridge=1e-3)
        m = kernel_regression_curve(s, tp, ns, noise=0.05, ridge=1e-3, trials=40)
        _row(f"cube d=24 {act} {ker} {tp} iid", ns, p, m)


def sphere():
    s = sphere_spectrum(10, activation="relu", depth=2, weight_var=2.0, bias_var=0.0, kernel="ntk", max_degree=40)
    for tp in ({1: 1.0}, {2: 1.0}, {3: 1.0}, {1: 1 / 3, 2: 1 / 3, 3: 1 / 3}):
        ns = [50, 100, 300, 1000]
        p = learning_curve(s, tp, ns, noise=0.05, ridge=1e-3)
        m = kernel_regression_curve(s, tp, ns, noise=0.05, ridge=1e-3, trials=100, n_test=1000)
        _row(f"sphere d=10 relu ntk L=2 {tp}", ns, p, m)


def network():
    s = cube_spectrum(10, activation="relu", depth=1, weight_var=2.0, bias_var=0.5, kernel="ntk")
    ns = [32]
    for tp in ({1: 1.0}, {2: 1.0}, {3: 1.0}):
        p = learning_curve(s, tp, ns, noise=0.0, ridge=0.0)
        k = kernel_regression_curve(s, tp, ns, noise=0.0, ridge=0.0, trials=400, replace=False)
        _row(f"network d=10 {tp} krr ridge 0 (distinct)", ns, p, k)
        for width in (256, 512, 1024, 2048, 4096):
            # the same 8 training sets at every width (same seed): the direct deviation shares their
            # sampling error; the paired ratio to NTK regression on those sets isolates the width
            t = time.perf_counter()
            m = network_regression_curve(s, tp, ns, width=width, trials=8)
            _row(f"network d=10 {tp} width={width} ({time.perf_counter() - t:.0f}s)", ns, p, m)
            r = m.per_trial[0] / np.array(m.info["krr_per_trial"][0]) - 1
            print(f"{'':<44} paired net/krr - 1 = {r.mean():+.4f} +- {r.std(ddof=1) / np.sqrt(r.size):.4f}", flush=True)


if __name__ == "__main__":
    from spectra._threads import blas_threads

    todo = sys.argv[1:] or ["scale", "cube", "sphere", "network"]
    with blas_threads(1):
        for name in todo:
            globals()[name]()
