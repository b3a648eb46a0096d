"""What every reproduction shares: its result type and its harness (progress log, figures).

``Claim`` and ``ReproductionResult`` are what :func:`run` of every reproduction returns.
:func:`log` writes progress to stderr; :func:`figure` draws, saves (atomically) and closes a
figure in one call, or logs why there is none when matplotlib is missing; :func:`figure_path`,
:func:`pyplot` and :func:`save_figure` are its parts for figures drawn by hand.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from .._io import atomic_write
from .._plotting import plt_or_raise
from .._results import ResultMixin, jsonable

__all__ = ["Claim", "ReproductionResult", "log", "figure", "figure_path", "pyplot", "save_figure", "cache_dir"]


def cache_dir() -> Path:
    """Where ``spectra reproduce`` puts figures when no ``--plot`` is given.

    ``$SPECTRA_CACHE_DIR/figures`` if set, else ``$XDG_CACHE_HOME/spectra/figures``, else
    ``~/.cache/spectra/figures`` (never the working folder, so a run inside a repository leaves
    its files alone).

    Examples
    --------
    >>> cache_dir().name
    'figures'
    """
    from .._disk_cache import cache_root

    return cache_root() / "figures"


def log(progress: bool, msg: str) -> None:
    """Print ``msg`` on stderr (flushed) when ``progress`` is true; stdout stays for results.

    Examples
    --------
    >>> log(False, "not shown")
    """
    if progress:
        print(msg, file=sys.stderr, flush=True)


def figure_path(plot_path, name: str) -> Path:
    """The figure file: ``plot_path``, or ``figures/<name>.png`` if it is None; its folder is created.

    Examples
    --------
    >>> import os, tempfile
    >>> p = figure_path(os.path.join(tempfile.mkdtemp(), "sub", "f.png"), "spike")
    >>> p.name, p.parent.is_dir()
    ('f.png', True)
    """
    p = Path(plot_path) if plot_path is not None else Path("figures") / f"{name}.png"
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def pyplot():
    """``matplotlib.pyplot`` from the package's one loader (ImportError naming the ``plot`` extra)."""
    return plt_or_raise()


def save_figure(fig, path, *, dpi: int = 110, tight: bool = True) -> Path:
    """Write ``fig`` atomically (a reader never sees half a file); return the path.

    Parameters
    ----------
    fig : matplotlib Figure
    path : str or os.PathLike
        Target file; its folder must exist (see :func:`figure_path`).  The format follows the
        suffix when matplotlib knows it (``.png``, ``.pdf``, ``.svg``, ...), else PNG.
    dpi : int, default 110
    tight : bool, default True
        ``bbox_inches="tight"`` (crop to the drawn content).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import os, tempfile
    >>> plt = pyplot()
    >>> fig, ax = plt.subplots()
    >>> p = save_figure(fig, os.path.join(tempfile.mkdtemp(), "f.png"))
    >>> plt.close(fig)
    >>> p.read_bytes()[:4]
    b'\x89PNG'
    """
    path = Path(path)
    fmt = path.suffix[1:].lower()
    if fmt not in fig.canvas.get_supported_filetypes():
        fmt = "png"
    extra = {"bbox_inches": "tight"} if tight else {}
    atomic_write(path, lambda fh: fig.savefig(fh, dpi=dpi, format=fmt, **extra), binary=True)
    return path


def figure(name: str, plot_path, draw: Callable, *, progress: bool = True, dpi: int = 110,
           tight: bool = True, **subplots) -> Path | None:
    """Draw, save and close one figure; None (logged) when matplotlib is not installed.

    Parameters
    ----------
    name : str
        The reproduction's name: the default file ``figures/<name>.png`` and the log prefix.
    plot_path : str, os.PathLike or None
        Target file (None: the default).
    draw : callable
        ``draw(fig, axes)`` fills the axes made by ``plt.subplots(**subplots)``.
    progress : bool, default True
        Log on stderr when no figure can be drawn.
    dpi, tight
        As in :func:`save_figure`.
    **subplots
        Passed to ``matplotlib.pyplot.subplots`` (``nrows``, ``ncols``, ``figsize``, ...); with
        ``tight`` the layout defaults to ``"constrained"``.  Lines take 20 distinct colours
        (matplotlib's ten, then ten more) before any repeats.

    Returns
    -------
    pathlib.Path or None
        The written file, or None without matplotlib.

    Examples
    --------
    >>> import os, tempfile
    >>> out = os.path.join(tempfile.mkdtemp(), "demo.png")
    >>> p = figure("demo", out, lambda fig, ax: ax.plot([0, 1], [1, 0]), figsize=(3, 2))
    >>> p.is_file()
    True
    """
    try:
        plt = plt_or_raise()
    except ImportError as exc:
        log(progress, f"[{name}] no figure: {exc}")
        return None
    if tight:  # labels of neighbouring panels never overlap (tight=False figures lay themselves out)
        subplots.setdefault("layout", "constrained")
    with plt.rc_context({"axes.prop_cycle": plt.cycler(color=_COLOURS)}):
        fig, axes = plt.subplots(**subplots)
        try:
            draw(fig, axes)
            return save_figure(fig, figure_path(plot_path, name), dpi=dpi, tight=tight)
        finally:
            plt.close(fig)


# matplotlib's ten default colours, then ten more, so that up to 20 lines stay distinguishable
_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
            "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354",
            "#756bb1", "#636363"]


@dataclass
class Claim:
    """One checked statement: its text, whether it held, and the numbers behind it."""

    claim: str
    passed: bool
    values: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"claim": self.claim, "passed": bool(self.passed), "values": jsonable(self.values)}


@dataclass(repr=False)
class ReproductionResult(ResultMixin):
    """Outcome of a reproduction: claims, the figure it drew, its settings and timing.

    ``to_json``/``save`` write ``format`` (``"spectra.reproduction"``), ``version``, ``name``,
    ``passed``, ``claims`` (a list of ``{claim, passed, values}``, which
    ``pandas.json_normalize(obj["claims"])`` turns into one row per claim), ``settings``,
    ``figure`` and ``seconds``; NaN and infinities are written as null.
    """

    name: str
    claims: list
    settings: dict = field(default_factory=dict)
    figure: Any = None  # path of the written figure, or None
    seconds: float = float("nan")
    data: dict = field(default_factory=dict)  # curves behind the figure (for the JSON)

    FORMAT: ClassVar[str] = "spectra.reproduction"
    SHOWN: ClassVar[tuple] = ("passed", "claim")

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.claims)

    def summary(self) -> str:
        n = sum(bool(c.passed) for c in self.claims)
        return f"{self.name}: {'PASS' if self.passed else 'FAIL'}, {n}/{len(self.claims)} claims hold ({self.seconds:.1f} s)"

    def metadata(self) -> dict:
        out = {"name": self.name, "passed": self.passed, "seconds": self.seconds,
               "figure": None if self.figure is None else str(self.figure)}
        out.update({f"settings.{k}": v for k, v in self.settings.items()})
        return out

    def rows(self) -> list:
        """One row per claim: its text, whether it held, and its values (``values.KEY``)."""
        return [{"claim": c.claim, "passed": bool(c.passed), **{f"values.{k}": v for k, v in c.to_dict()["values"].items()}}
                for c in self.claims]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "passed": self.passed,
            "claims": [c.to_dict() for c in self.claims],
            "settings": jsonable(self.settings),
            "figure": None if self.figure is None else str(self.figure),
            "seconds": jsonable(self.seconds),
        }

    @classmethod
    def _from_dict(cls, obj: dict) -> "ReproductionResult":
        claims = [Claim(c["claim"], bool(c["passed"]), dict(c.get("values", {}))) for c in obj["claims"]]
        fig = obj.get("figure")
        secs = obj.get("seconds")
        return cls(obj["name"], claims, dict(obj.get("settings", {})), None if fig is None else Path(fig),
                   float("nan") if secs is None else float(secs))

    def to_table(self) -> str:
        return self.report()

    def report(self) -> str:
        lines = [f"{self.name}: {'PASS' if self.passed else 'FAIL'} ({self.seconds:.1f} s)"]
        for c in self.claims:
            vals = ", ".join(f"{k}={_fmt(v)}" for k, v in c.values.items())
            lines.append(f"  [{'PASS' if c.passed else 'FAIL'}] {c.claim}" + (f"  ({vals})" if vals else ""))
        if self.figure is not None:
            lines.append(f"  figure: {self.figure}")
        return "\n".join(lines)

    def plot(self, ax=None):
        """The claims as a pass/fail chart (green: holds, red: fails); returns the axes."""
        if ax is None:
            _, ax = plt_or_raise().subplots(figsize=(7, 0.45 * len(self.claims) + 1))
        y = np.arange(len(self.claims))[::-1]
        ax.barh(y, [1] * len(self.claims), color=["tab:green" if c.passed else "tab:red" for c in self.claims])
        ax.set_yticks(y)
        ax.set_yticklabels([c.claim if len(c.claim) <= 70 else c.claim[:67] + "..." for c in self.claims], fontsize=7)
        ax.set_xticks([])
        ax.set_title(self.summary(), fontsize=9)
        return ax


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    if isinstance(v, (list, tuple, np.ndarray)) and len(v) > 8:
        return f"[{len(v)} values]"
    if isinstance(v, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)
