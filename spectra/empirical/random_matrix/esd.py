"""Empirical spectral distributions (ESDs) of weights and Grams, and distances between spectra."""
from __future__ import annotations

import numpy as np

from ._checks import _check_gram, _check_spectrum, _check_weight

__all__ = ["weight_esd", "gram_esd", "wasserstein1", "ks_distance"]


def weight_esd(W) -> np.ndarray:
    """Eigenvalues of ``W^T W / h`` for a weight matrix ``W`` of shape ``(h, d)``.

    Parameters
    ----------
    W : array_like, shape (h, d)
        Finite weight matrix.

    Returns
    -------
    numpy.ndarray, shape (d,)
        Ascending eigenvalues (squared singular values of ``W / sqrt(h)``, with ``d - h`` zeros
        appended at the bottom when ``d > h``).

    Examples
    --------
    >>> import numpy as np
    >>> W = np.random.default_rng(0).standard_normal((300, 200))
    >>> lam = weight_esd(W)
    >>> lam.shape, round(float(lam.mean()), 1)
    ((200,), 1.0)
    """
    W = _check_weight(W)
    h, d = W.shape
    s = np.linalg.svd(W, compute_uv=False)
    lam = np.sort(s**2 / h)
    if d > h:
        lam = np.concatenate([np.zeros(d - h), lam])
    return lam


def gram_esd(K, *, normalize: bool = False) -> np.ndarray:
    """Ascending eigenvalues of a symmetric Gram matrix ``K`` (divided by ``n`` if ``normalize``).

    Parameters
    ----------
    K : array_like, shape (n, n)
        Square, symmetric, finite Gram matrix (CK or NTK).
    normalize : bool
        Return the eigenvalues of ``K / n`` (the scale of the integral operator).

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> gram_esd(np.array([[2.0, 1.0], [1.0, 2.0]]))
    array([1., 3.])
    """
    K = _check_gram(K)
    K = 0.5 * (K + K.T)
    lam = np.linalg.eigvalsh(K)
    return lam / K.shape[0] if normalize else lam


def wasserstein1(a, b, *, relative: bool = False) -> float:
    """Wasserstein-1 distance between two empirical spectral distributions.

    ``relative=True`` divides by the mean of ``|a|`` (a scale-free distance).

    Examples
    --------
    >>> wasserstein1([0.0, 1.0], [1.0, 2.0])
    1.0
    """
    from scipy.stats import wasserstein_distance

    a = _check_spectrum(a, "a")
    b = _check_spectrum(b, "b")
    w = float(wasserstein_distance(a, b))
    if relative:
        scale = float(np.mean(np.abs(a)))
        if scale == 0:
            raise ValueError("relative=True needs a spectrum a with non-zero mean |a|")
        w /= scale
    return w


def ks_distance(a, b) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov statistic and p-value between two spectra.

    Examples
    --------
    >>> ks_distance([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])[0]
    0.0
    """
    from scipy.stats import ks_2samp

    a = _check_spectrum(a, "a")
    b = _check_spectrum(b, "b")
    import warnings

    with warnings.catch_warnings():  # exact p-values fall back to the asymptotic ones for ties
        warnings.simplefilter("ignore", RuntimeWarning)
        r = ks_2samp(a, b)
    return float(r.statistic), float(r.pvalue)
