"""Symbolic activations: a sympy expression in one variable, its derivative taken symbolically, and
both lambdified to numpy (networks, float64 paths) and to Arb balls (the Mehler-series duals).

sympy is imported only when a symbolic activation is built.
"""
from __future__ import annotations

__all__ = ["is_symbolic", "symbolic_functions"]

# sympy function names (as printed by lambdify's mpmath printer) -> Arb methods
_ARB_NAMES = ("exp", "log", "tanh", "sinh", "cosh", "sin", "cos", "tan", "atan", "sqrt", "erf", "erfc", "log1p",
              "expm1", "asinh", "atanh", "sech", "csch")


def is_symbolic(obj) -> bool:
    """True for a sympy expression or a string (parsed by sympy)."""
    return isinstance(obj, str) or type(obj).__module__.split(".")[0] == "sympy"


def _arb_namespace():
    from flint import arb

    ns = {name: getattr(arb, name) for name in _ARB_NAMES if hasattr(arb, name)}
    ns["sech"] = lambda a: 1 / a.cosh()
    ns["mpf"] = arb
    ns["fabs"] = abs
    ns["Abs"] = abs
    return ns


def symbolic_functions(expr):
    """``(expr, derivative, fn_np, der_np, fn_arb, der_arb)`` of a sympy expression in one variable.

    Raises
    ------
    ValueError
        When the expression has more than one free symbol, or none.
    """
    import sympy

    if isinstance(expr, str):
        expr = sympy.sympify(expr)
    free = sorted(expr.free_symbols, key=str)
    if len(free) != 1:
        raise ValueError(f"custom_activation: a symbolic activation needs exactly one variable, got {free or 'none'}")
    (x,) = free
    der = sympy.diff(expr, x)
    pi = sympy.Symbol("_spectra_pi")
    fn_np = sympy.lambdify(x, expr, modules="numpy")
    der_np = sympy.lambdify(x, der, modules="numpy")
    ns = _arb_namespace()
    fa = sympy.lambdify((x, pi), expr.subs(sympy.pi, pi), modules=[ns, "mpmath"])
    da = sympy.lambdify((x, pi), der.subs(sympy.pi, pi), modules=[ns, "mpmath"])

    def fn_arb(a):
        from flint import arb

        return arb(fa(a, arb.pi()))

    def der_arb(a):
        from flint import arb

        return arb(da(a, arb.pi()))

    def vec(f):
        import numpy as np

        def g(t):
            t = np.asarray(t, dtype=float)
            return np.broadcast_to(np.asarray(f(t), dtype=float), t.shape).copy()

        return g

    return expr, der, vec(fn_np), vec(der_np), fn_arb, der_arb
