"""``spectra learning-curve``: predicted (and optionally measured) learning curves of kernel regression."""
from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from ._common import add_kernel_args, add_output_args, check_cube_cost, check_writable, note_written, write_output

__all__ = ["register", "run", "parse_sample_sizes", "parse_target_power"]

#: --measure runs kernel regression only up to this n (an n x n Gram per trial).
MEASURE_MAX_N = 4096
_DEFAULT_MAX_DEGREE = 40


def register(sub) -> None:
    p = sub.add_parser(
        "learning-curve",
        help="predicted test/train error of kernel regression against the number of samples",
        description="Learning curve of kernel ridge regression f = K(x,X)(K(X,X) + ridge I)^-1 y with the "
        "infinite-width CK or NTK, predicted from the exact spectrum (Bordelon-Canatar-Pehlevan; Simon et al., "
        "'The Eigenlearning Framework'): kappa, learnability per degree, test error against the noise-free "
        "target (test_mse) and against noisy labels (test_mse_noisy), train error, and the n at which each "
        "degree is half learned. --measure adds kernel regression on sampled data.",
    )
    p.add_argument("--domain", choices=["cube", "sphere", "gaussian"], default="cube")
    add_kernel_args(p)
    p.add_argument("--target-power", default="1:1", metavar="K:P,...",
                   help="target power per degree, DEGREE:POWER items (default 1:1, a unit-norm degree-1 target)")
    p.add_argument("--noise", type=float, default=0.0, help="label-noise variance sigma^2 >= 0 (default 0)")
    p.add_argument("--ridge", type=float, default=0.0, help="ridge delta >= 0 on the unnormalized Gram (default 0)")
    p.add_argument("--n", default="10:100000:30", metavar="LIST",
                   help="sample sizes: comma-separated numbers or START:STOP:NUM ranges, log-spaced and rounded "
                        "to integers (default 10:100000:30; 10:1e12:30 is valid)")
    p.add_argument("--max-degree", type=int, default=None,
                   help=f"degrees 0..K (default: all d+1 on the cube, {_DEFAULT_MAX_DEGREE} on sphere/gaussian; "
                        "the rest is bounded by the trace)")
    p.add_argument("--measure", type=int, default=None, metavar="TRIALS",
                   help=f"also run kernel regression with TRIALS training sets per n <= {MEASURE_MAX_N}")
    p.add_argument("--seed", type=int, default=0, help="seed of --measure (default 0)")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    add_output_args(p, writes="the table/json/csv")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="draw the test error against n (log axes)")
    p.set_defaults(func=run)


def parse_sample_sizes(text: str) -> np.ndarray:
    """``"10,50,1e3:1e6:4"`` -> sorted unique integers; ranges are log-spaced and rounded.

    Examples
    --------
    >>> parse_sample_sizes("10:1000:3").tolist()
    [10, 100, 1000]
    >>> parse_sample_sizes("5,1e12").tolist()
    [5, 1000000000000]
    """
    vals = []
    for item in (t.strip() for t in str(text).split(",")):
        if not item:
            raise ValueError(f"--n: empty item in {text!r}")
        parts = item.split(":")
        try:
            if len(parts) == 1:
                vals.append(np.array([float(item)]))
                continue
            if len(parts) != 3:
                raise ValueError
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError(f"--n: items are numbers or START:STOP:NUM (log-spaced), got {item!r}") from None
        if not (1 <= num <= 100_000):
            raise ValueError(f"--n: NUM of {item!r} must be in [1, 100000]")
        if not (start >= 1 and stop >= 1 and math.isfinite(start) and math.isfinite(stop)):
            raise ValueError(f"--n: sample sizes must be finite and >= 1, got {item!r}")
        vals.append(np.geomspace(start, stop, num))
    arr = np.concatenate(vals)
    if not np.all(np.isfinite(arr)) or np.any(arr < 1):
        raise ValueError(f"--n: sample sizes must be finite and >= 1, got {text!r}")
    if np.any(arr >= 2.0 ** 62):
        raise ValueError(f"--n: sample sizes must be < 2^62, got {arr.max():g}")
    return np.unique(np.round(arr).astype(np.int64))


def parse_target_power(text: str) -> dict:
    """``"1:0.5,3:0.5"`` -> ``{1: 0.5, 3: 0.5}``.

    Examples
    --------
    >>> parse_target_power("1:0.5,3:0.5")
    {1: 0.5, 3: 0.5}
    """
    out: dict = {}
    for item in (t.strip() for t in str(text).split(",")):
        parts = item.split(":")
        try:
            if len(parts) != 2:
                raise ValueError
            k, p = int(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError(f"--target-power: items are DEGREE:POWER (e.g. 1:0.5,3:0.5), got {item!r}") from None
        if k < 0:
            raise ValueError(f"--target-power: degrees must be >= 0, got {k}")
        if not (math.isfinite(p) and p >= 0):
            raise ValueError(f"--target-power: the power of degree {k} must be finite and >= 0, got {p}")
        out[k] = out.get(k, 0.0) + p
    return out


def _check(args, target, ns):
    for name in ("noise", "ridge"):
        v = getattr(args, name)
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"--{name} must be finite and >= 0, got {v}")
    if args.dim < (2 if args.domain != "cube" else 1):
        raise ValueError(f"--dim must be >= {2 if args.domain != 'cube' else 1} on the {args.domain}, got {args.dim}")
    top = args.dim if args.domain == "cube" else None
    if args.max_degree is not None:
        if args.max_degree < 0 or (top is not None and args.max_degree > top):
            raise ValueError(f"--max-degree must be in [0, {top if top is not None else 'inf'}], got {args.max_degree}")
        top = args.max_degree
    elif top is None:
        top = max(_DEFAULT_MAX_DEGREE, max(target, default=0))
    bad = [k for k in target if k > top]
    if bad:
        raise ValueError(f"--target-power: degree {bad[0]} is out of range [0, {top}] "
                         f"({'d' if args.domain == 'cube' and args.max_degree is None else '--max-degree'})")
    if args.measure is not None and args.measure < 2:
        raise ValueError(f"--measure needs at least 2 trials, got {args.measure}")
    return top


def _spectrum(args, top):
    from .. import analytic
    from .._progress import heartbeat

    kw = dict(activation=args.activation, depth=args.depth, weight_var=args.weight_var, bias_var=args.bias_var,
              kernel=args.kernel)
    degrees = None if args.max_degree is None else list(range(args.max_degree + 1))
    if args.domain == "cube":  # bounded cost: refused before any heavy allocation when it cannot fit
        check_cube_cost(args.dim, degrees=degrees, quiet=args.quiet, command="learning-curve", **kw)
    with heartbeat("learning-curve", quiet=args.quiet):  # all degrees of a large cube take seconds
        if args.domain == "cube":
            return analytic.cube_spectrum(args.dim, degrees=degrees, **kw)
        fn = analytic.sphere_spectrum if args.domain == "sphere" else analytic.gaussian_spectrum
        return fn(args.dim, max_degree=top, **kw)


def _measure(args, spec, target, ns):
    from ..empirical import kernel_regression_curve

    todo = ns[ns <= MEASURE_MAX_N]
    mean = np.full(len(ns), np.nan)
    se = np.full(len(ns), np.nan)
    if len(todo) < len(ns) and not args.quiet:
        sys.stderr.write(f"learning-curve: --measure skips n > {MEASURE_MAX_N} ({len(ns) - len(todo)} sizes; null)\n")
    if len(todo):
        m = kernel_regression_curve(spec, target, todo, noise=args.noise, ridge=args.ridge, trials=args.measure,
                                    seed=args.seed)
        where = np.searchsorted(ns, todo)
        mean[where], se[where] = m.test_mse, m.test_se
    return mean, se


def _plot(path, spec, lc) -> None:
    from .._plotting import plt_or_raise
    from ..analytic import learning_curve

    plt = plt_or_raise()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if lc.n[-1] > lc.n[0]:  # a smooth theory line between the requested n, with the requested n as points
        dense = learning_curve(spec, lc.target_power, np.geomspace(lc.n[0], lc.n[-1], 300), noise=lc.noise,
                               ridge=lc.ridge)
        dense.plot(ax=ax)
        ax.plot(lc.n, lc.test_mse, ".", color="C0", ms=4)
        if lc.measured_test_mse is not None:
            ok = np.isfinite(lc.measured_test_mse)
            ax.errorbar(lc.n[ok], lc.measured_test_mse[ok], yerr=lc.measured_se[ok], fmt="o", ms=3, capsize=2,
                        color="C1", label="kernel regression (mean +- s.e.)")
            ax.legend(fontsize=8)
    else:
        lc.plot(ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    from ..analytic import learning_curve

    check_writable(args.output)
    check_writable(args.plot)
    target = parse_target_power(args.target_power)
    ns = parse_sample_sizes(args.n)
    top = _check(args, target, ns)
    spec = _spectrum(args, top)
    lc = learning_curve(spec, target, ns.astype(float), noise=args.noise, ridge=args.ridge)
    if args.measure is not None:
        lc = lc.with_measurement(*_measure(args, spec, target, ns))
    text = {"json": lc.to_json, "csv": lc.to_csv, "table": lc.to_table}[args.format]()
    write_output(text, args.output, args.quiet)
    if args.plot:
        _plot(args.plot, spec, lc)
        note_written(args.plot, args.quiet)
    return 0
