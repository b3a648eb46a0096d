"""Kernel specialization (Shan & Bordelon 2021, arXiv:2105.14301).

Setup
-----
* Data: a mixture of ``C = 10`` Gaussians with variance ``sigma^2 = 0.01``; the centres ``mu_c`` are
  drawn uniformly on the unit sphere of ``R^d`` and a point of class ``c`` is
  ``x = sqrt(d) (mu_c + 0.1 xi)``, ``xi ~ N(0, I_d)``.  The factor ``sqrt(d)`` only rescales to the
  package convention (inputs of norm about ``sqrt(d)``); the geometry is the paper's.
  Targets: one-hot rows ``Y`` (``n x C``).
* Networks (NTK parametrization, no biases), 10 outputs, MSE ``(1/2n) sum (f - y)^2``, full-batch GD:
  a two-layer ReLU network (depth 1) and a deep linear network (identity activation, depth 2).
* Feature learning: the NTK parametrization at this width is lazy from a standard initialization,
  whereas the paper's effect needs the rich regime.  All raw parameters are therefore scaled by
  ``init_scale`` after the standard draw (0.1 for ReLU, 0.3 for the deep linear net: small
  initialization, as in the paper's theory), and the learning rate is ``0.5 * 2 / lambda_max(K/n)``
  of the network *before* that rescaling (stable once the kernel has grown back to that scale).
* Metric: KSM in form (a) (fixed target, mean over heads; see
  :func:`spectra.empirical.metrics.kernel_specialization_matrix`), computed from
  the per-head NTK Grams on the training set at the end of training.

Claims (thresholds from the issue): ReLU: KSM diagonal mean > 1.2 and off-diagonal mean < 1;
deep linear: ``|KSM - 1| < 0.1`` for every entry.
"""
from __future__ import annotations

import time

import numpy as np

from .common import Claim, ReproductionResult, figure

NAME = "specialization"


def mixture_data(n_classes: int, per_class: int, dim: int, sigma2: float = 0.01, *, seed: int = 0):
    """Gaussian-mixture inputs ``(n, dim)`` and one-hot targets ``(n, n_classes)``, ``n = n_classes*per_class``."""
    rng = np.random.default_rng(seed)
    mu = rng.standard_normal((n_classes, dim))
    mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    lab = np.repeat(np.arange(n_classes), per_class)
    X = np.sqrt(dim) * (mu[lab] + np.sqrt(sigma2) * rng.standard_normal((lab.size, dim)))
    return X, np.eye(n_classes)[lab], lab


def _train_ksm(X, Y, *, width, depth, activation, weight_var, init_scale, n_steps, seed, progress):
    from ..empirical.metrics import kernel_specialization_matrix
    from ..empirical.network import MLP
    from ..empirical.training import train

    C = Y.shape[1]
    net = MLP(X.shape[1], width, depth, activation, weight_var, 0.0, seed=seed, n_outputs=C)
    K = net.ntk_gram(X)
    lam = max(np.linalg.eigvalsh(K[c])[-1] for c in range(C)) / X.shape[0]
    lr = 0.5 * 2.0 / lam
    for p in net.params:
        p *= init_scale
    run = train(net, X, Y, n_steps=n_steps, lr=lr, record=("loss", "ntk"), record_steps=[0, n_steps],
                seed=seed, progress=progress)
    if run.diverged:
        raise RuntimeError(f"specialization: {activation} network diverged: {run.message}")
    ksm0 = kernel_specialization_matrix(run.ntk_train[0], Y)
    ksm = kernel_specialization_matrix(run.ntk_train[-1], Y)
    return ksm0, ksm, run, lr


def _summary(M):
    C = M.shape[0]
    off = M[~np.eye(C, dtype=bool)]
    return float(np.mean(np.diag(M))), float(np.mean(off)), float(np.max(np.abs(M - 1)))


def run(*, fast: bool = False, seed: int = 0, progress: bool = True, plot_path=None) -> ReproductionResult:
    """Train both networks, compute their KSMs and check the claims; draw the two heat maps."""
    t0 = time.monotonic()
    C = 10
    per, dim, width = (10, 20, 64) if fast else (20, 20, 100)
    steps_relu, steps_lin = (300, 200) if fast else (1000, 600)
    X, Y, _ = mixture_data(C, per, dim, 0.01, seed=seed)
    k0_r, ksm_r, run_r, lr_r = _train_ksm(X, Y, width=width, depth=1, activation="relu", weight_var=2.0,
                                          init_scale=0.1, n_steps=steps_relu, seed=seed, progress=progress)
    k0_l, ksm_l, run_l, lr_l = _train_ksm(X, Y, width=width, depth=2, activation="identity", weight_var=1.0,
                                          init_scale=0.3, n_steps=steps_lin, seed=seed, progress=progress)
    dr, offr, devr = _summary(ksm_r)
    dl, offl, devl = _summary(ksm_l)
    claims = [
        Claim("two-layer ReLU network specializes: KSM diagonal mean > 1.2 and off-diagonal mean < 1",
              dr > 1.2 and offr < 1.0,
              {"diag_mean": dr, "offdiag_mean": offr, "diag_mean_at_init": _summary(k0_r)[0],
               "final_loss": float(run_r.train_loss[-1])}),
        Claim("deep linear network does not specialize: |KSM - 1| < 0.1 everywhere",
              devl < 0.1,
              {"max_abs_dev": devl, "diag_mean": dl, "offdiag_mean": offl,
               "final_loss": float(run_l.train_loss[-1])}),
    ]
    settings = {"n_classes": C, "per_class": per, "dim": dim, "width": width, "sigma2": 0.01,
                "relu": {"depth": 1, "init_scale": 0.1, "lr": lr_r, "steps": steps_relu},
                "linear": {"depth": 2, "init_scale": 0.3, "lr": lr_l, "steps": steps_lin},
                "ksm_form": "(a): fixed target, mean over heads", "fast": fast, "seed": seed}
    fig_path = figure(NAME, plot_path, lambda fig, ax: _draw(fig, ax, ksm_r, ksm_l), progress=progress,
                      nrows=1, ncols=2, figsize=(8, 3.8))
    return ReproductionResult(NAME, claims, settings, figure=fig_path, seconds=time.monotonic() - t0,
                              data={"ksm_relu": ksm_r, "ksm_linear": ksm_l})


def _draw(fig, axes, ksm_r, ksm_l):
    vmin = min(ksm_r.min(), ksm_l.min(), 0.75)
    vmax = max(ksm_r.max(), ksm_l.max(), 1.5)
    # constrained layout (figure's default) and a tight bounding box keep the panels close together
    fig.suptitle("kernel specialization matrix (KSM) after training")
    for ax, M, title in ((axes[0], ksm_r, "two-layer ReLU"), (axes[1], ksm_l, "deep linear (L=2)")):
        im = ax.imshow(M, vmin=vmin, vmax=vmax, cmap="viridis")
        ax.set_title(title)
        ax.set_xlabel("target class d")
        ax.set_ylabel("output head c")
    fig.colorbar(im, ax=axes, shrink=0.9, label="KSM entry (1 = no specialization)")
