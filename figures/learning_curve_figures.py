"""The three learning-curve figures of the README (issue #12).

``python figures/learning_curve_figures.py [staircase] [depths] [measured]`` writes

* ``figures/learning_curve_staircase.png`` -- depth-2 relu NTK on {+-1}^128, a target with power
  0.9 * 10^(1-k) on degrees 1..6: test error and learnability against n up to 1e12, one plateau
  per degree, half-learned n marked as a multiple of C(128, k);
* ``figures/learning_curve_depths.png`` -- the same target, relu NTK of depth 1..5 (d = 128);
* ``figures/learning_curve_measured.png`` -- theory against kernel regression (cube d = 24,
  40 trials, iid points) and against trained width-2048 networks (cube d = 10, ridge 0, distinct
  points), mean +- standard error.
"""
from __future__ import annotations

import math
import os
import sys

import numpy as np

from spectra._plotting import plt_or_raise
from spectra._threads import blas_threads
from spectra.analytic import cube_spectrum, learning_curve
from spectra.empirical import kernel_regression_curve, network_regression_curve

HERE = os.path.dirname(os.path.abspath(__file__))
# power falling tenfold per degree: each learned degree takes the error down one decade
TARGET = {k: 0.9 * 10.0 ** (1 - k) for k in range(1, 7)}


def staircase(plt):
    d = 128
    s = cube_spectrum(d, activation="relu", depth=2, weight_var=2.0, bias_var=0.0, kernel="ntk")
    ns = np.geomspace(1, 1e12, 400)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(7, 6.2), sharex=True, gridspec_kw=dict(height_ratios=[3, 2]))
    for ridge, style in ((1e-3, "-"), (0.0, ":")):
        lc = learning_curve(s, TARGET, ns, noise=0.0, ridge=ridge)
        ax.loglog(ns, lc.test_mse, style, lw=1.8 if style == "-" else 1.2, color="C0" if ridge else "C3",
                  label=f"test error, ridge {ridge:g}")
    lc = learning_curve(s, TARGET, ns, noise=0.0, ridge=1e-3)
    for k in range(1, 8):
        h = lc.half_learned_n[k]
        ax2.semilogx(ns, lc.learnability[:, k], lw=1.4, label=f"k={k}")
        if h <= ns[-1]:
            for a in (ax, ax2):
                a.axvline(h, color="gray", ls=":", lw=0.8)
            ax.text(h, 2.0, f"k={k}\n{h / math.comb(d, k):.2g}·C(d,k)", fontsize=7, ha="center", va="bottom",
                    color="gray")
    ax.set_ylim(1e-7, 20)
    ax.set_ylabel(r"test error $E_x(\hat f-f^*)^2$")
    ax.set_title("depth-2 relu NTK on $\\{\\pm1\\}^{128}$, target power $0.9\\cdot10^{1-k}$ on degrees 1..6",
                 fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3, which="major")
    ax2.set_ylabel(r"learnability $L_k=\mu_k/(\mu_k+\kappa)$")
    ax2.set_xlabel("number of samples n")
    ax2.legend(fontsize=7, ncol=7, loc="upper left")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def depths(plt):
    d = 128
    ns = np.geomspace(1, 1e12, 300)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for depth in range(1, 6):
        s = cube_spectrum(d, activation="relu", depth=depth, weight_var=2.0, bias_var=0.0, kernel="ntk")
        lc = learning_curve(s, TARGET, ns, noise=0.0, ridge=1e-3)
        ax.loglog(ns, lc.test_mse, lw=1.5, label=f"depth {depth}")
    ax.set_xlabel("number of samples n")
    ax.set_ylabel(r"test error $E_x(\hat f-f^*)^2$")
    ax.set_title("relu NTK on $\\{\\pm1\\}^{128}$, ridge 1e-3, target power $0.9\\cdot10^{1-k}$ on degrees 1..6",
                 fontsize=9)
    ax.set_ylim(1e-6, 2)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def measured(plt):
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.0))
    mix = {1: 0.3, 2: 0.4, 3: 0.3}
    for act, ker, color in (("relu", "ntk", "C0"), ("erf", "ck", "C1")):
        s = cube_spectrum(24, activation=act, depth=2, weight_var=2.0, bias_var=0.1, kernel=ker)
        grid = np.geomspace(4, 4096, 200)
        a1.loglog(grid, learning_curve(s, mix, grid, noise=0.05, ridge=1e-3).test_mse, color=color, lw=1.5,
                  label=f"theory, {act} {ker.upper()}")
        ns = [8, 32, 128, 512, 2048]
        m = kernel_regression_curve(s, mix, ns, noise=0.05, ridge=1e-3, trials=40, seed=11)
        a1.errorbar(ns, m.test_mse, yerr=m.test_se, fmt="o", ms=4, color=color, capsize=2,
                    label=f"kernel regression, {act} {ker.upper()}")
    a1.set_title("cube d=24, target power 0.3/0.4/0.3 on degrees 1/2/3,\nnoise 0.05, ridge 1e-3, 40 trials",
                 fontsize=9)
    s = cube_spectrum(10, activation="relu", depth=1, weight_var=2.0, bias_var=0.5, kernel="ntk")
    grid = np.geomspace(2, 200, 200)
    for k, color in ((1, "C0"), (2, "C1"), (3, "C2")):
        a2.loglog(grid, learning_curve(s, {k: 1.0}, grid, noise=0.0, ridge=0.0).test_mse, color=color, lw=1.5,
                  label=f"NTK theory, degree {k}")
        ns = [8, 16, 32, 64]
        m = network_regression_curve(s, {k: 1.0}, ns, width=2048, trials=6, seed=12)
        a2.errorbar(ns, m.test_mse, yerr=m.test_se, fmt="s", ms=4, color=color, capsize=2,
                    label=f"width-2048 networks, degree {k}")
        krr = np.array(m.info["krr_test_mse"])
        a2.plot(ns, krr, "x", color=color, ms=6)
    a2.set_title("cube d=10, one-layer relu NTK (bias 0.5), ridge 0, 6 networks per n\n"
                 "(x: NTK regression on the same training sets)", fontsize=9)
    for a in (a1, a2):
        a.set_xlabel("number of samples n")
        a.set_ylabel(r"test error $E_x(\hat f-f^*)^2$")
        a.grid(alpha=0.3)
        a.legend(fontsize=7)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    plt = plt_or_raise()
    with blas_threads(1):
        for name in sys.argv[1:] or ["staircase", "depths", "measured"]:
            fig = globals()[name](plt)
            path = os.path.join(HERE, f"learning_curve_{name}.png")
            fig.savefig(path, dpi=130)
            plt.close(fig)
            print(f"wrote {path}", file=sys.stderr)
