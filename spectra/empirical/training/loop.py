"""The one training loop, :func:`train`, and its small private steps."""
from __future__ import annotations

import math
import os
import time
import warnings

import numpy as np

from ..._validation import as_generator, check_int, check_positive
from .checkpoint import Checkpointer, run_key
from .losses import LOSSES, prepare_targets
from .optimizers import optimizer_from
from ._steps import Batches, Progress, Recorder, all_finite
from .run import TrainingDivergedError, TrainingRun, log_spaced_steps
from .schedules import Constant, schedule_from_dict

__all__ = ["train"]

_RECORDABLE = ("loss", "outputs", "ntk", "ck", "weights")
_PROTOCOL = ("params", "param_names", "n_outputs", "forward", "backward", "check_input")

def train(net, X, y, *, n_steps: int, lr=None, schedule=None, optimizer="gd", loss: str = "mse",
          trainable="all", batch_size=None, X_test=None, y_test=None, X_probe=None, record_steps=None,
          record=("loss", "outputs", "ntk", "ck", "weights"), callbacks=(), seed=0,
          progress: bool = False, on_divergence: str = "stop", max_loss=None, save_path=None,
          checkpoint_path=None, checkpoint_every=None, resume=False) -> TrainingRun:
    """Train ``net`` in place and record snapshots.

    ``net`` is any object with the network protocol, e.g. :class:`~spectra.empirical.MLP` or
    :class:`~spectra.empirical.TwoLayerStudent`:

    * ``params``: list of the live parameter arrays (updated in place);
    * ``param_names``: their names, same order (``"W1"``, ``"b1"``, ...);
    * ``n_outputs``: number of outputs ``C``;
    * ``check_input(X, name)``: ``X`` validated as an ``(n, d)`` array for this network;
    * ``forward(X) -> (out, cache)``: outputs of shape ``(n, C)`` and what ``backward`` needs;
    * ``backward(cache, grad_out) -> grads``: gradients of the loss w.r.t. ``params`` given
      ``grad_out = d loss / d out``;
    * ``features(X)``: the last hidden features;
    * optionally ``ntk_gram(X)``, ``ck_gram(X)`` (needed to record ``"ntk"``/``"ck"``), ``config``
      (a JSON-serialisable dict stored in the run) and ``depth`` (enables ``trainable="last"``
      and layer numbers).

    Parameters
    ----------
    net : network
        Trained in place (its parameters at the end are the final ones).
    X : array_like, shape (n, d)
    y : array_like, shape (n,) or (n, C)
        Regression targets (``"mse"``) or integer labels / one-hot rows (``"cross_entropy"``).
    n_steps : int
        Number of parameter updates ``>= 1``.
    lr : float, optional
        Constant learning rate ``> 0`` (shortcut for ``schedule=Constant(lr)``).
    schedule : Schedule or dict, optional
        Learning-rate schedule; milestones past ``n_steps`` are an error.
    optimizer : {"gd", "sgd", "adam"}, dict or optimizer object
        ``GD()``, ``SGD(momentum=...)``, ``Adam(...)``.
    loss : {"mse", "cross_entropy"}
    trainable : "all", "last" or list of layer numbers ``1..L+1`` / parameter names ``"W2"``
        Which parameters are updated; ``"last"`` trains only the readout (the CK regime: the NTK
        is then the CK plus the bias term).  Frozen parameters keep their initial values.
    batch_size : int, optional
        Samples per minibatch, drawn without replacement each epoch from the generator seeded by
        ``seed``; default full batch.  (``SGD(batch_size=...)`` is still accepted.)
    X_test, y_test : optional test set (loss and outputs recorded).
    X_probe : array_like, shape (n_probe, d), optional
        Points on which the NTK/CK Grams and outputs are also recorded.
    record_steps : sequence of int, optional
        Snapshot steps in ``[0, n_steps]``; default :func:`log_spaced_steps`.
    record : iterable of {"loss", "outputs", "ntk", "ck", "weights"}
    callbacks : sequence of callables ``cb(step, net, info) -> None``
        Called at every snapshot, ``info`` = dict of the quantities just recorded.
    seed : int or numpy.random.Generator
        Seeds the minibatch order (the network's initialization has its own seed).
    progress : bool
        Print progress on stderr (about once a second).
    on_divergence : {"stop", "raise"}
        When the loss, a gradient or a trained parameter becomes inf/NaN (or the loss exceeds
        ``max_loss``): ``"stop"`` ends the run, keeps the snapshots recorded before and emits a
        ``RuntimeWarning`` (``run.diverged`` is True and ``run.message`` says when); ``"raise"``
        raises :class:`TrainingDivergedError` whose ``.run`` holds those snapshots.
    max_loss : float, optional
        A minibatch loss above this value also counts as divergence (default: only inf/NaN).
    save_path : path, optional
        Save the run there (atomically) when it ends, also after a divergence.
    checkpoint_path : path, optional
        Write a checkpoint there (atomically) every ``checkpoint_every`` updates and after the
        last one: parameters, optimizer state, minibatch generator state, step, histories and
        the snapshots so far (:mod:`~spectra.empirical.training.checkpoint`).
    checkpoint_every : int, optional
        Updates between checkpoints (default ``max(1, n_steps // 20)``); needs ``checkpoint_path``.
    resume : bool or path
        ``True``: continue from ``checkpoint_path`` if that file exists (else start afresh); a
        path: continue from that checkpoint (it must exist).  Call ``train`` with the same
        arguments and a network built the same way: the result is bitwise identical to an
        uninterrupted run (GD, SGD and Adam, full batch or minibatches).  A checkpoint written
        by another training call is refused with a ``ValueError``.  Callbacks are called only
        for the snapshots taken after the resumed step.

    Returns
    -------
    TrainingRun

    Examples
    --------
    >>> from spectra.empirical import MLP
    >>> net = MLP(2, 16, depth=1, seed=0)
    >>> X = np.random.default_rng(0).standard_normal((8, 2)); y = X[:, 0]
    >>> run = train(net, X, y, n_steps=50, lr=0.5, record=("loss",))
    >>> bool(run.train_loss[-1] < run.train_loss[0])
    True
    """
    _check_network(net)
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    data = _check_data(net, X, y, X_test, y_test, X_probe, loss)
    sched = _check_schedule(lr, schedule, n_steps)
    opt = optimizer_from(optimizer)
    idx = _trainable_indices(net, trainable)
    record = _check_record(record)
    if on_divergence not in ("stop", "raise"):
        raise ValueError(f"on_divergence must be 'stop' or 'raise', got {on_divergence!r}")
    max_loss = math.inf if max_loss is None else check_positive(max_loss, "max_loss")
    rsteps = _check_record_steps(record_steps, n_steps)
    callbacks = _check_callbacks(callbacks)
    batch = _check_batch_size(batch_size, opt, data["X"].shape[0])
    rng = as_generator(seed)

    config = _run_config(net, n_steps, sched, opt, loss, idx, batch, seed, record, data)
    ckpt, resume_from = _check_checkpointing(checkpoint_path, checkpoint_every, resume, n_steps,
                                             run_key(dict(config, max_loss=max_loss), data, rsteps))
    recorder = Recorder(net, data, LOSSES[loss], record, callbacks)
    hist = _optimise(net, data, LOSSES[loss], sched, opt, idx, batch, rng, n_steps, set(rsteps.tolist()),
                     recorder, max_loss, progress, ckpt, resume_from)
    run = recorder.to_run(hist, config)
    if save_path is not None:
        run.save(save_path)
    if run.diverged:
        if on_divergence == "raise":
            raise TrainingDivergedError(run.message, run)
        warnings.warn(run.message, RuntimeWarning, stacklevel=2)
    return run


# ----------------------------------------------------------------------------- argument checks
def _check_network(net) -> None:
    missing = [a for a in _PROTOCOL if not hasattr(net, a)]
    if missing:
        raise TypeError(f"net must implement the network protocol ({', '.join(_PROTOCOL)}), e.g. a "
                        f"spectra.empirical.MLP; {type(net).__name__} lacks {missing}")


def _check_data(net, X, y, X_test, y_test, X_probe, loss) -> dict:
    X = net.check_input(X, "X")
    data = {"X": X, "Y": prepare_targets(y, X.shape[0], loss, net.n_outputs, "y"),
            "X_test": None, "Y_test": None, "X_probe": None}
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test must be given together")
    if X_test is not None:
        data["X_test"] = net.check_input(X_test, "X_test")
        data["Y_test"] = prepare_targets(y_test, data["X_test"].shape[0], loss, net.n_outputs, "y_test")
    if X_probe is not None:
        data["X_probe"] = net.check_input(X_probe, "X_probe")
    return data


def _check_schedule(lr, schedule, n_steps):
    if (lr is None) == (schedule is None):
        raise ValueError("give exactly one of lr (a constant rate) or schedule")
    sched = Constant(lr) if schedule is None else schedule_from_dict(schedule)
    sched.check(n_steps)
    return sched


def _trainable_indices(net, trainable) -> list:
    names = list(net.param_names)
    if trainable is None or (isinstance(trainable, str) and trainable == "all"):
        return list(range(len(names)))
    if isinstance(trainable, str) and trainable != "last":
        trainable = [trainable]
    if trainable == "last" or any(not isinstance(t, str) for t in trainable):
        if not hasattr(net, "depth"):
            raise ValueError(f"trainable: 'last' and layer numbers need a layered network (an MLP); "
                             f"name the parameters instead, from {names}")
        n_layers = net.depth + 1
    if trainable == "last":
        return [names.index(f"W{n_layers}"), names.index(f"b{n_layers}")]
    idx = set()
    for t in trainable:
        if isinstance(t, str):
            if t not in names:
                raise ValueError(f"trainable: unknown parameter {t!r}; names are {names}, or 'all'/'last'")
            idx.add(names.index(t))
        else:
            l = check_int(t, "trainable layer", minimum=1, maximum=n_layers)
            idx.update((names.index(f"W{l}"), names.index(f"b{l}")))
    if not idx:
        raise ValueError("trainable must select at least one parameter")
    return sorted(idx)


def _check_record(record) -> tuple:
    record = tuple(record)
    bad = [r for r in record if r not in _RECORDABLE]
    if bad:
        raise ValueError(f"record: unknown items {bad}; allowed {list(_RECORDABLE)}")
    return record


def _check_record_steps(record_steps, n_steps) -> np.ndarray:
    if record_steps is None:
        return log_spaced_steps(n_steps)
    rsteps = np.unique(np.asarray([check_int(s, "record_steps", minimum=0) for s in np.atleast_1d(record_steps)]))
    if rsteps.size and rsteps[-1] > n_steps:
        raise ValueError(f"record_steps {rsteps[rsteps > n_steps].tolist()} are past the run's end (n_steps={n_steps})")
    return rsteps


def _check_callbacks(callbacks) -> list:
    callbacks = list(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables cb(step, net, info), got {cb!r}")
    return callbacks


def _check_checkpointing(path, every, resume, n_steps, key):
    """The :class:`Checkpointer` (``path`` None: no checkpoints) and the file to resume from (or None)."""
    if every is not None:
        if path is None:
            raise ValueError("checkpoint_every needs checkpoint_path")
        every = check_int(every, "checkpoint_every", minimum=1)
    every = max(1, n_steps // 20) if every is None else every
    source = None
    if isinstance(resume, bool):
        if resume:
            if path is None:
                raise ValueError("resume=True needs checkpoint_path (or pass resume=<checkpoint file>)")
            source = path if os.path.exists(path) else None
    elif isinstance(resume, (str, os.PathLike)):
        source = os.fspath(resume)
        if not os.path.exists(source):
            raise FileNotFoundError(f"resume: no such checkpoint file: {source}")
    else:
        raise TypeError(f"resume must be True/False or a checkpoint path, got {type(resume).__name__}")
    return Checkpointer(path, every, key), source


def _check_batch_size(batch_size, opt, n):
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        if opt.batch_size is not None and opt.batch_size != batch_size:
            raise ValueError(f"batch_size={batch_size} disagrees with the optimizer's batch_size={opt.batch_size}; "
                             f"give it once, to train")
    batch = opt.batch_size if batch_size is None else batch_size
    if batch is not None and batch > n:
        raise ValueError(f"batch_size must be <= n = {n}, got {batch}")
    return batch


def _run_config(net, n_steps, sched, opt, loss, idx, batch, seed, record, data) -> dict:
    net_config = dict(net.config) if hasattr(net, "config") else {"class": type(net).__name__}
    return {"net": net_config, "n_steps": n_steps, "schedule": sched.to_dict(), "optimizer": opt.to_dict(),
            "batch_size": batch, "loss": loss, "trainable": [net.param_names[i] for i in idx],
            "seed": _jsonable_seed(seed), "record": list(record), "n_train": int(data["X"].shape[0]),
            "n_test": None if data["X_test"] is None else int(data["X_test"].shape[0]),
            "n_probe": None if data["X_probe"] is None else int(data["X_probe"].shape[0])}


def _jsonable_seed(seed):
    return None if isinstance(seed, np.random.Generator) else int(seed)


# ----------------------------------------------------------------------------- the loop
def _rate(sched, step: int, n_steps: int) -> float:
    """The schedule's rate at ``step``: a finite number ``>= 0`` or a ``ValueError`` naming the step."""
    try:
        lr = float(sched(min(step, n_steps - 1)))
    except OverflowError:
        lr = math.inf
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"the learning-rate schedule {sched.to_dict() if hasattr(sched, 'to_dict') else sched!r} "
                         f"gives lr={lr!r} at step {step}; rates must be finite numbers >= 0")
    return lr


def _optimise(net, data, loss_fn, sched, opt, idx, batch, rng, n_steps, rec, recorder, max_loss, progress,
              ckpt, resume_from):
    """Run the updates; returns the per-update loss and rate histories and the divergence message."""
    X, Y = data["X"], data["Y"]
    loss_hist = np.full(n_steps, np.nan)
    lr_hist = np.full(n_steps, np.nan)
    batches = None if batch is None else Batches(X.shape[0], batch, rng)
    start = 0
    if resume_from is not None:
        start = ckpt.restore(resume_from, net, opt, rng, batches, loss_hist, lr_hist, recorder)
    bar = Progress(progress, n_steps, start, rec)
    n_hist, done, message = start, start, ""

    def stop(what, step, lr):
        return (f"training diverged: {what} at step {step} (lr={lr:.4g}); "
                f"kept {len(recorder.snaps['steps'])} snapshots recorded before")

    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected explicitly
        for step in range(start, n_steps + 1):
            cur_lr = _rate(sched, step, n_steps)
            try:
                t_step, t_snap = time.perf_counter(), bar.t_snap
                if step in rec or batches is None:
                    out_full, cache_full = net.forward(X)
                    if step in rec:
                        full_loss = loss_fn(out_full, Y)[0]
                        if not (np.all(np.isfinite(out_full)) and math.isfinite(full_loss)):
                            if batches is None and step < n_steps:  # the full batch is this update's batch
                                loss_hist[step], lr_hist[step] = full_loss, cur_lr
                            message, n_hist = stop("non-finite outputs or loss", step, cur_lr), step + 1
                            break
                        bar.timed_snapshot(recorder.snapshot, step, out_full, cur_lr)
                if step == n_steps:
                    break
                if batches is None:
                    out, cache, Yb = out_full, cache_full, Y
                else:
                    sel = batches.next()
                    out, cache = net.forward(X[sel])
                    Yb = Y[sel]
                lval, gout = loss_fn(out, Yb)
                loss_hist[step], lr_hist[step], n_hist = lval, cur_lr, step + 1
                if not math.isfinite(lval) or lval > max_loss:
                    message = stop(f"loss is {lval}", step, cur_lr)
                    break
                grads = net.backward(cache, gout)
                if not all_finite(grads, idx):
                    message = stop("non-finite gradient", step, cur_lr)
                    break
                opt.step(net.params, grads, cur_lr, idx)
                done = step + 1
                if not all_finite(net.params, idx):
                    message = stop("non-finite parameters after the update", step, cur_lr)
                    break
                if ckpt.due(done, n_steps):
                    ckpt.save(done, net, opt, rng, batches, loss_hist, lr_hist, recorder)
                bar.add_update(time.perf_counter() - t_step - (bar.t_snap - t_snap))  # the update alone
                bar.tick(done, lval, cur_lr)
            except (ArithmeticError, np.linalg.LinAlgError) as exc:  # e.g. a custom activation's math.exp
                message = stop(f"the network raised {type(exc).__name__} ({exc})", step, cur_lr)
                break
            except RuntimeError as exc:
                raise ValueError(f"train: the network raised {type(exc).__name__} at step {step}: {exc} (a custom "
                                 "activation or network?)") from exc

    bar.close(done)
    return {"loss": loss_hist[:n_hist], "lr": lr_hist[:n_hist], "message": message}
