"""The record of a training run: :class:`TrainingRun`, its ``.npz`` file format, and the steps to record.

A run is saved atomically to one ``.npz`` file (arrays plus a JSON metadata entry with a
format/version marker, also written to a ``.json`` side file for reading) and loaded back with
:meth:`TrainingRun.load`.

A "step" is one parameter update; the snapshot "at step t" is taken after ``t`` updates, so
step 0 is the initialization and step ``n_steps`` the final network.
"""
from __future__ import annotations

import json
import math
import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

from ..._io import atomic_write
from ..._validation import check_int

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
