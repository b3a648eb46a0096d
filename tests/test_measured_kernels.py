"""Structured empirical NTK/CK against explicit per-example gradients and the analytic kernels."""
import math

import numpy as np
import pytest

from spectra.analytic import get_activation, mlp_kernel
from spectra.empirical import MLP, cube_points, empirical_ck, empirical_ntk, sample_sphere


def _per_example_jacobian(net, x, c):
    """Gradient of output c at one input, by plain per-example backprop written out here."""
    act = get_activation(net.activation)
    sw, sb = math.sqrt(net.weight_var), math.sqrt(net.bias_var)
    ntk = net.parametrization == "ntk"
    P = net.params
    L = net.depth
    ws = [sw / math.sqrt(f) if ntk else 1.0 for f in net.sizes[:-1]]
    bs = [sb if ntk else 1.0] * (L + 1)
    a, inputs, pre = x, [], []
    for l in range(L + 1):
        inputs.append(a)
        h = ws[l] * (P[2 * l] @ a) + bs[l] * P[2 * l + 1]
        pre.append(h)
        a = act.fn(h)
    grads = [None] * (2 * L + 2)
    delta = np.zeros(net.n_outputs)
    delta[c] = 1.0
    for l in range(L, -1, -1):
        grads[2 * l] = ws[l] * np.outer(delta, inputs[l])
        grads[2 * l + 1] = bs[l] * delta
        if l > 0:
            delta = ws[l] * (P[2 * l].T @ delta) * act.derivative(pre[l - 1])
    return np.concatenate([g.ravel() for g in grads])


def _reference_ntk(net, X, Y):
    out = []
    for c in range(net.n_outputs):
        JX = np.array([_per_example_jacobian(net, x, c) for x in X])
        JY = np.array([_per_example_jacobian(net, y, c) for y in Y])
        out.append(JX @ JY.T)
    return np.array(out)


CASES = [
    ("relu", 1, 0.0, "ntk", 1),
    ("relu", 3, 0.3, "ntk", 2),
    ("erf", 2, 0.1, "standard", 1),
    ("erf", 0, 0.5, "ntk", 3),
    ("tanh", 2, 0.0, "standard", 2),
    ("gelu", 1, 0.2, "ntk", 1),
    ("leaky_relu(0.1)", 2, 0.4, "standard", 3),
    ("softplus", 4, 0.0, "ntk", 2),
]


@pytest.mark.parametrize("act,depth,bias,par,n_out", CASES)
def test_structured_ntk_equals_per_example_gradients(act, depth, bias, par, n_out):
    rng = np.random.default_rng(1)
    net = MLP(5, 9, depth, act, 1.8, bias, seed=2, n_outputs=n_out, parametrization=par)
    X = rng.standard_normal((7, 5))
    Y = rng.standard_normal((4, 5))
    ref_xx = _reference_ntk(net, X, X)
    ref_xy = _reference_ntk(net, X, Y)
    for chunk in (None, 3):  # several blocks, incl. the mirrored upper/lower ones
        K = net.ntk_gram(X, chunk_size=chunk)
        K = K[None] if n_out == 1 else K
        assert K.shape == (n_out, 7, 7)
        assert np.max(np.abs(K - ref_xx)) <= 1e-10 * np.max(np.abs(ref_xx))
    K2 = net.ntk_gram(X, Y, chunk_size=2)
    K2 = K2[None] if n_out == 1 else K2
    assert np.max(np.abs(K2 - ref_xy)) <= 1e-10 * np.max(np.abs(ref_xy))
    # single output block
    c = n_out - 1
    assert np.allclose(net.ntk_gram(X, output=c), ref_xx[c], rtol=1e-10, atol=0)


def test_per_layer_parts_sum_and_ck_is_last_layer():
    net = MLP(4, 16, 3, "erf", 2.5, 0.1, seed=0)
    X = sample_sphere(4, 9, seed=0)
    K, parts = net.ntk_gram(X, per_layer=True, chunk_size=4)
    assert sorted(parts) == [1, 2, 3, 4]
    assert np.allclose(sum(parts.values()), K, rtol=1e-13)
    # NTK param: output-layer contribution = sigma_w^2/n_L phi phi^T + sigma_b^2 = empirical CK
    assert np.allclose(parts[4], net.ck_gram(X), rtol=1e-13)
    F = net.features(X)
    assert np.allclose(net.ck_gram(X), 2.5 / 16 * F @ F.T + 0.1, rtol=1e-13)
    # CK in standard parametrization uses the same formula
    sp = MLP(4, 16, 3, "erf", 2.5, 0.1, seed=0, parametrization="standard")
    assert np.allclose(sp.ck_gram(X), net.ck_gram(X), rtol=1e-12)


def test_large_width_approaches_mlp_kernel():
    """Monte-Carlo over seeds: the mean empirical CK/NTK is within 4 s.e. (+ 1% bias) of mlp_kernel."""
    X = cube_points(12, 6, seed=3)
    C = X @ X.T / 12
    for act, depth, wv, bv in [("relu", 2, 2.0, 0.3), ("erf", 1, 2.5, 0.1)]:
        nets = [MLP(12, 1500, depth, act, wv, bv, seed=s) for s in range(6)]
        for kern in ("ck", "ntk"):
            emp = np.array([n.ck_gram(X) if kern == "ck" else n.ntk_gram(X) for n in nets])
            ana = mlp_kernel(C, act, depth, wv, bv, kern)
            mean, se = emp.mean(0), emp.std(0, ddof=1) / np.sqrt(len(nets))
            assert np.all(np.abs(mean - ana) <= 4 * se + 0.01 * np.abs(ana).max()), (act, kern)
            assert np.max(se / np.abs(ana).max()) < 0.05  # the error bars are informative


def test_standard_parametrization_ntk_matches_formula():
    """Standard parametrization with trained biases (Jacot et al. 2018; Lee et al. 2019): Theta_SP^2 = n1 V(Sigma^1) + 1 + sw^2 Vdot(Sigma^1) Theta_SP^1."""
    d, n1, wv, bv = 6, 2000, 2.0, 0.2
    X = sample_sphere(d, 5, seed=0)
    G = X @ X.T
    S1 = wv * G / d + bv
    q = np.diag(S1)
    act = get_activation("relu")
    V = act.dual(S1, q[:, None], q[None, :])
    Vd = act.dual_derivative(S1, q[:, None], q[None, :])
    theta1 = G + 1.0
    ana = n1 * V + 1.0 + wv * Vd * theta1
    emp = np.array([MLP(d, n1, 1, "relu", wv, bv, seed=s, parametrization="standard").ntk_gram(X)
                    for s in range(6)])
    mean, se = emp.mean(0), emp.std(0, ddof=1) / np.sqrt(6)
    assert np.all(np.abs(mean - ana) <= 4 * se + 0.01 * np.abs(ana).max())
    # and it is not the NTK-parametrization kernel (grows with the width)
    assert mean.max() > 100 * mlp_kernel(1.0, "relu", 1, wv, bv, "ntk")


def test_chunked_large_n_memory_path():
    """Forcing the recompute path (no signal cache) gives the same Gram."""
    import spectra.empirical.measured_kernels as mk

    net = MLP(3, 8, 2, "tanh", 1.0, 0.1, seed=0, n_outputs=2)
    X = np.random.default_rng(0).standard_normal((11, 3))
    K = empirical_ntk(net, X, chunk_size=4)
    old = mk._CACHE_BYTES
    try:
        mk._CACHE_BYTES = 0
        K0 = empirical_ntk(net, X, chunk_size=4)
    finally:
        mk._CACHE_BYTES = old
    assert np.array_equal(K, K0)
    assert np.allclose(K, np.transpose(K, (0, 2, 1)), rtol=1e-14)
    assert empirical_ck(net, X).shape == (11, 11)


def test_bad_arguments():
    net = MLP(3, 4, 1, n_outputs=2)
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match="output"):
        net.ntk_gram(X, output=2)
    with pytest.raises(ValueError, match="chunk_size"):
        net.ntk_gram(X, chunk_size=0)
    with pytest.raises(TypeError, match="net must be"):
        empirical_ntk("not a net", X)
