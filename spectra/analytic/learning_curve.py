r"""Learning curves of kernel regression predicted from an exact spectrum.

Kernel ridge regression ``f_hat = K(x, X) (K(X, X) + delta I)^{-1} y`` on ``n`` iid samples of
a target ``f*`` with label noise of variance ``sigma^2``.  The spectral theory of Bordelon,
Canatar & Pehlevan (ICML 2020), Canatar, Bordelon & Pehlevan (Nat. Commun. 2021) and Simon,
Dickens, Karkada & DeWeese ("The Eigenlearning Framework", TMLR 2023) predicts, from the
eigenvalues ``mu_k`` (multiplicities ``N_k``) of the kernel's integral operator with respect to
the input probability measure:

.. math::
    \sum_k N_k \frac{\mu_k}{\mu_k + \kappa} + \frac{\delta}{\kappa} = n,\qquad
    L_k = \frac{\mu_k}{\mu_k + \kappa},\qquad
    E_0 = \frac{n}{n - \sum_k N_k L_k^2},

    \text{test\_mse\_noisy} = E_0\Big(\sum_k (1 - L_k)^2 p_k + \sigma^2\Big),\qquad
    \text{test\_mse} = \text{test\_mse\_noisy} - \sigma^2,\qquad
    \text{train\_mse} = \Big(\frac{\delta}{n\kappa}\Big)^2 \text{test\_mse\_noisy},

where ``p_k`` is the total squared norm of the target's degree-``k`` component.
``test_mse`` is ``E_x[(f_hat - f*)^2]`` (noise-free target, averaged over training sets);
``test_mse_noisy`` is the error against a fresh noisy label, ``test_mse + sigma^2``; the train
error is the mean of ``(f_hat(x_i) - y_i)^2`` over the noisy training labels.

**Numerics.**  Multiplicities reach ``C(8192, 4096) ~ 1e2465`` and eigenvalues ``1e-2400``, so
every sum is a log-sum-exp of float64 logarithms (``log N_k`` from the exact integer,
``log mu_k`` from the arbitrary-precision eigenvalue).  Every quantity is a sum of positive
terms; the two differences in the formulas are rewritten without cancellation:
``n - sum N L^2 = sum N L (1 - L) + delta/kappa`` and ``E_0 - 1 = sum N L^2 / (that)``.
The relative accuracy is about ``1e-16 * max_k |log N_k mu_k|`` (``~1e-12`` at ``d = 8192``).

**Truncated spectra.**  The trace ``Phi(1) = sum_k N_k mu_k`` over *all* degrees bounds the mass
``M`` of the degrees that were not computed; each contributes ``N mu/(mu + kappa) <= N mu/kappa``
to the equation, in total at most ``M / kappa``, so the missing degrees act at most like an
extra ridge ``M``.  ``kappa`` is solved with ridge ``delta + M`` (conservative: larger, so less
learning; exact when the missing eigenvalues are far below ``kappa``), ``kappa_lower`` with the
missing degrees dropped; the true value lies in between.  ``truncation_bound = M``.
"""
from __future__ import annotations

import math

import numpy as np

from .._validation import check_finite_array
from ._kappa import _Modes, _lse, _log_half_sums, _modes, _solve_log_kappa
from .learning_curve_result import LearningCurve
from .spectrum import Spectrum

__all__ = ["LearningCurve", "learning_curve", "half_learned_n", "degree_learning_ranking"]

_LN10 = math.log(10.0)


# ----------------------------------------------------------------------------- validation
def _check_target(target_power, spec: Spectrum) -> dict:
    if isinstance(target_power, dict):
        items = list(target_power.items())
    else:
        try:
            items = [tuple(kv) for kv in target_power]
        except TypeError:
            raise TypeError(f"target_power must be a dict {{degree: power}}, got {target_power!r}") from None
    have = {int(k) for k in spec.degrees}
    out: dict = {}
    for k, p in items:
        if isinstance(k, bool) or not float(k).is_integer():
            raise ValueError(f"target_power: degrees must be integers, got {k!r}")
        k = int(k)
        if k not in have:
            lo, hi = int(min(have)), int(max(have))
            raise ValueError(f"target_power: degree {k} is not in the spectrum's degrees ({lo}..{hi}"
                             f"{'' if len(have) == hi - lo + 1 else ', with gaps'})")
        p = float(p)
        if not math.isfinite(p) or p < 0:
            raise ValueError(f"target_power: the power of degree {k} must be finite and >= 0, got {p}")
        out[k] = out.get(k, 0.0) + p
    return out


def _check_nonneg(x, name: str) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number >= 0, got {x!r}") from None
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {x}")
    return x


def _check_n(n) -> np.ndarray:
    arr = check_finite_array(np.atleast_1d(np.asarray(n, dtype=float)), "n", ndim=1)
    if arr.size == 0:
        raise ValueError("n must contain at least one sample size")
    if np.any(arr < 1):
        raise ValueError(f"n must be >= 1, got {arr[arr < 1][0]:g}")
    return arr


def _predict(spec: Spectrum, md: _Modes, target: dict, n: np.ndarray, noise: float, ridge: float) -> LearningCurve:
    log_n_samples = np.log(n)
    t = _solve_log_kappa(log_n_samples, md, ridge + md.missing)
    t_low = t if md.missing == 0 else _solve_log_kappa(log_n_samples, md, ridge)
    log_eff = math.log(ridge + md.missing) if ridge + md.missing > 0 else -math.inf

    lam = np.logaddexp(md.log_mu[None, :], t[:, None])
    log_l = md.log_mu[None, :] - lam
    log_1ml = t[:, None] - lam
    log_den = np.logaddexp(_lse(md.log_n[None, :] + log_l + log_1ml), log_eff - t)   # n - sum N L^2
    log_e0m1 = _lse(md.log_n[None, :] + 2 * log_l) - log_den                          # E0 - 1
    e0 = np.exp(log_n_samples - log_den)
    e0m1 = np.exp(log_e0m1)

    m = len(spec.degrees)
    learn = np.zeros((len(n), m))
    main = md.index >= 0
    learn[:, md.index[main]] = np.exp(log_l[:, main])
    bias = np.zeros(len(n))
    for k, p in target.items():
        i = int(np.flatnonzero(spec.degrees == k)[0])
        bias += p * (1.0 - learn[:, i]) ** 2 if p > 0 else 0.0
    noisy = e0 * (bias + noise)
    test = e0 * bias + noise * e0m1
    train = np.exp(2 * (math.log(ridge) - log_n_samples - t)) * noisy if ridge > 0 else np.zeros(len(n))

    half = np.full(m, math.inf)
    log10_half = np.full(m, math.inf)
    lm = md.log_mu[main]
    if lm.size:
        log_h = np.logaddexp(_log_half_sums(md, lm), log_eff - lm)
        log10_half[md.index[main]] = log_h / _LN10
        with np.errstate(over="ignore"):
            half[md.index[main]] = np.exp(log_h)

    info = dict(domain=spec.domain, dim=int(spec.dim))
    info.update({k: v for k, v in spec.params.items()})
    return LearningCurve(n=n.copy(), degrees=np.asarray(spec.degrees, dtype=int).copy(), kappa=np.exp(t),
                         kappa_lower=np.exp(t_low), log10_kappa=t / _LN10, learnability=learn, overfitting=e0,
                         test_mse=test, test_mse_noisy=noisy, train_mse=train, half_learned_n=half,
                         log10_half_learned_n=log10_half, target_power=dict(target), noise=noise, ridge=ridge,
                         truncation_bound=md.missing, spectrum_info=info)


def _resolve_spectrum(spectrum, domain) -> Spectrum:
    if isinstance(spectrum, Spectrum):
        if domain is not None:
            raise TypeError("give either a Spectrum, or a kernel together with domain=, not a Spectrum and a domain")
        return spectrum
    if domain is None:
        raise TypeError(f"spectrum must be a spectra.analytic.Spectrum (or a kernel with domain=), "
                        f"got {type(spectrum).__name__}")
    # a kernel and a domain of the redesign: whichever of the two knows how to pair them
    if callable(getattr(domain, "spectrum", None)):
        spec = domain.spectrum(spectrum)
    elif callable(getattr(spectrum, "spectrum", None)):
        spec = spectrum.spectrum(domain)
    else:
        raise TypeError(f"cannot compute a spectrum from {type(spectrum).__name__} and {type(domain).__name__}")
    if not isinstance(spec, Spectrum):
        raise TypeError(f"the kernel/domain pair returned {type(spec).__name__}, not a Spectrum")
    return spec


def learning_curve(spectrum, target_power, n, *, noise: float = 0.0, ridge: float = 0.0,
                   domain=None) -> LearningCurve:
    """Predicted test and train error of kernel ridge regression with ``n`` samples.

    Parameters
    ----------
    spectrum : Spectrum, or a kernel together with ``domain``
        Eigenvalues with multiplicities (e.g. from :func:`cube_spectrum`).  A truncated spectrum
        is allowed: the mass of the missing degrees is bounded by the trace and counted as ridge
        (see ``truncation_bound``, ``kappa_lower``).
    target_power : dict {degree: power}
        ``p_k = ||P_k f*||^2``, the total squared norm (under the input probability measure) of
        the target's degree-``k`` component; degrees must be among ``spectrum.degrees``, powers
        ``>= 0``.  On the Gaussian domain ``p_k`` is the power along the top radial eigenfunction
        of block ``k``.
    n : float or array_like
        Sample sizes ``>= 1`` (any magnitude; ``1e12`` is fine).
    noise : float
        Label-noise variance ``sigma^2 >= 0``.
    ridge : float
        ``delta >= 0`` in ``f_hat = K(x, X)(K(X, X) + delta I)^{-1} y`` (unnormalized Gram).  With
        ``ridge = 0`` and a complete spectrum, ``n`` must stay below the total multiplicity of the
        nonzero eigenvalues (beyond it the interpolant is not defined by the theory).
    domain : optional
        With a kernel as first argument: the domain whose spectrum to use.

    Returns
    -------
    LearningCurve

    Raises
    ------
    ValueError, TypeError
        Negative noise or ridge, ``n < 1``, target degrees outside the spectrum or negative
        power, ridge 0 with ``n`` at or above the number of nonzero modes.

    Examples
    --------
    >>> from spectra.analytic import cube_spectrum
    >>> s = cube_spectrum(12, activation="relu", depth=1, weight_var=2.0, bias_var=0.0, kernel="ntk")
    >>> lc = learning_curve(s, {1: 1.0}, [10, 100], noise=0.05, ridge=1e-3)
    >>> [round(float(x), 4) for x in lc.test_mse]
    [0.5195, 0.0401]
    >>> bool(lc.learnability[1, 1] > 0.9 > lc.learnability[0, 1])
    True
    """
    spec = _resolve_spectrum(spectrum, domain)
    target = _check_target(target_power, spec)
    n_arr = _check_n(n)
    noise = _check_nonneg(noise, "noise")
    ridge = _check_nonneg(ridge, "ridge")
    md = _modes(spec)
    if md.log_n.size == 0 and ridge + md.missing == 0:
        raise ValueError("the spectrum has no positive eigenvalue; use ridge > 0")
    if ridge == 0 and md.missing == 0 and np.any(n_arr >= md.n_plus):
        raise ValueError(f"ridge 0 needs n < {md.n_plus:.0f}, the total multiplicity of the nonzero eigenvalues "
                         f"(got n = {n_arr.max():.0f}); use ridge > 0")
    return _predict(spec, md, target, n_arr, noise, ridge)


def half_learned_n(spectrum, degree: int, *, ridge: float = 0.0, domain=None) -> float:
    """Sample size at which degree ``k`` is half learned (``kappa(n) = mu_k``, ``L_k = 1/2``).

    ``n_{1/2} = sum_j N_j mu_j / (mu_j + mu_k) + (ridge + M) / mu_k`` (explicit, no solve), with
    ``M`` the truncation bound; ``inf`` for a zero eigenvalue or beyond float64.

    Examples
    --------
    >>> from spectra.analytic import cube_spectrum
    >>> s = cube_spectrum(128, activation="relu", depth=2, weight_var=2.0, bias_var=0.0, kernel="ntk")
    >>> round(half_learned_n(s, 2) / 8128, 2)    # a small multiple of C(128, 2) = 8128 samples
    1.7
    """
    spec = _resolve_spectrum(spectrum, domain)
    target = _check_target({degree: 0.0}, spec)
    ridge = _check_nonneg(ridge, "ridge")
    (k,) = target
    md = _modes(spec)
    lc = _predict(spec, md, {}, np.array([1.0]), 0.0, ridge)
    return float(lc.half_learned_n[int(np.flatnonzero(spec.degrees == k)[0])])


def degree_learning_ranking(dim: int = 7, depths=range(1, 9), degrees=(1, 2, 3, 4), *, n=None, steps: int = 500,
                            activation="relu", weight_var: float = 2.0, bias_var: float = 0.0,
                            kernel: str = "ntk") -> dict:
    """Depths ranked by fractional variance against the ranking by the predicted learning curve.

    Yang & Salman (arXiv 1907.10599) rank depths for a degree-``k`` target by the fractional
    variance ``FV_k`` of the kernel (higher is better); the ``degree-learning`` reproduction uses
    ``d = 7``, depths 1..8, the relu NTK and ``n = 2^d`` samples trained by ``steps`` GD steps with
    learning rate ``1/Phi(1)``.  Here each depth's test error on a unit-norm degree-``k`` target
    is predicted by :func:`learning_curve` at that ``n`` with the ridge ``n Phi(1) / steps`` that
    early-stopped GD (time ``eta * steps``) corresponds to (Ali, Kolter & Tibshirani 2019), and the
    two rankings are compared pairwise.

    Returns
    -------
    dict
        ``fv`` and ``predicted_test_mse`` (lists over depths of lists over degrees), ``spearman``
        per degree (predicted error against ``FV_k`` across depths; negative = the rankings
        agree), ``pairwise_agreement`` per degree (fraction of depth pairs ordered alike: higher
        ``FV_k`` and lower predicted error) and ``agreement`` over all pairs and degrees.

    Examples
    --------
    >>> r = degree_learning_ranking(dim=7, depths=[1, 2, 3], degrees=[2])
    >>> sorted(r)[:3], 0 <= r["agreement"] <= 1
    (['agreement', 'degrees', 'depths'], True)
    """
    from scipy.stats import spearmanr

    from .cube import cube_spectrum

    depths, degrees = [int(L) for L in depths], [int(k) for k in degrees]
    n = 2 ** int(dim) if n is None else n
    fv, err, ridges = [], [], []
    for L in depths:
        s = cube_spectrum(dim, activation=activation, depth=L, weight_var=weight_var, bias_var=bias_var,
                          kernel=kernel)
        ridge = n * s.trace / steps
        fv.append([float(s.fractional_variance[k]) for k in degrees])
        err.append([float(learning_curve(s, {k: 1.0}, [n], ridge=ridge).test_mse[0]) for k in degrees])
        ridges.append(ridge)
    F, E = np.array(fv), np.array(err)
    rho, agree, total, hits = {}, {}, 0, 0
    for j, k in enumerate(degrees):
        rho[k] = float(spearmanr(E[:, j], F[:, j])[0]) if len(depths) > 2 else math.nan
        pairs = [(a, b) for a in range(len(depths)) for b in range(a + 1, len(depths))]
        ok = [np.sign(F[a, j] - F[b, j]) == -np.sign(E[a, j] - E[b, j]) for a, b in pairs]
        agree[k] = float(np.mean(ok)) if ok else math.nan
        total, hits = total + len(ok), hits + int(np.sum(ok))
    return dict(agreement=hits / total if total else math.nan, degrees=degrees, depths=depths, dim=int(dim), n=n,
                steps=int(steps), ridge=ridges, fv=fv, predicted_test_mse=err, spearman=rho,
                pairwise_agreement=agree)
