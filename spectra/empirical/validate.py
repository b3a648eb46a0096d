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

import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from .._plotting import plt_or_raise
from .._progress import Progress
from .._results import ResultMixin
from .._validation import check_depth, check_dim, check_int, check_variance
from ..analytic import MLPKernel
from ..domains import (FULL_CUBE_MAX_DIM, Cube, Sphere, cube_degree_spectrum, cube_points,
                       cube_sample_degree_projections, sample_sphere, sphere_degree_projections)
from .validate_plot import seed_se as _se

__all__ = ["ValidationResult", "validate_spectra", "plot_validation"]

_ZERO_RTOL = 1e-12


@dataclass(repr=False)
class ValidationResult(ResultMixin):
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
    slope : dict, kernel -> float or None
        Least-squares slope of ``log rms`` against ``log width``; None with one width (no slope).
    config : dict
        The run's parameters; ``elapsed`` seconds.
    spread : dict, kernel -> ndarray (n_widths, n_seeds, K)
        Full cube only (else empty): standard deviation of the eigenvalues of the degree-``k``
        block of the Gram matrix in the Walsh basis (0 at infinite width).

    Notes
    -----
    ``to_json`` (``spectra validate --format json``) writes one JSON object that
    ``pandas.read_json`` reads as a table with one row per (kernel, width, seed, degree):
    ``format`` (``"spectra.validation"``), ``version``, the configuration as scalars, and the
    columns ``kernel, width, seed, degree, analytic, analytic_zero, scale_phi1, empirical,
    deviation, spread`` (per network) and ``empirical_mean, empirical_se, deviation_mean,
    deviation_se, rms_deviation, slope, within_2pct_at_largest_width`` (over seeds, repeated on
    each seed's row).  ``null`` marks what does not exist (``spread`` off the full cube, ``slope``
    with one width).
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

    FORMAT: ClassVar[str] = "spectra.validation"
    SHOWN: ClassVar[tuple] = ("kernel", "width", "degree", "analytic", "empirical_mean", "deviation_mean",
                              "deviation_se")

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

    def summary(self) -> str:
        c = self.config
        slopes = ", ".join(f"{k.upper()} {'-' if v is None else f'{v:+.2f}'}" for k, v in self.slope.items())
        return (f"{c.get('domain')} d={c.get('dim')} n={c.get('n_points')} {c.get('activation')} depth={c.get('depth')}, "
                f"widths {list(self.widths)}, {len(self.seeds)} seeds; slope of RMS deviation: {slopes}")

    def metadata(self) -> dict:
        return dict(self.config)

    def all_rows(self) -> list:
        """One row per (kernel, width, seed, degree): the columns of the JSON (see Notes)."""
        within = self.within(0.02)
        rows = []
        for kern in self.analytic:
            emp, se = self.empirical[kern], _se(self.empirical[kern])
            for wi, w in enumerate(self.widths):
                for si, seed in enumerate(self.seeds):
                    for ki, k in enumerate(self.degrees):
                        rows.append({
                            "kernel": kern, "width": int(w), "seed": int(seed), "degree": int(k),
                            "analytic": float(self.analytic[kern][ki]), "analytic_zero": bool(self.zero[kern][ki]),
                            "scale_phi1": float(self.scale[kern]), "empirical": float(emp[wi, si, ki]),
                            "deviation": float(self.deviation[kern][wi, si, ki]),
                            "spread": float(self.spread[kern][wi, si, ki]) if kern in self.spread else None,
                            "empirical_mean": float(emp[wi, :, ki].mean()), "empirical_se": float(se[wi, ki]),
                            "deviation_mean": float(self.dev_mean[kern][wi, ki]),
                            "deviation_se": float(self.dev_se[kern][wi, ki]),
                            "rms_deviation": float(self.rms[kern][wi]), "slope": self.slope[kern],
                            "within_2pct_at_largest_width": bool(within[kern][ki])})
        return rows

    def rows(self) -> list:
        """One row per (kernel, width, degree): the means over seeds (``to_dataframe``: one per seed too)."""
        first = self.seeds[0]
        keep = ("kernel", "width", "degree", "analytic", "analytic_zero", "empirical_mean", "empirical_se",
                "deviation_mean", "deviation_se", "rms_deviation", "slope")
        return [{k: r[k] for k in keep} for r in self.all_rows() if r["seed"] == first]

    def to_dict(self) -> dict:
        """JSON-ready dict: the configuration as scalars and one list per column (see Notes)."""
        rows = self.all_rows()
        out = dict(self.config)
        cols = list(rows[0]) if rows else []
        out.update({c: [r[c] for r in rows] for c in cols})
        return out

    @classmethod
    def _from_dict(cls, obj: dict) -> "ValidationResult":
        kern_col, w_col, s_col, k_col = (np.asarray(obj[c]) for c in ("kernel", "width", "seed", "degree"))
        widths = sorted(set(int(w) for w in w_col))
        seeds = list(dict.fromkeys(int(s) for s in s_col))
        degrees = np.array(sorted(set(int(k) for k in k_col)))
        shape = (len(widths), len(seeds), len(degrees))
        kernels = list(dict.fromkeys(obj["kernel"]))
        fields = {name: {} for name in ("analytic", "empirical", "zero", "scale", "deviation", "dev_mean", "dev_se",
                                        "rms", "slope", "spread")}
        for kern in kernels:
            sel = kern_col == kern

            def cube(col, sel=sel):
                vals = np.array([np.nan if v is None else v for v in np.asarray(obj[col], dtype=object)[sel]],
                                dtype=float)
                return vals.reshape(shape)
            fields["analytic"][kern] = cube("analytic")[0, 0]
            fields["zero"][kern] = cube("analytic_zero")[0, 0].astype(bool)
            fields["scale"][kern] = float(cube("scale_phi1")[0, 0, 0])
            fields["empirical"][kern] = cube("empirical")
            fields["deviation"][kern] = cube("deviation")
            fields["dev_mean"][kern] = cube("deviation_mean")[:, 0]
            fields["dev_se"][kern] = cube("deviation_se")[:, 0]
            fields["rms"][kern] = cube("rms_deviation")[:, 0, 0]
            slope = np.asarray(obj["slope"], dtype=object)[sel][0]
            fields["slope"][kern] = None if slope is None else float(slope)
            spread = np.asarray(obj["spread"], dtype=object)[sel]
            if spread[0] is not None:
                fields["spread"][kern] = cube("spread")
        config = {k: v for k, v in obj.items() if not isinstance(v, list) and k not in ("format", "version")}
        return cls(degrees, widths, seeds, fields["analytic"], fields["empirical"], fields["zero"], fields["scale"],
                   fields["deviation"], fields["dev_mean"], fields["dev_se"], fields["rms"], fields["slope"], config,
                   fields["spread"])

    def to_table(self) -> str:
        return self.format_table()

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
            if self.slope[kern] is not None:  # one width: there is no slope
                lines.append(f"fitted slope d log(RMS) / d log(width): {self.slope[kern]:+.3f}")
        return "\n".join(lines)

    def plot(self, ax=None, kernel: str = "ntk"):
        """Deviation from the theory (mean +- se over seeds) per degree, one line per width; returns the axes.

        :func:`plot_validation` draws the full figure (eigenvalues, deviations, RMS against width).
        """
        from .validate_plot import deviation_panel

        if ax is None:
            _, ax = plt_or_raise().subplots(figsize=(5, 3.5))
        deviation_panel(self, kernel, ax)
        return ax


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


def _cost(width: int, n: int, depth: int, sampled: bool) -> float:
    """Relative cost of one network (seconds ~ 1e-10 x this): its Gram matrices and their projection.

    Measured on the full 10-cube (n = 1024, depth 2; widths 256 to 4096: 0.23, 0.56, 1.17, 2.8 s):
    the hidden-to-hidden products cost ``~n width^2 (depth - 1)``, the per-layer Gram matrices
    ``~n^2 width (depth + 1)`` and the degree projection ``~n^2`` (more for the U-statistics of
    sampled points).
    """
    return (0.73 * n * width * width * max(depth - 1, 0) + 1.08 * n * n * width * (depth + 1)
            + (4600.0 if sampled else 1290.0) * n * n)


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
    progress : bool or callable(str) or None
        ``True`` reports progress on stderr (a bar on a terminal; the time left is weighted by
        each network's cost, see ``_cost``); a callable receives one line per network.

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
    cost = {w: _cost(w, n_points, depth, not full_cube) for w in widths}
    bar = Progress(sum(cost.values()) * len(seeds), "validate", quiet=progress is not True)
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
            bar.update(cost[width], f"width {width} seed {seed} ({done}/{total})")
            if callable(progress):
                el = time.perf_counter() - t0
                progress(f"[validate] width {width} seed {seed} ({done}/{total}) {el:.1f} s elapsed, "
                         f"{bar.left_text()}")
    bar.close()
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
        else:  # one width (or a zero RMS): no slope
            slope[k] = None
    config = dict(domain=domain, dim=dim, n_points=n_points, full_cube=full_cube, activation=act.name, depth=depth,
                  weight_var=weight_var, bias_var=bias_var, max_degree=max_degree, dtype=np.dtype(dtype).name,
                  parametrization="ntk", control_variate=bool(control_variate and not full_cube),
                  elapsed=time.perf_counter() - t0)
    return ValidationResult(np.arange(max_degree + 1), widths, seeds, analytic, emp, zero, scale, deviation,
                            dev_mean, dev_se, rms, slope, config, spread)


def plot_validation(result: ValidationResult, path) -> str:
    """Write the validation figure (see :func:`spectra.empirical.validate_plot.plot_validation`)."""
    from .validate_plot import plot_validation as _plot

    return _plot(result, path)
