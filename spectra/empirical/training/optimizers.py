"""Optimizers: the one GD update, SGD with momentum, and the one Adam.

An optimizer updates ``params[i]`` in place for the trainable indices ``i`` from the gradients
and the learning rate of the current step.  It knows nothing about the data: the minibatch size
is an argument of :func:`~spectra.empirical.training.train` (``batch_size``), so ``GD`` with
``batch_size=32`` is plain minibatch SGD.
"""
from __future__ import annotations

import numpy as np

from ..._validation import check_int, check_positive

__all__ = ["GD", "SGD", "Adam", "optimizer_from"]


def _compat_batch_size(batch_size):
    # kept so that SGD(batch_size=...) / {"kind": "sgd", "batch_size": ...} still work; train's
    # batch_size argument is the place for it
    return None if batch_size is None else check_int(batch_size, "batch_size", minimum=1)


class GD:
    """Gradient descent: ``theta <- theta - lr * grad`` (full batch unless ``train(batch_size=...)``).

    Examples
    --------
    >>> p = [np.array([1.0])]; GD().step(p, [np.array([2.0])], 0.25, [0]); p[0]
    array([0.5])
    """

    #: minibatch size requested through the optimizer (compatibility only; use ``train(batch_size=)``)
    batch_size = None

    def __init__(self):
        self.state: dict = {}

    def step(self, params, grads, lr, indices) -> None:
        """Update ``params[i]`` in place for every ``i`` in ``indices``."""
        for i in indices:
            params[i] -= lr * grads[i]

    def to_dict(self) -> dict:
        """JSON-serialisable settings (rebuilt by :func:`optimizer_from`)."""
        return {"kind": "gd"}


class SGD(GD):
    """Gradient descent with (heavy-ball or Nesterov) momentum.

    ``v <- momentum * v + grad``; ``theta <- theta - lr * v`` (Nesterov: ``lr * (grad + momentum*v)``).
    With ``momentum = 0`` this is the :class:`GD` update.

    Parameters
    ----------
    batch_size : int or None
        Deprecated place for the minibatch size, kept for compatibility: prefer
        ``train(..., batch_size=...)``.
    momentum : float in [0, 1)
    nesterov : bool

    Examples
    --------
    >>> opt = SGD(momentum=0.9)
    >>> opt.to_dict()["momentum"]
    0.9
    """

    def __init__(self, batch_size=None, momentum: float = 0.0, nesterov: bool = False):
        super().__init__()
        self.batch_size = _compat_batch_size(batch_size)
        m = float(momentum)
        if not (0.0 <= m < 1.0):
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = m
        self.nesterov = bool(nesterov)

    def step(self, params, grads, lr, indices) -> None:
        if self.momentum == 0.0:
            return super().step(params, grads, lr, indices)
        for i in indices:
            v = self.state.get(i)
            if v is None:
                v = self.state[i] = np.zeros_like(params[i])
            v *= self.momentum
            v += grads[i]
            params[i] -= lr * (grads[i] + self.momentum * v if self.nesterov else v)

    def to_dict(self) -> dict:
        return {"kind": "sgd", "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(GD):
    """Adam (Kingma & Ba, arXiv 1412.6980) with bias correction.

    ``m <- beta1 m + (1 - beta1) g``, ``v <- beta2 v + (1 - beta2) g^2``,
    ``theta <- theta - lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)``.

    Parameters
    ----------
    beta1, beta2 : float in [0, 1)
    eps : float > 0
    batch_size : int or None
        Deprecated place for the minibatch size, kept for compatibility: prefer
        ``train(..., batch_size=...)``.

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
        self.eps = check_positive(eps, "eps")
        self.batch_size = _compat_batch_size(batch_size)
        self.t = 0

    def step(self, params, grads, lr, indices) -> None:
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

    def to_dict(self) -> dict:
        return {"kind": "adam", "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


def optimizer_from(opt) -> GD:
    """An optimizer from an optimizer object, a name (``"gd"``, ``"sgd"``, ``"adam"``) or a dict.

    A dict is ``{"kind": name, **keyword arguments}``, the form of ``to_dict()``.

    Examples
    --------
    >>> optimizer_from({"kind": "adam", "beta1": 0.8}).beta1
    0.8
    """
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
