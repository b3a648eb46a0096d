"""Issue #15, bounded cost: refusals before heavy allocation, --max-memory, --timeout, SIGTERM cleanup."""
import os
import signal
import subprocess
import sys
import time

import pytest

from spectra import _budget
from spectra.cli import main


def _spectra(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "spectra", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


def test_parse_size_and_limit(monkeypatch):
    assert _budget.parse_size("4G") == 4 * 2**30 and _budget.parse_size("512MiB") == 512 * 2**20
    for bad in ("", "abc", "-1G", "nan", "0"):
        with pytest.raises(ValueError, match="--max-memory"):
            _budget.parse_size(bad)
    monkeypatch.setenv(_budget.ENV_VAR, "3M")
    assert _budget.memory_limit() == 3 * 2**20
    monkeypatch.delenv(_budget.ENV_VAR)
    assert _budget.memory_limit() == _budget.physical_memory() // 2
    with pytest.raises(ValueError, match=r"x needs about an unbounded amount of memory"):
        _budget.check_memory(float("nan"), "x", limit=10)


def test_grid_too_large_is_refused_before_any_allocation(tmp_path):
    # the case: about 75 GB of arrays (depth 1000, 500 x 500 variances)
    t = time.perf_counter()
    p = _spectra("grid", "--dim", "8", "--max-depth", "1000", "--weight-var", "1:5:500", "--bias-var", "0:4:500",
                 "-o", str(tmp_path / "g.npz"))
    peak_kb = 0
    while p.poll() is None:  # the child's own high-water mark (ru_maxrss would carry pytest's over the fork)
        try:
            with open(f"/proc/{p.pid}/status") as fh:
                peak_kb = max(peak_kb, int(next(x for x in fh if x.startswith("VmHWM:")).split()[1]))
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.02)
    out, err = p.communicate(timeout=60)
    took = time.perf_counter() - t
    assert p.returncode == 2 and took < 10, (took, err)
    assert err.startswith("spectra: error: the grid (1001 depths x 500 x 500 variances x 9 degrees) needs about")
    assert "GiB of memory, above the limit" in err and "\n" not in err.strip()
    assert peak_kb < 400 * 1024  # nothing heavy was allocated (75 GB were asked for)
    assert os.listdir(tmp_path) == []


def test_max_memory_option_anywhere_on_the_command_line(tmp_path, capsys):
    out = str(tmp_path / "g.npz")
    assert main(["grid", "--dim", "8", "--max-depth", "3", "-o", out, "--max-memory", "1K"]) == 2
    assert "above the limit of 1.0 KiB" in capsys.readouterr().err
    assert main(["--max-memory=64M", "grid", "--dim", "8", "--max-depth", "3", "-o", out, "--quiet"]) == 0
    assert os.path.isfile(out)
    assert _budget.memory_limit() == (int(os.environ[_budget.ENV_VAR]) if os.environ.get(_budget.ENV_VAR)
                                      else _budget.physical_memory() // 2)  # reset after the command
    for bad in (["--max-memory", "lots"], ["--timeout", "-3"], ["--timeout", "soon"], ["--timeout"]):
        assert main(["eigen", "--dim", "4"] + bad) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("spectra: error: --") and "\n" not in err


def test_timeout_stops_a_long_command():
    t = time.perf_counter()
    p = _spectra("eigen", "--dim", "6000", "--quiet", "--timeout", "1")  # certified cube: minutes
    out, err = p.communicate(timeout=120)
    took = time.perf_counter() - t
    assert p.returncode == 2 and "time limit of 1 s (--timeout)" in err, err
    assert took < 15, took  # interpreter start-up plus at most one compiled step past the deadline


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
def test_sigterm_leaves_no_temporary_file(tmp_path, delay):
    out = tmp_path / "g.npz"
    p = _spectra("grid", "--dim", "128", "--activation", "erf", "--max-depth", "128", "--weight-var", "1:5:41",
                 "--bias-var", "0:4:41", "--max-degree", "8", "-o", str(out), "--quiet")
    time.sleep(delay)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    # stopped (143), already finished (0) or still starting the interpreter (killed by SIGTERM's
    # default action before the handler is installed, when nothing can have been written); in every
    # case no half-written or temporary file remains
    assert p.returncode in (0, 143, -signal.SIGTERM), (p.returncode, err)
    if p.returncode == 143:
        assert err.strip().endswith("spectra: terminated") and not out.exists()
    assert [f for f in os.listdir(tmp_path) if f != "g.npz"] == []
