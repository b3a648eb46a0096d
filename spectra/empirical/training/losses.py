r"""Losses: each returns ``(loss, d loss / d outputs)`` for outputs ``f`` of shape ``(n, C)``.

* ``"mse"``: :math:`L = \frac1{2n}\sum_{i,c}(f_{ic}-y_{ic})^2`.  With this normalisation the
  linearised full-batch GD dynamics :math:`f_{t+1}=f_t-\frac\eta nK(f_t-y)` are stable iff
  :math:`\eta\,\lambda_{\max}(K/n)<2`, which is the threshold
  monitored by :func:`spectra.empirical.metrics.sharpness`.
* ``"cross_entropy"``: :math:`L = -\frac1n\sum_i\log\operatorname{softmax}(f_i)_{y_i}`, with
  integer labels ``y`` of shape ``(n,)`` or one-hot/probability rows of shape ``(n, C)``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["mse_loss", "cross_entropy_loss", "LOSSES", "prepare_targets"]


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


LOSSES = {"mse": mse_loss, "cross_entropy": cross_entropy_loss}


def prepare_targets(y, n: int, loss: str, n_outputs: int, name: str = "y") -> np.ndarray:
    """Targets as a float ``(n, n_outputs)`` array; integer labels become one-hot rows for cross-entropy.

    Examples
    --------
    >>> prepare_targets([0, 2], 2, "cross_entropy", 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
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
