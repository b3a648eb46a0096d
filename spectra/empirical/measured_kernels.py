r"""Empirical CK and NTK Gram matrices of an :class:`~spectra.empirical.network.MLP`.

For output ``c`` the gradient of ``f_c`` w.r.t. the layer-``l`` weights is the outer product
``w_l * delta_l(x) a_{l-1}(x)^T`` (``delta_l = d f_c / d h^l``, ``a_{l-1}`` the layer input,
``w_l`` the forward weight multiplier) and w.r.t. its bias ``b_l * delta_l(x)``.  Hence

.. math::
    \Theta_c(x, y) = \sum_{l=1}^{L+1} \langle\delta_l(x), \delta_l(y)\rangle\,
        \big(w_l^2 \langle a_{l-1}(x), a_{l-1}(y)\rangle + b_l^2\big),

a sum over layers of (backward-signal Gram) ⊙ (input-activation Gram).  For the output layer
``delta = e_c`` and the signal Gram is 1.  Nothing of size (points x parameters) is formed; the
Gram matrix is assembled block by block so that ``n = 16384`` fits in memory.

The empirical CK is ``sigma_w^2/n_L <phi(h^L(x)), phi(h^L(y))> + sigma_b^2`` in both
parametrizations (the conditional output covariance given the last features), the finite-width
analogue of the analytic ``Sigma^{L+1}``.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_int

__all__ = ["empirical_ntk", "empirical_ck"]

_DEFAULT_CHUNK = 1024
_CACHE_BYTES = 1 << 30  # keep all per-layer signals if they take at most 1 GiB


_NET_API = ("check_input", "layer_signals", "layer_scales", "features", "n_outputs", "sizes", "dtype", "weight_var",
            "bias_var")


def _check_net(net):
    # any object with the MLP's public kernel API will do; no import of the network module
    missing = [a for a in _NET_API if not hasattr(net, a)]
    if missing:
        raise TypeError(f"net must be a spectra.empirical.MLP (or have its {', '.join(_NET_API)}), "
                        f"got {type(net).__name__}")


def _chunks(n: int, size: int):
    return [slice(s, min(s + size, n)) for s in range(0, n, size)]


def _resolve_outputs(net, output):
    if output is None:
        return list(range(net.n_outputs)), net.n_outputs == 1
    c = check_int(output, "output", minimum=0, maximum=net.n_outputs - 1)
    return [c], True


def empirical_ntk(net, X, X2=None, *, per_layer: bool = False, output=None, chunk_size=None):
    """Empirical NTK Gram matrix from the layer structure (no per-example Jacobians).

    Parameters
    ----------
    net : MLP
    X : array_like, shape (n, d)
    X2 : array_like, shape (n2, d), optional
        Second set of points; default ``X`` (symmetric Gram, only upper blocks computed).
    per_layer : bool
        Also return the contribution of each layer (weights and bias of layer ``l``).
    output : int, optional
        Only this output's block.
    chunk_size : int, optional
        Rows per block (default 1024).

    Returns
    -------
    K : ndarray
        ``(n, n2)`` for a scalar-output net or when ``output`` is given; otherwise the per-output
        diagonal blocks ``(n_outputs, n, n2)``.  dtype of the network.
    layers : dict, only if ``per_layer``
        ``{l: contribution}`` for ``l = 1..L+1``, same shape as ``K``; they sum to ``K``.

    Examples
    --------
    >>> import numpy as np
    >>> from spectra.empirical import MLP
    >>> net = MLP(4, 32, depth=1, seed=0)
    >>> X = np.eye(4) * 2.0
    >>> K, parts = empirical_ntk(net, X, per_layer=True)
    >>> np.allclose(K, parts[1] + parts[2])
    True
    """
    _check_net(net)
    X = net.check_input(X, "X")
    sym = X2 is None
    Y = X if sym else net.check_input(X2, "X2")
    outs, squeeze = _resolve_outputs(net, output)
    n, n2 = X.shape[0], Y.shape[0]
    size = _DEFAULT_CHUNK if chunk_size is None else check_int(chunk_size, "chunk_size", minimum=1)
    scales = net.layer_scales
    n_layers = len(scales)
    dt = net.dtype
    # every entry is assigned by the first layer (and, for X2 = None, the lower blocks by the mirror
    # at the end), so no zero fill is needed
    K = np.empty((len(outs), n, n2), dtype=dt)
    parts = {l: np.empty((len(outs), n, n2), dtype=dt) for l in range(1, n_layers + 1)} if per_layer else None
    w2 = [dt.type(w * w) for w, _ in scales]
    b2 = [dt.type(b * b) for _, b in scales]

    per_point = (sum(net.sizes[:-1]) + len(outs) * sum(net.sizes[1:-1])) * dt.itemsize
    rows, cols = _chunks(n, size), _chunks(n2, size)
    cache_ok = per_point * (n2 if sym else n + n2) <= _CACHE_BYTES
    cache: dict = {}

    def signals(which, i, sl):
        key = (which, i)
        if key in cache:
            return cache[key]
        sig = net.layer_signals((X if which == 0 else Y)[sl], outs)
        if cache_ok:
            cache[key] = sig
        return sig

    # two block buffers, reused: the products are written into them (no per-block temporaries), the
    # Hadamard product is taken in place and accumulated into K's block; a diagonal block's products
    # are A @ A.T of one contiguous array (a symmetric rank-k update in BLAS)
    buf_a = np.empty(size * min(size, n2), dtype=dt)
    buf_d = np.empty_like(buf_a)
    for i, rs in enumerate(rows):
        Ai, Di = signals(0, i, rs)
        for j, cs in enumerate(cols):
            if sym and j < i:
                continue
            Aj, Dj = (Ai, Di) if (sym and i == j) else signals(0 if sym else 1, j, cs)
            shape = (rs.stop - rs.start, cs.stop - cs.start)
            AG = buf_a[: shape[0] * shape[1]].reshape(shape)
            DG = buf_d[: shape[0] * shape[1]].reshape(shape)
            for l in range(n_layers):
                np.matmul(Ai[l], Aj[l].T, out=AG)
                AG *= w2[l]
                if b2[l] != 0:
                    AG += b2[l]
                for ci in range(len(outs)):
                    if Di[ci][l] is None:
                        blk = AG
                    else:
                        np.matmul(Di[ci][l], Dj[ci][l].T, out=DG)
                        DG *= AG
                        blk = DG
                    if l == 0:
                        K[ci, rs, cs] = blk
                    else:
                        K[ci, rs, cs] += blk
                    if per_layer:
                        parts[l + 1][ci, rs, cs] = blk
        cache.pop((0, i), None)  # row chunk i is never needed again
    if sym:  # the blocks below the diagonal are the transposes of those above it
        for M in [K] + (list(parts.values()) if per_layer else []):
            for i, rs in enumerate(rows):
                for cs in cols[i + 1:]:
                    M[:, cs, rs] = M[:, rs, cs].transpose(0, 2, 1)
    if squeeze:
        K = K[0]
        if per_layer:
            parts = {l: v[0] for l, v in parts.items()}
    return (K, parts) if per_layer else K


def empirical_ck(net, X, X2=None, *, chunk_size=None) -> np.ndarray:
    """Empirical CK ``sigma_w^2/n_L phi(h^L) phi(h^L)^T + sigma_b^2`` (``n_L = d`` if ``L = 0``).

    Parameters
    ----------
    net : MLP
    X : array_like, shape (n, d)
    X2 : array_like, shape (n2, d), optional
    chunk_size : int, optional
        Rows per block of the features computation (default 1024).

    Returns
    -------
    ndarray, shape (n, n2)

    Examples
    --------
    >>> import numpy as np
    >>> from spectra.empirical import MLP
    >>> net = MLP(2, 8, depth=0, weight_var=2.0, bias_var=0.5)
    >>> empirical_ck(net, np.array([[1.0, 1.0]])).tolist()
    [[2.5]]
    """
    _check_net(net)
    X = net.check_input(X, "X")
    Y = None if X2 is None else net.check_input(X2, "X2")
    size = _DEFAULT_CHUNK if chunk_size is None else check_int(chunk_size, "chunk_size", minimum=1)

    def feats(Z):
        return np.concatenate([net.features(Z[s]) for s in _chunks(Z.shape[0], size)], axis=0)

    F = feats(X)
    G = F if Y is None else feats(Y)
    dt = net.dtype
    K = F @ G.T
    K *= dt.type(net.weight_var / net.sizes[-2])
    if net.bias_var != 0:
        K += dt.type(net.bias_var)
    return K
