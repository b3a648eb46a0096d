"""``spectra grid``: cube spectra over depth x weight variance x bias variance (Yang & Salman's pictures)."""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from ._common import LIST_HELP, add_kernel_args, add_output_args, check_writable, list_type, note_written

__all__ = ["register", "run", "plot_grid"]


def register(sub) -> None:
    p = sub.add_parser(
        "grid",
        help="cube CK and NTK spectra over a hyperparameter grid",
        description="Writes eigenvalues_ck / eigenvalues_ntk of shape (L+1, NUM_w, NUM_b, K+1) (depth 0..L, "
        "unnormalized mu_k), the matching fractional_variance_* and abs_error_bound_* (stated float64 "
        "tolerance) to an .npz file.",
    )
    p.add_argument("--domain", choices=["cube"], default="cube",
                   help="input domain; the boolean cube {-1,+1}^d is the only one with a grid engine (default cube)")
    add_kernel_args(p, depth=None, weight_var=None, bias_var=None, kernel=None)
    p.add_argument("--max-depth", type=int, required=True, help="largest depth L (all of 0..L are computed)")
    p.add_argument("--weight-var", type=list_type("--weight-var"), default="1:5:41", metavar="LIST",
                   help=f"sigma_w^2 values, {LIST_HELP} (default 1:5:41)")
    p.add_argument("--bias-var", type=list_type("--bias-var"), default="0:4:41", metavar="LIST",
                   help=f"sigma_b^2 values, {LIST_HELP} (default 0:4:41)")
    p.add_argument("--max-degree", type=int, default=8, help="degrees 0..K (default 8)")
    add_output_args(p, writes="the .npz", required=True)
    p.add_argument("--out", dest="output", help=argparse.SUPPRESS)  # the old name, kept working
    p.add_argument("--plot", default=None, metavar="FILE.png",
                   help="figure: the optimal depth per degree over the variance grid (top rows) and the "
                        "fractional variance over depth x sigma_b^2 at one sigma_w^2 (bottom rows)")
    p.add_argument("--weight-var-slice", type=float, default=None, metavar="W",
                   help="sigma_w^2 of the plot's bottom rows (the grid value closest to W; default the middle one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analytic import cube_spectrum_grid

    engine = {"cube": cube_spectrum_grid}[args.domain]
    if args.output is None:
        raise ValueError("-o/--output FILE.npz is required")
    check_writable(args.output)
    check_writable(args.plot)
    _check_memory(args)
    g = engine(args.dim, args.activation, args.max_depth, args.weight_var, args.bias_var,
               max_degree=args.max_degree, progress=not args.quiet)
    g.save(args.output)
    note_written(args.output, args.quiet,
                 f"eigenvalues_ck/ntk shape {g.eigenvalues_ck.shape} (depth, weight_var, bias_var, degree)")
    sys.stdout.write(g.to_table() + "\n")
    sys.stdout.flush()
    if args.plot:
        from .._progress import heartbeat

        with heartbeat("grid: drawing", quiet=args.quiet):
            plot_grid(g, args.plot, args.weight_var_slice)
        note_written(args.plot, args.quiet)
    return 0


def _check_memory(args) -> None:
    """Refuse, before any work, a grid whose arrays cannot fit (the limit of ``--max-memory``)."""
    from .._budget import check_memory

    n_w, n_b = np.size(args.weight_var), np.size(args.bias_var)
    depth, K = args.max_depth, args.max_degree
    if depth < 0 or K < 0:
        return  # the engine names the argument and its range
    # CK and NTK x depth x pairs x (eigenvalues, trace, bound): the work array, then the returned
    # eigenvalue and fractional-variance copies (2.2x), and the .npz buffer written from them
    cells = 2.0 * (depth + 1) * n_w * n_b * (K + 3)
    check_memory(cells * 8 * 3.3, f"the grid ({depth + 1} depths x {n_w} x {n_b} variances x {K + 1} degrees)")


def plot_grid(g, path, weight_var=None) -> None:
    """The optimal-depth figure of a :class:`~spectra.analytic.CubeGrid`, written atomically.

    Rows 1-2 (CK, NTK): per degree, the depth maximizing the fractional variance over
    ``sigma_w^2 x sigma_b^2`` (grey: the degree vanishes by symmetry).  Rows 3-4: log10 fractional
    variance over depth x ``sigma_b^2`` at the weight variance closest to ``weight_var`` (default
    the middle of the grid), grey where the value is a symmetry zero or within its float64 error
    bound, white dots at the best depth.  An axis of length 1 gives line plots instead of maps.
    """
    from .._io import atomic_write
    from .._plotting import plt_or_raise

    plt = plt_or_raise()
    K = g.shape[-1] - 1
    degs = list(range(1, K + 1)) if K >= 1 else [0]
    iw, _ = g.nearest(weight_var, None)
    two_d = len(g.weight_var) > 1 and len(g.bias_var) > 1
    fig = plt.figure(figsize=(max(9.0, 1.9 * len(degs) + 1.2), 9.0), layout="constrained")
    rows = fig.subfigures(4, 1)
    for r, kind in enumerate(("ck", "ntk")):
        _optimal_depth_row(rows[r], g, kind, degs, two_d)
        _fraction_row(rows[2 + r], g, kind, degs, iw)
    fig.suptitle(f"{g.activation} on the cube, d={g.dim}. Rows 1-2: optimal depth per degree. Rows 3-4: "
                 f"log10 fractional variance\nat $\\sigma_w^2$={g.weight_var[iw]:.3g} (dots: optimal depth). "
                 "Grey: zero by symmetry, or not above its float64 error bound.", fontsize=10)
    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=110), binary=True)
    finally:
        plt.close(fig)


def _depth_norm(top: int):
    """Colour steps 0, 1, 2, 3, 4, 6, 8, 12, 16, ...: small depths stay distinguishable next to large ones."""
    from matplotlib.colors import BoundaryNorm

    bounds = [0, 1, 2, 3, 4]
    while bounds[-1] <= top:
        bounds.append(bounds[-1] * 3 // 2 if len(bounds) % 2 else bounds[-1] * 4 // 3)
    edges = [b - 0.5 for b in bounds] + [bounds[-1] + 0.5]
    return BoundaryNorm(edges[: len(bounds)], 256)


def _edges(axis) -> list:
    """Outer pixel edges of a uniform axis, so that each pixel is centred on its grid value."""
    half = 0.5 * (axis[-1] - axis[0]) / (len(axis) - 1)
    return [axis[0] - half, axis[-1] + half]


def _grey(name):
    import matplotlib

    return matplotlib.colormaps[name].with_extremes(bad="0.85")


def _optimal_depth_row(sf, g, kind, degs, two_d) -> None:
    L = int(g.depths[-1])
    zero = [k for k in degs if not g.optimal_depth(kind, k, resolved_only=True).count()]
    note = f"vanishing or unresolved: k={','.join(map(str, zero))}" if zero else None
    if len(g.weight_var) == 1 and len(g.bias_var) == 1:  # one grid point: optimal depth against degree
        ax = sf.subplots()
        best = [g.optimal_depth(kind, k, resolved_only=True).astype(float).filled(np.nan)[0, 0] for k in degs]
        ax.plot(degs, best, "o", ms=6)
        ax.set_xticks(degs)
        ax.set_xlabel("degree k")
        ax.set_ylabel(f"{kind.upper()} optimal depth")
        ax.set_ylim(-0.5, L + 0.5)
        if note:
            ax.text(0.99, 0.95, note, ha="right", va="top", transform=ax.transAxes, fontsize=8)
        return
    if not two_d:  # one variance axis of length 1: optimal depth against the other, one line per degree
        ax = sf.subplots()
        x, xlabel = (g.bias_var, r"$\sigma_b^2$") if len(g.bias_var) > 1 else (g.weight_var, r"$\sigma_w^2$")
        for k in degs:
            best = g.optimal_depth(kind, k, resolved_only=True).reshape(-1)
            if best.count():
                ax.plot(x, best.astype(float).filled(np.nan), "-", label=f"k={k}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{kind.upper()} optimal depth")
        ax.set_ylim(-0.5, L + 0.5)
        ax.legend(fontsize=7, ncol=4, title=note, title_fontsize=7)
        return
    norm = _depth_norm(max([int(g.optimal_depth(kind, k, resolved_only=True).max()) for k in degs if k not in zero]
                           + [1]))
    axes = sf.subplots(1, len(degs), sharey=True, squeeze=False)[0]
    ext = _edges(g.bias_var) + _edges(g.weight_var)
    im = None
    for ax, k in zip(axes, degs):
        best = g.optimal_depth(kind, k, resolved_only=True)
        im = ax.imshow(best.astype(float), origin="lower", aspect="auto", extent=ext, cmap=_grey("viridis"),
                       norm=norm, interpolation="nearest")
        if not best.count():
            ax.text(0.5, 0.5, "zero by symmetry\nor unresolved", ha="center", va="center", transform=ax.transAxes, fontsize=8)
        ax.set_title(f"{kind.upper()}  k={k}", fontsize=8)
        ax.set_xlabel(r"$\sigma_b^2$", fontsize=8)
        ax.tick_params(labelsize=6)
    axes[0].set_ylabel(r"$\sigma_w^2$")
    ticks = [b for b in norm.boundaries[:-1] + 0.5 if b in (0, 1, 2, 4, 8, 16, 32, 64, 128, 256)]
    sf.colorbar(im, ax=list(axes), shrink=1.0, aspect=12, label="optimal depth", ticks=ticks, spacing="uniform")


def _fraction_row(sf, g, kind, degs, iw) -> None:
    fv = getattr(g, f"fractional_variance_{kind}")[:, iw]  # (L+1, n_b, K+1)
    ok = g.resolved(kind)[:, iw] & (fv > 0)
    logfv = np.ma.masked_array(np.log10(np.where(ok, fv, 1.0)), mask=~ok)
    if len(g.bias_var) == 1 or len(g.depths) == 1:  # a map would be one pixel wide: lines instead
        ax = sf.subplots()
        by_depth = len(g.bias_var) == 1
        x = g.depths if by_depth else g.bias_var
        for k in degs:
            y = (logfv[:, 0, k] if by_depth else logfv[0, :, k]).filled(np.nan)
            if np.any(np.isfinite(y)):
                ax.plot(x, y, "-", label=f"k={k}")
        ax.set_xlabel("depth L" if by_depth else r"$\sigma_b^2$")
        ax.set_ylabel(f"{kind.upper()} log10 frac. var.")
        ax.legend(fontsize=7, ncol=4)
        return
    L = int(g.depths[-1])
    ext = _edges(g.bias_var) + [-0.5, L + 0.5]
    axes = sf.subplots(1, len(degs), sharey=True, squeeze=False)[0]
    lo = float(logfv.min()) if logfv.count() else -12.0
    vmin = max(lo, -12.0)
    im = None
    for ax, k in zip(axes, degs):
        im = ax.imshow(logfv[..., k], origin="lower", aspect="auto", extent=ext, cmap=_grey("magma"),
                       vmin=vmin, vmax=0.0, interpolation="nearest")
        best = g.optimal_depth(kind, k, resolved_only=True)[iw]
        if best.count():
            ax.plot(g.bias_var, best.astype(float).filled(np.nan), "w.", ms=2)
        ax.set_title(f"{kind.upper()}  k={k}", fontsize=8)
        ax.set_xlabel(r"$\sigma_b^2$", fontsize=8)
        ax.tick_params(labelsize=6)
    axes[0].set_ylabel("depth L")
    sf.colorbar(im, ax=list(axes), shrink=0.9, label="log10 frac. var.")
