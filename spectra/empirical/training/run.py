"""The record of a training run: :class:`TrainingRun`, its ``.npz`` file format, and the steps to record.

A run is saved atomically to one ``.npz`` file (arrays plus a JSON metadata entry with a
format/version marker and a SHA-256 of the run's config, also written to a ``.json`` side file
for reading) and loaded back with :meth:`TrainingRun.load`, which checks every array's shape
and finiteness against the others: a truncated, empty, foreign, mis-shaped, NaN-filled or
wrong-version file is a ``ValueError`` naming the file.

A "step" is one parameter update; the snapshot "at step t" is taken after ``t`` updates, so
step 0 is the initialization and step ``n_steps`` the final network.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field

import numpy as np

from ..._io import atomic_write
from ..._results import ResultMixin, jsonable, short_list
from ..._validation import check_int
from ._npz import FileFormatError, check_array, read_npz

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "TrainingRun", "TrainingDivergedError", "log_spaced_steps"]

FORMAT_NAME = "spectra.training_run"
FORMAT_VERSION = 1


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



class TrainingDivergedError(RuntimeError):
    """The loss became inf/NaN; ``.run`` holds the snapshots recorded before."""

    def __init__(self, message, run):
        super().__init__(message)
        self.run = run


_ARRAY_FIELDS = ("steps", "lr", "train_loss", "test_loss", "loss_history", "lr_history",
                 "ntk_train", "ntk_probe", "ck_train", "ck_probe",
                 "outputs_train", "outputs_test", "outputs_probe",
                 "X_train", "y_train", "X_test", "y_test", "X_probe")


def config_hash(config: dict) -> str:
    """SHA-256 of a JSON-serialisable config in its canonical form (sorted keys).

    Examples
    --------
    >>> config_hash({"b": 1, "a": [1, 2]}) == config_hash({"a": (1, 2), "b": 1})
    True
    """
    text = json.dumps(json.loads(json.dumps(config, default=str)), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(repr=False)
class TrainingRun(ResultMixin):
    """Snapshots of a training run.

    In a notebook: ``repr`` is one line and a few steps, ``print(run)`` the table of recorded
    steps, ``run.to_dataframe()`` one row per recorded step (with the NTK alignment and
    sharpness when the NTK was recorded) and ``run.plot()`` the loss, alignment and sharpness
    panels.

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

    FORMAT = FORMAT_NAME
    VERSION = FORMAT_VERSION

    def __len__(self):
        return len(self.steps)

    # ---------------------------------------------------------------- persistence
    def save(self, path) -> str:
        """Write atomically to ``path`` (``.npz`` appended if missing) and a ``.json`` side file.

        Returns the path of the ``.npz`` file.  A run that :meth:`load` would refuse
        (inconsistent shapes, NaN) is not written: ``ValueError`` naming ``path``.
        """
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        meta = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "config": self.config,
                "config_sha256": config_hash(self.config),
                "diverged": bool(self.diverged), "message": self.message,
                "weight_names": sorted(self.weights) if self.weights else []}
        arrays = {k: getattr(self, k) for k in _ARRAY_FIELDS if getattr(self, k) is not None}
        if self.weights:
            arrays.update({f"weight__{k}": v for k, v in self.weights.items()})
        text = json.dumps(meta)
        # the checks of load, before writing: never write a file that load would refuse
        _check_run(path, {k: np.asarray(v) for k, v in arrays.items()}, json.loads(text))
        arrays["__meta__"] = np.array(text)
        _atomic_write(path, lambda fh: np.savez(fh, **arrays), binary=True)
        _atomic_write(path[:-4] + ".json", lambda fh: fh.write(json.dumps(meta, indent=2)), binary=False)
        return path

    @classmethod
    def load(cls, path) -> "TrainingRun":
        """Load a run written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            Naming ``path``, for an empty, truncated or corrupted file, a ``.npy``, pickle or
            foreign zip/npz under the name, a wrong format or version, a config that does not
            match its stored hash, and arrays that are mis-shaped, inconsistent with each other
            or hold NaN/inf (only the last entry of ``loss_history`` of a diverged run may).
        """
        path = os.fspath(path)
        data, meta = read_npz(path, format_name=FORMAT_NAME, version=FORMAT_VERSION, what="training-run")
        weights = _check_run(path, data, meta)
        kw = {k: data.get(k) for k in _ARRAY_FIELDS}
        return cls(**kw, weights=weights, config=meta.get("config", {}),
                   diverged=bool(meta.get("diverged", False)), message=str(meta.get("message", "")))

    # ---------------------------------------------------------------- notebook views
    def summary(self) -> str:
        """One line: steps, final losses, what was recorded, divergence."""
        cfg = self.config or {}
        net = cfg.get("net", {}) if isinstance(cfg.get("net"), dict) else {}
        arch = ", ".join(f"{k}={net[k]}" for k in ("width", "depth", "activation") if k in net)
        opt = (cfg.get("optimizer") or {}).get("kind", "?") if isinstance(cfg.get("optimizer"), dict) else "?"
        parts = [f"{len(self.steps)} snapshots, steps {int(self.steps[0])}..{int(self.steps[-1])}"
                 if len(self.steps) else "0 snapshots"]
        if arch:
            parts.append(arch)
        parts.append(f"{opt}, n_train={None if self.X_train is None else self.X_train.shape[0]}")
        if len(self.train_loss):
            parts.append(f"final train_loss={float(self.train_loss[-1]):.4g}")
        if self.test_loss is not None and len(self.test_loss):
            parts.append(f"test_loss={float(self.test_loss[-1]):.4g}")
        parts.append(f"recorded {self._recorded()}")
        if self.diverged:
            parts.append("DIVERGED")
        return "; ".join(parts)

    def _recorded(self) -> list:
        return [k for k in _ARRAY_FIELDS[6:13] if getattr(self, k) is not None] + (["weights"] if self.weights else [])

    def rows(self) -> list:
        """One dict per recorded step: ``step``, ``lr``, ``train_loss`` (and ``test_loss``)."""
        out = []
        for i in range(len(self.steps)):
            r = {"step": int(self.steps[i]), "lr": float(self.lr[i]), "train_loss": float(self.train_loss[i])}
            if self.test_loss is not None:
                r["test_loss"] = float(self.test_loss[i])
            out.append(r)
        return out

    def metadata(self) -> dict:
        """The run's config and outcome (``DataFrame.attrs``)."""
        return {"config": self.config, "diverged": bool(self.diverged), "message": self.message}

    def to_table(self) -> str:
        """``print(run)``: the summary and the table of recorded steps (long runs: first and last 8)."""
        rows = self.rows()
        cols = list(rows[0]) if rows else ["step", "lr", "train_loss"]
        lines = [f"TrainingRun: {self.summary()}", " ".join(f"{c:>12}" for c in cols)]
        shown = rows if len(rows) <= 16 else rows[:8] + [None] + rows[-8:]
        for r in shown:
            lines.append(f"{'...':>12} ({len(rows) - 16} more)" if r is None else
                         " ".join(f"{r[c]:>12d}" if c == "step" else f"{r[c]:>12.6g}" for c in cols))
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready summary: config, outcome, the per-step scalars and the shapes of the arrays.

        The Gram matrices, outputs and weights themselves are in the ``.npz`` file (:meth:`save`).
        """
        d = {"config": self.config, "diverged": bool(self.diverged), "message": self.message,
             "steps": self.steps.tolist(), "lr": self.lr.tolist(), "train_loss": self.train_loss.tolist(),
             "test_loss": None if self.test_loss is None else self.test_loss.tolist(),
             "shapes": {k: list(getattr(self, k).shape) for k in _ARRAY_FIELDS[3:] if getattr(self, k) is not None}}
        if self.weights:
            d["shapes"].update({f"weights.{k}": list(v.shape) for k, v in self.weights.items()})
        return jsonable(d)

    def kernel_curves(self) -> dict:
        """NTK-target alignment, ``lambda_max(K/n)`` and sharpness at each recorded step.

        Empty when the NTK was not recorded.  For several outputs (``ntk_train`` of shape
        ``(T, C, n, n)``) the alignment is the mean over outputs and ``lambda_max`` the largest
        over the output blocks.  Sharpness is ``lr * lambda_max``, to compare with 2
        (:func:`spectra.empirical.metrics.sharpness`).
        """
        if self.ntk_train is None or self.y_train is None or not len(self.steps):
            return {}
        from ..metrics import alignment_curve, sharpness_curve

        K = self.ntk_train if self.ntk_train.ndim == 4 else self.ntk_train[:, None]
        C = K.shape[1]
        align = np.mean([alignment_curve(K[:, c], self.y_train[:, c]) for c in range(C)], axis=0)
        lam = np.max([sharpness_curve(K[:, c], self.lr)[0] for c in range(C)], axis=0)
        return {"ntk_alignment": align, "ntk_lambda_max": lam, "sharpness": self.lr * lam}

    def all_rows(self) -> list:
        """The rows of ``to_dataframe()``: :meth:`rows` plus the :meth:`kernel_curves` columns."""
        rows, curves = self.rows(), self.kernel_curves()
        for i, r in enumerate(rows):
            r.update({k: float(v[i]) for k, v in curves.items()})
        return rows

    def plot(self, ax=None):
        """Loss, NTK alignment and sharpness against the step; returns the three axes.

        Parameters
        ----------
        ax : sequence of three matplotlib Axes, optional
            Where to draw; default a new 1 x 3 figure.  Without a recorded NTK the last two
            panels say so.
        """
        from ..._plotting import plt_or_raise

        if ax is None:
            _, ax = plt_or_raise().subplots(1, 3, figsize=(12, 3.4), constrained_layout=True)
        ax = list(np.ravel(ax))
        if len(ax) != 3:
            raise ValueError(f"ax must be three Axes (loss, alignment, sharpness), got {len(ax)}")
        x = np.maximum(self.steps, 0.5) if len(self.steps) else self.steps  # step 0 drawn at 0.5 (log axis)
        ax[0].loglog(x, self.train_loss, "o-", ms=3, label="train")
        if self.test_loss is not None:
            ax[0].loglog(x, self.test_loss, "s--", ms=3, label="test")
        ax[0].set(xlabel="step", ylabel="loss", title="loss")
        ax[0].legend()
        curves = self.kernel_curves()
        if curves:
            ax[1].semilogx(x, curves["ntk_alignment"], "o-", ms=3)
            ax[2].semilogx(x, curves["sharpness"], "o-", ms=3, label=r"$\eta\,\lambda_{max}(K/n)$")
            ax[2].axhline(2.0, color="k", ls=":", label="GD stability threshold 2")
            ax[2].legend()
        else:
            for a in ax[1:]:
                a.text(0.5, 0.5, "NTK not recorded", ha="center", va="center", transform=a.transAxes)
        ax[1].set(xlabel="step", ylabel="alignment", title="NTK-target alignment")
        ax[2].set(xlabel="step", ylabel="sharpness", title="sharpness")
        return np.array(ax)


def _check_run(path, data, meta) -> dict | None:
    """Validate the arrays and metadata of a loaded run file; returns its weights (or None)."""
    cfg = meta.get("config", {})
    if not isinstance(cfg, dict):
        raise FileFormatError(f"{path}: corrupted training-run metadata: config is not a mapping")
    if "config_sha256" in meta and meta["config_sha256"] != config_hash(cfg):
        raise FileFormatError(f"{path}: the stored config does not match its SHA-256 (edited or corrupted)")
    if not isinstance(meta.get("diverged", False), bool) or not isinstance(meta.get("message", ""), str):
        raise FileFormatError(f"{path}: corrupted training-run metadata (diverged/message)")
    names = meta.get("weight_names", [])
    weights = {k[len("weight__"):]: data.pop(k) for k in list(data) if k.startswith("weight__")}
    if not isinstance(names, list) or sorted(weights) != sorted(names):
        raise FileFormatError(f"{path}: weight arrays {sorted(weights)} do not match the metadata's {names}")
    unknown = sorted(set(data) - set(_ARRAY_FIELDS))
    missing = [k for k in ("steps", "lr", "train_loss") if k not in data]
    if unknown or missing:
        raise FileFormatError(f"{path}: corrupted training-run file: "
                              + (f"missing arrays {missing}" if missing else f"unknown arrays {unknown}"))
    steps = check_array(path, "steps", data["steps"], ndim=1, kind="iu")
    T = steps.shape[0]
    if T and (steps[0] < 0 or np.any(np.diff(steps) <= 0)):
        raise FileFormatError(f"{path}: 'steps' must be non-negative and increasing, got {short_list(steps, 6, '{}')}")
    n_steps = cfg.get("n_steps")
    if T and isinstance(n_steps, int) and steps[-1] > n_steps:
        raise FileFormatError(f"{path}: step {int(steps[-1])} is past the run's n_steps = {n_steps}")

    def get(name, **kw):
        return None if data.get(name) is None else check_array(path, name, data[name], **kw)

    for name in ("lr", "train_loss", "test_loss"):
        get(name, ndim=1, shape=(T,))
    for name in ("loss_history", "lr_history"):
        # a diverged run's last update may have an inf/NaN loss (and, with minibatches, no rate)
        hist = get(name, ndim=1, shape=(len(data.get("loss_history", ())),), finite=False)
        bad = np.zeros(0, bool) if hist is None else ~np.isfinite(hist)
        if bad.any() and not (meta.get("diverged") and bad.sum() == 1 and bad[-1]):
            raise FileFormatError(f"{path}: array '{name}' holds NaN or inf values")
    X = get("X_train", ndim=2)
    n, d = (None, None) if X is None else X.shape
    Y = get("y_train", ndim=2, shape=(n,))
    C = None if Y is None else Y.shape[1]
    sizes = {"train": n}
    for part in ("test", "probe"):
        Xp = get(f"X_{part}", ndim=2, shape=(None, d))
        sizes[part] = None if Xp is None else Xp.shape[0]
    get("y_test", ndim=2, shape=(sizes["test"], C))
    for part, m in sizes.items():
        get(f"outputs_{part}", ndim=3, shape=(T, m, C))
        if part != "test":
            for kind in ("ntk", "ck"):
                K = get(f"{kind}_{part}", ndim=(3, 4) if kind == "ntk" else 3)
                if K is not None and (K.shape[0] != T or K.shape[-1] != K.shape[-2] or m not in (None, K.shape[-1])):
                    raise FileFormatError(f"{path}: mis-shaped array '{kind}_{part}': shape {K.shape} "
                                          f"for {T} snapshots of {m} points")
    for k, w in weights.items():
        check_array(path, f"weight {k}", w, ndim=range(1, 6), shape=(T,))
    return weights or None


def _atomic_write(path, writer, *, binary: bool):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(path, writer, binary=binary)
