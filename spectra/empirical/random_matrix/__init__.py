"""Random-matrix diagnostics of trained weights and kernel Grams.

Spectra of weight matrices and of CK/NTK Gram matrices compared with the Marchenko–Pastur
(MP) law: a robust MP fit of the bulk, the bulk edge, outliers beyond a Tracy–Widom margin,
the overlap of top singular vectors with a planted direction, the power-law tail exponent
(Clauset–Shalizi–Newman MLE), distances between spectra, and plots.  One concept per module:

* :mod:`.esd` -- ESDs of weights and Grams, Wasserstein-1 and KS distances between spectra;
* :mod:`.marchenko_pastur` -- the MP law and the fit of an ESD's bulk;
* :mod:`.outliers` -- Tracy–Widom scale, outlier threshold and report, top-vector overlaps;
* :mod:`.powerlaw` -- the power-law tail fit (numba only when its ``xmin`` scan runs);
* :mod:`.plots` -- ESD histograms and power-law tails (the ``plot`` extra).

Conventions
-----------
* A weight matrix ``W`` has shape ``(h, d)`` (``h`` = fan-out / width, ``d`` = fan-in).  Its
  empirical spectral distribution (ESD) is the set of ``d`` eigenvalues of ``W^T W / h``
  (squared singular values of ``W / sqrt(h)``, padded with zeros when ``d > h``).
* The MP aspect ratio is ``gamma = d / h``.  For iid entries of variance ``sigma2`` the ESD
  converges to MP(``sigma2``, ``gamma``) with edges ``sigma2 (1 +- sqrt(gamma))^2``.

References: Marchenko & Pastur (1967), Math. USSR-Sbornik 1; Johnstone (2001), Ann. Statist.
29; Clauset, Shalizi & Newman (2009), SIAM Review 51.
"""
from ._checks import _check_gram, _check_spectrum, _check_weight
from .esd import gram_esd, ks_distance, wasserstein1, weight_esd
from .marchenko_pastur import MPFit, _check_mp, fit_mp, mp_cdf, mp_density, mp_edges, mp_quantile
from .outliers import (TW1_QUANTILES, OutlierReport, find_outliers, outlier_threshold, top_eigvec_overlap,
                       top_singular_overlap, tracy_widom_scale)
from .plots import plot_esd, plot_powerlaw_tail
from .powerlaw import PowerLawFit, powerlaw_alpha

__all__ = [
    "weight_esd",
    "gram_esd",
    "mp_edges",
    "mp_density",
    "mp_cdf",
    "mp_quantile",
    "MPFit",
    "fit_mp",
    "tracy_widom_scale",
    "outlier_threshold",
    "OutlierReport",
    "find_outliers",
    "top_singular_overlap",
    "top_eigvec_overlap",
    "PowerLawFit",
    "powerlaw_alpha",
    "wasserstein1",
    "ks_distance",
    "plot_esd",
    "plot_powerlaw_tail",
    "TW1_QUANTILES",
]
