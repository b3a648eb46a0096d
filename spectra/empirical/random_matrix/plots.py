"""Plots of spectra: ESD histograms with a Marchenko–Pastur overlay, power-law tails (``plot`` extra)."""
from __future__ import annotations

import math

import numpy as np

from spectra._plotting import plt_or_raise
from spectra._validation import check_int

from ._checks import _check_spectrum
from .marchenko_pastur import _check_mp, mp_density, mp_edges
from .powerlaw import PowerLawFit

__all__ = ["plot_esd", "plot_powerlaw_tail"]


def plot_esd(spectra, *, labels=None, mp: tuple[float, float] | None = None, log: bool = False,
             bins: int = 60, ax=None, title: str | None = None, threshold: float | None = None):
    """Histogram(s) of ESDs with an optional Marchenko–Pastur overlay.

    Parameters
    ----------
    spectra : array_like or list of array_like
        One or several spectra (each 1-D, finite, non-empty).
    labels : list of str, optional
    mp : (sigma2, gamma), optional
        Overlay of the MP density.
    log : bool
        Histogram of ``log10(lambda)`` (as in the papers' ESD plots, with a log-scaled count
        axis); the MP density is transformed accordingly.  Non-positive values are dropped.
    bins : int
    ax : matplotlib Axes, optional
    title : str, optional
    threshold : float, optional
        Draw a vertical line at this value (bulk edge / outlier threshold).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from spectra.empirical.random_matrix import weight_esd
    >>> ax = plot_esd(weight_esd(np.random.default_rng(0).standard_normal((60, 30))), mp=(1.0, 0.5))
    """
    plt = plt_or_raise()
    if isinstance(spectra, np.ndarray) and spectra.ndim == 1:
        spectra = [spectra]
    elif not isinstance(spectra, (list, tuple)):
        spectra = [spectra]
    spectra = [_check_spectrum(s, "spectra") for s in spectra]
    if labels is not None and len(labels) != len(spectra):
        raise ValueError(f"labels must have one entry per spectrum ({len(spectra)}), got {len(labels)}")
    bins = check_int(bins, "bins", minimum=2)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for i, s in enumerate(spectra):
        lab = None if labels is None else labels[i]
        if log:
            s = s[s > 1e-12 * np.max(np.abs(s))]  # drop the numerically zero part (rank deficiency)
            if s.size == 0:
                raise ValueError("log=True needs positive eigenvalues")
            ax.hist(np.log10(s), bins=bins, density=True, histtype="step", lw=1.5, label=lab)
        else:
            ax.hist(s, bins=bins, density=True, histtype="step", lw=1.5, label=lab)
    if mp is not None:
        s2, g = _check_mp(*mp)
        lo, hi = mp_edges(s2, g)
        xs = np.linspace(max(lo, 1e-12 * hi), hi, 600)
        # keep only the continuous part's mass (histograms drop zero eigenvalues in log mode)
        dens = mp_density(xs, s2, g)
        if log:
            ax.plot(np.log10(xs), dens * xs * math.log(10), "k--", lw=1, label=f"MP($\\sigma^2$={s2:.3g}, $\\gamma$={g:.3g})")
        else:
            ax.plot(xs, dens, "k--", lw=1, label=f"MP($\\sigma^2$={s2:.3g}, $\\gamma$={g:.3g})")
    if threshold is not None:
        t = float(threshold)
        ax.axvline(math.log10(t) if log and t > 0 else t, color="r", ls=":", lw=1, label="outlier threshold")
    if log:
        ax.set_yscale("log")
        ax.set_xlabel(r"$\log_{10}\lambda$")
    else:
        ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel("density")
    if title:
        ax.set_title(title, fontsize=9)
    if labels is not None or mp is not None:
        ax.legend(fontsize=7)
    return ax


def plot_powerlaw_tail(values, fit: PowerLawFit | None = None, *, label: str | None = None, ax=None):
    """Log–log empirical complementary CDF of ``values`` with the fitted power-law tail.

    Examples
    --------
    >>> import numpy as np
    >>> from spectra.empirical.random_matrix import powerlaw_alpha
    >>> x = (1 - np.random.default_rng(0).random(500)) ** (-1 / 1.5)
    >>> ax = plot_powerlaw_tail(x, powerlaw_alpha(x))
    """
    plt = plt_or_raise()
    x = _check_spectrum(values, "values")
    x = np.sort(x[x > 0])
    if x.size == 0:
        raise ValueError("values must contain positive numbers")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ccdf = 1.0 - np.arange(x.size) / x.size
    line = ax.loglog(x, ccdf, ".", ms=2, label=label)[0]
    if fit is not None:
        frac = fit.n_tail / x.size
        xs = np.geomspace(fit.xmin, x[-1], 50)
        ax.loglog(xs, frac * (xs / fit.xmin) ** (1 - fit.alpha), "--", color=line.get_color(), lw=1,
                  label=f"$\\alpha$={fit.alpha:.2f}±{fit.alpha_se:.2f} ({fit.rule})")
    ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel(r"$P(\Lambda\geq\lambda)$")
    ax.legend(fontsize=7)
    return ax
