"""``spike``: one large-learning-rate GD step creates a weight outlier aligned with the teacher.

Wang et al. 2023 (arXiv 2211.06506) and Ba et al. 2022: in the linear-width two-layer network
(:mod:`spectra.empirical.linear_width`), a large full-batch GD step on ``W`` (learning rate of
order ``sqrt(h d)`` in this parametrization, i.e. ``sqrt(h)`` in Ba et al.'s) adds an
(approximately) rank-one term to ``W``.  Claims checked:

1. exactly one eigenvalue of ``W^T W / h`` lies above the MP edge + Tracy–Widom margin (0.99);
2. its right singular vector ``v_1`` overlaps the teacher direction: ``|<v_1, beta>| >= 0.5``;
3. the CK ``K_CK / n`` gets an outlier (an eigenvalue above ``1.5 x`` the initial top eigenvalue)
   whose eigenvector aligns with the labels: ``|<u_1, y>| / ||y|| >= 0.5``, well above its value
   at initialization.
"""
from __future__ import annotations

import math
import time

import numpy as np

from spectra.empirical.random_matrix import plot_esd
from spectra.reproductions.common import Claim, ReproductionResult, figure, log

from ._linear_width import setup, snapshot, train_W

NAME = "spike"
#: learning rate = LR_SCALE * sqrt(h d); number of large steps
LR_SCALE, STEPS = 5.0, 1
OVERLAP_MIN = 0.5
CK_EDGE_FACTOR = 1.5


def run(*, fast: bool = False, seed: int = 0, progress: bool = True, plot_path=None) -> ReproductionResult:
    """Run the reproduction; ``fast=True`` uses n, d, h = 600, 300, 450."""
    t0 = time.time()
    sz, data, net = setup(fast, seed)
    lr = LR_SCALE * math.sqrt(sz["h"] * sz["d"])
    log(progress, f"[{NAME}] n={sz['n']} d={sz['d']} h={sz['h']}: measuring initialization")
    s0 = snapshot(net, data)
    log(progress, f"[{NAME}] GD lr={lr:.4g} (= {LR_SCALE:g} sqrt(h d)), {STEPS} step(s)")
    loss, diverged = train_W(net, data, optimizer="gd", lr=lr, steps=STEPS, progress=progress)
    s1 = snapshot(net, data)
    rep = s1["outliers"]
    ck0, ck1 = s0["ck_eigs"], s1["ck_eigs"]
    ck_edge = CK_EDGE_FACTOR * ck0[-1]
    ck_out = int(np.sum(ck1 > ck_edge))
    claims = [
        Claim("exactly one weight outlier above the MP edge + Tracy-Widom margin (s=2.02)",
              rep.count == 1 and not diverged,
              {"outliers": rep.count, "top_eigenvalues": rep.outliers[:3], "threshold": rep.threshold,
               "bulk_edge": rep.bulk_edge, "outliers_at_init": s0["outliers"].count}),
        Claim(f"top right singular vector overlaps beta: |<v1, beta>| >= {OVERLAP_MIN}",
              s1["overlap_beta"] >= OVERLAP_MIN,
              {"overlap": s1["overlap_beta"], "overlap_at_init": s0["overlap_beta"],
               "random_level": 1 / math.sqrt(sz["d"])}),
        Claim(f"CK gets an outlier (> {CK_EDGE_FACTOR} x initial top eigenvalue) whose eigenvector aligns with y "
              f"(overlap >= {OVERLAP_MIN})",
              ck_out >= 1 and s1["ck_overlap_y"] >= OVERLAP_MIN and s1["ck_overlap_y"] > 2 * s0["ck_overlap_y"],
              {"ck_outliers": ck_out, "ck_top_end": ck1[-1], "ck_top_init": ck0[-1],
               "overlap_y": s1["ck_overlap_y"], "overlap_y_at_init": s0["ck_overlap_y"]}),
    ]
    settings = {**sz, "lr": lr, "lr_scale_sqrt_hd": LR_SCALE, "steps": STEPS, "optimizer": "gd",
                "activation": "tanh", "teacher": "softplus", "noise": data.noise, "seed": seed, "fast": fast,
                "test_error_ridge": [s0["test_ridge"], s1["test_ridge"]]}

    def draw(fig, axs):
        g = sz["d"] / sz["h"]
        plot_esd([s0["esd"], s1["esd"]], labels=["init", f"after {STEPS} large step"], mp=(1.0, g), ax=axs[0],
                 threshold=rep.threshold, bins=80, title=rf"weights $W^\top W/h$: overlap $|\langle v_1,\beta\rangle|$"
                 rf"={s1['overlap_beta']:.2f}")
        axs[0].set_yscale("log")
        axs[0].set_ylim(bottom=1e-3)
        for eigs, lab in ((ck0, "init"), (ck1, "after step")):
            top = np.sort(eigs)[::-1][:40]
            axs[1].semilogy(np.arange(1, len(top) + 1), top, "o-", ms=3, label=lab)
        axs[1].axhline(ck_edge, color="r", ls=":", lw=1, label=f"{CK_EDGE_FACTOR} x init top")
        axs[1].set_xlabel("rank")
        axs[1].set_ylabel(r"eigenvalue of $K_{CK}/n$")
        axs[1].set_title(rf"CK top eigenvalues: $|\langle u_1,y\rangle|/\|y\|$={s1['ck_overlap_y']:.2f}", fontsize=9)
        axs[1].legend(fontsize=7)
        fig.suptitle(f"spike: GD lr={lr:.3g}, {STEPS} step (n={sz['n']}, d={sz['d']}, h={sz['h']})")

    fig_path = figure(NAME, plot_path, draw, progress=progress, nrows=1, ncols=2, figsize=(10, 3.6))
    return ReproductionResult(NAME, claims, settings, fig_path, time.time() - t0,
                              {"loss": loss, "esd_init": s0["esd"], "esd_end": s1["esd"]})
