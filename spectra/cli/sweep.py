"""``spectra sweep CONFIG [--dask-scheduler ADDRESS] [--workers N] [--stop-after N] [--list] [--quiet]``.

Runs every configuration (hyperparameters x seeds) of a JSON/TOML sweep config (its format is
described in the docstring of spectra.empirical.sweep) that has not finished yet, on local
processes or on a dask cluster, writing each finished run atomically into the config's
output_dir; running it again resumes.
"""
from __future__ import annotations

from ._common import add_output_args

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser("sweep", help="run a sweep of training runs (resumable; local processes or dask)",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("config", help="sweep config file (.json or .toml); its output_dir receives the runs")
    p.add_argument("--dask-scheduler", metavar="ADDRESS", default=None,
                   help="address of a dask.distributed scheduler (needs the optional 'dask[distributed]')")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: CPU count); also caps runs in flight at 2*N (default 8)")
    p.add_argument("--stop-after", type=int, default=None, metavar="N",
                   help="stop after N runs have finished (the sweep can be resumed)")
    p.add_argument("--list", action="store_true", help="only list the runs and whether they are finished")
    # no -o: the runs go to the config's output_dir, the summary to stdout
    add_output_args(p, writes=None, quiet_help="no progress on stderr")
    p.set_defaults(func=_main)


def _main(args) -> int:
    import os

    from ..empirical.sweep import _finished, expand_config, load_config, run_sweep

    cfg = load_config(args.config)
    if args.list:
        for r in expand_config(cfg):
            done = _finished(os.path.join(cfg["output_dir"], f"{r['run_id']}.npz"))
            print(f"{r['run_id']}  {'finished' if done else 'todo    '}  seed={r['seed']}  {r['grid']}")
        return 0
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
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
