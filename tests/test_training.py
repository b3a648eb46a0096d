"""Tests of spectra.empirical.training against closed forms and hand-written recursions."""
import json
import os
import numpy as np
import pytest

from spectra.empirical.network import MLP
from spectra.empirical.training import (
    SGD, Adam, Cosine, StepDecay, TrainingDivergedError, TrainingRun, Warmup, cross_entropy_loss,
    log_spaced_steps, mse_loss, schedule_from_dict, train)


def _data(n=12, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1]


def _linear_kernel(net, X):
    # depth-0 NTK parametrization: f = sw/sqrt(d) W x + sb b, so K = sw^2 <x,y>/d + sb^2 (exact, constant)
    return net.weight_var * X @ X.T / net.dim + net.bias_var


# ----------------------------------------------------------------------------- losses
@pytest.mark.parametrize("fn", [mse_loss, cross_entropy_loss])
def test_loss_gradient_matches_finite_differences(fn):
    rng = np.random.default_rng(1)
    f = rng.standard_normal((5, 3))
    y = np.eye(3)[rng.integers(0, 3, 5)] if fn is cross_entropy_loss else rng.standard_normal((5, 3))
    _, g = fn(f, y)
    h = 1e-6
    num = np.zeros_like(f)
    for idx in np.ndindex(f.shape):
        e = np.zeros_like(f)
        e[idx] = h
        num[idx] = (fn(f + e, y)[0] - fn(f - e, y)[0]) / (2 * h)
    np.testing.assert_allclose(g, num, atol=1e-8)


def test_mse_normalisation():
    assert mse_loss(np.array([[2.0], [0.0]]), np.zeros((2, 1)))[0] == pytest.approx(1.0)  # (1/2n) sum r^2


# ----------------------------------------------------------------------------- dynamics
def test_gd_on_linear_model_matches_kernel_recursion_exactly():
    X, y = _data()
    net = MLP(3, 1, depth=0, weight_var=1.5, bias_var=0.3, seed=2)
    K = _linear_kernel(net, X)
    f = net(X)[:, 0].copy()
    lr, T = 0.7, 40
    run = train(net, X, y, n_steps=T, lr=lr, record_steps=[0, 5, 40])
    ref = {0: f.copy()}
    for t in range(1, T + 1):
        f = f - lr / len(y) * K @ (f - y)  # f_{t+1} = f_t - (eta/n) K (f_t - y)
        ref[t] = f.copy()
    for i, s in enumerate(run.steps):
        np.testing.assert_allclose(run.outputs_train[i, :, 0], ref[int(s)], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(run.ntk_train[i], K, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("factor, stable", [(0.95, True), (1.05, False)])
def test_stability_threshold_is_eta_lambda_max_over_n_equal_2(factor, stable):
    X, y = _data(n=10)
    net = MLP(3, 1, depth=0, weight_var=2.0, bias_var=0.5, seed=0)
    lam = np.linalg.eigvalsh(_linear_kernel(net, X) / len(y))[-1]
    run = train(net, X, y, n_steps=400, lr=factor * 2 / lam, record=("loss",), record_steps=[0, 400])
    if stable:
        assert run.train_loss[-1] < run.train_loss[0]
    else:
        assert run.train_loss[-1] > 100 * run.train_loss[0]


def test_sgd_momentum_and_adam_match_hand_written_updates():
    X, y = _data(n=8)
    lr, mom = 0.1, 0.8
    net = MLP(3, 1, depth=0, weight_var=1.0, bias_var=1.0, seed=3)
    p0 = [p.copy() for p in net.params]
    train(net, X, y, n_steps=3, lr=lr, optimizer=SGD(momentum=mom), record=("loss",))
    ref = MLP(3, 1, depth=0, weight_var=1.0, bias_var=1.0, seed=3)
    v = [np.zeros_like(p) for p in ref.params]
    for _ in range(3):
        out, cache = ref.forward(X)
        g = ref.backward(cache, (out - y[:, None]) / len(y))
        for i in range(len(v)):
            v[i] = mom * v[i] + g[i]
            ref.params[i] -= lr * v[i]
    for a, b in zip(net.params, ref.params):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # Adam's first step moves every parameter with a nonzero gradient by lr * sign(grad)
    net = MLP(3, 1, depth=0, weight_var=1.0, bias_var=1.0, seed=3)
    out, cache = net.forward(X)
    g = net.backward(cache, (out - y[:, None]) / len(y))
    train(net, X, y, n_steps=1, lr=0.01, optimizer=Adam(eps=1e-12), record=("loss",))
    for p, q, gi in zip(net.params, p0, g):
        np.testing.assert_allclose(p - q, -0.01 * np.sign(gi), rtol=1e-6)


def test_minibatch_sgd_is_deterministic_from_seed():
    X, y = _data(n=16)
    runs = []
    for seed in (5, 5, 6):
        net = MLP(3, 8, depth=1, seed=0)
        runs.append(train(net, X, y, n_steps=20, lr=0.3, optimizer={"kind": "sgd", "batch_size": 4},
                          seed=seed, record=("loss",)))
    np.testing.assert_array_equal(runs[0].loss_history, runs[1].loss_history)
    assert not np.array_equal(runs[0].loss_history, runs[2].loss_history)


def test_last_layer_only_is_ck_regime():
    X, y = _data(n=10)
    net = MLP(3, 16, depth=2, bias_var=0.1, seed=1)
    before = [p.copy() for p in net.params]
    run = train(net, X, y, n_steps=30, lr=0.5, trainable="last", record_steps=[0, 30])
    for name, a, b in zip(net.layer_names, net.params, before):
        assert np.array_equal(a, b) == (name not in ("W3", "b3"))
    assert not np.allclose(run.outputs_train[0], run.outputs_train[-1])
    # features frozen -> CK unchanged
    np.testing.assert_allclose(run.ck_train[0], run.ck_train[-1], rtol=1e-12)
    assert run.config["trainable"] == ["W3", "b3"]


def test_cross_entropy_training_and_probe_recording():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    lab = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    net = MLP(2, 16, depth=1, n_outputs=3, seed=0)
    run = train(net, X, lab, n_steps=100, lr=1.0, loss="cross_entropy", X_probe=X[:4],
                X_test=X[:5], y_test=lab[:5], record_steps=[0, 50, 100])
    assert run.train_loss[-1] < 0.7 * run.train_loss[0]
    assert run.ntk_train.shape == (3, 3, 30, 30) and run.ntk_probe.shape == (3, 3, 4, 4)
    assert run.outputs_probe.shape == (3, 4, 3) and run.test_loss.shape == (3,)
    with pytest.raises(ValueError, match="labels must be in"):
        train(MLP(2, 4, 1, n_outputs=3), X, lab + 1, n_steps=2, lr=0.1, loss="cross_entropy")


def test_callbacks_and_default_log_spaced_records():
    X, y = _data(n=6)
    seen = []
    run = train(MLP(3, 4, 1), X, y, n_steps=100, lr=0.1, record=("loss",),
                callbacks=[lambda step, net, info: seen.append((step, info["train_loss"]))])
    np.testing.assert_array_equal(run.steps, log_spaced_steps(100))
    assert [s for s, _ in seen] == run.steps.tolist()
    np.testing.assert_allclose([v for _, v in seen], run.train_loss)


# ----------------------------------------------------------------------------- schedules
def test_schedules_and_composition():
    s = Warmup(StepDecay(1.0, [10, 20], 0.1), 5)
    assert [s(0), s(4), s(9), s(10), s(25)] == pytest.approx([0.2, 1.0, 1.0, 0.1, 0.01])
    c = Cosine(2.0, 10, final_lr=0.0)
    assert c(5) == pytest.approx(1.0) and c(10) == 0.0
    assert schedule_from_dict(s.to_dict())(12) == pytest.approx(0.1)
    X, y = _data(n=6)
    run = train(MLP(3, 4, 1), X, y, n_steps=30, schedule=s, record=("loss",))
    assert run.lr_history[4] == pytest.approx(1.0) and run.lr_history[25] == pytest.approx(0.01)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.0), "lr must be a finite number > 0"),
    (dict(lr=-1.0), "lr must be a finite number > 0"),
    (dict(lr=float("nan")), "lr must be"),
    (dict(schedule=StepDecay(0.1, [50], 0.5)), "past the run's end"),
    (dict(schedule=Cosine(0.1, 50)), "past the run's end"),
    (dict(lr=0.1, record_steps=[0, 99]), "past the run's end"),
    (dict(lr=0.1, trainable=["W9"]), "unknown parameter"),
    (dict(lr=0.1, optimizer={"kind": "sgd", "batch_size": 100}), "batch_size must be <="),
    (dict(lr=0.1, loss="hinge"), "loss must be one of"),
    (dict(lr=0.1, optimizer="rmsprop"), "optimizer must be"),
])
def test_bad_input_errors(kwargs, match):
    X, y = _data(n=6)
    with pytest.raises(ValueError, match=match):
        train(MLP(3, 4, 1), X, y, n_steps=20, **kwargs)


def test_nan_targets_and_shape_errors():
    X, y = _data(n=6)
    y[2] = np.nan
    with pytest.raises(ValueError, match="y must be finite"):
        train(MLP(3, 4, 1), X, y, n_steps=5, lr=0.1)
    with pytest.raises(ValueError, match="shape"):
        train(MLP(3, 4, 1), X, np.zeros(5), n_steps=5, lr=0.1)
    with pytest.raises(ValueError, match="exactly one of lr"):
        train(MLP(3, 4, 1), X, np.zeros(6), n_steps=5)


# ----------------------------------------------------------------------------- divergence
def test_divergence_stops_and_keeps_snapshots(tmp_path):
    X, y = _data(n=10)
    net = MLP(3, 32, depth=2, seed=0)
    with pytest.warns(RuntimeWarning, match="training diverged"):
        run = train(net, X, y, n_steps=500, lr=200.0, record_steps=range(0, 501), save_path=tmp_path / "div")
    assert run.diverged and "diverged" in run.message
    assert 1 <= len(run.steps) < 500
    assert np.all(np.isfinite(run.train_loss)) and np.all(np.isfinite(run.ntk_train))
    back = TrainingRun.load(tmp_path / "div.npz")
    assert back.diverged and len(back.steps) == len(run.steps)
    with pytest.raises(TrainingDivergedError) as exc:
        train(MLP(3, 32, depth=2, seed=0), X, y, n_steps=500, lr=200.0, on_divergence="raise")
    assert len(exc.value.run.steps) >= 1


# ----------------------------------------------------------------------------- persistence
def test_save_load_roundtrip_and_bad_files(tmp_path):
    X, y = _data(n=8)
    run = train(MLP(3, 8, depth=1, seed=0), X, y, n_steps=10, lr=0.2, X_probe=X[:3], record_steps=[0, 10])
    p = run.save(tmp_path / "r")
    assert p.endswith(".npz") and not [f for f in os.listdir(tmp_path) if f.startswith(".tmp")]
    meta = json.loads((tmp_path / "r.json").read_text())
    assert meta["format"] == "spectra.training_run" and meta["version"] == 1
    back = TrainingRun.load(p)
    for k in ("steps", "lr", "train_loss", "ntk_train", "ck_probe", "outputs_train"):
        np.testing.assert_array_equal(getattr(back, k), getattr(run, k))
    np.testing.assert_array_equal(back.weights["W2"], run.weights["W2"])
    assert back.config == json.loads(json.dumps(run.config))

    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(open(p, "rb").read()[:200])
    with pytest.raises(ValueError, match="not a readable training-run file"):
        TrainingRun.load(bad)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a spectra training-run file"):
        TrainingRun.load(foreign)
    other = tmp_path / "other.npz"
    np.savez(other, __meta__=np.array(json.dumps({"format": "something.else"})))
    with pytest.raises(ValueError, match="not a spectra training-run file"):
        TrainingRun.load(other)
    with pytest.raises(FileNotFoundError):
        TrainingRun.load(tmp_path / "missing.npz")


# ----------------------------------------------------------------------------- notebook views (#13)
def test_training_run_repr_table_html_dict_dataframe_plot(tmp_path):
    X, y = _data(n=40, d=3)
    run = train(MLP(3, 16, depth=2, seed=0), X, y, n_steps=400, lr=0.3, X_test=X[:5], y_test=y[:5],
                record_steps=range(0, 401, 5))
    assert len(run.steps) == 81
    r = repr(run)
    assert len(r) < 1000 and r.startswith("<TrainingRun: 81 snapshots") and "final train_loss" in r
    s = str(run)
    assert s.startswith("TrainingRun: ") and "test_loss" in s and "(65 more)" in s and len(s.splitlines()) == 19
    h = run._repr_html_()
    assert h.startswith("<div>") and "<table>" in h and "</table>" in h
    d = run.to_dict()
    text = json.dumps(d, allow_nan=False)  # JSON-safe
    assert d["steps"] == run.steps.tolist() and d["shapes"]["ntk_train"] == [81, 40, 40]
    assert len(text) < 50_000  # the Grams stay in the .npz
    df = run.to_dataframe()
    assert len(df) == 81 and list(df.columns) == ["step", "lr", "train_loss", "test_loss", "ntk_alignment",
                                                  "ntk_lambda_max", "sharpness"]
    from spectra.empirical.metrics import kernel_alignment, sharpness

    assert df["ntk_alignment"].iloc[-1] == pytest.approx(kernel_alignment(run.ntk_train[-1], y), rel=1e-12)
    assert df["sharpness"].iloc[10] == pytest.approx(sharpness(run.ntk_train[10], 0.3), rel=1e-12)
    assert df.attrs["config"]["n_steps"] == 400
    ax = run.plot()
    assert len(ax) == 3 and ax[1].get_title() == "NTK-target alignment" and len(ax[2].lines) == 2
    ax[0].figure.savefig(tmp_path / "run.png")
    import matplotlib.pyplot as plt

    plt.close("all")
    # without a recorded NTK: the loss panel only, the others say so; loaded runs have the same views
    light = train(MLP(3, 4, 1), X, y, n_steps=5, lr=0.1, record=("loss",))
    assert "ntk_alignment" not in light.to_dataframe()
    assert repr(TrainingRun.load(light.save(tmp_path / "l"))) == repr(light)
    with pytest.raises(ValueError, match="three Axes"):
        light.plot(ax=[1])
    plt.close("all")


def test_training_run_views_of_multi_output_and_diverged_runs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 2))
    lab = (X[:, 0] > 0).astype(int)
    run = train(MLP(2, 8, 1, n_outputs=2, seed=0), X, lab, n_steps=10, lr=0.5, loss="cross_entropy",
                record_steps=[0, 10])
    assert run.to_dataframe()["ntk_alignment"].between(0, 1).all()
    with pytest.warns(RuntimeWarning):
        div = train(MLP(3, 32, depth=2, seed=0), *_data(n=10), n_steps=500, lr=200.0, record_steps=[0, 1, 2])
    assert "DIVERGED" in repr(div) and len(repr(div)) < 1000 and "diverged" in str(div)


def test_progress_time_left_weights_updates_and_snapshots_by_their_measured_cost(capsys):
    from spectra.empirical.training._steps import Progress

    p = Progress(True, 1000, 0, log_spaced_steps(1000, 20))
    assert p.snaps_left == len(log_spaced_steps(1000, 20))
    for _ in range(10):
        p.timed_snapshot(lambda: None)
        p.add_update(0.001)
    p.t_snap = 0.5  # 10 snapshots took 0.05 s each; 10 updates 0.001 s each
    assert p.eta(10) == pytest.approx(0.001 * 990 + 0.05 * (p.snaps_left))
    p._last = -1e9
    p.tick(10, 0.5, 0.1)
    p.close(1000)
    err = capsys.readouterr().err
    assert "[train]   1% step 10/1000" in err and "s left)" in err and "1000/1000 steps in" in err
    quiet = Progress(False, 10, 0, [0, 10])
    quiet._last = -1e9
    quiet.tick(5, 0.1, 0.1)
    quiet.close(10)
    assert capsys.readouterr().err == ""
    # a resumed run counts only the snapshots still to come
    assert Progress(False, 100, 50, [0, 10, 60, 100]).snaps_left == 2
