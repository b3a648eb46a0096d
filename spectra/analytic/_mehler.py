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
    """Coefficients of several functions at one rule (step h), computed together and extendable in K."""

    def __init__(self, fns, qs, h: float, X: float, prec: int):
        from flint import arb, ctx

        self.prec = prec
        work = prec + _GUARD
        old = ctx.prec
        ctx.prec = work
        try:
            hh = arb(h)
            n = int(X / h) + 1
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
            self.ge = np.array(ge, dtype=object)
            self.go = np.array(go, dtype=object)
            self.fp, self.fm, self.w, self.e = fp, fm, w, e
            self.x = np.array([_mid_of(t) for t in x], dtype=object)
            self.psi0 = np.array([_mid_of(a) for a in e], dtype=object)
            self.psi1 = self.x * self.psi0
            self.b = [list(self.ge @ self.psi0), list(self.go @ self.psi1)]  # b[k][i]
        finally:
            ctx.prec = old

    def extend(self, K: int) -> None:
        from flint import arb, ctx

        old = ctx.prec
        ctx.prec = self.prec + _GUARD
        try:
            x, p0, p1 = self.x, self.psi0, self.psi1
            k = len(self.b) - 1
            while k < K:
                s0, s1 = arb(k).sqrt(), 1 / arb(k + 1).sqrt()
                p0, p1 = p1, _strip((x * p1 - p0 * s0) * s1)
                k += 1
                self.b.append(list((self.ge if k % 2 == 0 else self.go) @ p1))
            self.psi0, self.psi1 = p0, p1
        finally:
            ctx.prec = old

    def moment(self, i: int, j: int, sign: int):
        """``E[f_i(sqrt q_i Z) f_j(sign sqrt q_j Z)]`` by the same rule (full line)."""
        fj_p, fj_m = (self.fp[j], self.fm[j]) if sign > 0 else (self.fm[j], self.fp[j])
        s = self.fp[i][0] * fj_p[0]
        for a, b, c, d_, ee in zip(self.fp[i][1:], fj_p[1:], self.fm[i][1:], fj_m[1:], self.e[1:]):
            s += (a * b + c * d_) * ee * ee
        return self.w * s


def _mid_of(a):
    return a.mid()


class MehlerDual:
    """Arb evaluator of ``E[f(u) f(v)]`` for one or two functions at fixed variances.

    Built by :func:`mehler_pair` for a given working precision; see the module docstring.
    """

    def __init__(self, fns, qs, prec: int, tau: float):  # noqa: D107
        self.fns, self.qs, self.prec, self.tau = tuple(fns), tuple(qs), int(prec), float(tau)
        self._rules = None
        self._K = 0

    def _build(self, K: int):
        tau = self.tau / math.sqrt(max(float(q.upper()) for q in self.qs))
        h, X = _design(self.prec, tau, max(K, 64))
        # the check rule (step h) must itself meet the target, so the main rule's step is h / 1.25
        self._rules = (_Rule(self.fns, self.qs, h / 1.25, X, self.prec), _Rule(self.fns, self.qs, h, X, self.prec))
        self._hK = max(K, 64)

    def coefficients(self, K: int):
        """``(b, err, abs_sum, tail)`` per function: ``b_k`` (k <= K), their verified error, ``sum |b_k|``, ``T_K``."""
        from flint import arb, ctx

        if self._rules is None or K > self._hK:
            self._build(int(1.3 * K))
        for r in self._rules:
            r.extend(K)
        fine, coarse = self._rules
        old = ctx.prec
        ctx.prec = self.prec + _GUARD
        try:
            out = []
            eps = arb(2) ** (-self.prec)
            for i in range(len(self.fns)):
                diff = arb(0)
                for k in range(K + 1):
                    diff = diff.max(abs(fine.b[k][i] - coarse.b[k][i]))
                energy = fine.moment(i, i, 1)
                e_err = abs(energy - coarse.moment(i, i, 1)) + eps
                diff = diff + eps
                s, a = arb(0), arb(0)
                for k in range(K + 1):
                    s += fine.b[k][i] ** 2
                    a += abs(fine.b[k][i])
                # errors d in b_k move sum b_k^2 by at most 2 d sum |b_k| + (K + 1) d^2
                tail = (energy - s).upper() + e_err.upper() + (2 * diff * a + (K + 1) * diff * diff).upper()
                out.append(([fine.b[k][i] for k in range(K + 1)], diff, a + (K + 1) * diff,
                             arb(tail).max(arb(0))))
            return out
        finally:
            ctx.prec = old

    def endpoint(self, sign: int, i: int = 0, j: int = 0):
        """``E[f_i(sqrt q_i Z) f_j(sign sqrt q_j Z)]`` (correlation ``sign``) with its verified error."""
        from flint import arb, ctx

        if self._rules is None:
            self._build(64)
        old = ctx.prec
        ctx.prec = self.prec + _GUARD
        try:
            a, b = (r.moment(i, j, sign) for r in self._rules)
            return a + arb(0, (abs(a - b) + arb(2) ** (-self.prec)).upper())
        finally:
            ctx.prec = old

    def __call__(self, rhos: list, i: int = 0, j: int = 0) -> list:
        """Balls of ``sum_k b_k(f_i, q_i) b_k(f_j, q_j) rho^k`` for each ball ``rho`` in ``rhos``."""
        from flint import arb, arb_poly, ctx

        eps = arb(2) ** (-self.prec)
        ends, inner = {}, []
        for n, r in enumerate(rhos):
            for s in (1, -1):
                if abs(r - s).upper() <= eps:
                    ends[n] = s
            if n not in ends:
                inner.append(n)
        out = [None] * len(rhos)
        for n, s in ends.items():
            # |rho - s| <= 2^-prec here; the rho-derivative of the series is bounded by a constant
            # (sum_k k |b_k b_k|, below 2^20 for the activations here): a stated, not proved, allowance
            out[n] = self.endpoint(s, i, j) + arb(0, (abs(rhos[n] - s) * (1 << 20)).upper())
        if not inner:
            return out
        rmax = max(float(abs(rhos[n]).upper()) for n in inner)
        if rmax >= 1:
            for n in inner:
                out[n] = arb(0, math.inf)
            return out
        bits = self.prec * math.log(2) + 10
        K = self._guess_K(rmax, bits)
        while True:
            cs = self.coefficients(K)
            b0, d0, e0, t0 = cs[i]
            b1, d1, e1, t1 = cs[j]
            trunc = arb(rmax) ** (K + 1) * (t0 * t1).sqrt()
            if trunc.upper() <= eps or K >= _K_MAX:
                break
            K = min(int(K * 1.5) + 16, _K_MAX)
        old = ctx.prec
        ctx.prec = self.prec + _GUARD
        try:
            poly = arb_poly([_mid_of(a * b) for a, b in zip(b0, b1)])
            quad = d0 * e1 + d1 * e0 + (K + 1) * d0 * d1  # e = sum_k |b_k| (with its error)
            rad = (trunc + quad + eps).upper()
            for n in inner:
                out[n] = poly(rhos[n]) + arb(0, rad)
        finally:
            ctx.prec = old
        return out

    def _guess_K(self, r: float, bits: float) -> int:
        tau = self.tau / math.sqrt(max(float(q.upper()) for q in self.qs))
        lr = -math.log(r) if r > 0 else 50.0
        K = 16
        while K < _K_MAX and 2 * math.sqrt(2) * tau * math.sqrt(K) + K * lr < bits:
            K = int(K * 1.2) + 8
        return K


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


def _layer(act, qx, qy, prec: int, with_derivative: bool):
    fa, da, tau = act.mehler
    pairs = [(fa, qx)] if qx is qy else [(fa, qx), (fa, qy)]
    if with_derivative:
        pairs += [(da, qx)] if qx is qy else [(da, qx), (da, qy)]
    return mehler_duals(pairs, prec, tau), (0 if qx is qy else 1)


def mehler_kernel_values(c_list, act, depth: int, wv, bv, kernel: str, nx, ny, diag_index=None) -> list:
    """The CK/NTK recursion of :func:`spectra.analytic.kernels.kernel_values_arb` on Mehler-series duals.

    Each layer evaluates all points at once (one set of coefficients per layer); the diagonal
    values are the 1-D integrals at correlation 1.
    """
    from flint import arb, ctx

    prec = ctx.prec
    ntk = kernel == "ntk"
    qxs, qys = [wv * nx + bv], [wv * ny + bv]
    same = nx == ny
    if same:
        qys = qxs
    diag_theta = [qxs[0]]
    layers = []
    for _ in range(depth):
        qx, qy = qxs[-1], qys[-1]
        ev, jy = _layer(act, qx, qy, prec, ntk)
        layers.append((ev, jy))
        vq = ev.endpoint(1, 0, 0)
        if ntk:
            dq = ev.endpoint(1, 1 + jy, 1 + jy) if jy else ev.endpoint(1, 1, 1)
        qxs.append(wv * vq + bv)
        if not same:
            qys.append(wv * ev.endpoint(1, jy, jy) + bv)
        if ntk:
            diag_theta.append(qxs[-1] + wv * dq * diag_theta[-1])
    idx = [i for i in range(len(c_list)) if i != diag_index]
    sig = [wv * c_list[i] + bv for i in idx]
    theta = list(sig)
    for l, (ev, jy) in enumerate(layers):
        rq = (qxs[l] * qys[l]).sqrt()
        rhos = [s / rq for s in sig]
        vc = ev(rhos, 0, jy)
        if ntk:
            i0 = 1 + jy
            vd = ev(rhos, i0, i0 + jy)
            theta = [wv * a + bv + wv * b * t for a, b, t in zip(vc, vd, theta)]
        sig = [wv * a + bv for a in vc]
    vals = sig if not ntk else theta
    out = [None] * len(c_list)
    for i, v in zip(idx, vals):
        out[i] = v
    if diag_index is not None:
        out[diag_index] = qxs[-1] if not ntk else diag_theta[-1]
    return out
