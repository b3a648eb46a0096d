"""Sweeps under SIGKILL: kill-and-resume ends identical to an uninterrupted sweep, and no worker
outlives its killed parent by more than 5 s (Linux: processes are read from /proc)."""
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from spectra.empirical.sweep import expand_config, run_sweep
from spectra.empirical.training import TrainingRun
from spectra.empirical.training.run import _ARRAY_FIELDS

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads processes from /proc")

N_SEEDS = 5
N_RUNS = 4 * N_SEEDS  # the grid's 4 points x seeds
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def _config(tmp_path, name, n_steps, checkpointed=False, **over):
    cfg = {"name": name,
           "base": {"data": {"domain": "cube", "dim": 4, "n": 16}, "net": {"width": 8, "depth": 1},
                    "train": {"n_steps": n_steps, "lr": 0.3, "record": ["loss", "weights"], "n_records": 6,
                              "batch_size": 4, "optimizer": "adam"}},
           "grid": {"net.width": [8, 16], "train.lr": [0.01, 0.02]}, "seeds": N_SEEDS}
    if checkpointed:
        cfg["base"]["train"]["checkpoint_every"] = 100
    cfg.update(over)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(cfg))
    return path


def _start(cfg_path, workers=2):
    # a session of its own: the sweep and its workers form one process group
    return subprocess.Popen([sys.executable, "-m", "spectra", "sweep", str(cfg_path), "--workers", str(workers),
                             "--quiet"], env=ENV, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _finished_files(folder):
    if not os.path.isdir(folder):
        return set()
    return {f for f in os.listdir(folder) if f.endswith(".npz") and not f.endswith(".checkpoint.npz")}


def _checkpoints(folder):
    return [f for f in os.listdir(folder) if f.endswith(".checkpoint.npz")] if os.path.isdir(folder) else []


def _children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in (b"Z", b"X"):
                kids.append(int(entry))
    return kids


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def _same_run(a, b):
    for k in _ARRAY_FIELDS:
        x, y = getattr(a, k), getattr(b, k)
        assert (x is None) == (y is None), k
        if x is not None:
            assert np.array_equal(x, y), k
    assert a.weights.keys() == b.weights.keys()
    for k in a.weights:
        assert np.array_equal(a.weights[k], b.weights[k]), k
    assert a.config == b.config and a.diverged == b.diverged


def test_kill_process_group_eight_times_then_resume_is_identical(tmp_path):
    # the runs checkpoint every 100 steps: killed runs resume mid-run
    cfg_path = _config(tmp_path, "killed", 800, checkpointed=True)
    out = str(tmp_path / "killed_runs")
    rng = np.random.default_rng(15)
    partial = resumed = 0
    for i in range(8):
        before = len(_finished_files(out))
        proc = _start(cfg_path)
        try:
            # kills are timed by the sweep's progress, not by the clock, so that they land mid-sweep on a
            # fast machine as on a loaded one: just after a run file was written (even i), or while a run
            # is between two checkpoints (odd i, start-up and lock included when the kill comes early)
            t0 = time.monotonic()
            if i % 2 == 0:
                while len(_finished_files(out)) <= before and time.monotonic() - t0 < 30 and proc.poll() is None:
                    time.sleep(0.005)
                time.sleep(rng.uniform(0.0, 0.05))
            else:
                while (not _checkpoints(out) and len(_finished_files(out)) <= before
                       and time.monotonic() - t0 < 30 and proc.poll() is None):
                    time.sleep(0.005)
                time.sleep(rng.uniform(0.0, 0.02))
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        partial += 0 < len(_finished_files(out)) < N_RUNS
        resumed += len(_checkpoints(out))
    print(f"{partial}/8 kills left a partly finished sweep and {resumed} run checkpoint(s) to resume from")
    assert partial >= 2, "the kills should land in the middle of the sweep"
    proc = _start(cfg_path)
    assert proc.wait(timeout=120) == 0
    cfg = json.loads(cfg_path.read_text())
    cfg["output_dir"] = str(tmp_path / "reference")
    with ThreadPoolExecutor(1) as ex:
        ref = run_sweep(cfg, executor=ex, progress=False)
    assert ref.complete and len(ref.executed) == N_RUNS
    assert not [f for f in os.listdir(out) if f.startswith(".tmp-")]  # dead sweeps' temp files removed
    assert not [f for f in os.listdir(out) if f.endswith(".checkpoint.npz")]  # finished runs drop theirs
    for r in expand_config(cfg):
        _same_run(TrainingRun.load(os.path.join(out, r["run_id"] + ".npz")),
                  TrainingRun.load(os.path.join(cfg["output_dir"], r["run_id"] + ".npz")))


def test_no_worker_outlives_its_killed_parent_by_more_than_5_s(tmp_path):
    cfg_path = _config(tmp_path, "orphans", 200_000)  # runs that take minutes
    proc = _start(cfg_path)
    try:
        t0 = time.monotonic()
        while len(_children(proc.pid)) < 2:
            assert proc.poll() is None and time.monotonic() - t0 < 30, "the sweep did not start its workers"
            time.sleep(0.05)
        time.sleep(0.5)  # the workers are busy training
        workers = _children(proc.pid)
        assert len(workers) == 2 and all(_running(w) for w in workers)
        os.kill(proc.pid, signal.SIGKILL)  # the main process only: the workers become orphans
        proc.wait(timeout=10)
        t_kill = time.monotonic()
        while any(_running(w) for w in workers) and time.monotonic() - t_kill < 10:
            time.sleep(0.02)
        survived = time.monotonic() - t_kill
        assert not any(_running(w) for w in workers), f"orphaned workers still run after {survived:.1f} s"
        print(f"orphans gone {survived:.3f} s after the kill")
        assert survived < 5.0
        # and a new sweep on the folder can start at once
        with ThreadPoolExecutor(1) as ex:
            stopped = run_sweep(json.loads(cfg_path.read_text()) | {"output_dir": str(tmp_path / "orphans_runs")},
                                executor=ex, progress=False, stop_after=1, run_fn=_noop_run)
        assert stopped.executed
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _noop_run(settings, path):
    return {"run_id": settings["run_id"]}
