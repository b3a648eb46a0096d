"""``spectra sweep CONFIG [--dask-scheduler ADDRESS] [--workers N] [--stop-after N] [--list] [--quiet]``, ``spectra sweep --summary DIR``.

Runs every configuration (hyperparameters x seeds) of a JSON/TOML sweep config (its format is
described in the docstring of spectra.empirical.sweep) that has not finished yet, on local
processes or on a dask cluster, writing each finished run atomically into the config's
output_dir; running it again resumes.  A run file that is invalid, belongs to another run or
configuration, or stopped early is re-run, with one line on stderr saying why.  --summary
prints one row per finished run (settings and final metrics; needs pandas).
"""
from __future__ import annotations

from ._common import add_output_args

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser("sweep", help="run a sweep of training runs (resumable; local processes or dask)",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("config", nargs="?", default=None,
                   help="sweep config file (.json or .toml); its output_dir receives the runs")
    p.add_argument("--dask-scheduler", metavar="ADDRESS", default=None,
                   help="address of a dask.distributed scheduler (needs the optional 'dask[distributed]')")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes, at most 4 x the CPU count (default: CPU count); "
                        "also caps runs in flight at 2*N (default 8)")
    p.add_argument("--stop-after", type=int, default=None, metavar="N",
                   help="stop after N runs have finished (the sweep can be resumed)")
    p.add_argument("--list", action="store_true", help="only list the runs and whether they are finished")
    p.add_argument("--summary", metavar="DIR", default=None,
                   help="print one row per finished run of the sweep in DIR (an output folder or a config "
                        "file): settings and final metrics (needs pandas)")
    # no -o: the runs go to the config's output_dir, the summary to stdout
    add_output_args(p, writes=None, quiet_help="no progress and no re-run notes on stderr")
    p.set_defaults(func=_main)


def _main(args) -> int:
    import os

    from ..empirical._sweep_procs import check_workers
    from ..empirical.sweep import expand_config, load_config, load_sweep, run_file_problem, run_sweep

    if args.summary is not None:
        if args.config is not None:
            raise ValueError("give either a CONFIG to run or --summary DIR, not both")
        _print_summary(load_sweep(args.summary))
        return 0
    if args.config is None:
        raise ValueError("the sweep config file is required (or --summary DIR)")
    cfg = load_config(args.config)
    if args.list:
        for r in expand_config(cfg):
            problem = run_file_problem(os.path.join(cfg["output_dir"], f"{r['run_id']}.npz"), r)
            status = "finished" if problem is None else ("todo    " if problem == "missing" else "re-run  ")
            print(f"{r['run_id']}  {status}  seed={r['seed']}  {r['grid']}"
                  + ("" if problem in (None, "missing") else f"  ({problem})"))
        return 0
    if args.workers is not None:
        check_workers(args.workers, "--workers")
    executor = client = None
    if args.dask_scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise ValueError("--dask-scheduler needs dask.distributed: pip install 'dask[distributed]'") from None
        client = Client(args.dask_scheduler)
        executor = client.get_executor()
    try:
        rep = run_sweep(cfg, executor=executor, max_workers=args.workers, progress=not args.quiet,
                        stop_after=args.stop_after)
    finally:
        if client is not None:
            client.close()
    print(f"{len(rep.executed)} run(s) executed, {len(rep.skipped)} skipped (already finished), "
          f"{len(rep.failed)} failed, {len(rep.not_started)} not started; results in {rep.output_dir}")
    for rid, msg in rep.failed.items():
        print(f"  failed {rid}: {msg}")
    return 0 if rep.complete else 1


def _print_summary(df) -> None:
    import pandas as pd

    name = df.attrs.get("name") or ""
    print(f"sweep {name}: {len(df)} finished run(s) of {df.attrs.get('n_runs')} in {df.attrs.get('output_dir')}")
    if len(df):
        # the settings every run shares are printed once, above the table
        same = [c for c in df.columns if c not in ("run_id", "status") and df[c].astype(str).nunique(dropna=False) == 1]
        for c in same:
            print(f"  {c}: {df[c].iloc[0]}")
        with pd.option_context("display.max_columns", None, "display.width", 200):
            print(df.drop(columns=same + ["status"]).to_string(index=False))
