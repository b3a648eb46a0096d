r"""Funk–Hecke integrals in Arb ball arithmetic: the sphere's (and the Gaussian's angular) quadrature engine.

``lambda_k = c_d int_0^pi Phi(cos theta) P_k(cos theta) sin^{d-2} theta dtheta`` by Gauss–Legendre in
the angle (analytic integrand even for relu kernels, so exponential convergence), restricted to
``|theta - pi/2| <= a`` at large ``d`` with the omitted part bounded rigorously; see
:mod:`spectra.analytic.sphere` for the error bound and ``docs/architecture.md`` for the layout.
"""
from __future__ import annotations

import math
import time
from functools import lru_cache

from .. import _disk_cache
from ._gl_certify import gl_error_bounds
from .bases import gegenbauer_arb
from .precision import MAX_PRECISION, arb_from_exact, arb_to_exact, working_precision

__all__ = ["half_width", "node_count", "project", "sphere_balls"]


def half_width(d: int, bits: int) -> float:
    """Half-width ``a`` of the theta interval around pi/2 outside which ``sin^{d-2} < 2^-bits``."""
    if d <= 2:
        return math.pi / 2
    c = 2.0 ** (-(bits + 8) / (d - 2))
    a = math.acos(c) if c < 1 else 0.0
    a = math.ceil(a * 64) / 64  # quantised so that caches are reused
    return math.pi / 2 if a >= 1.5 else a


def node_count(d: int, K: int, a: float, bits: int) -> int:
    """Heuristic first node count: resolve P_K (~K nodes) and the sin^{d-2} bump at 2^-bits."""
    bump = a * math.sqrt(max(d - 2, 1)) * math.sqrt(bits * math.log(2) / 2) * 1.1
    n = int(K + 16 + bump)
    return (n + 7) // 8 * 8


#: Seconds :func:`sphere_balls` may spend raising its precision or node count: an attempt predicted to
#: end past it is not started, and the bound reached goes out with an AccuracyWarning (as the cube's).
MAX_SECONDS = 20.0

#: Largest node count tried to turn a verified eigenvalue into a certified one.
_CERT_NODES = 1024


def _growth_bits(d: int, K: int, a: float) -> int:
    """Extra bits covering the ball-radius growth of the Gegenbauer recurrence."""
    tmax = math.sin(a) if a < math.pi / 2 else 1.0
    bits = 0.0
    r0, r1 = 1.0, 1.0
    for k in range(1, K):
        r0, r1 = r1, ((2 * k + d - 2) * tmax * r1 + k * r0) / (k + d - 2)
        if r1 > 1e100:
            bits += math.log2(r1)
            r0, r1 = r0 / r1, 1.0
    return int(bits + math.log2(max(r1, 1.0))) + 16


@lru_cache(maxsize=16)
def _gl_rule(N: int, prec: int):
    """Gauss–Legendre nodes and weights as Arb balls, kept in the versioned cache folder.

    Computing them costs about 0.2 ms a node (0.2 s at d = 1000).  Fresh and cached rules both go
    through the same exact record, so they are the same balls bit for bit.
    """
    key = f"N={N}|prec={prec}"
    rec = _disk_cache.lookup("gl-rule", ("analytic/_funk_hecke.py", "analytic/precision.py"), key)
    if not (isinstance(rec, list) and len(rec) == N and all(isinstance(r, list) and len(r) == 2 for r in rec)):
        with working_precision(prec):
            from flint import arb

            rec = [[arb_to_exact(x), arb_to_exact(w)] for x, w in
                   (arb.legendre_p_root(N, j, weight=True) for j in range(N))]
        _disk_cache.store("gl-rule", ("analytic/_funk_hecke.py", "analytic/precision.py"), key, rec)
    try:
        return tuple((arb_from_exact(x), arb_from_exact(w)) for x, w in rec)
    except (TypeError, ValueError):  # a damaged entry: recompute without the cache
        with working_precision(prec):
            from flint import arb

            return tuple((arb_from_exact(arb_to_exact(x)), arb_from_exact(arb_to_exact(w))) for x, w in
                         (arb.legendre_p_root(N, j, weight=True) for j in range(N)))


@lru_cache(maxsize=24)
def _basis(d: int, N: int, a: float, K: int, prec: int):
    """Nodes ``t_j = cos theta_j`` and matrix ``B[k, j] = c_d a w_j sin^{d-2}(theta_j) P_k(t_j)``.

    Returns ``(t_nodes, B, trunc)`` with ``trunc`` the rigorous bound (times Phi(1)) of the
    omitted interval, all as Arb objects computed at ``prec + growth`` bits.
    """
    from flint import arb, arb_mat

    work = prec + _growth_bits(d, K, a)
    with working_precision(work):
        pi = arb.pi()
        half = pi / 2
        full = a >= math.pi / 2
        aa = half if full else arb(a)
        cd = arb(d) / 2
        cd = cd.gamma() / (pi.sqrt() * ((arb(d) - 1) / 2).gamma())
        rule = _gl_rule(N, work)
        th = [half + aa * x for x, _ in rule]
        t = [x.cos() for x in th]
        om = [cd * aa * w * (x.sin() ** (d - 2)) for (_, w), x in zip(rule, th)]
        rows = [[o * p for o, p in zip(om, P)] for P in gegenbauer_arb(d, K, t)]
        B = arb_mat(rows)
        trunc = arb(0) if full else (cd * (pi - 2 * aa) * aa.cos() ** (d - 2)).upper()
    return tuple(t), B, arb(trunc)


def project(d: int, K: int, N: int, a: float, prec: int, values) -> list:
    """Arb balls ``lambda_k``, k = 0..K, of the N-point rule, for node values ``values(t_list)``.

    ``values`` may return a list (one column) or a list of columns (several kernels at once);
    the result is then a list of columns.
    """
    from flint import arb_mat

    t, B, _ = _basis(d, N, a, K, prec)
    with working_precision(prec):
        vals = values(list(t))
        many = isinstance(vals[0], (list, tuple))
        cols = vals if many else [vals]
        V = arb_mat([[col[j] for col in cols] for j in range(N)])
        L = B * V
        out = [[L[k, c] for k in range(K + 1)] for c in range(len(cols))]
    return out if many else out[0]


def _error_bounds(kern, d, K, N1, N2, a, prec, lam2, trunc, check, rtol):
    """Per-degree absolute bounds and certified flags: the proven bound where it meets ``rtol``, else
    the difference with the ``N1``-node rule (verified)."""
    gl = gl_error_bounds(kern, d, K, N2, a) if kern.exact else None
    cert = [False] * (K + 1)
    errs = [None] * (K + 1)
    with working_precision(prec):
        if gl is not None:
            for k, l2 in enumerate(lam2):
                e = gl[k] + l2.rad() + trunc
                if e.upper() <= rtol * abs(l2.mid()) or k not in check:
                    errs[k], cert[k] = e, True
        if not all(cert):
            lam1 = project(d, K, N1, a, prec, kern.values_arb)
            for k, (l1, l2) in enumerate(zip(lam1, lam2)):
                if not cert[k]:
                    errs[k] = abs(l1 - l2).upper() + l2.rad() + trunc
    return errs, cert, gl is not None


def sphere_balls(kern, d, K, check, rtol, fixed_prec=None):
    """Balls and error bounds for lambda_0..K; ``check`` = degrees whose accuracy must reach rtol.

    Returns (lam2 balls, abs error bounds (arb), trace ball, prec, N1, N2, a, certified flags).  A degree is
    certified when the proven Gauss-Legendre bound of :mod:`spectra.analytic._gl_certify` meets ``rtol``;
    otherwise its bound uses the difference with the ``N1``-node rule (verified).
    """
    from flint import arb

    prec = int(fixed_prec) if fixed_prec is not None else 64 + int(-math.log2(rtol)) + 32
    N_floor = 0
    start = time.perf_counter()
    # an attempt costs about prec^2 N with closed forms; the Mehler series also needs more terms per
    # point as the precision grows (measured: about prec^4 from 576 to 1152 bits for a deep sigmoid NTK)
    growth = 2 if kern.exact else 4

    def affordable(took, nxt_prec, nxt_nodes, nodes):
        """Whether the next attempt would end inside MAX_SECONDS (with its N1 rule for the error bound)."""
        return time.perf_counter() - start + 2 * took * (nxt_prec / prec) ** growth * nxt_nodes / nodes <= MAX_SECONDS

    for _ in range(16):
        a = half_width(d, prec)
        N1 = max(node_count(d, K, a, prec), N_floor)
        N2 = (int(N1 * 1.2) + 15) // 8 * 8
        t0 = time.perf_counter()
        lam2 = project(d, K, N2, a, prec, kern.values_arb)
        took = time.perf_counter() - t0
        with working_precision(prec):
            trace = kern.values_arb([arb(1)], diag_index=0)[0]
            trunc = _basis(d, N2, a, K, prec)[2] * abs(trace).upper()
            need_prec, coarse = prec, set()
            for k in check:
                l2 = lam2[k]
                mag = abs(l2.mid())
                if not (abs(l2) - l2.rad() > 0) or l2.rad() + trunc > rtol * mag / 8:
                    coarse.add(k)
                    if mag > 0 and abs(l2) - l2.rad() > 0:
                        extra = math.log2(float((arb(l2.rad()) + trunc) / (mag * rtol / 8))) + 16
                        need_prec = max(need_prec, prec + int(extra))
                    else:
                        need_prec = max(need_prec, 2 * prec)
        if fixed_prec is None and need_prec > prec and prec < MAX_PRECISION:
            nxt = min((need_prec + 31) // 32 * 32, MAX_PRECISION)
            # bounded time: past the budget the bound reached so far is returned (an AccuracyWarning)
            if affordable(took, nxt, N2, N2):
                prec = nxt
                N_floor = max(N_floor, N1)
                continue  # the rounding dominates: no quadrature bound is needed yet
        errs, cert, provable = _error_bounds(kern, d, K, N1, N2, a, prec, lam2, trunc, check, rtol)
        with working_precision(prec):
            need_nodes = any(errs[k] > rtol * abs(lam2[k].mid()) for k in check if k not in coarse)
        if not need_nodes and provable and not all(cert[k] for k in check) and N2 < _CERT_NODES:
            # verified but not proven: more nodes shrink the proven bound like rho^(-2N) (cheap for small d)
            nxt_floor = max(N2 + 8, int(N2 * 1.5) // 8 * 8)
            if affordable(took, prec, nxt_floor, N2):
                N_floor = nxt_floor
                continue
            break
        if fixed_prec is not None:
            if need_nodes and N2 < 8 * (K + 64) + 16 * int(math.sqrt(d)) * 8 and affordable(took, prec, N2 + 8, N2):
                N_floor = N2 + 8
                continue
            break
        if need_nodes and affordable(took, prec, N2 + 8, N2):
            N_floor = N2 + 8
            continue
        break
    return lam2, errs, trace, prec, N1, N2, a, cert
