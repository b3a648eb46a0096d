"""The one atomic write: permissions follow the umask, failures leave nothing behind."""
from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from spectra._io import atomic_write


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_mode_follows_umask(tmp_path, umask, mask, expected):
    umask(mask)
    p = atomic_write(tmp_path / "out.txt", lambda fh: fh.write("x"))
    assert _mode(p) == expected
    # the same mode when an existing file is replaced
    atomic_write(p, lambda fh: fh.write("y"))
    assert _mode(p) == expected


def test_text_and_binary_content(tmp_path):
    p = atomic_write(tmp_path / "a.txt", lambda fh: fh.write("héllo\n"))
    assert open(p, encoding="utf-8").read() == "héllo\n"
    q = atomic_write(tmp_path / "a.npz", lambda fh: np.savez(fh, x=np.arange(3)), binary=True)
    assert np.array_equal(np.load(q)["x"], np.arange(3))
    assert isinstance(p, str) and sorted(os.listdir(tmp_path)) == ["a.npz", "a.txt"]


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failed_write_leaves_original_and_no_temp(tmp_path, exc):
    p = tmp_path / "keep.txt"
    p.write_text("original")

    def writer(fh):
        fh.write("partial content")
        raise exc

    with pytest.raises(type(exc)):
        atomic_write(p, writer)
    assert p.read_text() == "original"
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_failed_first_write_creates_nothing(tmp_path):
    with pytest.raises(ValueError):
        atomic_write(tmp_path / "new.bin", lambda fh: (_ for _ in ()).throw(ValueError("bad")), binary=True)
    assert os.listdir(tmp_path) == []


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="writer"):
        atomic_write(tmp_path / "x", "not callable")
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing" / "x", lambda fh: fh.write("x"))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_result_files_are_0644_under_umask_022(tmp_path, umask):
    """End to end: a saved cube grid is readable by collaborators (it was 0600 with mkstemp)."""
    from spectra.analytic import cube_spectrum_grid

    umask(0o022)
    grid = tmp_path / "grid.npz"
    cube_spectrum_grid(8, "erf", 1, [1.0], [0.0], max_degree=2).save(grid)
    assert _mode(grid) == 0o644 and os.listdir(tmp_path) == ["grid.npz"]
