"""``bulk-invariance``: small-learning-rate GD leaves the weight, CK and NTK bulk spectra unchanged.

Wang et al. 2023 (arXiv 2211.06506), linear-width two-layer network (empirical-methods §10):
full-batch GD on ``W`` with a small constant learning rate.  Claims checked:

1. the bulk ESDs of ``W^T W / h``, ``K_CK / n`` and ``K_NTK / n`` at the end are within a stated
   relative Wasserstein-1 distance (``W1 / mean``) of those at initialization;
2. no weight outlier appears above the MP edge + Tracy–Widom margin (0.99 quantile);
3. the Marchenko–Pastur fit of the trained weights has ``sigma^2`` within 2 % of the initial
   variance 1.
"""
from __future__ import annotations

import time

from spectra.empirical.random_matrix import mp_edges, plot_esd
from spectra.reproductions.common import Claim, ReproductionResult

from ._linear_width import compare, figure_path, log, pyplot, save_figure, setup, snapshot, train_first_layer

NAME = "bulk-invariance"
#: learning rate and number of full-batch steps (small lr: the loss decreases, the bulk does not move)
LR, STEPS = 100.0, 20
#: relative W1 tolerance for "invariant" bulks
W1_TOL = 0.02


def run(*, fast: bool = False, seed: int = 0, progress: bool = True, plot_path=None) -> ReproductionResult:
    """Run the reproduction; ``fast=True`` uses n, d, h = 600, 300, 450."""
    t0 = time.time()
    sz, data, net = setup(fast, seed)
    log(progress, f"[{NAME}] n={sz['n']} d={sz['d']} h={sz['h']}: measuring initialization")
    s0 = snapshot(net, data)
    log(progress, f"[{NAME}] GD lr={LR:g}, {STEPS} steps")
    hist = train_first_layer(net, data.X, data.y, optimizer="gd", lr=LR, steps=STEPS, progress=progress)
    s1 = snapshot(net, data)
    dW = compare(s0["esd"], s1["esd"])
    dCK = compare(s0["ck_eigs"], s1["ck_eigs"])
    dNTK = compare(s0["ntk_eigs"], s1["ntk_eigs"])
    fit = s1["outliers"].fit
    claims = [
        Claim(f"weight, CK and NTK spectra at the end are within relative W1 {W1_TOL} of initialization",
              max(dW["w1_rel"], dCK["w1_rel"], dNTK["w1_rel"]) <= W1_TOL and not hist.diverged,
              {"w1_rel_weights": dW["w1_rel"], "w1_rel_ck": dCK["w1_rel"], "w1_rel_ntk": dNTK["w1_rel"],
               "ks_weights": dW["ks"], "ks_p_weights": dW["ks_p"], "ks_ck": dCK["ks"], "ks_ntk": dNTK["ks"],
               "loss_start": hist.loss[0], "loss_end": hist.loss[-1]}),
        Claim("no weight outlier above the MP edge + Tracy-Widom margin (s=2.02)",
              s1["outliers"].count == 0,
              {"outliers": s1["outliers"].count, "lambda_max": s1["outliers"].lambda_max,
               "threshold": s1["outliers"].threshold, "outliers_at_init": s0["outliers"].count}),
        Claim("Marchenko-Pastur fit of the trained weights: sigma^2 within 2% of the initial variance 1",
              abs(fit.sigma2 - 1.0) <= 0.02,
              {"sigma2_end": fit.sigma2, "sigma2_init": s0["outliers"].fit.sigma2, "gamma": fit.gamma}),
    ]
    settings = {**sz, "lr": LR, "steps": STEPS, "optimizer": "gd", "activation": "tanh", "teacher": "softplus",
                "noise": data.noise, "seed": seed, "fast": fast, "w1_tolerance": W1_TOL}
    fig_path = None
    try:
        plt = pyplot()
        fig, axs = plt.subplots(1, 3, figsize=(13, 3.6))
        g = sz["d"] / sz["h"]
        plot_esd([s0["esd"], s1["esd"]], labels=["init", f"GD step {STEPS}"], mp=(1.0, g), ax=axs[0],
                 threshold=s1["outliers"].threshold, title=r"weights $W^\top W/h$")
        plot_esd([s0["ck_eigs"], s1["ck_eigs"]], labels=["init", "trained"], log=True, ax=axs[1],
                 title=r"CK $K/n$ ($\log_{10}$)")
        plot_esd([s0["ntk_eigs"], s1["ntk_eigs"]], labels=["init", "trained"], log=True, ax=axs[2],
                 title=r"NTK $K/n$ ($\log_{10}$)")
        axs[0].set_xlim(0, 1.15 * mp_edges(1.0, g)[1])
        fig.suptitle(f"bulk invariance: GD lr={LR:g}, {STEPS} steps (n={sz['n']}, d={sz['d']}, h={sz['h']})")
        fig_path = save_figure(fig, figure_path(plot_path, NAME))
        plt.close(fig)
    except ImportError as exc:
        log(progress, f"[{NAME}] no figure: {exc}")
    data_out = {"loss": hist.loss, "esd_init": s0["esd"], "esd_end": s1["esd"]}
    return ReproductionResult(NAME, claims, settings, fig_path, time.time() - t0, data_out)
