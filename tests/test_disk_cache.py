"""Issue #14: the sphere's first-call set-up (Gauss–Legendre rule, proven ellipse maxima) is kept in a
versioned cache folder.  A cached run returns the same balls, bit for bit, as a fresh one; a damaged,
foreign or unwritable cache only costs time."""
import json
import os
import stat

import numpy as np
import pytest

from spectra import _disk_cache
from spectra.analytic import _funk_hecke, _gl_certify, sphere_spectrum
from spectra.analytic.precision import arb_from_exact, arb_to_exact


def _fresh(monkeypatch, folder):
    monkeypatch.setenv("SPECTRA_CACHE_DIR", str(folder))
    _disk_cache._folder.cache_clear()
    _funk_hecke._gl_rule.cache_clear()
    _funk_hecke._basis.cache_clear()
    _gl_certify._ellipse_maxima.cache_clear()


def _run():
    s = sphere_spectrum(10, "relu", 2, 2.0, 0.0, "ntk", max_degree=40)
    return np.array([str(x) for x in s.exact]), np.asarray(s.rel_error_bound), np.asarray(s.certified)


def _files(folder):
    return sorted(p for p in folder.rglob("*.json"))


def test_cached_run_is_identical_to_a_fresh_one(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    first = _run()
    files = _files(tmp_path)
    assert {f.parent.name.split("-")[0] for f in files} == {"gl", "sphere"}  # both parts were stored
    _fresh(monkeypatch, tmp_path)  # a new process: only the folder remains
    second = _run()
    monkeypatch.setenv("SPECTRA_NO_DISK_CACHE", "1")
    _fresh(monkeypatch, tmp_path / "unused")
    third = _run()
    assert not (tmp_path / "unused").exists()
    for a, b, c in zip(first, second, third):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    assert first[2].all()  # certified, from the cache too


def test_damaged_or_foreign_entries_are_ignored(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    ref = _run()
    for i, f in enumerate(_files(tmp_path)):
        text = f.read_text()
        f.write_text(text[: len(text) // 2] if i % 2 else json.dumps({"format": "other", "key": "x", "value": 1}))
    _fresh(monkeypatch, tmp_path)
    again = _run()
    for a, b in zip(ref, again):
        assert np.array_equal(a, b)
    doc = json.loads(_files(tmp_path)[0].read_text())  # rewritten by the fresh computation
    assert doc["format"] == "spectra-cache"


def test_wrong_key_in_a_file_is_not_used(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    _disk_cache.store("t", ("analytic/precision.py",), "key-a", [1, 2])
    path = _disk_cache._path("t", ("analytic/precision.py",), "key-a")
    doc = json.loads(path.read_text())
    doc["key"] = "key-b"
    path.write_text(json.dumps(doc))
    assert _disk_cache.lookup("t", ("analytic/precision.py",), "key-a") is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_cache_folder_is_not_an_error(monkeypatch, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    _fresh(monkeypatch, ro)
    try:
        assert _run()[2].all()
    finally:
        ro.chmod(stat.S_IRWXU)


def test_cache_folder_that_is_a_file_is_not_an_error(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    _fresh(monkeypatch, blocker)
    assert _run()[2].all()


def test_arb_exact_record_round_trips():
    from flint import arb, ctx

    old = ctx.prec
    ctx.prec = 200
    try:
        for x in (arb(0), arb(1) / 3, arb.pi() * 1e-300, -arb(2) ** 5000 / 7, *arb.legendre_p_root(33, 4, weight=True)):
            y = arb_from_exact(json.loads(json.dumps(arb_to_exact(x))))
            assert y.mid() == x.mid()
            assert y.contains(x)  # the radius may round up by one unit of its 30-bit mantissa
            assert float(y.rad()) <= float(x.rad()) * (1 + 2 ** -28) + 0.0
    finally:
        ctx.prec = old
