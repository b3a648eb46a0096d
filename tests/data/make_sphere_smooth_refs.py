"""Independent references for the smooth activations' sphere spectra (tests/test_sphere_smooth.py).

tanh and softplus; d in {3, 10, 100}; depth 1 and 2; CK and NTK; sigma_w^2 = 2, sigma_b^2 = 0.1;
degrees k <= 30.

Method (independent of the package, which evaluates the kernel at Gauss-Legendre nodes in the angle
by Mehler series with trapezoidal Hermite coefficients and then sums a Funk-Hecke quadrature):

1. Hermite coefficients ``b_m(q) = E[f(sqrt(q) Z) h_m(Z)]`` (orthonormal ``h_m``) by *composite
   Gauss-Legendre* quadrature on [0, X] (panels, parity folded in), for every function (phi and phi'
   at the layer variances); two panel rules (different widths and node counts) are computed and
   their difference is recorded.  Variances ``q_l`` by the same rule (1-D integrals).
2. The kernel as a *power series in t* = <x, y>/d: Mehler's formula gives each layer's dual as a
   series in the correlation with non-negative coefficients ``b_m^2``; the CK/NTK recursion is done
   by truncated power-series arithmetic (composition, products) to degree N.  All Taylor
   coefficients ``a_n`` of Phi(t) are >= 0, so the mass not captured is ``Phi(1) - sum_n a_n`` and
   is recorded (it bounds the truncation error of every eigenvalue, since ``|P_k| <= 1``).
3. Funk-Hecke without quadrature: ``lambda_k = sum_n a_n m_{n,k}`` with the exact moments
   ``m_{n,k} = E[t^n P_k(t)]`` (uniform measure on the sphere) from the positive recurrence
   ``m_{n+1,k} = ((k+d-2) m_{n,k+1} + k m_{n,k-1}) / (2k+d-2)``, ``m_{0,k} = [k = 0]``.  Every
   term is non-negative: no cancellation.

Arithmetic: python-flint balls at 320 bits (used as plain high-precision numbers; the reference's
accuracy is judged by the two rules and the missing mass, both stored).

Run:  python tests/data/make_sphere_smooth_refs.py   (a few minutes; writes sphere_smooth_refs.json)
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from flint import arb, arb_series, ctx

PREC = 320
DIMS = (3, 10, 100)
KMAX = 30
N_SERIES = 1400  # Taylor degree in t (and Mehler terms)
WV, BV = 2.0, 0.1  # the floats, exactly as the package takes them
X_MAX = 24


def _sig(x):
    return 1 / (1 + (-x).exp())


def _softplus(x):
    return x.exp().log1p() if x < 0 else x + (-x).exp().log1p()


FNS = {
    "tanh": (lambda x: x.tanh(), lambda x: 1 - x.tanh() ** 2),
    "softplus": (_softplus, _sig),
}


def panel_rule(width: float, G: int):
    """Composite Gauss-Legendre nodes/weights on [0, X_MAX] with panels of ``width``."""
    roots = [arb.legendre_p_root(G, j, weight=True) for j in range(G)]
    npan = int(math.ceil(X_MAX / width))
    h = arb(X_MAX) / npan
    xs, ws = [], []
    for p in range(npan):
        a = h * p
        for r, w in roots:
            xs.append(a + h * (r + 1) / 2)
            ws.append(w * h / 2)
    return np.array(xs, dtype=object), np.array(ws, dtype=object)


def _mid(a):
    return a.mid()


_strip = np.frompyfunc(_mid, 1, 1)


def hermite_coefficients(funcs, M: int, rule):
    """``b[i][m]`` for ``funcs = [(f, q), ...]`` and every m <= M, by the composite rule."""
    x, w = rule
    e4 = np.array([(-(t * t) / 4).exp() for t in x], dtype=object)
    base = w * e4 / (2 * arb.pi()).sqrt()
    gs = []
    for f, q in funcs:
        sq = q.sqrt()
        fp = np.array([f(sq * t) for t in x], dtype=object)
        fm = np.array([f(-sq * t) for t in x], dtype=object)
        gs.append((_strip(base * (fp + fm)), _strip(base * (fp - fm))))
    p0, p1 = e4.copy(), _strip(x * e4)
    b = [[g[0].dot(p0) for g in gs], [g[1].dot(p1) for g in gs]]
    for m in range(1, M):
        p0, p1 = p1, _strip((x * p1 - p0 * arb(m).sqrt()) / arb(m + 1).sqrt())
        b.append([g[(m + 1) % 2].dot(p1) for g in gs])
    return [[b[m][i] for m in range(M + 1)] for i in range(len(funcs))]


def second_moment(f, q, rule):
    x, w = rule
    sq = q.sqrt()
    s = arb(0)
    for t, wt in zip(x, w):
        s += wt * (f(sq * t) ** 2 + f(-sq * t) ** 2) * (-(t * t) / 2).exp()
    return s / (2 * arb.pi()).sqrt()


def compose(coef, inner):
    """``sum_m coef[m] inner^m`` as a truncated series (Horner)."""
    acc = arb_series([coef[-1]])
    for c in reversed(coef[:-1]):
        acc = acc * inner + c
    return acc


def kernel_series(act: str, rule, N: int):
    """Taylor coefficients of the CK and NTK for depth 1 and 2, and the diagonals Phi(1)."""
    f, df = FNS[act]
    wv, bv = arb(WV), arb(BV)
    q1 = wv + bv
    q2 = wv * second_moment(f, q1, rule) + bv
    ed1 = second_moment(df, q1, rule)
    q3 = wv * second_moment(f, q2, rule) + bv
    ed2 = second_moment(df, q2, rule)
    b = hermite_coefficients([(f, q1), (df, q1), (f, q2), (df, q2)], N, rule)
    sq = [[x * x for x in row] for row in b]
    ctx.cap = N + 1
    t = arb_series([0, 1])
    sig1 = wv * t + bv
    rho1 = sig1 / q1
    sig2 = wv * compose(sq[0], rho1) + bv
    th2 = sig2 + wv * compose(sq[1], rho1) * sig1
    rho2 = sig2 / q2
    sig3 = wv * compose(sq[2], rho2) + bv
    th3 = sig3 + wv * compose(sq[3], rho2) * th2
    diag = {(1, "ck"): q2, (1, "ntk"): q2 + wv * ed1 * q1, (2, "ck"): q3}
    diag[(2, "ntk")] = q3 + wv * ed2 * diag[(1, "ntk")]
    series = {(1, "ck"): sig2, (1, "ntk"): th2, (2, "ck"): sig3, (2, "ntk"): th3}
    return {key: (list(s.coeffs()) + [arb(0)] * (N + 1 - len(s.coeffs())), diag[key]) for key, s in series.items()}


def moments(d: int, N: int, K: int):
    """``m[n][k] = E[t^n P_k(t)]`` for n <= N, k <= K (exact recurrence, non-negative)."""
    width = K + N + 2
    row = [arb(1)] + [arb(0)] * width
    out = [row[:K + 1]]
    for n in range(N):
        new = [arb(0)] * (width + 1)
        for k in range(0, min(n + 2, width)):
            up = row[k + 1] if k + 1 <= width else arb(0)
            down = row[k - 1] if k >= 1 else arb(0)
            new[k] = ((k + d - 2) * up + k * down) / (2 * k + d - 2)
        row = new
        out.append(row[:K + 1])
    return out


def eigenvalues(a, mom, K):
    return [sum((a[n] * mom[n][k] for n in range(len(a))), arb(0)) for k in range(K + 1)]


def main():
    ctx.prec = PREC
    acts = sys.argv[1:] or list(FNS)
    out_path = Path(__file__).with_name("sphere_smooth_refs.json")
    data = json.loads(out_path.read_text()) if out_path.exists() else {}
    data["_method"] = ("Hermite coefficients by composite Gauss-Legendre (two panel rules), Mehler series composed "
                       "as power series in t (degree N), lambda_k = sum a_n E[t^n P_k] by the exact positive "
                       "moment recurrence; see make_sphere_smooth_refs.py")
    rules = {"A": (0.25, 48), "B": (0.3, 44)}
    mom = {}
    for act in acts:
        res = {}
        for name, (wd, G) in rules.items():
            t0 = time.time()
            res[name] = kernel_series(act, panel_rule(wd, G), N_SERIES)
            print(act, "rule", name, f"{time.time() - t0:.0f}s", flush=True)
        for d in DIMS:
            if d not in mom:
                mom[d] = moments(d, N_SERIES, KMAX)
            for (depth, kern), (a, phi1) in res["A"].items():
                lam = eigenvalues(a, mom[d], KMAX)
                lamB = eigenvalues(res["B"][(depth, kern)][0], mom[d], KMAX)
                missing = phi1 - sum(a, arb(0))
                # truncation: the missing (non-negative) mass sits at n > N where E[t^n P_k] <= E[t^N] (N even)
                tail = missing.upper() * mom[d][N_SERIES][0]
                half = N_SERIES // 2 // 2 * 2
                lamH = eigenvalues(a[:half + 1], mom[d], KMAX)
                rel_rule = max(float(abs(x - y) / abs(x)) for x, y in zip(lam, lamB) if x != 0)
                rel_half = max(float(abs(x - y) / abs(x)) for x, y in zip(lam, lamH) if x != 0)
                rel_tail = max(float(tail / abs(x)) for x in lam if x != 0)
                key = f"{act}/d={d}/depth={depth}/{kern}"
                data[key] = dict(eigenvalues=[x.mid().str(40, radius=False) for x in lam],
                                 trace=phi1.mid().str(40, radius=False),
                                 rel_diff_two_rules=rel_rule, rel_diff_half_series=rel_half,
                                 rel_tail_bound=rel_tail, missing_mass=float(missing))
                print(key, f"rules {rel_rule:.1e} half-series {rel_half:.1e} tail {rel_tail:.1e} "
                      f"missing {float(missing):.1e}", flush=True)
        out_path.write_text(json.dumps(data, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
