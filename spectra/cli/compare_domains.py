"""``spectra compare-domains``: d^k mu_k on the cube, sphere and Gaussian converging to Phi^(k)(0)."""
from __future__ import annotations

import argparse

from ._common import (LIST_HELP, add_kernel_args, add_output_args, check_cube_cost, check_writable,
                      choice_list_type, flatten, list_type, note_written, write_output)

__all__ = ["register", "run"]

_DOMAINS = ("cube", "sphere", "gaussian")
# Why this command's kernel defaults differ from the package's (relu NTK, bias 0): the picture
# needs Phi smooth at c = 0 with nonzero odd and even Taylor coefficients.
_REASON = "the equivalence picture needs a kernel smooth at c=0 with nonzero odd and even Taylor coefficients"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare-domains",
        help="high-dimensional equivalence: d^k mu_k on cube/sphere/Gaussian vs Phi^(k)(0)",
        description="Table (and plot) of d^k mu_k on the boolean cube, the sphere and Gaussian inputs for growing d, "
                    "against the Taylor derivatives Phi^(k)(0) of the kernel. Defaults differ from the other "
                    "commands (erf CK with bias_var 0.5 instead of relu NTK with bias_var 0) because "
                    f"{_REASON}: relu is not smooth at c=0, and a bias-free erf kernel is odd.",
    )
    add_kernel_args(p, dim=None, activation="erf", bias_var=0.5, kernel="ck", reason="see the description")
    p.add_argument("--max-degree", type=int, default=4, help="degrees 0..K (default 4)")
    p.add_argument("--dims", type=list_type("--dims", integer=True), nargs="+", default=None, metavar="LIST",
                   help=f"dimensions, {LIST_HELP} (e.g. 8,16,32; space-separated also accepted; "
                        "default 8,16,...,4096)")
    p.add_argument("--domains", type=choice_list_type("--domains", _DOMAINS), nargs="+", default=None,
                   metavar="LIST", help="comma-separated subset of cube,sphere,gaussian (default all three; "
                                        "space-separated also accepted)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    add_output_args(p, writes="the table/json")
    p.add_argument("--plot", default=None, metavar="FILE.png", help="draw d^k mu_k against d per degree")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analytic.equivalence import DEFAULT_DIMS, domain_equivalence

    check_writable(args.output)
    check_writable(args.plot)
    domains = flatten(args.domains) or list(_DOMAINS)
    dims = flatten(args.dims) or DEFAULT_DIMS
    from .._validation import MAX_DEGREE, MAX_DEPTH, check_depth

    check_depth(args.depth, "--depth", maximum=MAX_DEPTH)
    if args.max_degree > MAX_DEGREE:
        raise ValueError(f"--max-degree must be an integer in [0, {MAX_DEGREE}] (MAX_DEGREE of the sphere and "
                         f"Gaussian engines), got {args.max_degree}")
    if "cube" in domains:  # bounded cost: every cube dimension checked before any work
        for d in dims:
            check_cube_cost(d, activation=args.activation, depth=args.depth, weight_var=args.weight_var,
                            bias_var=args.bias_var, kernel=args.kernel, max_degree=min(args.max_degree, d),
                            quiet=True, command="compare-domains")
    res = domain_equivalence(activation=args.activation, depth=args.depth, weight_var=args.weight_var,
                             bias_var=args.bias_var, kernel=args.kernel, max_degree=args.max_degree,
                             dims=dims, domains=domains)
    text = res.to_table() if args.format == "table" else res.to_json()  # finite numbers, null and strings only
    write_output(text, args.output, args.quiet)
    if args.plot:
        res.plot(args.plot)
        note_written(args.plot, args.quiet)
    return 0
