"""The network protocol of train (MLP and TwoLayerStudent), batch_size, max_loss, seeds, and the MLP's kernel API."""
import ast
import pathlib

import numpy as np
import pytest

from spectra.empirical import MLP, TwoLayerStudent, empirical_ntk, single_index_data, train_first_layer
from spectra.empirical.training import SGD, Adam, train


def _data(n=16, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1]


# ----------------------------------------------------------------------------- batch size
def test_batch_size_belongs_to_train_and_matches_the_old_optimizer_keyword():
    X, y = _data()
    kw = dict(n_steps=25, lr=0.3, seed=4, record=("loss",))
    new = train(MLP(3, 8, 1, seed=0), X, y, batch_size=4, optimizer=SGD(momentum=0.5), **kw)
    old = train(MLP(3, 8, 1, seed=0), X, y, optimizer=SGD(batch_size=4, momentum=0.5), **kw)
    np.testing.assert_array_equal(new.loss_history, old.loss_history)
    assert new.config["batch_size"] == 4 and "batch_size" not in new.config["optimizer"]
    adam = train(MLP(3, 8, 1, seed=0), X, y, batch_size=4, optimizer="adam", **kw)
    adam_old = train(MLP(3, 8, 1, seed=0), X, y, optimizer=Adam(batch_size=4), **kw)
    np.testing.assert_array_equal(adam.loss_history, adam_old.loss_history)
    with pytest.raises(ValueError, match="disagrees"):
        train(MLP(3, 8, 1), X, y, batch_size=4, optimizer=SGD(batch_size=8), **kw)
    with pytest.raises(ValueError, match="batch_size must be <="):
        train(MLP(3, 8, 1), X, y, batch_size=17, **kw)


def test_generator_seed_gives_the_same_minibatches_as_its_int():
    X, y = _data()
    kw = dict(n_steps=10, lr=0.3, batch_size=4, record=("loss",))
    a = train(MLP(3, 8, 1, seed=0), X, y, seed=7, **kw)
    b = train(MLP(3, 8, 1, seed=0), X, y, seed=np.random.default_rng(7), **kw)
    np.testing.assert_array_equal(a.loss_history, b.loss_history)
    assert b.config["seed"] is None


# ----------------------------------------------------------------------------- divergence
def test_max_loss_counts_as_divergence():
    X, y = _data(n=10)
    with pytest.warns(RuntimeWarning, match="training diverged"):
        run = train(MLP(3, 32, 2, seed=0), X, y, n_steps=200, lr=50.0, record=("loss",), max_loss=1e3)
    assert run.diverged and run.loss_history[-1] > 1e3 and np.all(run.loss_history[:-1] <= 1e3)
    with pytest.raises(ValueError, match="max_loss"):
        train(MLP(3, 4, 1), X, y, n_steps=5, lr=0.1, max_loss=0.0)


# ----------------------------------------------------------------------------- the protocol
def test_train_rejects_objects_without_the_protocol():
    X, y = _data()
    with pytest.raises(TypeError, match="network protocol"):
        train(object(), X, y, n_steps=2, lr=0.1)


def test_student_trains_its_first_layer_through_train():
    data = single_index_data(60, 8, n_test=5, seed=0)
    net = TwoLayerStudent(8, 12, seed=1)
    a0, W0 = net.a.copy(), net.W.copy()
    run = train(net, data.X, data.y, n_steps=15, lr=0.5, trainable=["W1"], record=("loss", "ntk", "ck", "weights"),
                record_steps=[0, 15])
    assert np.array_equal(net.a, a0) and not np.allclose(net.W, W0)
    assert run.train_loss[-1] < run.train_loss[0] and run.config["trainable"] == ["W1"]
    assert run.config["net"]["kind"] == "two_layer_student" and run.ntk_train.shape == (2, 60, 60)
    np.testing.assert_array_equal(run.weights["W1"][-1], net.W)
    # the same run by hand: W <- W - lr dL/dW with the student's own loss_and_grad
    ref = TwoLayerStudent(8, 12, seed=1)
    for _ in range(15):
        ref.W -= 0.5 * ref.loss_and_grad(data.X, data.y)[1]
    np.testing.assert_allclose(net.W, ref.W, rtol=1e-12, atol=1e-14)
    # and train_first_layer is this run
    wrapped = TwoLayerStudent(8, 12, seed=1)
    hist = train_first_layer(wrapped, data.X, data.y, lr=0.5, steps=15, snapshot_steps=[0, 15])
    np.testing.assert_array_equal(wrapped.W, net.W)
    np.testing.assert_array_equal(hist.loss[:15], run.loss_history)
    assert sorted(hist.snapshots) == [0, 15] and hist.loss[-1] == pytest.approx(run.train_loss[-1], rel=1e-14)
    with pytest.raises(ValueError, match="layered network"):
        train(net, data.X, data.y, n_steps=2, lr=0.1, trainable="last")


def test_student_backward_matches_finite_differences_for_both_layers():
    data = single_index_data(20, 5, n_test=5, seed=3)
    net = TwoLayerStudent(5, 7, seed=4)
    y = data.y[:, None]

    def loss():
        return 0.5 * float(np.sum((net.forward(data.X)[0] - y) ** 2))

    out, cache = net.forward(data.X)
    grads = net.backward(cache, out - y)
    eps = 1e-6
    for p, g in zip(net.params, grads):
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for i in (0, flat.size // 2, flat.size - 1):
            old = flat[i]
            flat[i] = old + eps
            lp = loss()
            flat[i] = old - eps
            lm = loss()
            flat[i] = old
            assert (lp - lm) / (2 * eps) == pytest.approx(gflat[i], rel=1e-6, abs=1e-9)


def test_student_and_mlp_accept_a_generator_seed():
    assert np.array_equal(TwoLayerStudent(4, 5, seed=np.random.default_rng(3)).W, TwoLayerStudent(4, 5, seed=3).W)
    a, b = MLP(3, 6, 2, seed=np.random.default_rng(5)), MLP(3, 6, 2, seed=5)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    assert a.config["seed"] is None and b.config["seed"] == 5
    with pytest.raises(ValueError, match="seed"):
        MLP(3, 6, 2, seed=-1)


# ----------------------------------------------------------------------------- the MLP's kernel API
def test_layer_scales_and_signals_are_public_and_give_the_ntk():
    net = MLP(3, 10, 2, "tanh", 1.5, 0.2, seed=0, n_outputs=2)
    X = np.random.default_rng(1).standard_normal((6, 3))
    assert net.layer_scales[0] == pytest.approx((np.sqrt(1.5 / 3), np.sqrt(0.2)))
    assert len(net.layer_scales) == 3 and net.param_names == net.layer_names
    A, D = net.layer_signals(X, [1])
    K = 0.0
    for l, (w, b) in enumerate(net.layer_scales):
        AG = w * w * A[l] @ A[l].T + b * b
        K = K + (AG if D[0][l] is None else (D[0][l] @ D[0][l].T) * AG)
    np.testing.assert_allclose(K, empirical_ntk(net, X, output=1), rtol=1e-12)
    with pytest.raises(ValueError, match="outputs"):
        net.layer_signals(X, [2])


def test_no_import_between_network_and_measured_kernels_goes_both_ways():
    root = pathlib.Path(__file__).resolve().parents[1] / "spectra" / "empirical"

    def imported(path):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names.add((node.module or "").split(".")[-1])
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.Import):
                names.update(a.name.split(".")[-1] for a in node.names)
        return names

    assert "network" not in imported(root / "measured_kernels.py")
    assert "linear_width" not in set().union(*(imported(p) for p in (root / "training").glob("*.py")))
    assert "network" not in set().union(*(imported(p) for p in (root / "training").glob("*.py")))
