r"""Training an :class:`~spectra.empirical.network.MLP` while recording its kernels.

Losses (``n`` = number of samples in the batch, ``f`` the outputs, shape ``(n, C)``):

* ``"mse"``: :math:`L = \frac1{2n}\sum_{i,c}(f_{ic}-y_{ic})^2`.  With this normalisation the
  linearised full-batch GD dynamics :math:`f_{t+1}=f_t-\frac\eta nK(f_t-y)` are stable iff
  :math:`\eta\,\lambda_{\max}(K/n)<2` (``empirical-methods.md`` §5), which is the threshold
  monitored by :func:`spectra.empirical.metrics.sharpness`.
* ``"cross_entropy"``: :math:`L = -\frac1n\sum_i\log\operatorname{softmax}(f_i)_{y_i}`, with
  integer labels ``y`` of shape ``(n,)`` or one-hot/probability rows of shape ``(n, C)``.

Optimizers: :class:`GD` (full batch), :class:`SGD` (minibatches, optional momentum),
:class:`Adam`.  Learning-rate schedules: :class:`Constant`, :class:`StepDecay`,
:class:`Cosine`, :class:`Warmup` (wraps any schedule, so they compose).

:func:`train` runs the optimisation and records, at chosen steps (log-spaced by default), the
train/test loss, the NTK and CK Gram matrices on the training set and on a probe set, the
outputs and the weights.  The result, a :class:`TrainingRun`, is saved atomically to one
``.npz`` file (arrays plus a JSON metadata entry with a format/version marker, also written
to a ``.json`` side file for reading) and loaded back with :meth:`TrainingRun.load`.

A "step" is one parameter update; the snapshot "at step t" is taken after ``t`` updates, so
step 0 is the initialization and step ``n_steps`` the final network.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .._io import atomic_write
from .._validation import check_int

__all__ = [
    "Schedule",
    "Constant",
    "StepDecay",
    "Cosine",
    "Warmup",
    "schedule_from_dict",
    "GD",
    "SGD",
    "Adam",
    "mse_loss",
    "cross_entropy_loss",
    "log_spaced_steps",
    "TrainingRun",
    "TrainingDivergedError",
    "train",
]

FORMAT_NAME = "spectra.training_run"
FORMAT_VERSION = 1


def _check_lr(lr, name="lr") -> float:
    try:
        v = float(lr)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a positive number, got {lr!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {lr!r}")
    return v


# ----------------------------------------------------------------------------- schedules
class Schedule:
    """A learning-rate schedule: ``schedule(step) -> lr`` for ``step = 0, 1, ...``.

    ``check(n_steps)`` raises ``ValueError`` if the schedule refers to a step past the end of a
    run of ``n_steps`` updates.
    """

    def __call__(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, n_steps: int) -> None:
        """Validate against a run of ``n_steps`` updates (no-op by default)."""

    def to_dict(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


class Constant(Schedule):
    """Constant learning rate ``lr > 0``.

    Examples
    --------
    >>> Constant(0.1)(123)
    0.1
    """

    def __init__(self, lr: float):
        self.lr = _check_lr(lr)

    def __call__(self, step):
        return self.lr

    def to_dict(self):
        return {"kind": "constant", "lr": self.lr}


class StepDecay(Schedule):
    """``lr * factor**m`` where ``m`` = number of milestones ``<= step``.

    Parameters
    ----------
    lr : float
        Initial learning rate ``> 0``.
    milestones : sequence of int
        Strictly increasing steps ``>= 1`` at which the rate is multiplied by ``factor``; each
        must lie inside the run (``< n_steps``), checked by :meth:`check`.
    factor : float
        Multiplier in ``(0, 1]`` (or ``> 1`` for a rise, allowed).

    Examples
    --------
    >>> s = StepDecay(1.0, [10, 20], 0.5)
    >>> [s(0), s(10), s(25)]
    [1.0, 0.5, 0.25]
    """

    def __init__(self, lr: float, milestones, factor: float = 0.1):
        self.lr = _check_lr(lr)
        ms = [check_int(m, "milestones", minimum=1) for m in np.atleast_1d(milestones).tolist()]
        if any(b <= a for a, b in zip(ms, ms[1:])):
            raise ValueError(f"milestones must be strictly increasing, got {ms}")
        self.milestones = ms
        self.factor = _check_lr(factor, "factor")

    def __call__(self, step):
        m = sum(1 for s in self.milestones if step >= s)
        return self.lr * self.factor**m

    def check(self, n_steps):
        bad = [m for m in self.milestones if m >= n_steps]
        if bad:
            raise ValueError(f"schedule milestones {bad} are past the run's end (n_steps={n_steps}); "
                             f"milestones must be < n_steps")

    def to_dict(self):
        return {"kind": "step", "lr": self.lr, "milestones": self.milestones, "factor": self.factor}


class Cosine(Schedule):
    """Cosine decay from ``lr`` to ``final_lr`` over ``n_steps`` steps, then constant.

    Examples
    --------
    >>> s = Cosine(1.0, 100, final_lr=0.0)
    >>> [round(s(0), 3), round(s(50), 3), s(100)]
    [1.0, 0.5, 0.0]
    """

    def __init__(self, lr: float, n_steps: int, final_lr: float = 0.0):
        self.lr = _check_lr(lr)
        self.n_steps = check_int(n_steps, "n_steps", minimum=1)
        f = float(final_lr)
        if not math.isfinite(f) or f < 0 or f > self.lr:
            raise ValueError(f"final_lr must be in [0, lr={self.lr}], got {final_lr!r}")
        self.final_lr = f

    def __call__(self, step):
        t = min(step, self.n_steps) / self.n_steps
        return self.final_lr + 0.5 * (self.lr - self.final_lr) * (1 + math.cos(math.pi * t))

    def check(self, n_steps):
        if self.n_steps > n_steps:
            raise ValueError(f"cosine schedule length {self.n_steps} is past the run's end (n_steps={n_steps})")

    def to_dict(self):
        return {"kind": "cosine", "lr": self.lr, "n_steps": self.n_steps, "final_lr": self.final_lr}


class Warmup(Schedule):
    """Linear warm-up over ``n_warmup`` steps to the rate of ``inner`` (any schedule).

    ``lr(step) = inner(step) * (step + 1) / n_warmup`` for ``step < n_warmup``, then ``inner(step)``.

    Examples
    --------
    >>> s = Warmup(Constant(1.0), 4)
    >>> [s(0), s(3), s(10)]
    [0.25, 1.0, 1.0]
    """

    def __init__(self, inner: Schedule, n_warmup: int):
        if not isinstance(inner, Schedule):
            raise TypeError(f"inner must be a Schedule, got {type(inner).__name__}")
        self.inner = inner
        self.n_warmup = check_int(n_warmup, "n_warmup", minimum=1)

    def __call__(self, step):
        base = self.inner(step)
        return base * (step + 1) / self.n_warmup if step < self.n_warmup else base

    def check(self, n_steps):
        if self.n_warmup > n_steps:
            raise ValueError(f"warm-up length {self.n_warmup} is past the run's end (n_steps={n_steps})")
        self.inner.check(n_steps)

    def to_dict(self):
        return {"kind": "warmup", "n_warmup": self.n_warmup, "inner": self.inner.to_dict()}


def schedule_from_dict(d) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.to_dict` output (also a plain number = constant).

    Examples
    --------
    >>> schedule_from_dict({"kind": "step", "lr": 1.0, "milestones": [5], "factor": 0.1})(7)
    0.1
    """
    if isinstance(d, Schedule):
        return d
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        return Constant(d)
    if not isinstance(d, dict) or "kind" not in d:
        raise TypeError(f"schedule must be a Schedule, a number or a dict with a 'kind', got {d!r}")
    d = dict(d)
    kind = d.pop("kind")
    if kind == "constant":
        return Constant(**d)
    if kind == "step":
        return StepDecay(**d)
    if kind == "cosine":
        return Cosine(**d)
    if kind == "warmup":
        return Warmup(schedule_from_dict(d["inner"]), d["n_warmup"])
    raise ValueError(f"schedule kind must be one of constant, step, cosine, warmup; got {kind!r}")


# ----------------------------------------------------------------------------- optimizers
class GD:
    """Full-batch gradient descent: ``theta <- theta - lr * grad``.

    Examples
    --------
    >>> p = [np.array([1.0])]; GD().step(p, [np.array([2.0])], 0.25, [0]); p[0]
    array([0.5])
    """

    batch_size = None

    def __init__(self):
        self.state: dict = {}

    def step(self, params, grads, lr, indices):
        for i in indices:
            params[i] -= lr * grads[i]

    def to_dict(self):
        return {"kind": "gd"}


class SGD(GD):
    """Minibatch SGD with (heavy-ball or Nesterov) momentum.

    ``v <- momentum * v + grad``; ``theta <- theta - lr * v`` (Nesterov: ``lr * (grad + momentum*v)``).

    Parameters
    ----------
    batch_size : int or None
        Samples per minibatch, drawn without replacement each epoch from the seeded generator of
        :func:`train`; ``None`` = full batch.
    momentum : float in [0, 1)
    nesterov : bool

    Examples
    --------
    >>> opt = SGD(batch_size=8, momentum=0.9)
    >>> opt.to_dict()["momentum"]
    0.9
    """

    def __init__(self, batch_size=None, momentum: float = 0.0, nesterov: bool = False):
        super().__init__()
        self.batch_size = None if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
        m = float(momentum)
        if not (0.0 <= m < 1.0):
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = m
        self.nesterov = bool(nesterov)

    def step(self, params, grads, lr, indices):
        if self.momentum == 0.0:
            return super().step(params, grads, lr, indices)
        for i in indices:
            v = self.state.get(i)
            if v is None:
                v = self.state[i] = np.zeros_like(params[i])
            v *= self.momentum
            v += grads[i]
            params[i] -= lr * (grads[i] + self.momentum * v if self.nesterov else v)

    def to_dict(self):
        return {"kind": "sgd", "batch_size": self.batch_size, "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(GD):
    """Adam (Kingma & Ba) with bias correction; optional minibatches.

    Examples
    --------
    >>> p = [np.array([1.0])]; Adam().step(p, [np.array([5.0])], 0.1, [0]); p[0].round(6)
    array([0.9])
    """

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, batch_size=None):
        super().__init__()
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            if not (0.0 <= float(b) < 1.0):
                raise ValueError(f"{name} must be in [0, 1), got {b!r}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = _check_lr(eps, "eps")
        self.batch_size = None if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
        self.t = 0

    def step(self, params, grads, lr, indices):
        self.t += 1
        c1 = 1 - self.beta1**self.t
        c2 = 1 - self.beta2**self.t
        for i in indices:
            if i not in self.state:
                self.state[i] = (np.zeros_like(params[i]), np.zeros_like(params[i]))
            m, v = self.state[i]
            m *= self.beta1
            m += (1 - self.beta1) * grads[i]
            v *= self.beta2
            v += (1 - self.beta2) * grads[i] ** 2
            params[i] -= lr * (m / c1) / (np.sqrt(v / c2) + self.eps)

    def to_dict(self):
        return {"kind": "adam", "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "batch_size": self.batch_size}


def _optimizer_from(opt):
    if isinstance(opt, GD):
        return opt
    if isinstance(opt, str):
        opt = {"kind": opt}
    if isinstance(opt, dict):
        d = dict(opt)
        kind = str(d.pop("kind", "")).lower()
        if kind == "gd":
            return GD()
        if kind == "sgd":
            return SGD(**d)
        if kind == "adam":
            return Adam(**d)
        raise ValueError(f"optimizer must be 'gd', 'sgd' or 'adam', got {kind!r}")
    raise TypeError(f"optimizer must be an optimizer object, a name or a dict, got {type(opt).__name__}")


# ----------------------------------------------------------------------------- losses
def mse_loss(f, y):
    """MSE ``(1/2n) sum_{i,c} (f_ic - y_ic)^2`` and its gradient ``(f - y)/n``.

    Parameters
    ----------
    f, y : ndarray, shape (n, C)

    Returns
    -------
    loss : float
    grad : ndarray, shape (n, C)

    Examples
    --------
    >>> mse_loss(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))[0]
    1.25
    """
    r = f - y
    n = f.shape[0]
    return float(0.5 * np.sum(r * r) / n), r / n


def cross_entropy_loss(f, y):
    """Softmax cross-entropy ``-(1/n) sum_i sum_c y_ic log softmax(f_i)_c`` and its gradient.

    Parameters
    ----------
    f : ndarray, shape (n, C)
        Logits.
    y : ndarray, shape (n, C)
        One-hot (or probability) rows; :func:`train` converts integer labels.

    Examples
    --------
    >>> round(cross_entropy_loss(np.zeros((1, 2)), np.array([[1.0, 0.0]]))[0], 6)
    0.693147
    """
    n = f.shape[0]
    z = f - f.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = float(-np.sum(y * logp) / n)
    return loss, (np.exp(logp) - y) / n


_LOSSES = {"mse": mse_loss, "cross_entropy": cross_entropy_loss}


def log_spaced_steps(n_steps: int, n_records: int = 40, *, linear: int = 0) -> np.ndarray:
    """Recording steps: 0, ``n_steps`` and about ``n_records`` log-spaced steps in between.

    ``linear > 0`` adds that many evenly spaced steps (useful to follow late-time behaviour).

    Examples
    --------
    >>> log_spaced_steps(100, 5).tolist()
    [0, 1, 3, 10, 32, 100]
    """
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    n_records = check_int(n_records, "n_records", minimum=1)
    s = np.unique(np.round(np.logspace(0, math.log10(n_steps), n_records)).astype(int))
    extra = np.linspace(0, n_steps, linear + 1).round().astype(int) if linear else []
    return np.unique(np.concatenate([[0], s, extra, [n_steps]])).astype(int)


# ----------------------------------------------------------------------------- the run
class TrainingDivergedError(RuntimeError):
    """The loss became inf/NaN; ``.run`` holds the snapshots recorded before."""

    def __init__(self, message, run):
        super().__init__(message)
        self.run = run


_ARRAY_FIELDS = ("steps", "lr", "train_loss", "test_loss", "loss_history", "lr_history",
                 "ntk_train", "ntk_probe", "ck_train", "ck_probe",
                 "outputs_train", "outputs_test", "outputs_probe",
                 "X_train", "y_train", "X_test", "y_test", "X_probe")


@dataclass
class TrainingRun:
    """Snapshots of a training run.

    Attributes (``T`` = number of snapshots, ``n``/``n_test``/``n_probe`` sample counts,
    ``C`` = outputs; fields not recorded are ``None``)
    ----------------------------------------------------------------------------------------
    steps : int array (T,)
        Update count at each snapshot.
    lr : (T,)
        Learning rate of the next update at each snapshot (the last used one at the end).
    train_loss, test_loss : (T,)
        Full training-set / test-set loss at each snapshot.
    loss_history, lr_history : (n_done,)
        Loss of the batch used and learning rate, for every update done.
    ntk_train, ntk_probe : (T, n, n) or (T, C, n, n)
        NTK Gram on the training / probe set (per-output diagonal blocks if ``C > 1``).
    ck_train, ck_probe : (T, n, n)
        CK Gram (last hidden features).
    outputs_train, outputs_test, outputs_probe : (T, n, C)
    weights : dict name -> (T, ...) array, or None
    config : dict
        Everything needed to rebuild the run's settings (JSON-serialisable).
    diverged : bool
    message : str
    """

    steps: np.ndarray
    lr: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray | None = None
    loss_history: np.ndarray | None = None
    lr_history: np.ndarray | None = None
    ntk_train: np.ndarray | None = None
    ntk_probe: np.ndarray | None = None
    ck_train: np.ndarray | None = None
    ck_probe: np.ndarray | None = None
    outputs_train: np.ndarray | None = None
    outputs_test: np.ndarray | None = None
    outputs_probe: np.ndarray | None = None
    X_train: np.ndarray | None = None
    y_train: np.ndarray | None = None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    X_probe: np.ndarray | None = None
    weights: dict | None = None
    config: dict = field(default_factory=dict)
    diverged: bool = False
    message: str = ""

    def __len__(self):
        return len(self.steps)

    # ---------------------------------------------------------------- persistence
    def save(self, path) -> str:
        """Write atomically to ``path`` (``.npz`` appended if missing) and a ``.json`` side file.

        Returns the path of the ``.npz`` file.
        """
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        meta = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "config": self.config,
                "diverged": bool(self.diverged), "message": self.message,
                "weight_names": sorted(self.weights) if self.weights else []}
        arrays = {k: getattr(self, k) for k in _ARRAY_FIELDS if getattr(self, k) is not None}
        if self.weights:
            arrays.update({f"weight__{k}": v for k, v in self.weights.items()})
        arrays["__meta__"] = np.array(json.dumps(meta))
        _atomic_write(path, lambda fh: np.savez(fh, **arrays), binary=True)
        _atomic_write(path[:-4] + ".json", lambda fh: fh.write(json.dumps(meta, indent=2)), binary=False)
        return path

    @classmethod
    def load(cls, path) -> "TrainingRun":
        """Load a run written by :meth:`save`; ``ValueError`` for corrupted or foreign files."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such training-run file: {path}")
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
            raise ValueError(f"{path} is not a readable training-run file (corrupted or not an .npz): {exc}") from None
        if "__meta__" not in data:
            raise ValueError(f"{path} is not a spectra training-run file (no '__meta__' entry)")
        try:
            meta = json.loads(str(data.pop("__meta__")))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: corrupted metadata: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise ValueError(f"{path} is not a spectra training-run file (format {meta.get('format') if isinstance(meta, dict) else meta!r})")
        if meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported training-run format version {meta.get('version')!r} "
                             f"(this version reads {FORMAT_VERSION})")
        weights = {k[len("weight__"):]: data.pop(k) for k in list(data) if k.startswith("weight__")} or None
        missing = [k for k in ("steps", "lr", "train_loss") if k not in data]
        if missing:
            raise ValueError(f"{path}: corrupted training-run file, missing arrays {missing}")
        kw = {k: data.get(k) for k in _ARRAY_FIELDS}
        return cls(**kw, weights=weights, config=meta.get("config", {}),
                   diverged=bool(meta.get("diverged", False)), message=str(meta.get("message", "")))


def _atomic_write(path, writer, *, binary: bool):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(path, writer, binary=binary)


# ----------------------------------------------------------------------------- training
_RECORDABLE = ("loss", "outputs", "ntk", "ck", "weights")


def _trainable_indices(net, trainable):
    n_layers = net.depth + 1
    if trainable is None or trainable == "all":
        return list(range(len(net.params)))
    if trainable == "last":
        return [2 * n_layers - 2, 2 * n_layers - 1]
    if isinstance(trainable, str):
        trainable = [trainable]
    idx = set()
    for t in trainable:
        if isinstance(t, str):
            if t not in net.layer_names:
                raise ValueError(f"trainable: unknown parameter {t!r}; names are {net.layer_names}, "
                                 f"or 'all'/'last'")
            idx.add(net.layer_names.index(t))
        else:
            l = check_int(t, "trainable layer", minimum=1, maximum=n_layers)
            idx.update((2 * l - 2, 2 * l - 1))
    if not idx:
        raise ValueError("trainable must select at least one parameter")
    return sorted(idx)


def _prep_targets(y, n, loss, n_outputs, name):
    if loss == "cross_entropy":
        arr = np.asarray(y)
        if arr.ndim == 1:
            if not np.issubdtype(arr.dtype, np.integer) and not np.all(np.mod(arr, 1) == 0):
                raise ValueError(f"{name}: cross-entropy labels must be integers or one-hot rows")
            lab = arr.astype(int)
            if lab.shape[0] != n:
                raise ValueError(f"{name} must have {n} rows, got {lab.shape[0]}")
            if lab.min() < 0 or lab.max() >= n_outputs:
                raise ValueError(f"{name}: labels must be in [0, {n_outputs - 1}] (n_outputs), "
                                 f"got range [{lab.min()}, {lab.max()}]")
            Y = np.zeros((n, n_outputs))
            Y[np.arange(n), lab] = 1.0
            return Y
    Y = np.asarray(y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape != (n, n_outputs):
        raise ValueError(f"{name} must have shape ({n},) or ({n}, {n_outputs}) (n samples, n_outputs), got {np.shape(y)}")
    if not np.all(np.isfinite(Y)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return Y


def train(net, X, y, *, n_steps: int, lr=None, schedule=None, optimizer="gd", loss: str = "mse",
          trainable="all", X_test=None, y_test=None, X_probe=None, record_steps=None,
          record=("loss", "outputs", "ntk", "ck", "weights"), callbacks=(), seed: int = 0,
          progress: bool = False, on_divergence: str = "stop", save_path=None) -> TrainingRun:
    """Train ``net`` in place and record snapshots.

    Parameters
    ----------
    net : MLP
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
        ``GD()`` (full batch), ``SGD(batch_size, momentum)``, ``Adam(...)``.
    loss : {"mse", "cross_entropy"}
    trainable : "all", "last" or list of layer numbers ``1..L+1`` / parameter names ``"W2"``
        Which parameters are updated; ``"last"`` trains only the readout (the CK regime: the NTK
        is then the CK plus the bias term).  Frozen parameters keep their initial values.
    X_test, y_test : optional test set (loss and outputs recorded).
    X_probe : array_like, shape (n_probe, d), optional
        Points on which the NTK/CK Grams and outputs are also recorded.
    record_steps : sequence of int, optional
        Snapshot steps in ``[0, n_steps]``; default :func:`log_spaced_steps`.
    record : iterable of {"loss", "outputs", "ntk", "ck", "weights"}
    callbacks : sequence of callables ``cb(step, net, info) -> None``
        Called at every snapshot, ``info`` = dict of the quantities just recorded.
    seed : int
        Seeds the minibatch order (the network's initialization has its own seed).
    progress : bool
        Print progress on stderr (about once a second).
    on_divergence : {"stop", "raise"}
        When the training loss becomes inf/NaN: ``"stop"`` ends the run, keeps the snapshots
        recorded before and emits a ``RuntimeWarning`` (``run.diverged`` is True and
        ``run.message`` says when); ``"raise"`` raises :class:`TrainingDivergedError` whose
        ``.run`` holds those snapshots.
    save_path : path, optional
        Save the run there (atomically) when it ends, also after a divergence.

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
    from .network import MLP

    if not isinstance(net, MLP):
        raise TypeError(f"net must be a spectra.empirical.MLP, got {type(net).__name__}")
    n_steps = check_int(n_steps, "n_steps", minimum=1)
    X = net._check_X(X, "X")
    n = X.shape[0]
    if not isinstance(loss, str) or loss not in _LOSSES:
        raise ValueError(f"loss must be one of {sorted(_LOSSES)}, got {loss!r}")
    loss_fn = _LOSSES[loss]
    Y = _prep_targets(y, n, loss, net.n_outputs, "y")
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test must be given together")
    if X_test is not None:
        X_test = net._check_X(X_test, "X_test")
        Y_test = _prep_targets(y_test, X_test.shape[0], loss, net.n_outputs, "y_test")
    if X_probe is not None:
        X_probe = net._check_X(X_probe, "X_probe")
    if (lr is None) == (schedule is None):
        raise ValueError("give exactly one of lr (a constant rate) or schedule")
    sched = Constant(lr) if schedule is None else schedule_from_dict(schedule)
    sched.check(n_steps)
    opt = _optimizer_from(optimizer)
    idx = _trainable_indices(net, trainable)
    record = tuple(record)
    bad = [r for r in record if r not in _RECORDABLE]
    if bad:
        raise ValueError(f"record: unknown items {bad}; allowed {list(_RECORDABLE)}")
    if on_divergence not in ("stop", "raise"):
        raise ValueError(f"on_divergence must be 'stop' or 'raise', got {on_divergence!r}")
    if record_steps is None:
        rsteps = log_spaced_steps(n_steps)
    else:
        rsteps = np.unique(np.asarray([check_int(s, "record_steps", minimum=0) for s in np.atleast_1d(record_steps)]))
        if rsteps.size and rsteps[-1] > n_steps:
            raise ValueError(f"record_steps {rsteps[rsteps > n_steps].tolist()} are past the run's end (n_steps={n_steps})")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables cb(step, net, info), got {cb!r}")
    batch = opt.batch_size
    if batch is not None and batch > n:
        raise ValueError(f"batch_size must be <= n = {n}, got {batch}")
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))

    config = {"net": {"dim": net.dim, "width": net.width, "depth": net.depth, "activation": net.activation.name,
                      "weight_var": net.weight_var, "bias_var": net.bias_var, "n_outputs": net.n_outputs,
                      "parametrization": net.parametrization, "seed": _jsonable_seed(net.seed),
                      "dtype": net.dtype.name},
              "n_steps": n_steps, "schedule": sched.to_dict(), "optimizer": opt.to_dict(), "loss": loss,
              "trainable": [net.layer_names[i] for i in idx], "seed": int(seed), "record": list(record),
              "n_train": n, "n_test": None if X_test is None else int(X_test.shape[0]),
              "n_probe": None if X_probe is None else int(X_probe.shape[0])}

    snaps: dict = {k: [] for k in ("steps", "lr", "train_loss", "test_loss", "ntk_train", "ntk_probe", "ck_train",
                                   "ck_probe", "outputs_train", "outputs_test", "outputs_probe")}
    wsnaps: dict = {name: [] for name in net.layer_names} if "weights" in record else {}

    def snapshot(step, out_train, cur_lr):
        info = {"steps": step, "lr": cur_lr}
        info["train_loss"] = loss_fn(out_train, Y)[0]
        if X_test is not None:
            out_test = net(X_test)
            info["test_loss"] = loss_fn(out_test, Y_test)[0]
            if "outputs" in record:
                info["outputs_test"] = out_test
        if "outputs" in record:
            info["outputs_train"] = out_train.copy()
            if X_probe is not None:
                info["outputs_probe"] = net(X_probe)
        if "ntk" in record:
            info["ntk_train"] = net.ntk_gram(X)
            if X_probe is not None:
                info["ntk_probe"] = net.ntk_gram(X_probe)
        if "ck" in record:
            info["ck_train"] = net.ck_gram(X)
            if X_probe is not None:
                info["ck_probe"] = net.ck_gram(X_probe)
        for k, v in info.items():
            if k in snaps:
                snaps[k].append(v)
        for name, p in zip(net.layer_names, net.params):
            if name in wsnaps:
                wsnaps[name].append(p.copy())
        for cb in callbacks:
            cb(step, net, info)

    loss_hist = np.full(n_steps, np.nan)
    lr_hist = np.full(n_steps, np.nan)
    rec = set(rsteps.tolist())
    diverged, message = False, ""
    perm, pos = None, n
    t_start = t_last = time.monotonic()
    done = 0
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected explicitly
        for step in range(n_steps + 1):
            cur_lr = sched(min(step, n_steps - 1))
            need_full = step in rec or batch is None
            if need_full:
                out_full, cache_full = net.forward(X)
                if step in rec:
                    if not (np.all(np.isfinite(out_full)) and math.isfinite(loss_fn(out_full, Y)[0])):
                        diverged = True
                        message = (f"training diverged: non-finite outputs or loss at step {step} (lr={cur_lr:.4g}); "
                                   f"kept {len(snaps['steps'])} snapshots recorded before")
                        break
                    snapshot(step, out_full, cur_lr)
            if step == n_steps:
                break
            if batch is None:
                out, cache, Yb = out_full, cache_full, Y
            else:
                if pos + batch > n:
                    perm, pos = rng.permutation(n), 0
                sel = perm[pos:pos + batch]
                pos += batch
                out, cache = net.forward(X[sel])
                Yb = Y[sel]
            lval, gout = loss_fn(out, Yb)
            loss_hist[step] = lval
            lr_hist[step] = cur_lr
            if not math.isfinite(lval):
                diverged = True
                message = (f"training diverged: loss is {lval} at step {step} (lr={cur_lr:.4g}); "
                           f"kept {len(snaps['steps'])} snapshots recorded before")
                break
            grads = net.backward(cache, gout)
            opt.step(net.params, grads, cur_lr, idx)
            done = step + 1
            if progress and time.monotonic() - t_last > 1.0:
                t_last = time.monotonic()
                el = t_last - t_start
                eta = el / done * (n_steps - done)
                print(f"\rtrain: step {done}/{n_steps} loss {lval:.4g} lr {cur_lr:.3g} "
                      f"[{el:.0f}s elapsed, ~{eta:.0f}s left]", end="", file=sys.stderr, flush=True)
    if progress:
        print(f"\rtrain: {done}/{n_steps} steps in {time.monotonic() - t_start:.1f}s" + " " * 30, file=sys.stderr)

    def stack(key):
        v = snaps[key]
        return np.asarray(v) if v else None

    run = TrainingRun(
        steps=np.asarray(snaps["steps"], dtype=int), lr=np.asarray(snaps["lr"], dtype=float),
        train_loss=np.asarray(snaps["train_loss"], dtype=float), test_loss=stack("test_loss"),
        loss_history=loss_hist[:done + (1 if diverged else 0)], lr_history=lr_hist[:done + (1 if diverged else 0)],
        ntk_train=stack("ntk_train"), ntk_probe=stack("ntk_probe"), ck_train=stack("ck_train"),
        ck_probe=stack("ck_probe"), outputs_train=stack("outputs_train"), outputs_test=stack("outputs_test"),
        outputs_probe=stack("outputs_probe"), X_train=X, y_train=Y,
        X_test=X_test, y_test=None if X_test is None else Y_test, X_probe=X_probe,
        weights={k: np.asarray(v) for k, v in wsnaps.items()} if wsnaps and wsnaps[net.layer_names[0]] else None,
        config=config, diverged=diverged, message=message)
    if save_path is not None:
        run.save(save_path)
    if diverged:
        if on_divergence == "raise":
            raise TrainingDivergedError(message, run)
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    return run


def _jsonable_seed(seed):
    try:
        return int(seed)
    except (TypeError, ValueError):
        return None
