r"""Activations and their dual kernels (V-transforms).

For a centred bivariate Gaussian :math:`(u, v)` with variances ``v1``, ``v2`` and
covariance ``c`` every activation provides

* ``dual(c, v1, v2)``            :math:`= \mathbb E[\phi(u)\phi(v)]`,
* ``dual_derivative(c, v1, v2)`` :math:`= \mathbb E[\phi'(u)\phi'(v)]` (Price: the
  ``c``-derivative of ``dual``),

vectorized in float64 with numpy broadcasting, and, for activations with a closed
form, the same two functions in Arb ball arithmetic (python-flint), which carry a
rigorous error radius at any precision.  The angle is taken as
``atan2(sqrt(max(v1 v2 - c^2, 0)), c)``, so correlations at exactly +-1 give no NaN.

Activations without a closed form (tanh, softplus, sigmoid, swish, user callables)
use the Hermite series of :mod:`spectra.analytic.hermite`; their accuracy is
stated there (absolute error <= ``HERMITE_ATOL`` times the kernel scale).

Every activation also declares the *polynomial structure* of :math:`\phi`: the
degree of its odd part and of its even part as polynomials (``INF`` when not a
polynomial, ``-1`` when identically zero).  The kernel recursion propagates it to
decide which eigenvalues vanish exactly by symmetry (:func:`spectra.analytic.kernel_structure`).

Examples
--------
>>> from spectra.analytic import get_activation
>>> relu = get_activation("relu")
>>> float(relu.dual(0.0, 1.0, 1.0))   # E[relu(u) relu(v)] for independent u, v
0.15915494309189535
>>> float(relu.dual(1.0, 1.0, 1.0))   # = E[relu(u)^2] = 1/2
0.5
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from ._activation import INF, Activation
from .closed_forms import ab_relu, ab_step, closed_forms, leaky_relu, monomial
from .closed_forms_extra import elu, extra_closed_forms, polynomial, relu_power, scaled_erf
from ._symbolic import is_symbolic, symbolic_functions
from .hermite import builtin_hermite_activation, hermite_activation

__all__ = [
    "Activation",
    "get_activation",
    "available_activations",
    "custom_activation",
    "INF",
    "ab_relu",
    "ab_step",
    "relu_power",
    "scaled_erf",
    "polynomial",
    "elu",
]


_ALIASES = {"linear": "identity", "lrelu": "leaky_relu", "leakyrelu": "leaky_relu", "silu": "swish",
            "logistic": "sigmoid", "sign_abs": "abs"}


_HERMITE_NAMES = ("tanh", "softplus", "sigmoid", "swish")


def available_activations() -> list[str]:
    """Names accepted by :func:`get_activation` (parametrized ones shown with their syntax).

    Examples
    --------
    >>> "relu" in available_activations()
    True
    """
    return sorted(list(closed_forms()) + list(extra_closed_forms()) + list(_PARAMETRIZED) + list(_HERMITE_NAMES))


#: parametrized names with their syntax (see get_activation)
_PARAMETRIZED = ("leaky_relu(a)", "monomial(n)", "relu_power(n)", "scaled_erf(a, b, c)", "polynomial(a0, a1, ...)",
                 "elu(alpha)")


def _numbers(arg, what: str) -> list:
    """The comma-separated numbers of a name's argument (``"1, -0.5, 2e-3"``)."""
    try:
        return [float(x) for x in arg.split(",")]
    except ValueError:
        raise ValueError(f"activation: {what} must be comma-separated numbers, got {arg!r}") from None


def _integer(raw, what: str, allowed: str) -> int:
    try:
        deg = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"activation: {what} must be an integer {allowed}, got {raw!r}") from None
    if not deg.is_integer():
        raise ValueError(f"activation: {what} must be an integer {allowed}, got {raw!r}")
    return int(deg)


def get_activation(name, **params) -> Activation:
    """Look up an activation by name, or pass an :class:`Activation` through.

    Parameters
    ----------
    name : str or Activation
        One of :func:`available_activations`. Parametrized forms: ``"leaky_relu"`` with
        ``slope=a`` (default 0.01) or ``"leaky_relu(0.1)"``; ``"monomial"`` with ``degree=n``
        or ``"monomial(3)"`` (also ``"x^3"``); ``"relu_power(2)"`` (also ``"relu^2"``) for
        ``max(x, 0)^n``, n in {2, 3}; ``"scaled_erf(a, b, c)"`` for ``a erf(b x) + c``;
        ``"polynomial(a0, a1, ...)"`` for ``sum_j a_j x^j`` (ascending coefficients);
        ``"elu"`` (alpha 1) or ``"elu(0.5)"``.
    **params
        ``slope`` for leaky relu, ``degree`` for monomials and rectified monomials, ``a``, ``b``,
        ``c`` for scaled erf, ``coefficients`` for polynomials, ``alpha`` for ELU.

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.

    Examples
    --------
    >>> get_activation("erf").exact
    True
    >>> get_activation("tanh").exact
    False
    >>> get_activation("leaky_relu(0.2)").name
    'leaky_relu(0.2)'
    >>> get_activation("relu^3").name, get_activation("scaled_erf(1, -0.5, 2e-3)").name
    ('relu_power(3)', 'scaled_erf(1, -0.5, 0.002)')
    >>> get_activation("polynomial", coefficients=[1, 0, 2]).name
    'polynomial(1, 0, 2)'
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str) or an Activation, got {type(name).__name__}")
    key, arg = name.strip().lower(), None
    if "(" in key and key.endswith(")"):
        key, _, rest = key.partition("(")
        arg = rest[:-1].strip()
    elif key.startswith("x^"):
        key, arg = "monomial", key[2:]
    elif key.startswith("relu^"):
        key, arg = "relu_power", key[5:]
    key = key.strip().replace("-", "_")  # the name only: an argument may be negative ("leaky_relu(-0.5)")
    key = _ALIASES.get(key, key)
    if key == "leaky_relu":
        try:
            slope = float(params.get("slope", arg if arg else 0.01))
        except ValueError:
            raise ValueError(f"activation: leaky_relu slope must be a number, got {arg!r}") from None
        return leaky_relu(slope)
    if key == "monomial":
        return monomial(_integer(params.get("degree", arg if arg else 2), "monomial degree", "in [1, 12]"))
    if key == "relu_power":
        return relu_power(_integer(params.get("degree", arg if arg else 2), "relu_power degree", "2 or 3"))
    if key == "scaled_erf":
        if arg:
            vals = _numbers(arg, "scaled_erf(a, b, c)")
            if len(vals) != 3:
                raise ValueError(f"activation: scaled_erf takes three numbers (a, b, c) for a erf(b x) + c, got {arg!r}")
        else:
            vals = [params.get("a", 1.0), params.get("b", 1.0), params.get("c", 0.0)]
        return scaled_erf(*vals)
    if key == "elu":
        try:
            alpha = float(params.get("alpha", arg if arg else 1.0))
        except (TypeError, ValueError):
            raise ValueError(f"activation: elu alpha must be a number, got {arg!r}") from None
        return elu(alpha)
    if key == "polynomial":
        if not arg and "coefficients" not in params:
            raise ValueError("activation: polynomial needs its coefficients a0, a1, ... (ascending), "
                             "e.g. 'polynomial(0, 1, 0, -0.5)' or coefficients=[...]")
        return polynomial(*(_numbers(arg, "polynomial coefficients") if arg else params["coefficients"]))
    if arg is not None:
        raise ValueError(f"activation: {key!r} takes no parameter, got {name!r}")
    cf = closed_forms()
    if key in cf:
        return cf[key]
    extra = extra_closed_forms()
    if key in extra:
        return extra[key]
    if key in _HERMITE_NAMES:
        return builtin_hermite_activation(key)
    raise ValueError(f"activation: unknown name {name!r}; known: {', '.join(available_activations())}")


def custom_activation(fn, derivative: Optional[Callable] = None, name: str = "custom", *,
                      parity: Optional[str] = None, strip: float = 0.5) -> Activation:
    """Wrap a user-supplied smooth activation: a sympy expression, or a callable and its derivative.

    * **Symbolic** (a sympy expression in one variable, or a string sympy parses, e.g.
      ``"x*tanh(log(1 + exp(x)))"`` for mish): the derivative is taken symbolically and both are
      lambdified to numpy (networks, float64 paths) and to Arb balls, so the spectra reach any
      ``rtol`` through the Mehler-series duals (:mod:`spectra.analytic._mehler`; verified, not
      certified). ``strip`` is a lower bound on the half-width of the strip around the real axis
      where the function is analytic (default 0.5, safe for the usual activations; larger is faster).
    * **Plain callables** ``fn`` and ``derivative``: float64 Hermite series only (see
      :mod:`spectra.analytic.hermite` for the stated accuracy); ``precision=<bits>`` is refused.

    Kinked functions (relu-like) are integrated poorly by either series and should use a closed form.

    Parameters
    ----------
    fn : sympy expression, str or callable
        The activation.
    derivative : callable, optional
        Its derivative; required for a callable, not allowed for a symbolic activation.
    name : str
        Label used in outputs.
    parity : {None, "odd", "even"}
        Declare a symmetry so that exactly-zero eigenvalues are reported as 0; it is checked
        numerically (a ValueError when ``fn`` does not have it).
    strip : float
        See above (symbolic activations only).

    Examples
    --------
    >>> import numpy as np
    >>> act = custom_activation(np.tanh, lambda x: 1 - np.tanh(x) ** 2, "my_tanh", parity="odd")
    >>> abs(float(act.dual(0.0, 1.0, 1.0))) < 1e-15
    True
    >>> mish = custom_activation("x*tanh(log(1 + exp(x)))", name="mish")
    >>> mish.high_precision, round(float(mish(np.array(1.0))), 6)
    (True, 0.865098)
    """
    if parity not in (None, "odd", "even"):
        raise ValueError(f"parity must be None, 'odd' or 'even', got {parity!r}")
    mehler = None
    if is_symbolic(fn):
        if derivative is not None:
            raise ValueError("custom_activation: a symbolic activation takes no derivative (it is taken symbolically)")
        if not (isinstance(strip, (int, float)) and 0 < strip < 100):
            raise ValueError(f"custom_activation: strip must be a number in (0, 100), got {strip!r}")
        _, _, fn, derivative, fa, da = symbolic_functions(fn)
        mehler = (fa, da, float(strip))
    if not callable(fn) or not callable(derivative):
        raise TypeError("custom_activation: fn and derivative must be callables (or fn a sympy expression)")
    x = np.array([-2.5, -1.0, -0.3, 0.0, 0.3, 1.0, 2.5])
    probe = np.asarray(fn(x), dtype=float)
    dprobe = np.asarray(derivative(x), dtype=float)
    if probe.shape != x.shape or dprobe.shape != x.shape:
        raise ValueError("custom_activation: fn and derivative must be elementwise (shape-preserving)")
    if not (np.all(np.isfinite(probe)) and np.all(np.isfinite(dprobe))):
        raise ValueError("custom_activation: fn or derivative returned non-finite values on [-2.5, 2.5]")
    if parity is not None:
        _check_parity(fn, parity)
    st = {None: (INF, INF), "odd": (INF, -1), "even": (-1, INF)}[parity]
    dst = {None: (INF, INF), "odd": (-1, INF), "even": (INF, -1)}[parity]
    return hermite_activation(name, fn, derivative, st, dst, mehler=mehler)


#: where a declared parity is checked: 48 irregularly spaced points in (0, 4] (no common period)
_PARITY_GRID = 4.0 * (np.arange(1, 49) / 48.0) ** 1.3 + 1e-3 * np.sqrt(np.arange(1, 49))
_PARITY_RTOL = 1e-10


def _check_parity(fn, parity: str) -> None:
    """Refuse a declared parity that ``fn`` does not have: ``fn(-x) = +-fn(x)`` on a grid, to
    ``_PARITY_RTOL`` times the scale ``max |fn|`` of the function on that grid."""
    x = _PARITY_GRID
    with np.errstate(all="ignore"):
        f, g = np.asarray(fn(x), dtype=float), np.asarray(fn(-x), dtype=float)
    ok = np.isfinite(f) & np.isfinite(g)
    if not np.any(ok):
        raise ValueError(f"custom_activation: parity={parity!r} cannot be checked: fn is not finite on [-4, 4]")
    f, g = f[ok], g[ok]
    scale = max(np.abs(f).max(), np.abs(g).max())
    sign = -1.0 if parity == "odd" else 1.0
    dev = np.abs(g - sign * f).max()
    if dev > _PARITY_RTOL * scale:
        raise ValueError(f"custom_activation: parity={parity!r} declared but fn(-x) != {'-' if sign < 0 else ''}fn(x): "
                         f"they differ by {dev:.3g} (relative to max|fn| = {scale:.3g}) on [-4, 4]")

