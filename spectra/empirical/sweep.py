r"""Sweeps: many training runs (hyperparameters x seeds) through any ``concurrent.futures.Executor``.

Config file format (JSON, or TOML with the same keys)
-----------------------------------------------------
.. code-block:: json

    {
      "name": "width-lr",
      "output_dir": "runs/width-lr",
      "base": {
        "data": {"domain": "cube", "dim": 6, "n": null,
                 "target": {"kind": "walsh", "subset": [0, 1]},
                 "n_test": 0, "data_seed": 0},
        "net": {"width": 64, "depth": 2, "activation": "relu", "weight_var": 2.0,
                "bias_var": 0.0, "parametrization": "ntk"},
        "train": {"n_steps": 500, "lr": 0.5, "optimizer": "gd", "loss": "mse",
                  "trainable": "all", "record": ["loss", "ntk"], "n_records": 20}
      },
      "grid": {"net.width": [32, 128], "train.lr": [0.1, 0.5]},
      "seeds": [0, 1, 2]
    }

* ``base``: one run's settings in three sections.  ``data.domain`` is ``cube``/``sphere``/
  ``gaussian`` (``n = null`` = full cube); ``data.target.kind`` is ``walsh`` (``subset``),
  ``polynomial`` (``degree``, random cube polynomial), ``harmonic`` (``degree``, sphere) or
  ``teacher`` (``width``, ``depth``, ``activation``).  ``net`` holds the
  :class:`~spectra.empirical.network.MLP` arguments (``dim`` comes from ``data``); ``train`` the
  :func:`~spectra.empirical.training.train` arguments (``lr`` or ``schedule``, ``optimizer`` as a
  name or dict, ``batch_size`` for minibatches, ``n_records`` = number of log-spaced snapshots;
  ``checkpoint_every`` makes each run checkpoint to ``<run_id>.checkpoint.npz`` so that a killed
  sweep resumes a long run from its last checkpoint, bitwise identically; the checkpoint is
  removed once the run file is written).
* ``grid``: dotted keys into ``base`` -> list of values; the sweep is their Cartesian product.
* ``seeds``: list of seeds (or an integer ``k`` = ``0..k-1``); each seeds the network
  initialization and the minibatch order (``data_seed`` fixes the data unless gridded).
* ``output_dir``: where runs go (relative paths are relative to the config file); default
  ``<config stem>_runs`` next to it.

Each run is identified by a hash of its full settings and written atomically to
``<output_dir>/<run_id>.npz`` (:meth:`TrainingRun.save`) only when it has finished, with the
SHA-256 of its settings (:func:`settings_hash`) in its config.  Re-running the sweep skips a run
only if its file loads (:meth:`TrainingRun.load` rejects truncated, foreign, mis-shaped and
NaN-filled files), carries its own run id and settings hash, and reaches the configured last
step (or diverged); every other existing file is re-run, with one line on stderr saying why.
So an interrupted sweep resumes without redoing finished runs.  A failed run (exception) is
reported and not written.

The sweep's own worker processes die with it (:mod:`spectra.empirical._sweep_procs`), a lock
keeps two sweeps out of one folder, and ``<output_dir>/sweep.json`` lists every run's settings;
:func:`load_sweep` turns the folder into one table row per run.
"""
from __future__ import annotations

import copy
import errno
import hashlib
import itertools
import json
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass, field


from .._results import ResultMixin
from .._validation import check_int
from ._sweep_files import (_SECTIONS, _remove_stale_temp_files, _settings_blob, _write_manifest, load_sweep_folder,
                           run_file_problem, settings_hash)
from ._sweep_procs import DirLock, check_workers, worker_init
from ._sweep_run import execute_run

__all__ = ["load_config", "expand_config", "execute_run", "run_sweep", "SweepReport", "settings_hash",
           "run_file_problem", "load_sweep"]



def load_config(path) -> dict:
    """Read a sweep config from a ``.json`` or ``.toml`` file and validate its top-level keys.

    ``output_dir`` is resolved relative to the file (default ``<stem>_runs`` next to it).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such sweep config: {path}")
    try:
        if path.endswith(".toml"):
            import tomllib

            with open(path, "rb") as fh:
                cfg = tomllib.load(fh)
        else:
            with open(path) as fh:
                cfg = json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError / TOMLDecodeError are ValueErrors
        raise ValueError(f"{path}: not a valid {'TOML' if path.endswith('.toml') else 'JSON'} sweep config: {exc}") from None
    if not isinstance(cfg, dict):
        raise ValueError(f"{path}: a sweep config must be a mapping")
    base_dir = os.path.dirname(os.path.abspath(path))
    out = cfg.get("output_dir") or os.path.splitext(os.path.basename(path))[0] + "_runs"
    cfg["output_dir"] = out if os.path.isabs(out) else os.path.join(base_dir, out)
    expand_config(cfg)  # validate early
    return cfg


def _set_dotted(d, key, value):
    parts = key.split(".")
    if parts[0] not in _SECTIONS or len(parts) < 2:
        raise ValueError(f"grid key {key!r} must start with one of {_SECTIONS} (e.g. 'net.width')")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
        if not isinstance(d, dict):
            raise ValueError(f"grid key {key!r} goes through a non-mapping")
    d[parts[-1]] = value


def expand_config(cfg: dict) -> list[dict]:
    """The list of run settings (``grid`` product x ``seeds``), each with a ``run_id``.

    Examples
    --------
    >>> runs = expand_config({"base": {"train": {"n_steps": 10, "lr": 0.1}},
    ...                       "grid": {"net.width": [8, 16]}, "seeds": 2})
    >>> len(runs), runs[0]["net"]["width"], runs[0]["seed"]
    (4, 8, 0)
    """
    if not isinstance(cfg, dict):
        raise TypeError(f"config must be a dict, got {type(cfg).__name__}")
    unknown = set(cfg) - {"name", "output_dir", "base", "grid", "seeds"}
    if unknown:
        raise ValueError(f"sweep config: unknown keys {sorted(unknown)}; allowed name, output_dir, base, grid, seeds")
    base = cfg.get("base", {})
    if not isinstance(base, dict) or set(base) - set(_SECTIONS):
        raise ValueError(f"sweep config: 'base' must be a mapping with sections {_SECTIONS}")
    grid = cfg.get("grid", {}) or {}
    if not isinstance(grid, dict) or any(not isinstance(v, list) or not v for v in grid.values()):
        raise ValueError("sweep config: 'grid' must map dotted keys to non-empty lists")
    seeds = cfg.get("seeds", [0])
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(check_int(seeds, "seeds", minimum=1)))
    if not isinstance(seeds, list) or not seeds:
        raise ValueError("sweep config: 'seeds' must be a non-empty list of integers or a count")
    seeds = [check_int(s, "seeds", minimum=0) for s in seeds]
    keys = list(grid)
    runs = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        for seed in seeds:
            r = copy.deepcopy(base)
            for k, v in zip(keys, combo):
                _set_dotted(r, k, v)
            r["seed"] = seed
            r["grid"] = dict(zip(keys, combo))
            r["run_id"] = hashlib.sha1(_settings_blob(r)).hexdigest()[:12]
            runs.append(r)
    ids = [r["run_id"] for r in runs]
    if len(set(ids)) != len(ids):
        raise ValueError("sweep config: duplicate runs (repeated grid values or seeds)")
    return runs


def load_sweep(path, *, unfinished: bool = False):
    """One row per run of a sweep: its settings (dotted columns) and final metrics.

    Parameters
    ----------
    path : str or os.PathLike
        The sweep's output folder (holding ``sweep.json``) or its config file.
    unfinished : bool, default False
        Also list the runs whose file is missing or not accepted (``status`` says why; their
        metrics are NaN).

    Returns
    -------
    pandas.DataFrame
        Columns ``run_id``, ``status``, ``seed``, the settings (``net.width``, ``train.lr``, ...;
        lists as JSON text), then ``final_step``, ``final_train_loss``, ``min_train_loss``,
        ``final_test_loss``, ``diverged`` and, when the NTK was recorded (one output),
        ``final_ntk_alignment`` and ``final_sharpness``.  ``df.attrs`` holds the sweep's name
        and folder.

    Raises
    ------
    ImportError
        If pandas is not installed (the message names the ``pandas`` extra).
    FileNotFoundError, ValueError
        If the folder holds no sweep manifest of this version.

    Examples
    --------
    >>> import tempfile
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> cfg = {"output_dir": tempfile.mkdtemp(), "seeds": 2,
    ...        "base": {"net": {"width": 8}, "train": {"n_steps": 5, "lr": 0.1, "record": ["loss"]}}}
    >>> with ThreadPoolExecutor(1) as ex:
    ...     rep = run_sweep(cfg, executor=ex, progress=False)
    >>> df = load_sweep(cfg["output_dir"])
    >>> df[["seed", "net.width", "final_step"]].values.tolist()
    [[0, 8, 5], [1, 8, 5]]
    """
    path = os.fspath(path)
    if os.path.isfile(path):
        path = load_config(path)["output_dir"]
    return load_sweep_folder(path, unfinished=unfinished)


@dataclass(repr=False)
class SweepReport(ResultMixin):
    """What a sweep call did: run ids skipped (already finished), executed, failed, not started.

    ``rerun`` maps the run ids whose existing file was not accepted to the reason.  ``repr`` is
    one line and a few runs, ``print`` the table of runs, ``to_dataframe()`` one row per run of
    this call (:func:`load_sweep` gives the settings and metrics of a whole folder).
    """

    FORMAT = "spectra.sweep_report"

    output_dir: str
    total: int
    skipped: list = field(default_factory=list)
    executed: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)
    not_started: list = field(default_factory=list)
    summaries: dict = field(default_factory=dict)
    rerun: dict = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.not_started

    def summary(self) -> str:
        """One line: counts per outcome and the folder."""
        return (f"{self.total} runs: {len(self.executed)} executed, {len(self.skipped)} skipped (finished), "
                f"{len(self.failed)} failed, {len(self.not_started)} not started, {len(self.rerun)} re-run; "
                f"{self.output_dir}")

    def rows(self) -> list:
        """One dict per run this call looked at: ``run_id``, ``outcome``, ``detail``."""
        out = [{"run_id": r, "outcome": "skipped", "detail": ""} for r in self.skipped]
        for r in self.executed:
            s = self.summaries.get(r) or {}
            detail = f"final_loss={s['final_loss']:.4g}" if isinstance(s.get("final_loss"), float) else ""
            out.append({"run_id": r, "outcome": "executed", "detail": (f"re-run: {self.rerun[r]}; " if r in self.rerun
                                                                            else "") + detail})
        out += [{"run_id": r, "outcome": "failed", "detail": m} for r, m in self.failed.items()]
        out += [{"run_id": r, "outcome": "not started", "detail": ""} for r in self.not_started]
        return out

    def to_table(self) -> str:
        lines = [f"SweepReport: {self.summary()}"] + [f"{r['run_id']}  {r['outcome']:<11} {r['detail']}".rstrip()
                                                      for r in self.rows()]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"output_dir": self.output_dir, "total": self.total, "skipped": self.skipped,
                "executed": self.executed, "failed": self.failed, "not_started": self.not_started,
                "rerun": self.rerun, "summaries": self.summaries}

    def plot(self, ax=None):
        """Final training loss of each run executed in this call (log scale), outcomes in the title.

        Returns the matplotlib axes (a new figure when ``ax`` is None).
        """
        from .._plotting import plt_or_raise

        if ax is None:
            _, ax = plt_or_raise().subplots(figsize=(6.4, 3.6))
        runs = [r for r in self.executed if isinstance((self.summaries.get(r) or {}).get("final_loss"), float)]
        losses = [self.summaries[r]["final_loss"] for r in runs]
        if runs:
            ax.bar(range(len(runs)), losses, color="C0")
            ax.set_xticks(range(len(runs)), runs, rotation=90, fontsize=6)
            if min(losses) > 0:
                ax.set_yscale("log")
        else:
            ax.text(0.5, 0.5, "no run executed in this call", ha="center", va="center", transform=ax.transAxes)
        ax.set_ylabel("final training loss")
        ax.set_title(f"{len(self.executed)} executed, {len(self.skipped)} skipped, {len(self.failed)} failed, "
                     f"{len(self.not_started)} not started", fontsize=9)
        return ax

    @classmethod
    def _from_dict(cls, obj: dict) -> "SweepReport":
        try:
            return cls(**{k: obj[k] for k in ("output_dir", "total", "skipped", "executed", "failed", "not_started",
                                              "rerun", "summaries")})
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a complete sweep report: {exc}") from None


def run_sweep(config, *, executor: Executor | None = None, max_workers: int | None = None,
              progress: bool = True, stop_after: int | None = None, run_fn=None) -> SweepReport:
    """Run every configuration of a sweep that has not finished yet.

    Parameters
    ----------
    config : dict or path
        A config mapping (see the module docstring; needs ``output_dir``) or a config file path.
    executor : concurrent.futures.Executor, optional
        Default: a local ``ProcessPoolExecutor(max_workers)``.  For a dask cluster pass
        ``distributed.Client(address).get_executor()``.  An executor passed in is not shut down.
    max_workers : int, optional
        Workers of the default process pool, at most 4 x the CPU count; for any executor at most
        ``2 * max_workers`` runs (default 8) are in flight at once, which bounds what
        ``stop_after`` lets finish.
    progress : bool
        One line per finished run on stderr, and one per existing run file that is re-run,
        saying why.
    stop_after : int, optional
        Stop submitting after this many runs have finished in this call (in-flight runs still
        finish and are written); used to interrupt a sweep deliberately.
    run_fn : callable, optional
        Replacement for :func:`execute_run` with the same signature (must be picklable for process
        executors).

    Returns
    -------
    SweepReport
    """
    if not isinstance(config, dict):
        config = load_config(config)
    if not config.get("output_dir"):
        raise ValueError("sweep config needs an 'output_dir'")
    runs = expand_config(config)
    if max_workers is not None:
        max_workers = check_workers(max_workers)
    if stop_after is not None:
        stop_after = check_int(stop_after, "stop_after", minimum=1)
    fn = execute_run if run_fn is None else run_fn
    out_dir = config["output_dir"]
    os.makedirs(out_dir, exist_ok=True)
    with DirLock(out_dir) as lock:
        if lock.acquired:
            _remove_stale_temp_files(out_dir)
        _write_manifest(out_dir, config, runs)
        rep = SweepReport(out_dir, len(runs))
        todo = []
        for r in runs:
            path = os.path.join(out_dir, f"{r['run_id']}.npz")
            problem = run_file_problem(path, r)
            if problem is None:
                rep.skipped.append(r["run_id"])
                continue
            todo.append((r, path))
            if problem != "missing":
                rep.rerun[r["run_id"]] = problem
                if progress:
                    print(f"sweep: re-running {r['run_id']}: {problem}", file=sys.stderr, flush=True)
        if todo and not os.access(out_dir, os.W_OK):  # refuse before any work, naming the folder
            raise PermissionError(errno.EACCES, f"cannot write the {len(todo)} unfinished run(s) here", out_dir)
        if progress:
            print(f"sweep {config.get('name') or ''}: {len(runs)} runs, {len(rep.skipped)} already finished, "
                  f"{len(todo)} to do -> {out_dir}", file=sys.stderr, flush=True)
        _execute(rep, todo, fn, executor, max_workers, progress, stop_after)
    if progress and rep.not_started:
        print(f"sweep stopped: {len(rep.not_started)} runs not started (run again to resume)", file=sys.stderr)
    return rep


def _execute(rep, todo, fn, executor, max_workers, progress, stop_after) -> None:
    own = executor is None
    if own:
        from concurrent.futures import ProcessPoolExecutor

        # the workers die with this process (no orphan goes on writing runs)
        executor = ProcessPoolExecutor(max_workers=max_workers, initializer=worker_init, initargs=(os.getpid(),))
    t0 = time.monotonic()
    queue = list(todo)
    n_workers = max_workers or getattr(executor, "_max_workers", None) or 4
    pending = {}
    stopped = False
    try:
        while queue or pending:
            while queue and not stopped and len(pending) < 2 * n_workers:
                r, path = queue.pop(0)
                pending[executor.submit(fn, r, path)] = r["run_id"]
            if not pending:
                break
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                rid = pending.pop(fut)
                try:
                    rep.summaries[rid] = fut.result()
                    rep.executed.append(rid)
                    status = "done"
                except Exception as exc:  # a failing run does not stop the others
                    rep.failed[rid] = f"{type(exc).__name__}: {exc}"
                    status = f"FAILED ({rep.failed[rid]})"
                if progress:
                    k = len(rep.executed) + len(rep.failed)
                    print(f"[{k}/{len(todo)}] {rid} {status} ({time.monotonic() - t0:.1f}s)", file=sys.stderr,
                          flush=True)
            if stop_after is not None and len(rep.executed) >= stop_after:
                stopped = True
            if stopped and not pending:
                break
    finally:
        rep.not_started = [r["run_id"] for r, _ in queue]
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
