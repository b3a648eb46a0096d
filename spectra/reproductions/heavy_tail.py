"""``heavy-tail``: Adam makes the weight spectrum heavy-tailed and lowers the test error.

Wang et al. 2023 (arXiv 2211.06506), linear-width two-layer network (empirical-methods §10):
``W`` trained by full-batch Adam versus full-batch GD with a small learning rate (the
regime of Wang et al., where the test error barely improves over random features: ``lr = 10``),
same number of steps, same data and initialization.  Adam runs a step schedule: 10 steps at
learning rate ``6.3 / sqrt(d)`` then 40 steps at ``0.63 / sqrt(d)`` (a fresh Adam state per
phase).  Adam moves every entry by about the learning rate, so its update has
operator norm ``~ lr sqrt(d)`` on ``W / sqrt(h)``; scaling ``lr`` as ``1 / sqrt(d)`` keeps the
spectral size of the update fixed as ``n, d, h`` grow together.  Claims checked:

1. the power-law exponent ``alpha`` of the weight ESD (CSN MLE, ``x_min`` by KS distance) falls
   well below its value at initialization (``alpha <= 0.75 alpha_init``) and below the GD run's
   (``alpha + 2 se < alpha_GD``);
2. the test error (readout ridge-refit on a probe set) after Adam is lower than after GD.

A second GD run with the larger (still bulk-preserving) learning rate of ``bulk-invariance``
(``lr = 100``) is reported for context: it learns more than the small-rate run, and the claim is
not made against it.

``alpha`` with ``x_min`` at the median (Kothapalli et al.'s rule) is reported alongside; the two
rules are not comparable with each other (empirical-methods §10.7).
"""
from __future__ import annotations

import math
import time

from spectra.empirical.linear_width import TwoLayerStudent
from spectra.empirical.random_matrix import plot_esd, plot_powerlaw_tail
from spectra.reproductions.common import Claim, ReproductionResult

from ._linear_width import figure_path, log, pyplot, save_figure, setup, snapshot, train_first_layer

NAME = "heavy-tail"
#: Adam phases (learning rate * sqrt(d), steps); GD learning rate (as in bulk-invariance)
ADAM_PHASES = ((6.3, 10), (0.63, 40))
GD_LR = 10.0
GD_LR_REFERENCE = 100.0
STEPS = sum(s for _, s in ADAM_PHASES)
WELL_BELOW = 0.75


def run(*, fast: bool = False, seed: int = 0, progress: bool = True, plot_path=None) -> ReproductionResult:
    """Run the reproduction; ``fast=True`` uses n, d, h = 600, 300, 450."""
    t0 = time.time()
    sz, data, net = setup(fast, seed)
    W0 = net.W.copy()
    log(progress, f"[{NAME}] n={sz['n']} d={sz['d']} h={sz['h']}: measuring initialization")
    s0 = snapshot(net, data, kernels=False)
    adam_lrs = [c / math.sqrt(sz["d"]) for c, _ in ADAM_PHASES]
    losses = []
    for lr, (_, st) in zip(adam_lrs, ADAM_PHASES):
        log(progress, f"[{NAME}] Adam lr={lr:.4g}, {st} steps")
        h_adam = train_first_layer(net, data.X, data.y, optimizer="adam", lr=lr, steps=st, progress=progress)
        losses += h_adam.loss
        if h_adam.diverged:
            break
    sa = snapshot(net, data, kernels=False)
    gd = TwoLayerStudent(sz["d"], sz["h"], seed=seed + 1)
    gd.W[...] = W0  # identical start
    log(progress, f"[{NAME}] GD lr={GD_LR:g}, {STEPS} steps")
    h_gd = train_first_layer(gd, data.X, data.y, optimizer="gd", lr=GD_LR, steps=STEPS, progress=progress)
    sg = snapshot(gd, data, kernels=False)
    ref = TwoLayerStudent(sz["d"], sz["h"], seed=seed + 1)
    ref.W[...] = W0
    log(progress, f"[{NAME}] reference GD lr={GD_LR_REFERENCE:g}, {STEPS} steps")
    train_first_layer(ref, data.X, data.y, optimizer="gd", lr=GD_LR_REFERENCE, steps=STEPS, progress=progress)
    test_ref = ref.ridge_test_error(data.X_probe, data.y_probe, data.X_test, data.y_test)
    a0, aa, ag = s0["alpha_ks"], sa["alpha_ks"], sg["alpha_ks"]
    claims = [
        Claim(f"Adam: weight-ESD alpha (KS x_min) well below init (alpha <= {WELL_BELOW} alpha_init) "
              "and below GD's (alpha + 2 se < alpha_GD)",
              (aa.alpha <= WELL_BELOW * a0.alpha) and (aa.alpha + 2 * aa.alpha_se < ag.alpha)
              and not h_adam.diverged,
              {"alpha_init": a0.alpha, "alpha_adam": aa.alpha, "alpha_adam_se": aa.alpha_se, "alpha_gd": ag.alpha,
               "xmin_adam": aa.xmin, "n_tail_adam": aa.n_tail,
               "alpha_median_init": s0["alpha_median"].alpha, "alpha_median_adam": sa["alpha_median"].alpha,
               "alpha_median_gd": sg["alpha_median"].alpha,
               "weight_outliers_adam": sa["outliers"].count}),
        Claim(f"Adam's test error (ridge-refit readout) is lower than small-learning-rate GD's (lr={GD_LR:g})",
              sa["test_ridge"] < sg["test_ridge"],
              {"test_adam": sa["test_ridge"], "test_gd": sg["test_ridge"], "test_init": s0["test_ridge"],
               f"test_gd_lr{GD_LR_REFERENCE:g}_reference": test_ref,
               "test_fixed_readout_adam": sa["test_fixed"], "test_fixed_readout_gd": sg["test_fixed"],
               "train_loss_adam": losses[-1], "train_loss_gd": h_gd.loss[-1]}),
    ]
    settings = {**sz, "adam_phases_lr_steps": [[lr, st] for lr, (_, st) in zip(adam_lrs, ADAM_PHASES)],
                "gd_lr": GD_LR, "gd_lr_reference": GD_LR_REFERENCE, "steps": STEPS, "activation": "tanh",
                "teacher": "softplus", "noise": data.noise, "seed": seed, "fast": fast, "ridge": 0.1}
    fig_path = None
    try:
        plt = pyplot()
        fig, axs = plt.subplots(1, 2, figsize=(10, 3.6))
        plot_esd([s0["esd"], sg["esd"], sa["esd"]], labels=["init", f"GD lr={GD_LR:g}", "Adam"],
                 log=True, ax=axs[0], bins=70, title=r"ESD of $W^\top W/h$ ($\log_{10}$ scale)")
        plot_powerlaw_tail(s0["esd"], a0, label="init", ax=axs[1])
        plot_powerlaw_tail(sg["esd"], ag, label="GD", ax=axs[1])
        plot_powerlaw_tail(sa["esd"], aa, label="Adam", ax=axs[1])
        axs[1].set_title("tail (log-log CCDF) with CSN fits", fontsize=9)
        fig.suptitle(f"heavy tail: Adam vs GD, {STEPS} full-batch steps (n={sz['n']}, d={sz['d']}, h={sz['h']})")
        fig_path = save_figure(fig, figure_path(plot_path, NAME))
        plt.close(fig)
    except ImportError as exc:
        log(progress, f"[{NAME}] no figure: {exc}")
    return ReproductionResult(NAME, claims, settings, fig_path, time.time() - t0,
                              {"loss_adam": losses, "loss_gd": h_gd.loss})
