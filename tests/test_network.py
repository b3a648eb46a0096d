"""MLP conventions, backward pass against finite differences, and input validation."""
import math

import numpy as np
import pytest

from spectra.empirical import MLP, cube_points, sample_sphere


def _loss_and_grad(net, X, T):
    out, cache = net.forward(X)
    r = out - T
    return 0.5 * float(np.sum(r * r)), net.backward(cache, r)


@pytest.mark.parametrize("act,depth,bias,par,n_out", [
    ("relu", 2, 0.3, "ntk", 1),
    ("erf", 3, 0.0, "ntk", 2),
    ("tanh", 1, 0.5, "standard", 3),
    ("gelu", 0, 0.2, "ntk", 2),
    ("softplus", 2, 0.1, "standard", 1),
])
def test_backward_matches_finite_differences(act, depth, bias, par, n_out):
    rng = np.random.default_rng(0)
    net = MLP(4, 6, depth, act, 1.5, bias, seed=3, n_outputs=n_out, parametrization=par)
    X = rng.standard_normal((5, 4))
    T = rng.standard_normal((5, n_out))
    _, grads = _loss_and_grad(net, X, T)
    eps = 1e-6
    for p, g in zip(net.params, grads):
        assert g.shape == p.shape
        flat = p.reshape(-1)
        for idx in rng.choice(flat.size, size=min(flat.size, 6), replace=False):
            old = flat[idx]
            flat[idx] = old + eps
            lp, _ = _loss_and_grad(net, X, T)
            flat[idx] = old - eps
            lm, _ = _loss_and_grad(net, X, T)
            flat[idx] = old
            fd = (lp - lm) / (2 * eps)
            assert abs(fd - g.reshape(-1)[idx]) <= 1e-6 * max(1.0, abs(fd))


def test_ntk_parametrization_forward_is_formula():
    """h^1 = sw/sqrt(d) W1 x + sb b1, h^2 = sw/sqrt(n1) W2 phi(h^1) + sb b2, written out by hand."""
    net = MLP(3, 5, 1, "erf", 2.5, 0.4, seed=7)
    W1, b1, W2, b2 = net.params
    x = np.array([0.3, -1.0, 2.0])
    from scipy.special import erf

    h1 = math.sqrt(2.5) / math.sqrt(3) * W1 @ x + math.sqrt(0.4) * b1
    f = math.sqrt(2.5) / math.sqrt(5) * W2 @ erf(h1) + math.sqrt(0.4) * b2
    assert np.allclose(net(x[None, :])[0], f, rtol=1e-14)
    assert np.allclose(net.features(x[None, :])[0], erf(h1), rtol=1e-14)


def test_standard_parametrization_scales_and_same_function():
    """SP with the NTK-param raw weights rescaled gives the same function (and ~ the right variances)."""
    ntk = MLP(4, 300, 2, "relu", 2.0, 0.5, seed=1)
    sp = MLP(4, 300, 2, "relu", 2.0, 0.5, seed=1, parametrization="standard")
    # SP draws W ~ N(0, sw^2/fan_in), b ~ N(0, sb^2) from the same normals
    for (name, a, b), fan in zip(zip(ntk.layer_names, ntk.params, sp.params), [4, 4, 300, 300, 300, 300]):
        scale = math.sqrt(2.0 / fan) if name.startswith("W") else math.sqrt(0.5)
        assert np.allclose(a * scale, b)
    X = cube_points(4)
    assert np.allclose(ntk(X), sp(X), rtol=1e-12)


def test_shapes_params_and_seeding():
    net = MLP(5, 8, 2, "relu", seed=4, n_outputs=3)
    assert net.layer_names == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [p.shape for p in net.params] == [(8, 5), (8,), (8, 8), (8,), (3, 8), (3,)]
    assert net.n_params == 40 + 8 + 64 + 8 + 24 + 3
    X = np.ones((2, 5))
    assert net(X).shape == (2, 3)
    assert MLP(5, 8, 2, "relu", seed=4, n_outputs=3)(X).tolist() == net(X).tolist()
    assert not np.allclose(MLP(5, 8, 2, "relu", seed=5, n_outputs=3)(X), net(X))
    lin = MLP(5, 8, 0, "relu", seed=0)
    assert lin.features(X).shape == (2, 5) and lin(X).shape == (2, 1)
    new = [np.zeros_like(p) for p in net.params]
    net.set_params(new)
    assert np.all(net(X) == 0)
    with pytest.raises(ValueError, match="shape"):
        net.set_params([np.zeros(3)] + new[1:])


def test_float32():
    net = MLP(6, 64, 2, "tanh", 1.5, 0.1, seed=0, dtype=np.float32)
    X = sample_sphere(6, 10, seed=0)
    assert net(X).dtype == np.float32 and net.ntk_gram(X).dtype == np.float32
    ref = MLP(6, 64, 2, "tanh", 1.5, 0.1, seed=0)
    assert np.allclose(net.ntk_gram(X), ref.ntk_gram(X), rtol=1e-4)


def test_bad_input():
    net = MLP(3, 4, 1)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 3\)"):
        net(np.ones((2, 4)))
    with pytest.raises(ValueError, match="finite"):
        net(np.array([[1.0, np.nan, 0.0]]))
    with pytest.raises(ValueError, match="finite"):
        net.ntk_gram(np.array([[1.0, np.inf, 0.0]]))
    with pytest.raises(ValueError, match="X2 must have shape"):
        net.ntk_gram(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="width"):
        MLP(3, 0, 1)
    with pytest.raises(ValueError, match="(?i)activation|unknown"):
        MLP(3, 4, 1, "no_such_activation")
    with pytest.raises(ValueError, match="weight_var"):
        MLP(3, 4, 1, "relu", 0.0)
    with pytest.raises(ValueError, match="depth"):
        MLP(3, 4, -1)
    with pytest.raises(ValueError, match="parametrization"):
        MLP(3, 4, 1, parametrization="mup")
    with pytest.raises(ValueError, match="grad_out"):
        out, cache = net.forward(np.ones((2, 3)))
        net.backward(cache, np.ones((3, 1)))


@pytest.mark.parametrize("act,depth,bias,par,n_out", [
    ("relu", 3, 0.0, "ntk", 1),
    ("erf", 2, 0.3, "standard", 2),
    ("tanh", 0, 0.1, "ntk", 3),
])
def test_one_pass_ntk_gram_equals_blocked(act, depth, bias, par, n_out):
    """The one-pass (syrk) Gram, over several mirrored 256-row tiles and a ragged last one, equals the
    block-by-block Gram up to float64 rounding, is exactly symmetric, and so are its layer parts."""
    net = MLP(5, 48, depth, act, 1.7, bias, seed=2, n_outputs=n_out, parametrization=par)
    X = np.random.default_rng(3).standard_normal((600, 5))
    K, parts = net.ntk_gram(X, per_layer=True)
    Kb, parts_b = net.ntk_gram(X, per_layer=True, chunk_size=128)
    assert K.shape == Kb.shape == ((600, 600) if n_out == 1 else (n_out, 600, 600))
    assert np.max(np.abs(K - Kb)) <= 1e-13 * np.max(np.abs(Kb))
    assert np.array_equal(K, np.swapaxes(K, -1, -2))
    assert sorted(parts) == list(range(1, depth + 2))
    for l in parts:
        assert np.max(np.abs(parts[l] - parts_b[l])) <= 1e-13 * np.max(np.abs(Kb))
        assert np.array_equal(parts[l], np.swapaxes(parts[l], -1, -2))
    assert np.allclose(sum(parts.values()), K, rtol=1e-13, atol=0)
    c = n_out - 1
    assert np.array_equal(net.ntk_gram(X, output=c), K if n_out == 1 else K[c])
