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
decide which eigenvalues vanish exactly by symmetry (see ``structure.py``).

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

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from scipy import special

INF = 10**9  # "not a polynomial" in a structure degree

__all__ = [
    "Activation",
    "get_activation",
    "available_activations",
    "custom_activation",
    "INF",
]


# --------------------------------------------------------------------------------------
# float64 helpers
# --------------------------------------------------------------------------------------
def _b(c, v1, v2):
    c = np.asarray(c, dtype=float)
    v1 = np.asarray(v1, dtype=float)
    v2 = np.asarray(v2, dtype=float)
    return c, v1, v2


def _theta(c, v1, v2):
    s2 = np.maximum(v1 * v2 - c * c, 0.0)
    return np.sqrt(s2), np.arctan2(np.sqrt(s2), c)


def _relu_V(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    s, th = _theta(c, v1, v2)
    return (s + (np.pi - th) * c) / (2 * np.pi)


def _step_V(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    _, th = _theta(c, v1, v2)
    return (np.pi - th) / (2 * np.pi)


def _abs_V(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    s, th = _theta(c, v1, v2)
    # arcsin(rho) = pi/2 - theta
    return 2.0 / np.pi * (s + c * (np.pi / 2 - th))


def _sign_V(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    _, th = _theta(c, v1, v2)
    return 2.0 / np.pi * (np.pi / 2 - th)


def _erf_V(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    den = np.sqrt((1 + 2 * v1) * (1 + 2 * v2))
    return 2.0 / np.pi * np.arcsin(np.clip(2 * c / den, -1.0, 1.0))


def _erf_dV(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    return 4.0 / np.pi / np.sqrt((1 + 2 * v1) * (1 + 2 * v2) - 4 * c * c)


def _gelu_parts(c, v1, v2):
    s2 = (1 + v1) * (1 + v2)
    D = s2 - c * c
    alpha = 1 / (1 + v1) + 1 / (1 + v2) - 1
    asn = np.arcsin(np.clip(c / np.sqrt(s2), -1.0, 1.0))
    return D, alpha, asn


def _gelu_V(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    D, alpha, asn = _gelu_parts(c, v1, v2)
    return c / 4 + (c * asn + (v1 * v2 + alpha * c * c) / np.sqrt(D)) / (2 * np.pi)


def _gelu_dV(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    D, alpha, asn = _gelu_parts(c, v1, v2)
    rD = np.sqrt(D)
    return 0.25 + (asn + c / rD + 2 * alpha * c / rD + c * (v1 * v2 + alpha * c * c) / (D * rD)) / (2 * np.pi)


def _monomial_moment(n: int, c, v1, v2):
    """E[u^n v^n] = sum_{k = n mod 2}^{n} k! (n!/(2^j j! k!))^2 c^k (v1 v2)^j, j = (n-k)/2."""
    c, v1, v2 = _b(c, v1, v2)
    p = v1 * v2
    out = np.zeros(np.broadcast(c, p).shape)
    for k in range(n % 2, n + 1, 2):
        j = (n - k) // 2
        coef = math.factorial(k) * (math.factorial(n) / (2**j * math.factorial(j) * math.factorial(k))) ** 2
        out = out + coef * c**k * p**j
    return out


# --------------------------------------------------------------------------------------
# Arb helpers (python-flint); imported lazily so that `import spectra` stays light
# --------------------------------------------------------------------------------------
def _arb():
    from flint import arb

    return arb


def _theta_arb(c, v1, v2):
    arb = _arb()
    s = (v1 * v2 - c * c).nonnegative_part().sqrt()
    return s, arb.atan2(s, c)


def _relu_V_arb(c, v1, v2):
    arb = _arb()
    s, th = _theta_arb(c, v1, v2)
    pi = arb.pi()
    return (s + (pi - th) * c) / (2 * pi)


def _step_V_arb(c, v1, v2):
    arb = _arb()
    _, th = _theta_arb(c, v1, v2)
    pi = arb.pi()
    return (pi - th) / (2 * pi)


def _abs_V_arb(c, v1, v2):
    arb = _arb()
    s, th = _theta_arb(c, v1, v2)
    pi = arb.pi()
    return 2 * (s + c * (pi / 2 - th)) / pi


def _sign_V_arb(c, v1, v2):
    arb = _arb()
    _, th = _theta_arb(c, v1, v2)
    pi = arb.pi()
    return 2 * (pi / 2 - th) / pi


def _erf_V_arb(c, v1, v2):
    arb = _arb()
    den = ((1 + 2 * v1) * (1 + 2 * v2)).sqrt()
    return 2 * (2 * c / den).asin() / arb.pi()


def _erf_dV_arb(c, v1, v2):
    arb = _arb()
    return 4 / (arb.pi() * ((1 + 2 * v1) * (1 + 2 * v2) - 4 * c * c).sqrt())


def _gelu_V_arb(c, v1, v2):
    arb = _arb()
    s2 = (1 + v1) * (1 + v2)
    D = s2 - c * c
    alpha = 1 / (1 + v1) + 1 / (1 + v2) - 1
    asn = (c / s2.sqrt()).asin()
    return c / 4 + (c * asn + (v1 * v2 + alpha * c * c) / D.sqrt()) / (2 * arb.pi())


def _gelu_dV_arb(c, v1, v2):
    arb = _arb()
    s2 = (1 + v1) * (1 + v2)
    D = s2 - c * c
    alpha = 1 / (1 + v1) + 1 / (1 + v2) - 1
    asn = (c / s2.sqrt()).asin()
    rD = D.sqrt()
    return arb(1) / 4 + (asn + c / rD + 2 * alpha * c / rD + c * (v1 * v2 + alpha * c * c) / (D * rD)) / (2 * arb.pi())


def _monomial_moment_arb(n: int, c, v1, v2):
    arb = _arb()
    p = v1 * v2
    out = arb(0)
    for k in range(n % 2, n + 1, 2):
        j = (n - k) // 2
        coef = math.factorial(k) * (math.factorial(n) // (2**j * math.factorial(j) * math.factorial(k))) ** 2
        # n!/(2^j j! k!) is an integer (it counts pairings), so coef is exact
        out = out + coef * c**k * p**j
    return out


# --------------------------------------------------------------------------------------
# The Activation record
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Activation:
    """An activation function together with its dual kernels.

    Attributes
    ----------
    name : str
        Registry name (``"relu"``, ``"erf"``, ...).
    fn, derivative : callable
        Elementwise numpy functions ``phi(x)`` and ``phi'(x)``; shape-preserving.
    dual, dual_derivative : callable
        ``(c, v1, v2) -> E[phi(u)phi(v)]`` and ``E[phi'(u)phi'(v)]`` in float64, broadcasting.
    dual_arb, dual_derivative_arb : callable or None
        Arb-ball versions (``flint.arb`` in, ``flint.arb`` out) when a closed form exists.
    structure, derivative_structure : (int, int)
        Polynomial degree of the odd and of the even part of ``phi`` (resp. ``phi'``);
        ``INF`` = not a polynomial, ``-1`` = zero.
    numba_code, numba_param : int, float
        Dispatch code of the closed form in the numba fast path (0 = none).
    kinked : bool
        Non-smooth (its dual has square-root singularities at correlation +-1).
    """

    name: str
    fn: Callable
    derivative: Callable
    dual: Callable
    dual_derivative: Callable
    dual_arb: Optional[Callable] = None
    dual_derivative_arb: Optional[Callable] = None
    structure: tuple = (INF, INF)
    derivative_structure: tuple = (INF, INF)
    numba_code: int = 0
    numba_param: float = 0.0
    kinked: bool = False
    description: str = ""
    hermite: Optional[object] = field(default=None, repr=False)
    diag_arb: Optional[Callable] = None  # q -> (V(q,q,q), Vdot(q,q,q)) exactly, for kinked duals

    @property
    def exact(self) -> bool:
        """True when the dual kernels have a closed form evaluable in Arb."""
        return self.dual_arb is not None

    def __call__(self, x):
        return self.fn(x)

    def __repr__(self) -> str:  # short and informative
        kind = "closed form" if self.exact else "Hermite series"
        return f"Activation({self.name!r}, dual: {kind})"


def _deg_mul(a: int, b: int) -> int:
    if a < 0 or b < 0:
        return -1
    if a >= INF or b >= INF:
        return INF
    return a + b


def _closed(name, fn, der, V, dV, Va, dVa, st, dst, code, param=0.0, kinked=False, desc="", diag=None):
    return Activation(name, fn, der, V, dV, Va, dVa, st, dst, code, float(param), kinked, desc, None, diag)


def _relu_fn(x):
    return np.maximum(x, 0.0)


def _step_fn(x):
    return (np.asarray(x) > 0).astype(float)


def _zero_like(x):
    return np.zeros_like(np.asarray(x, dtype=float))


def _zero_dual(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    return np.zeros(np.broadcast(c, v1, v2).shape)


def _zero_dual_arb(c, v1, v2):
    return _arb()(0)


def _leaky(alpha: float) -> Activation:
    a = float(alpha)
    if not np.isfinite(a):
        raise ValueError(f"leaky relu slope must be finite, got {alpha!r}")
    w = (1 - a) ** 2

    def fn(x):
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, x, a * x)

    def der(x):
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, 1.0, a)

    def V(c, v1, v2):
        return a * np.asarray(c, dtype=float) + w * _relu_V(c, v1, v2)

    def dV(c, v1, v2):
        return a + w * _step_V(c, v1, v2)

    def Va(c, v1, v2):
        return a * c + w * _relu_V_arb(c, v1, v2)

    def dVa(c, v1, v2):
        return a + w * _step_V_arb(c, v1, v2)

    def diag(q):
        # at correlation 1: E[phi^2] = (a^2 + 1) q / 2, E[phi'^2] = (a^2 + 1) / 2
        return (a * a + 1) * q / 2, _arb()(a * a + 1) / 2

    return _closed(f"leaky_relu({a:g})", fn, der, V, dV, Va, dVa, (1, INF if w else -1),
                   (INF if w else -1, 0), 2, a, kinked=bool(w), desc=f"max(x, {a:g} x)", diag=diag)


def _monomial(n: int) -> Activation:
    if not (isinstance(n, (int, np.integer)) and 1 <= n <= 12):
        raise ValueError(f"monomial degree must be an integer in [1, 12], got {n!r}")
    n = int(n)

    def fn(x):
        return np.asarray(x, dtype=float) ** n

    def der(x):
        return n * np.asarray(x, dtype=float) ** (n - 1)

    def V(c, v1, v2):
        return _monomial_moment(n, c, v1, v2)

    def dV(c, v1, v2):
        if n == 1:
            return np.ones(np.broadcast(*_b(c, v1, v2)).shape)
        return n * n * _monomial_moment(n - 1, c, v1, v2)

    def Va(c, v1, v2):
        return _monomial_moment_arb(n, c, v1, v2)

    def dVa(c, v1, v2):
        if n == 1:
            return _arb()(1)
        return n * n * _monomial_moment_arb(n - 1, c, v1, v2)

    st = (n, -1) if n % 2 else (-1, n)
    m = n - 1
    dst = (-1, 0) if m == 0 else ((m, -1) if m % 2 else (-1, m))
    return _closed(f"monomial({n})", fn, der, V, dV, Va, dVa, st, dst, 9, n, desc=f"x^{n}")


def _gelu_fn(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * x * (1.0 + special.erf(x / np.sqrt(2.0)))


def _gelu_der(x):
    x = np.asarray(x, dtype=float)
    return 0.5 * (1.0 + special.erf(x / np.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def _identity_V(c, v1, v2):
    c, v1, v2 = _b(c, v1, v2)
    return np.broadcast_to(c, np.broadcast(c, v1, v2).shape).copy()


def _ones_dual(c, v1, v2):
    return np.ones(np.broadcast(*_b(c, v1, v2)).shape)


def _build_closed_forms() -> dict:
    reg = {}
    reg["relu"] = _closed("relu", _relu_fn, _step_fn, _relu_V, _step_V, _relu_V_arb, _step_V_arb,
                          (1, INF), (INF, 0), 1, kinked=True, desc="max(x, 0)",
                          diag=lambda q: (q / 2, _arb()(1) / 2))
    reg["abs"] = _closed("abs", np.abs, np.sign, _abs_V, _sign_V, _abs_V_arb, _sign_V_arb,
                         (-1, INF), (INF, -1), 3, kinked=True, desc="|x|",
                         diag=lambda q: (q * 1, _arb()(1)))
    reg["step"] = _closed("step", _step_fn, _zero_like, _step_V, _zero_dual, _step_V_arb, _zero_dual_arb,
                          (INF, 0), (-1, -1), 4, kinked=True, desc="1[x > 0] (its NTK term is 0)",
                          diag=lambda q: (_arb()(1) / 2, _arb()(0)))
    reg["erf"] = _closed("erf", special.erf, lambda x: 2 / np.sqrt(np.pi) * np.exp(-np.asarray(x, float) ** 2),
                         _erf_V, _erf_dV, _erf_V_arb, _erf_dV_arb, (INF, -1), (-1, INF), 5, desc="erf(x)")
    reg["sin"] = _closed("sin", np.sin, np.cos,
                         lambda c, v1, v2: np.exp(-(np.asarray(v1, float) + v2) / 2) * np.sinh(c),
                         lambda c, v1, v2: np.exp(-(np.asarray(v1, float) + v2) / 2) * np.cosh(c),
                         lambda c, v1, v2: (-(v1 + v2) / 2).exp() * c.sinh(),
                         lambda c, v1, v2: (-(v1 + v2) / 2).exp() * c.cosh(),
                         (INF, -1), (-1, INF), 6, desc="sin(x)")
    reg["cos"] = _closed("cos", np.cos, lambda x: -np.sin(x),
                         lambda c, v1, v2: np.exp(-(np.asarray(v1, float) + v2) / 2) * np.cosh(c),
                         lambda c, v1, v2: np.exp(-(np.asarray(v1, float) + v2) / 2) * np.sinh(c),
                         lambda c, v1, v2: (-(v1 + v2) / 2).exp() * c.cosh(),
                         lambda c, v1, v2: (-(v1 + v2) / 2).exp() * c.sinh(),
                         (-1, INF), (INF, -1), 7, desc="cos(x)")
    reg["identity"] = _closed("identity", lambda x: np.asarray(x, dtype=float) * 1.0,
                              lambda x: np.ones_like(np.asarray(x, dtype=float)),
                              _identity_V, _ones_dual, lambda c, v1, v2: c, lambda c, v1, v2: _arb()(1),
                              (1, -1), (-1, 0), 8, desc="x (linear network)")
    reg["gelu"] = _closed("gelu", _gelu_fn, _gelu_der, _gelu_V, _gelu_dV, _gelu_V_arb, _gelu_dV_arb,
                          (1, INF), (INF, 0), 10, desc="x Phi(x) (exact, erf-based)")
    return reg


_CLOSED = None
_ALIASES = {"linear": "identity", "lrelu": "leaky_relu", "leakyrelu": "leaky_relu", "silu": "swish",
            "logistic": "sigmoid", "sign_abs": "abs"}


def _closed_forms() -> dict:
    global _CLOSED
    if _CLOSED is None:
        _CLOSED = _build_closed_forms()
    return _CLOSED


_HERMITE_NAMES = ("tanh", "softplus", "sigmoid", "swish")


def available_activations() -> list[str]:
    """Names accepted by :func:`get_activation` (parametrized ones shown with their syntax).

    Examples
    --------
    >>> "relu" in available_activations()
    True
    """
    return sorted(list(_closed_forms()) + ["leaky_relu(a)", "monomial(n)"] + list(_HERMITE_NAMES))


def get_activation(name, **params) -> Activation:
    """Look up an activation by name, or pass an :class:`Activation` through.

    Parameters
    ----------
    name : str or Activation
        One of :func:`available_activations`. Parametrized forms: ``"leaky_relu"`` with
        ``slope=a`` (default 0.01) or ``"leaky_relu(0.1)"``; ``"monomial"`` with ``degree=n``
        or ``"monomial(3)"`` (also ``"x^3"``).
    **params
        ``slope`` for leaky relu, ``degree`` for monomials.

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
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str) or an Activation, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    arg = None
    if "(" in key and key.endswith(")"):
        key, _, rest = key.partition("(")
        key = _ALIASES.get(key, key)
        arg = rest[:-1]
    elif key.startswith("x^"):
        key, arg = "monomial", key[2:]
    if key == "leaky_relu":
        slope = params.get("slope", float(arg) if arg else 0.01)
        return _leaky(slope)
    if key == "monomial":
        try:
            deg = int(params.get("degree", arg if arg else 2))
        except ValueError:
            raise ValueError(f"monomial degree must be an integer, got {arg!r}") from None
        return _monomial(deg)
    cf = _closed_forms()
    if key in cf:
        return cf[key]
    if key in _HERMITE_NAMES:
        from .hermite import builtin_hermite_activation

        return builtin_hermite_activation(key)
    raise ValueError(f"activation: unknown name {name!r}; known: {', '.join(available_activations())}")


def custom_activation(fn: Callable, derivative: Callable, name: str = "custom", *,
                      parity: Optional[str] = None) -> Activation:
    """Wrap a user-supplied smooth activation and its derivative.

    The dual kernels are computed by a Hermite series (see :mod:`spectra.analytic.hermite`
    for the stated accuracy).  Kinked functions (relu-like) are integrated poorly by
    Gauss–Hermite quadrature and should use a closed form instead.

    Parameters
    ----------
    fn, derivative : callable
        Vectorized numpy functions ``phi(x)``, ``phi'(x)``.
    name : str
        Label used in outputs.
    parity : {None, "odd", "even"}
        Declare a symmetry so that exactly-zero eigenvalues are reported as 0.

    Examples
    --------
    >>> import numpy as np
    >>> act = custom_activation(np.tanh, lambda x: 1 - np.tanh(x) ** 2, "my_tanh", parity="odd")
    >>> abs(float(act.dual(0.0, 1.0, 1.0))) < 1e-15
    True
    """
    if not callable(fn) or not callable(derivative):
        raise TypeError("custom_activation: fn and derivative must be callables")
    if parity not in (None, "odd", "even"):
        raise ValueError(f"parity must be None, 'odd' or 'even', got {parity!r}")
    probe = np.asarray(fn(np.array([-1.0, 0.0, 1.0])), dtype=float)
    dprobe = np.asarray(derivative(np.array([-1.0, 0.0, 1.0])), dtype=float)
    if probe.shape != (3,) or dprobe.shape != (3,):
        raise ValueError("custom_activation: fn and derivative must be elementwise (shape-preserving)")
    if not (np.all(np.isfinite(probe)) and np.all(np.isfinite(dprobe))):
        raise ValueError("custom_activation: fn or derivative returned non-finite values on [-1, 0, 1]")
    st = {None: (INF, INF), "odd": (INF, -1), "even": (-1, INF)}[parity]
    dst = {None: (INF, INF), "odd": (-1, INF), "even": (INF, -1)}[parity]
    from .hermite import hermite_activation

    return hermite_activation(name, fn, derivative, st, dst)
