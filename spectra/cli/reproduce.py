"""``spectra reproduce NAME [--fast] [--seed S] [--format table|json] [-o FILE] [--plot FILE [--force]]``.

Runs a reproduction of a published claim (the modules of spectra.reproductions), prints every
claim with PASS/FAIL and the numbers behind it (or the JSON, whose "claims" is a list of
{claim, passed, values}), and exits 0 if all claims pass, 1 otherwise. Its figure goes to
--plot FILE, or else to the cache folder ($SPECTRA_CACHE_DIR/figures, else
$XDG_CACHE_HOME/spectra/figures, else ~/.cache/spectra/figures), never into the working folder;
a file tracked by git is overwritten only with --force.
"""
from __future__ import annotations

import os
import subprocess
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
    p.add_argument("--plot", metavar="FILE.png", default=None,
                   help="write the figure to FILE (default: the cache folder ~/.cache/spectra/figures/<name>.png)")
    p.add_argument("--force", action="store_true", help="let --plot overwrite a file tracked by git")
    p.set_defaults(func=_main)


def _tracked_by_git(path) -> bool:
    """True if ``path`` exists and git tracks it (False without git or outside a repository)."""
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        return False
    try:
        r = subprocess.run(["git", "ls-files", "--error-unmatch", "--", os.path.basename(path)],
                           cwd=os.path.dirname(path), capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


def _main(args) -> int:
    from .. import reproductions
    from ..reproductions.common import cache_dir

    if args.list or not args.name:
        for name in reproductions.available():
            print(name)
        return 0
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    mod = reproductions.get(args.name)
    check_writable(args.output)
    check_writable(args.plot, make_parents=True)  # the reproduction creates the figure's folder
    if args.plot is not None and not args.force and _tracked_by_git(args.plot):
        raise ValueError(f"--plot {args.plot} is a file tracked by git; pass --force to overwrite it")
    plot = args.plot if args.plot is not None else cache_dir() / f"{args.name}.png"
    kwargs = {"fast": args.fast, "seed": args.seed, "progress": not args.quiet, "plot_path": plot}
    from .._threads import blas_threads

    with blas_threads(1):  # small matrices: one BLAS thread avoids oversubscription
        res = mod.run(**kwargs)
    write_output(res.to_json() if args.format == "json" else res.report(), args.output, args.quiet)
    note_written(res.figure, args.quiet)
    sys.stdout.flush()
    return 0 if res.passed else 1
