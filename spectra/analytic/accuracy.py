"""Never a silent miss: the check of a :class:`~spectra.analytic.Spectrum` against the requested ``rtol``.

Every spectrum engine ends with :func:`check_accuracy`.  When an eigenvalue's error bound exceeds
``rtol`` it emits an :class:`AccuracyWarning` naming the degrees and the worst bound, or, with
``strict=True``, raises :class:`AccuracyError` (the CLI's ``--strict`` exits with code 3).
``Spectrum.meets_rtol`` is the per-degree boolean answer.

Examples
--------
>>> import warnings
>>> from spectra.analytic import cube_spectrum
>>> with warnings.catch_warnings(record=True) as w:
...     warnings.simplefilter("always")
...     s = cube_spectrum(8, "tanh", 1, 2.0, 0.1, precision="float64", rtol=1e-15)
>>> bool(s.meets_rtol.all()), issubclass(w[-1].category, AccuracyWarning)
(False, True)
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = ["AccuracyWarning", "AccuracyError", "check_accuracy", "miss_message", "unreliable_fraction_mask"]


class AccuracyWarning(UserWarning):
    """An eigenvalue's error bound exceeds the requested relative tolerance."""


class AccuracyError(ArithmeticError):
    """Raised instead of :class:`AccuracyWarning` when ``strict=True``."""


def _degree_list(degrees) -> str:
    ks = [int(k) for k in degrees]
    text = ", ".join(str(k) for k in ks[:12])
    return text + (f", ... ({len(ks)} degrees)" if len(ks) > 12 else "")


def miss_message(spec) -> str | None:
    """One line naming the degrees whose bound exceeds ``spec.rtol`` and the worst bound; None if all meet it."""
    if spec.rtol is None:
        return None
    miss = ~spec.meets_rtol
    if not np.any(miss):
        return None
    bounds = np.asarray(spec.rel_error_bound, dtype=float)
    worst = np.where(miss, np.nan_to_num(bounds, nan=np.inf), -np.inf)
    i = int(np.argmax(worst))
    p = spec.params
    return (f"{p.get('kernel', '').upper()} {p.get('activation')} on the {spec.domain} d={spec.dim}: "
            f"{int(miss.sum())} of {len(miss)} eigenvalues miss rtol={spec.rtol:g} at degrees "
            f"[{_degree_list(np.asarray(spec.degrees)[miss])}]; worst bound {bounds[i]:.3g} at degree "
            f"{int(spec.degrees[i])} (method {spec.method[i]})")


def check_accuracy(spec, rtol: float, *, strict: bool = False, stacklevel: int = 3):
    """Record ``rtol`` on ``spec`` and warn (or raise, ``strict``) when a bound exceeds it; returns ``spec``."""
    spec.rtol = float(rtol)
    msg = miss_message(spec)
    if msg is not None:
        if strict:
            raise AccuracyError(msg)
        warnings.warn(msg, AccuracyWarning, stacklevel=stacklevel)
    return spec


def unreliable_fraction_mask(fractional_variance, abs_error_bound, multiplicities, trace, *, limit: float = 0.01):
    """True where a fractional variance's absolute error bound exceeds ``limit`` (1 %) of its value.

    ``fractional_variance`` is ``m_k mu_k / trace`` with an absolute eigenvalue bound
    ``abs_error_bound`` (broadcasting; the cube grid's bound is the same for every degree), so its
    absolute bound is ``m_k abs_error_bound / trace``.  Non-positive values and values above 1 with
    such a bound are flagged too; callers mask them with NaN.

    Examples
    --------
    >>> import numpy as np
    >>> unreliable_fraction_mask(np.array([0.5, 1e-9]), 1e-12, np.array([1, 100]), 1.0).tolist()
    [False, True]
    """
    fv = np.asarray(fractional_variance, dtype=float)
    # multiplicities beyond float64 (C(4096, 2048)) count as inf: their bound is inf unless it is exactly 0
    mult = np.asarray([float(m) if m < 2**1023 else np.inf for m in np.ravel(multiplicities)]).reshape(
        np.shape(multiplicities))
    err = np.asarray(abs_error_bound, dtype=float)
    # in place where it can be: on the README grid each full-size temporary is 15 MB
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bound = mult * err / np.asarray(trace, dtype=float)
        if bound.shape != np.broadcast_shapes(bound.shape, err.shape):
            bound = np.broadcast_to(bound, np.broadcast_shapes(bound.shape, err.shape)).copy()
        np.copyto(bound, 0.0, where=np.broadcast_to(err == 0, bound.shape))
        scaled = np.abs(fv)
        scaled *= limit
        bad = ~(bound <= scaled)
        del scaled
        bad |= (fv <= 0) & (bound > 0)
    return bad
