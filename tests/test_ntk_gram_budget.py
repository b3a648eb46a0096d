"""MLP.ntk_gram estimates its memory first (issue #15): a Gram that cannot fit is refused at once,
naming the estimate and the limit, before any heavy allocation; one that fits only block by block
takes the blocked path, with the same numbers."""
import time
import tracemalloc

import numpy as np
import pytest

from spectra import _budget
from spectra.empirical import MLP

N_BIG = 50000  # one float64 Gram buffer of 50000 x 50000 is 18.6 GiB


def _refusal(net, X, X2=None, **kw):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ValueError) as exc:
            net.ntk_gram(X, X2, **kw)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(exc.value), seconds, peak


def test_refuses_n_50000_under_the_default_limit_within_a_second():
    limit = _budget.memory_limit()  # half the RAM unless --max-memory or SPECTRA_MAX_MEMORY says otherwise
    if limit >= N_BIG**2 * 8:
        pytest.skip(f"the memory limit here is {limit / 2**30:.0f} GiB: a {N_BIG}-point Gram fits")
    net = MLP(3, 16, depth=2, seed=0)
    X = np.random.default_rng(0).standard_normal((N_BIG, 3))
    msg, seconds, peak = _refusal(net, X)
    assert seconds < 1.0
    assert peak < 10 * 2**20  # nothing of Gram size was allocated
    assert "18.6 GiB" in msg and f"{N_BIG} x {N_BIG}" in msg
    assert f"above the limit of {_budget.format_bytes(limit)} (max_memory; by default --max-memory" in msg


@pytest.mark.parametrize("kw", [{}, {"per_layer": True}, {"chunk_size": 512}])
def test_refuses_above_max_memory_naming_estimate_and_limit(kw):
    net = MLP(3, 16, depth=2, seed=0, n_outputs=2)
    X = np.random.default_rng(0).standard_normal((N_BIG, 3))
    msg, seconds, peak = _refusal(net, X, max_memory=8 * 2**30, **kw)
    assert seconds < 1.0 and peak < 10 * 2**20
    buffers = 2 * (4 if kw.get("per_layer") else 1)  # K and the 3 layer parts, for each of the 2 outputs
    assert f"about {buffers * N_BIG**2 * 8 / 2**30:.1f} GiB" in msg, msg
    assert f"{buffers} Gram buffers of {N_BIG} x {N_BIG} float64" in msg and "the limit of 8.0 GiB" in msg
    # a rectangular Gram is estimated as n x n2
    msg, _, _ = _refusal(net, X, X[:30000], max_memory="8G", output=0)
    assert f"about {N_BIG * 30000 * 8 / 2**30:.1f} GiB" in msg and f"{N_BIG} x 30000" in msg


def test_fits_only_by_blocks_takes_the_blocked_path():
    import spectra.empirical.network as network

    net = MLP(4, 32, depth=2, activation="tanh", bias_var=0.2, seed=1)
    X = np.random.default_rng(1).standard_normal((300, 4))
    K = net.ntk_gram(X)
    gram = 300 * 300 * 8
    old = network.MLP._ntk_gram_syrk
    try:
        network.MLP._ntk_gram_syrk = None  # calling the one-pass path would fail
        Kb = net.ntk_gram(X, max_memory=gram + 2 * 300 * 300 * 8)  # K and the two block buffers, not 3 Grams
    finally:
        network.MLP._ntk_gram_syrk = old
    assert np.max(np.abs(K - Kb)) <= 1e-13 * np.max(np.abs(K))


def test_default_limit_is_the_process_limit(monkeypatch):
    """ntk_gram follows --max-memory / SPECTRA_MAX_MEMORY when max_memory is not given."""
    net = MLP(3, 4, depth=1)
    monkeypatch.setenv(_budget.ENV_VAR, "1M")
    X = np.ones((300, 3))  # one 300 x 300 Gram is 0.7 MiB; with the block buffers, above 1 MiB
    assert net.ntk_gram(X[:200]).shape == (200, 200)
    with pytest.raises(ValueError, match=r"ntk_gram of 300 x 300 points needs about 2\.1 MiB .* limit of 1\.0 MiB"):
        net.ntk_gram(X)


@pytest.mark.parametrize("bad,error", [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError),
                                       ("lots", ValueError), ([1], ValueError), (True, TypeError)])
def test_bad_max_memory(bad, error):
    net = MLP(3, 4, depth=1)
    with pytest.raises(error, match="max_memory must be a"):
        net.ntk_gram(np.ones((2, 3)), max_memory=bad)
