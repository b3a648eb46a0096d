"""Shared pieces of the linear-width reproductions (bulk-invariance, spike, heavy-tail)."""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from spectra._io import atomic_write
from spectra._plotting import plt_or_raise
from spectra.empirical.linear_width import TwoLayerStudent, single_index_data, train_first_layer
from spectra.empirical.random_matrix import (find_outliers, gram_esd, ks_distance, powerlaw_alpha,
                                             top_eigvec_overlap, top_singular_overlap, wasserstein1, weight_esd)

# n / d = 2 and h / d = 1.5, the sizes of the public configurations (empirical-methods §10.4)
DEFAULT_SIZES = dict(n=2000, d=1000, h=1500)
FAST_SIZES = dict(n=600, d=300, h=450)


def log(progress: bool, msg: str) -> None:
    if progress:
        print(msg, file=sys.stderr, flush=True)


def figure_path(plot_path, name: str) -> Path:
    p = Path(plot_path) if plot_path is not None else Path("figures") / f"{name}.png"
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def save_figure(fig, path: Path) -> Path:
    atomic_write(path, lambda fh: fig.savefig(fh, dpi=110, bbox_inches="tight", format="png"), binary=True)
    return path


def pyplot():
    return plt_or_raise()


def setup(fast: bool, seed: int):
    sz = FAST_SIZES if fast else DEFAULT_SIZES
    data = single_index_data(sz["n"], sz["d"], n_test=1000, seed=seed)
    net = TwoLayerStudent(sz["d"], sz["h"], seed=seed + 1)
    return sz, data, net


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


def bulk(eigs: np.ndarray, n_top: int) -> np.ndarray:
    """The spectrum without its ``n_top`` largest values (the bulk)."""
    return np.sort(eigs)[: len(eigs) - n_top] if n_top > 0 else np.sort(eigs)


def compare(a: np.ndarray, b: np.ndarray) -> dict:
    stat, p = ks_distance(a, b)
    return {"w1_rel": wasserstein1(a, b, relative=True), "ks": stat, "ks_p": p}


__all__ = ["DEFAULT_SIZES", "FAST_SIZES", "log", "figure_path", "save_figure", "pyplot", "setup", "snapshot",
           "bulk", "compare", "train_first_layer", "time", "math", "np"]
