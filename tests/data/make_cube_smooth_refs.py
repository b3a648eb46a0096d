"""Independent references for the smooth activations' cube spectra at d = 8, 16, 32, 64
(tests/test_cube_smooth_reference.py).

Method (no Hermite coefficients and no Mehler series, unlike the package's spectra.analytic._mehler
and the older tests/data/make_smooth_reference.py):

* On the cube the kernel is only needed at the d + 1 correlations c_j = 1 - 2j/d; those of
  d = 8, 16, 32 are among the 65 of d = 64, so one set of kernel values serves every d.
* Each dual E[f(u) f(v)] and E[f'(u) f'(v)], (u, v) ~ N(0, [[q, r], [r, q]]), is a 2-D integral,
  done by the 2-D trapezoidal rule on the square lattice (h Z)^2 in the (u, v) plane itself, truncated
  to |u|, |v| <= L, in Arb ball arithmetic (python-flint, 300 bits).  The bivariate Gaussian weight is
  e_i e_j R^(i j) with e_i = exp(-u_i^2 / D), D = 2 (q^2 - r^2)/q, R = exp(2 r h^2 / (q D)), so the sum
  over v is a polynomial in R^i (evaluated in C by arb_poly).  The integrand is analytic in the
  strip |Im u| < pi/2 (tanh) or pi (sigmoid, softplus, swish), so the rule converges geometrically;
  h is chosen from the Poisson-summation error model exp(-2 pi a / h + a^2 / D) (and the anti-diagonal
  term for |rho| near 1) for about 65 digits, and L from the Gaussian tail.
* Accuracy is verified by a second rule (step 0.8 h, L 5 % larger): the difference of the two, plus
  the Arb radii, is stored per eigenvalue as the reference's own uncertainty ``mu_err``.
* Correlation 1 (and -1 when sigma_b^2 = 0) is a 1-D integral E[f(u) f(+-u)], u ~ N(0, q), done by
  the 1-D trapezoidal rule (two steps) and checked against mpmath.quad (tanh-sinh).
* The recursion Sigma^(l+1) = wv E[f f] + bv, Theta^(l+1) = Sigma^(l+1) + wv E[f' f'] Theta^(l), with
  Sigma^1 = Theta^1 = wv c + bv (spectra.conventions()), composed on the balls.
* mu_k = 2^-d sum_j K_j(k) Phi(c_j), K_j(k) = [s^j] (1 - s)^k (1 + s)^(d - k), summed exactly in
  rationals from the ball midpoints (no cancellation loss), printed with 90 digits.
* Self-checks: the float64 kernel of spectra.analytic.MLPKernel at every c_j (conventions), printed
  while running; and ``python tests/data/make_cube_smooth_refs.py check``: nested mpmath.quad
  (tanh-sinh, 25 digits, another library and rule) at one layer-1 correlation per activation, and
  the 1-D moments at correlation +-1.

Run:  python tests/data/make_cube_smooth_refs.py   (about 10 minutes on one core; writes
      cube_smooth_refs.json next to this file)
"""
from __future__ import annotations

import json
import math
import sys
import time
from fractions import Fraction
from pathlib import Path

import mpmath
from flint import arb, arb_poly, ctx

PREC = 300           # bits of the Arb quadrature
TARGET = 150.0       # nats of the quadrature error model (about 65 digits)
DMAX = 64
DIMS = (8, 16, 32, 64)
WV = 2.0
DIGITS = 90          # decimal digits stored (the package's bounds reach 1e-55 relative)
OUT = Path(__file__).with_name("cube_smooth_refs.json")


# ---------------------------------------------------------------- activations, by hand, in Arb
def _sig(x):
    return 1 / (1 + (-x).exp())


def f_tanh(x):
    t = x.tanh()
    return t, 1 - t * t


def f_sigmoid(x):
    s = _sig(x)
    return s, s * (1 - s)


def f_softplus(x):
    sp = x + (-x).exp().log1p() if x > 0 else x.exp().log1p()
    return sp, _sig(x)


def f_swish(x):
    s = _sig(x)
    return x * s, s * (1 + x * (1 - s))


ACTS = {"tanh": (f_tanh, math.pi / 2), "sigmoid": (f_sigmoid, math.pi),
        "softplus": (f_softplus, math.pi), "swish": (f_swish, math.pi)}  # (f, distance of the nearest singularity)

MP_ACTS = {  # the same in mpmath, for the independent spot checks
    "tanh": (mpmath.tanh, lambda x: 1 - mpmath.tanh(x) ** 2),
    "sigmoid": (lambda x: 1 / (1 + mpmath.exp(-x)), lambda x: mpmath.exp(-x) / (1 + mpmath.exp(-x)) ** 2),
    "softplus": (lambda x: mpmath.log1p(mpmath.exp(x)), lambda x: 1 / (1 + mpmath.exp(-x))),
    "swish": (lambda x: x / (1 + mpmath.exp(-x)),
              lambda x: 1 / (1 + mpmath.exp(-x)) + x * mpmath.exp(-x) / (1 + mpmath.exp(-x)) ** 2),
}


# ---------------------------------------------------------------- the lattice rules
_values = {}


def lattice_values(name, h, M):
    """f and f' at u_i = i h, |i| <= M (cached: the lattice does not depend on the correlation)."""
    key = (name, h, M)
    if key not in _values:
        f = ACTS[name][0]
        ah = arb(h)
        _values[key] = [f(ah * i) for i in range(-M, M + 1)]
    return _values[key]


def _best_exponent(coef, quad, amax):
    """max over 0 < a <= amax of coef a - quad a^2 (the Poisson error exponent)."""
    a = min(amax, coef / (2 * quad))
    return coef * a - quad * a * a


def design(q, r, tau, target=TARGET):
    """Step h and half-width L of the 2-D rule for (u, v) ~ N(0, [[q, r], [r, q]]) (floats)."""
    rho = r / q
    D = 2 * (q * q - r * r) / q
    amax = 0.9 * tau
    h = 1.0
    while True:
        e1 = _best_exponent(2 * math.pi / h, 1 / D, amax)                 # lattice point (2 pi/h)(1, 0)
        e2 = _best_exponent(4 * math.pi / h, 1 / (q * (1 - abs(rho))), amax)  # (2 pi/h)(1, -+1)
        if min(e1, e2) >= target:
            break
        h *= 0.98
    L = math.sqrt(2 * q * (target + 10))
    return h, L


def duals_2d(name, q, r, h, L):
    """(E[f(u) f(v)], E[f'(u) f'(v)]) by the 2-D trapezoidal rule on (h Z)^2 within |u|, |v| <= L."""
    M = int(math.ceil(L / h))
    vals = lattice_values(name, h, M)
    ah = arb(h)
    det = q * q - r * r
    D = 2 * det / q
    logR = 2 * r * ah * ah / (q * D)
    e = [(-(ah * i) ** 2 / D).exp() for i in range(-M, M + 1)]
    out = []
    for which in (0, 1):
        g = [v[which] * w for v, w in zip(vals, e)]     # coefficient k <-> node i = k - M
        poly = arb_poly(g)
        total = arb(0)
        for k, i in enumerate(range(-M, M + 1)):
            if g[k] == 0:
                continue
            x = (logR * i).exp()
            total += g[k] * (logR * (-i * M)).exp() * poly(x)
        out.append(total * ah * ah / (2 * arb.pi() * det.sqrt()))
    return tuple(out)


def duals_1d(name, q, sign, h):
    """(E[f(u) f(sign u)], E[f'(u) f'(sign u)]), u ~ N(0, q), by the 1-D trapezoidal rule."""
    f = ACTS[name][0]
    M = int(math.ceil(math.sqrt(2 * float(q.mid()) * (TARGET + 10)) / h))
    ah = arb(h)
    s0 = s1 = arb(0)
    for i in range(-M, M + 1):
        u = ah * i
        a, b = f(u), f(sign * u)
        w = (-(u * u) / (2 * q)).exp()
        s0 += a[0] * b[0] * w
        s1 += a[1] * b[1] * w
    norm = ah / (2 * arb.pi() * q).sqrt()
    return s0 * norm, s1 * norm


def mp_dual_1d(name, q, sign):
    """The same 1-D moments with mpmath.quad (tanh-sinh), an independent library and rule."""
    f, df = MP_ACTS[name]
    q = mpmath.mpf(q)
    dens = lambda u: mpmath.exp(-u * u / (2 * q)) / mpmath.sqrt(2 * mpmath.pi * q)
    return (mpmath.quad(lambda u: f(u) * f(sign * u) * dens(u), [-mpmath.inf, -5, 0, 5, mpmath.inf]),
            mpmath.quad(lambda u: df(u) * df(sign * u) * dens(u), [-mpmath.inf, -5, 0, 5, mpmath.inf]))


def mp_dual_2d(name, q, r):
    """E[f(u) f(v)] and E[f'(u) f'(v)] by nested mpmath.quad after the Cholesky change of variables."""
    f, df = MP_ACTS[name]
    q, r = mpmath.mpf(q), mpmath.mpf(r)
    sq = mpmath.sqrt(q)
    rho = r / q
    s = mpmath.sqrt(1 - rho * rho)
    phi = lambda z: mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)
    pts = [-mpmath.inf, -4, 0, 4, mpmath.inf]
    out = []
    for g in (f, df):
        inner = lambda z1: g(sq * z1) * phi(z1) * mpmath.quad(lambda z2: g(sq * (rho * z1 + s * z2)) * phi(z2), pts)
        out.append(mpmath.quad(inner, pts))
    return out


# ---------------------------------------------------------------- the kernel on the 65 correlations
def kernel_values(name, bv, fine=True, log=None):
    """Arb balls of CK and NTK at depth 1 and 2 at c_j = 1 - j/32, j = 0..64 (one quadrature rule)."""
    tau = ACTS[name][1]
    wv, bva = arb(WV), arb(bv)
    assert bva.rad() == 0  # the float bias variance, exactly, as the package takes it
    cs = [1 - arb(j) / 32 for j in range(DMAX + 1)]
    sigma = [wv * c + bva for c in cs]
    theta = list(sigma)
    q = wv + bva
    res = {}
    for depth in (1, 2):
        new_sigma, new_theta = [], []
        for j in range(DMAX + 1):
            r = sigma[j]
            if j == 0 or (bv == 0 and j == DMAX):
                sign = 1 if j == 0 else -1
                h1 = 0.02 if fine else 0.025
                ef, ed = duals_1d(name, q, sign, h1)
            else:
                h, L = design(float(q.mid()), float(r.mid()), tau)
                if not fine:
                    h, L = 0.8 * h, 1.05 * L
                ef, ed = duals_2d(name, q, r, h, L)
            s_new = wv * ef + bva
            new_sigma.append(s_new)
            new_theta.append(s_new + wv * ed * theta[j])
        if log:
            log(f"  {name} bv={bv} depth {depth} {'fine' if fine else 'coarse'} rule done")
        sigma, theta = new_sigma, new_theta
        q = sigma[0]
        res[(depth, "ck")] = list(sigma)
        res[(depth, "ntk")] = list(theta)
    return res


def _exact(x: arb) -> Fraction:
    man, exp = x.mid().man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** -exp)


def krawtchouk_rows(d):
    """K_j(k) for k, j = 0..d: coefficient of s^j in (1 - s)^k (1 + s)^(d - k), exact integers."""
    rows = []
    for k in range(d + 1):
        poly = [1]
        for factor in [(1, -1)] * k + [(1, 1)] * (d - k):
            nxt = [0] * (len(poly) + 1)
            for i, a in enumerate(poly):
                nxt[i] += a * factor[0]
                nxt[i + 1] += a * factor[1]
            poly = nxt
        rows.append(poly)
    return rows


def eigenvalues(phi_exact, d):
    """Exact rational mu_k = 2^-d sum_j K_j(k) Phi_j."""
    return [sum(K * p for K, p in zip(row, phi_exact)) / 2 ** d for row in krawtchouk_rows(d)]


def _s(x: Fraction, digits=None) -> str:
    digits = digits or DIGITS
    with mpmath.workdps(digits + 10):
        return mpmath.nstr(mpmath.mpf(x.numerator) / x.denominator, digits)


# ---------------------------------------------------------------- main
def main(names=("tanh", "softplus", "sigmoid", "swish")):
    ctx.prec = PREC
    t0 = time.time()
    log = lambda msg: print(f"[{time.time() - t0:7.1f}s] {msg}", file=sys.stderr, flush=True)
    from spectra.analytic import MLPKernel  # conventions check only (float64)

    data = {"method": __doc__.split("\n\n")[1].replace("\n", " "), "weight_var": WV, "prec_bits": PREC,
            "target_nats": TARGET, "cases": [], "checks": []}
    jobs = [(n, 0.1) for n in names] + [("tanh", 0.0)]
    for name, bv in jobs:
        fine = kernel_values(name, bv, True, log)
        coarse = kernel_values(name, bv, False, log)
        for (depth, kind), phis in fine.items():
            phis2 = coarse[(depth, kind)]
            rad = max(float(p.rad()) for p in phis) + max(float(p.rad()) for p in phis2)
            # conventions: the package's float64 kernel at every c_j
            try:
                kern = MLPKernel(name, depth=depth, weight_var=WV, bias_var=bv, kind=kind)
                f64 = [float(kern(1 - j / 32)) for j in range(DMAX + 1)]
                conv = max(abs(a - float(p.mid())) / abs(float(p.mid())) for a, p in zip(f64, phis) if p != 0)
            except Exception as exc:  # the package is not needed for the references themselves
                log(f"MLPKernel check skipped: {exc!r}")
                conv = float("nan")
            quad_diff = max(abs(float((a - b).mid())) for a, b in zip(phis, phis2))
            data["checks"].append(dict(activation=name, bias_var=bv, depth=depth, kernel=kind,
                                       max_rel_diff_float64_MLPKernel=conv, max_abs_diff_two_rules=quad_diff,
                                       max_radius=rad))
            log(f"{name} bv={bv} L={depth} {kind}: vs MLPKernel float64 {conv:.1e}, two rules differ by "
                f"{quad_diff:.1e}, radius {rad:.1e}")
            ex1 = [_exact(p) for p in phis]
            ex2 = [_exact(p) for p in phis2]
            for d in DIMS if bv else (32, 64):
                step = DMAX // d
                m1 = eigenvalues(ex1[::step], d)
                m2 = eigenvalues(ex2[::step], d)
                # own uncertainty: the two rules' difference, the balls' radii, and the decimal rounding below
                err = [abs(a - b) + Fraction(rad) + abs(a) / 10 ** (DIGITS - 1) for a, b in zip(m1, m2)]
                data["cases"].append(dict(activation=name, bias_var=bv, depth=depth, kernel=kind, dim=d,
                                          mu=[_s(x) for x in m1], mu_err=[_s(x, 3) for x in err],
                                          phi=[_s(x) for x in ex1[::step]]))
        OUT.write_text(json.dumps(data, indent=1))
    log(f"wrote {OUT}")


def _mp(x: arb):
    return mpmath.mpf(x.mid().str(80, radius=False))


def spot_checks(points=(("tanh", 1), ("softplus", 20), ("sigmoid", 40), ("swish", 63))):
    """The Arb lattice rule against nested mpmath.quad (25 digits) at one correlation of layer 1 per
    activation, and the 1-D moments against mpmath.quad; prints relative differences (run:
    python tests/data/make_cube_smooth_refs.py check; a few minutes per 2-D point)."""
    ctx.prec = PREC
    mpmath.mp.dps = 25
    q = arb(WV) + arb(0.1)
    rel = lambda x, y: mpmath.nstr(abs(_mp(x) - y) / abs(y), 3)
    for name, j in points:
        for sign in (1, -1):
            a = duals_1d(name, q, sign, 0.02)
            b = mp_dual_1d(name, _mp(q), sign)
            print(name, "1-D, correlation", sign, "rel. diff", [rel(x, y) for x, y in zip(a, b)], flush=True)
        r = arb(WV) * (1 - arb(j) / 32) + arb(0.1)
        h, L = design(float(q.mid()), float(r.mid()), ACTS[name][1])
        a = duals_2d(name, q, r, h, L)
        t = time.time()
        b = mp_dual_2d(name, _mp(q), _mp(r))
        print(name, "2-D, c =", 1 - j / 32, "rel. diff", [rel(x, y) for x, y in zip(a, b)],
              f"({time.time() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["check"]:
        spot_checks()
    else:
        main()
