"""Reading ``.npz`` files that the training code wrote, trusting nothing in them.

:func:`read_npz` opens a file written with ``np.savez`` plus a JSON ``__meta__`` entry carrying a
``format`` name and a ``version``, and turns every way such a file can be wrong (empty,
truncated, a ``.npy`` or a pickle under an ``.npz`` name, someone else's zip or npz, a wrong
format or version) into a ``ValueError`` that names the file.  :func:`check_array` is the shape,
dtype and finiteness check the record loaders apply to each array.
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

__all__ = ["read_npz", "check_array", "FileFormatError"]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class FileFormatError(ValueError):
    """A file that is not a valid record of the expected format (a ``ValueError`` naming the file)."""


def _sniff(path: str, head: bytes, what: str) -> None:
    if not head:
        raise FileFormatError(f"{path}: empty file, not a {what} file")
    if head.startswith(_ZIP_MAGIC):
        return
    if head.startswith(b"\x93NUMPY"):
        kind = "a single .npy array"
    elif head[:1] == b"\x80" or head.startswith((b"(dp", b"(lp", b"}q")):
        kind = "a pickle"
    else:
        kind = "not a zip archive"
    raise FileFormatError(f"{path}: not a {what} file ({kind}; expected an .npz archive)")


def read_npz(path, *, format_name: str, version: int, what: str) -> tuple[dict, dict]:
    """Arrays and metadata of a spectra ``.npz`` file; ``ValueError`` naming ``path`` otherwise.

    Parameters
    ----------
    path : str or os.PathLike
    format_name : str
        The ``format`` the ``__meta__`` entry must carry.
    version : int
        The only ``version`` this reader accepts.
    what : str
        Human name of the record for messages ("training-run", "training-checkpoint").

    Returns
    -------
    arrays : dict name -> ndarray (without ``__meta__``)
    meta : dict

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x.npz")
    >>> _ = open(p, "wb").write(b"")
    >>> try:
    ...     read_npz(p, format_name="f", version=1, what="test")
    ... except ValueError as e:
    ...     print(str(e).endswith("empty file, not a test file"))
    True
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such {what} file: {path}")
    if os.path.isdir(path):
        raise FileFormatError(f"{path}: is a directory, not a {what} file")
    with open(path, "rb") as fh:
        _sniff(path, fh.read(8), what)
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
        foreign = [n for n in names if not n.endswith(".npy")]
        if foreign:
            raise FileFormatError(f"{path}: not a {what} file (a zip archive holding {foreign[:3]}, not .npy arrays)")
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except FileFormatError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, zipfile.LargeZipFile) as exc:
        raise FileFormatError(f"{path}: not a readable {what} file (truncated or corrupted .npz: "
                              f"{type(exc).__name__}: {exc})") from None
    if "__meta__" not in data:
        raise FileFormatError(f"{path}: not a spectra {what} file (an .npz without a '__meta__' entry)")
    raw = data.pop("__meta__")
    try:
        if raw.ndim != 0 or raw.dtype.kind != "U":
            raise ValueError("not a string")
        meta = json.loads(str(raw))
    except (ValueError, TypeError) as exc:
        raise FileFormatError(f"{path}: corrupted {what} metadata: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != format_name:
        fmt = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise FileFormatError(f"{path}: not a spectra {what} file (format {fmt!r}, expected {format_name!r})")
    if meta.get("version") != version:
        raise FileFormatError(f"{path}: unsupported {what} format version {meta.get('version')!r} "
                              f"(this version of spectra reads version {version})")
    return data, meta


def check_array(path, name, a, *, ndim, kind="f", shape=None, finite=True):
    """Check one loaded array: dimension(s), dtype kind, leading shape and finiteness.

    ``ndim`` is an int or a tuple of allowed ints; ``shape`` a tuple whose ``None`` entries are
    free; ``kind`` a string of allowed dtype kinds (``"f"`` also accepts integers).
    """
    ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if a.ndim not in ndims:
        raise FileFormatError(f"{path}: mis-shaped array '{name}': {a.ndim} dimensions (shape {a.shape}), "
                              f"expected {' or '.join(map(str, ndims))}")
    allowed = kind + ("iu" if "f" in kind else "")
    if a.dtype.kind not in allowed:
        raise FileFormatError(f"{path}: array '{name}' has dtype {a.dtype}, expected a numeric array")
    if shape is not None:
        for i, (got, want) in enumerate(zip(a.shape, shape)):
            if want is not None and got != want:
                raise FileFormatError(f"{path}: mis-shaped array '{name}': shape {a.shape}, "
                                      f"axis {i} should have length {want}")
    if finite and a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise FileFormatError(f"{path}: array '{name}' holds NaN or inf values")
    return a
