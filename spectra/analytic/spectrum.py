"""The result type shared by every domain: eigenvalues per degree with their guarantees."""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

import numpy as np

from .._io import atomic_write
from .._results import ResultMixin, csv_text, jsonable, multiplicity_columns
from .._validation import (MAX_DEGREE, MAX_DEPTH, check_degrees, check_depth, check_dim, check_int,
                          check_kernel_name, check_precision_bits, check_rtol)
from .kernels import MLPKernel
from .precision import MAX_PRECISION

__all__ = ["Spectrum", "result_columns", "check_spectrum_inputs", "check_precision", "parse_degrees", "fractional_variances",
           "guarantee_of"]


@dataclass(repr=False)
class Spectrum(ResultMixin):
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
    guarantee : list of str, length m (property, derived from ``certified`` and ``method``)
        What kind of guarantee each ``rel_error_bound`` carries, one word per eigenvalue:

        * ``"certified"``: proved, by ball arithmetic (``arb@prec``; ``certified`` is True) or
          by symmetry (an exact zero, method ``"zero"``);
        * ``"verified"``: checked by a second method, not proved: two quadrature rules
          (``arb-gl N1/N2``, the Gaussian's ``radial M1/M2``) or two Mehler-series steps
          (``arb-mehler``), in ball arithmetic;
        * ``"float64"``: a stated float64 tolerance (``float64``, ``float64-gl``), tested against
          the certified path but not proved;
        * ``"none"``: the bound is infinite (for instance a float64 value below its own
          tolerance, or a negative value): the number carries no guarantee, and the spectrum
          engines emit an ``AccuracyWarning`` for it.

        It is a column of ``rows``/``to_csv``/``to_dataframe``, a list of ``to_dict``/``to_json``
        and the last column of ``to_table``.
    trace : float
        ``Phi(1)`` = sum over all degrees of multiplicity * eigenvalue (for Gaussian inputs,
        ``E K(x, x)``).
    max_learning_rate : float or None
        For the NTK: the largest stable full-batch GD learning rate ``2 / max_k mu_k`` for the
        loss ``(1/2n) sum_i (f(x_i) - y_i)^2`` (mean over samples), in the infinite-sample
        limit; multiply by ``n`` for the summed loss ``(1/2) sum_i (...)^2``.
    params : dict
        activation, depth, weight_var, bias_var, kernel (echo of the inputs).
    rtol : float or None
        The relative tolerance the spectrum was asked for (recorded by the engines);
        ``meets_rtol`` is the boolean array ``rel_error_bound <= rtol`` (see
        :mod:`spectra.analytic.accuracy`).

    Notes
    -----
    **Files.** ``to_json``/``save`` write one JSON object: ``format`` (``"spectra.spectrum"``),
    ``version``, the scalars (domain, dim, the kernel's parameters, trace, max_learning_rate, and
    ``extra`` with nested keys joined by dots and lists as JSON text) and one list per column, all of length m, so ``pandas.read_json`` gives one row
    per degree.  Only finite numbers, ``null`` and strings appear:

    * an exact zero is ``eigenvalues: 0.0`` with ``log10_eigenvalues: null``;
    * ``multiplicities`` are integers when all are below ``2**53`` and decimal strings otherwise
      (``C(128, 64)`` does not fit a double), with ``multiplicity_float`` (``null`` beyond the
      float64 range) and ``log10_multiplicity`` beside them;
    * ``exact`` holds each eigenvalue as a decimal string of 20 significant digits.

    ``to_csv`` writes the same columns with ``# key: value`` metadata lines first
    (``pandas.read_csv(path, comment="#")``); empty fields are null.

    Examples
    --------
    >>> from spectra.analytic import cube_spectrum
    >>> s = cube_spectrum(128, "relu", 2)
    >>> len(repr(s)) < 1000, s.to_dict()["multiplicities"][64]
    (True, '23951146041928082866135587776380551750')
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
    rtol: Optional[float] = None

    def __post_init__(self):
        # No inf or NaN leaves a spectrum engine: the kernel's domain (spectra.analytic.kernels) keeps
        # the values representable, so a non-finite one is an engine failure, refused here.
        eig = np.asarray(self.eigenvalues, dtype=float)
        bad = ~np.isfinite(eig)
        if np.any(bad) or not math.isfinite(float(self.trace)):
            p = self.params
            raise ValueError(f"{p.get('kernel', '')} {p.get('activation')} depth={p.get('depth')} "
                             f"weight_var={p.get('weight_var')} bias_var={p.get('bias_var')} on the {self.domain} "
                             f"d={self.dim}: non-finite eigenvalues at degrees {np.asarray(self.degrees)[bad].tolist()} "
                             f"(trace {float(self.trace)!r}); the kernel is not representable in float64 there")
        # The kernel is positive semi-definite: a negative eigenvalue is wrong by more than its size,
        # so no finite relative bound holds for it (its bound becomes inf; the engines then warn).
        rel = np.array(self.rel_error_bound, dtype=float)
        neg = (eig < 0) & (rel < np.inf)
        if np.any(neg):
            rel[neg] = np.inf
            self.rel_error_bound = rel
            self.certified = np.where(neg, False, np.asarray(self.certified, dtype=bool))

    @property
    def guarantee(self) -> list:
        """Per eigenvalue: ``"certified"``, ``"verified"``, ``"float64"`` or ``"none"`` (see the class docstring)."""
        return [guarantee_of(c, m, b) for c, m, b in zip(self.certified, self.method, self.rel_error_bound)]

    @property
    def meets_rtol(self) -> np.ndarray:
        """Boolean array: True where ``rel_error_bound <= rtol`` (all True when no rtol was recorded)."""
        b = np.asarray(self.rel_error_bound, dtype=float)
        if self.rtol is None:
            return np.ones(b.shape, dtype=bool)
        return b <= self.rtol

    FORMAT: ClassVar[str] = "spectra.spectrum"
    VERSION: ClassVar[int] = 1
    SHOWN: ClassVar[tuple] = ("degree", "eigenvalue", "log10_eigenvalue", "multiplicity_float",
                              "fractional_variance", "certified", "guarantee")

    def __len__(self) -> int:
        return len(self.degrees)

    # ------------------------------------------------------------------ output
    def summary(self) -> str:
        p = self.params
        n_cert = int(np.count_nonzero(self.certified))
        return (f"{str(p.get('kernel', '')).upper()} {p.get('activation')} depth={p.get('depth')} "
                f"weight_var={p.get('weight_var')} bias_var={p.get('bias_var')} on the {self.domain}, "
                f"d={self.dim}, {len(self)} degrees, {n_cert} certified, max rel. error bound "
                f"{(float(np.max(self.rel_error_bound)) if len(self) else 0.0):.1e}")

    def metadata(self) -> dict:
        """The scalars of the result: domain, dim, the kernel's parameters, trace, max_learning_rate, extras."""
        out: dict[str, Any] = {"domain": self.domain, "dim": int(self.dim)}
        out.update({k: (v if not isinstance(v, np.ndarray) else v.tolist()) for k, v in self.params.items()})
        out["trace"] = float(self.trace)
        out["max_learning_rate"] = None if self.max_learning_rate is None else float(self.max_learning_rate)
        out.update(_flat_extra(self.extra, len(self)))
        return out

    def rows(self) -> list:
        """One dict per degree (the columns of ``to_dataframe``/``to_csv``)."""
        mult, mult_f, mult_l = multiplicity_columns(self.multiplicities)
        guar = self.guarantee
        return [{"degree": int(k), "eigenvalue": float(self.eigenvalues[i]),
                 "log10_eigenvalue": _finite(self.log10_eigenvalues[i]), "exact": _fmt_exact(self.exact[i]),
                 "multiplicity": mult[i], "multiplicity_float": mult_f[i], "log10_multiplicity": mult_l[i],
                 "fractional_variance": float(self.fractional_variance[i]),
                 "rel_error_bound": _finite(self.rel_error_bound[i]), "certified": bool(self.certified[i]),
                 "method": str(self.method[i]), "guarantee": guar[i]} for i, k in enumerate(self.degrees)]

    def to_dict(self) -> dict:
        """JSON-ready dictionary (keys of the ``spectra eigen --format json`` output; see Notes)."""
        mult, mult_f, mult_l = multiplicity_columns(self.multiplicities)
        out = self.metadata()
        out.update(
            degrees=[int(k) for k in self.degrees],
            eigenvalues=[float(x) for x in self.eigenvalues],
            log10_eigenvalues=[_finite(x) for x in self.log10_eigenvalues],
            exact=[_fmt_exact(x) for x in self.exact],
            multiplicities=mult,
            multiplicity_float=mult_f,
            log10_multiplicity=mult_l,
            fractional_variance=[_finite(x) for x in self.fractional_variance],
            rel_error_bound=[_finite(x) for x in self.rel_error_bound],
            certified=[bool(x) for x in self.certified],
            method=[str(m) for m in self.method],
            guarantee=self.guarantee,
        )
        return out

    @classmethod
    def _from_dict(cls, obj: dict) -> "Spectrum":
        import mpmath

        def arr(key, default=np.nan):
            return np.array([default if v is None else v for v in obj[key]], dtype=float)

        params = {k: obj[k] for k in ("activation", "depth", "weight_var", "bias_var", "kernel") if k in obj}
        extra: dict = {}
        for key, v in obj.items():  # the extras: every key that is not a column or a known scalar
            if key in _KNOWN or isinstance(v, list):
                continue
            *path, last = key.split(".")
            node = extra
            for part in path:
                node = node.setdefault(part, {})
            node[last] = _unflat(v)
        with mpmath.workdps(30):  # the 20 written digits come back unchanged
            exact = [mpmath.mpf(x) for x in obj["exact"]]
        return cls(obj["domain"], int(obj["dim"]), np.array(obj["degrees"], dtype=int), arr("eigenvalues"),
                   arr("log10_eigenvalues", -np.inf), exact,
                   [int(m) for m in obj["multiplicities"]], arr("fractional_variance"), arr("rel_error_bound", np.inf),
                   np.array(obj["certified"], dtype=bool), list(obj["method"]), float(obj["trace"]),
                   obj.get("max_learning_rate"), params, extra)

    def to_csv(self) -> str:
        """CSV, one row per degree, after ``# key: value`` metadata lines (see Notes)."""
        cols = ["degree", "eigenvalue", "log10_eigenvalue", "multiplicity", "multiplicity_float", "fractional_variance",
                "rel_error_bound", "certified", "method", "guarantee"]
        meta = {"format": self.FORMAT, "version": self.VERSION}
        meta.update(self.metadata())
        return csv_text(jsonable(meta), cols, self.rows())

    def to_table(self) -> str:
        p = self.params
        head = (f"{p.get('kernel', '').upper()} spectrum on the {self.domain}, d={self.dim}, "
                f"activation={p.get('activation')}, depth={p.get('depth')}, "
                f"weight_var={p.get('weight_var')}, bias_var={p.get('bias_var')}")
        trace_name = "E K(x,x)" if self.domain == "gaussian" else "Phi(1)"
        lines = [head, f"trace {trace_name} = {self.trace:.15g}"]
        if self.max_learning_rate is not None:
            lines.append(f"max stable GD learning rate 2/max(mu) = {self.max_learning_rate:.12g}  (loss (1/2n) sum (f-y)^2)")
        guar = self.guarantee
        width = max([len(str(m)) for m in self.method] + [6])
        lines.append(f"{'k':>5} {'eigenvalue':>24} {'log10':>12} {'multiplicity':>14} {'frac.var.':>11} {'rel.err<=':>9}  "
                     f"{'method':<{width}}  guarantee")
        for i, k in enumerate(self.degrees):
            mult = int(self.multiplicities[i])
            ms = f"{mult}" if mult < 10**13 else _big_int(mult)
            lines.append(
                f"{int(k):>5} {_fmt_mp(self.exact[i]):>24} {self.log10_eigenvalues[i]:>12.6f} {ms:>14} "
                f"{self.fractional_variance[i]:>11.4e} {self.rel_error_bound[i]:>9.1e}  {str(self.method[i]):<{width}}  {guar[i]}"
            )
        return "\n".join(lines)

    def plot(self, path=None, ax=None, label=None):
        """Eigenvalue against degree on a log axis (log10 values, so nothing underflows); returns the axes.

        Exact zeros are marked with an ``x`` on the bottom edge.  With ``path`` (and no ``ax``) the
        figure is also written to that file.
        """
        from .._plotting import plt_or_raise

        plt = plt_or_raise()
        own = ax is None
        if own:
            fig, ax = plt.subplots(figsize=(6, 4))
        nz = np.isfinite(self.log10_eigenvalues)
        ax.plot(self.degrees[nz], self.log10_eigenvalues[nz], "o-", ms=3, label=label)
        if np.any(~nz) and np.any(nz):
            lo = float(np.min(self.log10_eigenvalues[nz]))
            ax.plot(self.degrees[~nz], np.full((~nz).sum(), lo), "x", color="0.5", ms=4,
                    label="exact zero (by symmetry)")
            ax.legend(fontsize=7)
        ax.set_xlabel("degree k")
        ax.set_ylabel(r"$\log_{10}\,\mu_k$")
        p = self.params
        ax.set_title(f"{p.get('kernel', '').upper()} {p.get('activation')} L={p.get('depth')} "
                     f"on {self.domain} d={self.dim}", fontsize=9)
        ax.grid(alpha=0.3)
        if own and path is not None:
            fig.tight_layout()
            fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
            atomic_write(path, lambda fh: fig.savefig(fh, dpi=130, format=fmt), binary=True)
            plt.close(fig)
        return ax


def guarantee_of(certified: bool, method: str, bound: float) -> str:
    """The guarantee word of one eigenvalue (see :class:`Spectrum`): from its flag, method and bound.

    Examples
    --------
    >>> [guarantee_of(True, "arb@256", 1e-20), guarantee_of(False, "arb-gl 60/40 @128", 1e-15),
    ...  guarantee_of(False, "float64", 1e-13), guarantee_of(False, "float64", float("inf"))]
    ['certified', 'verified', 'float64', 'none']
    """
    if not (float(bound) < math.inf):
        return "none"
    if bool(certified):
        return "certified"
    return "float64" if "float64" in str(method) else "verified"


def _finite(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _fmt_exact(x) -> str:
    import mpmath

    return "0.0" if x == 0 else mpmath.nstr(x, 20, strip_zeros=False)


def _flat_extra(extra: dict, m: int) -> dict:
    """``extra`` as scalars: nested dicts flattened to ``KEY.SUBKEY``, lists as JSON text."""
    out = {}

    def put(key, v):
        if isinstance(v, dict):
            for k2, v2 in v.items():
                put(f"{key}.{k2}", v2)
        elif isinstance(v, (list, tuple, np.ndarray)):
            out[key] = json.dumps(jsonable(v))
        else:
            out[key] = v

    for k, v in extra.items():
        put(k, v)
    return out


# keys of the JSON that are not extras
_KNOWN = {"format", "version", "domain", "dim", "activation", "depth", "weight_var", "bias_var", "kernel", "trace",
          "max_learning_rate"}


def _unflat(v):
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except json.JSONDecodeError:
            return v
    return v


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


def _big_int(m: int) -> str:
    """``m`` in scientific notation from its digits (exact ints beyond float64 do not overflow)."""
    e = len(str(m)) - 1
    q = (m + 5 * 10 ** (e - 5)) // 10 ** (e - 4)  # five significant digits, rounded half up
    if q >= 10**5:  # the rounding carried into a new digit
        q, e = q // 10, e + 1
    digits = str(q)
    return f"{digits[0]}.{digits[1:]}e+{e:02d}"


def check_spectrum_inputs(dim, activation, depth, weight_var, bias_var, kernel, rtol, precision, min_dim=1):
    """Validate the arguments every ``*_spectrum`` function shares; returns ``(d, kern, rtol, precision)``.

    Caps (bounded cost): depth <= ``MAX_DEPTH``, precision <= ``MAX_PRECISION`` bits, and on the cube
    (``min_dim=1``) the binomials ``C(d, j)`` every cube spectrum builds (``d^2/3`` bytes) must fit the
    memory limit of :func:`spectra._budget.check_memory` (``d`` up to about 190000 with 11 GiB).
    """
    from .._budget import check_memory, cube_cost

    d, _ = check_dim(dim, minimum=min_dim), check_depth(depth, maximum=MAX_DEPTH)
    rtol, precision = check_rtol(rtol), check_precision(precision)
    if min_dim == 1:  # refused before the kernel is built
        check_memory(cube_cost(d, many_degrees=False)[0], f"the cube spectrum at d={d} (its binomials C(d, j) alone)")
    elif d > MAX_SPHERE_DIM:  # the Funk-Hecke node count grows without bound (d = 1e9: 3744 nodes, about 1 s)
        raise ValueError(f"dim must be an integer in [{min_dim}, {MAX_SPHERE_DIM:.0e}] on the sphere and for Gaussian "
                         f"inputs (MAX_SPHERE_DIM: the angular quadrature's cost grows with d), got {d}")
    return d, MLPKernel(activation, depth, weight_var, bias_var, check_kernel_name(kernel)), rtol, precision


#: Largest dimension of the sphere and Gaussian engines (measured: d = 1e9 takes about 1 s at K = 4).
MAX_SPHERE_DIM = 10**9


def check_precision(precision):
    """``"auto"``, ``"float64"`` or an integer number of bits in ``[53, MAX_PRECISION]`` (131072)."""
    return check_precision_bits(precision, MAX_PRECISION)


#: Highest degree computed on the sphere and for Gaussian inputs (infinitely many degrees) unless asked.
DEFAULT_MAX_DEGREE = 20


def parse_degrees(degrees, max_degree, *, maximum=None, default_max=None) -> np.ndarray:
    """The degrees to compute: ``degrees`` if given, else ``0..max_degree``, else ``0..default_max``.

    ``maximum`` is the largest valid degree: ``d`` on the cube, ``MAX_DEGREE`` (1000) when None.
    """
    cap = MAX_DEGREE if maximum is None else maximum  # sphere/Gaussian: the Funk-Hecke rule's degree cap
    why = "" if maximum is not None else " (MAX_DEGREE on the sphere and for Gaussian inputs)"
    K = None if max_degree is None else check_int(max_degree, "max_degree", minimum=0)
    if K is not None and K > cap:
        raise ValueError(f"max_degree must be an integer in [0, {cap}]{why}, got {K}")
    if degrees is not None:
        return check_degrees(degrees, maximum=cap, why=why)
    if K is None:
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
