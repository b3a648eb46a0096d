"""Sweeps: expansion, interruption and resumption on a dask LocalCluster and local processes."""
import json
import os

import numpy as np
import pytest

from spectra.empirical.sweep import execute_run, expand_config, load_config, run_sweep
from spectra.empirical.training import TrainingRun


def _config(tmp_path, **over):
    cfg = {
        "name": "tiny",
        "output_dir": str(tmp_path / "runs"),
        "base": {"data": {"domain": "cube", "dim": 3, "target": {"kind": "walsh", "subset": [0, 1]}},
                 "net": {"width": 8, "depth": 1},
                 "train": {"n_steps": 20, "lr": 0.5, "record": ["loss"], "n_records": 5}},
        "grid": {"net.width": [8, 16], "train.lr": [0.2, 0.5]},
        "seeds": [0, 1],
    }
    cfg.update(over)
    return cfg


def _mtimes(d):
    return {f: os.stat(os.path.join(d, f)).st_mtime_ns for f in os.listdir(d) if f.endswith(".npz")}


def test_expand_and_config_files(tmp_path):
    cfg = _config(tmp_path)
    runs = expand_config(cfg)
    assert len(runs) == 8 and len({r["run_id"] for r in runs}) == 8
    assert {(r["net"]["width"], r["train"]["lr"], r["seed"]) for r in runs} == {
        (w, lr, s) for w in (8, 16) for lr in (0.2, 0.5) for s in (0, 1)}
    p = tmp_path / "c.json"
    p.write_text(json.dumps({k: v for k, v in cfg.items() if k != "output_dir"}))
    assert load_config(p)["output_dir"] == str(tmp_path / "c_runs")
    t = tmp_path / "c.toml"
    t.write_text('seeds = 2\n[base.train]\nn_steps = 5\nlr = 0.1\n[grid]\n"net.width" = [4, 8]\n')
    assert len(expand_config(load_config(t))) == 4
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a valid JSON"):
        load_config(bad)
    with pytest.raises(ValueError, match="unknown keys"):
        expand_config({"bogus": 1})
    with pytest.raises(ValueError, match="must start with"):
        expand_config({"grid": {"width": [1, 2]}})


def test_execute_run_writes_loadable_run(tmp_path):
    r = expand_config(_config(tmp_path))[0]
    out = execute_run(r, str(tmp_path / "one.npz"))
    run = TrainingRun.load(tmp_path / "one.npz")
    assert run.config["sweep"]["run_id"] == r["run_id"] == out["run_id"]
    assert run.train_loss[-1] < run.train_loss[0]


def test_dask_sweep_interrupted_and_resumed_redoes_nothing(tmp_path):
    distributed = pytest.importorskip("distributed")
    cfg = _config(tmp_path)
    out = cfg["output_dir"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        ex = client.get_executor()
        first = run_sweep(cfg, executor=ex, stop_after=3, progress=False, max_workers=1)
        assert not first.complete and len(first.executed) >= 3 and first.not_started
        assert not first.failed
        before = _mtimes(out)
        assert set(before) == {f"{rid}.npz" for rid in first.executed}  # only finished runs on disk
        second = run_sweep(cfg, executor=ex, progress=False, max_workers=1)
    assert second.complete
    assert set(second.skipped) == set(first.executed)
    assert not set(second.executed) & set(first.executed)  # no finished run redone
    assert len(first.executed) + len(second.executed) == 8
    after = _mtimes(out)
    for f, t in before.items():
        assert after[f] == t  # files of finished runs untouched
    assert len(after) == 8
    third = run_sweep(cfg, executor=None, max_workers=1, progress=False)
    assert third.executed == [] and len(third.skipped) == 8


def test_failed_run_is_reported_and_corrupt_file_redone(tmp_path):
    cfg = _config(tmp_path, grid={"train.lr": [0.5, -1.0]}, seeds=[0])
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as ex:
        rep = run_sweep(cfg, executor=ex, progress=False)
        assert len(rep.executed) == 1 and len(rep.failed) == 1
        assert "lr must be" in next(iter(rep.failed.values()))
        path = os.path.join(cfg["output_dir"], rep.executed[0] + ".npz")
        with open(path, "wb") as fh:
            fh.write(b"garbage")
        rep2 = run_sweep(cfg, executor=ex, progress=False)
    assert rep.executed[0] in rep2.executed
    assert np.isfinite(TrainingRun.load(path).train_loss).all()


def test_cli_sweep_local_processes(tmp_path, capsys):
    from spectra.cli import main

    cfg = _config(tmp_path, grid={"net.width": [4, 8]}, seeds=[0])
    p = tmp_path / "s.json"
    p.write_text(json.dumps(cfg))
    assert main(["sweep", str(p), "--workers", "1", "--quiet"]) == 0
    assert "2 run(s) executed, 0 skipped" in capsys.readouterr().out
    assert main(["sweep", str(p), "--workers", "1", "--quiet"]) == 0
    assert "0 run(s) executed, 2 skipped" in capsys.readouterr().out
