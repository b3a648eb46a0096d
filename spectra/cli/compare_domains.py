"""``spectra compare-domains``: d^k mu_k on the cube, sphere and Gaussian converging to Phi^(k)(0)."""
from __future__ import annotations

import argparse
import json

from ._common import write_text

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare-domains",
        help="high-dimensional equivalence: d^k mu_k on cube/sphere/Gaussian vs Phi^(k)(0)",
        description="Table (and plot) of d^k mu_k on the boolean cube, the sphere and Gaussian inputs for growing d, "
                    "against the Taylor derivatives Phi^(k)(0) of the kernel.",
    )
    p.add_argument("--activation", default="erf", help="activation with a closed-form dual (default erf)")
    p.add_argument("--depth", type=int, default=2, help="number of nonlinear layers L (default 2)")
    p.add_argument("--weight-var", type=float, default=2.0, help="sigma_w^2 > 0 (default 2)")
    p.add_argument("--bias-var", type=float, default=0.5, help="sigma_b^2 >= 0 (default 0.5)")
    p.add_argument("--kernel", default="ck", help="ck or ntk (default ck)")
    p.add_argument("--max-degree", type=int, default=4, help="degrees 0..K (default 4)")
    p.add_argument("--dims", type=int, nargs="+", default=None, help="dimensions (default 8 16 ... 4096)")
    p.add_argument("--domains", nargs="+", default=["cube", "sphere", "gaussian"],
                   choices=["cube", "sphere", "gaussian"])
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--output", "-o", default=None, help="write to this file instead of stdout")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="draw d^k mu_k against d per degree")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analytic.equivalence import DEFAULT_DIMS, domain_equivalence

    res = domain_equivalence(args.activation, args.depth, args.weight_var, args.bias_var, args.kernel,
                             max_degree=args.max_degree, dims=args.dims or DEFAULT_DIMS, domains=args.domains)
    text = res.to_table() if args.format == "table" else json.dumps(res.to_dict(), indent=2)
    write_text(text, args.output)
    if args.plot:
        res.plot(args.plot)
    return 0
