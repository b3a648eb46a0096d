"""``spectra eigen``: eigenvalues of one MLP kernel on the cube, the sphere or Gaussian data."""
from __future__ import annotations

import argparse
import sys
import warnings

from ._common import (LIST_HELP, add_kernel_args, add_output_args, check_cube_cost, check_writable, flatten,
                      list_type, note_written, write_output)

__all__ = ["register", "run"]


def register(sub) -> None:
    p = sub.add_parser(
        "eigen",
        help="eigenvalues per degree of an MLP CK/NTK",
        description="Eigenvalues mu_k (with multiplicities, fractional variance and error bounds) of the "
        "infinite-width CK or NTK of an MLP. Conventions: NTK parametrization, first-layer covariance "
        "weight_var <x,y>/d + bias_var, depth = number of nonlinear layers.",
    )
    p.add_argument("--domain", choices=["cube", "sphere", "gaussian"], default="cube")
    add_kernel_args(p)
    p.add_argument("--degrees", type=list_type("--degrees", integer=True), nargs="+", default=None, metavar="LIST",
                   help=f"degrees to compute, {LIST_HELP} (e.g. 0,1,5:10:6; space-separated also accepted); "
                        "default: all on the cube, 0..--max-degree elsewhere")
    p.add_argument("--max-degree", type=int, default=None,
                   help="degrees 0..K (default: all d+1 on the cube; on sphere/gaussian the library default, "
                        "spectra.analytic.spectrum.DEFAULT_MAX_DEGREE = 20)")
    p.add_argument("--rtol", type=float, default=1e-12, help="target relative accuracy (default 1e-12)")
    p.add_argument("--precision", default="auto", help="auto, float64, or a number of bits")
    p.add_argument("--strict", action="store_true",
                   help="an eigenvalue whose error bound exceeds --rtol is an error (exit code 3) instead of a "
                        "'spectra: warning:' line on stderr")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    add_output_args(p, writes="the table/json/csv")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="draw eigenvalue against degree (log axis)")
    p.set_defaults(func=run)


def _precision(text: str):
    if text in ("auto", "float64"):
        return text
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--precision must be 'auto', 'float64' or an integer number of bits, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from .. import analytic
    from ..analytic.accuracy import AccuracyWarning, miss_message
    from .._progress import heartbeat

    check_writable(args.output)
    check_writable(args.plot)
    degrees = flatten(args.degrees)
    common = dict(activation=args.activation, depth=args.depth, weight_var=args.weight_var,
                  bias_var=args.bias_var, kernel=args.kernel, rtol=args.rtol, precision=_precision(args.precision))
    fn = getattr(analytic, f"{args.domain}_spectrum", None)
    if fn is None:
        raise ValueError(f"--domain {args.domain} is not available in this installation")
    if args.domain == "cube":  # bounded cost: refused before any heavy allocation when it cannot fit
        check_cube_cost(args.dim, degrees=degrees, max_degree=args.max_degree, quiet=args.quiet, **common)
    # the library's own degree rules: every degree on the cube, 0..DEFAULT_MAX_DEGREE elsewhere
    with heartbeat("eigen", quiet=args.quiet), warnings.catch_warnings():  # a large d can take minutes
        warnings.simplefilter("ignore", AccuracyWarning)  # reported below as one stderr line
        spec = fn(args.dim, degrees=degrees, max_degree=args.max_degree, **common)
    spec.rtol = args.rtol
    miss = miss_message(spec)
    if miss is not None and args.strict:
        print(f"spectra: error: {miss}", file=sys.stderr)
        return 3
    text = {"json": spec.to_json, "csv": spec.to_csv, "table": spec.to_table}[args.format]()
    write_output(text, args.output, args.quiet)
    if miss is not None:  # never a silent miss, even with --quiet
        print(f"spectra: warning: {miss}", file=sys.stderr)
    if args.plot:
        spec.plot(args.plot)
        note_written(args.plot, args.quiet)
    return 0
