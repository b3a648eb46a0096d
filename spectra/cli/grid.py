"""``spectra grid``: cube spectra over depth x weight variance x bias variance (Yang & Salman's pictures)."""
from __future__ import annotations

import argparse
import os

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
                   help="fractional-variance heatmaps: optimal depth per degree over the variance grid")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analytic import cube_spectrum_grid

    engine = {"cube": cube_spectrum_grid}[args.domain]
    if args.output is None:
        raise ValueError("-o/--output FILE.npz is required")
    check_writable(args.output)
    check_writable(args.plot)
    g = engine(args.dim, args.activation, args.max_depth, args.weight_var, args.bias_var,
               max_degree=args.max_degree)
    g.save(args.output)
    note_written(args.output, args.quiet,
                 f"eigenvalues_ck/ntk shape {g.eigenvalues_ck.shape} (depth, weight_var, bias_var, degree)")
    if args.plot:
        plot_grid(g, args.plot)
        note_written(args.plot, args.quiet)
    return 0


def plot_grid(g, path, weight_var=None) -> None:
    """Fractional-variance heatmaps over depth x bias variance (one panel per degree and kernel).

    The weight variance is fixed at the grid value closest to ``weight_var`` (default: the middle
    of the grid); the optimal depth per bias variance is overlaid as white dots.
    """
    from .._io import atomic_write
    from .._plotting import plt_or_raise

    plt = plt_or_raise()
    K = g.eigenvalues_ck.shape[-1] - 1
    degs = list(range(1, K + 1)) if K >= 1 else [0]
    iw = len(g.weight_var) // 2 if weight_var is None else int(np.argmin(np.abs(g.weight_var - weight_var)))
    L = g.eigenvalues_ck.shape[0] - 1
    fig, axes = plt.subplots(2, len(degs), figsize=(2.2 * len(degs) + 0.8, 5.0), squeeze=False, constrained_layout=True)
    ext = [g.bias_var[0], g.bias_var[-1], -0.5, L + 0.5]
    for row, name in enumerate(("ck", "ntk")):
        fv = getattr(g, f"fractional_variance_{name}")[:, iw]  # (L+1, n_b, K+1)
        for col, k in enumerate(degs):
            ax = axes[row, col]
            img = np.log10(np.clip(fv[..., k], 1e-12, None))
            im = ax.imshow(img, origin="lower", aspect="auto", extent=ext, cmap="magma", interpolation="nearest")
            if len(g.bias_var) > 1:
                best = np.argmax(fv[..., k], axis=0)
                ax.plot(g.bias_var, best, "w.", ms=2)
            ax.set_title(f"{name.upper()}  k={k}", fontsize=8)
            if col == 0:
                ax.set_ylabel("depth L")
            if row == 1:
                ax.set_xlabel(r"$\sigma_b^2$")
            ax.tick_params(labelsize=6)
            cb = fig.colorbar(im, ax=ax, shrink=0.8)
            cb.ax.tick_params(labelsize=6)
    fig.suptitle(f"log10 fractional variance, {g.activation}, d={g.dim}, "
                 f"$\\sigma_w^2$={g.weight_var[iw]:.3g} (dots: best depth)", fontsize=9)
    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=130), binary=True)
    finally:
        plt.close(fig)
