"""Training checkpoints: everything :func:`~spectra.empirical.training.train` needs to continue a run.

A checkpoint is one ``.npz`` file, written atomically (:func:`spectra._io.atomic_write`) every
``checkpoint_every`` updates.  It holds

* the step (number of updates done) and a key: the SHA-256 of the run's settings and data, so a
  checkpoint is only ever resumed by the training call that wrote it;
* every parameter array of the network;
* the optimizer's state (``state`` arrays: SGD's velocities, Adam's moments, and Adam's ``t``);
* the minibatch generator's bit-generator state and the current epoch's permutation and position;
* the per-update loss and rate histories so far, and every snapshot recorded so far.

Restoring these exactly makes the resumed run bitwise identical to an uninterrupted one (same
parameters, same minibatches, same floating-point operations in the same order).  A training
call that checkpoints to a path first removes the temporary files that a killed write of that
same checkpoint left behind (one writer per checkpoint path is assumed).
"""
from __future__ import annotations

import hashlib
import json
import os
import re

import numpy as np

from ..._io import _TMP_PREFIX, atomic_write
from ._npz import FileFormatError, check_array, read_npz

__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "Checkpointer", "run_key"]

CHECKPOINT_FORMAT = "spectra.training_checkpoint"
CHECKPOINT_VERSION = 1
_WHAT = "training-checkpoint"


def run_key(config: dict, data: dict, record_steps) -> str:
    """SHA-256 of a training call's settings, data arrays and recording steps."""
    h = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    for name in sorted(data):
        a = data[name]
        h.update(name.encode())
        if a is not None:
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
    h.update(np.asarray(record_steps, dtype=np.int64).tobytes())
    return h.hexdigest()


def _remove_stale_temp_files(path: str) -> None:
    """Remove the temporary files that a killed write of this checkpoint left beside it."""
    folder, name = os.path.split(os.path.abspath(path))
    pattern = re.compile(re.escape(_TMP_PREFIX) + r"[0-9a-f]{12}-" + re.escape(name[:100]) + "$")
    try:
        names = os.listdir(folder)
    except OSError:
        return  # no folder yet: nothing left behind
    for n in names:
        if pattern.match(n):
            try:
                os.unlink(os.path.join(folder, n))
            except OSError:
                pass


def _encode_state(x):
    """A bit generator's state as JSON (its arrays, e.g. MT19937's key, tagged)."""
    if isinstance(x, dict):
        return {k: _encode_state(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return {"__ndarray__": x.tolist(), "dtype": x.dtype.str}
    if isinstance(x, np.integer):
        return int(x)
    return x


def _decode_state(x):
    if isinstance(x, dict):
        if "__ndarray__" in x:
            return np.asarray(x["__ndarray__"], dtype=np.dtype(x["dtype"]))
        return {k: _decode_state(v) for k, v in x.items()}
    return x


class Checkpointer:
    """Writes and restores the checkpoints of one training call.

    Parameters
    ----------
    path : str
        The checkpoint file (written every ``every`` updates and after the last one).
    every : int
        Updates between checkpoints.
    key : str
        :func:`run_key` of the training call; a checkpoint with another key is refused.
    """

    def __init__(self, path, every: int, key: str):
        self.path = None if path is None else os.fspath(path)
        self.every, self.key = every, key
        if self.path is not None:
            _remove_stale_temp_files(self.path)

    def due(self, done: int, n_steps: int) -> bool:
        return self.path is not None and (done % self.every == 0 or done == n_steps)

    def save(self, done, net, opt, rng, batches, loss_hist, lr_hist, recorder) -> None:
        """Write the state after ``done`` updates."""
        arrays = {f"param__{i}": p for i, p in enumerate(net.params)}
        opt_layout = {}
        for i, v in getattr(opt, "state", {}).items():
            parts = v if isinstance(v, tuple) else (v,)
            opt_layout[str(i)] = [len(parts), isinstance(v, tuple)]
            arrays.update({f"opt__{i}__{j}": a for j, a in enumerate(parts)})
        snaps = {k: v for k, v in recorder.snaps.items() if v}
        arrays.update({f"snap__{k}": np.asarray(v) for k, v in snaps.items()})
        arrays.update({f"weight__{k}": np.asarray(v) for k, v in recorder.weights.items() if v})
        arrays["loss_hist"], arrays["lr_hist"] = loss_hist[:done], lr_hist[:done]
        if batches is not None and batches.perm is not None:
            arrays["perm"] = batches.perm
        meta = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "key": self.key, "step": int(done),
                "n_params": len(net.params), "optimizer": {"layout": opt_layout, "t": getattr(opt, "t", None)},
                "rng": {"bit_generator": type(rng.bit_generator).__name__,
                        "state": _encode_state(rng.bit_generator.state)},
                "batch_pos": None if batches is None else int(batches.pos),
                "n_snapshots": len(recorder.snaps["steps"])}
        arrays["__meta__"] = np.array(json.dumps(meta))
        atomic_write(self.path, lambda fh: np.savez(fh, **arrays), binary=True)

    def restore(self, path, net, opt, rng, batches, loss_hist, lr_hist, recorder) -> int:
        """Load ``path`` into the live objects (in place); returns the number of updates done."""
        path = os.fspath(path)
        data, meta = read_npz(path, format_name=CHECKPOINT_FORMAT, version=CHECKPOINT_VERSION, what=_WHAT)
        if meta.get("key") != self.key:
            raise FileFormatError(f"{path}: this checkpoint belongs to another training call (different network "
                                  f"settings, optimizer, schedule, data, seed or recording steps)")
        done = meta.get("step")
        if not isinstance(done, int) or not 0 <= done <= len(loss_hist):
            raise FileFormatError(f"{path}: corrupted checkpoint step {done!r}")
        if meta.get("n_params") != len(net.params):
            raise FileFormatError(f"{path}: {meta.get('n_params')} parameter arrays, the network has {len(net.params)}")
        new_params = [check_array(path, f"param__{i}", data.get(f"param__{i}", np.zeros(0)), ndim=p.ndim,
                                  shape=p.shape) for i, p in enumerate(net.params)]
        opt_state = self._optimizer_state(path, data, meta)
        hist = [check_array(path, k, data.get(k, np.zeros(0)), ndim=1, shape=(done,)) for k in ("loss_hist", "lr_hist")]
        snaps = {k: list(data[f"snap__{k}"]) for k in recorder.snaps if f"snap__{k}" in data}
        n_snap = meta.get("n_snapshots")
        if any(len(v) != n_snap for v in snaps.values()) or (n_snap and "steps" not in snaps):
            raise FileFormatError(f"{path}: the snapshot arrays do not all hold {n_snap} snapshots")
        weights = {k: list(data[f"weight__{k}"]) for k in recorder.weights if f"weight__{k}" in data}
        if any(len(v) != n_snap for v in weights.values()):
            raise FileFormatError(f"{path}: the weight snapshots do not hold {n_snap} snapshots")
        rng_meta = meta.get("rng") or {}
        if rng_meta.get("bit_generator") != type(rng.bit_generator).__name__:
            raise FileFormatError(f"{path}: the checkpoint's generator is {rng_meta.get('bit_generator')!r}, "
                                  f"the run's is {type(rng.bit_generator).__name__}")
        # everything checked: now change the live objects
        for p, q in zip(net.params, new_params):
            p[...] = q
        opt.state.clear()
        opt.state.update(opt_state)
        if meta["optimizer"].get("t") is not None:
            opt.t = int(meta["optimizer"]["t"])
        try:
            rng.bit_generator.state = _decode_state(rng_meta["state"])
        except (KeyError, TypeError, ValueError) as exc:
            raise FileFormatError(f"{path}: corrupted generator state: {exc}") from None
        if batches is not None:
            batches.perm = data.get("perm")
            batches.pos = int(meta.get("batch_pos") if batches.perm is not None else batches.n)
        loss_hist[:done], lr_hist[:done] = hist
        for k, v in snaps.items():
            recorder.snaps[k] = v
        for k, v in weights.items():
            recorder.weights[k] = v
        return done

    @staticmethod
    def _optimizer_state(path, data, meta) -> dict:
        state = {}
        layout = (meta.get("optimizer") or {}).get("layout", {})
        for i, (n_parts, is_tuple) in layout.items():
            parts = [data.get(f"opt__{i}__{j}") for j in range(n_parts)]
            if any(a is None for a in parts):
                raise FileFormatError(f"{path}: optimizer state of parameter {i} is missing")
            parts = [check_array(path, f"opt__{i}", np.array(a), ndim=a.ndim) for a in parts]
            state[int(i)] = tuple(parts) if is_tuple else parts[0]
        return state
