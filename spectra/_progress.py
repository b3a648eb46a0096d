"""The package's one progress report, on stderr (stdout stays for results).

:class:`Progress` counts work in units of *cost* (for instance ``width**2 * n**2`` per network),
so that its estimate of the time left weights each step by what it costs, not by how many
steps are left.  It draws a ``tqdm`` bar when tqdm is installed and stderr is a terminal, prints
plain lines otherwise (at most one every ``every`` seconds, plus the last), and prints nothing
when ``quiet``.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
import time

__all__ = ["Progress", "progress_bar", "heartbeat"]


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Cost-weighted progress of one job.

    Parameters
    ----------
    total : float
        Total cost of the job (any unit; ``update`` adds to it).
    desc : str
        Name shown before each report, e.g. ``"grid"``.
    quiet : bool, default False
        Print nothing.
    stream : file, default ``sys.stderr``
    every : float, default 2.0
        Plain lines: the least number of seconds between two lines.
    bar : bool or None
        Force (True) or refuse (False) the tqdm bar; None: a bar when tqdm is installed and
        ``stream`` is a terminal.
    piped : bool, default True
        Also print plain lines when ``stream`` is not a terminal (a log file); False reports
        only to a terminal.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with Progress(10, "demo", stream=out, every=0) as p:
    ...     p.update(4, "first")
    >>> print(out.getvalue().splitlines()[0].split(" (")[0])
    [demo]  40% first
    """

    def __init__(self, total: float, desc: str, *, quiet: bool = False, stream=None, every: float = 2.0,
                 bar: bool | None = None, piped: bool = True):
        self.total = float(total)
        self.desc = desc
        self.stream = sys.stderr if stream is None else stream
        self.quiet = bool(quiet) or (not piped and not _is_terminal(self.stream))
        self.every = float(every)
        self.done = 0.0
        self.t0 = time.perf_counter()
        self._last = -float("inf")
        self._first = None  # (elapsed, done) at the first update: later rates leave out the warm-up
        self._bar = None
        if not self.quiet and (bar or (bar is None and _is_terminal(self.stream))):
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                # a terminal that reports a size of 0 x 0 (a fresh pseudo-terminal) would get an empty bar
                cols, rows = shutil.get_terminal_size()
                try:
                    size = os.get_terminal_size(self.stream.fileno())
                    cols, rows = size.columns or cols, size.lines or rows
                except (AttributeError, OSError, ValueError):
                    pass
                self._bar = tqdm(total=self.total, desc=desc, file=self.stream, leave=True, ncols=min(cols, 120),
                                 nrows=max(rows, 2), mininterval=0.2,
                                 bar_format="{l_bar}{bar}| {elapsed} elapsed{postfix}")
        if not self.quiet and self._bar is None and _is_terminal(self.stream):
            self.line(f"started, {desc}")

    def eta(self) -> float:
        """Seconds left at the cost-weighted rate since the first step; NaN until a second step is done.

        The first step carries one-time costs (imports, compiling numba code, caches), so it
        does not enter the rate.
        """
        el = time.perf_counter() - self.t0
        left = max(self.total - self.done, 0.0)
        if left == 0:
            return 0.0
        if self._first is not None and self.done > self._first[1]:
            return (el - self._first[0]) / (self.done - self._first[1]) * left
        return float("nan")

    def line(self, msg: str) -> None:
        """One line on the stream, prefixed with ``[desc]`` (nothing when quiet)."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(f"[{self.desc}] {msg}", file=self.stream)
        else:
            self.stream.write(f"[{self.desc}] {msg}\n")
            self.stream.flush()

    def update(self, cost: float = 1.0, note: str = "") -> None:
        """Record ``cost`` units of finished work; ``note`` says what was done."""
        first = self.done == 0
        self.done += float(cost)
        if first:
            self._first = (time.perf_counter() - self.t0, self.done)
        if self.quiet:
            return
        if self._bar is not None:  # the time left is ours (cost-weighted, warm-up left out), not tqdm's
            self._bar.set_postfix_str(self.left_text() + (f"; {note}" if note else ""), refresh=False)
            self._bar.update(float(cost))
            return
        now = time.perf_counter()
        if now - self._last < self.every and self.done < self.total:
            return
        self._last = now
        el = now - self.t0
        pct = 100.0 * self.done / self.total if self.total > 0 else 100.0
        self.line(f"{pct:3.0f}%" + (f" {note}" if note else "") + f" ({el:.1f} s elapsed, {self.left_text()})")

    def left_text(self) -> str:
        """``~N s left``, or ``time left: after the next step`` while the rate is unknown."""
        left = self.eta()
        return "time left: after the next step" if left != left else f"~{left:.0f} s left"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def progress_bar(progress, total: float, desc: str, **kw) -> Progress:
    """A :class:`Progress` from a ``progress`` argument: True/False, or a Progress-like ``quiet`` flag.

    ``progress=False`` or None gives a silent one, so that callers never test it.
    """
    return Progress(total, desc, quiet=not progress, **kw)


@contextlib.contextmanager
def heartbeat(desc: str, *, quiet: bool = False, stream=None, after: float = 2.0, every: float = 1.0):
    """For a job whose size is unknown: after ``after`` seconds, the elapsed time on one refreshed line.

    Only on a terminal (a log file gets nothing), and nothing when ``quiet``; the line is
    finished with the total time when the job ends.

    Examples
    --------
    >>> with heartbeat("demo"):
    ...     pass
    """
    stream = sys.stderr if stream is None else stream
    if quiet or not _is_terminal(stream):
        yield
        return
    stop = threading.Event()
    t0 = time.perf_counter()
    shown = []

    def beat():
        if stop.wait(after):
            return
        while True:
            stream.write(f"\r[{desc}] computing, {time.perf_counter() - t0:.0f} s elapsed")
            stream.flush()
            shown.append(True)
            if stop.wait(every):
                return

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if shown:
            stream.write(f"\r[{desc}] done in {time.perf_counter() - t0:.1f} s\n")
            stream.flush()
