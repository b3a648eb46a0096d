r"""The stated domain of the MLP kernel, and the high-precision repair of float64 values that overflow.

Every public evaluator of :mod:`spectra.analytic.kernels` (and so every spectrum) accepts a
kernel only when each layer's *diagonal* variance is a normal float64 number of moderate size:

* ``Sigma^{l+1}(x, x)`` for ``l = 0..L`` (and ``Theta^{l+1}(x, x)`` for the NTK) must lie in
  ``[KERNEL_MIN, KERNEL_MAX]`` = ``[2.2e-308, 2^1000 ~ 1.1e301]``, at ``||x||^2/d = 1`` (cube,
  sphere) or at the given norms.  Beyond it the kernel is not representable in float64 (the
  monomial ``x^2`` squares the variance at every layer; ``relu`` multiplies it by
  ``weight_var/2``), and the refusal names the depth that leaves the range and the value
  reached there (computed in Arb ball arithmetic, which has no exponent limit).
* A first-layer variance of exactly 0 (an input of norm 0 and ``bias_var = 0``) is refused: the
  pre-activation is then the constant 0, where kinked activations have no derivative and the
  closed-form duals (which divide by the variances) are undefined.  With ``bias_var > 0`` a
  zero-norm input is an ordinary point (its first-layer variance is ``bias_var``).

Inside the domain, a float64 dual can still overflow or cancel on the way (``relu``'s
``sqrt(v1 v2)`` at ``v ~ 1e156``, ``cos``'s ``exp(-v) cosh(c)`` at ``v ~ 1000``, ``gelu``'s
``(1 + v)^2 - c^2`` at ``v ~ 1e16``).  Such entries, and only those, are recomputed in Arb
(:func:`arb_value`) with the precision raised until the ball is narrower than float64's
rounding, so finite values are returned unchanged and non-finite ones become the correct value.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ._activation import Activation

__all__ = ["KERNEL_MIN", "KERNEL_MAX", "check_kernel_domain", "check_cauchy_schwarz", "arb_value", "diag_duals",
           "repair_nonfinite"]

#: Smallest accepted diagonal variance of any layer: the smallest normal float64.
KERNEL_MIN = float(np.finfo(float).tiny)
#: Largest accepted diagonal variance of any layer (headroom below float64's 1.8e308 for the sums
#: and tolerances of the spectrum engines).
KERNEL_MAX = 2.0**1000

#: Relative tolerance of the Cauchy-Schwarz check ``|c| <= sqrt(norm_x norm_y)`` (rounding in ``<x, y>/d``).
CS_RTOL = 1e-8

_MAX_BITS = 1 << 11  # precision cap of the Arb range check (128, 512, 2048 bits)
_REPAIR_BITS = 1 << 15  # and of the Arb repair (up to 32768 bits: kinked duals lose ~log2(l) bits per layer)


def diag_duals(act: Activation, q):
    """``(V(q, q, q), V'(q, q, q))`` in Arb: the exact diagonal duals where the activation has them."""
    if act.diag_arb is not None:
        return act.diag_arb(q)
    return act.dual_arb(q, q, q), act.dual_derivative_arb(q, q, q)


_GH_NODES = 96


@lru_cache(maxsize=1)
def _gauss_hermite():
    z, w = np.polynomial.hermite_e.hermegauss(_GH_NODES)
    return z, w / w.sum()


def _diag_duals_f64(act: Activation, q):
    """Float64 ``(E phi(u)^2, E phi'(u)^2)`` for ``u ~ N(0, q)``, broadcasting over ``q``.

    Closed forms use their duals; other activations a 96-node Gauss-Hermite rule on ``phi`` and
    ``phi'`` themselves (cheap, and accurate to far better than the factor that decides the range;
    the Hermite-series duals cost tens of milliseconds per variance).
    """
    if act.exact:
        return act.dual(q, q, q), act.dual_derivative(q, q, q)
    z, w = _gauss_hermite()
    x = np.sqrt(np.asarray(q, dtype=float))[..., None] * z
    try:
        f, g = np.asarray(act.fn(x), dtype=float), np.asarray(act.derivative(x), dtype=float)
    except (ArithmeticError, ValueError) as exc:  # a plain callable that refuses large inputs
        raise ValueError(f"activation {act.name!r} failed on inputs of variance up to {float(np.max(q)):.4g} "
                         f"while checking the kernel's range: {type(exc).__name__}: {exc}") from None
    return (f * f) @ w, (g * g) @ w


def _diagonal_f64(act: Activation, depth: int, wv, bv, n):
    """Float64 ``Sigma^{l+1}(x, x)`` and ``Theta^{l+1}(x, x)``, ``l = 0..L`` (lists of arrays, broadcasting)."""
    with np.errstate(all="ignore"):
        q = np.asarray(wv * n + bv, dtype=float)
        qs, ts = [q], [q]
        for _ in range(depth):
            vq, dq = _diag_duals_f64(act, q)
            q = np.asarray(wv * vq + bv, dtype=float)
            ts.append(np.asarray(q + wv * dq * ts[-1], dtype=float))
            qs.append(q)
    return qs, ts


def _diagonal_arb(act: Activation, depth: int, wv: float, bv: float, n: float, prec: int = 128):
    """The same diagonal in Arb at ``prec`` bits (closed-form activations): lists of balls."""
    from flint import arb

    from .precision import working_precision

    with working_precision(prec):
        w, b = arb(wv), arb(bv)
        q = w * arb(n) + b
        qs, ts = [q], [q]
        for _ in range(depth):
            vq, dq = diag_duals(act, q)
            q = w * vq + b
            ts.append(q + w * dq * ts[-1])
            qs.append(q)
    return qs, ts


def _out_of_range(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return ~(np.isfinite(v) & (v >= KERNEL_MIN) & (v <= KERNEL_MAX))


def _arb_magnitude(x) -> str:
    """``about 10^e`` for a positive Arb ball (any exponent)."""
    from flint import arb

    if x > 0:
        return f"about 10^{float((x.log() / arb(10).log()).mid()):.1f}"
    return "exactly 0" if x == 0 else f"in {x.str(5)}"


def _describe(act: Activation, wv: float, bv: float, n: float, kind: str, layer: int, which: str,
              f64_value: float, ball, tried_arb: bool) -> str:
    """The message for a diagonal out of range at ``layer`` (``ball``: its Arb value, or None if unknown)."""
    from flint import arb

    sym = f"{'Sigma' if which == 'ck' else 'Theta'}^{layer + 1}(x, x)"
    where = "the input layer" if layer == 0 else f"depth {layer} (after {layer} nonlinear layer{'s' if layer > 1 else ''})"
    head = f"{kind.upper()} {act.name}, weight_var={wv:g}, bias_var={bv:g}, norm={n:g}"
    if ball is None and (not (f64_value >= 0) or (math.isinf(f64_value) and tried_arb)):  # no verdict
        arb_note = f" and its Arb value could not be bounded at up to {_MAX_BITS} bits" if tried_arb else ""
        return (f"{head}: the float64 kernel is not valid at {where} ({sym} = {f64_value:.4g}: the float64 "
                f"{act.name} dual fails there){arb_note}; use a smaller weight_var or depth")
    big = bool(ball > arb(KERNEL_MAX)) if ball is not None else f64_value > KERNEL_MAX
    value = _arb_magnitude(ball) if ball is not None else f"{f64_value:.4g} in float64"
    hint = ("use a smaller weight_var, bias_var or depth" if big
            else "use a larger weight_var or bias_var, or a smaller depth")
    return (f"{head}: the kernel {'overflows' if big else 'underflows'} float64 at {where}: the diagonal {sym} "
            f"is {value}, outside [{KERNEL_MIN:.4g}, {KERNEL_MAX:.4g}] (every layer's variance must be a normal "
            f"float64 number of moderate size); {hint}")


def _exact_range(act: Activation, depth: int, wv: float, bv: float, n: float, kind: str):
    """Arb check of one point whose float64 diagonal left the range (closed-form activations).

    Returns ``(True, None)`` if the exact diagonal is inside the range at every layer (only the
    float64 dual failed), ``(False, (layer, which, ball))`` at the first layer proved outside it,
    and ``(False, None)`` when the balls stay too wide to decide.
    """
    from flint import arb

    lo, hi = arb(KERNEL_MIN), arb(KERNEL_MAX)
    prec = 128
    while prec <= _MAX_BITS:
        qs, ts = _diagonal_arb(act, depth, wv, bv, n, prec)
        rows = [("ck", qs)] + ([("ntk", ts)] if kind == "ntk" else [])
        undecided = False
        for layer in range(depth + 1):
            for which, vals in rows:
                v = vals[layer]
                if v.is_finite() and (v < lo or v > hi or v == 0):
                    return False, (layer, which, v)
                if not (v.is_finite() and v > lo and v < hi):
                    undecided = True
                    break
            if undecided:
                break
        if not undecided:
            return True, None
        prec *= 4
    return False, None


def check_kernel_domain(act: Activation, depth: int, weight_var, bias_var, kind: str = "ntk", *, norms=(1.0,),
                        float_only: bool = False):
    """Raise ``ValueError`` unless every layer's diagonal variance lies in ``[KERNEL_MIN, KERNEL_MAX]``.

    Parameters
    ----------
    act : Activation
    depth : int
    weight_var, bias_var : float or array_like
        Validated variances (broadcast together: a whole grid is checked at once).
    kind : {"ck", "ntk"}
        The NTK's diagonal ``Theta`` is checked too.
    norms : sequence of float or array_like
        ``||x||^2/d`` values at which the diagonal is taken (1 on the cube and the sphere).

    float_only : bool
        Decide by the float64 diagonal alone (for float64-only engines such as the cube grid,
        which cannot repair a value in Arb).

    The float64 diagonal decides for almost every input; a point whose float64 diagonal leaves
    the range is re-checked in Arb (closed-form activations, unless ``float_only``), so a float64
    dual that merely overflows on the way (``gelu`` at variance 1e17) is no reason to refuse.

    Examples
    --------
    >>> import numpy as np
    >>> from spectra.analytic import get_activation
    >>> check_kernel_domain(get_activation("relu"), 2, np.array([[2.0], [1e308]]), np.array([[0.0, 1.0]]))
    Traceback (most recent call last):
    ...
    ValueError: NTK relu, weight_var=1e+308, bias_var=0, norm=1: the kernel overflows float64 at the input layer: ...
    """
    for n in norms:
        qs, ts = _diagonal_f64(act, depth, weight_var, bias_var, n)
        shape = np.broadcast(np.asarray(weight_var), np.asarray(bias_var), np.asarray(n)).shape
        W, B, N = (np.broadcast_to(np.asarray(a, dtype=float), shape) for a in (weight_var, bias_var, n))
        first_zero = np.broadcast_to(qs[0] == 0, shape)
        if np.any(first_zero):
            i = np.unravel_index(int(np.argmax(first_zero)), shape)
            raise ValueError(f"an input of norm 0 with bias_var=0 (weight_var={W[i]:g}): the first-layer variance "
                             f"weight_var*norm + bias_var is 0, so the pre-activation is the constant 0, where the "
                             f"kernel is undefined (kinked activations have no derivative at 0 and the duals divide "
                             f"by the variances); use bias_var > 0 or a non-zero norm")
        rows = [("ck", qs)] + ([("ntk", ts)] if kind == "ntk" else [])
        bad = np.zeros(shape, dtype=bool)
        for _, vals in rows:
            for v in vals:
                bad |= np.broadcast_to(_out_of_range(v), shape)
        for i in map(tuple, np.argwhere(bad)):
            wv, bv, nn = float(W[i]), float(B[i]), float(N[i])
            tried = act.exact and not float_only
            ok, found = _exact_range(act, depth, wv, bv, nn, kind) if tried else (False, None)
            if ok:
                continue
            if found is None:  # no Arb verdict: the first layer out of range in float64
                layer, which = next((layer, which) for layer in range(depth + 1) for which, vals in rows
                                    if np.broadcast_to(_out_of_range(vals[layer]), shape)[i])
                ball = None
            else:
                layer, which, ball = found
            f64 = float(np.broadcast_to((qs if which == "ck" else ts)[layer], shape)[i])
            raise ValueError(_describe(act, wv, bv, nn, kind, layer, which, f64, ball, tried))


def check_cauchy_schwarz(c: np.ndarray, nx, ny) -> np.ndarray:
    """``c`` with ``|c| <= sqrt(nx ny)`` (relative tolerance ``CS_RTOL``; values within it are clipped)."""
    with np.errstate(all="ignore"):
        bound = np.sqrt(np.asarray(nx, dtype=float)) * np.sqrt(np.asarray(ny, dtype=float))
    over = np.abs(c) > bound * (1 + CS_RTOL)
    if np.any(over):
        b = np.broadcast_to(bound, np.broadcast(c, bound).shape)
        cc = np.broadcast_to(c, b.shape)
        i = np.unravel_index(int(np.argmax(np.broadcast_to(over, b.shape))), b.shape)
        raise ValueError(f"c must satisfy the Cauchy-Schwarz bound |c| <= sqrt(norm_x * norm_y) (c = <x, y>/d, "
                         f"norm = ||x||^2/d; 1 on the cube and the sphere), got c={float(cc[i])!r} with "
                         f"sqrt(norm_x * norm_y)={float(b[i])!r}")
    return np.clip(c, -bound, bound) if np.any(np.abs(c) > bound) else c


def arb_value(evaluate, what: str) -> float:
    """A float64 value from ``evaluate(prec) -> flint.arb``, raising ``prec`` until it is exact to rounding.

    Accepted when the radius is below ``2^-55`` of the midpoint (or the whole ball is below the
    float64 range, which rounds to 0); ``ValueError`` naming ``what`` otherwise.
    """
    from flint import arb

    from .precision import working_precision

    prec = 128
    tiny = arb(KERNEL_MIN) * arb(2) ** -60
    while prec <= _REPAIR_BITS:
        with working_precision(prec):
            v = evaluate(prec)
            if v.is_finite():
                mag = abs(v.mid())
                if arb(v.rad()) <= mag * arb(2) ** -55 or (abs(v) < tiny):
                    out = float(v.mid())
                    if not math.isfinite(out):
                        break
                    return out
        prec *= 4
    raise ValueError(f"the kernel at {what} could not be evaluated to float64 accuracy (it is beyond float64's "
                     f"range or needs more than {_REPAIR_BITS} bits)")


def repair_nonfinite(vals, act: Activation, depth: int, wv, bv, kind: str, c, nx, ny, values_arb):
    """``vals`` with every non-finite entry replaced by its Arb value (correct to float64 rounding).

    ``values_arb`` is :func:`spectra.analytic.kernels.kernel_values_arb`.  Finite entries are
    returned unchanged.  Plain-callable activations (float64 duals only) get a ``ValueError`` instead.
    """
    vals = np.asarray(vals, dtype=float)
    bad = ~np.isfinite(vals)
    if not np.any(bad):
        return vals
    shape = vals.shape
    C, W, B, NX, NY = (np.broadcast_to(np.asarray(a, dtype=float), shape) for a in (c, wv, bv, nx, ny))
    i = tuple(int(j) for j in np.argwhere(bad)[0])
    where = (f"c={C[i]!r}, depth={depth}, weight_var={W[i]:g}, bias_var={B[i]:g}, norm_x={NX[i]:g}, "
             f"norm_y={NY[i]:g}")
    if not act.high_precision:
        raise ValueError(f"the float64 {kind.upper()} of activation {act.name!r} is not finite at {where} (its "
                         "float64 dual overflows) and a plain callable has no high-precision duals; give "
                         "custom_activation a sympy expression, or smaller variances")
    from flint import arb

    out = vals.copy()
    for idx in map(tuple, np.argwhere(bad)):
        ci, wi, bi, xi, yi = (float(a[idx]) for a in (C, W, B, NX, NY))
        diag = 0 if ci == xi == yi else None

        def evaluate(prec, ci=ci, wi=wi, bi=bi, xi=xi, yi=yi, diag=diag):
            return values_arb([arb(ci)], act, depth, wi, bi, kind, norm_x=xi, norm_y=yi, diag_index=diag)[0]

        out[idx] = arb_value(evaluate, where)
    return out
