r"""Infinite-width CK (NNGP) and NTK of a multilayer perceptron.

Conventions (used everywhere in ``spectra``; see ``spectra.conventions()``):

* NTK parametrization; all weights and biases ``N(0, 1)``;
* first-layer covariance ``Sigma^1(x, y) = weight_var <x, y>/d + bias_var``;
* ``depth`` L = number of nonlinear (hidden) layers; ``L = 0`` is the linear model;
* scalar output; the CK of depth L is ``Sigma^{L+1}``, the NTK is ``Theta^{L+1}``:

.. math::
    \Sigma^{l+1} = \sigma_w^2 V_\phi(\Sigma^l) + \sigma_b^2,\qquad
    \Theta^{l+1} = \Sigma^{l+1} + \sigma_w^2 V_{\phi'}(\Sigma^l)\,\Theta^l,\qquad
    \Theta^1 = \Sigma^1 .

On the cube and the sphere ``||x||^2 = d``, so the kernel is a function ``Phi(c)`` of
``c = <x, y>/d`` in ``[-1, 1]``.  For general inputs pass ``norm_x = ||x||^2/d`` and
``norm_y = ||y||^2/d``.

Two evaluators share the recursion: float64 with numpy broadcasting (hyperparameter grids),
and Arb ball arithmetic at any precision (certified radii) for closed-form activations.
The module also propagates the odd/even polynomial *structure* of the kernel, which
decides the eigenvalues that vanish exactly by symmetry.

**Domain** (checked up front, a ``ValueError`` naming the argument otherwise): variances 0 or
normal float64 numbers (``>= 2.2e-308``); every layer's diagonal ``Sigma^l(x, x)`` (and
``Theta^l(x, x)``) within ``[2.2e-308, 2^1000]``, so that the kernel is representable in float64
(the refusal names the depth that leaves the range); ``|c| <= sqrt(norm_x norm_y)``
(Cauchy-Schwarz, relative tolerance 1e-8); an input of norm 0 needs ``bias_var > 0`` (its
first-layer variance).  Inside the domain no evaluator returns inf or NaN: a float64 value that
overflows on the way is recomputed in Arb (see :mod:`spectra.analytic._kernel_domain`).
"""
from __future__ import annotations

import numpy as np

from dataclasses import dataclass
from functools import cached_property, lru_cache

from .._validation import check_depth, check_finite_array, check_kernel_name, check_variance
from ._activation import INF, Activation, _deg_mul
from ._kernel_domain import check_cauchy_schwarz, check_kernel_domain, diag_duals, repair_nonfinite
from ._mehler import mehler_kernel_values
from .activations import get_activation

__all__ = ["MLPKernel", "mlp_kernel", "kernel_structure", "structural_zero", "kernel_values_arb"]


@dataclass(frozen=True, eq=False)
class MLPKernel:
    r"""The infinite-width CK or NTK of a multilayer perceptron: one immutable, validated object.

    Every spectrum, grid and comparison in ``spectra`` takes this object; it is validated once,
    here, and internal code never re-validates it. Conventions: ``spectra.conventions()``.

    Parameters
    ----------
    activation : str or Activation
        Any name of :func:`spectra.analytic.available_activations`, or an :class:`Activation`.
    depth : int
        Number of nonlinear layers ``L >= 0`` (default 2).
    weight_var, bias_var : float
        ``sigma_w^2 > 0`` (default 2) and ``sigma_b^2 >= 0`` (default 0); first-layer covariance
        ``sigma_w^2 <x, y>/d + sigma_b^2``.
    kind : {"ntk", "ck"}
        Neural tangent kernel (default) or conjugate kernel (NNGP).
    parametrization : {"ntk", "standard"}
        The infinite-width CK is the same in both; the NTK has a finite infinite-width limit only
        in the NTK parametrization, so ``kind="ntk"`` requires ``parametrization="ntk"``.

    Examples
    --------
    >>> k = MLPKernel("relu", depth=1, weight_var=2.0, bias_var=0.0, kind="ck")
    >>> float(k(1.0)), round(float(k(0.0)), 6)
    (2.0, 0.63662)
    >>> k.structure                      # (degree of the odd part, of the even part); INF = not a polynomial
    (1, 1000000000)
    """

    activation: Activation = "relu"
    depth: int = 2
    weight_var: float = 2.0
    bias_var: float = 0.0
    kind: str = "ntk"
    parametrization: str = "ntk"

    def __post_init__(self):
        put = object.__setattr__
        put(self, "activation", get_activation(self.activation))
        put(self, "depth", check_depth(self.depth))
        put(self, "kind", check_kernel_name(self.kind, "kind"))
        wv = check_variance(self.weight_var, "weight_var", positive=True)
        bv = check_variance(self.bias_var, "bias_var")
        if np.ndim(wv) or np.ndim(bv):
            raise TypeError("weight_var and bias_var of an MLPKernel must be scalars (use cube_spectrum_grid for grids)")
        put(self, "weight_var", float(wv))
        put(self, "bias_var", float(bv))
        if self.parametrization not in ("ntk", "standard"):
            raise ValueError(f"parametrization must be 'ntk' or 'standard', got {self.parametrization!r}")
        if self.parametrization == "standard" and self.kind == "ntk":
            raise ValueError("parametrization='standard': the NTK has no width-independent limit; use "
                             "parametrization='ntk' (the CK is the same in both)")
        _check_domain_once(self.activation, self.depth, self.weight_var, self.bias_var, self.kind)

    # ------------------------------------------------------------------ identity
    def _key(self) -> tuple:
        return (self.activation.name, self.depth, self.weight_var, self.bias_var, self.kind, self.parametrization)

    def __eq__(self, other) -> bool:
        return isinstance(other, MLPKernel) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"MLPKernel({self.activation.name!r}, depth={self.depth}, weight_var={self.weight_var:g}, "
                f"bias_var={self.bias_var:g}, kind={self.kind!r})")

    def params(self) -> dict:
        """The echo of the inputs stored with every result (``Spectrum.params``)."""
        return dict(activation=self.activation.name, depth=self.depth, weight_var=self.weight_var,
                    bias_var=self.bias_var, kernel=self.kind)

    def replace(self, **changes) -> "MLPKernel":
        """A copy with some fields changed (validated again)."""
        from dataclasses import replace

        return replace(self, **changes)

    # ------------------------------------------------------------------ evaluation
    def __call__(self, c, *, norm_x=1.0, norm_y=1.0) -> np.ndarray:
        """``Phi(c)`` in float64, ``c = <x, y>/d``; ``norm_x = ||x||^2/d`` (Gaussian inputs).

        Parameters
        ----------
        c, norm_x, norm_y : array_like
            Broadcast together; ``c`` finite with ``|c| <= sqrt(norm_x norm_y)``, norms ``>= 0``
            (a norm of 0 needs ``bias_var > 0``).

        Returns
        -------
        ndarray, shape ``broadcast(c, norm_x, norm_y)``
        """
        c = check_finite_array(c, "c")
        nx = check_variance(norm_x, "norm_x")
        ny = check_variance(norm_y, "norm_y")
        c = check_cauchy_schwarz(c, nx, ny)
        if not (np.all(nx == 1.0) and np.all(ny == 1.0)):
            check_kernel_domain(self.activation, self.depth, self.weight_var, self.bias_var, self.kind,
                                norms=[np.unique(nx), np.unique(ny)])
        return self._f64(c, nx, ny)

    def _f64(self, c, nx=1.0, ny=1.0) -> np.ndarray:
        return _final_f64(self.activation, self.depth, self.weight_var, self.bias_var, self.kind, c, nx, ny)

    def diagonal(self, norm=1.0) -> float:
        """Float64 ``K(x, x)`` for ``||x||^2/d = norm`` (``Phi(1)``, the trace, for ``norm = 1``)."""
        n = float(check_variance(norm, "norm"))
        if n != 1.0:
            check_kernel_domain(self.activation, self.depth, self.weight_var, self.bias_var, self.kind, norms=[n])
        return float(self._f64(np.asarray(n), n, n))

    def values_arb(self, c_list, *, norm_x=1, norm_y=1, diag_index=None) -> list:
        """Arb balls of ``Phi`` at ``c_list`` (current ``flint.ctx.prec``); closed-form activations only.

        See :func:`kernel_values_arb` for the arguments.
        """
        return kernel_values_arb(c_list, self.activation, self.depth, self.weight_var, self.bias_var, self.kind,
                                 norm_x=norm_x, norm_y=norm_y, diag_index=diag_index)

    @property
    def exact(self) -> bool:
        """True when the activation has closed-form duals (Arb evaluation, certified bounds)."""
        return self.activation.exact

    @cached_property
    def structure(self) -> tuple:
        """Polynomial degrees ``(odd, even)`` of ``Phi``'s odd and even parts (see :func:`kernel_structure`)."""
        return kernel_structures(self.activation, self.depth, self.bias_var, self.kind)[-1]

    def structural_zero(self, k: int) -> bool:
        """True if every degree-``k`` eigenvalue vanishes exactly by symmetry (on every domain)."""
        return structural_zero(self.structure, int(k))

    def spectrum(self, domain, **kwargs):
        """Eigenvalues on ``domain`` (a :class:`spectra.domains.Cube`, ``Sphere`` or ``Gaussian``).

        The keyword arguments (``degrees``, ``max_degree``, ``rtol``, ``precision``) are those of
        the domain's ``spectrum`` method.
        """
        if not hasattr(domain, "spectrum"):
            raise TypeError(f"domain must be a Cube, Sphere or Gaussian, got {type(domain).__name__}")
        return domain.spectrum(self, **kwargs)


def mlp_kernel(c, activation="relu", depth: int = 2, weight_var=2.0, bias_var=0.0, kernel: str = "ntk", *,
               all_depths: bool = False, norm_x=1.0, norm_y=1.0) -> np.ndarray:
    r"""Evaluate the MLP CK or NTK as a function of ``c = <x, y>/d``.

    Parameters
    ----------
    c : array_like
        Normalized inner products ``<x, y>/d``; in ``[-1, 1]`` on the cube and sphere.
    activation : str or Activation
        Any name of :func:`spectra.analytic.available_activations`.
    depth : int
        Number of nonlinear layers ``L >= 0``.
    weight_var, bias_var : float or array_like
        ``sigma_w^2 > 0`` and ``sigma_b^2 >= 0`` (0 or a normal float64, ``>= 2.2e-308``); arrays
        broadcast with ``c`` (numpy rules), e.g. ``weight_var[:, None, None]``,
        ``bias_var[None, :, None]``, ``c[None, None, :]``.  Every layer's diagonal variance must stay
        within ``[2.2e-308, 2^1000]`` (see the module docstring): a kernel beyond float64 is refused
        with a ``ValueError`` naming the depth where it leaves the range.
    kernel : {"ck", "ntk"}
        Conjugate kernel (NNGP) or neural tangent kernel.
    all_depths : bool
        If True return every depth ``0..L`` stacked on a new leading axis.
    norm_x, norm_y : float or array_like
        ``||x||^2/d`` and ``||y||^2/d`` (1 on the cube and sphere); ``|c| <= sqrt(norm_x norm_y)``
        (Cauchy-Schwarz).  A norm of 0 is an ordinary input when ``bias_var > 0`` (its first-layer
        variance is ``bias_var``) and is refused when ``bias_var = 0``.

    Returns
    -------
    ndarray
        Shape ``broadcast(c, weight_var, bias_var, norm_x, norm_y)``, with a leading axis of
        length ``L + 1`` if ``all_depths``.

    Examples
    --------
    >>> import numpy as np
    >>> float(mlp_kernel(1.0, "relu", depth=1, weight_var=2.0, bias_var=0.0, kernel="ck"))
    2.0
    >>> mlp_kernel(np.array([-1.0, 0.0, 1.0]), "relu", 1, 2.0, 0.0, "ntk").round(6)
    array([0.     , 0.63662, 4.     ])
    """
    act = get_activation(activation)
    depth = check_depth(depth)
    kernel = check_kernel_name(kernel)
    wv = check_variance(weight_var, "weight_var", positive=True)
    bv = check_variance(bias_var, "bias_var")
    nx = check_variance(norm_x, "norm_x")
    ny = check_variance(norm_y, "norm_y")
    c = np.asarray(c, dtype=float)
    if not np.all(np.isfinite(c)):
        raise ValueError("c must be finite (no NaN or inf)")
    c = check_cauchy_schwarz(c, nx, ny)
    norms = [1.0] if np.all(nx == 1.0) and np.all(ny == 1.0) else [nx, ny]
    check_kernel_domain(act, depth, wv, bv, kernel, norms=norms)
    if not all_depths:
        return _final_f64(act, depth, wv, bv, kernel, c, nx, ny)
    with np.errstate(all="ignore"):  # non-finite entries are recomputed below
        out = [ck if kernel == "ck" else ntk for ck, ntk in _recursion_f64(act, depth, wv, bv, c, nx, ny)]
    return np.stack([repair_nonfinite(v, act, l, wv, bv, kernel, c, nx, ny, kernel_values_arb)
                     for l, v in enumerate(out)])


@lru_cache(maxsize=256)
def _check_domain_once(act: Activation, depth: int, wv: float, bv: float, kind: str) -> None:
    """:func:`check_kernel_domain` at norm 1 for an :class:`MLPKernel` (cached: kernels are rebuilt often)."""
    check_kernel_domain(act, depth, wv, bv, kind)


def _recursion_f64(act: Activation, depth: int, wv, bv, c, nx, ny):
    """Yield ``(CK, NTK)`` for depth 0..L in float64 (broadcasting)."""
    sig = wv * c + bv
    qx = wv * nx + bv
    qy = wv * ny + bv
    theta = sig
    yield sig, theta
    for _ in range(depth):
        vc = act.dual(sig, qx, qy)
        vd = act.dual_derivative(sig, qx, qy)
        qx, qy = wv * act.dual(qx, qx, qx) + bv, wv * act.dual(qy, qy, qy) + bv
        sig = wv * vc + bv
        theta = sig + wv * vd * theta
        yield sig, theta


def _final_f64(act: Activation, depth: int, wv, bv, kind: str, c, nx=1.0, ny=1.0):
    """The depth-``L`` CK or NTK in float64 (broadcasting); unvalidated engine of every float path.

    Entries that are not finite in float64 (a dual overflowing on the way, inside the kernel's
    domain) are recomputed in Arb (:func:`~spectra.analytic._kernel_domain.repair_nonfinite`).
    """
    phi = None
    with np.errstate(all="ignore"):  # non-finite entries are recomputed below
        for ck, ntk in _recursion_f64(act, depth, wv, bv, c, nx, ny):
            phi = ck if kind == "ck" else ntk
    return repair_nonfinite(phi, act, depth, wv, bv, kind, c, nx, ny, kernel_values_arb)


def kernel_values_arb(c_list, activation, depth: int, weight_var, bias_var, kernel: str = "ntk",
                      *, norm_x=1, norm_y=1, diag_index=None):
    """Kernel values in Arb ball arithmetic at the current ``flint.ctx.prec``.

    Parameters
    ----------
    c_list : sequence of flint.arb
        Normalized inner products (exact or balls).
    activation : Activation
        With closed-form duals (``activation.exact``: certified balls) or Arb Mehler-series duals
        (``activation.mehler``: balls whose radii are verified, not proved; see
        :mod:`spectra.analytic._mehler`).
    depth, weight_var, bias_var, kernel
        As in :func:`mlp_kernel`; the variances are taken as exact binary numbers.
    norm_x, norm_y : number or flint.arb
        ``||x||^2/d``, ``||y||^2/d``.
    diag_index : int, optional
        Index in ``c_list`` of the diagonal point ``c = norm_x = norm_y``; it is evaluated by
        the diagonal recursion, which avoids the square-root loss of precision of kinked
        duals at correlation exactly 1.

    Returns
    -------
    list of flint.arb
        One ball per input, containing the exact kernel value.
    """
    from flint import arb

    act = get_activation(activation)
    kernel = check_kernel_name(kernel)
    wv, bv = arb(weight_var), arb(bias_var)
    nx, ny = arb(norm_x), arb(norm_y)
    if not act.exact:
        if act.mehler is None:
            raise ValueError(f"activation {act.name!r} has neither a closed-form dual nor Arb functions for "
                             "the Mehler series: no high-precision evaluation (float64 only)")
        return mehler_kernel_values(list(c_list), act, depth, wv, bv, kernel, nx, ny, diag_index)
    # diagonal recursions (scalars)
    qxs = [wv * nx + bv]
    qys = [wv * ny + bv]
    same = norm_x == norm_y
    diag_theta = [qxs[0]]
    for _ in range(depth):
        vq, dq = diag_duals(act, qxs[-1])
        qxs.append(wv * vq + bv)
        diag_theta.append(qxs[-1] + wv * dq * diag_theta[-1])
        qys.append(qxs[-1] if same else wv * diag_duals(act, qys[-1])[0] + bv)
    out = []
    for i, c in enumerate(c_list):
        if diag_index is not None and i == diag_index:
            out.append(qxs[-1] if kernel == "ck" else diag_theta[-1])
            continue
        sig = wv * c + bv
        theta = sig
        for l in range(depth):
            qx, qy = qxs[l], qys[l]
            vc = act.dual_arb(sig, qx, qy)
            if kernel == "ntk":
                theta = wv * vc + bv + wv * act.dual_derivative_arb(sig, qx, qy) * theta
            sig = wv * vc + bv
        out.append(sig if kernel == "ck" else theta)
    return out




# --------------------------------------------------------------------------------------
# Symmetry structure: (degree of odd part, degree of even part), INF = not a polynomial
# --------------------------------------------------------------------------------------
def _compose_deg(P: int, a: int) -> int:
    """Degree of (polynomial of degree P) o (function of degree a), for the structure rules."""
    if P < 0:
        return -1
    if P == 0:
        return 0
    if P >= INF or a >= INF:
        return INF
    return P * a


def _compose(V: tuple, S: tuple) -> tuple:
    A, B = V
    a, b = S
    if a < 0 and b < 0:  # S == 0: V(0) is a constant
        return (-1, 0)
    if b < 0:  # S odd: odd o odd = odd, even o odd = even
        return (_compose_deg(A, a), _compose_deg(B, a))
    if a < 0:  # S even: everything even
        n = max(A, B)
        return (-1, _compose_deg(n, b) if n < INF else INF)
    n = max(A, B)
    if n <= 0:
        return (-1, n)
    if n < INF and max(a, b) < INF:
        m = n * max(a, b)
        return (m, m)
    return (INF, INF)


def _mul(f: tuple, g: tuple) -> tuple:
    return (max(_deg_mul(f[0], g[1]), _deg_mul(f[1], g[0])), max(_deg_mul(f[1], g[1]), _deg_mul(f[0], g[0])))


def _add(f: tuple, g: tuple) -> tuple:
    return (max(f[0], g[0]), max(f[1], g[1]))


def kernel_structures(activation, max_depth: int, bias_var, kernel: str = "ntk") -> list:
    """:func:`kernel_structure` for every depth ``0..max_depth`` in one pass."""
    act = get_activation(activation)
    kernel = check_kernel_name(kernel)
    has_bias = bool(np.any(np.asarray(bias_var) != 0))
    const = (-1, 0) if has_bias else (-1, -1)
    sig = _add((1, -1), const)
    theta = sig
    out = [sig if kernel == "ck" else theta]
    for _ in range(max_depth):
        v = _compose(act.structure, sig)
        vd = _compose(act.derivative_structure, sig)
        new_sig = _add(v, const)
        theta = _add(new_sig, _mul(vd, theta))
        sig = new_sig
        out.append(sig if kernel == "ck" else theta)
    return out


def kernel_structure(activation, depth: int, bias_var, kernel: str = "ntk") -> tuple:
    """Polynomial degrees ``(odd, even)`` of the kernel ``Phi(c)``'s odd and even parts.

    ``INF`` (a large integer) means "not a polynomial", ``-1`` means "identically zero".
    Used to return exactly 0 for eigenvalues that vanish by symmetry.

    Examples
    --------
    >>> kernel_structure("erf", 3, 0.0, "ck")[1]   # odd kernel: even part is zero
    -1
    >>> kernel_structure("relu", 1, 0.0, "ntk")[0]  # linear + even
    1
    """
    return kernel_structures(activation, check_depth(depth), bias_var, kernel)[-1]


def structural_zero(structure: tuple, k: int) -> bool:
    """True if the degree-``k`` eigenvalue of a kernel with this structure is exactly 0."""
    odd, even = structure
    return (k % 2 == 1 and k > odd) or (k % 2 == 0 and k > even)
