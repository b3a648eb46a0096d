"""Lazy access to matplotlib (an optional extra: ``pip install nn-spectra[plot]``)."""
from __future__ import annotations

__all__ = ["plt_or_raise"]


def plt_or_raise():
    """Return ``matplotlib.pyplot`` with the non-interactive Agg backend, or raise a clear error."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'nn-spectra[plot]'") from None
    return plt
