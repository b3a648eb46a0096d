"""The one matplotlib loader: Agg without a display, a clear error without matplotlib."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from spectra._plotting import plt_or_raise


def _run(code: str, **env_changes) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    env.update(env_changes)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes "import matplotlib" fail
    with pytest.raises(ImportError, match=r"nn-spectra\[plot\]"):
        plt_or_raise()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display detection by environment variables")
def test_agg_without_display_and_user_backend_respected():
    pytest.importorskip("matplotlib")
    code = "import matplotlib; from spectra._plotting import plt_or_raise; plt_or_raise(); print(matplotlib.get_backend())"
    assert _run(code).lower() == "agg"
    assert _run(code, MPLBACKEND="svg").lower() == "svg"


def test_importing_the_package_does_not_import_pyplot():
    code = ("import sys, spectra, spectra.analytic, spectra.empirical, spectra.reproductions; "
            "print('matplotlib.pyplot' in sys.modules)")
    assert _run(code) == "False"
