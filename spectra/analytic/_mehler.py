r"""High-precision dual kernels of smooth activations without a closed form (Mehler series in Arb).

Method
------
With :math:`h_k` the orthonormal probabilists' Hermite polynomials and
:math:`b_k(q) = \mathbb E[f(\sqrt q Z) h_k(Z)]`, Mehler's formula gives, for correlation
:math:`\rho = c/\sqrt{q_1 q_2}`,

.. math::
    \mathbb E[f(u) f(v)] = \sum_{k\ge0} b_k(q_1) b_k(q_2) \rho^k .

* **Coefficients.**  ``b_k`` by the trapezoidal rule with step ``h`` on ``[-X, X]`` applied to
  ``f(sqrt(q) x) psi_k(x) e^{-x^2/4} / sqrt(2 pi)`` (``psi_k = h_k e^{-x^2/4}``, bounded by 1.09, by
  the three-term recurrence on the nodes; ``psi_k(-x) = (-1)^k psi_k(x)`` halves the work).  For
  ``f`` analytic in the strip ``|Im x| < tau / sqrt(q)`` the rule converges geometrically,
  ``error ~ exp(-y (2 pi / h - 2 sqrt(K)))`` for ``y`` below the strip half-width; ``h`` and ``X``
  are chosen from this model for the working precision.  The accuracy is **verified**, not
  proved: every coefficient is computed by a second, independent rule (step ``1.25 h``, other
  nodes) and the largest difference is added to the error radius.  The recurrence runs on ball
  midpoints with 64 guard bits (Arb radii of a three-term recurrence overestimate the rounding
  error exponentially in the oscillatory region); an allowance ``2^(-prec)`` per term is added.
* **Truncation** (rigorous given the coefficients): for ``|rho| <= r < 1``,
  ``|sum_{k>K}| <= r^{K+1} sqrt(T_K(q_1) T_K(q_2))`` with the missing energy
  ``T_K(q) = E[f(sqrt q Z)^2] - sum_{k<=K} b_k(q)^2`` (energy identity); ``K`` grows until this is
  below ``2^(-prec)``.
* **Correlation +-1** reduces to the 1-D integrals ``E[f(sqrt q1 Z) f(+-sqrt q2 Z)]`` (same rules).

Every value is an Arb ball whose radius is the sum of the verified quadrature difference, the
truncation bound and the rounding allowance; results built on it are reported as verified
(``certified`` False).
"""
from __future__ import annotations

import math
import numpy as np

__all__ = ["MehlerDual", "mehler_duals"]

_GUARD = 64
_K_MAX = 40000


def _mid(a):
    return a.mid()


_strip = np.frompyfunc(_mid, 1, 1)


def _design(prec: int, tau: float, K: int):
    """Step ``h`` and half-width ``X`` of the trapezoidal rule for ``2^-prec`` at ``K`` terms."""
    bits = prec * math.log(2) + 20
    y = 0.9 * tau  # stay inside the strip of analyticity
    h = 2 * math.pi / (2 * math.sqrt(K) + bits / y)
    X = 2 * math.sqrt(bits + 4)  # e^{-X^2/4} below the target
    return h, X


class _Rule:
    """Coefficients of several functions by the trapezoidal rule with steps ``h`` and ``2 h`` (every other
    node), computed together by one recurrence and extendable in ``K``."""

    def __init__(self, fns, qs, h: float, X: float, prec: int):
        from flint import arb, ctx

        self.prec = prec
        old = ctx.prec
        ctx.prec = prec + _GUARD
        try:
            hh = arb(h)
            n = 2 * (int(X / (2 * h)) + 1)
            x = [hh * j for j in range(n + 1)]
            e = [(-(t * t) / 4).exp() for t in x]
            w = hh / (2 * arb.pi()).sqrt()
            ge, go, fp, fm = [], [], [], []
            for f, q in zip(fns, qs):
                sq = q.sqrt()
                vp = [f(sq * t) for t in x]
                vm = [f(-sq * t) for t in x]
                gp = [w * a * b for a, b in zip(vp, e)]
                gm = [w * a * b for a, b in zip(vm, e)]
                gp[0], gm[0] = gp[0] / 2, gm[0] / 2
                ge.append([_mid_of(a + b) for a, b in zip(gp, gm)])
                go.append([_mid_of(a - b) for a, b in zip(gp, gm)])
                fp.append(vp)
                fm.append(vm)
            self.g = (np.array(ge, dtype=object), np.array(go, dtype=object))
            self.g2 = tuple(2 * a[:, ::2] for a in self.g)  # the rule with step 2h: even nodes, double weights
            self.fp, self.fm, self.w, self.e = fp, fm, w, e
            self.x = np.array([_mid_of(t) for t in x], dtype=object)
            p0 = np.array([_mid_of(a) for a in e], dtype=object)
            p1 = _strip(self.x * p0)
            self.psi = (p0, p1)
            self.b = [list(self.g[0] @ p0), list(self.g[1] @ p1)]  # b[k][i], step h
            self.b2 = [list(self.g2[0] @ p0[::2]), list(self.g2[1] @ p1[::2])]  # step 2h
        finally:
            ctx.prec = old

    def extend(self, K: int) -> None:
        from flint import arb, ctx

        old = ctx.prec
        ctx.prec = self.prec + _GUARD
        try:
            x, (p0, p1) = self.x, self.psi
            k = len(self.b) - 1
            while k < K:
                s0, s1 = arb(k).sqrt(), 1 / arb(k + 1).sqrt()
                p0, p1 = p1, _strip((x * p1 - p0 * s0) * s1)
                k += 1
                self.b.append(list(self.g[k % 2] @ p1))
                self.b2.append(list(self.g2[k % 2] @ p1[::2]))
            self.psi = (p0, p1)
        finally:
            ctx.prec = old

    def moment(self, i: int, j: int, sign: int, step: int = 1):
        """``E[f_i(sqrt q_i Z) f_j(sign sqrt q_j Z)]`` by the rule with step ``step * h`` (full line)."""
        fj_p, fj_m = (self.fp[j], self.fm[j]) if sign > 0 else (self.fm[j], self.fp[j])
        s = self.fp[i][0] * fj_p[0]
        for a, b, c, d_, ee in list(zip(self.fp[i], fj_p, self.fm[i], fj_m, self.e))[step::step]:
            s += (a * b + c * d_) * ee * ee
        return step * self.w * s


def _mid_of(a):
    return a.mid()


class MehlerDual:
    """Arb evaluator of ``E[f_i(u) f_j(v)]`` for functions ``f_i`` at variances ``q_i``.

    Built by :func:`mehler_duals` for a given working precision; see the module docstring.  The
    target absolute accuracy is ``2^-(prec - 24)``: the callers' precisions carry guard bits
    (the cube 32) that the series need not resolve.
    """

    def __init__(self, fns, qs, prec: int, tau: float):  # noqa: D107
        self.fns, self.qs, self.prec, self.tau = tuple(fns), tuple(qs), int(prec), float(tau)
        self.target = max(self.prec - 24, 53)
        self._rule = None
        self._hK = 0

    def _strip_tau(self) -> float:
        return 0.9 * self.tau / math.sqrt(max(float(q.upper()) for q in self.qs))

    def _build(self, K: int):
        y = self._strip_tau()
        self._hK = max(K, 64)
        h, X = _design(self.target, y / 0.9, self._hK)
        self._rule = _Rule(self.fns, self.qs, h, X, self.prec)
        # geometric convergence: error(h) ~ error(2h) exp(-y pi / h)
        self._gain = math.exp(-y * math.pi / h)

    def coefficients(self, K: int):
        """``(b, err, abs_sum, tail)`` per function: ``b_k`` (k <= K), their verified error, ``sum |b_k|``, ``T_K``."""
        from flint import arb, ctx

        if self._rule is None or K > self._hK:
            self._build(2 * K)
        r = self._rule
        r.extend(K)
        old = ctx.prec
        ctx.prec = self.prec + _GUARD
        try:
            out = []
            eps = arb(2) ** (-self.target)
            for i in range(len(self.fns)):
                diff = arb(0)
                for k in range(K + 1):
                    diff = diff.max(abs(r.b[k][i] - r.b2[k][i]))
                # the step-h error from the step-2h difference (geometric convergence, safety 16)
                err = 16 * diff * self._gain + eps
                energy = r.moment(i, i, 1)
                e_err = 16 * abs(energy - r.moment(i, i, 1, 2)) * self._gain + eps
                s, a = arb(0), arb(0)
                for k in range(K + 1):
                    s += r.b[k][i] ** 2
                    a += abs(r.b[k][i])
                # errors d in b_k move sum b_k^2 by at most 2 d sum |b_k| + (K + 1) d^2
                tail = (energy - s).upper() + e_err.upper() + (2 * err * a + (K + 1) * err * err).upper()
                out.append(([r.b[k][i] for k in range(K + 1)], err, a + (K + 1) * err, arb(tail).max(arb(0))))
            return out
        finally:
            ctx.prec = old

    def endpoint(self, sign: int, i: int = 0, j: int = 0):
        """``E[f_i(sqrt q_i Z) f_j(sign sqrt q_j Z)]`` (correlation ``sign``) with its verified error."""
        from flint import arb, ctx

        if self._rule is None:
            self._build(64)
        old = ctx.prec
        ctx.prec = self.prec + _GUARD
        try:
            a, b = (self._rule.moment(i, j, sign, step) for step in (1, 2))
            return a + arb(0, (16 * abs(a - b) * self._gain + arb(2) ** (-self.target)).upper())
        finally:
            ctx.prec = old

    def __call__(self, rhos: list, i: int = 0, j: int = 0) -> list:
        """Balls of ``sum_k b_k(f_i, q_i) b_k(f_j, q_j) rho^k`` for each ball ``rho`` in ``rhos``."""
        from flint import arb, arb_poly, ctx

        eps = arb(2) ** (-self.target)
        ends, inner = {}, []
        near = arb(2) ** (-(self.target // 2))
        for n, r in enumerate(rhos):
            for s in (1, -1):
                if abs(r - s).upper() <= near:  # at (or within a ball radius of) correlation +-1
                    ends[n] = s
            if n not in ends:
                inner.append(n)
        out = [None] * len(rhos)
        if ends:
            # V(rho) = V(s) + O(|rho - s|) with |dV/drho| <= sum_k k |b_i,k b_j,k|: the sum to the current
            # K, doubled (a stated allowance; the tail's contribution is not proved)
            cs = self.coefficients(max(64, len(self._rule.b) - 1 if self._rule else 64))
            lip = 2 * sum((k * abs(x * y) for k, (x, y) in enumerate(zip(cs[i][0], cs[j][0]))), arb(0)) + 1
        for n, s in ends.items():
            out[n] = self.endpoint(s, i, j) + arb(0, (abs(rhos[n] - s) * lip).upper())
        if not inner:
            return out
        rmax = max(float(abs(rhos[n]).upper()) for n in inner)
        if rmax >= 1:
            for n in inner:
                out[n] = arb(0, math.inf)
            return out
        bits = self.target * math.log(2) + 10
        K = max(self._guess_K(rmax, bits), min(len(self._rule.b) - 1 if self._rule else 0, _K_MAX))
        # in logs: at a target beyond 1074 bits, eps (and the truncation bound) underflow as floats
        log_eps = -self.target * math.log(2)
        prev = math.inf
        while True:
            cs = self.coefficients(K)
            b0, d0, e0, t0 = cs[i]
            b1, d1, e1, t1 = cs[j]
            tail = (t0 * t1).sqrt()
            log_trunc = _safe_log((arb(rmax) ** (K + 1) * tail).upper(), -math.inf)
            # stop at the target, or when the bound stagnates at its floor (the coefficients' verified
            # errors enter T_K): more terms would not shrink the radius, which is reported either way
            # (near |rho| = 1, where terms cost most, 6 of the 24 guard bits of the target may go)
            if (log_trunc <= log_eps + (math.log(64) if rmax > 0.99 else 0.0) or K >= _K_MAX
                    or log_trunc > prev - math.log(2)):
                break
            prev = log_trunc
            # the geometric estimate (|rho| well below 1) unless it over-shoots; then the coefficients' decay
            more = (log_trunc - log_eps) / -math.log(rmax) if rmax > 0 else 1
            K_geo = K + int(more) + 16
            K = min(K_geo if K_geo <= 4 * K else self._next_K(K, rmax, tail, b0, b1, t0, t1, eps), _K_MAX)
        old = ctx.prec
        ctx.prec = self.prec + _GUARD
        try:
            poly = arb_poly([_mid_of(a * b) for a, b in zip(b0, b1)])
            quad = d0 * e1 + d1 * e0 + (K + 1) * d0 * d1  # e = sum_k |b_k| (with its error)
            base = (quad + eps).upper()
            for n in inner:
                # the tail bound |rho|^(K+1) sqrt(T_K T_K') per point (nodes far from +-1 get a tighter radius)
                rad = (abs(rhos[n]).upper() ** (K + 1) * tail).upper() + base
                out[n] = poly(rhos[n]) + arb(0, rad.upper())
        finally:
            ctx.prec = old
        return out

    @staticmethod
    def _next_K(K: int, r: float, tail, b0, b1, t0, t1, eps) -> int:
        """Next truncation order: the missing energy's decay is estimated from ``T_{K/2} / T_K``.

        Near ``|rho| = 1`` the factor ``r^K`` does not help and the coefficients' own decay
        (``exp(-c sqrt k)`` for a strip of analyticity) decides; the estimate only picks the next
        ``K`` (at most doubling it): the stopping test is the rigorous bound itself.
        """
        h = K // 2
        th0 = t0 + sum((x * x for x in b0[h + 1:]), t0 * 0)
        th1 = t1 + sum((x * x for x in b1[h + 1:]), t1 * 0)
        # float(.) of a tiny ball underflows to 0 (log raises): fall back to the target, i.e. no decay estimate
        lt = _safe_log(tail.upper(), _safe_log(eps.upper(), -745.0))
        try:
            lh = 0.5 * math.log(float((th0 * th1).upper()))
            c = max((lh - lt) / (math.sqrt(K) - math.sqrt(h)), 0.0)
        except (ValueError, OverflowError, ZeroDivisionError):
            c = 0.0
        lr = -math.log(r) if r > 0 else 50.0
        target = _safe_log(eps.upper(), -745.0)
        Kn = K
        while Kn < 2 * K:
            Kn = int(Kn * 1.1) + 8
            if (Kn + 1) * -lr + lt - c * (math.sqrt(Kn) - math.sqrt(K)) <= target - 2:
                break
        return Kn

    def _guess_K(self, r: float, bits: float) -> int:
        tau = self.tau / math.sqrt(max(float(q.upper()) for q in self.qs))
        lr = -math.log(r) if r > 0 else 50.0
        K = 16
        while K < _K_MAX and 2 * math.sqrt(2) * tau * math.sqrt(K) + K * lr < bits:
            K = int(K * 1.2) + 8
        return K


def _safe_log(x, floor: float) -> float:
    """``log(x)`` of a non-negative Arb bound (in Arb, so tiny values do not underflow), else ``floor``."""
    from flint import arb

    v = float(arb(x).log().mid()) if arb(x) > 0 else math.nan
    return v if math.isfinite(v) else floor


_CACHE: dict = {}


def mehler_duals(pairs, prec: int, tau: float) -> MehlerDual:
    """The (cached) evaluator for the functions ``pairs = [(f_arb, q), ...]`` at ``prec`` bits.

    ``f_arb`` maps an Arb ball to an Arb ball; ``tau`` is the half-width of the strip around the
    real axis where every ``f`` is analytic (``pi/2`` for tanh, ``pi`` for softplus, sigmoid and
    swish).  ``evaluator(rhos, i, j)`` is ``E[f_i(u) f_j(v)]`` at correlations ``rhos``.
    """
    key = (tuple((id(f), q.mid().str(50, radius=False), float(q.rad())) for f, q in pairs), int(prec), float(tau))
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = MehlerDual([f for f, _ in pairs], [q for _, q in pairs], prec, tau)
    return _CACHE[key]


def mehler_kernel_values(c_list, act, depth: int, wv, bv, kernel: str, nx, ny, diag_index=None) -> list:
    """The CK/NTK recursion of :func:`spectra.analytic.kernels.kernel_values_arb` on Mehler-series duals.

    The variances of every layer come first (1-D integrals at correlation 1); then one evaluator
    holds the coefficients of ``phi`` and ``phi'`` at all of them (one recurrence for all layers)
    and each layer evaluates all points at once.
    """
    from flint import ctx

    prec = ctx.prec
    fa, da, tau = act.mehler
    ntk = kernel == "ntk"
    same = nx == ny
    fns = (fa, da) if ntk else (fa,)
    qxs, qys = [wv * nx + bv], [wv * ny + bv]
    diag_theta = [qxs[0]]
    for _ in range(depth):
        ex = mehler_duals([(f, qxs[-1]) for f in fns], prec, tau)
        qxs.append(wv * ex.endpoint(1, 0, 0) + bv)
        if ntk:
            diag_theta.append(qxs[-1] + wv * ex.endpoint(1, 1, 1) * diag_theta[-1])
        qys.append(qxs[-1] if same else wv * mehler_duals([(fa, qys[-1])], prec, tau).endpoint(1, 0, 0) + bv)
    pairs, index = [], {}
    for l in range(depth):
        for side, q in (("x", qxs[l]), ("y", qys[l])):
            if side == "y" and same:
                continue
            for name, f in zip("fd", fns):
                index[(l, side, name)] = len(pairs)
                pairs.append((f, q))
    ev = mehler_duals(pairs, prec, tau) if pairs else None
    idx = [i for i in range(len(c_list)) if i != diag_index]
    sig = [wv * c_list[i] + bv for i in idx]
    theta = list(sig)
    for l in range(depth):
        ys = "x" if same else "y"
        rq = (qxs[l] * qys[l]).sqrt()
        rhos = [s_ / rq for s_ in sig]
        vc = ev(rhos, index[(l, "x", "f")], index[(l, ys, "f")])
        if ntk:
            vd = ev(rhos, index[(l, "x", "d")], index[(l, ys, "d")])
            theta = [wv * a + bv + wv * b * t for a, b, t in zip(vc, vd, theta)]
        sig = [wv * a + bv for a in vc]
    vals = theta if ntk else sig
    out = [None] * len(c_list)
    for i, v in zip(idx, vals):
        out[i] = v
    if diag_index is not None:
        out[diag_index] = diag_theta[-1] if ntk else qxs[-1]
    return out
