"""The package's one atomic file write.

Every result file (training runs, sweep manifests, cube grids, figures) goes through
:func:`atomic_write`: a reader never sees a half-written file, an interrupted write leaves
no temporary file behind, and the new file gets the permissions a plain ``open(path, "w")``
would give it (``0o666 & ~umask``, so 0644 under the usual umask 022).  Collaborators on a
shared machine can therefore read the results, which ``tempfile.mkstemp`` (always 0600)
did not allow.
"""
from __future__ import annotations

import os
import secrets
from typing import Callable

__all__ = ["atomic_write"]

_TMP_PREFIX = ".tmp-"


def atomic_write(path, writer: Callable, *, binary: bool = False) -> str:
    """Write a file atomically: temporary file in the same folder, fsync, then rename.

    Parameters
    ----------
    path : str or os.PathLike
        The final file.  Its folder must exist.  An existing file is replaced only once the
        new content is complete.
    writer : callable
        Called once with an open file object (text, UTF-8, or binary) and writes the content,
        e.g. ``lambda fh: fh.write(text)``, ``lambda fh: np.savez(fh, **arrays)`` or
        ``lambda fh: fig.savefig(fh, format="png")``.
    binary : bool, default False
        Open the temporary file in binary mode.

    Returns
    -------
    str
        ``path`` as a string.

    Notes
    -----
    The temporary file is created with ``os.open(..., 0o666)``, so the kernel applies the
    process umask exactly as for ``open(path, "w")``; nothing reads or changes the umask,
    which keeps this safe to call from several threads.  The replaced file's own mode is not
    carried over: the new file always gets ``0o666 & ~umask``.  On any exception, including
    ``KeyboardInterrupt``, the temporary file is removed and the original file is untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> p = atomic_write(os.path.join(folder, "a.txt"), lambda fh: fh.write("hello\\n"))
    >>> open(p).read()
    'hello\\n'
    >>> os.listdir(folder)
    ['a.txt']
    """
    if not callable(writer):
        raise TypeError(f"writer must be a callable taking an open file, got {type(writer).__name__}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create_temp(folder, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:  # also KeyboardInterrupt: never leave a temporary file behind
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _create_temp(folder: str, name: str) -> tuple[int, str]:
    """Open a new, unique file in ``folder`` with mode ``0o666 & ~umask``; return (fd, path)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):  # O_EXCL: a name clash (practically impossible) just draws a new name
        tmp = os.path.join(folder, f"{_TMP_PREFIX}{secrets.token_hex(6)}-{name[:100]}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {folder}")
