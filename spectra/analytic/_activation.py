"""The :class:`Activation` record: an activation function with its dual kernels and symmetry structure."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from ._dispatch import Dual

INF = 10**9  # "not a polynomial" in a structure degree

__all__ = ["Activation", "INF"]


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
    dispatch, dispatch_params : Dual, (float, float)
        The closed form's code in the numba grid path (``Dual.NONE`` = none) and its parameters.
    kinked : bool
        Non-smooth (its dual has square-root singularities at correlation +-1).
    mehler : (callable, callable, float) or None
        ``phi`` and ``phi'`` on Arb balls and the half-width of the strip around the real axis where
        ``phi`` is analytic: the high-precision Mehler-series duals of :mod:`spectra.analytic._mehler`
        (verified, not certified) for activations without a closed form.
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
    dispatch: Dual = Dual.NONE
    dispatch_params: tuple = (0.0, 0.0)
    kinked: bool = False
    description: str = ""
    hermite: Optional[object] = field(default=None, repr=False)
    diag_arb: Optional[Callable] = None  # q -> (V(q,q,q), Vdot(q,q,q)) exactly, for kinked duals
    mehler: Optional[tuple] = field(default=None, repr=False)  # (phi_arb, phi'_arb, strip half-width tau)

    @property
    def high_precision(self) -> bool:
        """True when the duals can be evaluated at any precision (closed form, or the Arb Mehler series)."""
        return self.dual_arb is not None or self.mehler is not None

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


