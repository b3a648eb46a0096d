"""Independent references for the smooth activations' cube spectra (tests/test_accuracy.py).

Method (independent of spectra.analytic._mehler, which uses the trapezoidal rule in Arb):
Gauss-Hermite quadrature in mpmath (nodes by mpmath.gauss_quadrature, Golub-Welsch) for the Hermite
coefficients b_k(q) = E[f(sqrt(q) Z) h_k(Z)], all k < N, Mehler's series summed in mpmath, the
values at correlation +-1 as 1-D Gauss-Hermite sums, the CK/NTK recursion in mpmath, and the cube
eigenvalues by the exact Krawtchouk sum mu_k = 2^-d sum_j K_j(k) Phi(1 - 2j/d) in mpmath.  Two
node counts (N and 1.3 N) are both stored; the tests use the larger and require the two to agree.

Run:  python tests/data/make_smooth_reference.py   (a few minutes; writes smooth_reference.json)
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import mpmath

DPS = 60
DIMS = (8, 16)
WV, BV = mpmath.mpf(2), mpmath.mpf(0.1)  # the float 0.1 exactly, as the package takes it


def _sig(x):
    return 1 / (1 + mpmath.exp(-x))


def _softplus(x):
    return mpmath.log1p(mpmath.exp(x)) if x < 0 else x + mpmath.log1p(mpmath.exp(-x))


def _mish(x):
    return x * mpmath.tanh(_softplus(x))


def _mish_der(x):  # tanh(sp) + x sech^2(sp) sigmoid(x), by hand (independent of sympy)
    t = mpmath.tanh(_softplus(x))
    return t + x * (1 - t * t) * _sig(x)


FNS = {
    "tanh": (mpmath.tanh, lambda x: 1 - mpmath.tanh(x) ** 2),
    "softplus": (lambda x: mpmath.log1p(mpmath.exp(x)) if x < 0 else x + mpmath.log1p(mpmath.exp(-x)), _sig),
    "sigmoid": (_sig, lambda x: _sig(x) * (1 - _sig(x))),
    "swish": (lambda x: x * _sig(x), lambda x: _sig(x) * (1 + x * (1 - _sig(x)))),
    "mish": (_mish, _mish_der),  # only with the command-line argument "mish" (d = 16, merged into the file)
}


def gh_rule(n):
    # physicists' nodes/weights for e^{-t^2}; Z = sqrt(2) t, E[g(Z)] = sum w g(sqrt2 t) / sqrt(pi)
    t, w = mpmath.gauss_quadrature(n, "hermite")
    s2 = mpmath.sqrt(2)
    return [s2 * x for x in t], [x / mpmath.sqrt(mpmath.pi) for x in w]


def coefficients(f, q, z, w):
    n = len(z)
    sq = mpmath.sqrt(q)
    g = [wi * f(sq * zi) for zi, wi in zip(z, w)]
    h0 = [mpmath.mpf(1)] * n
    h1 = list(z)
    b = [mpmath.fsum(a * c for a, c in zip(g, h0)), mpmath.fsum(a * c for a, c in zip(g, h1))]
    for k in range(1, n - 1):
        sk, sk1 = mpmath.sqrt(k), mpmath.sqrt(k + 1)
        h0, h1 = h1, [(zi * a - sk * c) / sk1 for zi, a, c in zip(z, h1, h0)]
        b.append(mpmath.fsum(a * c for a, c in zip(g, h1)))
    return b


def moment(f1, f2, q, sign, z, w):
    sq = mpmath.sqrt(q)
    return mpmath.fsum(wi * f1(sq * zi) * f2(sign * sq * zi) for zi, wi in zip(z, w))


def dual(f, q, rho, z, w, cache):
    if rho == 1 or rho == -1:
        return moment(f, f, q, int(rho), z, w)
    key = (id(f), q)
    if key not in cache:
        cache[key] = coefficients(f, q, z, w)
    b = cache[key]
    return mpmath.fsum(bk * bk * rho ** k for k, bk in enumerate(b))


def kernel_values(name, depth, kind, d, z, w):
    f, df = FNS[name]
    cache = {}
    cs = [1 - mpmath.mpf(2 * j) / d for j in range(d + 1)]
    q = WV + BV
    sig = [WV * c + BV for c in cs]
    theta = list(sig)
    for _ in range(depth):
        rho = [s / q for s in sig]
        vc = [dual(f, q, r, z, w, cache) for r in rho]
        if kind == "ntk":
            vd = [dual(df, q, r, z, w, cache) for r in rho]
            theta = [WV * a + BV + WV * b * t for a, b, t in zip(vc, vd, theta)]
        sig = [WV * a + BV for a in vc]
        q = WV * moment(f, f, q, 1, z, w) + BV
    return theta if kind == "ntk" else sig


def eigenvalues(phi, d):
    out = []
    for k in range(d + 1):
        # Krawtchouk K_j(k) = sum_i (-1)^i C(k, i) C(d - k, j - i)
        s = mpmath.mpf(0)
        for j in range(d + 1):
            kj = sum((-1) ** i * math.comb(k, i) * math.comb(d - k, j - i) for i in range(0, min(k, j) + 1))
            s += kj * phi[j]
        out.append(s / mpmath.mpf(2) ** d)
    return out


def main(path=Path(__file__).with_name("smooth_reference.json"), n=400, names=("tanh", "softplus", "sigmoid", "swish"),
         dims=DIMS):
    mpmath.mp.dps = DPS
    rules = {m: gh_rule(m) for m in (n, int(1.3 * n))}
    data = {"method": __doc__.splitlines()[2], "dps": DPS, "weight_var": 2.0, "bias_var": 0.1, "nodes": sorted(rules),
            "cases": []}
    if path.exists() and names == ("mish",):
        data = json.loads(path.read_text())
        data["cases"] = [c for c in data["cases"] if c["activation"] != "mish"]
    for name in names:
        for depth in (1, 2):
            for kind in ("ck", "ntk"):
                for d in dims:
                    mus = [eigenvalues(kernel_values(name, depth, kind, d, *rules[m]), d) for m in sorted(rules)]
                    data["cases"].append(dict(activation=name, depth=depth, kernel=kind, dim=d,
                                              mu=[mpmath.nstr(x, 40) for x in mus[-1]],
                                              mu_fewer_nodes=[mpmath.nstr(x, 40) for x in mus[0]]))
                    print(name, depth, kind, d, file=sys.stderr, flush=True)
    path.write_text(json.dumps(data, indent=1))


if __name__ == "__main__":
    if sys.argv[1:] == ["mish"]:
        main(names=("mish",), dims=(16,))
    else:
        main()
