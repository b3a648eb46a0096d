"""Independent references for the new closed-form duals (tests/test_new_closed_forms.py).

Method (independent of the closed forms in spectra.analytic.closed_forms_extra and _elu): the
bivariate expectation E[f(u) f(v)], (u, v) centred Gaussian with variances v1, v2 and covariance c,
as a 2-D integral in mpmath at 40 digits after the Cholesky change of variables
u = sqrt(v1) z1, v = (c/sqrt(v1)) z1 + s z2, s = sqrt(v2 - c^2/v1), with (z1, z2) independent standard
normals, on [-16, 16]^2, by Gauss-Legendre rules (nodes from mpmath.gauss_quadrature) on pieces:
split at the kinks of f (the lines u = 0 and v = 0), into lengths of at most 4, and on a mesh graded
towards the kink at the scale s/|a| over which the inner integral smooths it, so that every piece is
smooth and the rule converges geometrically. The Gaussian and the scaled erf (analytic integrands that
are narrow Gaussians) use the 2-D Gauss-Hermite rule in (z1, z2) instead. At |rho| = 1 (s = 0) it is the 1-D integral over z1. The same for f' (the
derivative dual). Each value is computed with two node counts and both are stored (keys ..._lo and
..._hi); the tests use the larger and require the two to agree to 1e-20 relative.

Run:  python tests/data/make_closed_form_refs.py   (a few minutes; writes closed_form_refs.json)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import mpmath as mp

#: (v1, v2, c): exact binary floats; rho = c / sqrt(v1 v2) is 0.3, -0.49, 0.994, +1 and -1
POINTS = [(1.0, 1.0, 0.3), (0.7, 2.3, -0.62), (1.5, 0.4, 0.77), (2.0, 2.0, 2.0), (0.5, 2.0, -1.0)]


def _relu_pow(n):
    return (lambda x: x**n if x > 0 else mp.mpf(0)), (lambda x: n * x ** (n - 1) if x > 0 else mp.mpf(0))


def _elu(alpha):
    a = mp.mpf(alpha)
    return (lambda x: x if x > 0 else a * mp.expm1(x)), (lambda x: mp.mpf(1) if x > 0 else a * mp.exp(x))


def _poly(coef):
    cs = [mp.mpf(a) for a in coef]
    ds = [j * cs[j] for j in range(1, len(cs))]
    return (lambda x: mp.polyval(cs[::-1], x)), (lambda x: mp.polyval(ds[::-1], x))


# name: (f, f', kinks of f) -- mpmath functions written from the definitions, not from the duals
FNS = {
    "relu_power(2)": (*_relu_pow(2), [0]),
    "relu_power(3)": (*_relu_pow(3), [0]),
    "sign": (lambda x: mp.sign(x), None, [0]),
    "exp": (mp.exp, mp.exp, []),
    "gaussian": (lambda x: mp.exp(-x * x), lambda x: -2 * x * mp.exp(-x * x), []),
    "scaled_erf(1.5, 0.7, -0.4)": (lambda x: mp.mpf(1.5) * mp.erf(mp.mpf(0.7) * x) + mp.mpf(-0.4),
                                   lambda x: mp.mpf(1.5) * mp.mpf(0.7) * 2 / mp.sqrt(mp.pi) * mp.exp(-(mp.mpf(0.7) * x) ** 2),
                                   []),
    "polynomial(0.5, -1, 0.25, 0, 0.125)": (*_poly([0.5, -1, 0.25, 0, 0.125]), []),
    "elu": (*_elu(1.0), [0]),
    "elu(0.5)": (*_elu(0.5), [0]),
}


def _gl(n):
    """Gauss-Legendre nodes and weights on [-1, 1] (mpmath, Golub-Welsch), cached per (n, dps)."""
    key = (n, mp.mp.dps)
    if key not in _GL:
        _GL[key] = mp.gauss_quadrature(n, "legendre")
    return _GL[key]


_GL = {}
L = 16  # |z| <= 16: the Gaussian tail beyond it is below 1e-55 (times at most e^{3 |z|} here)


_piece = [4]

#: analytic integrands that are themselves narrow Gaussians (e^{-x^2}, erf(0.7 x)'): 2-D Gauss-Hermite
#: scaled to their width (see gauss_hermite), which converges geometrically for them, instead of
#: piecewise Legendre
GAUSS_HERMITE = {"gaussian": 1, "scaled_erf(1.5, 0.7, -0.4)": mp.mpf("0.1")}  # name: the width in gauss_hermite


def gauss_hermite(f, v1, v2, c, n, width=1):
    """E[f(u) f(v)] by an n x n Gauss-Hermite rule in (z1, z2), each axis scaled to the integrand.

    ``f`` decays like ``e^{-width x^2}`` (``width`` = 1 for e^{-x^2}; 0.1 for the scaled erf, a compromise
    between erf, which does not decay, and its derivative), so along z1 the integrand is about ``exp(-z1^2/2 - width (v1 + a^2) z1^2)``: the nodes are
    scaled by ``lam = (1 + 2 width (v1 + a^2))^(-1/2)`` (and likewise along z2 with ``s^2``), so that the
    rule sees an O(1)-wide Gaussian times a slowly varying factor and converges geometrically.
    """
    t, w = mp.gauss_quadrature(n, "hermite")  # physicists' rule for e^{-t^2}: z = sqrt(2) t
    z = [mp.sqrt(2) * x for x in t]
    w = [x / mp.sqrt(mp.pi) for x in w]
    v1, v2, c = mp.mpf(v1), mp.mpf(v2), mp.mpf(c)
    r1 = mp.sqrt(v1)
    a = c / r1
    s2 = max(v2 - c * c / v1, mp.mpf(0))
    s = mp.sqrt(s2)

    def axis(var):
        # nodes lam*z and weights lam * w * e^{z^2/2 - (lam z)^2/2}: the rule for the weight e^{-x^2/2}/sqrt(2 pi)
        lam = 1 / mp.sqrt(1 + 2 * width * var)
        return [lam * zi for zi in z], [lam * wi * mp.exp(zi * zi * (1 - lam * lam) / 2) for zi, wi in zip(z, w)]

    x1, w1 = axis(v1 + a * a)
    if s2 == 0:
        return mp.fsum(wi * f(r1 * zi) * f(a * zi) for zi, wi in zip(x1, w1))
    x2, w2 = axis(s2)
    return mp.fsum(wi * f(r1 * zi) * mp.fsum(wj * f(a * zi + s * zj) for zj, wj in zip(x2, w2))
                   for zi, wi in zip(x1, w1))


def bivariate(f, kinks, v1, v2, c, n):
    """E[f(u) f(v)]: Gauss-Legendre with n nodes per smooth piece in z1 and in z2 (current mp.dps)."""
    v1, v2, c = mp.mpf(v1), mp.mpf(v2), mp.mpf(c)
    norm = 1 / mp.sqrt(2 * mp.pi)
    r1 = mp.sqrt(v1)
    a = c / r1
    s2 = v2 - c * c / v1
    outer = [mp.mpf(k) / r1 for k in kinks]
    if s2 <= 0:  # |rho| = 1: v = a z1 exactly
        outer += [mp.mpf(k) / a for k in kinks]
        return _pieces(lambda z: f(r1 * z) * f(a * z) * norm * mp.exp(-z * z / 2), outer, n)
    s = mp.sqrt(s2)

    if kinks and a != 0:
        # inner(z1) smooths f's kink over a width s/|a| around z1 = kink/a: a graded mesh keeps GL geometric
        w = s / abs(a)
        outer += [mp.mpf(k) / a + sgn * w * mp.mpf(2) ** j for k in kinks for sgn in (-1, 1) for j in range(-4, 8)]

    def inner(z1):
        return _pieces(lambda z2: f(a * z1 + s * z2) * norm * mp.exp(-z2 * z2 / 2),
                       [(mp.mpf(k) - a * z1) / s for k in kinks], n)

    return _pieces(lambda z1: f(r1 * z1) * inner(z1) * norm * mp.exp(-z1 * z1 / 2), outer, n)


DPS = 40
NODES = (20, 28)
GH_NODES = (80, 100)


def main(names=None):
    mp.mp.dps = DPS
    out_path = Path(__file__).with_name("closed_form_refs.json")
    data = json.loads(out_path.read_text()) if out_path.exists() else {}
    data["_method"] = ("2-D Gauss-Legendre in mpmath (40 digits) on [-16, 16]^2 after the Cholesky change of "
                       f"variables, split at the kinks, into pieces of length 4 and graded towards the kinks; "
                       f"{NODES[0]} (lo) and {NODES[1]} (hi) nodes per piece; for {', '.join(GAUSS_HERMITE)}: "
                       f"2-D Gauss-Hermite with {GH_NODES[0]} (lo) and {GH_NODES[1]} (hi) nodes per axis")
    data["_points"] = [list(p) for p in POINTS]
    for name in names or FNS:
        f, df, kinks = FNS[name]
        gh = name in GAUSS_HERMITE
        rule = (lambda g, v1, v2, c, n: gauss_hermite(g, v1, v2, c, n, GAUSS_HERMITE[name])) if gh else \
            (lambda g, v1, v2, c, n: bivariate(g, kinks, v1, v2, c, n))
        rows = []
        for v1, v2, c in POINTS:
            row = {}
            for tag, n in zip(("lo", "hi"), GH_NODES if gh else NODES):
                row[f"dual_{tag}"] = mp.nstr(rule(f, v1, v2, c, n), DPS - 5)
                if df is not None:
                    row[f"derivative_{tag}"] = mp.nstr(rule(df, v1, v2, c, n), DPS - 5)
            rows.append(row)
            print(name, (v1, v2, c), {k: v[:22] for k, v in row.items()}, flush=True)
        data[name] = rows
    out_path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:] or None)
