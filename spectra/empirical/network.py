r"""A numpy multilayer perceptron with exactly the analytic conventions.

NTK parametrization (``spectra.conventions()``), all raw parameters ``N(0, 1)``:

.. math::
    h^1 = \frac{\sigma_w}{\sqrt d} W^1 x + \sigma_b b^1,\qquad
    h^{l+1} = \frac{\sigma_w}{\sqrt{n_l}} W^{l+1}\phi(h^l) + \sigma_b b^{l+1},\qquad
    f(x) = h^{L+1}.

Standard parametrization: ``h^{l+1} = W^{l+1} phi(h^l) + b^{l+1}`` with
``W ~ N(0, sigma_w^2/n_l)``, ``b ~ N(0, sigma_b^2)``; the biases are trainable parameters even when
``sigma_b^2 = 0``.

``depth`` ``L`` is the number of hidden (nonlinear) layers; ``L = 0`` is the linear model.
Forward and backward passes are plain BLAS matrix products; no autodiff.
"""
from __future__ import annotations

import math

import numpy as np

from .._budget import ENV_VAR, format_bytes, memory_limit, parse_size
from .._validation import as_generator, check_depth, check_dim, check_finite_array, check_int, check_variance

__all__ = ["MLP"]

_PARAMETRIZATIONS = ("ntk", "standard")


class MLP:
    """Fully connected network ``R^dim -> R^n_outputs`` with ``depth`` hidden layers.

    Parameters
    ----------
    dim : int
        Input dimension ``d``.
    width : int
        Width ``n_l`` of every hidden layer (``>= 1``).
    depth : int
        Number of hidden (nonlinear) layers ``L >= 0``.
    activation : str or Activation
        Any name accepted by :func:`spectra.analytic.get_activation`.
    weight_var, bias_var : float
        ``sigma_w^2 > 0`` and ``sigma_b^2 >= 0``.
    seed : int or numpy.random.Generator
        Seed of the initialization (parameters are drawn layer by layer, ``W`` then ``b``).
    n_outputs : int
        Number of outputs.
    parametrization : {"ntk", "standard"}
    dtype : numpy float dtype
        ``np.float64`` or ``np.float32``.

    Attributes
    ----------
    params : list of ndarray
        ``[W1, b1, ..., W_{L+1}, b_{L+1}]``, the live arrays; ``W_l`` has shape
        ``(fan_out, fan_in)``, ``b_l`` shape ``(fan_out,)``.
    param_names : list of str
        ``["W1", "b1", ...]`` (also available as ``layer_names``).
    layer_scales : list of (float, float)
        Forward multipliers ``(w_l, b_l)`` of each layer ``l = 1..L+1``:
        ``h^l = w_l W^l a^{l-1} + b_l b^l``.

    The network implements the protocol of :func:`spectra.empirical.training.train`
    (``params``, ``param_names``, ``forward``, ``backward``, ``features``).

    Examples
    --------
    >>> import numpy as np
    >>> net = MLP(3, 16, depth=2, activation="relu", seed=0)
    >>> X = np.ones((4, 3))
    >>> net(X).shape
    (4, 1)
    >>> net.ntk_gram(X).shape
    (4, 4)
    >>> net.n_params == 3 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    True
    """

    def __init__(self, dim: int, width: int, depth: int, activation="relu", weight_var=2.0, bias_var=0.0, *,
                 seed=0, n_outputs: int = 1, parametrization: str = "ntk", dtype=np.float64):
        from ..analytic import get_activation

        self.dim = check_dim(dim)
        self.width = check_int(width, "width", minimum=1)
        self.depth = check_depth(depth)
        self.activation = get_activation(activation)
        self.weight_var = float(check_variance(weight_var, "weight_var", positive=True))
        self.bias_var = float(check_variance(bias_var, "bias_var"))
        if np.ndim(weight_var) or np.ndim(bias_var):
            raise TypeError("weight_var and bias_var must be scalars for a network")
        self.n_outputs = check_int(n_outputs, "n_outputs", minimum=1)
        if not isinstance(parametrization, str) or parametrization.lower() not in _PARAMETRIZATIONS:
            raise ValueError(f"parametrization must be 'ntk' or 'standard', got {parametrization!r}")
        self.parametrization = parametrization.lower()
        dt = np.dtype(dtype)
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"dtype must be float32 or float64, got {dt}")
        self.dtype = dt
        self.seed = seed
        self.sizes = [self.dim] + [self.width] * self.depth + [self.n_outputs]
        self.layer_names = [f"{p}{l}" for l in range(1, self.depth + 2) for p in ("W", "b")]
        sw, sb = math.sqrt(self.weight_var), math.sqrt(self.bias_var)
        # multipliers applied in the forward pass (w_scale * W a + b_scale * b)
        if self.parametrization == "ntk":
            self._w_scale = [sw / math.sqrt(fan_in) for fan_in in self.sizes[:-1]]
            self._b_scale = [sb] * (self.depth + 1)
        else:
            self._w_scale = [1.0] * (self.depth + 1)
            self._b_scale = [1.0] * (self.depth + 1)
        rng = as_generator(seed)
        self.params: list[np.ndarray] = []
        for l in range(self.depth + 1):
            fan_in, fan_out = self.sizes[l], self.sizes[l + 1]
            W = rng.standard_normal((fan_out, fan_in))
            b = rng.standard_normal(fan_out)
            if self.parametrization == "standard":
                W *= sw / math.sqrt(fan_in)
                b *= sb
            self.params += [W.astype(dt), b.astype(dt)]

    # ------------------------------------------------------------------ parameters
    @property
    def param_names(self) -> list:
        """Names of :attr:`params`, ``["W1", "b1", ..., "W{L+1}", "b{L+1}"]``."""
        return self.layer_names

    @property
    def layer_scales(self) -> list:
        """Forward multipliers ``(w_l, b_l)`` per layer: ``h^l = w_l W^l a^{l-1} + b_l b^l``.

        NTK parametrization: ``w_l = sigma_w / sqrt(n_{l-1})``, ``b_l = sigma_b``; standard: ``(1, 1)``.
        """
        return list(zip(self._w_scale, self._b_scale))

    @property
    def config(self) -> dict:
        """The constructor's settings as a JSON-serialisable dict (stored in a training run)."""
        seed = None if isinstance(self.seed, np.random.Generator) else int(self.seed)
        return {"dim": self.dim, "width": self.width, "depth": self.depth, "activation": self.activation.name,
                "weight_var": self.weight_var, "bias_var": self.bias_var, "n_outputs": self.n_outputs,
                "parametrization": self.parametrization, "seed": seed, "dtype": self.dtype.name}

    @property
    def n_params(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(p.size for p in self.params))

    def set_params(self, params) -> None:
        """Replace the parameters (copied into the live arrays; shapes must match)."""
        params = list(params)
        if len(params) != len(self.params):
            raise ValueError(f"params must be a list of {len(self.params)} arrays, got {len(params)}")
        for name, old, new in zip(self.layer_names, self.params, params):
            new = np.asarray(new)
            if new.shape != old.shape:
                raise ValueError(f"params[{name}] must have shape {old.shape}, got {new.shape}")
            if not np.all(np.isfinite(new)):
                raise ValueError(f"params[{name}] must be finite")
            old[...] = new

    def __repr__(self) -> str:
        return (f"MLP(dim={self.dim}, width={self.width}, depth={self.depth}, activation={self.activation.name!r}, "
                f"weight_var={self.weight_var}, bias_var={self.bias_var}, n_outputs={self.n_outputs}, "
                f"parametrization={self.parametrization!r}, dtype={self.dtype.name})")

    # ------------------------------------------------------------------ input checks
    def check_input(self, X, name: str = "X") -> np.ndarray:
        """``X`` as a finite ``(n, dim)`` array of the network's dtype (not copied if it already is one)."""
        if isinstance(X, np.ndarray) and X.dtype == self.dtype and X.ndim == 2:
            arr = X
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be finite (no NaN or inf)")
        else:
            arr = check_finite_array(X, name, ndim=2, dtype=self.dtype)
        if arr.shape[1] != self.dim:
            raise ValueError(f"{name} must have shape (n, {self.dim}) for this network (dim={self.dim}), "
                             f"got {arr.shape}")
        return arr

    def _phi(self, H):
        return np.asarray(self.activation.fn(H), dtype=self.dtype)

    def _dphi(self, H):
        return np.asarray(self.activation.derivative(H), dtype=self.dtype)

    # ------------------------------------------------------------------ passes
    def _preactivation(self, l, a):
        """``h^{l+1} = w_l W a + b_l b`` (0-based layer ``l``), written in place into the product."""
        W, b = self.params[2 * l], self.params[2 * l + 1]
        h = a @ W.T
        if self._w_scale[l] != 1.0:
            h *= self.dtype.type(self._w_scale[l])
        if self._b_scale[l] != 0.0:
            h += self.dtype.type(self._b_scale[l]) * b
        return h

    def _forward(self, X):
        """Return (output, pre-activations [H1..HL], post-activations [A0=X, A1..AL])."""
        A = [X]
        H = []
        a = X
        for l in range(self.depth + 1):
            h = self._preactivation(l, a)
            if l == self.depth:
                return h, H, A
            H.append(h)
            a = self._phi(h)
            A.append(a)
        raise AssertionError("unreachable")

    def __call__(self, X) -> np.ndarray:
        """Network outputs, shape ``(n, n_outputs)`` (also for a scalar output)."""
        return self._forward(self.check_input(X))[0]

    def forward(self, X):
        """Outputs ``(n, n_outputs)`` and a cache for :meth:`backward`."""
        X = self.check_input(X)
        out, H, A = self._forward(X)
        return out, (H, A)

    def features(self, X) -> np.ndarray:
        """Last hidden layer post-activations ``phi(h^L)``, shape ``(n, width)``; the inputs if ``L = 0``."""
        return self._forward(self.check_input(X))[2][-1]

    def backward(self, cache, grad_out) -> list:
        """Gradients of a loss w.r.t. :attr:`params`, summed over the samples.

        Parameters
        ----------
        cache : object
            Second return value of :meth:`forward`.
        grad_out : array_like, shape (n, n_outputs)
            ``d loss / d out``.

        Returns
        -------
        list of ndarray
            Same shapes and order as :attr:`params`.
        """
        H, A = cache
        n = A[0].shape[0]
        G = np.asarray(grad_out, dtype=self.dtype)
        if G.ndim == 1 and self.n_outputs == 1:
            G = G[:, None]
        if G.shape != (n, self.n_outputs):
            raise ValueError(f"grad_out must have shape ({n}, {self.n_outputs}), got {G.shape}")
        grads: list = [None] * len(self.params)
        delta = G  # d loss / d h^{l+1}
        for l in range(self.depth, -1, -1):
            ws, bs = self.dtype.type(self._w_scale[l]), self.dtype.type(self._b_scale[l])
            grads[2 * l] = (delta.T @ A[l]) * ws
            grads[2 * l + 1] = delta.sum(axis=0) * bs
            if l > 0:
                delta = (delta @ self.params[2 * l]) * ws
                delta *= self._dphi(H[l - 1])
        return grads

    def layer_signals(self, X, outputs=None):
        """Per-layer inputs and backward signals, the pieces of the empirical NTK.

        Parameters
        ----------
        X : array_like, shape (n, dim)
        outputs : sequence of int, optional
            Output indices ``c``; default all.

        Returns
        -------
        A : list of ndarray
            Over layers ``l = 1..L+1``: the layer input ``phi(h^{l-1})`` (``X`` for ``l = 1``),
            shape ``(n, n_{l-1})``.
        D : list of lists
            ``D[i][l-1]`` = ``d f_c / d h^l`` for ``c = outputs[i]`` and the hidden layers
            ``l = 1..L``, shape ``(n, n_l)``; ``None`` for the output layer, whose signal is the
            unit vector ``e_c``.

        Examples
        --------
        >>> net = MLP(3, 8, depth=2, seed=0)
        >>> A, D = net.layer_signals(np.ones((5, 3)))
        >>> [a.shape for a in A], [d.shape if d is not None else None for d in D[0]]
        ([(5, 3), (5, 8), (5, 8)], [(5, 8), (5, 8), None])
        """
        X = self.check_input(X)
        if outputs is None:
            outputs = range(self.n_outputs)
        outputs = [check_int(c, "outputs", minimum=0, maximum=self.n_outputs - 1) for c in outputs]
        return self._layer_signals(X, outputs)

    def _layer_signals(self, X, outputs):
        # each pre-activation is dropped as soon as phi and phi' of it are taken
        A, dphi = [X], []
        for l in range(self.depth):
            h = self._preactivation(l, A[-1])
            A.append(self._phi(h))
            dphi.append(self._dphi(h))
        D = []
        for c in outputs:
            Dc = [None] * (self.depth + 1)
            delta = None
            for l in range(self.depth, 0, -1):
                ws = self.dtype.type(self._w_scale[l])
                if delta is None:  # output layer: d f_c / d h^L = ws * W_{L+1}[c] * phi'(h^L)
                    delta = (ws * self.params[2 * l][c])[None, :] * dphi[l - 1]
                else:  # in place: the same roundings as (delta @ W) * ws * phi'
                    delta = delta @ self.params[2 * l]
                    delta *= ws
                    delta *= dphi[l - 1]
                Dc[l - 1] = delta
            D.append(Dc)
        return A, D

    # ------------------------------------------------------------------ kernels
    def ntk_gram(self, X, X2=None, *, per_layer: bool = False, output=None, chunk_size=None, max_memory=None):
        """Empirical NTK Gram matrix (the layer-structured sum of :func:`~spectra.empirical.empirical_ntk`).

        Parameters
        ----------
        X, X2, per_layer, output
            As in :func:`spectra.empirical.empirical_ntk`.
        chunk_size : int, optional
            Rows per block.  Given, or with ``X2``, the Gram is assembled block by block by
            ``empirical_ntk`` (one ``n x n2`` array per output).  Default: in one pass over the whole
            sample, one symmetric rank-k update (BLAS ``syrk``) per layer Gram (two more ``n x n``
            buffers), or by blocks of 1024 rows when those buffers do not fit in ``max_memory``.
        max_memory : int, float or str, optional
            Memory limit in bytes, or a size such as ``"4G"``; default the process's limit (the CLI's
            ``--max-memory``, the environment variable ``SPECTRA_MAX_MEMORY``, or half the RAM).  A
            Gram whose ``n x n2`` buffers (``n * n2 * itemsize`` bytes each) exceed it is refused
            before anything is allocated.

        Returns
        -------
        K : ndarray, or (K, layers) if ``per_layer``
            See :func:`spectra.empirical.empirical_ntk`.

        Raises
        ------
        ValueError
            Bad arguments, or the estimated memory above ``max_memory`` (the message names both).

        Examples
        --------
        >>> net = MLP(3, 16, depth=2, seed=0)
        >>> X = np.random.default_rng(0).standard_normal((5, 3))
        >>> K, parts = net.ntk_gram(X, per_layer=True)
        >>> bool(np.allclose(K, sum(parts.values()))), bool(np.allclose(K, net.ntk_gram(X, chunk_size=2)))
        (True, True)
        >>> net.ntk_gram(np.ones((50000, 3)), max_memory=2**30)
        Traceback (most recent call last):
        ...
        ValueError: ntk_gram of 50000 x 50000 points needs about 18.6 GiB of memory (1 Gram buffer of 50000 x 50000 float64), above the limit of 1.0 GiB (max_memory; by default --max-memory, SPECTRA_MAX_MEMORY or half the RAM)
        """
        from .measured_kernels import empirical_ntk

        X = self.check_input(X, "X")
        Y = None if X2 is None else self.check_input(X2, "X2")
        outs = range(self.n_outputs) if output is None else [
            check_int(output, "output", minimum=0, maximum=self.n_outputs - 1)]
        if chunk_size is not None:
            check_int(chunk_size, "chunk_size", minimum=1)
        n = X.shape[0]
        n2 = n if Y is None else Y.shape[0]
        # memory: the Grams returned, the per-layer buffers of the one-pass path, the layer signals
        grams = len(outs) * (1 + (self.depth + 1 if per_layer else 0))
        gram_bytes = n * n2 * self.dtype.itemsize
        signal_bytes = n * (sum(self.sizes[:-1]) + len(outs) * sum(self.sizes[1:-1])) * self.dtype.itemsize
        limit = memory_limit() if max_memory is None else parse_size(max_memory, "max_memory")
        one_pass = (grams + 1 + (self.depth > 0)) * gram_bytes + signal_bytes
        if Y is None and chunk_size is None and 0 < one_pass <= limit:
            return self._ntk_gram_syrk(X, list(outs), per_layer, squeeze=output is not None or self.n_outputs == 1)
        size = 1024 if chunk_size is None else chunk_size
        blocked = grams * gram_bytes + 2 * min(size, n) * min(size, n2) * self.dtype.itemsize
        if blocked > limit:
            raise ValueError(f"ntk_gram of {n} x {n2} points needs about {format_bytes(blocked)} of memory ({grams} Gram "
                             f"buffer{'s' * (grams > 1)} of {n} x {n2} {self.dtype.name}), above the limit of "
                             f"{format_bytes(limit)} (max_memory; by default --max-memory, {ENV_VAR} or half the RAM)")
        return empirical_ntk(self, X, Y, per_layer=per_layer, output=output, chunk_size=chunk_size)

    def _ntk_gram_syrk(self, X, outs, per_layer, squeeze):
        """Sum over layers of (signal Gram) * (w^2 input Gram + b^2), each Gram one ``syrk`` (upper triangle)."""
        from scipy.linalg.blas import dsyrk, ssyrk

        syrk = dsyrk if self.dtype == np.float64 else ssyrk
        A, D = self._layer_signals(X, outs)
        n, dt = X.shape[0], self.dtype

        def gram(M, alpha, out):  # upper triangle of alpha M M^T written into out (C order; no copy)
            syrk(alpha, M.T, c=out.T, trans=1, lower=1, overwrite_c=1)
            return out

        def zeros(*shape):  # syrk never writes the lower triangles, which must stay finite; one sequential
            buf = np.empty(shape, dt)  # pass touches the fresh pages (faulting them in inside the threaded
            buf.fill(0)  # syrk costs about as much CPU time as the product itself)
            return buf

        K, AG = zeros(len(outs), n, n), zeros(n, n)
        DG = zeros(n, n) if self.depth else None
        parts = {l: np.empty((len(outs), n, n), dt) for l in range(1, self.depth + 2)} if per_layer else None
        for l, (ws, bs) in enumerate(self.layer_scales):
            gram(A[l], ws * ws, AG)
            if bs != 0.0:
                AG += dt.type(bs * bs)
            for i, Dc in enumerate(D):
                if Dc[l] is None:  # output layer: its signal Gram is 1
                    blk = AG
                else:  # the first layer's product is formed in K itself
                    blk = gram(Dc[l], 1.0, K[i] if l == 0 else DG)
                    blk *= AG
                if l == 0 and Dc[l] is None:  # depth 0
                    K[i] = blk
                elif l > 0:
                    K[i] += blk
                if per_layer:
                    parts[l + 1][i] = blk
        for M in [K] + (list(parts.values()) if per_layer else []):
            _mirror_upper(M)
        if squeeze:
            K = K[0]
            parts = {l: v[0] for l, v in parts.items()} if per_layer else None
        return (K, parts) if per_layer else K

    def ck_gram(self, X, X2=None, *, chunk_size=None):
        """Empirical CK ``sigma_w^2/n_L phi(h^L) phi(h^L)^T + sigma_b^2``, shape ``(n, n2)``."""
        from .measured_kernels import empirical_ck

        return empirical_ck(self, X, X2, chunk_size=chunk_size)


def _mirror_upper(M, tile: int = 256) -> None:
    """Copy the upper triangle of each ``M[i]`` onto its lower one, tile by tile (cache-sized transposes)."""
    n = M.shape[-1]
    below = np.tri(min(tile, n), k=-1, dtype=bool)
    for s in range(0, n, tile):
        e = min(s + tile, n)
        for r in range(0, s, tile):
            M[:, s:e, r:r + tile] = M[:, r:r + tile, s:e].transpose(0, 2, 1)
        d = M[:, s:e, s:e]
        m = below[: e - s, : e - s]
        d[:, m] = d.transpose(0, 2, 1)[:, m]
