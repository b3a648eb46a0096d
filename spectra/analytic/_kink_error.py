r"""A running error bound of the float64 kernel recursion for kinked activations (relu and step families).

The arc-cosine duals of ``phi = a min(x, 0) + b max(x, 0)`` (Cho & Saul 2009) are
``V = (a - b)^2 R + a b c`` and ``V' = (a - b)^2 S + a b`` with ``S = (pi - theta)/(2 pi)``,
``theta = arccos(rho)``.  ``R`` is Lipschitz (``|dR/dc| <= 1/2``, ``|dR/dq| <= 1/(2 pi)``), but
``S`` is not: near ``rho = +-1`` an error ``e`` in ``rho`` moves ``theta`` by up to
``e / sqrt(1 - (|rho| + e)^2)``, and by at most ``(pi/sqrt 2) sqrt(e)`` (``arccos`` is 1/2-Hoelder).
A tiny bias puts the cube's point ``c = -1`` at ``rho = -1 + 2 sigma_b^2/sigma_w^2``, so a rounding
of ``u = 2^-53`` there is amplified far beyond a fixed multiple of ``u``.

:func:`kinked_error_bounds` propagates absolute bounds on the errors of ``Sigma``, ``q = Sigma(x, x)``
and ``Theta`` layer by layer alongside the float64 recursion, with these two moduli of continuity
for the input errors and a few ``u`` per operation for the rounding (the gap ``1 - rho^2`` is
charged ``4u`` unless ``|Sigma| = q`` exactly, where both evaluations in the package compute it as
exactly 0).  The first layer's errors are computed exactly (error-free products and sums), so a
bias far below ``u sigma_w^2`` is accounted for as what it is, not as ``u``.  The bound is of first
order in ``u`` for the rounding and rigorous for the propagation; the tests check it against
certified Arb values.
"""
from __future__ import annotations

import math

import numpy as np

from ._dispatch import Dual

__all__ = ["kinked_error_bounds", "kinked_error_bounds_compiled", "grid_bounds", "grid_point_errors", "supports"]

_U = np.finfo(float).eps / 2
_HOELDER = math.pi / math.sqrt(2.0)


def supports(act) -> bool:
    """True for the relu family and the step family (the activations this bound knows)."""
    return act.kinked and act.dispatch in (Dual.RELU_FAMILY, Dual.STEP_FAMILY)


def _split(x):
    c = 134217729.0 * x  # 2^27 + 1 (Dekker)
    hi = c - (c - x)
    return hi, x - hi


def _two_prod_err(a, b):
    """Exact ``a b - fl(a b)`` (Dekker); finite for the variances the package accepts."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    with np.errstate(over="ignore", invalid="ignore"):
        e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return np.where(np.isfinite(e), e, np.abs(p) * _U)


def _two_sum_err(a, b):
    """Exact ``a + b - fl(a + b)`` (Knuth)."""
    s = a + b
    bb = s - a
    return (a - (s - bb)) + (b - bb)


def _theta_err(rho, e):
    """Bound on ``|arccos(rho') - arccos(rho)|`` for ``|rho' - rho| <= e`` (Lipschitz where it is better, else Hoelder)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.minimum(np.abs(rho) + e, 1.0)
        smin = np.sqrt(np.maximum(1.0 - r * r, 0.0))
        lip = np.where(smin > 0, e / np.where(smin > 0, smin, 1.0), np.inf)
    return np.minimum(lip, _HOELDER * np.sqrt(e))


def kinked_error_bounds(act, depth: int, wv, bv, c, c_err):
    """Per-depth max over points of the float64 error bounds of the CK and the NTK.

    Parameters
    ----------
    act : Activation
        With ``supports(act)``.
    wv, bv : ndarray, shape (n, 1)
        Variance pairs.
    c : ndarray, shape (m,)
        The float64 points; ``c[0] = 1`` is the diagonal point (computed exactly as ``q``).
    c_err : ndarray, shape (m,)
        ``|c - c_true|`` (0 where the float is exact).

    Returns
    -------
    ck, ntk : ndarray, shape (depth + 1, n)
        Absolute error bounds of ``Sigma`` and ``Theta``, maximized over the points.
    """
    a, b = (float(p) for p in act.dispatch_params)
    w2, ab, diag_v = (a - b) ** 2, a * b, (a * a + b * b) / 2
    relu = act.dispatch == Dual.RELU_FAMILY
    u = _U
    wv = np.asarray(wv, dtype=float)
    bv = np.asarray(bv, dtype=float)
    c = np.asarray(c, dtype=float)[None, :]
    wc = wv * c
    sig = wc + bv
    e_s = wv * np.asarray(c_err, dtype=float)[None, :] + np.abs(_two_prod_err(wv, c)) + np.abs(_two_sum_err(wc, bv))
    q = wv + bv
    e_q = np.abs(_two_sum_err(wv, bv))
    on_diag = np.zeros(sig.shape, dtype=bool)
    on_diag[:, 0] = True
    th, e_t = sig.copy(), e_s.copy()
    out_ck, out_ntk = [e_s.max(axis=1)], [e_t.max(axis=1)]
    two_pi = 2 * np.pi
    for _ in range(depth):
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.clip(sig / q, -1.0, 1.0)
            arho = np.abs(rho)
            d_in = (e_s + arho * e_q) / np.maximum(q - e_q, 0.0)
        d_in[~np.isfinite(d_in)] = np.inf
        d_in[on_diag] = 0.0  # Sigma(x, x) is computed as q itself: correlation exactly 1
        # the gap 1 - rho^2 is rounded (4u) unless |Sigma| = q exactly (the diagonal point, or exact inputs)
        gap = np.where(on_diag | (np.abs(sig) == q), 0.0, 4 * u)
        s_n = np.sqrt(np.maximum(1.0 - rho * rho, 0.0))
        acos = np.arccos(rho)
        # rounding alone moves theta by t_gap and the normalized sine by ds
        t_gap = _theta_err(rho, gap)
        with np.errstate(divide="ignore", invalid="ignore"):
            ds = np.minimum(2 * np.sqrt(gap), np.where(s_n > 0, gap / s_n, np.inf))
        d_theta = _theta_err(rho, d_in + gap) + 16 * u
        S = (np.pi - acos) / two_pi
        e_S = d_theta / two_pi + 4 * u
        # R = q r(rho): Lipschitz in the inputs; the rounding of the gap reaches s and theta separately
        e_R = e_s / 2 + e_q / two_pi + (np.abs(sig) * t_gap + q * ds) / two_pi + 16 * u * q
        if relu:
            R = q * (s_n + (np.pi - acos) * rho) / two_pi
            V, e_V = w2 * R + ab * sig, w2 * e_R + abs(ab) * e_s + 4 * u * (w2 * np.abs(R) + abs(ab) * np.abs(sig))
            Vd, e_Vd = w2 * S + ab, w2 * e_S + 4 * u * (w2 * S + abs(ab))
            e_vq = diag_v * e_q + 16 * u * (w2 + abs(ab)) * q
            vq = diag_v * q
        else:
            V, e_V = w2 * S + ab, w2 * e_S + 4 * u * (w2 * S + abs(ab))
            Vd, e_Vd = 0.0, 0.0
            e_vq = 16 * u * (w2 + abs(ab))
            vq = diag_v
        new_sig = wv * V + bv
        e_s_new = wv * e_V + 4 * u * (np.abs(new_sig) + wv * np.abs(V))
        if relu:
            new_th = new_sig + wv * Vd * th
            e_t = e_s_new + wv * (np.abs(Vd) * e_t + np.abs(th) * e_Vd) + 4 * u * (np.abs(new_sig) + wv * np.abs(Vd * th))
        else:  # the step family's derivative vanishes: Theta = Sigma
            new_th, e_t = new_sig, e_s_new
        q_new = wv * vq + bv
        e_q = wv * e_vq + 4 * u * q_new
        sig, th, q, e_s = new_sig, new_th, q_new, e_s_new
        out_ck.append(e_s.max(axis=1))
        out_ntk.append(e_t.max(axis=1))
    return np.stack(out_ck), np.stack(out_ntk)


def grid_point_errors(d: int) -> np.ndarray:
    """``|fl(1 - 2j/d) - (1 - 2j/d)|`` for ``j = 0..d`` (exact: the floats are rationals)."""
    from fractions import Fraction

    c = 1.0 - 2.0 * np.arange(d + 1) / d
    if d > 4096:
        return np.full(d + 1, 3 * _U)  # one rounding of 2j/d (<= 2u) and one of the difference (<= u)
    return np.array([float(abs(Fraction(float(x)) - Fraction(d - 2 * j, d))) for j, x in enumerate(c)])


def _grid_kernel(relu, w2, ab, diag_v, depth, wv, bv, c, c_err, e_s0, e_q0, out_ck, out_ntk):
    """Scalar form of :func:`kinked_error_bounds` (the same operations), compiled by numba for grids."""
    u = 2.0**-53
    two_pi = 2 * math.pi
    n, m = wv.shape[0], c.shape[0]
    for i in range(n):
        w, b = wv[i], bv[i]
        for j in range(m):
            sig = w * c[j] + b
            es = e_s0[i, j]
            q, eq = w + b, e_q0[i]
            th, et = sig, es
            out_ck[0, i] = max(out_ck[0, i], es)
            out_ntk[0, i] = max(out_ntk[0, i], et)
            for l in range(depth):
                rho = min(max(sig / q, -1.0), 1.0)
                den = max(q - eq, 0.0)
                d_in = (es + abs(rho) * eq) / den if den > 0 else math.inf
                if j == 0:
                    d_in = 0.0
                gap = 0.0 if (j == 0 or abs(sig) == q) else 4 * u
                s_n = math.sqrt(max(1.0 - rho * rho, 0.0))
                acos = math.acos(rho)
                # theta error for a correlation error e (as _theta_err): rounding alone, then everything
                e = gap
                r = min(abs(rho) + e, 1.0)
                smin = math.sqrt(max(1.0 - r * r, 0.0))
                t_gap = min(e / smin, _HOELDER * math.sqrt(e)) if smin > 0 else _HOELDER * math.sqrt(e)
                e = d_in + gap
                r = min(abs(rho) + e, 1.0)
                smin = math.sqrt(max(1.0 - r * r, 0.0))
                d_theta = (min(e / smin, _HOELDER * math.sqrt(e)) if smin > 0 else _HOELDER * math.sqrt(e)) + 16 * u
                ds = min(2 * math.sqrt(gap), gap / s_n) if s_n > 0 else 2 * math.sqrt(gap)
                S = (math.pi - acos) / two_pi
                e_S = d_theta / two_pi + 4 * u
                e_R = es / 2 + eq / two_pi + (abs(sig) * t_gap + q * ds) / two_pi + 16 * u * q
                if relu:
                    R = q * (s_n + (math.pi - acos) * rho) / two_pi
                    V = w2 * R + ab * sig
                    e_V = w2 * e_R + abs(ab) * es + 4 * u * (w2 * abs(R) + abs(ab) * abs(sig))
                    Vd = w2 * S + ab
                    e_Vd = w2 * e_S + 4 * u * (w2 * S + abs(ab))
                    e_vq = diag_v * eq + 16 * u * (w2 + abs(ab)) * q
                    vq = diag_v * q
                else:
                    V = w2 * S + ab
                    e_V = w2 * e_S + 4 * u * (w2 * S + abs(ab))
                    Vd, e_Vd = 0.0, 0.0
                    e_vq = 16 * u * (w2 + abs(ab))
                    vq = diag_v
                new_sig = w * V + b
                es_new = w * e_V + 4 * u * (abs(new_sig) + w * abs(V))
                if relu:
                    new_th = new_sig + w * Vd * th
                    et = es_new + w * (abs(Vd) * et + abs(th) * e_Vd) + 4 * u * (abs(new_sig) + w * abs(Vd * th))
                else:
                    new_th, et = new_sig, es_new
                q_new = w * vq + b
                eq = w * e_vq + 4 * u * q_new
                sig, th, q, es = new_sig, new_th, q_new, es_new
                out_ck[l + 1, i] = max(out_ck[l + 1, i], es)
                out_ntk[l + 1, i] = max(out_ntk[l + 1, i], et)


_COMPILED = {}


def kinked_error_bounds_compiled(act, depth: int, wv, bv, c, c_err):
    """:func:`kinked_error_bounds` by a numba loop (grids: no temporaries, about 10x faster); same results.

    ``wv``, ``bv`` of shape (n,).  numba is imported here, on first use (``spectra eigen`` stays light).
    """
    if "k" not in _COMPILED:
        from numba import njit

        # serial: parallel=True compiled 10x slower and ran no faster on 2 cores
        _COMPILED["k"] = njit(cache=True)(_grid_kernel)
    a, b = (float(p) for p in act.dispatch_params)
    wv = np.ascontiguousarray(wv, dtype=float)
    bv = np.ascontiguousarray(bv, dtype=float)
    c = np.ascontiguousarray(c, dtype=float)
    wc = wv[:, None] * c[None, :]
    e_s0 = np.ascontiguousarray(wv[:, None] * np.asarray(c_err, dtype=float)[None, :]
                                + np.abs(_two_prod_err(wv[:, None], c[None, :])) + np.abs(_two_sum_err(wc, bv[:, None])))
    e_q0 = np.ascontiguousarray(np.abs(_two_sum_err(wv, bv)))
    out_ck = np.zeros((depth + 1, wv.size))
    out_ntk = np.zeros((depth + 1, wv.size))
    _COMPILED["k"](act.dispatch == Dual.RELU_FAMILY, (a - b) ** 2, a * b, (a * a + b * b) / 2, int(depth), wv, bv, c,
                   np.asarray(c_err, dtype=float), e_s0, e_q0, out_ck, out_ntk)
    return out_ck, out_ntk


def grid_bounds(act, depth: int, wv, bv, c, chunk_bytes: int):
    """:func:`kinked_error_bounds_compiled` over a grid's pairs ``wv``, ``bv`` (n,), in chunks of ``chunk_bytes``."""
    d = c.size - 1
    c_err = grid_point_errors(d)
    ck, ntk = np.empty((depth + 1, wv.size)), np.empty((depth + 1, wv.size))
    step = max(1, min(wv.size, chunk_bytes // (4 * (d + 1) * 8)))
    for start in range(0, wv.size, step):
        sl = slice(start, min(wv.size, start + step))
        ck[:, sl], ntk[:, sl] = kinked_error_bounds_compiled(act, depth, wv[sl], bv[sl], c, c_err)
    return ck, ntk
