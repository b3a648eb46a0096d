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


# ----------------------------------------------------------------------------- files you can trust (#15)
def _small(tmp_path, **over):
    cfg = {"name": "small", "output_dir": str(tmp_path / "runs"),
           "base": {"data": {"domain": "cube", "dim": 3}, "net": {"width": 8, "depth": 1},
                    "train": {"n_steps": 15, "lr": 0.3, "record": ["loss", "ntk"], "n_records": 4}},
           "grid": {"train.lr": [0.2, 0.4]}, "seeds": [0]}
    cfg.update(over)
    return cfg


def test_foreign_or_other_config_run_file_is_rerun_with_a_message(tmp_path, capsys):
    from concurrent.futures import ThreadPoolExecutor

    cfg = _small(tmp_path)
    a, b = (r["run_id"] for r in expand_config(cfg))
    out = cfg["output_dir"]
    with ThreadPoolExecutor(1) as ex:
        run_sweep(cfg, executor=ex, progress=False)
        ref_b = TrainingRun.load(os.path.join(out, b + ".npz"))
        with open(os.path.join(out, a + ".npz"), "rb") as fh:  # run a's valid file under run b's name
            raw_a = fh.read()
        with open(os.path.join(out, b + ".npz"), "wb") as fh:
            fh.write(raw_a)
        rep = run_sweep(cfg, executor=ex, progress=True)
        err = capsys.readouterr().err
        assert rep.executed == [b] and rep.skipped == [a]
        assert f"sweep: re-running {b}: " in err and f"holds run '{a}', not '{b}'" in err
        assert err.count("re-running") == 1
        back = TrainingRun.load(os.path.join(out, b + ".npz"))
        np.testing.assert_array_equal(back.train_loss, ref_b.train_loss)
        # the same settings id with other settings (an edited file), a NaN loss, a truncated file
        p = os.path.join(out, a + ".npz")
        for breaker, reason in [
                (lambda: _edit_run(p, config=lambda c: c["sweep"].update(config_hash="0" * 64)), "settings hash differs"),
                (lambda: _edit_run(p, arrays=lambda d: d["train_loss"].__setitem__(-1, np.nan)), "holds NaN"),
                (lambda: _edit_run(p, arrays=lambda d: d.update(steps=d["steps"][:-1])), "mis-shaped"),
                (lambda: open(p, "r+b").truncate(100), "not a readable training-run file")]:
            breaker()
            rep = run_sweep(cfg, executor=ex, progress=True)
            err = capsys.readouterr().err
            assert rep.executed == [a], reason
            assert f"sweep: re-running {a}: {p}: " in err and reason in err, err
        run_sweep(cfg, executor=ex, progress=False)
        # --quiet / progress=False: no message, still re-run
        open(p, "wb").close()
        rep = run_sweep(cfg, executor=ex, progress=False)
        assert rep.executed == [a] and "empty file" in rep.rerun[a] and capsys.readouterr().err == ""


def _edit_run(path, arrays=None, config=None):
    with np.load(path) as z:
        data = {k: z[k].copy() for k in z.files}
    meta = json.loads(str(data.pop("__meta__")))
    if arrays:
        arrays(data)
    if config:
        config(meta["config"])
        from spectra.empirical.training.run import config_hash

        meta["config_sha256"] = config_hash(meta["config"])
    np.savez(path, __meta__=np.array(json.dumps(meta)), **data)


def test_load_sweep_and_cli_summary(tmp_path, capsys, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from spectra.cli import main
    from spectra.empirical.sweep import load_sweep

    cfg = _small(tmp_path, seeds=[0, 1])
    with ThreadPoolExecutor(1) as ex:
        run_sweep(cfg, executor=ex, progress=False, stop_after=3)
    df = load_sweep(cfg["output_dir"])
    runs = expand_config(cfg)
    done = {r["run_id"] for r in runs if os.path.exists(os.path.join(cfg["output_dir"], r["run_id"] + ".npz"))}
    assert set(df["run_id"]) == done and len(done) >= 3
    assert {"seed", "net.width", "train.lr", "final_train_loss", "final_ntk_alignment", "final_sharpness"} <= set(df)
    for _, row in df.iterrows():
        run = TrainingRun.load(os.path.join(cfg["output_dir"], row["run_id"] + ".npz"))
        assert row["final_train_loss"] == run.train_loss[-1] and row["final_step"] == 15
    full = load_sweep(cfg["output_dir"], unfinished=True)
    assert len(full) == 4 and (full["status"] == "missing").sum() == 4 - len(done)
    p = tmp_path / "s.json"
    p.write_text(json.dumps(cfg))
    assert main(["sweep", "--summary", cfg["output_dir"]]) == 0
    out = capsys.readouterr().out
    assert f"{len(done)} finished run(s) of 4" in out and all(rid in out for rid in done)
    assert main(["sweep", "--summary", str(p)]) == 0  # a config file names its folder
    assert main(["sweep", "--summary", str(tmp_path)]) == 2  # no manifest: one line, exit 2
    assert "sweep.json" in capsys.readouterr().err
    monkeypatch.setitem(__import__("sys").modules, "pandas", None)
    with pytest.raises(ImportError, match=r"nn-spectra\[pandas\]"):
        load_sweep(cfg["output_dir"])


def test_workers_are_capped_with_a_clear_message(tmp_path, capsys):
    from spectra.cli import main

    p = tmp_path / "s.json"
    p.write_text(json.dumps(_small(tmp_path)))
    assert main(["sweep", str(p), "--workers", "100000"]) == 2
    err = capsys.readouterr().err
    assert "--workers must be in [1, " in err and "CPUs" in err
    with pytest.raises(ValueError, match="max_workers must be in"):
        run_sweep(_small(tmp_path), max_workers=10**5)
    assert not os.path.exists(os.path.join(tmp_path, "runs", "sweep.json"))  # refused before any work


def test_sweep_report_views(tmp_path):
    from spectra.empirical.sweep import SweepReport

    ids = [f"{i:012x}" for i in range(500)]
    rep = SweepReport(str(tmp_path), 500, skipped=ids[:200], executed=ids[200:450],
                      failed={i: "ValueError: lr must be a finite number > 0, got -1" for i in ids[450:]},
                      summaries={i: {"final_loss": 0.5} for i in ids[200:450]}, rerun={ids[200]: "x.npz: empty file"})
    assert len(repr(rep)) < 1000 and "500 runs: 250 executed, 200 skipped" in repr(rep)
    assert len(str(rep).splitlines()) == 501 and "re-run: x.npz: empty file" in str(rep)
    assert "<table>" in rep._repr_html_()
    df = rep.to_dataframe()
    assert len(df) == 500 and df["outcome"].value_counts().to_dict() == {"executed": 250, "skipped": 200, "failed": 50}
    back = SweepReport.load(rep.save(tmp_path / "report.json"))
    assert back.to_dict() == rep.to_dict()


def test_unwritable_folder_is_refused_before_any_work_unless_all_finished(tmp_path, monkeypatch, capsys):
    from concurrent.futures import ThreadPoolExecutor

    from spectra.cli import main

    cfg = _small(tmp_path, grid={"train.lr": [0.2, 0.3, 0.4, 0.5]})
    p = tmp_path / "s.json"
    p.write_text(json.dumps(cfg))
    with ThreadPoolExecutor(1) as ex:
        assert not run_sweep(cfg, executor=ex, progress=False, stop_after=1, max_workers=1).complete
    n_done = len([f for f in os.listdir(cfg["output_dir"]) if f.endswith(".npz")])
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if mode == os.W_OK else real_access(path, mode))
    assert main(["sweep", str(p), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spectra: error: ") and cfg["output_dir"] in err and "unfinished run(s)" in err
    assert len([f for f in os.listdir(cfg["output_dir"]) if f.endswith(".npz")]) == n_done  # no work was done
    monkeypatch.setattr(os, "access", real_access)
    assert main(["sweep", str(p), "--workers", "1", "--quiet"]) == 0
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if mode == os.W_OK else real_access(path, mode))
    assert main(["sweep", str(p), "--workers", "1", "--quiet"]) == 0  # everything finished: nothing to write
    assert "0 run(s) executed, 4 skipped" in capsys.readouterr().out


def test_checkpointed_sweep_runs_match_and_clean_up(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    plain = _small(tmp_path, output_dir=str(tmp_path / "plain"))
    ck = _small(tmp_path, output_dir=str(tmp_path / "ck"))
    ck["base"]["train"]["checkpoint_every"] = 4
    with ThreadPoolExecutor(1) as ex:
        run_sweep(plain, executor=ex, progress=False)
        run_sweep(ck, executor=ex, progress=False)
    assert sorted(f for f in os.listdir(ck["output_dir"]) if f.endswith(".npz")) == sorted(
        r["run_id"] + ".npz" for r in expand_config(ck))  # no checkpoint left
    for a, b in zip(expand_config(plain), expand_config(ck)):
        ra = TrainingRun.load(os.path.join(plain["output_dir"], a["run_id"] + ".npz"))
        rb = TrainingRun.load(os.path.join(ck["output_dir"], b["run_id"] + ".npz"))
        np.testing.assert_array_equal(ra.train_loss, rb.train_loss)
        np.testing.assert_array_equal(ra.ntk_train, rb.ntk_train)
    bad = _small(tmp_path, output_dir=str(tmp_path / "bad"))
    bad["base"]["train"]["resume"] = True
    with ThreadPoolExecutor(1) as ex:
        rep = run_sweep(bad, executor=ex, progress=False)
    assert all("train.resume is set by the sweep itself" in m for m in rep.failed.values()) and len(rep.failed) == 2


def test_unusable_run_checkpoint_is_dropped_and_the_run_redone(tmp_path):
    cfg = _small(tmp_path, seeds=[0], grid={})
    cfg["base"]["train"]["checkpoint_every"] = 4
    (r,) = expand_config(cfg)
    out = tmp_path / "one.npz"
    ref = execute_run(dict(r), str(tmp_path / "ref.npz"))
    (tmp_path / "one.checkpoint.npz").write_bytes(b"damaged")
    got = execute_run(dict(r), str(out))
    assert "one.checkpoint.npz: not a training-checkpoint file" in got["restarted"]
    assert got["final_loss"] == ref["final_loss"] and not (tmp_path / "one.checkpoint.npz").exists()
