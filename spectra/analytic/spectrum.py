"""The result type shared by every domain: eigenvalues per degree with their guarantees."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from .._validation import check_degrees, check_dim, check_int, check_kernel_name, check_rtol
from .kernels import MLPKernel

__all__ = ["Spectrum", "result_columns", "check_spectrum_inputs", "check_precision", "parse_degrees", "fractional_variances"]


@dataclass
class Spectrum:
    """Eigenvalues of an infinite-width kernel on one input domain, one per degree.

    Eigenvalues are those of the integral operator ``f -> E_y[K(., y) f(y)]`` with respect to
    the input *probability* measure, so on the full cube ``K / 2^d`` has eigenvalue ``mu_k``
    with multiplicity ``C(d, k)``.

    Attributes
    ----------
    domain : {"cube", "sphere", "gaussian"}
    dim : int
        Input dimension ``d``.
    degrees : ndarray of int, shape (m,)
    eigenvalues : ndarray of float64, shape (m,)
        ``mu_k`` rounded to float64; values below ~1e-308 underflow to 0 here, see
        ``log10_eigenvalues`` and ``exact``.
    log10_eigenvalues : ndarray of float64, shape (m,)
        ``log10 mu_k`` correct to double precision; ``-inf`` for an exact zero.
    exact : list of mpmath.mpf, length m
        The eigenvalues as arbitrary-precision numbers (never underflow).
    multiplicities : list of int, length m
        ``C(d, k)`` (cube) or ``N(d, k)`` (sphere, Gaussian blocks); Python ints (may exceed float64).
    fractional_variance : ndarray of float64, shape (m,)
        ``multiplicity * mu_k / trace``.
    rel_error_bound : ndarray of float64, shape (m,)
        Bound on ``|computed - exact| / exact``; 0 for eigenvalues that are zero by symmetry.
    certified : ndarray of bool, shape (m,)
        True where the bound is rigorous (ball arithmetic); False where it is a stated
        tolerance of a float64 path (documented per method).
    method : list of str, length m
        How each eigenvalue was computed ("float64", "arb", "zero", ...).
    trace : float
        ``Phi(1)`` = sum over all degrees of multiplicity * eigenvalue.
    max_learning_rate : float or None
        For the NTK: the largest stable full-batch GD learning rate ``2 / max_k mu_k`` for the
        loss ``(1/2n) sum_i (f(x_i) - y_i)^2`` (mean over samples), in the infinite-sample
        limit; multiply by ``n`` for the summed loss ``(1/2) sum_i (...)^2``.
    params : dict
        activation, depth, weight_var, bias_var, kernel (echo of the inputs).
    """

    domain: str
    dim: int
    degrees: np.ndarray
    eigenvalues: np.ndarray
    log10_eigenvalues: np.ndarray
    exact: list
    multiplicities: list
    fractional_variance: np.ndarray
    rel_error_bound: np.ndarray
    certified: np.ndarray
    method: list
    trace: float
    max_learning_rate: Optional[float] = None
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.degrees)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict:
        """JSON-ready dictionary (keys of the ``spectra eigen --format json`` output)."""
        def f(x):
            x = float(x)
            if math.isnan(x):
                return None
            if math.isinf(x):
                return "-Infinity" if x < 0 else "Infinity"
            return x

        out: dict[str, Any] = {"domain": self.domain, "dim": int(self.dim)}
        out.update({k: (v if not isinstance(v, np.ndarray) else v.tolist()) for k, v in self.params.items()})
        out.update(
            degrees=[int(k) for k in self.degrees],
            eigenvalues=[f(x) for x in self.eigenvalues],
            log10_eigenvalues=[f(x) for x in self.log10_eigenvalues],
            multiplicities=[int(m) for m in self.multiplicities],
            fractional_variance=[f(x) for x in self.fractional_variance],
            rel_error_bound=[f(x) for x in self.rel_error_bound],
            certified=[bool(x) for x in self.certified],
            method=list(self.method),
            trace=f(self.trace),
            max_learning_rate=None if self.max_learning_rate is None else f(self.max_learning_rate),
        )
        for k, v in self.extra.items():
            out[k] = v
        return out

    def to_json(self, **kw) -> str:
        """JSON text; ``-Infinity`` marks the log10 of an exact zero."""
        kw.setdefault("indent", 2)
        return json.dumps(self.to_dict(), allow_nan=True, **kw)

    def to_csv(self) -> str:
        rows = ["degree,eigenvalue,log10_eigenvalue,multiplicity,fractional_variance,rel_error_bound,method"]
        for i, k in enumerate(self.degrees):
            rows.append(
                f"{int(k)},{self.eigenvalues[i]:.17g},{self.log10_eigenvalues[i]:.17g},{int(self.multiplicities[i])},"
                f"{self.fractional_variance[i]:.17g},{self.rel_error_bound[i]:.3g},{self.method[i]}"
            )
        return "\n".join(rows) + "\n"

    def to_table(self) -> str:
        p = self.params
        head = (f"{p.get('kernel', '').upper()} spectrum on the {self.domain}, d={self.dim}, "
                f"activation={p.get('activation')}, depth={p.get('depth')}, "
                f"weight_var={p.get('weight_var')}, bias_var={p.get('bias_var')}")
        lines = [head, f"trace Phi(1) = {self.trace:.15g}"]
        if self.max_learning_rate is not None:
            lines.append(f"max stable GD learning rate 2/max(mu) = {self.max_learning_rate:.12g}  (loss (1/2n) sum (f-y)^2)")
        lines.append(f"{'k':>5} {'eigenvalue':>24} {'log10':>12} {'multiplicity':>14} {'frac.var.':>11} {'rel.err<=':>9}  method")
        for i, k in enumerate(self.degrees):
            mult = int(self.multiplicities[i])
            ms = f"{mult}" if mult < 10**13 else f"{mult:.4e}"
            lines.append(
                f"{int(k):>5} {_fmt_mp(self.exact[i]):>24} {self.log10_eigenvalues[i]:>12.6f} {ms:>14} "
                f"{self.fractional_variance[i]:>11.4e} {self.rel_error_bound[i]:>9.1e}  {self.method[i]}"
            )
        return "\n".join(lines)

    def plot(self, path=None, ax=None, label=None):
        """Eigenvalue against degree on a log axis (log10 values, so nothing underflows)."""
        from .._plotting import plt_or_raise

        plt = plt_or_raise()
        own = ax is None
        if own:
            fig, ax = plt.subplots(figsize=(6, 4))
        nz = np.isfinite(self.log10_eigenvalues)
        ax.plot(self.degrees[nz], self.log10_eigenvalues[nz], "o-", ms=3, label=label)
        if np.any(~nz):
            ax.plot(self.degrees[~nz], np.full((~nz).sum(), np.nan), "x")
        ax.set_xlabel("degree k")
        ax.set_ylabel(r"$\log_{10}\,\mu_k$")
        p = self.params
        ax.set_title(f"{p.get('kernel', '').upper()} {p.get('activation')} L={p.get('depth')} "
                     f"on {self.domain} d={self.dim}", fontsize=9)
        ax.grid(alpha=0.3)
        if own and path is not None:
            fig.tight_layout()
            fig.savefig(path, dpi=130)
            plt.close(fig)
        return ax


def _fmt_mp(x) -> str:
    import mpmath

    if x == 0:
        return "0"
    return mpmath.nstr(x, 15, min_fixed=-4, max_fixed=6)


def result_columns(n: int, *, exact_default=0):
    """Empty per-degree columns of a :class:`Spectrum` with ``n`` degrees.

    Returns ``(eigenvalues, log10_eigenvalues, exact, rel_error_bound, certified, method)`` filled for
    eigenvalues that are exactly zero (the engines overwrite the others).
    """
    import mpmath

    zero = mpmath.mpf(0) if exact_default == 0 else exact_default
    return (np.zeros(n), np.full(n, -np.inf), [zero] * n, np.zeros(n), np.zeros(n, dtype=bool), ["zero"] * n)


def check_spectrum_inputs(dim, activation, depth, weight_var, bias_var, kernel, rtol, precision, min_dim=1):
    """Validate the arguments every ``*_spectrum`` function shares.

    Returns ``(d, kern, rtol, precision)`` with ``kern`` an :class:`~spectra.analytic.MLPKernel`.
    """
    d = check_dim(dim, minimum=min_dim)
    kern = MLPKernel(activation, depth, weight_var, bias_var, check_kernel_name(kernel))
    return d, kern, check_rtol(rtol), check_precision(precision)


def check_precision(precision):
    """``"auto"``, ``"float64"`` or an integer number of bits ``>= 53``."""
    if isinstance(precision, bool) or not (precision in ("auto", "float64") or isinstance(precision, (int, np.integer))):
        raise ValueError(f"precision must be 'auto', 'float64' or an integer number of bits >= 53, got {precision!r}")
    if isinstance(precision, (int, np.integer)):
        if precision < 53:
            raise ValueError(f"precision must be >= 53 bits, got {precision}")
        return int(precision)
    return precision


def parse_degrees(degrees, max_degree, *, maximum=None, default_max=None) -> np.ndarray:
    """The degrees to compute: ``degrees`` if given, else ``0..max_degree``, else ``0..default_max``.

    ``maximum`` is the largest valid degree (``d`` on the cube; none on the sphere).
    """
    if max_degree is not None:
        K = check_int(max_degree, "max_degree", minimum=0, maximum=maximum)
    if degrees is not None:
        return check_degrees(degrees, maximum=maximum)
    if max_degree is None:
        K = maximum if default_max is None else default_max
    return np.arange(K + 1)


def fractional_variances(multiplicities, exact, trace: float) -> np.ndarray:
    """``multiplicity * eigenvalue / trace`` per degree, from the arbitrary-precision eigenvalues.

    The product is taken in mpmath, so multiplicities far beyond float64 (``C(4096, 2048)``) and
    eigenvalues below its range combine without overflow or underflow; non-positive values
    (exact zeros, float64 noise) and a non-positive trace give 0.
    """
    import mpmath

    out = np.zeros(len(exact))
    if trace > 0:
        for i, (m, x) in enumerate(zip(multiplicities, exact)):
            if x > 0:
                out[i] = float(mpmath.mpf(m) * x / trace)
    return out
