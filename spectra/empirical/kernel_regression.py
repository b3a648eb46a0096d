r"""Measured learning curves: kernel ridge regression and trained networks on sampled data.

The experimental side of :func:`spectra.analytic.learning_curve`.  Both functions take the
same ``Spectrum`` (for the domain, the dimension and the kernel's hyperparameters), target
powers per degree, sample sizes, noise and ridge, and return the measured noise-free test error
``E_x[(f_hat - f*)^2]`` as mean +- standard error over independent training sets.

Targets.  On the cube the degree-``k`` component is a random multilinear polynomial of degree
``k`` with unit norm (:func:`random_cube_polynomial`), scaled to norm ``sqrt(p_k)``; by the sign
and permutation symmetries of the cube and the iid uniform sampling, the expected error of any
such target depends on it only through ``p_k``.  On the sphere it is a single degree-``k``
harmonic (:func:`spherical_harmonic_target`, unit norm); on Gaussian inputs (homogeneous
kernels only) the harmonic times ``|x|/sqrt(d)``, the top radial eigenfunction of block ``k``.

Test error.  On the cube with ``d <= 64`` it is computed exactly under the uniform measure, with no test set:
with ``f_hat = sum_i a_i K(., x_i)``,

.. math::
    E_x (f_hat - f^*)^2 = a^\top K^{(2)}(X, X)\, a - 2 a^\top (T_K f^*)(X) + \|f^*\|^2,\qquad
    K^{(2)}(x, y) = \sum_k \mu_k^2 \sum_{|S| = k}\chi_S(x)\chi_S(y),

where ``sum_{|S|=k} chi_S(x) chi_S(y)`` is the Krawtchouk polynomial of the Hamming distance
and ``T_K f* = sum_k mu_k f*_k``.  Elsewhere a fresh test set of ``n_test`` points per trial.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int
from ..analytic import Spectrum, get_activation, krawtchouk_matrix, mlp_kernel
from ..analytic.learning_curve import _check_n, _check_nonneg, _check_target
from ..domains import cube_points, random_cube_polynomial, sample_gaussian, sample_sphere, spherical_harmonic_target

__all__ = ["MeasuredCurve", "kernel_regression_curve", "network_regression_curve"]

#: Up to this d the cube's test error is exact (Krawtchouk rows in float64); above, a test set.
_EXACT_MAX_DIM = 64


@dataclass(frozen=True)
class MeasuredCurve:
    """Measured test and train error per sample size (mean and standard error over trials).

    Attributes
    ----------
    n : ndarray of int (T,)
    test_mse, test_se : ndarray (T,)
        Noise-free test error ``E_x[(f_hat - f*)^2]``: mean and standard error over trials.
    train_mse, train_se : ndarray (T,)
        Mean of ``(f_hat(x_i) - y_i)^2`` over the noisy training labels.
    per_trial : ndarray (T, trials)
        The test error of every trial.
    trials : int
    method : str
        How it was measured (``"krr, exact cube measure"``, ``"trained network width=..."``, ...).
    info : dict
        The inputs echoed (domain, dim, kernel, target_power, noise, ridge, seed, ...).
    """

    n: np.ndarray
    test_mse: np.ndarray
    test_se: np.ndarray
    train_mse: np.ndarray
    train_se: np.ndarray
    per_trial: np.ndarray
    trials: int
    method: str
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.n)

    def __repr__(self) -> str:
        i = self.info
        return (f"MeasuredCurve({self.method}; {i.get('kernel', '?')} on {i.get('domain', '?')} d={i.get('dim', '?')}, "
                f"{len(self.n)} sample sizes {int(self.n[0])}..{int(self.n[-1])}, {self.trials} trials)")

    def to_dict(self) -> dict:
        out = dict(self.info)
        out.update(method=self.method, trials=int(self.trials), n=[int(x) for x in self.n],
                   measured_test_mse=[float(x) for x in self.test_mse], measured_se=[float(x) for x in self.test_se],
                   measured_train_mse=[float(x) for x in self.train_mse],
                   measured_train_se=[float(x) for x in self.train_se])
        return out


# ----------------------------------------------------------------------------- the problem
class _Problem:
    """Sampler, target and kernel of one (spectrum, target) pair; seeded and reusable."""

    def __init__(self, spec: Spectrum, target: dict, seed: int):
        p = spec.params
        self.domain, self.d = spec.domain, int(spec.dim)
        self.kw = dict(activation=get_activation(p["activation"]), depth=int(p["depth"]),
                       weight_var=float(p["weight_var"]), bias_var=float(p["bias_var"]), kernel=p["kernel"])
        self.target = {k: v for k, v in target.items() if v > 0}
        self.power = float(sum(self.target.values()))
        self.seeds = {k: seed * 1000 + 17 + k for k in self.target}   # one fixed target function
        if self.domain == "gaussian" and not all(m == "zero" or str(m).startswith("homogeneous") for m in spec.method):
            raise ValueError("gaussian: measured curves need a homogeneous kernel (relu/leaky_relu/abs/identity "
                             "without bias), whose block eigenfunctions are |x| times a harmonic")
        self.exact = self.domain == "cube" and self.d <= _EXACT_MAX_DIM
        if self.domain == "cube":
            d = self.d
            self.phi = mlp_kernel(1.0 - 2.0 * np.arange(d + 1) / d, **self.kw)   # kernel at Hamming distance j
        if self.exact:
            M = krawtchouk_matrix(d)                 # mu = M @ phi; sum_{|S|=k} chi chi at distance j = 2^d M[j, k]
            self.mu = M @ self.phi
            self.k2 = math.ldexp(1.0, d) * (M @ self.mu ** 2)      # K^(2) at Hamming distance j

    def sample(self, n: int, rng, replace: bool = True) -> np.ndarray:
        if self.domain == "cube":
            if replace:
                return cube_points(self.d, n, seed=rng)
            idx = rng.choice(2 ** self.d, size=n, replace=False)     # distinct vertices
            return 1.0 - 2.0 * ((idx[:, None] >> np.arange(self.d)[None, :]) & 1).astype(float)
        if self.domain == "sphere":
            return sample_sphere(self.d, n, seed=rng)
        return sample_gaussian(self.d, n, seed=rng)

    def components(self, X) -> dict:
        """Degree-``k`` target components (norm ``sqrt(p_k)``) at the points ``X``."""
        out = {}
        for k, pk in self.target.items():
            if self.domain == "cube":
                f = random_cube_polynomial(X, k, seed=self.seeds[k])
            else:
                r = np.linalg.norm(X, axis=1) / math.sqrt(self.d)
                U = X / np.where(r > 0, r, 1.0)[:, None]
                f = spherical_harmonic_target(U, k, n_terms=1, seed=self.seeds[k])
                if self.domain == "gaussian":
                    f = f * r
            out[k] = math.sqrt(pk) * f
        return out

    def kernel(self, X, Y) -> np.ndarray:
        if self.domain == "cube":
            H = np.rint((self.d - X @ Y.T) / 2).astype(np.intp)     # Hamming distances
            return self.phi[H]
        nx = np.sum(X * X, axis=1) / self.d
        ny = np.sum(Y * Y, axis=1) / self.d
        c = X @ Y.T / self.d
        if self.domain == "sphere":
            return mlp_kernel(np.clip(c, -1.0, 1.0), **self.kw)
        return mlp_kernel(c, **self.kw, norm_x=nx[:, None], norm_y=ny[None, :])

    def cube_error(self, X, a, comps) -> float:
        """Exact ``E_x (f_hat - f*)^2`` under the uniform cube measure (see the module docstring)."""
        H = np.rint((self.d - X @ X.T) / 2).astype(np.intp)
        tf = sum((self.mu[k] * f for k, f in comps.items()), np.zeros(X.shape[0]))
        err = float(a @ (self.k2[H] @ a) - 2.0 * (a @ tf) + self.power)
        return max(err, 0.0)


def _solve(K, y, ridge):
    import scipy.linalg

    A = K.copy()
    A[np.diag_indices_from(A)] += ridge
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:  # ridge 0 with repeated points: the minimum-norm interpolant
        return np.linalg.lstsq(A, y, rcond=None)[0]
    z = scipy.linalg.solve_triangular(L, y, lower=True, check_finite=False)
    return scipy.linalg.solve_triangular(L.T, z, lower=False, check_finite=False)


def _summ(values) -> tuple:
    v = np.asarray(values, dtype=float)
    se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
    return float(v.mean()), se


def _inputs(spectrum, target_power, n, noise, ridge, trials, seed, n_test):
    if not isinstance(spectrum, Spectrum):
        raise TypeError(f"spectrum must be a spectra.analytic.Spectrum, got {type(spectrum).__name__}")
    target = _check_target(target_power, spectrum)
    n_arr = _check_n(n)
    if np.any(n_arr != np.round(n_arr)):
        raise ValueError("n must be integers for a measured curve")
    noise = _check_nonneg(noise, "noise")
    ridge = _check_nonneg(ridge, "ridge")
    trials = check_int(trials, "trials", minimum=2)
    seed = check_int(seed, "seed", minimum=0)
    n_test = check_int(n_test, "n_test", minimum=1)
    return target, n_arr.astype(int), noise, ridge, trials, seed, n_test


def _info(spec, target, noise, ridge, seed, **extra):
    info = dict(domain=spec.domain, dim=int(spec.dim))
    info.update(spec.params)
    info.update(target_power={str(k): float(v) for k, v in target.items()}, noise=noise, ridge=ridge, seed=seed)
    info.update(extra)
    return info


def kernel_regression_curve(spectrum: Spectrum, target_power, n, *, noise: float = 0.0, ridge: float = 1e-3,
                            trials: int = 40, seed: int = 0, n_test: int = 2000, max_n: int = 20000,
                            replace: bool = True) -> MeasuredCurve:
    """Measured test error of kernel ridge regression with the analytic kernel.

    ``f_hat = K(x, X)(K(X, X) + ridge I)^{-1} y`` with ``n`` iid training points of the spectrum's
    domain, labels ``y = f*(X) + noise``, the kernel of ``spectrum.params``.

    Parameters
    ----------
    spectrum : Spectrum
        Gives the domain, ``d`` and the kernel (``activation``, ``depth``, ``weight_var``,
        ``bias_var``, ``kernel``); its eigenvalues are not used.
    target_power : dict {degree: power}
        As in :func:`spectra.analytic.learning_curve`.
    n : int or sequence of int
        Sample sizes in ``[1, max_n]``.
    noise, ridge : float
        Label-noise variance ``>= 0`` and ridge ``>= 0`` (unnormalized Gram).
    trials : int
        Independent training sets per ``n`` (``>= 2``).
    seed : int
        Seeds the target and every training set.
    n_test : int
        Test points per trial on the sphere, the Gaussian domain and the cube with ``d > 64``
        (up to ``d = 64`` the cube's error is exact under its uniform measure).
    max_n : int
        Largest allowed sample size (the Gram matrix is ``n x n``).
    replace : bool
        Cube only: ``True`` (default) draws iid points, so repeats occur once ``n`` is a fair
        fraction of ``sqrt(2^d)``..``2^d``; ``False`` draws ``n`` distinct vertices (``d <= 62``).

    Returns
    -------
    MeasuredCurve

    Examples
    --------
    >>> from spectra.analytic import cube_spectrum, learning_curve
    >>> s = cube_spectrum(12, activation="relu", depth=1, weight_var=2.0, bias_var=0.0, kernel="ntk")
    >>> m = kernel_regression_curve(s, {1: 1.0}, [64], noise=0.05, ridge=1e-3, trials=40)
    >>> p = learning_curve(s, {1: 1.0}, [64], noise=0.05, ridge=1e-3)
    >>> bool(abs(m.test_mse[0] / p.test_mse[0] - 1) < 0.05)
    True
    """
    target, n_arr, noise, ridge, trials, seed, n_test = _inputs(spectrum, target_power, n, noise, ridge, trials,
                                                               seed, n_test)
    max_n = check_int(max_n, "max_n", minimum=1)
    if n_arr.max() > max_n:
        raise ValueError(f"n must be <= max_n = {max_n} for a measured curve (an n x n Gram), got {n_arr.max()}")
    if not replace and (spectrum.domain != "cube" or spectrum.dim > 62 or n_arr.max() > 2 ** spectrum.dim):
        raise ValueError("replace=False needs the cube with d <= 62 and n <= 2^d")
    prob = _Problem(spectrum, target, seed)
    rng = np.random.default_rng(seed)
    tests, trains = np.zeros((len(n_arr), trials)), np.zeros((len(n_arr), trials))
    for i, m in enumerate(n_arr):
        for t in range(trials):
            X = prob.sample(int(m), rng, replace)
            comps = prob.components(X)
            f = sum(comps.values(), np.zeros(int(m)))
            y = f + math.sqrt(noise) * rng.standard_normal(int(m))
            K = prob.kernel(X, X)
            a = _solve(K, y, ridge)
            trains[i, t] = float(np.mean((K @ a - y) ** 2))
            if prob.exact:
                tests[i, t] = prob.cube_error(X, a, comps)
            else:
                Xt = prob.sample(n_test, rng)
                ft = sum(prob.components(Xt).values(), np.zeros(n_test))
                tests[i, t] = float(np.mean((prob.kernel(Xt, X) @ a - ft) ** 2))
    stats = [_summ(r) for r in tests]
    tstats = [_summ(r) for r in trains]
    method = "krr, exact cube measure" if prob.exact else f"krr, {n_test} test points per trial"
    if not replace:
        method += ", distinct training points"
    return MeasuredCurve(n_arr, np.array([s[0] for s in stats]), np.array([s[1] for s in stats]),
                         np.array([s[0] for s in tstats]), np.array([s[1] for s in tstats]), tests, trials, method,
                         _info(spectrum, target, noise, ridge, seed))


def network_regression_curve(spectrum: Spectrum, target_power, n, *, width: int = 2048, noise: float = 0.0,
                             trials: int = 5, seed: int = 0, n_test: int = 2000, tol: float = 1e-3,
                             max_steps: int = 200_000) -> MeasuredCurve:
    """Measured test error of wide networks trained to convergence (the NTK at ridge 0).

    For each training set an :class:`MLP` (NTK parametrization, the spectrum's architecture) is
    trained by full-batch GD on the loss ``(1/2n) sum (f(x_i) - y_i - f_0(x_i))^2`` and predicts
    ``f(x) - f_0(x)``, with ``f_0`` the network at initialization.  Linearized, this is GD from 0
    on ``g = f - f_0``, whose limit is ``Theta(x, X) Theta(X, X)^{-1} y``: kernel regression with
    the NTK at ridge 0, without the random initial function.  (Training on ``y`` and predicting
    ``f`` would add ``f_0(x) - Theta(x, X) Theta^{-1} f_0(X)`` to the prediction.)

    The learning rate is ``1.5 / lambda_max`` and the number of steps
    ``log(1/tol) / (lr lambda_min)`` (capped at ``max_steps``), with ``lambda`` the eigenvalues of
    the analytic ``Theta(X, X)/n``.

    Parameters
    ----------
    spectrum : Spectrum
        NTK spectrum (``params["kernel"] == "ntk"``) giving domain, ``d`` and architecture.
    target_power, n, noise, trials, seed, n_test
        As in :func:`kernel_regression_curve`; on the cube the training points are distinct
        (``replace=False``) and with ``d <= 16`` the test set is the whole cube.
    width : int
        Hidden width.
    tol : float
        Target reduction of the slowest linearized residual mode.
    max_steps : int

    Returns
    -------
    MeasuredCurve
        ``info["steps"]`` lists the GD steps used per ``n``; ``info["krr_per_trial"]`` (and its
        mean ``info["krr_test_mse"]``) the test error of kernel regression with the analytic NTK
        at ridge 0 on the same training sets, so that the finite-width effect can be read off
        without the training-set variance.

    Examples
    --------
    >>> from spectra.analytic import cube_spectrum
    >>> s = cube_spectrum(6, activation="relu", depth=1, weight_var=2.0, bias_var=0.5, kernel="ntk")
    >>> m = network_regression_curve(s, {1: 1.0}, [16], width=256, trials=2)
    >>> bool(m.train_mse[0] < 1e-4)
    True
    """
    from .network import MLP
    from .training import train

    target, n_arr, noise, _, trials, seed, n_test = _inputs(spectrum, target_power, n, noise, 0.0, trials, seed,
                                                            n_test)
    width = check_int(width, "width", minimum=1)
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    tol = float(tol)
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    if spectrum.params.get("kernel") != "ntk":
        raise ValueError("network_regression_curve needs an NTK spectrum (trained networks follow the NTK)")
    prob = _Problem(spectrum, target, seed)
    rng = np.random.default_rng(seed)
    full = prob.domain == "cube" and prob.d <= 16
    tests, trains, krr = (np.zeros((len(n_arr), trials)) for _ in range(3))
    steps_used = []
    for i, m in enumerate(n_arr):
        m = int(m)
        for t in range(trials):
            # distinct points on a cube small enough to repeat them: ridge 0 needs a nonsingular Gram
            X = prob.sample(m, rng, replace=not (prob.domain == "cube" and prob.d <= 62 and m <= 2 ** prob.d))
            f = sum(prob.components(X).values(), np.zeros(m))
            y = f + math.sqrt(noise) * rng.standard_normal(m)
            Xt = cube_points(prob.d) if full else prob.sample(n_test, rng)
            ft = sum(prob.components(Xt).values(), np.zeros(Xt.shape[0]))
            K = prob.kernel(X, X)
            krr[i, t] = float(np.mean((prob.kernel(Xt, X) @ _solve(K, y, 0.0) - ft) ** 2))   # same set, NTK at ridge 0
            ev = np.linalg.eigvalsh(K / m)
            lr = 1.5 / ev[-1]          # below the 2/lambda_max edge with room for finite-width changes
            steps = int(min(max_steps, math.ceil(math.log(1 / tol) / (lr * max(ev[0], 1e-300)))))
            net = MLP(prob.d, width, prob.kw["depth"], prob.kw["activation"], prob.kw["weight_var"],
                      prob.kw["bias_var"], seed=int(rng.integers(2**31)))
            f0, f0t = net(X)[:, 0], net(Xt)[:, 0]
            run = train(net, X, y + f0, n_steps=steps, lr=lr, X_test=Xt, y_test=ft + f0t, record=("loss", "outputs"),
                        record_steps=[steps])
            tests[i, t] = float(np.mean((run.outputs_test[-1][:, 0] - f0t - ft) ** 2))
            trains[i, t] = float(np.mean((run.outputs_train[-1][:, 0] - f0 - y) ** 2))
        steps_used.append(steps)
    stats = [_summ(r) for r in tests]
    tstats = [_summ(r) for r in trains]
    where = "whole cube" if full else f"{n_test} test points"
    return MeasuredCurve(n_arr, np.array([s[0] for s in stats]), np.array([s[1] for s in stats]),
                         np.array([s[0] for s in tstats]), np.array([s[1] for s in tstats]), tests, trials,
                         f"trained network width={width}, GD to convergence, {where}",
                         _info(spectrum, target, noise, 0.0, seed, width=width, steps=steps_used,
                               krr_test_mse=krr.mean(axis=1).tolist(), krr_per_trial=krr.tolist()))
