"""The figure of :func:`spectra.empirical.validate.validate_spectra`: finite width against the theory."""
from __future__ import annotations

import math
import os

import numpy as np

from .._io import atomic_write
from .._plotting import plt_or_raise

__all__ = ["plot_validation", "deviation_panel", "seed_se"]


def seed_se(a: np.ndarray) -> np.ndarray:
    """Standard error over axis 1 (seeds); 0 for a single seed."""
    s = a.shape[1]
    return a.std(axis=1, ddof=1) / math.sqrt(s) if s > 1 else np.zeros(a.shape[:1] + a.shape[2:])


def _offsets(result):
    n_w = len(result.widths)
    return [(wi - (n_w - 1) / 2) * 0.08 for wi in range(n_w)]


def deviation_panel(result, kern: str, axd) -> None:
    """Deviation (mean +- se over seeds) per degree, one series per width, on ``axd``."""
    deg = result.degrees
    for wi, (w, off) in enumerate(zip(result.widths, _offsets(result))):
        axd.errorbar(deg + off, result.dev_mean[kern][wi], yerr=result.dev_se[kern][wi], fmt="o-", ms=4,
                     capsize=3, label=f"width {w}")
    axd.axhline(0.0, color="k", lw=1)
    axd.set_xticks(deg)
    axd.set_xlabel("degree k")
    axd.set_ylabel("(empirical - analytic) / analytic")
    zeros = [int(k) for k in deg[result.zero[kern]]]
    axd.set_title(f"{kern.upper()} deviation: mean $\\pm$ s.e. over {len(result.seeds)} seeds"
                  + (f"\n(k={zeros}: analytic 0, absolute in units of $\\Phi(1)$)" if zeros else ""), fontsize=9)
    axd.legend(fontsize=8)


def _eigenvalue_panel(result, kern: str, ax) -> None:
    deg = result.degrees
    a = result.analytic[kern]
    ax.plot(deg, np.abs(a), "k-", lw=1.5, marker="_", ms=18, label="analytic", zorder=5)
    emp = result.empirical[kern]
    se = seed_se(emp)
    for wi, (w, off) in enumerate(zip(result.widths, _offsets(result))):
        ax.errorbar(deg + off, np.abs(emp[wi].mean(axis=0)), yerr=se[wi], fmt="o", ms=4, capsize=3,
                    label=f"width {w}")
    ax.set_yscale("log")
    ax.set_xlabel("degree k")
    ax.set_ylabel("eigenvalue" + (" (mean Rayleigh quotient)" if result.config.get("full_cube") else
                                  " (projection)"))
    c = result.config
    ax.set_title(f"{kern.upper()}: {c['activation']}, L={c['depth']}, "
                 f"$\\sigma_w^2$={c['weight_var']:g}, $\\sigma_b^2$={c['bias_var']:g}", fontsize=9)
    ax.set_xticks(deg)
    ax.legend(fontsize=8)


def _rms_panel(result, ax) -> None:
    from matplotlib.ticker import FormatStrFormatter, NullLocator

    for kern, mk in (("ck", "s-"), ("ntk", "o-")):
        slope = result.slope[kern]
        label = kern.upper() + ("" if slope is None else f" (slope {slope:+.2f})")  # one width: no slope
        ax.loglog(result.widths, result.rms[kern], mk, label=label)
    w = np.array(result.widths, dtype=float)
    if len(w) > 1:
        ax.loglog(w, result.rms["ntk"][0] * (w / w[0]) ** -0.5, "k:", label="width$^{-1/2}$")
    ax.set_xticks(result.widths)
    ax.set_xticklabels([str(x) for x in result.widths])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%.3g"))
    ax.set_xlabel("width")
    ax.set_ylabel("RMS deviation (over seeds and degrees)")
    c = result.config
    ax.set_title(f"{c['domain']}, d={c['dim']}, n={c['n_points']}, {len(result.seeds)} seeds", fontsize=9)
    ax.legend(fontsize=8)


def plot_validation(result, path) -> str:
    """Plot empirical (mean +- se over seeds, per width) against analytic eigenvalues per degree.

    Panels: CK and NTK eigenvalues per degree (log scale; absolute values), their deviations
    (mean +- se), and, over both rows, the RMS deviation against width (log-log) with the fitted
    slopes (none with one width).  Writes the figure atomically (format from the suffix, else
    PNG); returns the path.
    """
    plt = plt_or_raise()
    fig = plt.figure(figsize=(15, 8.5))
    grid = fig.add_gridspec(2, 3)
    for col, kern in enumerate(("ck", "ntk")):
        _eigenvalue_panel(result, kern, fig.add_subplot(grid[0, col]))
        deviation_panel(result, kern, fig.add_subplot(grid[1, col]))
    _rms_panel(result, fig.add_subplot(grid[:, 2]))
    fig.tight_layout()
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    fmt = fmt if fmt in fig.canvas.get_supported_filetypes() else "png"
    try:  # atomic: a reader never sees a half-written figure
        atomic_write(path, lambda fh: fig.savefig(fh, dpi=110, format=fmt), binary=True)
    finally:
        plt.close(fig)
    return path
