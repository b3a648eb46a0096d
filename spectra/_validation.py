"""Input checks shared by every public function.

Each checker raises a ``ValueError`` or ``TypeError`` whose message names the
argument and the allowed range, so that bad input never reaches a numba kernel
or turns into a silent NaN.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_int",
    "check_dim",
    "check_depth",
    "check_variance",
    "check_kernel_name",
    "check_rtol",
    "check_finite_array",
    "check_degrees",
    "check_positive",
    "check_precision_bits",
    "as_generator",
    "MAX_DEPTH",
    "MAX_DEGREE",
]


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` or raise naming ``name`` and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    lo = "-inf" if minimum is None else str(minimum)
    hi = "inf" if maximum is None else str(maximum)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value}")
    return value


def check_dim(dim, name: str = "dim", minimum: int = 1) -> int:
    """Input dimension ``d``: an integer ``>= minimum``."""
    return check_int(dim, name, minimum=minimum)


def check_depth(depth, name: str = "depth", *, maximum: int | None = None) -> int:
    """Depth ``L`` = number of nonlinear layers: an integer ``>= 0`` (and ``<= maximum`` when given).

    Examples
    --------
    >>> check_depth(10000, maximum=MAX_DEPTH)
    Traceback (most recent call last):
    ...
    ValueError: depth must be an integer in [0, 1000] (the spectra engines' depth cap, MAX_DEPTH), got 10000
    """
    if maximum is None:
        return check_int(depth, name, minimum=0)
    return _capped(depth, name, 0, maximum, "the spectra engines' depth cap, MAX_DEPTH")


#: Largest depth the spectrum engines accept.  Measured (one core): the certified cube at d = 8
#: takes 15 s at depth 1000 (relu NTK, 6464 bits) and the sphere at d = 8 takes 4 s at depth 100,
#: 13 s at 200 and minutes at 1000; the issue's fuzz tests go to depth 1000.
MAX_DEPTH = 1000

#: Highest degree on the sphere and for Gaussian inputs.  The Funk-Hecke rule needs about ``K``
#: nodes and a ``K x N`` basis: degree 1000 takes 17 s and 0.7 GB at d = 8 (relu NTK), 2000 more
#: than 90 s and about 3 GB.  (On the cube the degrees stop at ``d``.)
MAX_DEGREE = 1000


def _capped(value, name: str, lo: int, hi: int, why: str) -> int:
    v = check_int(value, name)
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}] ({why}), got {v}")
    return v


def check_precision_bits(precision, maximum: int):
    """``"auto"``, ``"float64"`` or an integer number of bits in ``[53, maximum]``.

    Examples
    --------
    >>> check_precision_bits(10_000_000, 131072)
    Traceback (most recent call last):
    ...
    ValueError: precision must be an integer in [53, 131072] (bits; the certified paths' cap, MAX_PRECISION), got 10000000
    """
    if isinstance(precision, bool) or not (precision in ("auto", "float64") or isinstance(precision, (int, np.integer))):
        raise ValueError(f"precision must be 'auto', 'float64' or an integer number of bits >= 53, got {precision!r}")
    if isinstance(precision, (int, np.integer)):
        if precision < 53:
            raise ValueError(f"precision must be >= 53 bits, got {precision}")
        return _capped(precision, "precision", 53, maximum, "bits; the certified paths' cap, MAX_PRECISION")
    return precision


#: Smallest accepted non-zero variance: the smallest normal float64 (subnormal numbers carry
#: fewer significant bits, and a kernel built on them rounds to 0).
MIN_VARIANCE = float(np.finfo(float).tiny)


def check_variance(value, name: str, *, positive: bool = False) -> np.ndarray | float:
    """A variance: finite, ``>= 0`` (``> 0`` if ``positive``); scalars or arrays.

    Non-zero values must be normal float64 numbers, ``>= MIN_VARIANCE`` (2.2e-308).  Returns a
    float for scalars and a float64 array otherwise.
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or array of real numbers, got {value!r}") from None
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {value!r}")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    if np.any((arr != 0) & (arr < MIN_VARIANCE)):
        low = "" if positive else "0 or "
        raise ValueError(f"{name} must be {low}>= {MIN_VARIANCE!r} (the smallest normal float64; a subnormal "
                         f"variance loses its digits and the kernel rounds to 0), got {value!r}")
    return float(arr) if arr.ndim == 0 else arr


def check_kernel_name(kernel: str, name: str = "kernel") -> str:
    """``'ck'`` (conjugate kernel / NNGP) or ``'ntk'``; case-insensitive; ``'nngp'`` means ``'ck'``."""
    if not isinstance(kernel, str):
        raise TypeError(f"{name} must be 'ck' or 'ntk', got {kernel!r}")
    k = kernel.strip().lower()
    if k == "nngp":
        k = "ck"
    if k not in ("ck", "ntk"):
        raise ValueError(f"{name} must be 'ck' or 'ntk', got {kernel!r}")
    return k


def check_rtol(rtol, name: str = "rtol") -> float:
    """Relative tolerance in (0, 1)."""
    try:
        r = float(rtol)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number in (0, 1), got {rtol!r}") from None
    if not (0.0 < r < 1.0):
        raise ValueError(f"{name} must be in (0, 1), got {rtol!r}")
    return r


def check_finite_array(x, name: str, *, ndim: int | None = None, dtype=float, hint: str = "") -> np.ndarray:
    """A finite numeric array, optionally of a fixed number of dimensions.

    ``hint`` is appended to the non-finite error (e.g. the likely cause).
    """
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf){hint}")
    return arr


def check_degrees(degrees, name: str = "degrees", *, maximum: int | None = None, why: str = "") -> np.ndarray:
    """A non-empty list of integer degrees in ``[0, maximum]``; returned as an int array (``why``: the cap's reason)."""
    degs = np.atleast_1d(np.asarray(degrees))
    rng = (f"[0, {maximum}]" if maximum is not None else ">= 0") + why
    if degs.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.issubdtype(degs.dtype, np.integer):
        if np.issubdtype(degs.dtype, np.floating) and np.all(np.isfinite(degs)) and np.all(degs == np.round(degs)):
            degs = degs.astype(int)
        else:
            raise TypeError(f"{name} must be integers {rng}, got {degrees!r}")
    if np.any(degs < 0) or (maximum is not None and np.any(degs > maximum)):
        raise ValueError(f"{name} must be integers {rng}, got {degs.tolist()}")
    return degs.astype(int)


def check_positive(x, name: str) -> float:
    """A finite real number ``> 0``."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a positive number, got {x!r}") from None
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {x!r}")
    return v


def as_generator(seed, name: str = "seed") -> np.random.Generator:
    """A ``numpy.random.Generator``: ``seed`` itself if it is one, else ``default_rng(seed)`` for an int ``>= 0``.

    Passing a Generator lets several samplers share one random stream; an int gives a fresh,
    reproducible stream.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int(seed, name, minimum=0))
