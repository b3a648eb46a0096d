"""``max-lr``: the largest stable learning rate follows from the NTK's top cube eigenvalue.

Yang & Salman (arXiv 1907.10599); the loss and learning-rate convention of ``spectra.conventions()``.
For full-batch GD on the mean loss ``(1/2n) sum_i (f(x_i) - y_i)^2`` the linearized dynamics
``f_{t+1} = f_t - (eta/n) Theta (f_t - y)`` converge iff ``eta < eta* = 2n / lambda_max(Theta)``.
On the full cube (``n = 2^d``) ``lambda_max(Theta)/n = max_k mu_k`` exactly, with ``mu_k`` the
analytic cube NTK eigenvalues, so ``eta* = 2 / max_k mu_k``.

Setup: relu MLP, depth 2, ``sigma_w^2 = 2``, ``sigma_b^2 = 0.1``, all ``2^d`` points of the cube
(``d = 8`` at default size), target a fixed cube polynomial of degrees 1 and 2 with unit variance,
NTK parametrization.  Claims checked:

1. ``eta*`` is computed from the analytic cube NTK spectrum and equals ``2n / lambda_max`` of the
   analytic Gram matrix on the full cube (relative difference < 1e-9);
2. the linearized dynamics with the analytic kernel (started from the network's outputs at
   initialization) converge at ``0.95 eta*`` and diverge at ``1.05 eta*``;
3. the finite network converges monotonically below ``eta*``; its divergence threshold
   ``eta_div`` is measured on a grid of multiples of ``eta*``; between ``eta*`` and ``eta_div``
   lies the catapult range (the loss first rises, then converges).  The claim holds if the
   network converges at ``0.9 eta*``, ``eta_div > eta*``, and the catapult range is non-empty.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from spectra.empirical.training import train
from spectra.reproductions.common import Claim, ReproductionResult, figure, log

NAME = "max-lr"
ACT, DEPTH, WV, BV = "relu", 2, 2.0, 0.1
#: multiples of eta* tried on the network
MULTIPLES = (0.5, 0.9, 1.1, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)
FAST_MULTIPLES = (0.9, 1.5, 3.0, 8.0, 16.0)


def _target(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    d = X.shape[1]
    i, j, k = rng.choice(d, size=3, replace=False)
    y = X[:, i] + X[:, j] * X[:, k]
    return y / np.std(y)


def _mlp(d, width, seed):
    from spectra.empirical.network import MLP

    return MLP(d, width, DEPTH, ACT, WV, BV, seed=seed)


def _train(net, X, y, eta, steps):
    """Full-batch GD on (1/2n)||f - y||^2: the loss before every step and after the last one.

    The run stops at a non-finite loss or one above 1e12 (that loss is the curve's last value).
    """
    with warnings.catch_warnings():  # divergence is an outcome here, classified by _classify
        warnings.filterwarnings("ignore", "training diverged", RuntimeWarning)
        run = train(net, X, y, n_steps=steps, lr=eta, optimizer="gd", record=("loss",), record_steps=[steps],
                    max_loss=1e12)
    return run.loss_history.tolist() + run.train_loss.tolist()


def _classify(losses, steps):
    l0 = losses[0]
    if len(losses) < steps + 1 or not math.isfinite(losses[-1]) or losses[-1] > l0:
        return "diverged"
    if max(losses) > 1.05 * l0:
        return "catapult"
    return "converged"


def run(*, fast: bool = False, seed: int = 0, progress: bool = True, plot_path=None) -> ReproductionResult:
    """Run the reproduction; ``fast=True`` uses d = 6, width 256 and fewer learning rates."""
    from spectra.analytic import cube_spectrum, mlp_kernel
    from spectra.empirical.data import cube_points

    t0 = time.time()
    d, width, steps = (6, 256, 150) if fast else (8, 1024, 300)
    mults = FAST_MULTIPLES if fast else MULTIPLES
    X = cube_points(d)
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    y = _target(X, rng)

    # 1. analytic prediction
    spec = cube_spectrum(d, ACT, DEPTH, WV, BV, kernel="ntk")
    mu_max = float(np.max(spec.eigenvalues))
    eta_star = 2.0 / mu_max
    C = X @ X.T / d
    K_an = mlp_kernel(C, ACT, DEPTH, WV, BV, kernel="ntk")
    lam_an = np.linalg.eigvalsh(K_an)
    eta_gram = 2 * n / lam_an[-1]
    net0 = _mlp(d, width, seed)
    K_emp = net0.ntk_gram(X)
    lam_emp = np.linalg.eigvalsh(0.5 * (K_emp + K_emp.T))
    eta_emp = 2 * n / lam_emp[-1]
    log(progress, f"[{NAME}] d={d} n={n} width={width}: eta*={eta_star:.4g} (analytic), "
                  f"{eta_emp:.4g} (empirical NTK at init)")

    # 2. linearized dynamics with the analytic kernel, residual r_{t+1} = (I - eta K/n) r_t, started
    # from the network's outputs at init (a zero start would never excite the constant mode when
    # y has zero mean)
    f_init = net0(X)[:, 0]

    def linearized(eta, T=400):
        f = f_init.copy()
        out = []
        for _ in range(T + 1):
            r = f - y
            out.append(0.5 * float(np.mean(r * r)))
            f = f - eta / n * (K_an @ r)
        return out

    lin_below, lin_above = linearized(0.95 * eta_star), linearized(1.05 * eta_star)
    lin_ok = lin_below[-1] < lin_below[0] and lin_above[-1] > 1e3 * lin_above[0]

    # 3. the network
    curves, outcome = {}, {}
    for m in mults:
        log(progress, f"[{NAME}] network GD at {m:g} x eta*")
        net = _mlp(d, width, seed)
        curves[m] = _train(net, X, y, m * eta_star, steps)
        outcome[m] = _classify(curves[m], steps)
    div = [m for m in mults if outcome[m] == "diverged"]
    m_div = min(div) if div else float("inf")
    stable_below = [m for m in mults if m < m_div]
    catapult = [m for m in mults if outcome[m] == "catapult"]
    below_ok = all(outcome[m] == "converged" for m in mults if m < 1)
    monotone = all(np.all(np.diff(curves[m]) <= 1e-12) for m in mults if m < 1)
    last_ok = max(stable_below) if stable_below else float("nan")
    claims = [
        Claim("eta* = 2/max_k mu_k from the analytic cube NTK spectrum equals 2n/lambda_max(analytic Gram) "
              "on the full cube", abs(eta_star / eta_gram - 1) < 1e-9,
              {"eta_star": eta_star, "eta_from_gram": eta_gram, "mu_max": mu_max,
               "argmax_degree": int(spec.degrees[int(np.argmax(spec.eigenvalues))]),
               "eta_empirical_ntk_init": eta_emp, "lambda_max_over_n_empirical": lam_emp[-1] / n,
               "lambda_max_over_n_analytic": lam_an[-1] / n}),
        Claim("linearized dynamics converge at 0.95 eta* and diverge at 1.05 eta*", lin_ok,
              {"loss_ratio_0.95": lin_below[-1] / lin_below[0], "loss_ratio_1.05": lin_above[-1] / lin_above[0]}),
        Claim("network: monotone convergence below eta*, divergence threshold above eta*, catapult range between",
              below_ok and monotone and m_div > 1 and len(catapult) > 0,
              {"divergence_threshold_over_eta_star": m_div, "largest_stable_multiple": last_ok,
               "catapult_multiples": catapult, "outcomes": {str(m): outcome[m] for m in mults},
               "max_loss": {str(m): max(curves[m]) for m in mults},
               "final_loss": {str(m): curves[m][-1] for m in mults},
               "eta_div_bracket": [last_ok * eta_star, m_div * eta_star]}),
    ]
    settings = {"dim": d, "n": n, "width": width, "depth": DEPTH, "activation": ACT, "weight_var": WV,
                "bias_var": BV, "steps": steps, "multiples": list(mults), "seed": seed, "fast": fast,
                "loss": "(1/2n) sum (f - y)^2"}

    def draw(fig, axs):
        axs[0].semilogy(lin_below, label=r"linearized, 0.95 $\eta^*$")
        axs[0].semilogy(lin_above, label=r"linearized, 1.05 $\eta^*$")
        axs[0].set_ylim(1e-4, 1e6)
        axs[0].set_xlabel("step")
        axs[0].set_ylabel("train loss")
        axs[0].legend(fontsize=7)
        axs[0].set_title(rf"kernel dynamics, $\eta^*=2/\max_k\mu_k$={eta_star:.3f}", fontsize=9)
        for m in mults:
            c = np.asarray(curves[m])
            axs[1].semilogy(np.clip(c, 1e-6, 1e12), lw=1, label=f"{m:g} $\\eta^*$ ({outcome[m]})")
        axs[1].set_xlabel("step")
        axs[1].set_title(f"network (width {width}): divergence at {m_div:g} $\\eta^*$", fontsize=9)
        axs[1].legend(fontsize=6, ncol=2)
        fig.suptitle(f"max learning rate: relu depth {DEPTH}, full cube d={d} (n={n})")

    fig_path = figure(NAME, plot_path, draw, progress=progress, nrows=1, ncols=2, figsize=(10, 3.6))
    return ReproductionResult(NAME, claims, settings, fig_path, time.time() - t0,
                              {"curves": {str(m): curves[m] for m in mults}})
