"""``bulk-invariance``: small-learning-rate GD leaves the weight, CK and NTK bulk spectra unchanged.

Wang et al. 2023 (arXiv 2211.06506), linear-width two-layer network
(:mod:`spectra.empirical.linear_width`): full-batch GD on ``W`` with a small constant learning
rate.  Claims checked, by :func:`bulk_invariant`:

1. the bulk ESDs of ``W^T W / h``, ``K_CK / n`` and ``K_NTK / n`` at the end are within a stated
   relative Wasserstein-1 distance (``W1 / mean``) of those at initialization;
2. no weight outlier appears above the MP edge + Tracy–Widom margin (0.99 quantile);
3. the Marchenko–Pastur fit of the trained weights has ``sigma^2`` within 2 % of the initial
   variance 1.

:func:`bulk_invariant` is also the rule by which ``heavy-tail`` and
``benchmarks/heavy_tail_tradeoff.py`` call a run bulk-invariant.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from spectra.empirical.random_matrix import mp_edges, plot_esd
from spectra.reproductions.common import Claim, ReproductionResult, figure, log

from ._linear_width import compare, setup, snapshot, train_W

__all__ = ["NAME", "LR", "STEPS", "W1_TOL", "SIGMA2_TOL", "BulkInvariance", "bulk_invariant", "run"]

NAME = "bulk-invariance"
#: learning rate and number of full-batch steps (small lr: the loss decreases, the bulk does not move)
LR, STEPS = 100.0, 20
#: relative W1 tolerance (``W1 / mean``) for "invariant" bulks of the weight, CK and NTK spectra
W1_TOL = 0.02
#: tolerance on the Marchenko-Pastur ``sigma^2`` of the trained weights: ``|sigma^2 - 1| <= SIGMA2_TOL``
SIGMA2_TOL = 0.02

_NAN = float("nan")


@dataclass(frozen=True)
class BulkInvariance:
    """Verdict of the bulk-invariance criteria for one snapshot against initialization.

    Attributes
    ----------
    invariant : bool
        Every criterion held *and* the kernels were checked: ``weights_invariant`` and the CK
        and NTK spectra within ``W1_TOL``.
    weights_invariant : bool
        The weight criteria held: not diverged, weight ESD within ``W1_TOL``, no outlier,
        ``sigma^2`` within ``SIGMA2_TOL`` of 1.
    w1_ok : bool
        Every checked spectrum (weights, and the CK and NTK if checked) within ``W1_TOL``.
    no_outlier, sigma2_ok : bool
        The outlier and Marchenko-Pastur criteria alone.
    kernels_checked : bool
        Whether both snapshots carried the CK and NTK spectra.
    diverged : bool
        As passed in; a diverged run is never invariant.
    w1_rel_weights, w1_rel_ck, w1_rel_ntk : float
        Relative Wasserstein-1 distances to initialization (NaN for unchecked kernels).
    ks_weights, ks_p_weights, ks_ck, ks_ntk : float
        Two-sample Kolmogorov-Smirnov statistics (and the weights' p-value), reported only.
    outliers : int
        Weight eigenvalues above the MP edge + Tracy-Widom margin.
    sigma2 : float
        Marchenko-Pastur ``sigma^2`` fitted to the snapshot's weight ESD.
    """

    invariant: bool
    weights_invariant: bool
    w1_ok: bool
    no_outlier: bool
    sigma2_ok: bool
    kernels_checked: bool
    diverged: bool
    w1_rel_weights: float
    ks_weights: float
    ks_p_weights: float
    outliers: int
    sigma2: float
    w1_rel_ck: float = _NAN
    w1_rel_ntk: float = _NAN
    ks_ck: float = _NAN
    ks_ntk: float = _NAN


def _check_snapshot(snap, name: str) -> Mapping:
    if not isinstance(snap, Mapping):
        raise TypeError(f"{name} must be a snapshot mapping, got {type(snap).__name__}")
    missing = [k for k in ("esd", "outliers") if k not in snap]
    if missing:
        raise ValueError(f"{name} lacks {', '.join(map(repr, missing))}: it needs the weight ESD 'esd' and "
                         f"the outlier report 'outliers' (and 'ck_eigs', 'ntk_eigs' to check the kernels)")
    return snap


def bulk_invariant(snapshot0, snapshot, *, diverged: bool = False) -> BulkInvariance:
    """Whether training left the bulk spectra unchanged: the criteria of Wang et al. 2023.

    ``snapshot`` (after training) is compared with ``snapshot0`` (at initialization): relative
    Wasserstein-1 distance ``<= W1_TOL`` between the weight ESDs (and between the CK and NTK
    spectra when both snapshots carry them), no weight outlier above the MP edge + Tracy-Widom
    margin, and Marchenko-Pastur ``sigma^2`` within ``SIGMA2_TOL`` of the initial variance 1.

    Parameters
    ----------
    snapshot0, snapshot : Mapping
        Measurements at initialization and after training: ``'esd'`` (eigenvalues of
        ``W^T W / h``, see :func:`spectra.empirical.random_matrix.weight_esd`), ``'outliers'``
        (:func:`spectra.empirical.random_matrix.find_outliers` of ``W``) and optionally
        ``'ck_eigs'``, ``'ntk_eigs'`` (spectra of ``K / n``).  The kernels are checked only
        when both snapshots carry both.
    diverged : bool
        Whether the run diverged (then nothing is invariant).

    Returns
    -------
    BulkInvariance

    Examples
    --------
    >>> import numpy as np
    >>> from spectra.empirical.random_matrix import find_outliers, weight_esd
    >>> rng = np.random.default_rng(0)
    >>> W0 = rng.standard_normal((450, 300))
    >>> snap = lambda W: {"esd": weight_esd(W), "outliers": find_outliers(W)}
    >>> v = bulk_invariant(snap(W0), snap(W0 + 0.01 * rng.standard_normal(W0.shape)))
    >>> v.weights_invariant, v.kernels_checked, v.invariant
    (True, False, False)
    >>> bulk_invariant(snap(W0), snap(1.5 * W0)).w1_ok
    False
    """
    s0 = _check_snapshot(snapshot0, "snapshot0")
    s = _check_snapshot(snapshot, "snapshot")
    if not isinstance(diverged, (bool, np.bool_)):
        raise TypeError(f"diverged must be a bool, got {type(diverged).__name__}")
    return _bulk_invariant(s0, s, bool(diverged))


def _bulk_invariant(s0, s, diverged: bool) -> BulkInvariance:
    dW = compare(s0["esd"], s["esd"])
    rep = s["outliers"]
    kernels = all(k in snap for snap in (s0, s) for k in ("ck_eigs", "ntk_eigs"))
    dK = {}
    if kernels:
        dC, dN = compare(s0["ck_eigs"], s["ck_eigs"]), compare(s0["ntk_eigs"], s["ntk_eigs"])
        dK = dict(w1_rel_ck=dC["w1_rel"], w1_rel_ntk=dN["w1_rel"], ks_ck=dC["ks"], ks_ntk=dN["ks"])
    weights_w1 = dW["w1_rel"] <= W1_TOL
    w1_ok = weights_w1 and all(dK[k] <= W1_TOL for k in ("w1_rel_ck", "w1_rel_ntk") if k in dK)
    no_outlier = rep.count == 0
    sigma2_ok = abs(rep.fit.sigma2 - 1.0) <= SIGMA2_TOL
    weights_invariant = not diverged and weights_w1 and no_outlier and sigma2_ok
    return BulkInvariance(invariant=weights_invariant and kernels and w1_ok, weights_invariant=weights_invariant,
                          w1_ok=w1_ok, no_outlier=no_outlier, sigma2_ok=sigma2_ok, kernels_checked=kernels,
                          diverged=diverged, w1_rel_weights=dW["w1_rel"], ks_weights=dW["ks"],
                          ks_p_weights=dW["ks_p"], outliers=rep.count, sigma2=rep.fit.sigma2, **dK)


def run(*, fast: bool = False, seed: int = 0, progress: bool = True, plot_path=None) -> ReproductionResult:
    """Run the reproduction; ``fast=True`` uses n, d, h = 600, 300, 450."""
    t0 = time.time()
    sz, data, net = setup(fast, seed)
    log(progress, f"[{NAME}] n={sz['n']} d={sz['d']} h={sz['h']}: measuring initialization")
    s0 = snapshot(net, data)
    log(progress, f"[{NAME}] GD lr={LR:g}, {STEPS} steps")
    loss, diverged = train_W(net, data, optimizer="gd", lr=LR, steps=STEPS, progress=progress)
    s1 = snapshot(net, data)
    v = bulk_invariant(s0, s1, diverged=diverged)
    fit = s1["outliers"].fit
    claims = [
        Claim(f"weight, CK and NTK spectra at the end are within relative W1 {W1_TOL} of initialization",
              v.w1_ok and not v.diverged,
              {"w1_rel_weights": v.w1_rel_weights, "w1_rel_ck": v.w1_rel_ck, "w1_rel_ntk": v.w1_rel_ntk,
               "ks_weights": v.ks_weights, "ks_p_weights": v.ks_p_weights, "ks_ck": v.ks_ck, "ks_ntk": v.ks_ntk,
               "loss_start": loss[0], "loss_end": loss[-1]}),
        Claim("no weight outlier above the MP edge + Tracy-Widom margin (s=2.02)", v.no_outlier,
              {"outliers": v.outliers, "lambda_max": s1["outliers"].lambda_max,
               "threshold": s1["outliers"].threshold, "outliers_at_init": s0["outliers"].count}),
        Claim(f"Marchenko-Pastur fit of the trained weights: sigma^2 within {SIGMA2_TOL:.0%} of the initial variance 1",
              v.sigma2_ok,
              {"sigma2_end": v.sigma2, "sigma2_init": s0["outliers"].fit.sigma2, "gamma": fit.gamma}),
    ]
    settings = {**sz, "lr": LR, "steps": STEPS, "optimizer": "gd", "activation": "tanh", "teacher": "softplus",
                "noise": data.noise, "seed": seed, "fast": fast, "w1_tolerance": W1_TOL}

    def draw(fig, axs):
        g = sz["d"] / sz["h"]
        plot_esd([s0["esd"], s1["esd"]], labels=["init", f"GD step {STEPS}"], mp=(1.0, g), ax=axs[0],
                 threshold=s1["outliers"].threshold, title=r"weights $W^\top W/h$")
        plot_esd([s0["ck_eigs"], s1["ck_eigs"]], labels=["init", "trained"], log=True, ax=axs[1],
                 title=r"CK $K/n$ ($\log_{10}$)")
        plot_esd([s0["ntk_eigs"], s1["ntk_eigs"]], labels=["init", "trained"], log=True, ax=axs[2],
                 title=r"NTK $K/n$ ($\log_{10}$)")
        axs[0].set_xlim(0, 1.15 * mp_edges(1.0, g)[1])
        fig.suptitle(f"bulk invariance: GD lr={LR:g}, {STEPS} steps (n={sz['n']}, d={sz['d']}, h={sz['h']})")

    fig_path = figure(NAME, plot_path, draw, progress=progress, nrows=1, ncols=3, figsize=(13, 3.6))
    data_out = {"loss": loss, "esd_init": s0["esd"], "esd_end": s1["esd"]}
    return ReproductionResult(NAME, claims, settings, fig_path, time.time() - t0, data_out)
