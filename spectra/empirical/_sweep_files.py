"""The files of a sweep: which run files count as finished, the manifest, and the table of results.

* :func:`settings_hash` -- SHA-256 of one run's settings, stored in its run file;
* :func:`run_file_problem` -- why a run file does not (yet) hold its finished run;
* ``sweep.json`` -- the manifest: format, version, name, run ids and each run's settings;
* :func:`load_sweep_folder` -- one row per run (settings and final metrics) as a pandas DataFrame
  (the public entry point is :func:`spectra.empirical.sweep.load_sweep`).
"""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from .._io import _TMP_PREFIX, atomic_write
from .._results import require_pandas

__all__ = ["settings_hash", "run_file_problem", "load_sweep_folder"]

_SECTIONS = ("data", "net", "train")
MANIFEST_FORMAT = "spectra.sweep"
MANIFEST_VERSION = 1


def _settings_blob(settings: dict) -> bytes:
    return json.dumps({k: settings.get(k) for k in (*_SECTIONS, "seed")}, sort_keys=True, default=str).encode()


def settings_hash(settings: dict) -> str:
    """SHA-256 of one run's settings (data, net, train, seed): stored in its file, checked on resume.

    Examples
    --------
    >>> a = {"train": {"lr": 0.1}, "seed": 0, "run_id": "x"}
    >>> settings_hash(a) == settings_hash(dict(a, run_id="y")) != settings_hash(dict(a, seed=1))
    True
    """
    return hashlib.sha256(_settings_blob(settings)).hexdigest()


def run_file_problem(path, settings: dict) -> str | None:
    """Why the file ``path`` does not hold the finished run ``settings`` (None: it does).

    ``"missing"`` when there is no file; otherwise a sentence naming the file: unreadable or
    invalid (:meth:`TrainingRun.load`), another run's file, written for other settings, or
    stopped before its last step without diverging.
    """
    return _check_run_file(os.fspath(path), settings)[0]


def _check_run_file(path: str, settings: dict):
    """``(problem or None, the loaded run or None)``."""
    if not os.path.lexists(path):
        return "missing", None
    from .training import TrainingRun

    try:
        run = TrainingRun.load(path)
    except ValueError as exc:
        return str(exc).splitlines()[0], None
    except OSError as exc:
        return f"{path}: unreadable ({exc.strerror or exc})", None
    sweep = run.config.get("sweep") if isinstance(run.config.get("sweep"), dict) else {}
    rid = settings["run_id"]
    if sweep.get("run_id") != rid:
        return f"{path}: holds run {sweep.get('run_id')!r}, not {rid!r}", run
    if sweep.get("config_hash") != settings_hash(settings):
        return f"{path}: written for other settings than run {rid}'s (settings hash differs)", run
    n_steps = (settings.get("train") or {}).get("n_steps", 100)
    last = int(run.steps[-1]) if len(run.steps) else -1
    if not run.diverged and last != n_steps:
        return f"{path}: incomplete run (last recorded step {last}, expected {n_steps})", run
    return None, run


def _remove_stale_temp_files(folder: str) -> None:
    # only called while holding the folder's lock: a temporary file there is a dead sweep's
    for name in os.listdir(folder):
        if name.startswith(_TMP_PREFIX):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


def _write_manifest(out_dir: str, config: dict, runs: list) -> None:
    manifest = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "name": config.get("name"),
                "runs": [r["run_id"] for r in runs],
                "settings": {r["run_id"]: {k: r.get(k) for k in (*_SECTIONS, "seed", "grid")} for r in runs}}
    text = json.dumps(manifest, indent=1, default=str)
    path = os.path.join(out_dir, "sweep.json")
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text:
                return  # unchanged: a finished sweep in a read-only folder still reports
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write(path, lambda fh: fh.write(text))


def _read_manifest(folder: str) -> dict:
    path = os.path.join(folder, "sweep.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"no sweep manifest {path}: not a sweep output folder (run the sweep first)")
    try:
        with open(path, encoding="utf-8") as fh:
            man = json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a sweep manifest (not JSON: {exc})") from None
    if not isinstance(man, dict) or "settings" not in man or man.get("format", MANIFEST_FORMAT) != MANIFEST_FORMAT:
        raise ValueError(f"{path}: not a sweep manifest of this spectra version (run the sweep again to "
                         f"rewrite it; finished runs are not redone)")
    if man.get("version") != MANIFEST_VERSION or not isinstance(man["settings"], dict):
        raise ValueError(f"{path}: unsupported sweep manifest version {man.get('version')!r} "
                         f"(this spectra reads {MANIFEST_VERSION})")
    return man


def _flatten(prefix: str, value, out: dict) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:  # lists (subsets, record) as JSON text, so that every cell is hashable
        out[prefix] = json.dumps(value) if isinstance(value, (list, dict)) else value


def _metrics(run) -> dict:
    from .metrics import kernel_alignment, sharpness

    m = {"final_step": int(run.steps[-1]) if len(run.steps) else None,
         "final_train_loss": float(run.train_loss[-1]) if len(run.train_loss) else np.nan,
         "min_train_loss": float(np.min(run.train_loss)) if len(run.train_loss) else np.nan,
         "final_test_loss": float(run.test_loss[-1]) if run.test_loss is not None and len(run.test_loss) else np.nan,
         "diverged": bool(run.diverged)}
    if run.ntk_train is not None and run.ntk_train.ndim == 3 and len(run.steps):
        m["final_ntk_alignment"] = kernel_alignment(run.ntk_train[-1], run.y_train)
        m["final_sharpness"] = sharpness(run.ntk_train[-1], float(run.lr[-1]))
    return m


def load_sweep_folder(path, *, unfinished: bool = False):
    """:func:`spectra.empirical.sweep.load_sweep` of an output folder."""
    pd = require_pandas()
    path = os.fspath(path)
    man = _read_manifest(path)
    rows = []
    for rid in man.get("runs", list(man["settings"])):
        settings = dict(man["settings"].get(rid) or {}, run_id=rid)
        problem, run = _check_run_file(os.path.join(path, f"{rid}.npz"), settings)
        if problem is not None and not unfinished:
            continue
        row = {"run_id": rid, "status": "finished" if problem is None else problem, "seed": settings.get("seed")}
        for sec in _SECTIONS:
            _flatten(sec, settings.get(sec) or {}, row)
        if problem is None:
            row.update(_metrics(run))
        rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs.update({"name": man.get("name"), "output_dir": path, "n_runs": len(man["settings"])})
    return df
