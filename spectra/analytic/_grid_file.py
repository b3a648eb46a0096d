"""Reading a cube-grid ``.npz`` that may not be ours: every failure is a ValueError naming the file.

A file is accepted only if it carries the format marker and every array the grid needs, with the
right dtype, shape and range (finite eigenvalues, traces and bounds; fractional variances finite
or NaN, the mask of unresolved values; consistent axes).  Truncated files, empty files, ``.npy``
files under an ``.npz`` name, pickles and foreign archives are refused before anything is built.
"""
from __future__ import annotations

import os
import zipfile

import numpy as np

__all__ = ["FORMAT", "OLD_FORMATS", "KINDS", "ARRAYS", "read_grid_arrays"]

FORMAT = "spectra.cube_grid.v2"
OLD_FORMATS = ("spectra.cube_grid.v1",)  # no axes stored: depths/degrees rebuilt from the shapes
KINDS = ("ck", "ntk")
ARRAYS = tuple(f"{a}_{k}" for a in ("eigenvalues", "fractional_variance", "trace", "abs_error_bound",
                                    "symmetry_zero") for k in KINDS)


def _bad(path, why: str) -> ValueError:
    return ValueError(f"{os.fspath(path)}: is not a spectra cube-grid file ({why})")


def read_grid_arrays(path) -> dict:
    """The checked arrays of a grid file (``symmetry_zero_*`` absent for version-1 files).

    Raises
    ------
    ValueError
        Naming the file and what is wrong with it.
    """
    try:
        z = np.load(os.fspath(path), allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise _bad(path, f"cannot be read as .npz: {type(exc).__name__}: {exc}") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise _bad(path, "a single .npy array, not an .npz archive")
    with z:
        if "format" not in z.files:
            raise _bad(path, "format marker missing")
        try:
            arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
            raise _bad(path, f"truncated or damaged: {type(exc).__name__}: {exc}") from None
    fmt = str(arrays["format"])
    if fmt not in (FORMAT,) + OLD_FORMATS:
        raise _bad(path, f"format {fmt!r}, expected {FORMAT!r}")
    need = ["dim", "activation", "weight_var", "bias_var"] + [a for a in ARRAYS if not a.startswith("symmetry")]
    if fmt == FORMAT:
        need += ["depths", "degrees", "symmetry_zero_ck", "symmetry_zero_ntk"]
    missing = [k for k in need if k not in arrays]
    if missing:
        raise _bad(path, f"missing arrays {missing}")
    _check(path, arrays)
    return arrays


def _check(path, a: dict) -> None:
    def real(name, ndim):
        x = a[name]
        if x.dtype.kind not in "fiu" or x.ndim != ndim:
            raise _bad(path, f"{name} must be a real array with {ndim} axes, got dtype {x.dtype} shape {x.shape}")
        return x

    if a["dim"].shape != () or a["dim"].dtype.kind not in "iu" or int(a["dim"]) < 1:
        raise _bad(path, f"dim must be one integer >= 1, got {a['dim']!r}")
    if a["activation"].shape != () or a["activation"].dtype.kind != "U":
        raise _bad(path, "activation must be a string")
    wv, bv = real("weight_var", 1), real("bias_var", 1)
    if wv.size == 0 or bv.size == 0 or not (np.all(np.isfinite(wv)) and np.all(wv > 0)) or not (
            np.all(np.isfinite(bv)) and np.all(bv >= 0)):
        raise _bad(path, "weight_var must be finite > 0 and bias_var finite >= 0, neither empty")
    mu = real("eigenvalues_ck", 4)
    shape = mu.shape
    L1, nw, nb, K1 = shape
    if (nw, nb) != (wv.size, bv.size) or L1 < 1 or K1 < 1 or K1 - 1 > int(a["dim"]):
        raise _bad(path, f"eigenvalue shape {shape} does not match the axes ({wv.size} weight_var, {bv.size} "
                         f"bias_var, degrees <= dim {int(a['dim'])})")
    for axis, n in (("depths", L1), ("degrees", K1)):
        if axis in a and not np.array_equal(a[axis], np.arange(n)):
            raise _bad(path, f"{axis} must be 0..{n - 1}")
    for kind in KINDS:
        for name, want in ((f"eigenvalues_{kind}", shape), (f"fractional_variance_{kind}", shape),
                           (f"trace_{kind}", shape[:3]), (f"abs_error_bound_{kind}", shape[:3])):
            x = real(name, len(want))
            if x.shape != want:
                raise _bad(path, f"{name} has shape {x.shape}, expected {want}")
            finite = np.isfinite(x)
            if name.startswith("fractional"):
                finite |= np.isnan(x)  # NaN marks a value within its error bound (CubeGrid.unreliable)
            if not np.all(finite):
                raise _bad(path, f"{name} holds {int(np.sum(~finite))} non-finite values")
            if name.startswith(("trace", "abs_error")) and np.any(x < 0):
                raise _bad(path, f"{name} holds negative values")
        zname = f"symmetry_zero_{kind}"
        if zname in a and (a[zname].dtype != bool or a[zname].shape != (L1, nb, K1)):
            raise _bad(path, f"{zname} must be a bool array of shape {(L1, nb, K1)}, got {a[zname].dtype} "
                             f"{a[zname].shape}")
