"""``degree-learning``: fractional variance predicts which depth learns degree-k functions best.

Yang & Salman (arXiv 1907.10599); conventions in ``spectra.conventions()``.
``FV_k = C(d,k) mu_k / sum_i C(d,i) mu_i`` is the fraction of a GP sample's variance in degree
``k``; the claim is that the loss of a network trained on a degree-``k`` target falls as
``FV_k`` of its kernel rises, and that training all layers (kernel: NTK) beats training the last
layer alone (kernel: CK) where the NTK's ``FV_k`` exceeds the CK's.

Setup: MLPs of depth ``L = 1..8`` (NTK parametrization, relu, ``sigma_w^2 = 2``,
``sigma_b^2 = 0``, width 256, float32), trained on all ``2^d`` points of the cube (``d = 7``),
500 full-batch steps; the loss reported is therefore the population loss under the uniform
measure, not a held-out test loss (at these sizes a held-out split leaves degree-3/4 targets
unlearnable: ``n`` is below the number of monomials of degree ``<= k``, and the held-out loss
only measures overfitting).  Targets random homogeneous cube polynomials of degree
``k = 1..4`` with unit variance, four per degree, losses averaged per degree (the 16 targets are
the 16 outputs of one network: at large width the NTK is the same for every output and the
outputs train independently).  The network is
centred (``f - f_0``, the standard trick that removes the random initial function from the
loss).  Full-batch GD on ``(1/2n) sum_i ||f(x_i) - y_i||^2`` with learning rate ``1 / Phi(1)``,
the inverse trace of the kernel being trained (NTK for all layers, CK for the last layer alone):
in the kernel regime degree ``k`` is then learned at rate ``FV_k / C(d, k)`` per step, the same
time units for every depth and for both kernels (and ``eta * max_k mu_k <= 1 < 2``, stable).
Claims checked:

1. for each ``k >= 2`` the Spearman correlation between the population loss across depths and the
   analytic NTK ``FV_k`` across depths is ``<= -0.5``;
2. all-layer training beats last-layer training exactly where ``FV_k(NTK) > FV_k(CK)``: the
   agreement rate over the ``(L, k)`` pairs is reported, and the claim holds if it is ``>= 0.75``.
"""
from __future__ import annotations

import time

import numpy as np

from spectra.empirical.training import train
from spectra.reproductions.common import Claim, ReproductionResult, figure, log

NAME = "degree-learning"
ACT, WV, BV = "relu", 2.0, 0.0
DEGREES = (1, 2, 3, 4)
TARGETS_PER_DEGREE = 4  # independent random targets per degree, losses averaged
LR_TRACE = 1.0  # learning rate = LR_TRACE / trace of the trained kernel
AGREEMENT_MIN = 0.75


def _mlp(d, width, depth, seed, n_out):
    from spectra.empirical.network import MLP

    # float32: twice the matmul throughput; the losses compared differ by far more than its rounding
    return MLP(d, width, depth, ACT, WV, BV, seed=seed, n_outputs=n_out, dtype=np.float32)


def _train_centred(net, X, Y, eta, steps, trainable):
    """Full-batch GD of the centred network ``f - f_0`` on ``Y``; returns the loss per output.

    Training ``f`` on the targets ``Y + f_0`` is the same: ``f - (Y + f_0) = (f - f_0) - Y``.
    ``trainable="last"`` trains the readout alone (kernel: CK), ``"all"`` every layer (NTK).
    """
    if trainable == "last":
        # f - f_0 is linear in the readout's change, and its gradient does not depend on the readout:
        # start the readout at 0 so that f itself is the centred network (no float32 cancellation f - f_0)
        for p in net.params[-2:]:
            p[...] = 0
        train(net, X, Y, n_steps=steps, lr=eta, optimizer="gd", trainable=trainable, record=(), record_steps=[])
        return 0.5 * np.mean((net(X) - Y) ** 2, axis=0)
    F0 = net(X)
    train(net, X, Y + F0, n_steps=steps, lr=eta, optimizer="gd", trainable=trainable, record=(), record_steps=[])
    return 0.5 * np.mean((net(X) - F0 - Y) ** 2, axis=0)


def run(*, fast: bool = False, seed: int = 0, progress: bool = True, plot_path=None) -> ReproductionResult:
    """Run the reproduction; ``fast=True`` uses d = 6, width 256, 300 steps."""
    from scipy.stats import spearmanr

    from spectra.analytic import cube_spectrum
    from spectra.empirical.data import cube_points, random_cube_polynomial

    t0 = time.time()
    d, width, steps = (6, 256, 300) if fast else (7, 256, 500)
    depths = list(range(1, 9))
    X = cube_points(d)
    # training set = the whole cube, so the loss on it is the population loss under the uniform
    # measure; with n = 2^d <= 512 a held-out split leaves degree 3-4 targets unlearnable (n is
    # below the number of monomials of degree <= k) and the held-out loss measures only overfitting
    Y = np.stack([random_cube_polynomial(X, k, seed=seed + 100 * k + t)
                  for k in DEGREES for t in range(TARGETS_PER_DEGREE)], axis=1)
    X, Y = X.astype(np.float32), Y.astype(np.float32)
    fv = {"ntk": np.zeros((len(depths), len(DEGREES))), "ck": np.zeros((len(depths), len(DEGREES)))}
    loss = {"all": np.zeros_like(fv["ntk"]), "last": np.zeros_like(fv["ntk"])}
    etas = {"ntk": [], "ck": []}
    for i, L in enumerate(depths):
        for ker in ("ntk", "ck"):
            s = cube_spectrum(d, ACT, L, WV, BV, kernel=ker, rtol=1e-8, precision="float64")  # FV to rank depths
            fv[ker][i] = [s.fractional_variance[list(s.degrees).index(k)] for k in DEGREES]
            etas[ker].append(LR_TRACE / float(s.trace))
        log(progress, f"[{NAME}] depth {L}: training all layers (eta={etas['ntk'][-1]:.3g}) and the last "
                      f"layer (eta={etas['ck'][-1]:.3g}), {steps} steps")
        for part, kernel in (("last", "ck"), ("all", "ntk")):  # the same initial network for both
            net = _mlp(d, width, L, seed + L, Y.shape[1])
            per_target = _train_centred(net, X, Y, etas[kernel][-1], steps, part)
            loss[part][i] = per_target.reshape(len(DEGREES), TARGETS_PER_DEGREE).mean(axis=1)
    rho = {}
    for j, k in enumerate(DEGREES):
        r = spearmanr(loss["all"][:, j], fv["ntk"][:, j])
        rho[k] = float(r.statistic) if np.isfinite(r.statistic) else float("nan")
    pred = fv["ntk"] > fv["ck"]
    obs = loss["all"] < loss["last"]
    agree = float(np.mean(pred == obs))
    high = [j for j, k in enumerate(DEGREES) if k >= 2]
    agree_high = float(np.mean((pred == obs)[:, high]))
    claims = [
        Claim("for each k >= 2: Spearman rho(population loss across depths, analytic NTK FV_k) <= -0.5",
              all(rho[k] <= -0.5 for k in DEGREES if k >= 2),
              {f"rho_k{k}": rho[k] for k in DEGREES}),
        Claim(f"all layers beat the last layer exactly where FV_k(NTK) > FV_k(CK): agreement >= {AGREEMENT_MIN}",
              agree >= AGREEMENT_MIN,
              {"agreement_rate": agree, "agreement_rate_k_ge_2": agree_high,
               "pairs_ntk_fv_greater": int(pred.sum()), "pairs_all_layers_better": int(obs.sum()),
               "pairs": int(pred.size)}),
    ]
    settings = {"dim": d, "n_train": X.shape[0], "loss": "population loss over the full cube (= training set)",
                "width": width, "depths": depths,
                "degrees": list(DEGREES), "activation": ACT, "weight_var": WV, "bias_var": BV, "steps": steps,
                "lr_times_trace": LR_TRACE, "targets_per_degree": TARGETS_PER_DEGREE, "seed": seed, "fast": fast}
    # a population loss over the whole cube, which is also the training set: not a "test" loss
    data = {"fv_ntk": fv["ntk"], "fv_ck": fv["ck"], "population_loss_all": loss["all"],
            "population_loss_last": loss["last"]}
    settings["population_loss_all_layers"] = loss["all"].tolist()
    settings["population_loss_last_layer"] = loss["last"].tolist()
    settings["fv_ntk"] = fv["ntk"].tolist()
    settings["fv_ck"] = fv["ck"].tolist()

    def draw(fig, axs):
        from matplotlib.lines import Line2D

        colours = {}
        for j, k in enumerate(DEGREES):
            colours[k] = axs[0].plot(depths, loss["all"][:, j], "o-", ms=3)[0].get_color()
            axs[0].plot(depths, loss["last"][:, j], "x:", ms=3, color=colours[k])
            axs[1].plot(depths, fv["ntk"][:, j], "o-", ms=3, color=colours[k])
            axs[1].plot(depths, fv["ck"][:, j], "x:", ms=3, color=colours[k])
        # colour = degree, line style = which kernel is trained: one legend explains both
        degree_handles = [Line2D([], [], color=colours[k], lw=2, label=f"k = {k} (ρ = {rho[k]:.2f})")
                          for k in DEGREES]
        style = dict(color="0.3", ms=4)
        axs[0].legend(handles=degree_handles + [
            Line2D([], [], ls="-", marker="o", label="all layers trained (NTK)", **style),
            Line2D([], [], ls=":", marker="x", label="last layer trained (CK)", **style)],
            fontsize=7, title="target degree k (ρ: Spearman, loss vs NTK FV_k)", title_fontsize=7)
        axs[1].legend(handles=[Line2D([], [], color=colours[k], lw=2, label=f"k = {k}") for k in DEGREES] + [
            Line2D([], [], ls="-", marker="o", label="NTK", **style),
            Line2D([], [], ls=":", marker="x", label="CK", **style)],
            fontsize=7, title="degree k", title_fontsize=7)
        axs[0].set_yscale("log")
        axs[0].set_xlabel("depth L")
        axs[0].set_ylabel("population loss after training")
        axs[0].set_title("loss on a degree-k target", fontsize=10)
        axs[1].set_xlabel("depth L")
        axs[1].set_ylabel("fractional variance FV_k")
        axs[1].set_title("analytic fractional variance of degree k", fontsize=10)
        fig.suptitle(f"degree learning: {ACT} MLPs on the cube d={d}; all-layers-beat-last-layer "
                     f"agrees with FV_k(NTK) > FV_k(CK) in {agree:.0%} of (L, k)")

    fig_path = figure(NAME, plot_path, draw, progress=progress, nrows=1, ncols=2, figsize=(10, 3.6))
    return ReproductionResult(NAME, claims, settings, fig_path, time.time() - t0, data)
