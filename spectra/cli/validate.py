"""``spectra validate``: finite-width CK/NTK at initialization against the theory, per degree."""
from __future__ import annotations

from ._common import (LIST_HELP, add_kernel_args, add_output_args, check_writable, list_type, note_written,
                      write_output)

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "validate",
        help="compare finite-width CK/NTK spectra at initialization with the theory",
        description="Draw networks of several widths and seeds, measure their CK and NTK Gram matrices "
                    "and compare the per-degree spectrum with the analytic one (relative deviation, "
                    "mean +- standard error over seeds, and the log-log slope against width). Both "
                    "kernels are compared, so there is no --kernel.",
    )
    p.add_argument("--domain", choices=["cube", "sphere"], default="cube")
    add_kernel_args(p, dim=10, kernel=None)
    p.add_argument("--widths", type=list_type("--widths", integer=True), default="256,1024,4096", metavar="LIST",
                   help=f"network widths, {LIST_HELP} (default 256,1024,4096)")
    p.add_argument("--seeds", type=int, default=8, help="number of seeds (default 8)")
    p.add_argument("--seed-offset", type=int, default=0, help="first seed (seeds are offset..offset+S-1)")
    p.add_argument("--n-points", type=int, default=None,
                   help="points (cube: default all 2^d, so d <= 16; sphere: default 4096)")
    p.add_argument("--max-degree", type=int, default=None, help="highest degree (default 4 cube, 3 sphere)")
    p.add_argument("--no-control-variate", action="store_true",
                   help="sampled domains: plain U-statistic projections of K instead of "
                        "analytic + projections of (K - analytic kernel on the same points)")
    p.add_argument("--float32", action="store_true", help="compute the networks in float32")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table",
                   help="table (default); json or csv: one row per (kernel, width, seed, degree), for pandas")
    add_output_args(p, writes="the table/json/csv")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="write a PNG figure")
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from ..empirical.validate import plot_validation, validate_spectra

    from .._validation import MAX_DEPTH, check_depth

    check_writable(args.output)
    check_writable(args.plot)
    check_depth(args.depth, "--depth", maximum=MAX_DEPTH)  # the analytic side's cap, before any network is drawn
    res = validate_spectra(domain=args.domain, dim=args.dim, activation=args.activation, depth=args.depth,
                           weight_var=args.weight_var, bias_var=args.bias_var, widths=args.widths,
                           seeds=args.seeds, n_points=args.n_points, seed_offset=args.seed_offset,
                           max_degree=args.max_degree, control_variate=not args.no_control_variate,
                           dtype=np.float32 if args.float32 else np.float64, progress=not args.quiet)
    text = {"json": lambda: res.to_json(indent=1), "csv": res.to_csv, "table": res.format_table}[args.format]()
    write_output(text, args.output, args.quiet)
    if args.plot:
        plot_validation(res, args.plot)
        note_written(args.plot, args.quiet)
    return 0
