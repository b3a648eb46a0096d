"""What every reproduction shares: its result type and its harness (progress log, figures).

``Claim`` and ``ReproductionResult`` are what :func:`run` of every reproduction returns.
:func:`log` writes progress to stderr; :func:`figure` draws, saves (atomically) and closes a
figure in one call, or logs why there is none when matplotlib is missing; :func:`figure_path`,
:func:`pyplot` and :func:`save_figure` are its parts for figures drawn by hand.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .._io import atomic_write
from .._plotting import plt_or_raise

__all__ = ["Claim", "ReproductionResult", "log", "figure", "figure_path", "pyplot", "save_figure"]


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
        Passed to ``matplotlib.pyplot.subplots`` (``nrows``, ``ncols``, ``figsize``, ...).

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
    fig, axes = plt.subplots(**subplots)
    try:
        draw(fig, axes)
        return save_figure(fig, figure_path(plot_path, name), dpi=dpi, tight=tight)
    finally:
        plt.close(fig)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, float) and not np.isfinite(x):
        return str(x)
    return x


@dataclass
class Claim:
    """One checked statement: its text, whether it held, and the numbers behind it."""

    claim: str
    passed: bool
    values: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"claim": self.claim, "passed": bool(self.passed), "values": _jsonable(self.values)}


@dataclass
class ReproductionResult:
    """Outcome of a reproduction: claims, the figure it drew, its settings and timing."""

    name: str
    claims: list
    settings: dict = field(default_factory=dict)
    figure: Any = None  # path of the written figure, or None
    seconds: float = float("nan")
    data: dict = field(default_factory=dict)  # curves behind the figure (for the JSON)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.claims)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "passed": self.passed,
            "claims": [c.to_dict() for c in self.claims],
            "settings": _jsonable(self.settings),
            "figure": None if self.figure is None else str(self.figure),
            "seconds": self.seconds,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def report(self) -> str:
        lines = [f"{self.name}: {'PASS' if self.passed else 'FAIL'} ({self.seconds:.1f} s)"]
        for c in self.claims:
            vals = ", ".join(f"{k}={_fmt(v)}" for k, v in c.values.items())
            lines.append(f"  [{'PASS' if c.passed else 'FAIL'}] {c.claim}" + (f"  ({vals})" if vals else ""))
        if self.figure is not None:
            lines.append(f"  figure: {self.figure}")
        return "\n".join(lines)


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    if isinstance(v, (list, tuple, np.ndarray)) and len(v) > 8:
        return f"[{len(v)} values]"
    if isinstance(v, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)
