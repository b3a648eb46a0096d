"""Certified references for the tiny-bias scan of tests/test_wrong_numbers.py (issue 15).

relu, abs, leaky_relu(0.1), step; d in {2, 3, 4, 6, 8, 10, 12}; depth 1 and 2; sigma_w^2 = 2;
sigma_b^2 = 1e-18 .. 1e-10 (10 values, log-spaced); CK and NTK: every degree 0..d from the certified
Arb path at rtol 1e-30 (far below float64), written with 25 significant digits, and checked
against an independent plain mpmath recursion at 120 digits (arc-cosine duals, Krawtchouk sums).

    python tests/data/make_tiny_bias_reference.py      # writes tests/data/tiny_bias_reference.json
"""
import json
import pathlib
import warnings

import mpmath
import numpy as np

from spectra.analytic import cube_spectrum

ACTIVATIONS = ["relu", "abs", "leaky_relu(0.1)", "step"]
DIMS = [2, 3, 4, 6, 8, 10, 12]
DEPTHS = [1, 2]
WEIGHT_VAR = 2.0
BIAS_VARS = [float(x) for x in np.logspace(-18, -10, 10)]


SLOPES = {"relu": (0.0, 1.0), "abs": (-1.0, 1.0), "leaky_relu(0.1)": (0.1, 1.0), "step": (0.0, 1.0)}


def _mp_spectrum(act, d, L, w, b, kind):
    """mu_0..mu_d by the NTK recursion in mpmath (no Arb, no code from spectra)."""
    a, bb = SLOPES[act]
    # the package's duals weight R and S by (a - b)^2 and a b rounded to float64 (for leaky relu 0.1 that
    # is 4e-18 relative away from the decimal slope's); the reference uses the same two numbers
    w2, ab = mpmath.mpf((a - bb) ** 2), mpmath.mpf(a * bb)
    w, b = mpmath.mpf(w), mpmath.mpf(b)

    def duals(c, q):
        rho = max(min(c / q, 1), -1)
        th = mpmath.acos(rho)
        R = q * (mpmath.sqrt(1 - rho * rho) + (mpmath.pi - th) * rho) / (2 * mpmath.pi)
        S = (mpmath.pi - th) / (2 * mpmath.pi)
        if act == "step":
            return w2 * S + ab, mpmath.mpf(0)
        return w2 * R + ab * c, w2 * S + ab

    def diag(q):
        # at correlation 1 the package uses (a^2 + b^2)/2 (rounded to float64), as does this reference
        h = mpmath.mpf(a * a + bb * bb) / 2
        return (h, mpmath.mpf(0)) if act == "step" else (h * q, h)

    phi = []
    for j in range(d + 1):
        c = mpmath.mpf(d - 2 * j) / d
        sig, q = w * c + b, w + b
        th = sig
        for _ in range(L):
            V, Vd = diag(q) if j == 0 else duals(sig, q)
            Vq, _ = diag(q)
            sig, th, q = w * V + b, w * V + b + w * Vd * th, w * Vq + b
        phi.append(sig if kind == "ck" else th)
    mus = []
    for k in range(d + 1):
        # K_j(k) = [s^j] (1 - s)^k (1 + s)^(d - k)
        kr = [sum((-1) ** i * mpmath.binomial(k, i) * mpmath.binomial(d - k, j - i) for i in range(0, min(j, k) + 1))
              for j in range(d + 1)]
        mus.append(mpmath.fsum(kr[j] * phi[j] for j in range(d + 1)) / mpmath.mpf(2) ** d)
    return mus


def main():
    out = {"weight_var": WEIGHT_VAR, "bias_vars": BIAS_VARS, "configs": []}
    warnings.simplefilter("error")  # a reference that misses rtol 1e-30 is not a reference
    for act in ACTIVATIONS:
        for d in DIMS:
            for L in DEPTHS:
                for b in BIAS_VARS:
                    row = {"activation": act, "dim": d, "depth": L, "bias_var": b}
                    for kind in ("ck", "ntk"):
                        s = cube_spectrum(d, act, L, WEIGHT_VAR, b, kind, rtol=1e-30)
                        row[kind] = [mpmath.nstr(x, 25) for x in s.exact]
                        with mpmath.workdps(120):
                            ref = _mp_spectrum(act, d, L, WEIGHT_VAR, b, kind)
                            for x, y in zip(s.exact, ref):
                                assert abs(mpmath.mpf(x) - y) <= mpmath.mpf(10) ** -25 * abs(y) + mpmath.mpf(10) ** -100, (row, kind)
                        row[f"trace_{kind}"] = mpmath.nstr(mpmath.mpf(s.trace), 17)
                    out["configs"].append(row)
    path = pathlib.Path(__file__).with_name("tiny_bias_reference.json")
    path.write_text(json.dumps(out, indent=0))
    print(f"{len(out['configs'])} configurations -> {path}")


if __name__ == "__main__":
    main()
