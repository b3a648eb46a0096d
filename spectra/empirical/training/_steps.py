"""The parts of :func:`~spectra.empirical.training.train`'s loop: the recorder of snapshots, the
minibatch order, the finiteness check and the progress report."""
from __future__ import annotations

import time

import numpy as np

from ..._progress import Progress as _Lines
from .run import TrainingRun

__all__ = ["Recorder", "Progress", "Batches", "all_finite", "SNAP_KEYS"]

SNAP_KEYS = ("steps", "lr", "train_loss", "test_loss", "ntk_train", "ntk_probe", "ck_train", "ck_probe",
             "outputs_train", "outputs_test", "outputs_probe")


# ----------------------------------------------------------------------------- recording
class Recorder:
    """Collects the snapshots and builds the :class:`TrainingRun`."""

    def __init__(self, net, data, loss_fn, record, callbacks):
        self.net, self.data, self.loss_fn, self.record, self.callbacks = net, data, loss_fn, record, callbacks
        self.snaps = {k: [] for k in SNAP_KEYS}
        self.weights = {name: [] for name in net.param_names} if "weights" in record else {}

    def snapshot(self, step, out_train, lr) -> None:
        net, d, rec = self.net, self.data, self.record
        info = {"steps": step, "lr": lr, "train_loss": self.loss_fn(out_train, d["Y"])[0]}
        if d["X_test"] is not None:
            out_test = net.forward(d["X_test"])[0]
            info["test_loss"] = self.loss_fn(out_test, d["Y_test"])[0]
            if "outputs" in rec:
                info["outputs_test"] = out_test
        if "outputs" in rec:
            info["outputs_train"] = out_train.copy()
            if d["X_probe"] is not None:
                info["outputs_probe"] = net.forward(d["X_probe"])[0]
        for kind in ("ntk", "ck"):
            if kind in rec:
                gram = getattr(net, f"{kind}_gram")
                info[f"{kind}_train"] = gram(d["X"])
                if d["X_probe"] is not None:
                    info[f"{kind}_probe"] = gram(d["X_probe"])
        for k, v in info.items():
            self.snaps[k].append(v)
        for name, p in zip(net.param_names, net.params):
            if name in self.weights:
                self.weights[name].append(p.copy())
        for cb in self.callbacks:
            cb(step, net, info)

    def _stack(self, key):
        v = self.snaps[key]
        return np.asarray(v) if v else None

    def to_run(self, hist, config) -> TrainingRun:
        d, s = self.data, self.snaps
        weights = None
        if self.weights and self.weights[self.net.param_names[0]]:
            weights = {k: np.asarray(v) for k, v in self.weights.items()}
        return TrainingRun(
            steps=np.asarray(s["steps"], dtype=int), lr=np.asarray(s["lr"], dtype=float),
            train_loss=np.asarray(s["train_loss"], dtype=float), test_loss=self._stack("test_loss"),
            loss_history=hist["loss"], lr_history=hist["lr"],
            ntk_train=self._stack("ntk_train"), ntk_probe=self._stack("ntk_probe"),
            ck_train=self._stack("ck_train"), ck_probe=self._stack("ck_probe"),
            outputs_train=self._stack("outputs_train"), outputs_test=self._stack("outputs_test"),
            outputs_probe=self._stack("outputs_probe"), X_train=d["X"], y_train=d["Y"],
            X_test=d["X_test"], y_test=d["Y_test"], X_probe=d["X_probe"], weights=weights,
            config=config, diverged=bool(hist["message"]), message=hist["message"])


class Progress:
    """Progress of a training run on stderr, with a time left that tells the truth.

    Updates and snapshots cost very different amounts (a snapshot computes Gram matrices) and
    the snapshots are usually log-spaced, crowded at the start: the time left is the measured
    mean time of an update times the updates left, plus the measured mean time of a snapshot
    times the snapshots left.  Lines go through :class:`spectra._progress.Progress`'s
    ``line`` (at most one every 2 s, and the last).
    """

    def __init__(self, enabled, n_steps, start, record_steps):
        self.n_steps, self.start = n_steps, start
        self.snaps_left = sum(1 for s in record_steps if s >= start)
        self.t_update = self.t_snap = 0.0
        self.n_update = self.n_snap = 0
        self.t_start = time.perf_counter()
        self.quiet, self._last = not enabled, self.t_start
        self.out = _Lines(n_steps, "train", quiet=not enabled, bar=False)

    def timed_snapshot(self, fn, *args) -> None:
        t = time.perf_counter()
        fn(*args)
        self.t_snap += time.perf_counter() - t
        self.n_snap += 1
        self.snaps_left -= 1

    def add_update(self, seconds: float) -> None:
        self.t_update += seconds
        self.n_update += 1

    def eta(self, done: int) -> float:
        """Seconds left: measured mean update and snapshot times times what is left of each."""
        per_update = self.t_update / self.n_update if self.n_update else 0.0
        per_snap = self.t_snap / self.n_snap if self.n_snap else 0.0
        return per_update * (self.n_steps - done) + per_snap * max(self.snaps_left, 0)

    def tick(self, done, lval, lr) -> None:
        now = time.perf_counter()
        if self.quiet or now - self._last < 2.0:
            return
        self._last = now
        self.out.line(f"{100.0 * done / self.n_steps:3.0f}% step {done}/{self.n_steps} loss {lval:.4g} lr {lr:.3g} "
                      f"({now - self.t_start:.1f} s elapsed, ~{self.eta(done):.0f} s left)")

    def close(self, done) -> None:
        self.out.line(f"{done}/{self.n_steps} steps in {time.perf_counter() - self.t_start:.1f} s")
        self.out.close()


class Batches:
    """Minibatch indices: a fresh permutation of the ``n`` samples each epoch."""

    def __init__(self, n, batch, rng):
        self.n, self.batch, self.rng = n, batch, rng
        self.perm, self.pos = None, n

    def next(self):
        if self.pos + self.batch > self.n:
            self.perm, self.pos = self.rng.permutation(self.n), 0
        sel = self.perm[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return sel


def all_finite(arrays, idx) -> bool:
    return all(np.all(np.isfinite(arrays[i])) for i in idx)
