"""Files you can trust: every training-run, checkpoint and sweep-run loader refuses bad files with a
ValueError that names the file (truncated, empty, foreign, mis-shaped, NaN-filled, wrong version)."""
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from spectra.empirical.network import MLP
from spectra.empirical.sweep import expand_config, execute_run, run_file_problem
from spectra.empirical.training import TrainingRun, train


def _run(tmp_path, **kw):
    X = np.random.default_rng(0).standard_normal((8, 3))
    run = train(MLP(3, 8, 1, seed=0), X, X[:, 0], n_steps=10, lr=0.2, X_probe=X[:3], X_test=X[:4],
                y_test=X[:4, 0], record_steps=[0, 5, 10], **kw)
    return run, run.save(tmp_path / "good.npz")


def _rewrite(path, out, change_arrays=None, change_meta=None):
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    meta = json.loads(str(data.pop("__meta__")))
    if change_arrays:
        change_arrays(data)
    if change_meta:
        change_meta(meta)
    np.savez(out, __meta__=np.array(json.dumps(meta)), **data)
    return out


def _npy_bytes():
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    return buf.getvalue()


def _zip_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "someone else's archive")
    return buf.getvalue()


def _nan_loss(d):
    d["train_loss"] = d["train_loss"].copy()
    d["train_loss"][1] = np.nan


def _nan_gram(d):
    d["ntk_train"] = d["ntk_train"].copy()
    d["ntk_train"][0, 0, 0] = np.nan


BYTES = {
    "empty": lambda raw: b"",
    "truncated": lambda raw: raw[: len(raw) // 2],
    "truncated-tail": lambda raw: raw[:-40],
    "garbage": lambda raw: b"not an archive at all" * 20,
    "npy": lambda raw: _npy_bytes(),
    "pickle": lambda raw: pickle.dumps({"steps": [0, 1]}),
    "foreign-zip": lambda raw: _zip_bytes(),
}
EDITS = {
    "foreign-npz": (lambda d: d.clear() or d.update(a=np.zeros(3)), lambda m: m.clear()),
    "other-format": (None, lambda m: m.update(format="something.else")),
    "version-99": (None, lambda m: m.update(version=99)),
    "nan-loss": (_nan_loss, None),
    "nan-gram": (_nan_gram, None),
    "steps-mis-shaped": (lambda d: d.update(steps=np.array([0, 5])), None),
    "steps-2d": (lambda d: d.update(steps=d["steps"][:, None]), None),
    "steps-unordered": (lambda d: d.update(steps=np.array([0, 10, 5])), None),
    "steps-past-end": (lambda d: d.update(steps=np.array([0, 5, 11])), None),
    "steps-float": (lambda d: d.update(steps=d["steps"].astype(float)), None),
    "gram-mis-shaped": (lambda d: d.update(ntk_train=d["ntk_train"][:, :5]), None),
    "outputs-mis-shaped": (lambda d: d.update(outputs_train=d["outputs_train"][:2]), None),
    "weights-mis-shaped": (lambda d: d.update(weight__W1=d["weight__W1"][:1]), None),
    "missing-loss": (lambda d: d.pop("train_loss"), None),
    "unknown-array": (lambda d: d.update(extra=np.zeros(2)), None),
    "config-edited": (None, lambda m: m["config"].update(n_steps=10_000)),
    "strings": (lambda d: d.update(lr=np.array(["a", "b", "c"])), None),
}


@pytest.mark.parametrize("case", sorted(BYTES) + sorted(EDITS))
def test_training_run_loader_refuses_bad_files_naming_them(tmp_path, case):
    _, good = _run(tmp_path)
    bad = tmp_path / f"{case}.npz"
    if case in BYTES:
        bad.write_bytes(BYTES[case](open(good, "rb").read()))
    else:
        _rewrite(good, bad, *EDITS[case])
    with pytest.raises(ValueError, match=f"{case}.npz"):
        TrainingRun.load(bad)


def test_good_and_diverged_runs_still_load(tmp_path):
    run, good = _run(tmp_path)
    back = TrainingRun.load(good)
    np.testing.assert_array_equal(back.ntk_train, run.ntk_train)
    X = np.random.default_rng(0).standard_normal((10, 3))
    with pytest.warns(RuntimeWarning):
        div = train(MLP(3, 32, 2, seed=0), X, X[:, 0], n_steps=200, lr=50.0, batch_size=5,
                    record_steps=range(0, 201, 3), save_path=tmp_path / "div")
    assert div.diverged and not np.isfinite(div.loss_history[-1])
    back = TrainingRun.load(tmp_path / "div.npz")  # its last loss may be inf/NaN: still a valid run file
    assert back.diverged and len(back.steps) == len(div.steps)


def test_directory_and_missing_path(tmp_path):
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(ValueError, match="d.npz: is a directory"):
        TrainingRun.load(tmp_path / "d.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        TrainingRun.load(tmp_path / "missing.npz")


@pytest.mark.parametrize("case", ["empty", "truncated", "npy", "pickle", "foreign-zip", "garbage"])
def test_checkpoint_loader_refuses_bad_files_naming_them(tmp_path, case):
    X = np.random.default_rng(0).standard_normal((8, 3))
    kw = dict(n_steps=10, lr=0.2, record=("loss",))
    train(MLP(3, 8, 1, seed=0), X, X[:, 0], checkpoint_path=tmp_path / "c.npz", checkpoint_every=3, **kw)
    bad = tmp_path / f"{case}.npz"
    bad.write_bytes(BYTES[case](open(tmp_path / "c.npz", "rb").read()))
    with pytest.raises(ValueError, match=f"{case}.npz"):
        train(MLP(3, 8, 1, seed=0), X, X[:, 0], resume=bad, **kw)
    # a training-run file is not a checkpoint (and a checkpoint is not a run)
    run = train(MLP(3, 8, 1, seed=0), X, X[:, 0], **kw)
    with pytest.raises(ValueError, match="r.npz: not a spectra training-checkpoint file"):
        train(MLP(3, 8, 1, seed=0), X, X[:, 0], resume=run.save(tmp_path / "r.npz"), **kw)
    with pytest.raises(ValueError, match="c.npz: not a spectra training-run file"):
        TrainingRun.load(tmp_path / "c.npz")


def test_sweep_run_check_names_the_file_and_the_reason(tmp_path):
    cfg = {"output_dir": str(tmp_path), "seeds": [0, 1],
           "base": {"net": {"width": 8}, "train": {"n_steps": 10, "lr": 0.1, "record": ["loss"]}}}
    a, b = expand_config(cfg)
    pa, pb = tmp_path / f"{a['run_id']}.npz", tmp_path / f"{b['run_id']}.npz"
    assert run_file_problem(pa, a) == "missing"
    execute_run(a, str(pa))
    assert run_file_problem(pa, a) is None
    pb.write_bytes(pa.read_bytes())  # a valid run file of another run
    assert run_file_problem(pb, b) == f"{pb}: holds run {a['run_id']!r}, not {b['run_id']!r}"
    other = dict(a, train=dict(a["train"], lr=0.2))  # same id, other settings (an edited config)
    assert "settings hash differs" in run_file_problem(pa, other)
    short = dict(a, train=dict(a["train"], n_steps=20))
    assert "settings hash differs" in run_file_problem(pa, short)
    for case, make in BYTES.items():
        pb.write_bytes(make(pa.read_bytes()))
        assert run_file_problem(pb, b).startswith(f"{pb}: "), case
    _rewrite(pa, pb, _nan_loss)
    assert "holds NaN" in run_file_problem(pb, b)
