r"""Eigenvalues of MLP kernels under isotropic Gaussian inputs :math:`x \sim \mathcal N(0, I_d)`.

Every MLP kernel is ``K(x, y) = F(<x,y>/d, |x|^2/d, |y|^2/d)``; ``L^2`` splits into blocks
(radial functions) x (degree-``k`` spherical harmonics, multiplicity ``N(d, k)``).  Block ``k``
carries the radial kernel ``R_k(r, s) = E_{t ~ tau_d}[F(r s t / d, r^2/d, s^2/d) P_k(t)]``.

Two methods (``Spectrum.method`` says which):

* **homogeneous** (exact): bias-free kernels of positively 1-homogeneous activations (relu,
  leaky relu, abs, identity; and any depth-0 bias-free kernel) satisfy
  ``K = (|x||y|/d) kappa(<x^, y^>)``; the only nonzero eigenvalue of block ``k`` is
  ``lambda_k^sphere * 2 Gamma(d/2 + 1) / (d Gamma(d/2)) = lambda_k^sphere`` (``E|x|^2/d = 1``), so the
  sphere spectrum (with its guarantees) is returned.
* **radial** (everything else): ``u = r^2/2 ~ Gamma(d/2)`` is discretised by the ``M``-point
  generalised Gauss–Laguerre rule (``alpha = d/2 - 1``, Golub–Welsch, weights normalised to a
  probability), ``R_k`` at all node pairs by the sphere's high-precision angular rule (Arb
  balls, so no cancellation loss at tiny ``mu_k``), and the eigenvalues of the symmetric
  ``W^{1/2} R_k W^{1/2}`` by ``numpy.linalg.eigh`` (after scaling; the matrix entries have no
  cancellation).  The eigenvalue reported per degree is the top radial eigenvalue; the next
  ones are in ``extra["radial_eigenvalues"]``.  **Accuracy:** the radial Nyström discretisation is
  not certified; ``rel_error_bound`` is ``|top(M1) - top(M2)|/top`` for two rule sizes
  (defaults ``M1, M2 = 24, 32``; 14, 20 for ``d >= 64``) plus the angular ball radii.
  Typical values: 1e-6..1e-9 at ``d = 4``, below 1e-10 for ``d >= 64``.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .._validation import check_int
from . import _funk_hecke as fh
from .accuracy import check_accuracy, unreliable_fraction_mask
from .bases import funk_hecke_rule, sphere_multiplicity
from .kernels import MLPKernel
from .precision import arb_to_mpf, working_precision
from .sphere import _mehler_reach, _spectrum as _sphere_spectrum
from .spectrum import (DEFAULT_MAX_DEGREE, Spectrum, check_spectrum_inputs, fractional_variances, parse_degrees,
                       result_columns)

__all__ = ["gaussian_spectrum", "radial_rule", "homogeneity_degree"]

_HOMOGENEOUS_1 = {"relu", "leaky_relu", "abs", "identity"}


def _homogeneity(kern: MLPKernel) -> int | None:
    if kern.bias_var != 0.0:
        return None
    if kern.depth == 0 or kern.activation.name.split("(")[0] in _HOMOGENEOUS_1:
        return 1
    return None


def homogeneity_degree(activation, depth: int, bias_var) -> int | None:
    """Degree ``alpha`` with ``F(l^2 c, l^2 nx, l^2 ny) = l^(2 alpha) F``, or None if not homogeneous.

    Examples
    --------
    >>> homogeneity_degree("relu", 3, 0.0), homogeneity_degree("relu", 3, 0.1), homogeneity_degree("erf", 1, 0.0)
    (1, None, None)
    """
    return _homogeneity(MLPKernel(activation, depth, 1.0, bias_var, "ck"))


def radial_rule(dim: int, m: int):
    """Nodes ``u_i`` and probability weights of the ``m``-point Gauss rule for ``u = r^2/2 ~ Gamma(d/2)``.

    Golub–Welsch on the generalised Laguerre recurrence (no Gamma-function overflow at large d).

    Returns
    -------
    u, w : ndarray, shape (m,)

    Examples
    --------
    >>> u, w = radial_rule(4, 10)
    >>> round(float(w @ u), 12), round(float(w @ u**2), 12)     # E u = 2, E u^2 = 6 for Gamma(2)
    (2.0, 6.0)
    """
    from scipy.linalg import eigh_tridiagonal

    d = int(dim)
    m = check_int(m, "radial_nodes", minimum=1)
    al = d / 2 - 1
    n = np.arange(m)
    diag = 2 * n + al + 1
    off = np.sqrt(n[1:] * (n[1:] + al))
    u, V = eigh_tridiagonal(diag, off)
    w = V[0] ** 2
    return u, w / w.sum()


def _arb_block_seconds(kern: MLPKernel, N: int, prec: int, n_pairs: int) -> float:
    """Predicted seconds of the Arb radial blocks: ``n_pairs`` columns of ``N`` kernel values (timed on 32)."""
    from flint import arb

    n = min(N, 32)
    with working_precision(prec):
        cs = [arb(-0.9 + 1.8 * i / n) for i in range(n)]
        t0 = time.perf_counter()
        kern.values_arb(cs)
        took = time.perf_counter() - t0
    return took * N / n * n_pairs


def _block_matrices(kern: MLPKernel, d, K, u, w, prec, N, a, arb_path):
    """Symmetric matrices ``A_k = W^{1/2} R_k W^{1/2}`` (mpmath-exact midpoints as floats after scaling).

    Returns a list over k of (scale, float matrix) and the max entry radius (float, absolute).
    """
    import mpmath

    m = len(u)
    nrm = 2.0 * np.asarray(u) / d
    pairs = [(i, j) for i in range(m) for j in range(i, m)]
    if arb_path:
        from flint import arb

        with working_precision(prec):
            nb = [arb(float(x)) for x in nrm]
            sq = [[(nb[i] * nb[j]).sqrt() for j in range(m)] for i in range(m)]

        def values(tl):
            cols = []
            for i, j in pairs:
                s = sq[i][j]
                cols.append(kern.values_arb([s * t for t in tl], norm_x=nb[i], norm_y=nb[j]))
            return cols

        cols = fh.project(d, K, N, a, prec, values)
        R = [[[None] * m for _ in range(m)] for _ in range(K + 1)]
        rad = 0.0
        for (i, j), col in zip(pairs, cols):
            for k in range(K + 1):
                b = col[k]
                rad = max(rad, float(b.rad()))
                R[k][i][j] = R[k][j][i] = arb_to_mpf(b)
    else:
        rule = funk_hecke_rule(d, K, N, a)
        P = rule.P * rule.weights
        ii = np.array([p[0] for p in pairs])
        jj = np.array([p[1] for p in pairs])
        c = np.sqrt(nrm[ii] * nrm[jj])[:, None] * rule.t[None, :]
        F = kern._f64(c, nrm[ii][:, None], nrm[jj][:, None])
        proj = F @ P.T  # (pairs, K+1)
        R = [[[None] * m for _ in range(m)] for _ in range(K + 1)]
        for p, (i, j) in enumerate(pairs):
            for k in range(K + 1):
                R[k][i][j] = R[k][j][i] = mpmath.mpf(float(proj[p, k]))
        rad = 64 * np.finfo(float).eps * (kern.depth + 1) * float(np.max(np.abs(F)))
    sw = [mpmath.sqrt(mpmath.mpf(float(x))) for x in w]
    out = []
    for k in range(K + 1):
        A = [[sw[i] * R[k][i][j] * sw[j] for j in range(m)] for i in range(m)]
        scale = max(abs(x) for row in A for x in row)
        if scale == 0:
            out.append((mpmath.mpf(0), np.zeros((m, m))))
        else:
            out.append((scale, np.array([[float(x / scale) for x in row] for row in A])))
    return out, rad


def _radial_eigs(blocks):
    res = []
    for scale, A in blocks:
        ev = np.linalg.eigvalsh(A)[::-1]
        res.append([scale * float(e) for e in ev])
    return res


def gaussian_spectrum(dim: int, activation="relu", depth: int = 2, weight_var: float = 2.0, bias_var: float = 0.0,
                      kernel: str = "ntk", *, degrees=None, max_degree=None, rtol: float = 1e-12,
                      precision="auto", method: str = "auto", radial_nodes=None, strict: bool = False) -> Spectrum:
    r"""Top eigenvalue per degree ``k`` of the MLP CK or NTK under ``x ~ N(0, I_d)``.

    Parameters
    ----------
    dim, activation, depth, weight_var, bias_var, kernel, max_degree, degrees, rtol, precision
        As in :func:`spectra.analytic.sphere_spectrum` (``dim >= 2``).
    method : {"auto", "homogeneous", "radial"}
        ``"auto"`` uses the exact homogeneous reduction when it applies, else the radial blocks.
    strict : bool
        Raise :class:`~spectra.analytic.accuracy.AccuracyError` instead of warning when a bound
        exceeds ``rtol`` (the radial method's bounds are estimates of about 1e-6 to 1e-10).
    radial_nodes : (int, int), optional
        Sizes ``(M1, M2)`` of the two radial rules (the second is reported, the difference is the
        error estimate).

    Returns
    -------
    Spectrum
        ``domain="gaussian"``; ``eigenvalues[i]`` = top eigenvalue of block ``degrees[i]``
        (multiplicity ``N(d, k)``); ``extra["radial_eigenvalues"]`` = the top few per block;
        ``trace = E F(x, x)``.

    Examples
    --------
    >>> from spectra.analytic import sphere_spectrum
    >>> g = gaussian_spectrum(5, "relu", 2, 2.0, 0.0, "ntk", max_degree=3)
    >>> s = sphere_spectrum(5, "relu", 2, 2.0, 0.0, "ntk", max_degree=3)
    >>> bool(np.all(g.eigenvalues == s.eigenvalues))
    True
    """
    d, kern, rtol, precision = check_spectrum_inputs(dim, activation, depth, weight_var, bias_var, kernel,
                                                     rtol, precision, min_dim=2)
    degs = parse_degrees(degrees, max_degree, default_max=DEFAULT_MAX_DEGREE)
    spec = _spectrum(kern, d, degs, rtol, precision, method=method, radial_nodes=radial_nodes)
    return check_accuracy(spec, rtol, strict=strict)


def _spectrum(kern: MLPKernel, d: int, degs: np.ndarray, rtol: float, precision, *, method: str = "auto",
              radial_nodes=None) -> Spectrum:
    """:func:`gaussian_spectrum` for validated inputs (the engine behind ``Gaussian(d).spectrum(kernel)``)."""
    if method not in ("auto", "homogeneous", "radial"):
        raise ValueError(f"method must be 'auto', 'homogeneous' or 'radial', got {method!r}")
    alpha = _homogeneity(kern)
    if method == "homogeneous" and alpha is None:
        raise ValueError("method='homogeneous' needs a bias-free positively homogeneous kernel (relu, leaky_relu, abs, identity)")
    if method in ("auto", "homogeneous") and alpha == 1:
        s = _sphere_spectrum(kern, d, degs, rtol, precision)
        s.domain = "gaussian"
        s.method = [m if m == "zero" else f"homogeneous: sphere {m}" for m in s.method]
        s.extra.pop("tail_fractional_variance", None)  # E F(x,x) = Phi(1) * E r^2/d = Phi(1): the trace is the same
        return s

    K = int(max(degs.max(), 1))
    zero_all = [kern.structural_zero(k) for k in range(K + 1)]
    if radial_nodes is None:
        radial_nodes = (14, 20) if d >= 64 else (24, 32)
    M1, M2 = (check_int(m, "radial_nodes", minimum=2) for m in radial_nodes)
    # closed forms take the Arb rule unless float64 is asked for; Mehler-series activations (tanh, ...)
    # take it when a precision is given (honoured, not ignored), where their series reaches the rule
    fixed_bits = isinstance(precision, (int, np.integer))
    arb_path = precision != "float64" and (kern.exact or (fixed_bits and kern.activation.high_precision))
    if arb_path and not kern.exact and not _mehler_reach(kern, d, rtol):
        raise ValueError(f"precision={precision}: the Mehler series of {kern.activation.name!r} does not reach the "
                         f"correlations of the d={d} angular rule; use precision='auto' or 'float64'")
    N = None
    if arb_path:
        check = [k for k in range(K + 1) if not zero_all[k]]
        fixed = int(precision) if isinstance(precision, (int, np.integer)) else None
        prec, N1, N2, a = fh.sphere_balls(kern, d, K, check, rtol, fixed)[3:7]
        prec += 32
        N = N2
        n_pairs = sum(m * (m + 1) // 2 for m in (M1, M2))
        if fixed is None and _arb_block_seconds(kern, N, prec, n_pairs) > fh.MAX_SECONDS:
            # bounded time (issue #15): the radial blocks would take minutes in Arb (a kernel whose
            # angular rule needs thousands of nodes); auto takes the float64 rule on the same nodes
            arb_path = False
    if not arb_path:
        prec = 53
        if N is None:
            a = fh.half_width(d, 60)
            N = int(fh.node_count(d, K, a, 60) * 1.2) + 8
    eigs = {}
    rads = {}
    for M in (M1, M2):
        u, w = radial_rule(d, M)
        blocks, rad = _block_matrices(kern, d, K, u, w, prec, N, a, arb_path)
        eigs[M] = _radial_eigs(blocks)
        rads[M] = rad * M
    u, w = radial_rule(d, M2)
    nrm = 2 * u / d
    diag = np.array([kern.diagonal(x) for x in nrm])
    trace = float(w @ diag)
    import mpmath

    eig, log10, exact, rel, cert, meth = result_columns(len(degs))
    radial = []
    for i, k in enumerate(degs):
        k = int(k)
        radial.append([float(x) for x in eigs[M2][k][:4]] if not zero_all[k] else [0.0])
        if zero_all[k]:
            continue
        top2, top1 = eigs[M2][k][0], eigs[M1][k][0]
        exact[i] = mpmath.mpf(top2)
        eig[i] = float(top2)
        log10[i] = float(mpmath.log10(top2)) if top2 > 0 else np.nan
        err = abs(top2 - top1) + rads[M2]
        rel[i] = float(err / (abs(top2) - err)) if abs(top2) > err else math.inf
        meth[i] = f"radial {M1}/{M2} x " + (f"arb-gl {N} @{prec}" if arb_path else f"float64-gl {N}")
    mult = [sphere_multiplicity(d, int(k)) for k in degs]
    fv = fractional_variances(mult, exact, trace)
    # a block value within its error estimate times a multiplicity of up to 1e29 (d = 200, k = 20) is
    # no fraction of anything: those fractional variances (bound above 1 % of the value) are NaN,
    # flagged by the AccuracyWarning of their degree; before, they summed with the others to 1.0016
    with np.errstate(invalid="ignore", over="ignore"):
        abs_err = np.where(np.isfinite(rel), rel * np.abs(eig), np.inf)
    bad = unreliable_fraction_mask(fv, abs_err, mult, trace) & ~np.asarray(zero_all)[degs.astype(int)]
    fv = np.where(bad, np.nan, fv)
    top = max(float(eigs[M2][0][0]) if not zero_all[0] else 0.0, float(eigs[M2][1][0]) if not zero_all[1] else 0.0)
    max_lr = 2.0 / top if top > 0 else None
    extra = {"radial_eigenvalues": radial, "radial_nodes": [M1, M2]}
    return Spectrum("gaussian", d, degs, eig, log10, exact, mult, fv, rel, cert, meth, trace, max_lr, kern.params(),
                    extra)
