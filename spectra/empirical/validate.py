r"""Finite-width CK/NTK at initialization compared with the infinite-width spectra, per degree.

For each width and seed a network (:class:`~spectra.empirical.network.MLP`, NTK
parametrization) is drawn, its empirical CK and NTK Gram matrices are formed on the inputs and
projected onto the theory's eigenfunctions:

* **cube**, all ``2^d`` points (``d <= 16``): mean Rayleigh quotient of ``K/2^d`` over the Walsh
  monomials of each degree (:func:`~spectra.domains.cube_degree_spectrum`);
  with ``n_points < 2^d`` random points: the Krawtchouk U-statistic
  (:func:`~spectra.domains.cube_sample_degree_projections`);
* **sphere**, ``n_points`` uniform points per seed: the Gegenbauer U-statistic
  (:func:`~spectra.domains.sphere_degree_projections`).

The analytic values are :func:`spectra.analytic.cube_spectrum` and
:func:`spectra.analytic.sphere_spectrum`.

**Deviation.**  For an analytic eigenvalue ``a_k != 0`` the deviation of a measured ``e_k`` is
relative, ``(e_k - a_k)/a_k``.  An eigenvalue that is exactly 0 analytically (a structural zero,
:func:`spectra.analytic.kernels.kernel_structure`, or ``|a_k| <= 1e-12 Phi(1)``) has no relative
deviation; it gets the absolute deviation ``e_k / Phi(1)`` (in units of the kernel's diagonal) and
passes when ``|mean| <= max(3 se, 1e-10)``.  Per width: mean and standard error over seeds per
degree, and the RMS over seeds and the nonzero degrees; the slope of ``log RMS`` against ``log width`` is fitted
by least squares (``-1/2`` expected from ``O(width^{-1/2})`` fluctuations).
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .._io import atomic_write
from .._plotting import plt_or_raise
from .._validation import check_depth, check_dim, check_int, check_variance
from ..analytic import MLPKernel
from ..domains import (FULL_CUBE_MAX_DIM, Cube, Sphere, cube_degree_spectrum, cube_points,
                       cube_sample_degree_projections, sample_sphere, sphere_degree_projections)

__all__ = ["ValidationResult", "validate_spectra", "plot_validation"]

_ZERO_RTOL = 1e-12


@dataclass
class ValidationResult:
    """Per-degree comparison of finite-width CK/NTK spectra with the theory.

    Arrays keyed by kernel name (``"ck"``, ``"ntk"``):

    Attributes
    ----------
    degrees : ndarray, shape (K,)
    widths : list of int
    seeds : list of int
    analytic : dict, kernel -> ndarray (K,)
    empirical : dict, kernel -> ndarray (n_widths, n_seeds, K)
    zero : dict, kernel -> bool ndarray (K,)
        Degrees whose analytic value is 0 (absolute criterion).
    scale : dict, kernel -> float
        ``Phi(1)``, the unit of the absolute deviations.
    deviation : dict, kernel -> ndarray (n_widths, n_seeds, K)
        Relative deviation (absolute / ``Phi(1)`` at zero degrees).
    dev_mean, dev_se : dict, kernel -> ndarray (n_widths, K)
        Deviation of the mean over seeds, and its standard error.
    rms : dict, kernel -> ndarray (n_widths,)
        RMS deviation over seeds and the degrees with a nonzero analytic value.
    slope : dict, kernel -> float
        Least-squares slope of ``log rms`` against ``log width`` (NaN-free; 0 for one width).
    config : dict
        The run's parameters; ``elapsed`` seconds.
    spread : dict, kernel -> ndarray (n_widths, n_seeds, K)
        Full cube only (else empty): standard deviation of the eigenvalues of the degree-``k``
        block of the Gram matrix in the Walsh basis (0 at infinite width).
    """

    degrees: np.ndarray
    widths: list
    seeds: list
    analytic: dict
    empirical: dict
    zero: dict
    scale: dict
    deviation: dict
    dev_mean: dict
    dev_se: dict
    rms: dict
    slope: dict
    config: dict = field(default_factory=dict)
    spread: dict = field(default_factory=dict)

    def within(self, rtol: float, width_index: int = -1) -> dict:
        """Per kernel and degree: is the mean over seeds within ``rtol`` of the theory?

        Relative for nonzero analytic values; for zeros ``|mean| <= max(3 se, 1e-10)``.
        """
        out = {}
        for kern in self.analytic:
            m, se = self.dev_mean[kern][width_index], self.dev_se[kern][width_index]
            z = self.zero[kern]
            out[kern] = np.where(z, np.abs(m) <= np.maximum(3 * se, 1e-10), np.abs(m) <= rtol)
        return out

    def to_dict(self) -> dict:
        """JSON-ready nested dict (lists and floats)."""
        res = {"config": self.config, "degrees": self.degrees.tolist(), "widths": list(self.widths),
               "seeds": list(self.seeds), "kernels": {}}
        for kern in self.analytic:
            emp = self.empirical[kern]
            res["kernels"][kern] = {
                "analytic": self.analytic[kern].tolist(),
                "analytic_zero": self.zero[kern].tolist(),
                "scale_phi1": self.scale[kern],
                "empirical_mean": emp.mean(axis=1).tolist(),
                "empirical_se": _se(emp).tolist(),
                "deviation_mean": self.dev_mean[kern].tolist(),
                "deviation_se": self.dev_se[kern].tolist(),
                "rms_deviation": self.rms[kern].tolist(),
                "slope": self.slope[kern],
                "within_2pct_at_largest_width": self.within(0.02)[kern].tolist(),
            }
            if kern in self.spread:
                res["kernels"][kern]["block_spread_mean"] = self.spread[kern].mean(axis=1).tolist()
        return res

    def format_table(self) -> str:
        """Human-readable report."""
        c = self.config
        lines = [f"domain={c['domain']} d={c['dim']} n={c['n_points']} activation={c['activation']} "
                 f"depth={c['depth']} weight_var={c['weight_var']} bias_var={c['bias_var']} "
                 f"seeds={len(self.seeds)} ({c['elapsed']:.1f} s)"]
        for kern in self.analytic:
            lines.append("")
            lines.append(f"{kern.upper()}  (deviation: relative; '*' = analytic 0, absolute in units of Phi(1)"
                         f"={self.scale[kern]:.6g})")
            spr = kern in self.spread
            lines.append(f"{'width':>7} {'k':>3} {'analytic':>13} {'empirical mean':>14} {'+- se':>10} "
                         f"{'deviation':>10} {'+- se':>9}" + (f" {'spread':>10}" if spr else ""))
            emp = self.empirical[kern]
            se = _se(emp)
            for wi, w in enumerate(self.widths):
                for ki, k in enumerate(self.degrees):
                    mark = "*" if self.zero[kern][ki] else " "
                    lines.append(f"{w:>7} {k:>3} {self.analytic[kern][ki]:>13.6e} {emp[wi, :, ki].mean():>14.6e} "
                                 f"{se[wi, ki]:>10.2e} {self.dev_mean[kern][wi, ki]:>+10.4f} "
                                 f"{self.dev_se[kern][wi, ki]:>9.4f}{mark}"
                                 + (f"{self.spread[kern][wi, :, ki].mean():>10.2e}" if spr else ""))
            if spr:
                lines.append("spread = std of the eigenvalues within the degree block (Walsh basis), mean over seeds")
            rms = ", ".join(f"{w}: {r:.4f}" for w, r in zip(self.widths, self.rms[kern]))
            lines.append(f"RMS deviation per width: {rms}")
            lines.append(f"fitted slope d log(RMS) / d log(width): {self.slope[kern]:+.3f}")
        return "\n".join(lines)


def _se(a: np.ndarray) -> np.ndarray:
    """Standard error over axis 1 (seeds); 0 for a single seed."""
    s = a.shape[1]
    return a.std(axis=1, ddof=1) / math.sqrt(s) if s > 1 else np.zeros(a.shape[:1] + a.shape[2:])


def _analytic(domain, dim, kernel, max_degree) -> np.ndarray:
    """Exact eigenvalues of degrees ``0..max_degree`` (float64) of an MLPKernel on the domain."""
    if domain == "cube":
        spec = Cube(dim).spectrum(kernel, degrees=list(range(max_degree + 1)))
    else:
        spec = Sphere(dim).spectrum(kernel, max_degree=max_degree)
    ev = np.asarray(spec.eigenvalues, dtype=float)
    deg = np.asarray(spec.degrees)
    return np.array([ev[np.flatnonzero(deg == k)[0]] for k in range(max_degree + 1)])


def _structural_zeros(activation, depth, bias_var, kernel, max_degree):
    from ..analytic.kernels import kernel_structure, structural_zero

    st = kernel_structure(activation, depth, bias_var, kernel)
    return np.array([structural_zero(st, k) for k in range(max_degree + 1)])


def _stderr_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def validate_spectra(domain: str = "cube", dim: int = 10, activation="relu", depth: int = 2, weight_var=2.0,
                     bias_var=0.0, widths=(256, 1024, 4096), seeds=8, *, n_points=None, max_degree=None,
                     seed_offset: int = 0, control_variate: bool = True, dtype=np.float64,
                     progress=None) -> ValidationResult:
    """Compare empirical CK/NTK per-degree spectra at initialization with the theory.

    Parameters
    ----------
    domain : {"cube", "sphere"}
    dim : int
        Input dimension (``<= 16`` for the full cube).
    activation, depth, weight_var, bias_var
        Network and kernel hyperparameters (:func:`spectra.analytic.mlp_kernel` conventions).
    widths : sequence of int
        Hidden widths.
    seeds : int or sequence of int
        Number of seeds (``0..seeds-1`` shifted by ``seed_offset``) or explicit seeds.
    n_points : int, optional
        Cube: default (None) the full cube; otherwise random points.  Sphere: required-ish,
        default 4096.
    max_degree : int, optional
        Highest degree compared; default 4 (cube) or 3 (sphere), capped at ``dim``.
    control_variate : bool
        Sampled domains only (sphere, cube with ``n_points < 2^d``): estimate each degree as
        ``a_k + U_k(K - K_inf)``, where ``K_inf`` is the analytic kernel on the same points and
        ``U_k`` the U-statistic projection.  ``U_k(K_inf)`` is an unbiased estimate of ``a_k``,
        so this has the same expectation as ``U_k(K)`` but removes most of the sampling noise of
        the points (which otherwise dominates small eigenvalues, ~``Phi(1)/(n sqrt(N(d,k)))``).
        ``False`` reports the plain ``U_k(K)``.
    dtype : float32 or float64
    progress : callable(str) or None or True
        ``True`` prints progress to stderr.

    Returns
    -------
    ValidationResult

    Examples
    --------
    >>> r = validate_spectra("cube", 4, "relu", 1, 2.0, 0.0, widths=[64, 256], seeds=2)
    >>> r.empirical["ntk"].shape
    (2, 2, 5)
    """
    from ..analytic import get_activation

    if not isinstance(domain, str) or domain.lower() not in ("cube", "sphere"):
        raise ValueError(f"domain must be 'cube' or 'sphere', got {domain!r}")
    domain = domain.lower()
    dim = check_dim(dim, minimum=2 if domain == "sphere" else 1)
    act = get_activation(activation)
    depth = check_depth(depth)
    weight_var = float(check_variance(weight_var, "weight_var", positive=True))
    bias_var = float(check_variance(bias_var, "bias_var"))
    widths = [check_int(w, "widths", minimum=1) for w in np.atleast_1d(widths).tolist()]
    if not widths:
        raise ValueError("widths must contain at least one width")
    seed_offset = check_int(seed_offset, "seed_offset", minimum=0)
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        n_seeds = check_int(seeds, "seeds", minimum=1)
        seeds = [seed_offset + s for s in range(n_seeds)]
    else:
        seeds = [check_int(s, "seeds", minimum=0) for s in seeds]
        if not seeds:
            raise ValueError("seeds must contain at least one seed")
    if max_degree is None:
        max_degree = min(4 if domain == "cube" else 3, dim)
    max_degree = check_int(max_degree, "max_degree", minimum=0, maximum=dim if domain == "cube" else None)
    full_cube = False
    if domain == "cube":
        if n_points is None:
            if dim > FULL_CUBE_MAX_DIM:
                raise ValueError(f"dim must be <= {FULL_CUBE_MAX_DIM} for the full cube; pass n_points")
            n_points = 1 << dim
        n_points = check_int(n_points, "n_points", minimum=2)
        full_cube = dim <= FULL_CUBE_MAX_DIM and n_points == (1 << dim)
    else:
        n_points = check_int(4096 if n_points is None else n_points, "n_points", minimum=2)
    if progress is True:
        progress = _stderr_progress
    from .measured_kernels import empirical_ntk
    from .network import MLP

    kernels = ("ck", "ntk")
    mlp = {k: MLPKernel(act, depth, weight_var, bias_var, kind=k) for k in kernels}
    analytic = {k: _analytic(domain, dim, mlp[k], max_degree) for k in kernels}
    from ..analytic import mlp_kernel

    scale = {k: float(mlp_kernel(1.0, act, depth, weight_var, bias_var, k)) for k in kernels}
    zero = {k: _structural_zeros(act, depth, bias_var, k, max_degree)
            | (np.abs(analytic[k]) <= _ZERO_RTOL * abs(scale[k])) for k in kernels}
    emp = {k: np.zeros((len(widths), len(seeds), max_degree + 1)) for k in kernels}
    spread = {k: np.zeros_like(emp[k]) for k in kernels} if full_cube else {}
    t0 = time.perf_counter()
    X_full = cube_points(dim) if full_cube else None
    total, done = len(widths) * len(seeds), 0
    cv_cache: dict = {}  # seed -> {kernel: U_k(K_inf)} (the points depend on the seed only)

    def project(K, X):
        if domain == "cube":
            return cube_sample_degree_projections(K, X, max_degree).mean
        return sphere_degree_projections(K, X, max_degree).mean

    def control(seed, X):
        if seed not in cv_cache:
            C = np.clip(X @ X.T / dim, -1.0, 1.0)
            cv_cache[seed] = {k: project(mlp_kernel(C, act, depth, weight_var, bias_var, k), X) for k in kernels}
        return cv_cache[seed]
    for wi, width in enumerate(widths):
        for si, seed in enumerate(seeds):
            if full_cube:
                X = X_full
            elif domain == "cube":
                X = cube_points(dim, n_points, seed=10_000 + seed)
            else:
                X = sample_sphere(dim, n_points, seed=10_000 + seed)
            net = MLP(dim, width, depth, act, weight_var, bias_var, seed=seed, dtype=dtype)
            # NTK parametrization: the last layer's NTK contribution is exactly the empirical CK
            ntk, parts = empirical_ntk(net, X, per_layer=True)
            grams = {"ck": parts[depth + 1], "ntk": ntk}
            for k in kernels:
                K = grams[k]
                if full_cube:
                    spec = cube_degree_spectrum(K, blocks=True, eig_max_degree=-1)
                    emp[k][wi, si] = spec.mean[: max_degree + 1]
                    spread[k][wi, si] = spec.spread[: max_degree + 1]
                elif control_variate:
                    emp[k][wi, si] = analytic[k] + project(K, X) - control(seed, X)[k]
                else:
                    emp[k][wi, si] = project(K, X)
            del ntk, parts, grams
            done += 1
            if progress:
                el = time.perf_counter() - t0
                progress(f"[validate] width {width} seed {seed} ({done}/{total}) {el:.1f} s elapsed, "
                         f"~{el / done * (total - done):.0f} s left")
    deviation, dev_mean, dev_se, rms, slope = {}, {}, {}, {}, {}
    for k in kernels:
        a, z = analytic[k], zero[k]
        denom = np.where(z, scale[k], a)
        numer = emp[k] - np.where(z, 0.0, a)
        dev = numer / denom
        deviation[k] = dev
        dev_mean[k] = dev.mean(axis=1)
        dev_se[k] = _se(dev)
        use = ~z if np.any(~z) else np.ones_like(z)  # zeros are checked separately, not averaged in
        rms[k] = np.sqrt(np.mean(dev[:, :, use] ** 2, axis=(1, 2)))
        if len(widths) > 1 and np.all(rms[k] > 0):
            slope[k] = float(np.polyfit(np.log(widths), np.log(rms[k]), 1)[0])
        else:
            slope[k] = 0.0
    config = dict(domain=domain, dim=dim, n_points=n_points, full_cube=full_cube, activation=act.name, depth=depth,
                  weight_var=weight_var, bias_var=bias_var, max_degree=max_degree, dtype=np.dtype(dtype).name,
                  parametrization="ntk", control_variate=bool(control_variate and not full_cube),
                  elapsed=time.perf_counter() - t0)
    return ValidationResult(np.arange(max_degree + 1), widths, seeds, analytic, emp, zero, scale, deviation,
                            dev_mean, dev_se, rms, slope, config, spread)


def plot_validation(result: ValidationResult, path) -> str:
    """Plot empirical (mean +- se over seeds, per width) against analytic eigenvalues per degree.

    Panels: CK and NTK eigenvalues per degree (log scale; absolute values), their deviations
    (mean +- se), and the RMS deviation against width (log-log) with the fitted slopes.  Writes a PNG; returns the path.
    """
    plt = plt_or_raise()
    fig, grid = plt.subplots(2, 3, figsize=(15, 8.5))
    deg = result.degrees
    n_w = len(result.widths)
    for col, kern in enumerate(("ck", "ntk")):
        ax, axd = grid[0, col], grid[1, col]
        a = result.analytic[kern]
        ax.plot(deg, np.abs(a), "k-", lw=1.5, marker="_", ms=18, label="analytic", zorder=5)
        emp = result.empirical[kern]
        se = _se(emp)
        for wi, w in enumerate(result.widths):
            off = (wi - (n_w - 1) / 2) * 0.08
            ax.errorbar(deg + off, np.abs(emp[wi].mean(axis=0)), yerr=se[wi], fmt="o", ms=4, capsize=3,
                        label=f"width {w}")
            axd.errorbar(deg + off, result.dev_mean[kern][wi], yerr=result.dev_se[kern][wi], fmt="o-", ms=4,
                         capsize=3, label=f"width {w}")
        ax.set_yscale("log")
        ax.set_xlabel("degree k")
        ax.set_ylabel("eigenvalue" + (" (mean Rayleigh quotient)" if result.config.get("full_cube") else
                                      " (projection)"))
        ax.set_title(f"{kern.upper()}: {result.config['activation']}, L={result.config['depth']}, "
                     f"$\\sigma_w^2$={result.config['weight_var']:g}, $\\sigma_b^2$={result.config['bias_var']:g}")
        ax.set_xticks(deg)
        ax.legend(fontsize=8)
        axd.axhline(0.0, color="k", lw=1)
        axd.set_xticks(deg)
        axd.set_xlabel("degree k")
        axd.set_ylabel("deviation (empirical - analytic) / analytic")
        zeros = [int(k) for k in deg[result.zero[kern]]]
        axd.set_title(f"{kern.upper()}: mean $\\pm$ s.e. over {len(result.seeds)} seeds"
                      + (f" (k={zeros}: absolute, units of $\\Phi(1)$)" if zeros else ""), fontsize=10)
        axd.legend(fontsize=8)
    ax = grid[0, 2]
    for kern, mk in (("ck", "s-"), ("ntk", "o-")):
        ax.loglog(result.widths, result.rms[kern], mk, label=f"{kern.upper()} (slope {result.slope[kern]:+.2f})")
    w = np.array(result.widths, dtype=float)
    ref = result.rms["ntk"][0] * (w / w[0]) ** -0.5
    ax.loglog(w, ref, "k:", label="width$^{-1/2}$")
    from matplotlib.ticker import FormatStrFormatter, NullLocator

    ax.set_xticks(result.widths)
    ax.set_xticklabels([str(x) for x in result.widths])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%.3g"))
    ax.set_xlabel("width")
    ax.set_ylabel("RMS deviation (over seeds and degrees)")
    ax.set_title(f"{result.config['domain']}, d={result.config['dim']}, n={result.config['n_points']}, "
                 f"{len(result.seeds)} seeds")
    ax.legend(fontsize=8)
    grid[1, 2].axis("off")
    fig.tight_layout()
    import os

    path = os.fspath(path)
    try:  # atomic: a reader never sees a half-written figure
        atomic_write(path, lambda fh: fig.savefig(fh, dpi=110, format="png"), binary=True)
    finally:
        plt.close(fig)
    return path
