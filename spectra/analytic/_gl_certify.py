r"""Proven Gauss–Legendre error bounds for the sphere's Funk–Hecke integrals (closed-form duals).

The sphere rule integrates ``f_k(x) = a c_d Phi(cos theta) P_k(cos theta) sin^{d-2} theta`` over
``x in [-1, 1]``, ``theta = pi/2 + a x``, by ``N``-point Gauss–Legendre.  If ``f_k`` is analytic in
the closed Bernstein ellipse ``E_rho`` (foci +-1, semi-axes ``cosh s``, ``sinh s``, ``rho = e^s``)
with ``|f_k| <= M_k`` there, its Chebyshev coefficients obey ``|c_j| <= 2 M_k rho^{-j}``; the rule
is exact to degree ``2N - 1``, has positive weights summing to 2, and ``|int T_j| <= 2/3`` for
``j >= 2``, so

.. math::
    |E_N(f_k)| \le \sum_{j\ge 2N} 2 M_k \rho^{-j}\,(2 + 2/3)
              = \tfrac{16}{3}\, M_k\, \rho^{-2N} / (1 - \rho^{-1})

(the classical ``(64/15) M rho^{-2N}/(rho^2 - 1)`` of Trefethen, *Approximation Theory and
Approximation Practice*, Thm 19.3, with cruder constants that need no parity argument).

Enclosures on the ellipse:

* ``|P_k(cos theta)| <= e^{k |Im theta|}``: for ``d >= 3``, ``C_k^lambda(cos theta)`` is a sum of
  ``e^{i(k - 2j) theta}`` with positive coefficients adding up to ``C_k^lambda(1)``; for ``d = 2``,
  ``|cos k theta| <= cosh(k Im theta)``;
* ``|sin theta|^2 = cos^2 u + sinh^2 v`` for ``a x = u + i v``, enclosed per box;
* ``Phi(cos theta)`` in complex ball arithmetic on boxes covering the filled upper half ellipse
  (the integrand is real on the real axis, so the lower half is its mirror image).  Analyticity
  is *checked*, not assumed: every square root / arcsine argument must avoid its branch cut on
  every box, or the ellipse is rejected.  Kinked duals (the relu and step families) are written in
  the angle ``alpha_l`` of each layer, where they are analytic: with ``1 - rho_{l+1} =
  alpha_l^2 X(alpha_l)`` for an entire ``X``, ``alpha_{l+1} = 2 asin(alpha_l sqrt(X / 2))``, and
  ``alpha_1 = theta`` (no bias) or ``2 asin(sqrt(w / q_1) sin(theta / 2))``.  Step kernels of depth
  >= 2 have ``1 - rho ~ alpha`` (a true square-root singularity at ``theta = 0``): no bound.

The bound is taken as the minimum over a few ellipses.  Activations without a complex evaluator
here get ``None`` (the caller falls back to comparing two node counts: "verified").
"""
from __future__ import annotations

import math
from functools import lru_cache

from .. import _disk_cache
from ._dispatch import Dual

__all__ = ["gl_error_bounds"]

_S_GRID = (0.05, 0.12, 0.25, 0.4, 0.6, 0.9)
_BITS = 80
_SOURCES = ("analytic",)  # the cache folder changes with any module of spectra.analytic


class _Cut(ArithmeticError):
    """A box touches a branch cut: analyticity on the ellipse is not established."""


def _off_real_cut(z, lo: float = 1.0) -> None:
    """Raise unless ``z`` avoids ``(-inf, -lo] U [lo, inf)`` (the cut of asin for ``lo = 1``)."""
    im = z.imag
    if im > 0 or im < 0:
        return
    if abs(z.real) < lo:
        return
    raise _Cut


def _abs_lower(z):
    """A lower bound (Arb, radius 0) of ``|z|`` over the complex box ``z``.

    ``abs(acb)`` of a box that straddles an axis squares the straddling part as an interval around 0
    and can return a ball containing 0 even far from the origin; the componentwise distances cannot.
    """
    from flint import arb

    def dist(part):  # inf |part| over the ball; abs() of a ball around 0 keeps its radius, so clamp
        lo = abs(part).lower()
        return lo if lo > 0 else arb(0)

    x, y = dist(z.real), dist(z.imag)
    low = (x * x + y * y).sqrt().lower()
    return arb(low) if low > 0 else arb(0)


def _csqrt(z):
    """Principal square root, raising unless ``z`` avoids ``(-inf, 0]``; centred form on wide boxes."""
    from flint import acb, arb

    im = z.imag
    if not (im > 0 or im < 0 or z.real > 0):
        raise _Cut
    mid, r = _centre(z)
    low = _abs_lower(z)
    if r == 0 or not low > 0:
        return z.sqrt()
    e = arb(0, (r / (2 * low.sqrt())).upper())  # sup |sqrt'| = 1 / (2 sqrt(min |z|))
    return mid.sqrt() + acb(e, e)


def _centre(z):
    """Midpoint of a complex box and the radius of a disc around it containing the box."""
    from flint import acb, arb

    mid = acb(z.real.mid(), z.imag.mid())
    r = (arb(z.real.rad()) ** 2 + arb(z.imag.rad()) ** 2).sqrt()
    return mid, arb(r.upper())


def _casin(z):
    """Principal arcsine with a branch-cut check; centred form (Arb's direct enclosure of a wide box is loose)."""
    from flint import acb, arb

    _off_real_cut(z)
    mid, r = _centre(z)
    if r == 0:
        return z.asin()
    # sup |asin'| = 1 / inf sqrt(|1 - z| |1 + z|) on the box (which avoids the cuts); the factored
    # form keeps it tight where acb's 1 - z*z of a wide box would contain 0 (deep bias-free relu)
    low = _abs_lower(1 - z) * _abs_lower(1 + z)
    if not low > 0:
        raise ValueError("asin: no derivative bound on this box")  # callers bisect
    e = arb(0, (r / low.sqrt()).upper())
    return mid.asin() + acb(e, e)


def _kinked_layer_fns(a: float, b: float, step: bool):
    """Per-layer functions of the angle alpha for the relu (or step) family ``a min(x,0) + b max(x,0)``."""
    from flint import acb, arb

    w, ab = (a - b) ** 2, a * b
    pi = arb.pi()

    def H(al):  # (1 - cos al) / al^2
        return (al / 2).sinc() ** 2 / 2

    def J(al):  # (sin al - al cos al) / al^3 = 0F1(; 5/2; -al^2/4) / 3
        return (-(al * al) / 4).hypgeom_0f1(arb(5) / 2) / 3

    def duals(al, q):
        """(V, Vdot, 1 - rho_next as al^2 X: returns X times q_next) for one layer."""
        if step:
            V = w * (pi - al) / (2 * pi) + ab
            return V, acb(0)
        c = q * al.cos()
        R = q * (al.sin() + (pi - al) * al.cos()) / (2 * pi)
        return w * R + ab * c, w * (pi - al) / (2 * pi) + ab

    def x_factor(al, q):
        """``X`` with ``q_{l+1} - Sigma_{l+1} = wv al^2 X`` (relu family only)."""
        G = pi * H(al) - al * J(al)
        return q * (w * G / (2 * pi) + ab * H(al))

    return duals, x_factor


def _phi_kinked(theta, act, depth, wv, bv, kind, qs):
    """Complex CK/NTK at ``c = cos theta`` for the relu/step families (angle recursion)."""
    from flint import arb

    a, b = act.dispatch_params
    step = act.dispatch == Dual.STEP_FAMILY
    duals, x_factor = _kinked_layer_fns(a, b, step)
    sig = wv * theta.cos() + bv
    th = sig
    if bv == 0:
        al = theta
    else:
        al = 2 * _casin((arb(wv) / qs[0]).sqrt() * (theta / 2).sin())
    for l in range(depth):
        V, Vd = duals(al, qs[l])
        new = wv * V + bv
        th = new + wv * Vd * th
        sig = new
        if l + 1 < depth:
            X = wv * x_factor(al, qs[l]) / (2 * qs[l + 1])
            al = 2 * _casin(al * _csqrt(X))
    return sig if kind == "ck" else th


def _smooth_duals(act):
    """Complex ``(V, Vdot)`` at covariance ``s`` and equal variances ``q`` for the smooth closed forms."""
    from flint import acb, arb

    code = act.dispatch
    pi = arb.pi()
    if code == Dual.ERF:
        def f(s, q):
            den = 1 + 2 * q
            return 2 * _casin(2 * s / den) / pi, 4 / (pi * _csqrt(den * den - 4 * s * s))
    elif code == Dual.GELU:
        def f(s, q):
            s2 = (1 + q) ** 2
            D = _csqrt(s2 - s * s)
            al = 2 / (1 + q) - 1
            asn = _casin(s / (1 + q))
            V = s / 4 + (s * asn + (q * q + al * s * s) / D) / (2 * pi)
            Vd = arb(1) / 4 + (asn + s / D + 2 * al * s / D + s * (q * q + al * s * s) / (D * D * D)) / (2 * pi)
            return V, Vd
    elif code in (Dual.SIN, Dual.COS):
        sin = code == Dual.SIN

        def f(s, q):
            e = (-q).exp()
            return (e * s.sinh(), e * s.cosh()) if sin else (e * s.cosh(), e * s.sinh())
    elif code == Dual.IDENTITY:
        def f(s, q):
            return s, acb(1)
    elif code == Dual.MONOMIAL:
        n = int(act.dispatch_params[0])

        def mom(m, s, q):
            out = acb(0)
            for k in range(m % 2, m + 1, 2):
                j = (m - k) // 2
                coef = math.factorial(k) * (math.factorial(m) // (2**j * math.factorial(j) * math.factorial(k))) ** 2
                out += coef * s**k * (q * q) ** j
            return out

        def f(s, q):
            return mom(n, s, q), (acb(1) if n == 1 else n * n * mom(n - 1, s, q))
    else:
        return None
    return f


def _phi_smooth(theta, duals, depth, wv, bv, kind, qs):
    sig = wv * theta.cos() + bv
    th = sig
    for l in range(depth):
        V, Vd = duals(sig, qs[l])
        new = wv * V + bv
        th = new + wv * Vd * th
        sig = new
    return sig if kind == "ck" else th


def _evaluator(kern):
    """``theta -> Phi(cos theta)`` on complex boxes, or None when this module has no form for the activation."""
    act = kern.activation
    if not act.exact:
        return None
    wv, bv, depth, kind = kern.weight_var, kern.bias_var, kern.depth, kern.kind
    qs = _variances(kern)
    if depth == 0:  # the input kernel w c + b: no layer, whatever the activation
        return lambda th: _phi_smooth(th, None, 0, wv, bv, kind, qs)
    if act.dispatch in (Dual.RELU_FAMILY, Dual.STEP_FAMILY):
        if act.dispatch == Dual.STEP_FAMILY and depth >= 2:
            return None  # 1 - rho ~ alpha: a square-root singularity at theta = 0
        a, b = act.dispatch_params
        if act.dispatch == Dual.RELU_FAMILY and not _exact_family(a, b):
            return None
        return lambda th: _phi_kinked(th, act, depth, wv, bv, kind, qs)
    duals = _smooth_duals(act)
    if duals is None:
        return None
    return lambda th: _phi_smooth(th, duals, depth, wv, bv, kind, qs)


def _exact_family(a: float, b: float) -> bool:
    """True when the float coefficients satisfy ``(a^2 + b^2)/2 = (a - b)^2/2 + a b`` exactly.

    The package's kernel uses the rounded ``(a - b)^2``, ``a b`` and ``a^2 + b^2``; only when they are
    consistent does ``1 - rho`` vanish to second order at ``alpha = 0`` (else a branch point sits
    ~1e-8 away from the real axis and no ellipse bound exists).
    """
    from fractions import Fraction as F

    return F(a * a + b * b) == F((a - b) ** 2) + 2 * F(a * b)


def _variances(kern) -> list:
    """Diagonal variances ``q_1..q_L`` (Arb) of the layers, from the package's Arb duals at correlation 1."""
    from flint import arb

    # q_{l+1} is the depth-l CK at c = 1
    return [kern.replace(depth=l, kind="ck").values_arb([arb(1)], diag_index=0)[0] for l in range(kern.depth)]


def _ellipse_point(s: float, phi: float) -> tuple:
    return math.cosh(s) * math.cos(phi), math.sinh(s) * math.sin(phi)


def _boundary_boxes(s: float, n: int):
    """Boxes ``(x, rx, y, ry)`` covering the upper half of the ellipse's boundary (chord boxes plus sagitta)."""
    sag = math.cosh(s) * (math.pi / n) ** 2 / 8 + 1e-12
    for i in range(n):
        x0, y0 = _ellipse_point(s, math.pi * i / n)
        x1, y1 = _ellipse_point(s, math.pi * (i + 1) / n)
        yield ((x0 + x1) / 2, abs(x1 - x0) / 2 + sag, (y0 + y1) / 2, abs(y1 - y0) / 2 + sag)


def _interior_boxes(s: float, h: float):
    """Square boxes of side ``2h`` covering the filled upper half ellipse."""
    A, B = math.cosh(s), math.sinh(s)
    ny = max(1, int(math.ceil(B / (2 * h))))
    hy = B / (2 * ny)
    for j in range(ny):
        y0 = j * 2 * hy
        xm = A * math.sqrt(max(1 - (y0 / B) ** 2, 0.0))
        nx = max(1, int(math.ceil(xm / h)))
        for i in range(nx):
            yield (-xm + (2 * i + 1) * xm / nx, xm / nx, y0 + hy, hy)


def _meets_ellipse(box, s: float) -> bool:
    xr, rx, yi, ry = box
    x, y = max(abs(xr) - rx, 0.0), max(abs(yi) - ry, 0.0)
    return (x / math.cosh(s)) ** 2 + (y / math.sinh(s)) ** 2 <= 1 + 1e-9


def _check_box(ev, box, aa, half, s: float, depth: int = 0) -> None:
    """Raise :class:`_Cut` unless ``Phi`` is proven analytic where the box meets the ellipse (bisecting up to 4 times)."""
    from flint import acb, arb

    if not _meets_ellipse(box, s):
        return
    xr, rx, yi, ry = box
    try:
        if not ev(half + acb(aa * arb(xr, rx), aa * arb(yi, ry))).is_finite():
            raise _Cut
    except (_Cut, ValueError, ZeroDivisionError):
        if depth >= 4:
            raise _Cut
        for dx in (-0.5, 0.5):
            for dy in (-0.5, 0.5):
                _check_box(ev, (xr + dx * rx, rx / 2, yi + dy * ry, ry / 2), aa, half, s, depth + 1)


def _box_max(ev, box, aa, half, d: int, depth: int = 0):
    """Upper bound of ``|Phi(cos theta) sin^{d-2} theta|`` on a box (bisected while the enclosure is loose)."""
    from flint import acb, arb

    xr, rx, yi, ry = box
    u, v = aa * arb(xr, rx), aa * arb(yi, ry)
    try:
        phi = ev(half + acb(u, v))
        loose = not phi.is_finite() or abs(phi).upper() > 2 * abs(phi.mid()).upper() + 1e-30
    except (_Cut, ValueError, ZeroDivisionError):
        loose, phi = True, None
    if loose and depth < 4:
        return _max4([_box_max(ev, (xr + dx * rx, rx / 2, yi + dy * ry, ry / 2), aa, half, d, depth + 1)
                      for dx in (-0.5, 0.5) for dy in (-0.5, 0.5)])
    if phi is None or not phi.is_finite():
        raise _Cut
    sin2 = u.cos() ** 2 + v.sinh() ** 2  # |sin theta|^2 = |cos(u + iv)|^2
    m = abs(phi).upper() * (sin2.upper() ** (arb(d - 2) / 2) if d > 2 else arb(1))
    return arb(m.upper())


def _max4(values):
    out = values[0]
    for v in values[1:]:
        out = out.max(v)
    return out


@lru_cache(maxsize=64)
def _ellipse_maxima(kern, d: int, a: float) -> tuple:
    """``(s, M(s))`` for the ellipses on which ``Phi(cos theta) sin^{d-2} theta`` is proven analytic.

    ``M`` is rounded up to a float (still an upper bound).  The enclosures cost about 0.6 s, so
    built-in activations keep them in the versioned cache folder (:mod:`spectra._disk_cache`),
    whose folder name changes with the code of :mod:`spectra.analytic`.
    """
    from flint import arb

    ev = _evaluator(kern)
    if ev is None:
        return ()
    act = kern.activation
    key = None
    if act.dispatch != Dual.NONE or kern.depth == 0:  # built-in closed forms: the name says it all
        key = (f"{act.name}|{act.dispatch.name}|{act.dispatch_params!r}|L={kern.depth}|wv={kern.weight_var!r}|"
               f"bv={kern.bias_var!r}|{kern.kind}|d={d}|a={a!r}|S={_S_GRID}|bits={_BITS}")
        hit = _disk_cache.lookup("sphere-ellipse", _SOURCES, key)
        if isinstance(hit, list) and all(isinstance(x, list) and len(x) == 2 for x in hit):
            return tuple((float(s), arb(float(m))) for s, m in hit)
    out = [(s, math.nextafter(float(M.upper()), math.inf)) for s, M in _ellipse_maxima_arb(ev, d, a)]
    if key is not None:
        _disk_cache.store("sphere-ellipse", _SOURCES, key, [list(x) for x in out])
    return tuple((s, arb(m)) for s, m in out)


def _ellipse_maxima_arb(ev, d: int, a: float) -> tuple:
    """The enclosures behind :func:`_ellipse_maxima`, as Arb balls; ``ev`` from :func:`_evaluator`.

    Analyticity is checked on boxes covering the filled half ellipse; the maximum (attained on the
    boundary) is enclosed on small boxes covering the boundary.
    """
    from flint import arb, ctx

    old = ctx.prec
    ctx.prec = _BITS
    out = []
    try:
        half = arb.pi() / 2
        aa = half if a >= math.pi / 2 else arb(a)
        for s in _S_GRID:
            M = arb(0)
            try:
                for box in _interior_boxes(s, 0.1):
                    _check_box(ev, box, aa, half, s)
                for box in _boundary_boxes(s, 96):
                    M = M.max(_box_max(ev, box, aa, half, d))
            except (_Cut, ValueError, ZeroDivisionError):
                break  # larger ellipses contain this one
            if not M < 1e30:
                break
            out.append((s, M))
    finally:
        ctx.prec = old
    return tuple(out)


def gl_error_bounds(kern, d: int, K: int, N: int, a: float):
    """Upper bounds (Arb, radius 0) on ``|lambda_k(exact on the interval) - lambda_k(N-point rule)|``, k <= K.

    ``None`` when no analytic enclosure is available for this kernel (see the module docstring).
    """
    from flint import arb, ctx

    maxima = _ellipse_maxima(kern, d, float(a))
    if not maxima:
        return None
    old = ctx.prec
    ctx.prec = _BITS
    try:
        pi = arb.pi()
        aa = pi / 2 if a >= math.pi / 2 else arb(a)
        cd = (arb(d) / 2).gamma() / (pi.sqrt() * ((arb(d) - 1) / 2).gamma())
        best = [arb("inf")] * (K + 1)
        for s, M in maxima:
            rho = arb(s).exp()
            base = arb(16) / 3 * aa * cd * M * rho ** (-2 * N) / (1 - 1 / rho)
            grow = (aa * arb(s).sinh()).exp()  # e^{a sinh(s)} per degree
            e = base
            for k in range(K + 1):
                best[k] = best[k].min(arb(e.upper()))
                e = e * grow
        return [arb(b.upper()) for b in best]
    finally:
        ctx.prec = old
