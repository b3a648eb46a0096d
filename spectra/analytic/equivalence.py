r"""High-dimensional equivalence of the cube, sphere and Gaussian spectra: ``d^k mu_k -> Phi^{(k)}(0)``.

For a fixed degree ``k`` and growing ``d``, the degree-``k`` eigenvalue on each of the three
domains behaves like ``Phi^{(k)}(0) / d^k`` (Yang & Salman 2019, "A Fine-Grained Spectral Perspective on Neural Networks", sec. on the boolean cube, sphere and Gaussian).  This
module computes

* ``Phi^{(k)}(0)`` from high-precision Taylor coefficients: ``mpmath.taylor`` (finite differences
  at a step tied to the working precision) applied to the kernel evaluated in Arb balls at
  ``mpmath``'s working precision + 64 bits, so the 20 printed digits are correct;
* ``d^k mu_k`` on the cube (:func:`cube_spectrum`), the sphere (:func:`sphere_spectrum`) and the
  Gaussian (top radial eigenvalue of block ``k``, :func:`gaussian_spectrum`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .._results import ResultMixin
from .._validation import check_dim, check_int, check_rtol
from .kernels import MLPKernel

__all__ = ["kernel_taylor_derivatives", "domain_equivalence", "EquivalenceResult", "DEFAULT_DIMS"]

#: Dimensions of the default sweep: 8, 16, ..., 4096.
DEFAULT_DIMS = tuple(2**j for j in range(3, 13))
DOMAINS = ("cube", "sphere", "gaussian")


def kernel_taylor_derivatives(activation="relu", depth: int = 2, weight_var: float = 2.0, bias_var: float = 0.0,
                              kernel: str = "ntk", *, max_order: int = 4, dps: int = 30) -> list:
    r"""Derivatives ``Phi^{(k)}(0)``, ``k = 0..max_order``, as ``mpmath.mpf`` correct to ~``dps`` digits.

    ``Phi(c)`` is the kernel on the unit-normalised sphere/cube (``norm_x = norm_y = 1``); it is
    analytic on ``|c| < 1`` for every activation with a closed-form dual.

    Examples
    --------
    >>> [round(float(x), 4) for x in kernel_taylor_derivatives("erf", 2, 2.0, 0.5, "ck", max_order=4)]
    [0.9099, 0.5126, 0.1274, 0.3888, 0.5867]
    """
    import mpmath
    from flint import arb

    from .precision import arb_to_mpf, working_precision

    kern = MLPKernel(activation, depth, weight_var, bias_var, kernel)
    if not kern.exact:
        raise ValueError(f"activation {kern.activation.name!r} has no closed-form dual: Taylor coefficients need "
                         "the exact kernel")
    n = check_int(max_order, "max_order", minimum=0)
    dps = check_int(dps, "dps", minimum=5)

    def f(c):
        with working_precision(mpmath.mp.prec + 64):
            x = arb(mpmath.nstr(c, mpmath.mp.dps + 10)) if not isinstance(c, (int, float)) else arb(c)
            return arb_to_mpf(kern.values_arb([x])[0])

    with mpmath.workdps(dps * (n + 2) + 20):
        coeffs = mpmath.taylor(f, 0, n)
        return [+(coeffs[k] * mpmath.factorial(k)) for k in range(n + 1)]


@dataclass(repr=False)
class EquivalenceResult(ResultMixin):
    """``d^k mu_k`` per domain against ``Phi^{(k)}(0)``.

    Attributes
    ----------
    dims : ndarray of int, shape (nd,)
    degrees : ndarray of int, shape (nk,)
    phi_derivatives : ndarray of float, shape (nk,)
        ``Phi^{(k)}(0)``.
    scaled : dict domain -> ndarray of float, shape (nd, nk)
        ``d^k mu_k`` (Gaussian: top radial eigenvalue of block ``k``).
    params : dict

    Notes
    -----
    ``to_dict``/``to_json`` write ``format`` (``"spectra.equivalence"``), ``version``, the kernel's
    parameters as scalars and one row per (domain, d, k) as columns ``domain, dim, degree,
    scaled, phi_derivative, error`` (``pandas.read_json`` reads it as that table).
    """

    dims: np.ndarray
    degrees: np.ndarray
    phi_derivatives: np.ndarray
    scaled: dict
    params: dict = field(default_factory=dict)

    FORMAT: ClassVar[str] = "spectra.equivalence"
    SHOWN: ClassVar[tuple] = ("domain", "dim", "degree", "scaled", "phi_derivative", "error")

    def errors(self, domain: str) -> np.ndarray:
        """``|d^k mu_k - Phi^{(k)}(0)|``, shape (nd, nk)."""
        return np.abs(self.scaled[domain] - self.phi_derivatives[None, :])

    def summary(self) -> str:
        p = self.params
        return (f"d^k mu_k -> Phi^(k)(0), {str(p.get('kernel', '')).upper()} {p.get('activation')} L={p.get('depth')}, "
                f"{'/'.join(self.scaled)}, d = {int(self.dims[0])}..{int(self.dims[-1])}, k = 0..{int(self.degrees[-1])}")

    def metadata(self) -> dict:
        return dict(self.params)

    def rows(self) -> list:
        """One row per (domain, d, k)."""
        return [{"domain": dom, "dim": int(d), "degree": int(k), "scaled": float(vals[i, j]),
                 "phi_derivative": float(self.phi_derivatives[j]), "error": float(self.errors(dom)[i, j])}
                for dom, vals in self.scaled.items() for i, d in enumerate(self.dims)
                for j, k in enumerate(self.degrees)]

    def to_dict(self) -> dict:
        """JSON-ready: ``format``, ``version``, the parameters, and the rows as columns (see Notes)."""
        out = {"format": self.FORMAT, "version": self.VERSION}
        out.update(self.params)
        rows = self.rows()
        out.update({c: [r[c] for r in rows] for c in self.SHOWN})
        return out

    @classmethod
    def _from_dict(cls, obj: dict) -> "EquivalenceResult":
        dims = np.array(sorted(set(obj["dim"])))
        degs = np.array(sorted(set(obj["degree"])))
        doms = list(dict.fromkeys(obj["domain"]))
        scaled = {dom: np.array([v for v, x in zip(obj["scaled"], obj["domain"]) if x == dom],
                                dtype=float).reshape(dims.size, degs.size) for dom in doms}
        phi = np.array(obj["phi_derivative"][: degs.size], dtype=float)
        params = {k: obj[k] for k in ("activation", "depth", "weight_var", "bias_var", "kernel") if k in obj}
        return cls(dims, degs, phi, scaled, params)

    def to_table(self) -> str:
        p = self.params
        lines = [f"d^k mu_k -> Phi^(k)(0): {p.get('kernel', '').upper()} {p.get('activation')} L={p.get('depth')} "
                 f"weight_var={p.get('weight_var')} bias_var={p.get('bias_var')}",
                 "Phi^(k)(0): " + "  ".join(f"k={k}: {v:.10g}" for k, v in zip(self.degrees, self.phi_derivatives))]
        doms = list(self.scaled)
        head = f"{'d':>6} " + " ".join(f"{'k=' + str(k) + ' ' + '/'.join(x[:5] for x in doms):>30}" for k in self.degrees)
        lines.append(head)
        for i, d in enumerate(self.dims):
            cells = ["/".join(f"{self.scaled[dom][i, j]:.6g}" for dom in doms) for j in range(len(self.degrees))]
            lines.append(f"{int(d):>6} " + " ".join(f"{c:>30}" for c in cells))
        return "\n".join(lines)

    def plot(self, path=None, ax=None):
        """Top row: ``d^k mu_k`` against ``d`` per degree with ``Phi^{(k)}(0)`` dashed; bottom: the error (log-log)
        with a dotted ``1/d`` guide.  Returns the axes (a 2 x nk array); with ``path`` the figure is written.

        With ``ax`` only the errors of every degree and domain are drawn on that one axes.
        """
        from .._plotting import plt_or_raise

        plt = plt_or_raise()
        marks = {"cube": "s-", "sphere": "o-", "gaussian": "^-"}
        if ax is not None:
            for j, k in enumerate(self.degrees):
                for dom in self.scaled:
                    err = self.errors(dom)[:, j]
                    ok = err > 0
                    ax.loglog(self.dims[ok], err[ok], marks.get(dom, ".-"), ms=3, label=f"{dom} k={int(k)}")
            ax.set_xlabel("d")
            ax.set_ylabel(r"$|d^k\mu_k-\Phi^{(k)}(0)|$")
            ax.legend(fontsize=6, ncol=2)
            return ax
        nk = len(self.degrees)
        fig, axes = plt.subplots(2, nk, figsize=(3.0 * nk, 5.6), squeeze=False, sharex=True)
        for j, k in enumerate(self.degrees):
            ax = axes[0, j]
            for dom, vals in self.scaled.items():
                ax.plot(self.dims, vals[:, j], marks.get(dom, ".-"), ms=3, label=dom)
            ax.axhline(self.phi_derivatives[j], color="k", ls="--", lw=1, label=r"$\Phi^{(k)}(0)$")
            ax.set_xscale("log", base=2)
            ax.set_title(f"k = {int(k)}", fontsize=9)
            ax.grid(alpha=0.3)
            ax2 = axes[1, j]
            tops = []
            for dom in self.scaled:
                err = self.errors(dom)[:, j]
                ok = err > 0
                ax2.loglog(self.dims[ok], err[ok], marks.get(dom, ".-"), ms=3, label=dom, base=2)
                if np.any(ok):
                    tops.append(err[ok][0] * self.dims[ok][0])
            if tops:  # the 1/d guide through the largest first error
                ax2.loglog(self.dims, max(tops) / self.dims, "k:", lw=1, label="1/d", base=2)
            ax2.set_yscale("log", base=10)
            ax2.set_xlabel("d")
            ax2.grid(alpha=0.3)
        axes[0, 0].set_ylabel(r"$d^k\mu_k$")
        axes[1, 0].set_ylabel(r"$|d^k\mu_k-\Phi^{(k)}(0)|$")
        axes[0, 0].legend(fontsize=7)
        axes[1, 0].legend(fontsize=7)
        p = self.params
        fig.suptitle(f"{p.get('kernel', '').upper()} {p.get('activation')} L={p.get('depth')}, "
                     f"$\\sigma_w^2$={p.get('weight_var')}, $\\sigma_b^2$={p.get('bias_var')}", fontsize=10)
        fig.tight_layout()
        if path is not None:
            from .._io import atomic_write

            fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
            atomic_write(path, lambda fh: fig.savefig(fh, dpi=130, format=fmt), binary=True)
            plt.close(fig)
        return axes


def domain_equivalence(activation="relu", depth: int = 2, weight_var: float = 2.0, bias_var: float = 0.0,
                       kernel: str = "ntk", *, max_degree: int = 4, dims=DEFAULT_DIMS, domains=DOMAINS,
                       rtol: float = 1e-8) -> EquivalenceResult:
    r"""``d^k mu_k`` on the cube, sphere and Gaussian for ``k <= max_degree`` and each ``d`` in ``dims``.

    Parameters
    ----------
    activation, depth, weight_var, bias_var, kernel
        The MLP kernel (closed-form activation needed for ``Phi^{(k)}(0)``).
    max_degree : int
        Highest degree ``K`` (``k = 0..K``).
    dims : sequence of int
        Input dimensions (``>= max(2, K)``; default 8, 16, ..., 4096).
    domains : subset of ("cube", "sphere", "gaussian")
    rtol : float
        Accuracy asked of each eigenvalue.

    Returns
    -------
    EquivalenceResult

    Examples
    --------
    >>> r = domain_equivalence("erf", 2, 2.0, 0.5, "ck", max_degree=2, dims=[16, 64], domains=["cube", "sphere"])
    >>> bool(np.all(r.errors("sphere")[1] < r.errors("sphere")[0]))
    True
    """
    from . import cube, gaussian, sphere

    K = check_int(max_degree, "max_degree", minimum=0)
    rtol = check_rtol(rtol)
    dims = [check_dim(d, "dims", minimum=max(2, K)) for d in np.atleast_1d(dims)]
    if not dims:
        raise ValueError("dims must not be empty")
    domains = list(domains)
    for dom in domains:
        if dom not in DOMAINS:
            raise ValueError(f"domains must be among {DOMAINS}, got {dom!r}")
    kern = MLPKernel(activation, depth, weight_var, bias_var, kernel)
    derivs = np.array([float(x) for x in kernel_taylor_derivatives(kern.activation, kern.depth, kern.weight_var,
                                                                   kern.bias_var, kern.kind, max_order=K)])
    degs = np.arange(K + 1)
    engines = {"cube": cube._spectrum, "sphere": sphere._spectrum, "gaussian": gaussian._spectrum}
    scaled = {}
    for dom in domains:
        rows = []
        for d in dims:
            s = engines[dom](kern, d, degs, rtol, "auto")
            rows.append([float(s.exact[i] * (d ** int(k))) for i, k in enumerate(s.degrees)][: K + 1])
        scaled[dom] = np.array(rows)
    return EquivalenceResult(np.array(dims), degs, derivs, scaled, kern.params())
