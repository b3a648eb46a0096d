r"""Metrics of kernel evolution during training (Kopitkov & Indelman 2020; Baratin et al. 2021; Shan & Bordelon 2021; Cohen et al. 2021).

* :func:`kernel_alignment` -- uncentered :math:`y^\top Ky/(\|K\|_F\|y\|^2)` and centered
  (Cortes-Mohri-Rostamizadeh, :math:`HKH`) kernel-target alignment; :func:`alignment_curve`
  along a run.
* :func:`top_k_energy` -- :math:`E_k(v)=\sum_{i\le k}\langle u_i,v\rangle^2/\|v\|^2` in the top
  eigenvectors of a Gram matrix, for all ``k``; :func:`energy_curve` over time.
* :func:`degree_spectrum` -- per-degree spectrum of a (trained) NTK on the cube or the sphere,
  against the analytic :math:`\mu_k` (per-Walsh-degree energies of a function:
  :func:`spectra.domains.walsh_degree_energy`).
* :func:`sharpness` -- :math:`\eta\,\lambda_{\max}(K)/n` against the GD stability threshold 2
  (for the MSE :math:`\frac1{2n}\sum(f-y)^2` of :mod:`spectra.empirical.training`).
* :func:`kernel_specialization_matrix` -- form (a) of §7.
* :func:`relative_kernel_change` -- :math:`\|K_t-K_0\|_F/\|K_0\|_F`.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_finite_array, check_int
from ..analytic import MLPKernel
from ..domains import Cube, DegreeSpectrum, Sphere

__all__ = [
    "kernel_alignment",
    "alignment_curve",
    "top_k_energy",
    "energy_curve",
    "degree_spectrum",
    "sharpness",
    "sharpness_curve",
    "kernel_specialization_matrix",
    "relative_kernel_change",
]


def _pow2_scale(*arrays) -> int:
    """The exponent ``e`` that brings ``max |entries|`` into ``[0.5, 1)`` (0 for zeros): dividing by
    ``2^e`` is exact, so metrics keep their rounding and no sum of squares overflows (a 1e300 Gram)."""
    top = max((float(np.max(np.abs(a))) if np.size(a) else 0.0) for a in arrays)
    return int(np.frexp(top)[1]) if top > 0 else 0


def _scaled(a, e: int):
    return np.ldexp(a, -e) if e else a


def _top_eigenvalue(K, name: str) -> tuple:
    """``(lam, e)`` with ``lambda_max((K + K^T)/2) = lam 2^e``, computed on ``K 2^-e`` (no overflow)."""
    e = _pow2_scale(K)
    A = _scaled(K, e)
    try:
        return float(np.linalg.eigvalsh(0.5 * (A + A.T))[-1]), e
    except np.linalg.LinAlgError as exc:
        raise ValueError(f"{name}: the eigenvalue solver did not converge ({exc})") from None


def _square(K, name="K"):
    K = check_finite_array(K, name, ndim=2)
    if K.shape[0] != K.shape[1]:
        raise ValueError(f"{name} must be square, got shape {K.shape}")
    return K


def _targets(y, n, name="y"):
    Y = check_finite_array(y, name)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) or ({n}, C) to match K, got {np.shape(y)}")
    return Y


def kernel_alignment(K, y, *, centered: bool = False) -> float:
    r"""Kernel-target alignment :math:`\langle K, YY^\top\rangle_F/(\|K\|_F\|YY^\top\|_F)`.

    For a vector ``y`` this is :math:`y^\top Ky/(\|K\|_F\|y\|^2)` (uncentered, Cristianini et al.;
    the form of Shan & Bordelon).  ``centered=True`` replaces ``K`` by :math:`HKH` and ``Y`` by
    :math:`HY`, :math:`H = I - \mathbf 1\mathbf 1^\top/n` (Cortes, Mohri & Rostamizadeh 2012).
    A matrix ``Y`` (e.g. one-hot targets) uses :math:`YY^\top=\sum_c y_cy_c^\top`.

    Parameters
    ----------
    K : array_like, shape (n, n)
    y : array_like, shape (n,) or (n, C)
    centered : bool

    Returns
    -------
    float
        In ``[0, 1]`` for positive semi-definite ``K``; 0 for a zero kernel or target.

    Examples
    --------
    >>> y = np.array([1.0, -1.0, 1.0])
    >>> kernel_alignment(np.outer(y, y), y)
    1.0
    >>> round(kernel_alignment(np.eye(3), y), 6)   # 3 / (sqrt(3) * 3)
    0.57735
    """
    K = _square(K)
    Y = _targets(y, K.shape[0])
    K, Y = _scaled(K, _pow2_scale(K)), _scaled(Y, _pow2_scale(Y))  # scale-free; no overflow of the norms
    if centered:
        K = K - K.mean(axis=0, keepdims=True)
        K = K - K.mean(axis=1, keepdims=True)
        Y = Y - Y.mean(axis=0, keepdims=True)
    num = float(np.sum(Y * (K @ Y)))
    G = Y.T @ Y  # ||Y Y^T||_F = ||Y^T Y||_F
    den = float(np.linalg.norm(K)) * float(np.linalg.norm(G))
    return num / den if den > 0 else 0.0


def alignment_curve(kernels, y, *, centered: bool = False) -> np.ndarray:
    """:func:`kernel_alignment` of each Gram matrix of a run.

    Parameters
    ----------
    kernels : array_like, shape (T, n, n)
        E.g. ``run.ntk_train`` (scalar output).
    y : array_like, shape (n,) or (n, C)

    Returns
    -------
    ndarray, shape (T,)

    Examples
    --------
    >>> y = np.array([1.0, -1.0])
    >>> alignment_curve([np.eye(2), np.outer(y, y)], y).round(4).tolist()
    [0.7071, 1.0]
    """
    Ks = check_finite_array(kernels, "kernels", ndim=3)
    return np.array([kernel_alignment(K, y, centered=centered) for K in Ks])


def _eigh_desc(K):
    """Descending eigenpairs of ``(K + K^T)/2``, computed on ``K`` scaled by a power of two (no overflow)."""
    e = _pow2_scale(K)
    A = _scaled(K, e)
    try:
        w, U = np.linalg.eigh(0.5 * (A + A.T))
    except np.linalg.LinAlgError as exc:
        raise ValueError(f"K: the eigenvalue solver did not converge ({exc})") from None
    with np.errstate(over="ignore"):
        w = np.ldexp(w, e)
    return w[::-1], U[:, ::-1]


def top_k_energy(K, v, k=None) -> np.ndarray:
    r"""Energy :math:`E_k(v)=\sum_{i\le k}\langle u_i,v\rangle^2/\|v\|^2` in the top eigenvectors of ``K``.

    Eigenvectors are sorted by decreasing eigenvalue.  Inside a degenerate eigenvalue block the
    split is arbitrary (see :func:`spectra.domains.walsh_degree_energy` for the cube at initialization).

    Parameters
    ----------
    K : array_like, shape (n, n)
        Symmetric Gram matrix.
    v : array_like, shape (n,) or (n, m)
        Vector(s): target, output or residual (columns are treated separately).
    k : int, optional
        Return only ``E_k``; default all ``k = 1..n``.

    Returns
    -------
    ndarray
        Shape ``(n,)`` (or ``(n, m)``) cumulative energies for ``k = 1..n`` (``E_n = 1``), or a
        float / ``(m,)`` if ``k`` is given.  Zero vectors give 0.

    Examples
    --------
    >>> K = np.diag([3.0, 2.0, 1.0])
    >>> top_k_energy(K, np.array([0.0, 1.0, 1.0])).tolist()
    [0.0, 0.5, 1.0]
    >>> top_k_energy(K, np.array([0.0, 1.0, 1.0]), k=2)
    0.5
    """
    K = _square(K)
    V = check_finite_array(v, "v")
    one = V.ndim == 1
    if one:
        V = V[:, None]
    if V.ndim != 2 or V.shape[0] != K.shape[0]:
        raise ValueError(f"v must have shape ({K.shape[0]},) or ({K.shape[0]}, m), got {np.shape(v)}")
    _, U = _eigh_desc(K)
    return _energies(U, V, k, one)


def _energies(U, V, k, one):
    n = U.shape[0]
    if k is not None:
        k = check_int(k, "k", minimum=1, maximum=n)
    V = _scaled(V, _pow2_scale(V))  # E_k is scale-free in v
    proj = (U.T @ V) ** 2
    tot = np.sum(V * V, axis=0)
    E = np.cumsum(proj, axis=0)
    E = np.divide(E, tot, out=np.zeros_like(E), where=tot > 0)
    if k is not None:
        E = E[k - 1]
        return float(E[0]) if one else E
    return E[:, 0] if one else E


def energy_curve(kernels, vectors, k: int) -> np.ndarray:
    """:math:`E_k` along a run: ``E_k(v_t)`` in the top-``k`` eigenvectors of ``K_t``.

    Parameters
    ----------
    kernels : array_like, shape (T, n, n)
    vectors : array_like, shape (n,) (same vector at every time, e.g. the target) or (T, n)
        (e.g. the outputs ``run.outputs_train[:, :, 0]`` or residuals).
    k : int

    Returns
    -------
    ndarray, shape (T,)

    Examples
    --------
    >>> Ks = np.array([np.diag([2.0, 1.0]), np.diag([1.0, 2.0])])
    >>> energy_curve(Ks, np.array([1.0, 0.0]), 1).tolist()
    [1.0, 0.0]
    """
    Ks = check_finite_array(kernels, "kernels", ndim=3)
    T, n = Ks.shape[0], Ks.shape[1]
    V = check_finite_array(vectors, "vectors")
    if V.ndim == 1:
        V = np.broadcast_to(V, (T, V.shape[0]))
    if V.shape != (T, n):
        raise ValueError(f"vectors must have shape ({n},) or ({T}, {n}), got {np.shape(vectors)}")
    k = check_int(k, "k", minimum=1, maximum=n)
    out = np.empty(T)
    for t in range(T):
        _, U = _eigh_desc(_square(Ks[t], "kernels[t]"))
        out[t] = _energies(U, V[t][:, None], k, True)
    return out


def degree_spectrum(K, X, domain: str, *, activation=None, depth=None, weight_var=None, bias_var=None,
                    kernel: str = "ntk", max_degree: int | None = None) -> DegreeSpectrum:
    r"""Per-degree spectrum of a measured Gram matrix, optionally against the analytic :math:`\mu_k`.

    A by-name shortcut for ``Cube(d).degree_spectrum(K, X)`` / ``Sphere(d).degree_spectrum(K, X)``
    (:mod:`spectra.domains`):

    * ``domain="cube"``: on the full cube the estimate of :math:`\mu_k` is the mean Rayleigh
      quotient of ``K/2^d`` over the degree-``k`` Walsh monomials; on a random cube sample the
      Krawtchouk U-statistic.
    * ``domain="sphere"``: ``K`` on uniform samples of the sphere of radius :math:`\sqrt d`; the
      Funk-Hecke projection :math:`E[K(x,y)P_k(\langle x,y\rangle/d)]`.

    If ``activation``, ``depth``, ``weight_var`` and ``bias_var`` are given, the analytic
    infinite-width eigenvalues (:func:`spectra.analytic.cube_spectrum` /
    :func:`spectra.analytic.sphere_spectrum`) are returned next to the measured ones
    (``analytic``, and ``ratio = mean / analytic``).

    Parameters
    ----------
    K : array_like, shape (n, n)
    X : array_like, shape (n, d)
    domain : {"cube", "sphere"}
    activation, depth, weight_var, bias_var : network hyperparameters, optional
    kernel : {"ntk", "ck"} or spectra.analytic.MLPKernel
        With the hyperparameters: which kernel they define. Alone: an ``MLPKernel`` to compare with.
    max_degree : int, optional
        Highest degree (cube: default ``d`` on the full cube; otherwise default ``min(d, 8)``).

    Returns
    -------
    spectra.domains.DegreeSpectrum
        The measured eigenvalues are in ``mean``.

    Examples
    --------
    >>> from spectra.domains import cube_points
    >>> X = cube_points(3)
    >>> degree_spectrum(X @ X.T / 3, X, "cube").mean.round(6).tolist()
    [0.0, 0.333333, 0.0, 0.0]
    >>> from spectra.analytic import MLPKernel
    >>> K = MLPKernel("relu", depth=2)(X @ X.T / 3)
    >>> degree_spectrum(K, X, "cube", kernel=MLPKernel("relu", depth=2)).ratio.round(9).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    K = _square(K)
    X = check_finite_array(X, "X", ndim=2)
    if X.shape[0] != K.shape[0]:
        raise ValueError(f"X must have {K.shape[0]} rows to match K, got {X.shape[0]}")
    if domain not in ("cube", "sphere"):
        raise ValueError(f"domain must be 'cube' or 'sphere', got {domain!r}")
    hyper = (activation, depth, weight_var, bias_var)
    mlp = None
    if isinstance(kernel, MLPKernel):
        if any(h is not None for h in hyper):
            raise ValueError("give either an MLPKernel as kernel or activation, depth, weight_var, bias_var, not both")
        mlp = kernel
    elif any(h is not None for h in hyper):
        if any(h is None for h in hyper):
            raise ValueError("give all of activation, depth, weight_var, bias_var for the analytic comparison")
        mlp = MLPKernel(activation, depth, weight_var, bias_var, kind=kernel)
    if domain == "cube":
        return Cube(X.shape[1]).degree_spectrum(K, X, max_degree=max_degree, kernel=mlp, blocks=False)
    return Sphere(X.shape[1]).degree_spectrum(K, X, max_degree=max_degree, kernel=mlp)


def sharpness(K, lr: float, n: int | None = None) -> float:
    r"""Sharpness ratio :math:`s=\eta\,\lambda_{\max}(K)/n`; full-batch GD on the MSE
    :math:`\frac1{2n}\sum(f-y)^2` is linearly stable iff :math:`s<2`.

    Parameters
    ----------
    K : array_like, shape (n, n)
        NTK Gram on the ``n`` training points.
    lr : float
        Learning rate ``> 0``.
    n : int, optional
        Normaliser (default ``K.shape[0]``).

    Examples
    --------
    >>> sharpness(np.diag([4.0, 1.0]), 0.5)
    1.0
    """
    K = _square(K)
    lr = float(lr)
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    n = K.shape[0] if n is None else check_int(n, "n", minimum=1)
    lam, e = _top_eigenvalue(K, "K")
    with np.errstate(over="ignore"):
        s = float(np.ldexp(lr * lam / n, e))
    if not np.isfinite(s):
        raise ValueError(f"sharpness lr * lambda_max / n = {lr:g} * {lam:.4g} * 2^{e} / {n} overflows float64")
    return s


def sharpness_curve(kernels, lrs) -> tuple[np.ndarray, np.ndarray]:
    """``lambda_max(K_t/n)`` and :func:`sharpness` along a run.

    Parameters
    ----------
    kernels : array_like, shape (T, n, n)
    lrs : array_like, shape (T,)
        Learning rate in force at each snapshot (``run.lr``).

    Returns
    -------
    lam : ndarray, shape (T,)
        ``lambda_max(K_t)/n``.
    s : ndarray, shape (T,)
        ``lr_t * lam_t``, to compare with 2.

    Examples
    --------
    >>> lam, s = sharpness_curve([np.eye(2) * 2, np.eye(2) * 4], [0.5, 0.5])
    >>> lam.tolist(), s.tolist()
    ([1.0, 2.0], [0.5, 1.0])
    """
    Ks = check_finite_array(kernels, "kernels", ndim=3)
    lrs = check_finite_array(lrs, "lrs", ndim=1)
    if lrs.shape[0] != Ks.shape[0]:
        raise ValueError(f"lrs must have {Ks.shape[0]} entries (one per kernel), got {lrs.shape[0]}")
    n = Ks.shape[1]
    lam, e = np.array([_top_eigenvalue(K, f"kernels[{t}]") for t, K in enumerate(Ks)]).reshape(-1, 2).T
    with np.errstate(over="ignore"):
        lam, s = np.ldexp(lam / n, e.astype(int)), np.ldexp(lrs * lam / n, e.astype(int))
    if not (np.all(np.isfinite(lam)) and np.all(np.isfinite(s))):
        raise ValueError(f"lambda_max / n or the sharpness overflows float64 at snapshot {int(np.argmin(np.isfinite(s)))}")
    return lam, s


def kernel_specialization_matrix(kernels, Y) -> np.ndarray:
    r"""Kernel specialization matrix, form (a) of Shan & Bordelon 2021 (per-class target alignment).

    .. math::
        \mathrm{KSM}(c,d)=\frac{A(K^{c,c},y_dy_d^\top)}{\frac1C\sum_{c'}A(K^{c',c'},y_dy_d^\top)},

    with :math:`A` the uncentered alignment of :func:`kernel_alignment`, :math:`K^{c,c}` the NTK of
    output head ``c`` and :math:`y_d` target column ``d``.  Every column (fixed target) averages to
    1; ``KSM = 1`` everywhere means no specialization, a diagonal above 1 (and off-diagonal below)
    means each head's kernel aligns preferentially with its own target.  Form (a) is the one
    consistent with the values reported by Shan & Bordelon (form (b) forces the diagonal mean to 1).

    Parameters
    ----------
    kernels : array_like, shape (C, n, n)
        Per-head NTK Grams (``MLP.ntk_gram`` of a ``C``-output network).
    Y : array_like, shape (n, C)
        Target columns (one-hot or ``+-1`` coding).

    Returns
    -------
    ndarray, shape (C, C)
        Row = head ``c``, column = target ``d``.

    Examples
    --------
    >>> Y = np.eye(2)
    >>> Ks = np.array([np.outer(Y[:, 0], Y[:, 0]) + 0.5 * np.eye(2), np.outer(Y[:, 1], Y[:, 1]) + 0.5 * np.eye(2)])
    >>> kernel_specialization_matrix(Ks, Y).round(3).tolist()
    [[1.5, 0.5], [0.5, 1.5]]
    """
    Ks = check_finite_array(kernels, "kernels", ndim=3)
    C, n = Ks.shape[0], Ks.shape[1]
    Y = check_finite_array(Y, "Y", ndim=2)
    if Y.shape != (n, C):
        raise ValueError(f"Y must have shape ({n}, {C}) (samples, outputs) to match kernels, got {Y.shape}")
    A = np.array([[kernel_alignment(Ks[c], Y[:, d]) for d in range(C)] for c in range(C)])
    col = A.mean(axis=0, keepdims=True)
    if np.any(col == 0):
        raise ValueError("a target column has zero alignment with every head (zero target column?)")
    return A / col


def relative_kernel_change(K_t, K_0, *, normalized: bool = False) -> float:
    r"""Relative change :math:`\|K_t-K_0\|_F/\|K_0\|_F`.

    ``normalized=True`` gives the scale-free :math:`\|K_t/\|K_t\|_F-K_0/\|K_0\|_F\|_F` (§6), which
    ignores pure growth of the kernel.

    Parameters
    ----------
    K_t, K_0 : array_like, same shape

    Examples
    --------
    >>> relative_kernel_change(2 * np.eye(2), np.eye(2))
    1.0
    >>> relative_kernel_change(2 * np.eye(2), np.eye(2), normalized=True)
    0.0
    """
    A = check_finite_array(K_t, "K_t")
    B = check_finite_array(K_0, "K_0")
    if A.shape != B.shape:
        raise ValueError(f"K_t and K_0 must have the same shape, got {A.shape} and {B.shape}")
    e = (_pow2_scale(A), _pow2_scale(B)) if normalized else (_pow2_scale(A, B),) * 2  # exact scalings
    A, B = _scaled(A, e[0]), _scaled(B, e[1])
    n0 = float(np.linalg.norm(B))
    if n0 == 0:
        raise ValueError("K_0 must be nonzero")
    if normalized:
        nt = float(np.linalg.norm(A))
        if nt == 0:
            raise ValueError("K_t must be nonzero for normalized=True")
        return float(np.linalg.norm(A / nt - B / n0))
    out = float(np.linalg.norm(A - B)) / n0
    if not np.isfinite(out):
        raise ValueError("relative_kernel_change overflows float64 (K_0 is tiny against K_t)")
    return out
