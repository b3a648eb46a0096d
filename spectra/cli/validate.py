"""``spectra validate``: finite-width CK/NTK at initialization against the theory, per degree."""
from __future__ import annotations

import json
import os
import sys

__all__ = ["register", "run"]


def _int_list(text: str) -> list:
    try:
        vals = [int(t) for t in str(text).replace(" ", "").split(",") if t]
    except ValueError:
        raise ValueError(f"--widths must be a comma-separated list of integers, got {text!r}") from None
    if not vals:
        raise ValueError("--widths must list at least one width")
    return vals


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "validate",
        help="compare finite-width CK/NTK spectra at initialization with the theory",
        description="Draw networks of several widths and seeds, measure their CK and NTK Gram matrices "
                    "and compare the per-degree spectrum with the analytic one (relative deviation, "
                    "mean +- standard error over seeds, and the log-log slope against width).",
    )
    p.add_argument("--domain", choices=["cube", "sphere"], default="cube")
    p.add_argument("--dim", type=int, default=10, help="input dimension d (full cube if d <= 16)")
    p.add_argument("--activation", default="relu")
    p.add_argument("--depth", type=int, default=2, help="number of hidden layers L")
    p.add_argument("--weight-var", type=float, default=2.0)
    p.add_argument("--bias-var", type=float, default=0.0)
    p.add_argument("--widths", default="256,1024,4096", help="comma-separated widths")
    p.add_argument("--seeds", type=int, default=8, help="number of seeds")
    p.add_argument("--seed-offset", type=int, default=0, help="first seed (seeds are offset..offset+S-1)")
    p.add_argument("--n-points", type=int, default=None,
                   help="points (cube: default all 2^d; sphere: default 4096)")
    p.add_argument("--max-degree", type=int, default=None, help="highest degree (default 4 cube, 3 sphere)")
    p.add_argument("--no-control-variate", action="store_true",
                   help="sampled domains: plain U-statistic projections of K instead of "
                        "analytic + projections of (K - analytic kernel on the same points)")
    p.add_argument("--float32", action="store_true", help="compute the networks in float32")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--plot", default=None, metavar="FILE", help="write a PNG figure")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from ..empirical.validate import plot_validation, validate_spectra

    widths = _int_list(args.widths)
    res = validate_spectra(args.domain, args.dim, args.activation, args.depth, args.weight_var, args.bias_var,
                           widths, args.seeds, n_points=args.n_points, seed_offset=args.seed_offset,
                           max_degree=args.max_degree, control_variate=not args.no_control_variate,
                           dtype=np.float32 if args.float32 else np.float64, progress=not args.quiet)
    if args.format == "json":
        json.dump(res.to_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(res.format_table())
    if args.plot:
        d = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(d):
            raise FileNotFoundError(f"--plot directory does not exist: {d}")
        plot_validation(res, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0
