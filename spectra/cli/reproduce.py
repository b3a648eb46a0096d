"""``spectra reproduce NAME [--fast] [--seed S] [--format table|json] [-o FILE] [--plot FILE]``.

Runs a reproduction of a published claim (the modules of spectra.reproductions), prints every
claim with PASS/FAIL and the numbers behind it (or the JSON, whose "claims" is a list of
{claim, passed, values}), writes its figure, and exits 0 if all claims pass, 1 otherwise.
"""
from __future__ import annotations

import sys

from ._common import add_output_args, check_writable, note_written, write_output

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser("reproduce", help="run a reproduction of a published claim (PASS/FAIL per claim)",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("name", nargs="?", help="reproduction name; omit with --list to list them")
    p.add_argument("--list", action="store_true", help="list the available reproductions")
    p.add_argument("--fast", action="store_true", help="reduced size (seconds), as in the test suite")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    add_output_args(p, writes="the report (table/json)")
    p.add_argument("--plot", metavar="FILE.png", default=None, help="figure path (default figures/<name>.png)")
    p.set_defaults(func=_main)


def _main(args) -> int:
    from .. import reproductions

    if args.list or not args.name:
        for name in reproductions.available():
            print(name)
        return 0
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    mod = reproductions.get(args.name)
    check_writable(args.output)
    check_writable(args.plot, make_parents=True)  # the reproduction creates the figure's folder
    kwargs = {"fast": args.fast, "seed": args.seed, "progress": not args.quiet}
    if args.plot is not None:
        kwargs["plot_path"] = args.plot
    from .._threads import blas_threads

    with blas_threads(1):  # small matrices: one BLAS thread avoids oversubscription
        res = mod.run(**kwargs)
    write_output(res.to_json() if args.format == "json" else res.report(), args.output, args.quiet)
    note_written(res.figure, args.quiet)
    sys.stdout.flush()
    return 0 if res.passed else 1
