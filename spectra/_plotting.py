"""The package's one matplotlib loader (matplotlib is the optional ``plot`` extra).

Every figure in ``spectra`` gets ``pyplot`` from :func:`plt_or_raise`, the only place that
imports ``matplotlib.pyplot``: importing ``spectra`` never pulls in matplotlib, and a missing
installation gives one clear message naming the extra to install.
"""
from __future__ import annotations

import os
import sys

__all__ = ["plt_or_raise"]

_MISSING = "plotting needs matplotlib: pip install 'nn-spectra[plot]' (or pip install matplotlib)"


def plt_or_raise():
    """Return ``matplotlib.pyplot``, choosing the Agg backend when there is no display.

    Returns
    -------
    module
        ``matplotlib.pyplot``.

    Raises
    ------
    ImportError
        If matplotlib is not installed; the message names the ``plot`` extra.

    Notes
    -----
    The backend is left alone when pyplot is already imported or ``MPLBACKEND`` is set (a
    notebook's inline backend, a user's choice).  Otherwise, without a display (no
    ``DISPLAY``/``WAYLAND_DISPLAY`` on Linux, e.g. on a cluster node), Agg is selected so
    that writing figures never tries to open a window.

    Examples
    --------
    >>> plt = plt_or_raise()
    >>> fig, ax = plt.subplots()
    >>> plt.close(fig)
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError(_MISSING) from None
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND") and not _has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
