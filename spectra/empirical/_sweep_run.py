"""One run of a sweep: its data, network and training from the settings, written atomically.

:func:`execute_run` is top-level and picklable, so that any executor (local processes, dask)
can call it; :func:`spectra.empirical.sweep.run_sweep` decides which runs to execute.
"""
from __future__ import annotations

import os
import time

from .._validation import check_int
from ._sweep_files import settings_hash

__all__ = ["execute_run", "CHECKPOINT_SUFFIX"]


def _make_data(spec: dict):
    from . import data as D

    spec = dict(spec or {})
    domain = spec.pop("domain", "cube")
    dim = check_int(spec.pop("dim", 6), "data.dim", minimum=1)
    n = spec.pop("n", None)
    n_test = check_int(spec.pop("n_test", 0) or 0, "data.n_test", minimum=0)
    dseed = check_int(spec.pop("data_seed", 0), "data.data_seed", minimum=0)
    tgt = dict(spec.pop("target", {"kind": "walsh", "subset": [0]}))
    if spec:
        raise ValueError(f"data: unknown keys {sorted(spec)}")
    X = D.sample_inputs(domain, dim, n, seed=dseed)
    Xt = D.sample_inputs(domain, dim, n_test, seed=dseed + 1) if n_test else None
    kind = tgt.pop("kind", "walsh")

    def f(Z):
        if kind == "walsh":
            return D.walsh_monomial(Z, tgt.get("subset", [0]))
        if kind == "polynomial":
            return D.random_cube_polynomial(Z, tgt.get("degree", 2), seed=dseed)
        if kind == "harmonic":
            return D.spherical_harmonic_target(Z, tgt.get("degree", 2), seed=dseed)
        if kind == "teacher":
            return D.teacher_target(Z, tgt.get("width", 64), tgt.get("depth", 1), tgt.get("activation", "relu"),
                                    seed=dseed)
        raise ValueError(f"data.target.kind must be walsh, polynomial, harmonic or teacher, got {kind!r}")

    return X, f(X), Xt, (f(Xt) if Xt is not None else None)


def execute_run(settings: dict, out_path: str) -> dict:
    """Run one sweep entry and save it atomically to ``out_path``; returns a small summary.

    Top-level (picklable) so that any executor, including dask's, can call it.
    """
    from .._threads import blas_threads
    from .network import MLP
    from .training import log_spaced_steps, train

    with blas_threads(1):  # workers run side by side: one BLAS thread each
        return _execute_run(settings, out_path, MLP, log_spaced_steps, train)


CHECKPOINT_SUFFIX = ".checkpoint.npz"


def _execute_run(settings, out_path, MLP, log_spaced_steps, train) -> dict:
    t0 = time.monotonic()
    X, y, Xt, yt = _make_data(settings.get("data", {}))
    net_kw = dict(settings.get("net", {}))
    width, depth = net_kw.pop("width", 64), net_kw.pop("depth", 1)
    tr = dict(settings.get("train", {}))
    n_steps = check_int(tr.pop("n_steps", 100), "train.n_steps", minimum=1)
    n_rec = tr.pop("n_records", 20)
    tr.setdefault("record", ["loss", "ntk"])
    for key in ("checkpoint_path", "resume"):
        if key in tr:
            raise ValueError(f"train.{key} is set by the sweep itself; remove it from the config")
    ckpt = None
    if "checkpoint_every" in tr:  # long runs: a killed sweep resumes them from their last checkpoint
        ckpt = tr["checkpoint_path"] = out_path[:-4] + CHECKPOINT_SUFFIX

    def attempt(resume):
        net = MLP(X.shape[1], width, depth, seed=settings["seed"], **net_kw)
        return train(net, X, y, n_steps=n_steps, X_test=Xt, y_test=yt, seed=settings["seed"],
                     record_steps=log_spaced_steps(n_steps, n_rec), **tr, **({"resume": True} if resume else {}))

    restarted = None
    try:
        run = attempt(ckpt is not None)
    except ValueError as exc:
        if ckpt is None or not str(exc).startswith(ckpt):
            raise
        restarted = str(exc)  # an unusable checkpoint (another version's, damaged): start afresh
        os.unlink(ckpt)
        run = attempt(False)
    run.config["sweep"] = {"run_id": settings["run_id"], "grid": settings.get("grid", {}),
                           "config_hash": settings_hash(settings)}
    run.save(out_path)
    if ckpt is not None and os.path.exists(ckpt):
        os.unlink(ckpt)  # the run file holds everything now
    out = {"run_id": settings["run_id"], "final_loss": float(run.train_loss[-1]), "diverged": run.diverged,
           "seconds": time.monotonic() - t0}
    if restarted:
        out["restarted"] = restarted
    return out
