"""``spectra learning-curve``: predicted (and optionally measured) learning curves of kernel regression."""
from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from ._common import add_kernel_args, add_output_args, check_writable, note_written, write_output

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
    with heartbeat("learning-curve", quiet=args.quiet):  # all degrees of a large cube take seconds
        if args.domain == "cube":
            degrees = None if args.max_degree is None else list(range(args.max_degree + 1))
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


def _table(lc, target, mean, se) -> str:
    s = lc.spectrum_info
    degs = sorted(target)
    idx = [int(np.flatnonzero(lc.degrees == k)[0]) for k in degs]
    lines = [f"learning curve: {str(s.get('kernel', '')).upper()} {s.get('activation')} depth={s.get('depth')} "
             f"weight_var={s.get('weight_var')} bias_var={s.get('bias_var')} on the {s['domain']} d={s['dim']}",
             f"target power {', '.join(f'{k}:{target[k]:g}' for k in degs)}; noise={lc.noise:g}; ridge={lc.ridge:g}; "
             f"truncation bound (missing trace mass) = {lc.truncation_bound:.3g}"]
    head = f"{'n':>14} {'kappa':>11} {'test_mse':>11} {'noisy':>11} {'train_mse':>11} {'E0':>9}"
    if mean is not None:
        head += f" {'measured':>11} {'+-se':>9}"
    head += "".join(f" {'L_' + str(k):>8}" for k in degs)
    lines.append(head)
    for i, n in enumerate(lc.n):
        kap = f"{lc.kappa[i]:11.4e}" if lc.kappa[i] > 0 else f"{'1e%.1f' % lc.log10_kappa[i]:>11}"
        row = (f"{int(n):>14} {kap} {lc.test_mse[i]:11.4e} {lc.test_mse_noisy[i]:11.4e} "
               f"{lc.train_mse[i]:11.4e} {lc.overfitting[i]:9.4g}")
        if mean is not None:
            row += f" {mean[i]:11.4e} {se[i]:9.2e}" if np.isfinite(mean[i]) else f" {'-':>11} {'-':>9}"
        row += "".join(f" {lc.learnability[i, j]:8.4f}" for j in idx)
        lines.append(row)
    halves = ", ".join(f"k={k}: " + (f"{lc.half_learned_n[j]:.4g}" if np.isfinite(lc.half_learned_n[j]) else
                                     (f"1e{lc.log10_half_learned_n[j]:.2f}" if np.isfinite(lc.log10_half_learned_n[j])
                                      else "never (mu_k = 0)")) for k, j in zip(degs, idx))
    lines.append(f"half-learned n (kappa = mu_k): {halves}")
    return "\n".join(lines)


def _csv(lc, target, mean, se) -> str:
    degs = sorted(target)
    idx = [int(np.flatnonzero(lc.degrees == k)[0]) for k in degs]
    head = "n,kappa,log10_kappa,test_mse,test_mse_noisy,train_mse,overfitting"
    if mean is not None:
        head += ",measured_test_mse,measured_se"
    head += "".join(f",learnability_{k}" for k in degs)
    rows = [head]
    for i, n in enumerate(lc.n):
        r = (f"{int(n)},{lc.kappa[i]:.17g},{lc.log10_kappa[i]:.17g},{lc.test_mse[i]:.17g},{lc.test_mse_noisy[i]:.17g},"
             f"{lc.train_mse[i]:.17g},{lc.overfitting[i]:.17g}")
        if mean is not None:
            r += "".join("," + (f"{v:.17g}" if np.isfinite(v) else "") for v in (mean[i], se[i]))
        r += "".join(f",{lc.learnability[i, j]:.17g}" for j in idx)
        rows.append(r)
    return "\n".join(rows)


def _plot(path, spec, lc, target, mean, se) -> None:
    from .._plotting import plt_or_raise
    from ..analytic import learning_curve

    plt = plt_or_raise()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    dense = np.geomspace(lc.n[0], lc.n[-1], 300) if lc.n[-1] > lc.n[0] else lc.n
    curve = learning_curve(spec, target, dense, noise=lc.noise, ridge=lc.ridge)   # smooth line between the n
    ax.loglog(dense, curve.test_mse, "-", lw=1.8, label="theory: test_mse")
    ax.plot(lc.n, lc.test_mse, ".", color="C0", ms=4)
    if mean is not None:
        ok = np.isfinite(mean)
        ax.errorbar(lc.n[ok], mean[ok], yerr=se[ok], fmt="o", ms=3, capsize=2, label="kernel regression (mean +- s.e.)")
    for k in sorted(target):
        j = int(np.flatnonzero(lc.degrees == k)[0])
        h = lc.half_learned_n[j]
        if np.isfinite(h) and lc.n[0] <= h <= lc.n[-1]:
            ax.axvline(h, color="gray", ls=":", lw=1)
            ax.text(h, ax.get_ylim()[1], f" k={k}", rotation=90, va="top", ha="right", fontsize=8, color="gray")
    s = lc.spectrum_info
    ax.set_xlabel("number of samples n")
    ax.set_ylabel(r"test error $E_x(\hat f - f^*)^2$")
    ax.set_title(f"{str(s.get('kernel', '')).upper()} {s.get('activation')} L={s.get('depth')} on the "
                 f"{s['domain']} d={s['dim']}; noise={lc.noise:g}, ridge={lc.ridge:g}", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
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
    mean = se = None
    if args.measure is not None:
        mean, se = _measure(args, spec, target, ns)
    if args.format == "json":
        d = lc.to_dict()
        d["n"] = [int(x) for x in ns]
        if mean is not None:
            d["measure_trials"] = int(args.measure)
            d["measured_test_mse"] = [float(x) if np.isfinite(x) else None for x in mean]
            d["measured_se"] = [float(x) if np.isfinite(x) else None for x in se]
        text = json.dumps(d, indent=1)
    elif args.format == "csv":
        text = _csv(lc, target, mean, se)
    else:
        text = _table(lc, target, mean, se)
    write_output(text, args.output, args.quiet)
    if args.plot:
        _plot(args.plot, spec, lc, target, mean, se)
        note_written(args.plot, args.quiet)
    return 0
