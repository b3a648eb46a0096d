"""The reproduction harness: progress log, atomic figures, graceful absence of matplotlib."""
from __future__ import annotations

import os
import stat
import sys

import pytest

from spectra.reproductions.common import figure, figure_path, log, pyplot, save_figure

pytest.importorskip("matplotlib")


def test_log_goes_to_stderr_only_with_progress(capsys):
    log(True, "shown")
    log(False, "hidden")
    out, err = capsys.readouterr()
    assert out == "" and err == "shown\n"


def test_figure_path_default_and_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert figure_path(None, "spike") == figure_path(None, "spike") and (tmp_path / "figures").is_dir()
    assert str(figure_path(None, "spike")) == os.path.join("figures", "spike.png")
    p = figure_path(tmp_path / "a" / "b" / "x.png", "spike")
    assert p.parent.is_dir() and p.name == "x.png"


def test_save_figure_format_follows_suffix_and_umask(tmp_path):
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    old = os.umask(0o022)
    try:
        png = save_figure(fig, tmp_path / "f.png")
        pdf = save_figure(fig, tmp_path / "f.pdf", tight=False)
        odd = save_figure(fig, tmp_path / "f.unknown")
    finally:
        os.umask(old)
        plt.close(fig)
    assert png.read_bytes()[:4] == b"\x89PNG" and odd.read_bytes()[:4] == b"\x89PNG"
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert stat.S_IMODE(os.stat(png).st_mode) == 0o644
    assert sorted(os.listdir(tmp_path)) == ["f.pdf", "f.png", "f.unknown"]


def test_figure_draws_saves_and_closes(tmp_path):
    plt = pyplot()
    before = set(plt.get_fignums())
    seen = {}

    def draw(fig, axes):
        seen["n_axes"] = len(axes)
        for ax in axes:
            ax.plot([0, 1], [1, 0])

    p = figure("demo", tmp_path / "demo.png", draw, ncols=2, figsize=(4, 2))
    assert p == tmp_path / "demo.png" and p.read_bytes()[:4] == b"\x89PNG"
    assert seen["n_axes"] == 2 and set(plt.get_fignums()) == before


def test_figure_failing_draw_closes_and_writes_nothing(tmp_path):
    plt = pyplot()
    before = set(plt.get_fignums())

    def draw(fig, ax):
        raise RuntimeError("bad data")

    with pytest.raises(RuntimeError):
        figure("demo", tmp_path / "demo.png", draw)
    assert set(plt.get_fignums()) == before and os.listdir(tmp_path) == []


def test_figure_without_matplotlib_logs_and_returns_none(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert figure("demo", tmp_path / "demo.png", lambda fig, ax: None) is None
    err = capsys.readouterr().err
    assert "[demo] no figure:" in err and "nn-spectra[plot]" in err
    assert os.listdir(tmp_path) == []
