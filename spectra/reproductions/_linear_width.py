"""What the linear-width reproductions (bulk-invariance, spike, heavy-tail) share.

The setting of Wang et al. 2023 (arXiv 2211.06506): the two-layer student of
:mod:`spectra.empirical.linear_width` on a single-index teacher, ``n / d`` and ``h / d`` fixed.
Here: the sizes, the seeded set-up, training of the first layer alone, the snapshot of spectra and
scalar measurements taken before and after training, and the distance between two spectra.
"""
from __future__ import annotations

import warnings

from spectra.empirical.linear_width import TwoLayerStudent, single_index_data
from spectra.empirical.random_matrix import (find_outliers, gram_esd, ks_distance, powerlaw_alpha,
                                             top_eigvec_overlap, top_singular_overlap, wasserstein1, weight_esd)
from spectra.empirical.training import train

__all__ = ["DEFAULT_SIZES", "FAST_SIZES", "setup", "train_W", "snapshot", "add_kernels", "compare"]

# n, d, h of the main configuration of Kothapalli et al. (arXiv 2406.04657, public code), which models
# Wang et al.'s setting; the fast size keeps the ratios n / d = 2 and h / d = 1.5
DEFAULT_SIZES = dict(n=2000, d=1000, h=1500)
FAST_SIZES = dict(n=600, d=300, h=450)


def setup(fast: bool, seed: int):
    """Sizes, data (train, probe, test) and a fresh student; the student's seed is ``seed + 1``."""
    sz = FAST_SIZES if fast else DEFAULT_SIZES
    data = single_index_data(sz["n"], sz["d"], n_test=1000, seed=seed)
    net = TwoLayerStudent(sz["d"], sz["h"], seed=seed + 1)
    return sz, data, net


def train_W(net: TwoLayerStudent, data, *, optimizer: str, lr: float, steps: int,
            progress: bool = False) -> tuple[list, bool]:
    """Train the first layer ``W`` alone (readout ``a`` frozen): full-batch :func:`train` on the MSE.

    Returns the training loss before every step and after the last one (shorter when the run
    diverged) and whether it diverged.  The callers report a divergence in their claims, so
    :func:`train`'s warning is not repeated.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "training diverged", RuntimeWarning)
        run = train(net, data.X, data.y, n_steps=steps, lr=lr, optimizer=optimizer, trainable=["W1"],
                    record=("loss",), record_steps=[steps], progress=progress)
    return run.loss_history.tolist() + run.train_loss.tolist(), run.diverged


def snapshot(net: TwoLayerStudent, data, *, kernels: bool = True) -> dict:
    """Spectra and scalar measurements of the current network."""
    out = {"W": net.W.copy(), "esd": weight_esd(net.W)}
    rep = find_outliers(net.W)
    out["outliers"] = rep
    out["overlap_beta"] = top_singular_overlap(net.W, data.beta)
    out["alpha_ks"] = powerlaw_alpha(out["esd"], "ks")
    out["alpha_median"] = powerlaw_alpha(out["esd"], "median")
    out["test_ridge"] = net.ridge_test_error(data.X_probe, data.y_probe, data.X_test, data.y_test)
    out["test_fixed"] = net.test_error(data.X_test, data.y_test)
    if kernels:
        add_kernels(out, net, data)
    return out


def add_kernels(snap: dict, net: TwoLayerStudent, data, *, overlap: bool = True) -> dict:
    """Add the CK and NTK spectra of ``K / n`` (and the CK's label overlap) to ``snap``; returns it."""
    ck = net.ck_gram(data.X)
    snap["ck_eigs"] = gram_esd(ck, normalize=True)
    snap["ntk_eigs"] = gram_esd(net.ntk_gram(data.X), normalize=True)
    if overlap:
        snap["ck_overlap_y"] = top_eigvec_overlap(ck, data.y)
    return snap


def compare(a, b) -> dict:
    """Relative Wasserstein-1 distance and two-sample KS statistic (with p-value) of two spectra."""
    stat, p = ks_distance(a, b)
    return {"w1_rel": wasserstein1(a, b, relative=True), "ks": stat, "ks_p": p}
