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
    "as_generator",
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


def check_depth(depth, name: str = "depth") -> int:
    """Depth ``L`` = number of nonlinear layers: an integer ``>= 0``."""
    return check_int(depth, name, minimum=0)


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


def check_degrees(degrees, name: str = "degrees", *, maximum: int | None = None) -> np.ndarray:
    """A non-empty list of integer degrees in ``[0, maximum]``; returned as an int array."""
    degs = np.atleast_1d(np.asarray(degrees))
    rng = f"[0, {maximum}]" if maximum is not None else ">= 0"
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
