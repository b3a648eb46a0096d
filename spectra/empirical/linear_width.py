r"""The two-layer network in the linear-width regime (the setting of Kothapalli et al., arXiv 2406.04657).

Data ``x ~ N(0, I_d)``; single-index teacher ``y = sigma_*(beta^T x) + noise * eps`` with
``beta`` uniform on the unit sphere; student

.. math::
    f(x) = \frac{1}{\sqrt h}\, a^\top \sigma\!\big(W x / \sqrt d\big),\qquad
    W \in \mathbb R^{h\times d},\quad W_{ij}, a_i \overset{iid}{\sim} \mathcal N(0, 1),

with the last layer ``a`` frozen and only ``W`` trained on the mean-squared error
``L(W) = (1 / 2n) sum_i (f(x_i) - y_i)^2`` by full-batch gradient descent or by Adam, through
:func:`spectra.empirical.training.train` (``trainable=["W1"]``; the student implements the
network protocol).  ``n / d`` and ``h / d`` stay fixed as sizes grow.

Arrays store samples as rows: ``X`` has shape ``(n, d)``.

Kernels, with ``Z = sigma(X W^T / sqrt d)`` and ``S = sigma'(X W^T / sqrt d)``:

* CK: ``K_CK = Z Z^T / h``;
* NTK of the trained first layer: ``K_NTK = (X X^T / d) * (S diag(a^2) S^T / h)`` (Hadamard
  product); ``include_readout=True`` adds ``K_CK`` (the readout's contribution if it were trained).

Test error is measured in two ways: with the fixed readout ``a`` (the trained model itself), and
with a ridge-refit readout on a fresh probe set (as in Kothapalli et al.'s public code):
``a_hat = (Z_p^T Z_p + lam (n_p / h) I)^{-1} Z_p^T y_p`` with ``Z_p = sigma(X_p W^T / sqrt d) / sqrt h``
(here with an unpenalised intercept, i.e. ``Z_p`` and ``y_p`` centred on the probe set).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._validation import as_generator, check_finite_array, check_int, check_positive
from .training import GD, Adam, mse_loss, train

__all__ = ["SingleIndexData", "single_index_data", "TwoLayerStudent", "TrainHistory", "train_first_layer"]


def _activation(name):
    from spectra.analytic import get_activation

    return get_activation(name)


@dataclass
class SingleIndexData:
    """Train, probe and test sets of a single-index teacher.

    Attributes
    ----------
    X, y : ndarray, shapes (n, d), (n,)
        Training set.
    X_probe, y_probe : ndarray
        Fresh set of ``n`` points for the ridge-refit readout.
    X_test, y_test : ndarray
        Test set (``n_test`` points).
    beta : ndarray, shape (d,)
        Unit teacher direction.
    teacher : str
    noise : float
    """

    X: np.ndarray
    y: np.ndarray
    X_probe: np.ndarray
    y_probe: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    beta: np.ndarray
    teacher: str
    noise: float
    shift: float = 0.0


def single_index_data(n: int, d: int, *, n_test: int = 1000, teacher: str = "softplus", noise: float = 0.3,
                      center: bool = True, seed=0) -> SingleIndexData:
    """Gaussian inputs with a single-index teacher ``y = sigma_*(beta^T x) + noise * eps``.

    Parameters
    ----------
    n, d : int
        Training-set size and input dimension (``>= 1``).
    n_test : int
        Test-set size.  A probe set of ``n`` fresh points is drawn as well.
    teacher : str
        Activation name for ``sigma_*`` (see :func:`spectra.analytic.get_activation`).
    noise : float
        Label-noise standard deviation (``>= 0``).
    center : bool
        Subtract ``E sigma_*(z)``, ``z ~ N(0, 1)`` (Gauss–Hermite), from the labels.  The student
        has no bias, so with an odd activation it cannot fit the mean; an uncentred mean only adds
        an isotropic noise term to the first gradient and hides the spike.
    seed : int or numpy Generator

    Returns
    -------
    SingleIndexData

    Examples
    --------
    >>> data = single_index_data(50, 10, n_test=20, seed=0)
    >>> data.X.shape, data.y.shape, round(float(np.linalg.norm(data.beta)), 12)
    ((50, 10), (50,), 1.0)
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    n_test = check_int(n_test, "n_test", minimum=1)
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    act = _activation(teacher)
    rng = as_generator(seed)
    beta = rng.standard_normal(d)
    beta /= np.linalg.norm(beta)

    shift = 0.0
    if center:
        z, w = np.polynomial.hermite_e.hermegauss(80)
        shift = float(np.dot(w, act.fn(z)) / math.sqrt(2 * math.pi))

    def draw(m):
        X = rng.standard_normal((m, d))
        return X, act.fn(X @ beta) - shift + noise * rng.standard_normal(m)

    X, y = draw(n)
    Xp, yp = draw(n)
    Xt, yt = draw(n_test)
    return SingleIndexData(X, y, Xp, yp, Xt, yt, beta, act.name, noise, shift)


class TwoLayerStudent:
    """``f(x) = a^T sigma(W x / sqrt d) / sqrt h`` with ``W`` (h, d) and ``a`` (h,) iid N(0, 1).

    Parameters
    ----------
    d, h : int
        Input dimension and width.
    activation : str
        Student activation (default ``tanh``, as in Kothapalli et al.).
    seed : int or numpy Generator

    Attributes
    ----------
    W : ndarray, shape (h, d)
        Trained first layer (``params[0]``, named ``"W1"``).
    a : ndarray, shape (h,)
        Readout (``params[1]``, named ``"a"``), frozen by :func:`train_first_layer`.
    params, param_names
        ``[W, a]`` and ``["W1", "a"]``: with :meth:`forward`, :meth:`backward` and
        :meth:`features` this is the network protocol of :func:`spectra.empirical.training.train`,
        so ``train(net, X, y, trainable=["W1"], ...)`` trains the first layer.

    Examples
    --------
    >>> net = TwoLayerStudent(10, 30, seed=0)
    >>> X = np.random.default_rng(1).standard_normal((5, 10))
    >>> net(X).shape, net.ck_gram(X).shape, net.ntk_gram(X).shape
    ((5,), (5, 5), (5, 5))
    """

    def __init__(self, d: int, h: int, activation: str = "tanh", *, seed=0):
        self.d = check_int(d, "d", minimum=1)
        self.h = check_int(h, "h", minimum=1)
        self.act = _activation(activation)
        self.seed = seed
        rng = as_generator(seed)
        W = rng.standard_normal((self.h, self.d))
        self.params = [W, rng.standard_normal(self.h)]

    param_names = ["W1", "a"]
    n_outputs = 1

    @property
    def W(self) -> np.ndarray:
        """First layer, shape (h, d)."""
        return self.params[0]

    @W.setter
    def W(self, value):
        self.params[0] = np.asarray(value, dtype=float)

    @property
    def a(self) -> np.ndarray:
        """Readout, shape (h,)."""
        return self.params[1]

    @a.setter
    def a(self, value):
        self.params[1] = np.asarray(value, dtype=float)

    @property
    def config(self) -> dict:
        """The constructor's settings as a JSON-serialisable dict (stored in a training run)."""
        seed = None if isinstance(self.seed, np.random.Generator) else int(self.seed)
        return {"kind": "two_layer_student", "d": self.d, "h": self.h, "activation": self.act.name, "seed": seed}

    def check_input(self, X, name="X") -> np.ndarray:
        """``X`` as a finite ``(n, d)`` float array with ``n >= 1``."""
        X = check_finite_array(X, name, ndim=2)
        if X.shape[1] != self.d:
            raise ValueError(f"{name} must have d = {self.d} columns, got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{name} must hold at least one sample")
        return X

    def _pre(self, X):
        return X @ self.W.T / math.sqrt(self.d)

    def features(self, X) -> np.ndarray:
        """Post-activation features ``sigma(X W^T / sqrt d) / sqrt h``, shape (n, h)."""
        X = self.check_input(X)
        return self.act.fn(self._pre(X)) / math.sqrt(self.h)

    def __call__(self, X) -> np.ndarray:
        """Outputs ``f(X)``, shape (n,)."""
        return self.features(X) @ self.a

    def forward(self, X):
        """Outputs, shape (n, 1), and the cache for :meth:`backward`."""
        X = self.check_input(X)
        pre = self._pre(X)
        Z = self.act.fn(pre)
        return (Z @ self.a / math.sqrt(self.h))[:, None], (X, pre, Z)

    def backward(self, cache, grad_out) -> list:
        """Gradients ``[dL/dW, dL/da]`` from ``grad_out = dL/df``, shape (n, 1) or (n,)."""
        X, pre, Z = cache
        g = np.asarray(grad_out, dtype=float).reshape(-1)
        if g.shape[0] != X.shape[0]:
            raise ValueError(f"grad_out must have shape ({X.shape[0]}, 1), got {np.shape(grad_out)}")
        # dL/dpre_ik = g_i a_k sigma'(pre_ik) / sqrt h; dpre/dW = x / sqrt d
        D = self.act.derivative(pre) * (g[:, None] * (self.a[None, :] / math.sqrt(self.h)))
        return [D.T @ X / math.sqrt(self.d), Z.T @ g / math.sqrt(self.h)]

    def loss_and_grad(self, X, y):
        """MSE ``(1/2n) ||f - y||^2`` and its gradient with respect to ``W`` (shape (h, d))."""
        X = self.check_input(X)
        y = check_finite_array(y, "y", ndim=1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have length n = {X.shape[0]}, got {y.shape[0]}")
        # a diverging run overflows here; the caller checks the loss
        with np.errstate(over="ignore", invalid="ignore"):
            out, cache = self.forward(X)
            loss, g = mse_loss(out, y[:, None])
            return loss, self.backward(cache, g)[0]

    def ck_gram(self, X) -> np.ndarray:
        """Conjugate kernel ``Z Z^T / h``, shape (n, n)."""
        Z = self.features(X)
        return Z @ Z.T

    def ntk_gram(self, X, *, include_readout: bool = False) -> np.ndarray:
        """Empirical NTK of the first layer ``(X X^T / d) * (S diag(a^2) S^T / h)``, shape (n, n).

        ``include_readout=True`` adds the readout's term ``K_CK`` (full NTK if ``a`` were trained).
        """
        X = self.check_input(X)
        S = self.act.derivative(self._pre(X)) * (np.abs(self.a)[None, :] / math.sqrt(self.h))
        K = (X @ X.T / self.d) * (S @ S.T)
        if include_readout:
            K += self.ck_gram(X)
        return K

    def test_error(self, X_test, y_test) -> float:
        """Test MSE ``mean((f(x) - y)^2)`` with the fixed readout ``a``."""
        X_test = self.check_input(X_test, "X_test")
        y_test = check_finite_array(y_test, "y_test", ndim=1)
        return float(np.mean((self(X_test) - y_test) ** 2))

    def ridge_test_error(self, X_probe, y_probe, X_test, y_test, ridge: float = 0.1) -> float:
        """Test MSE with the readout ridge-refit on a probe set (module docstring)."""
        ridge = float(ridge)
        if not (math.isfinite(ridge) and ridge >= 0):
            raise ValueError(f"ridge must be a finite number >= 0, got {ridge!r}")
        Zp = self.features(X_probe)
        yp = check_finite_array(y_probe, "y_probe", ndim=1)
        if yp.shape[0] != Zp.shape[0]:
            raise ValueError(f"y_probe must have length {Zp.shape[0]}, got {yp.shape[0]}")
        # unpenalised intercept: odd activations (tanh) cannot represent the teacher's mean
        zm, ym = Zp.mean(axis=0), float(yp.mean())
        Zc = Zp - zm
        A = Zc.T @ Zc + ridge * (Zp.shape[0] / self.h) * np.eye(self.h)
        a_hat = np.linalg.solve(A, Zc.T @ (yp - ym))
        Zt = self.features(X_test)
        yt = check_finite_array(y_test, "y_test", ndim=1)
        return float(np.mean(((Zt - zm) @ a_hat + ym - yt) ** 2))


@dataclass
class TrainHistory:
    """Training losses and snapshots of ``W``.

    Attributes
    ----------
    loss : list of float
        Training MSE ``(1/2n)||f - y||^2`` before each step and after the last one.
    snapshots : dict
        Step -> copy of ``W`` at the requested steps.
    diverged : bool
        Whether the loss or ``W`` became non-finite (training stops there).
    """

    loss: list = field(default_factory=list)
    snapshots: dict = field(default_factory=dict)
    diverged: bool = False


def train_first_layer(net: TwoLayerStudent, X, y, *, optimizer: str = "gd", lr: float = 1.0, steps: int = 10,
                      betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, snapshot_steps=(),
                      progress: bool = False) -> TrainHistory:
    """Train ``net.W`` in place by full-batch GD or Adam on the MSE; ``a`` stays frozen.

    A thin wrapper over :func:`spectra.empirical.training.train` with ``trainable=["W1"]``,
    returning the losses and ``W`` snapshots as a :class:`TrainHistory`.

    Parameters
    ----------
    net : TwoLayerStudent
    X, y : ndarray, shapes (n, d), (n,)
    optimizer : {'gd', 'adam'}
        ``gd``: ``W <- W - lr * grad``.  ``adam``: :class:`~spectra.empirical.training.Adam`.
    lr : float
        Learning rate (> 0).
    steps : int
        Number of full-batch steps (>= 0).
    betas, eps : Adam constants.
    snapshot_steps : iterable of int
        Steps (0 = initialization) at which a copy of ``W`` is stored; steps past ``steps`` are
        ignored.
    progress : bool
        Print progress on stderr.

    Returns
    -------
    TrainHistory

    Examples
    --------
    >>> data = single_index_data(200, 20, n_test=10, seed=0)
    >>> net = TwoLayerStudent(20, 40, seed=1)
    >>> hist = train_first_layer(net, data.X, data.y, lr=1.0, steps=20)
    >>> hist.loss[-1] < hist.loss[0]
    True
    """
    if not isinstance(net, TwoLayerStudent):
        raise TypeError(f"net must be a TwoLayerStudent, got {type(net).__name__}")
    opt = str(optimizer).strip().lower()
    if opt not in ("gd", "adam"):
        raise ValueError(f"optimizer must be 'gd' or 'adam', got {optimizer!r}")
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", minimum=0)
    b1, b2 = (float(betas[0]), float(betas[1]))
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise ValueError(f"betas must lie in [0, 1), got {betas!r}")
    eps = check_positive(eps, "eps")
    snaps = {check_int(s, "snapshot_steps", minimum=0) for s in snapshot_steps}
    X = net.check_input(X)
    y = check_finite_array(y, "y", ndim=1)
    hist = TrainHistory()
    if steps > 0:
        with warnings.catch_warnings():  # divergence is reported in hist.diverged
            warnings.filterwarnings("ignore", "training diverged", RuntimeWarning)
            run = train(net, X, y, n_steps=steps, lr=lr, optimizer=GD() if opt == "gd" else Adam(b1, b2, eps),
                        trainable=["W1"], record=("weights",), record_steps=sorted(s for s in snaps if s < steps),
                        progress=progress)
        hist.loss = [float(v) for v in run.loss_history]
        hist.snapshots = {int(s): W for s, W in zip(run.steps, run.weights["W1"])} if run.weights else {}
        hist.diverged = run.diverged
    if not hist.diverged:  # the loss after the last step, as in every step
        if steps in snaps:
            hist.snapshots[steps] = net.W.copy()
        loss, g = net.loss_and_grad(X, y)
        hist.loss.append(loss)
        hist.diverged = not (math.isfinite(loss) and np.all(np.isfinite(g)))
    return hist
