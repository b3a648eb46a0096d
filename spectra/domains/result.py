"""Result types of the measured side: a Gram matrix projected onto a domain's degrees.

* :class:`DegreeSpectrum` -- the one type every domain's ``degree_spectrum`` returns (full cube by
  the Walsh transform, cube samples by the Krawtchouk U-statistic, sphere samples by the
  Gegenbauer U-statistic), optionally with the analytic eigenvalues next to the measured ones.
* :func:`matched_eigenvalues` -- the eigenvalues of ``K/n`` grouped by analytic multiplicities,
  for any sample (:class:`MatchedSpectrum`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar, Optional

import numpy as np

from .._results import ResultMixin, multiplicity_columns
from .._validation import check_finite_array, check_int

__all__ = ["DegreeSpectrum", "MatchedSpectrum", "matched_eigenvalues"]

#: What each ``DegreeSpectrum.method`` means.
METHODS = {
    "walsh": "full cube: mean Rayleigh quotient of K/2^d over the Walsh monomials of each degree (FWHT)",
    "krawtchouk": "cube sample: U-statistic of K(x,y) K_k(Hamming distance) / C(d,k) over pairs x != y",
    "gegenbauer": "sphere sample: U-statistic of K(x,y) P_k(<x,y>/d) over pairs x != y",
    "gegenbauer-all-pairs": "sphere sample: mean of K(x,y) P_k(<x,y>/d) over all pairs, diagonal included",
}


def _nan_to_none(a) -> list:
    return [None if (isinstance(v, float) and math.isnan(v)) else v for v in np.asarray(a).tolist()]


@dataclass(frozen=True, repr=False)
class DegreeSpectrum(ResultMixin):
    """Per-degree spectrum of a measured Gram matrix on one domain (arrays indexed like ``degrees``).

    Attributes
    ----------
    domain : str
        ``"cube"`` or ``"sphere"``.
    dim : int
        Input dimension ``d``.
    degrees : ndarray of int
        Degrees ``k``, ascending from 0.
    mean : ndarray
        The measured eigenvalue of degree ``k`` (operator ``K/n`` normalisation, comparable with
        :func:`spectra.analytic.cube_spectrum` and ``sphere_spectrum``); see ``method``.
    multiplicities : ndarray of int
        ``C(d, k)`` (cube) or ``N(d, k)`` (sphere); object dtype if they exceed int64.
    n_points : int
        Number of points of the Gram matrix.
    method : str
        ``"walsh"``, ``"krawtchouk"``, ``"gegenbauer"`` or ``"gegenbauer-all-pairs"``
        (``METHODS`` in this module says what each estimates).
    spread : ndarray
        Standard deviation of the eigenvalues of the degree-``k`` block of the Gram matrix in the
        Walsh basis, ``||B_k - mean_k I||_F / sqrt(C(d,k))`` (0 at infinite width). Full cube only
        (equal to ``diag_std`` if blocks were not measured); NaN for samples.
    diag_std : ndarray
        Full cube: standard deviation of the Rayleigh quotients within the degree; NaN otherwise.
    block_min, block_max : ndarray
        Full cube: extreme eigenvalues of the degree blocks that were diagonalised; NaN otherwise.
    off_block : float
        Full cube: ``||M - blockdiag(M)||_F / ||M||_F`` with ``M`` the Gram matrix in the Walsh
        basis (0 for every infinite-width kernel; 0.0 if blocks were not measured); NaN otherwise.
    analytic : ndarray or None
        The infinite-width eigenvalues of the same degrees, when a kernel was given.

    Examples
    --------
    >>> from spectra.domains import Cube
    >>> X = Cube(3).sample()
    >>> s = Cube(3).degree_spectrum(1 + X @ X.T)     # mu_0 = 1, mu_1 = 1
    >>> s
    DegreeSpectrum(domain='cube', dim=3, degrees=0..3, n_points=8, method='walsh', mean=[1, 1, 0, 0])
    >>> s.to_dict()["multiplicities"], s.to_dict()["mean"]
    ([1, 3, 3, 1], [1.0, 1.0, 0.0, 0.0])

    ``str(s)`` is the table, ``s.to_dataframe()`` one row per degree, ``s.save(path)`` /
    ``DegreeSpectrum.load(path)`` a JSON file (format ``"spectra.degree_spectrum"``; NaN as null;
    multiplicities beyond ``2**53`` as decimal strings with ``multiplicity_float`` beside them).
    """

    domain: str
    dim: int
    degrees: np.ndarray
    mean: np.ndarray
    multiplicities: np.ndarray
    n_points: int
    method: str
    spread: np.ndarray
    diag_std: np.ndarray
    block_min: np.ndarray
    block_max: np.ndarray
    off_block: float
    analytic: Optional[np.ndarray] = None

    FORMAT: ClassVar[str] = "spectra.degree_spectrum"
    SHOWN: ClassVar[tuple] = ("degree", "mean", "analytic", "ratio", "multiplicity_float")

    def __post_init__(self):
        for name in ("degrees", "mean", "multiplicities", "spread", "diag_std", "block_min", "block_max", "analytic"):
            value = getattr(self, name)
            if value is not None:  # read-only copies: the result cannot drift from what was measured
                arr = np.array(value)
                arr.setflags(write=False)
                object.__setattr__(self, name, arr)

    @property
    def ratio(self) -> Optional[np.ndarray]:
        """``mean / analytic`` (NaN where the analytic value is 0); None without ``analytic``."""
        if self.analytic is None:
            return None
        a = np.asarray(self.analytic, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a != 0, self.mean / a, np.nan)

    def truncate(self, max_degree: int) -> "DegreeSpectrum":
        """The same spectrum restricted to degrees ``0..max_degree``.

        Examples
        --------
        >>> from spectra.domains import Cube
        >>> X = Cube(4).sample()
        >>> Cube(4).degree_spectrum(X @ X.T).truncate(2).degrees.tolist()
        [0, 1, 2]
        """
        m = check_int(max_degree, "max_degree", minimum=0)
        keep = self.degrees <= m
        cut = {f: getattr(self, f)[keep] for f in ("degrees", "mean", "multiplicities", "spread", "diag_std",
                                                     "block_min", "block_max")}
        if self.analytic is not None:
            cut["analytic"] = self.analytic[keep]
        return replace(self, **cut)

    def with_analytic(self, spectrum) -> "DegreeSpectrum":
        """A copy carrying the exact eigenvalues of a :class:`spectra.analytic.Spectrum` of the same degrees."""
        deg = np.asarray(spectrum.degrees)
        if not np.array_equal(deg, self.degrees):
            raise ValueError(f"spectrum has degrees {deg.tolist()}, expected {self.degrees.tolist()}")
        return replace(self, analytic=np.asarray(spectrum.eigenvalues, dtype=float))

    def __len__(self) -> int:
        return len(self.degrees)

    def __repr__(self) -> str:
        shown = ", ".join(f"{v:.4g}" for v in self.mean[:6]) + (", ..." if len(self.mean) > 6 else "")
        deg = f"{int(self.degrees[0])}..{int(self.degrees[-1])}" if len(self.degrees) else "[]"
        extra = "" if self.analytic is None else ", with analytic"
        return (f"DegreeSpectrum(domain={self.domain!r}, dim={self.dim}, degrees={deg}, n_points={self.n_points}, "
                f"method={self.method!r}, mean=[{shown}]{extra})")

    def summary(self) -> str:
        extra = "" if self.analytic is None else ", with analytic"
        return (f"measured on the {self.domain}, d={self.dim}, {self.n_points} points, method {self.method!r}, "
                f"degrees {int(self.degrees[0]) if len(self) else '-'}..{int(self.degrees[-1]) if len(self) else '-'}"
                f"{extra}")

    def metadata(self) -> dict:
        return {"domain": self.domain, "dim": int(self.dim), "n_points": int(self.n_points), "method": self.method,
                "off_block": None if math.isnan(self.off_block) else float(self.off_block)}

    def rows(self) -> list:
        """One dict per degree (the columns of ``to_dataframe``)."""
        d = self.to_dict()
        cols = [c for c in d if isinstance(d[c], list)]
        return [{("degree" if c == "degrees" else "multiplicity" if c == "multiplicities" else c): d[c][i]
                 for c in cols} for i in range(len(self))]

    def to_table(self) -> str:
        lines = [self.summary(), f"{'k':>4} {'mean':>14} {'analytic':>14} {'ratio':>9} {'spread':>11} {'multiplicity':>14}"]
        for r in self.rows():
            def f(key, spec):
                v = r.get(key)
                return "" if v is None else format(v, spec)
            lines.append(f"{r['degree']:>4} {f('mean', '.6e'):>14} {f('analytic', '.6e'):>14} {f('ratio', '.4f'):>9} "
                         f"{f('spread', '.3e'):>11} {f('multiplicity_float', '.6g'):>14}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready dict (lists, ints, floats; NaN written as None)."""
        mult, mult_f, _ = multiplicity_columns(self.multiplicities)
        out = self.metadata()
        out.update({"degrees": [int(k) for k in self.degrees], "mean": _nan_to_none(self.mean),
                    "multiplicities": mult, "multiplicity_float": mult_f, "spread": _nan_to_none(self.spread),
                    "diag_std": _nan_to_none(self.diag_std), "block_min": _nan_to_none(self.block_min),
                    "block_max": _nan_to_none(self.block_max)})
        if self.analytic is not None:
            out["analytic"] = _nan_to_none(self.analytic)
            out["ratio"] = _nan_to_none(self.ratio)
        return out

    @classmethod
    def _from_dict(cls, obj: dict) -> "DegreeSpectrum":
        def arr(key):
            return np.array([np.nan if v is None else v for v in obj[key]], dtype=float)

        mult = [int(m) for m in obj["multiplicities"]]
        mult = np.array(mult, dtype=object if max(mult, default=0) > np.iinfo(np.int64).max else np.int64)
        off = obj.get("off_block")
        return cls(obj["domain"], int(obj["dim"]), np.array(obj["degrees"], dtype=int), arr("mean"), mult,
                   int(obj["n_points"]), obj["method"], arr("spread"), arr("diag_std"), arr("block_min"),
                   arr("block_max"), math.nan if off is None else float(off),
                   arr("analytic") if "analytic" in obj else None)

    def plot(self, ax=None, label=None):
        """Measured eigenvalue per degree (log axis), with the analytic one dashed when present; returns the axes."""
        from .._plotting import plt_or_raise

        if ax is None:
            _, ax = plt_or_raise().subplots(figsize=(5, 3.5))
        pos = self.mean > 0
        ax.semilogy(self.degrees[pos], self.mean[pos], "o", ms=4, label=label or f"measured ({self.method})")
        if self.analytic is not None:
            a = np.asarray(self.analytic, dtype=float)
            ax.semilogy(self.degrees[a > 0], a[a > 0], "k--", lw=1, label="analytic")
        ax.set_xlabel("degree k")
        ax.set_ylabel("eigenvalue")
        ax.set_title(f"{self.domain}, d={self.dim}, n={self.n_points}", fontsize=9)
        ax.legend(fontsize=7)
        return ax


def sampled_spectrum(domain: str, dim: int, mean, multiplicities, n_points: int, method: str) -> DegreeSpectrum:
    """A :class:`DegreeSpectrum` of a U-statistic estimate: the block statistics are NaN."""
    mean = np.asarray(mean, dtype=float)
    nan = np.full(mean.shape, np.nan)
    return DegreeSpectrum(domain, int(dim), np.arange(mean.size), mean, np.asarray(multiplicities), int(n_points),
                          method, nan, nan.copy(), nan.copy(), nan.copy(), math.nan)


@dataclass(frozen=True)
class MatchedSpectrum:
    """Eigenvalues of ``K/n`` grouped by the analytic multiplicities.

    Attributes
    ----------
    analytic : ndarray, shape (g,)
        Analytic eigenvalues, in the order given.
    empirical_mean, empirical_min, empirical_max : ndarray, shape (g,)
        Mean / extremes of the empirical eigenvalues assigned to each analytic group.
    multiplicities : ndarray of int, shape (g,)
    """

    analytic: np.ndarray
    empirical_mean: np.ndarray
    empirical_min: np.ndarray
    empirical_max: np.ndarray
    multiplicities: np.ndarray


def matched_eigenvalues(K, eigenvalues, multiplicities) -> MatchedSpectrum:
    """Match the eigenvalues of ``K/n`` with an analytic spectrum, multiplicities respected.

    The analytic groups are sorted by decreasing eigenvalue and receive consecutive blocks of
    the decreasingly sorted empirical eigenvalues of ``K/n``, of the group's multiplicity.

    Parameters
    ----------
    K : array_like, shape (n, n)
        Symmetric Gram matrix.
    eigenvalues : array_like, shape (g,)
        Analytic operator eigenvalues (e.g. ``mu_k`` or ``lambda_k``).
    multiplicities : array_like of int, shape (g,)
        Their multiplicities; the total must be ``<= n``.

    Returns
    -------
    MatchedSpectrum

    Examples
    --------
    >>> K = np.diag([4.0, 2.0, 2.0, 0.0])
    >>> m = matched_eigenvalues(K, [0.5, 1.0], [2, 1])
    >>> m.empirical_mean.tolist()
    [0.5, 1.0]
    """
    K = check_finite_array(K, "K", ndim=2)
    n = K.shape[0]
    if K.shape[1] != n:
        raise ValueError(f"K must be square, got shape {K.shape}")
    lam = check_finite_array(eigenvalues, "eigenvalues", ndim=1)
    mult = np.asarray(multiplicities)
    if mult.shape != lam.shape or not np.issubdtype(mult.dtype, np.integer) or np.any(mult < 1):
        raise ValueError("multiplicities must be positive integers, one per eigenvalue")
    if mult.sum() > n:
        raise ValueError(f"the multiplicities sum to {int(mult.sum())} > n = {n}; pass fewer degrees")
    ev = np.linalg.eigvalsh(0.5 * (K + K.T) / n)[::-1]
    order = np.argsort(-lam, kind="stable")
    mean, lo, hi = np.zeros(lam.size), np.zeros(lam.size), np.zeros(lam.size)
    pos = 0
    for g in order:
        blk = ev[pos:pos + mult[g]]
        mean[g], lo[g], hi[g] = blk.mean(), blk.min(), blk.max()
        pos += mult[g]
    return MatchedSpectrum(lam.copy(), mean, lo, hi, mult.astype(np.int64))
