"""``spectra eigen``: eigenvalues of one MLP kernel on the cube, the sphere or Gaussian data."""
from __future__ import annotations

import argparse

from ._common import add_network_args, write_text


def register(sub) -> None:
    p = sub.add_parser(
        "eigen",
        help="eigenvalues per degree of an MLP CK/NTK",
        description="Eigenvalues mu_k (with multiplicities, fractional variance and error bounds) of the "
        "infinite-width CK or NTK of an MLP. Conventions: NTK parametrization, first-layer covariance "
        "weight_var <x,y>/d + bias_var, depth = number of nonlinear layers.",
    )
    p.add_argument("--domain", choices=["cube", "sphere", "gaussian"], default="cube")
    add_network_args(p)
    p.add_argument("--weight-var", type=float, default=2.0, help="sigma_w^2 > 0 (default 2)")
    p.add_argument("--bias-var", type=float, default=0.0, help="sigma_b^2 >= 0 (default 0)")
    p.add_argument("--kernel", default="ntk", help="ck or ntk (default ntk)")
    p.add_argument("--degrees", type=int, nargs="+", default=None, help="degrees to compute (default: all on the cube)")
    p.add_argument("--max-degree", type=int, default=None, help="sphere/gaussian: degrees 0..K (default 20)")
    p.add_argument("--rtol", type=float, default=1e-12, help="target relative accuracy (default 1e-12)")
    p.add_argument("--precision", default="auto", help="auto, float64, or a number of bits")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--output", "-o", default=None, help="write to this file instead of stdout")
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

    common = dict(activation=args.activation, depth=args.depth, weight_var=args.weight_var,
                  bias_var=args.bias_var, kernel=args.kernel, rtol=args.rtol, precision=_precision(args.precision))
    if args.domain == "cube":
        if args.max_degree is not None and args.degrees is None:
            if args.max_degree < 0 or args.max_degree > args.dim:
                raise ValueError(f"--max-degree must be in [0, dim={args.dim}], got {args.max_degree}")
            args.degrees = list(range(args.max_degree + 1))
        spec = analytic.cube_spectrum(args.dim, degrees=args.degrees, **common)
    else:
        fn = getattr(analytic, f"{args.domain}_spectrum", None)
        if fn is None:
            raise ValueError(f"--domain {args.domain} is not available in this installation")
        kmax = 20 if args.max_degree is None else args.max_degree
        spec = fn(args.dim, max_degree=kmax, degrees=args.degrees, **common)
    if args.format == "json":
        write_text(spec.to_json(), args.output)
    elif args.format == "csv":
        write_text(spec.to_csv(), args.output)
    else:
        write_text(spec.to_table(), args.output)
    if args.plot:
        spec.plot(args.plot)
    return 0
