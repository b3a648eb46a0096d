"""The :class:`LearningCurve` result: a predicted learning curve as a table, a data frame, a file, a plot.

One row per sample size ``n``.  Quantities per degree ``k`` are columns ``learnability_k`` (one per
degree of the spectrum) and, in the metadata, ``half_learned_n_k`` / ``log10_half_learned_n_k``.
That keeps the JSON one flat table (equal-length lists plus scalars) that ``pandas.read_json``
loads with numeric dtypes, as every other spectra table does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from .._results import ResultMixin

__all__ = ["LearningCurve", "format_target_power", "parse_target_power_text"]

_PER_N = ("kappa", "kappa_lower", "log10_kappa", "test_mse", "test_mse_noisy", "train_mse", "overfitting")


def format_target_power(target: dict) -> str:
    """``{1: 0.5, 3: 0.5}`` -> ``"1:0.5,3:0.5"`` (the CLI's ``--target-power`` grammar).

    Examples
    --------
    >>> format_target_power({3: 0.5, 1: 0.25})
    '1:0.25,3:0.5'
    """
    return ",".join(f"{int(k)}:{float(target[k])!r}" for k in sorted(target))


def parse_target_power_text(text: str) -> dict:
    """Inverse of :func:`format_target_power` (ValueError on anything else).

    Examples
    --------
    >>> parse_target_power_text("1:0.25,3:0.5")
    {1: 0.25, 3: 0.5}
    """
    out = {}
    for item in filter(None, str(text).split(",")):
        k, _, p = item.partition(":")
        try:
            out[int(k)] = float(p)
        except ValueError:
            raise ValueError(f"target_power: items are DEGREE:POWER, got {item!r}") from None
    return out


@dataclass(frozen=True, repr=False)
class LearningCurve(ResultMixin):
    """Predicted learning curve of kernel ridge regression (see :func:`spectra.analytic.learning_curve`).

    Attributes (``T`` sample sizes, ``m`` degrees)
    ----------------------------------------------
    n : ndarray (T,)
        Sample sizes.
    degrees : ndarray of int (m,)
    kappa, kappa_lower : ndarray (T,)
        Effective regularization with the missing mass counted as ridge / dropped.
    log10_kappa : ndarray (T,)
        ``log10 kappa`` (``kappa`` itself may underflow at ridge 0).
    learnability : ndarray (T, m)
        ``L_k = mu_k / (mu_k + kappa)`` (0 for a zero eigenvalue).
    overfitting : ndarray (T,)
        ``E_0``.
    test_mse, test_mse_noisy, train_mse : ndarray (T,)
    half_learned_n : ndarray (m,)
        ``n`` at which ``kappa = mu_k``; ``inf`` for a zero eigenvalue or beyond float64.
    log10_half_learned_n : ndarray (m,)
    target_power : dict {degree: p_k}
    noise, ridge : float
        ``sigma^2`` and ``delta``.
    truncation_bound : float
        Mass ``M = Phi(1) - sum_k N_k mu_k`` of the degrees not in the spectrum (0 when complete).
    spectrum_info : dict
        Domain, dimension and kernel hyperparameters of the spectrum.
    measured_test_mse, measured_se : ndarray (T,) or None
        Kernel regression on sampled data (:meth:`with_measurement`); NaN where not measured.

    Files and tables
    ----------------
    ``to_json``/``save`` write one row per ``n`` as equal-length lists: ``n``, ``kappa``,
    ``kappa_lower``, ``log10_kappa``, ``test_mse``, ``test_mse_noisy``, ``train_mse``,
    ``overfitting``, ``measured_test_mse``/``measured_se`` (with a measurement) and
    ``learnability_k`` for every degree ``k``.  Scalars beside them: the spectrum's parameters,
    ``noise``, ``ridge``, ``truncation_bound``, ``target_power`` (``"1:0.5,3:0.5"``) and, per
    degree, ``half_learned_n_k`` (null beyond float64 or for a zero eigenvalue) and
    ``log10_half_learned_n_k`` (null for a zero eigenvalue).  ``pandas.read_json`` reads it as a
    data frame, the scalars repeated on every row.
    """

    FORMAT = "spectra.learning_curve"
    VERSION = 1

    n: np.ndarray
    degrees: np.ndarray
    kappa: np.ndarray
    kappa_lower: np.ndarray
    log10_kappa: np.ndarray
    learnability: np.ndarray
    overfitting: np.ndarray
    test_mse: np.ndarray
    test_mse_noisy: np.ndarray
    train_mse: np.ndarray
    half_learned_n: np.ndarray
    log10_half_learned_n: np.ndarray
    target_power: dict
    noise: float
    ridge: float
    truncation_bound: float
    spectrum_info: dict = field(default_factory=dict)
    measured_test_mse: np.ndarray | None = None
    measured_se: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.n)

    def with_measurement(self, mean, se) -> "LearningCurve":
        """A copy holding measured test errors ``mean`` and standard errors ``se`` (arrays (T,), NaN = not run)."""
        mean = np.asarray(mean, dtype=float).reshape(-1)
        se = np.asarray(se, dtype=float).reshape(-1)
        if mean.shape != self.n.shape or se.shape != self.n.shape:
            raise ValueError(f"mean and se must have one value per n ({len(self.n)}), got {mean.size} and {se.size}")
        return replace(self, measured_test_mse=mean, measured_se=se)

    # ------------------------------------------------------------------ ResultMixin
    def _target_columns(self) -> list:
        return [(k, int(np.flatnonzero(self.degrees == k)[0])) for k in sorted(self.target_power)
                if np.any(self.degrees == k)]

    def summary(self) -> str:
        s = self.spectrum_info
        ns = (f"n={_num(self.n[0])}" if len(self.n) == 1
              else f"{len(self.n)} sample sizes {_num(self.n[0])}..{_num(self.n[-1])}")
        return (f"{s.get('kernel', '?')} {s.get('activation', '?')} L={s.get('depth', '?')} on "
                f"{s.get('domain', '?')} d={s.get('dim', '?')}, {ns}, noise={self.noise:g}, ridge={self.ridge:g}, "
                f"test_mse={_num(self.test_mse[-1])} at the largest n")

    def __repr__(self) -> str:
        return f"LearningCurve({self.summary()})"

    def _row(self, i: int, columns) -> dict:
        r = {"n": _int_or_float(self.n[i])}
        for key in _PER_N:
            r[key] = float(getattr(self, key)[i])
        if self.measured_test_mse is not None:
            r["measured_test_mse"] = float(self.measured_test_mse[i])
            r["measured_se"] = float(self.measured_se[i])
        for k, j in columns:
            r[f"learnability_{k}"] = float(self.learnability[i, j])
        return r

    def rows(self) -> list:
        cols = self._target_columns()
        return [self._row(i, cols) for i in range(len(self.n))]

    def all_rows(self) -> list:
        cols = [(int(k), j) for j, k in enumerate(self.degrees)]
        return [self._row(i, cols) for i in range(len(self.n))]

    SHOWN = None

    def _shown(self, rows) -> list:
        keep = ("n", "kappa", "test_mse", "test_mse_noisy", "train_mse")
        return [c for c in (rows[0] if rows else []) if c in keep or c.startswith("learnability_")][:8]

    def metadata(self) -> dict:
        out = dict(self.spectrum_info)
        out.update(target_power=format_target_power(self.target_power), noise=float(self.noise),
                   ridge=float(self.ridge), truncation_bound=float(self.truncation_bound))
        return out

    def to_dict(self) -> dict:
        """JSON-ready flat table: metadata scalars, one list per column (one value per ``n``)."""
        out = self.metadata()
        rows = self.all_rows()
        for c in rows[0]:
            out[c] = [r[c] for r in rows]
        for k, h, lh in zip(self.degrees, self.half_learned_n, self.log10_half_learned_n):
            out[f"half_learned_n_{int(k)}"] = float(h)
            out[f"log10_half_learned_n_{int(k)}"] = float(lh)
        return out

    @classmethod
    def _from_dict(cls, obj: dict) -> "LearningCurve":
        degrees = sorted(int(key[len("learnability_"):]) for key in obj if key.startswith("learnability_"))
        arr = lambda key: np.array([math.nan if v is None else v for v in obj[key]], dtype=float)  # noqa: E731
        scal = lambda key: math.inf if obj.get(key) is None else float(obj[key])  # noqa: E731
        try:
            info_keys = [k for k in obj if k not in _NOT_INFO and not k.startswith(_PER_DEGREE)]
            learn = np.stack([arr(f"learnability_{k}") for k in degrees], axis=1)
            per_n = {key: arr(key) for key in _PER_N}
            measured = ({"measured_test_mse": arr("measured_test_mse"), "measured_se": arr("measured_se")}
                        if "measured_test_mse" in obj else {})
            return cls(n=arr("n"), degrees=np.array(degrees, dtype=int), learnability=learn,
                       half_learned_n=np.array([scal(f"half_learned_n_{k}") for k in degrees]),
                       log10_half_learned_n=np.array([scal(f"log10_half_learned_n_{k}") for k in degrees]),
                       target_power=parse_target_power_text(obj["target_power"]), noise=float(obj["noise"]),
                       ridge=float(obj["ridge"]), truncation_bound=float(obj["truncation_bound"]),
                       spectrum_info={k: obj[k] for k in info_keys}, **per_n, **measured)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a complete spectra learning-curve file ({type(exc).__name__}: {exc})") from None

    def to_table(self) -> str:
        s = self.spectrum_info
        cols = self._target_columns()
        meas = self.measured_test_mse is not None
        lines = [f"learning curve: {str(s.get('kernel', '')).upper()} {s.get('activation')} depth={s.get('depth')} "
                 f"weight_var={s.get('weight_var')} bias_var={s.get('bias_var')} on the {s.get('domain')} "
                 f"d={s.get('dim')}",
                 f"target power {', '.join(f'{k}:{self.target_power[k]:g}' for k, _ in cols)}; noise={self.noise:g}; "
                 f"ridge={self.ridge:g}; truncation bound (missing trace mass) = {self.truncation_bound:.3g}"]
        head = f"{'n':>14} {'kappa':>11} {'test_mse':>11} {'noisy':>11} {'train_mse':>11} {'E0':>9}"
        if meas:
            head += f" {'measured':>11} {'+-se':>9}"
        lines.append(head + "".join(f" {'L_' + str(k):>8}" for k, _ in cols))
        for i, n in enumerate(self.n):
            kap = f"{self.kappa[i]:11.4e}" if self.kappa[i] > 0 else f"{'1e%.1f' % self.log10_kappa[i]:>11}"
            row = (f"{_int_or_float(n):>14} {kap} {self.test_mse[i]:11.4e} {self.test_mse_noisy[i]:11.4e} "
                   f"{self.train_mse[i]:11.4e} {self.overfitting[i]:9.4g}")
            if meas:
                m, e = self.measured_test_mse[i], self.measured_se[i]
                row += f" {m:11.4e} {e:9.2e}" if np.isfinite(m) else f" {'-':>11} {'-':>9}"
            lines.append(row + "".join(f" {self.learnability[i, j]:8.4f}" for _, j in cols))
        halves = ", ".join(f"k={k}: " + _half_text(self.half_learned_n[j], self.log10_half_learned_n[j])
                           for k, j in cols)
        lines.append(f"half-learned n (kappa = mu_k): {halves}")
        return "\n".join(lines)

    def plot(self, ax=None):
        """Test error against ``n`` on log axes, the half-learned ``n`` of each target degree marked.

        Returns the matplotlib axes (a new figure when ``ax`` is None).
        """
        from .._plotting import plt_or_raise

        if ax is None:
            _, ax = plt_or_raise().subplots(figsize=(6.4, 4.2))
        ax.loglog(self.n, self.test_mse, "-", lw=1.8, label="theory: test_mse")
        if len(self.n) <= 40:
            ax.plot(self.n, self.test_mse, ".", color="C0", ms=4)
        if self.measured_test_mse is not None:
            ok = np.isfinite(self.measured_test_mse)
            ax.errorbar(self.n[ok], self.measured_test_mse[ok], yerr=self.measured_se[ok], fmt="o", ms=3, capsize=2,
                        label="kernel regression (mean +- s.e.)")
        for k, j in self._target_columns():
            h = self.half_learned_n[j]
            if np.isfinite(h) and self.n[0] <= h <= self.n[-1]:
                ax.axvline(h, color="gray", ls=":", lw=1)
                ax.text(h, ax.get_ylim()[1], f" k={k}", rotation=90, va="top", ha="right", fontsize=8, color="gray")
        s = self.spectrum_info
        ax.set_xlabel("number of samples n")
        ax.set_ylabel(r"test error $E_x(\hat f - f^*)^2$")
        ax.set_title(f"{str(s.get('kernel', '')).upper()} {s.get('activation')} L={s.get('depth')} on the "
                     f"{s.get('domain')} d={s.get('dim')}; noise={self.noise:g}, ridge={self.ridge:g}", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        return ax


_NOT_INFO = {"format", "version", "n", "target_power", "noise", "ridge", "truncation_bound", "measured_test_mse",
             "measured_se", *_PER_N}
_PER_DEGREE = ("learnability_", "half_learned_n_", "log10_half_learned_n_")


def _num(x) -> str:
    return f"{float(x):.4g}"


def _int_or_float(x):
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _half_text(h, lh) -> str:
    if np.isfinite(h):
        return f"{h:.4g}"
    return f"1e{lh:.2f}" if np.isfinite(lh) else "never (mu_k = 0)"
