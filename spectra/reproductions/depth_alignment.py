"""Alignment grows with depth (Shan & Bordelon 2021, Fig. 4-5; ``empirical-methods.md`` §8, §9.2).

Setup
-----
* ReLU part: the 10-component Gaussian mixture of :mod:`.specialization` (``sigma^2 = 0.01``)
  with a binary target ``y = +1`` for even and ``-1`` for odd components (the analogue of the
  paper's odd-vs-even MNIST task).  ReLU MLPs with 2, 3, 4, 5 hidden layers, NTK
  parametrization, no biases, MSE ``(1/2n) sum (f - y)^2``, full-batch GD.
* Deep linear part: linear teacher ``y = beta . x / sqrt(d)`` on Gaussian inputs, identity
  networks with 1, 2, 3, 4 hidden layers.
* Feature learning needs the rich regime, so every network starts from a small initialization:
  all raw parameters are multiplied by ``s = INIT_OUTPUT_SCALE ** (1 / (L + 1))`` (0.01) after the standard draw
  (output scale about 0.01 for every depth), and the learning rate is ``0.5 * 2 / lambda_max(K/n)``
  of the network before that rescaling.
* Metric: uncentered alignment ``y^T K y / (||K||_F ||y||^2)`` of the final NTK on the training set.

Claims: final alignment strictly increasing over depth 2..5 (ReLU); over depth 1..4 (deep linear).
"""
from __future__ import annotations

import time

import numpy as np

from .common import Claim, ReproductionResult

NAME = "depth-alignment"
INIT_OUTPUT_SCALE = 0.01  # product of the per-layer init multipliers (small init = rich regime)


def _train_alignment(X, y, depth, activation, weight_var, *, width, n_steps, seed, progress):
    from ..empirical.metrics import alignment_curve
    from ..empirical.network import MLP
    from ..empirical.training import log_spaced_steps, train

    net = MLP(X.shape[1], width, depth, activation, weight_var, 0.0, seed=seed)
    lam = np.linalg.eigvalsh(net.ntk_gram(X))[-1] / X.shape[0]
    lr = 0.5 * 2.0 / lam
    s = INIT_OUTPUT_SCALE ** (1.0 / (depth + 1))
    for p in net.params:
        p *= s
    run = train(net, X, y, n_steps=n_steps, lr=lr, record=("loss", "ntk"),
                record_steps=log_spaced_steps(n_steps, 15), seed=seed, progress=progress)
    if run.diverged:
        raise RuntimeError(f"depth-alignment: depth {depth} {activation} network diverged: {run.message}")
    return run.steps, alignment_curve(run.ntk_train, y), run.train_loss, lr


def run(*, fast: bool = False, seed: int = 0, progress: bool = True, plot_path=None) -> ReproductionResult:
    """Train ReLU and deep linear networks of increasing depth; compare final alignments."""
    from .specialization import mixture_data

    t0 = time.monotonic()
    per, dim, width, steps = (10, 20, 48, 400) if fast else (20, 20, 64, 1500)
    X, _, lab = mixture_data(10, per, dim, 0.01, seed=seed)
    y = np.where(lab % 2 == 0, 1.0, -1.0)
    rng = np.random.default_rng(seed + 1)
    n_lin = 10 * per
    Xl = rng.standard_normal((n_lin, dim))
    yl = Xl @ rng.standard_normal(dim) / np.sqrt(dim)
    relu_depths, lin_depths = [2, 3, 4, 5], [1, 2, 3, 4]
    curves = {"relu": {}, "linear": {}}
    final = {"relu": [], "linear": []}
    for L in relu_depths:
        steps_, a, loss, lr = _train_alignment(X, y, L, "relu", 2.0, width=width, n_steps=steps, seed=seed,
                                               progress=progress)
        curves["relu"][L] = (steps_, a, loss)
        final["relu"].append(float(a[-1]))
    for L in lin_depths:
        steps_, a, loss, lr = _train_alignment(Xl, yl, L, "identity", 1.0, width=width, n_steps=steps, seed=seed,
                                               progress=progress)
        curves["linear"][L] = (steps_, a, loss)
        final["linear"].append(float(a[-1]))
    inc_r = bool(np.all(np.diff(final["relu"]) > 0))
    inc_l = bool(np.all(np.diff(final["linear"]) > 0))
    claims = [
        Claim("ReLU MLPs: final uncentered NTK-target alignment increases with depth (2..5 hidden layers)", inc_r,
              {"depths": relu_depths, "final_alignment": final["relu"],
               "initial_alignment": [float(curves["relu"][L][1][0]) for L in relu_depths],
               "final_loss": [float(curves["relu"][L][2][-1]) for L in relu_depths]}),
        Claim("deep linear networks from small init: final alignment increases with depth (1..4 hidden layers)",
              inc_l,
              {"depths": lin_depths, "final_alignment": final["linear"],
               "final_loss": [float(curves["linear"][L][2][-1]) for L in lin_depths]}),
    ]
    settings = {"per_class": per, "dim": dim, "width": width, "n_steps": steps, "init": "s = 0.1**(1/(L+1))",
                "lr": "0.5 * 2 / lambda_max(K/n) before rescaling", "fast": fast, "seed": seed}
    path = plot_path if plot_path is not None else f"figures/{NAME}.png"
    fig = _plot(curves, path) if path else None
    return ReproductionResult(NAME, claims, settings, figure=fig, seconds=time.monotonic() - t0,
                              data={"final": final})


def _plot(curves, path):
    import os

    from .._plotting import plt_or_raise

    plt = plt_or_raise()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in ((axes[0], "relu", "ReLU MLP, mixture odd/even"),
                           (axes[1], "linear", "deep linear, linear teacher")):
        for L, (s, a, _) in curves[key].items():
            ax.plot(np.maximum(s, 1), a, marker=".", label=f"L={L}")
        ax.set_xscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("alignment  y^T K y / (|K|_F |y|^2)")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)
