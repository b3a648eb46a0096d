"""Processes of a local sweep: workers that die with their parent, a worker cap, a directory lock.

* :func:`worker_init` runs in every worker of the sweep's own process pool.  On Linux it asks
  the kernel to kill the worker when its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``);
  everywhere it starts a daemon thread that checks twice a second that the sweep's main
  process is still alive and still the worker's parent, and ends the worker otherwise.  So no
  worker outlives a killed sweep by more than about half a second, and none goes on writing
  runs while a resumed sweep redoes them.
* :func:`check_workers` caps ``--workers`` at :data:`WORKERS_PER_CPU` times the CPU count.
* :class:`DirLock` is an advisory lock on a sweep's output folder (a POSIX record lock,
  ``fcntl.lockf``, where it exists).  Such a lock belongs to one process: workers do not inherit
  it, and the kernel drops it when the sweep dies, however it dies.  Two sweeps never run on one
  folder at once, and the sweep holding the lock may remove the temporary files that killed
  sweeps left behind.
"""
from __future__ import annotations

import errno
import os
import signal
import sys
import threading
import time

from .._validation import check_int

__all__ = ["WORKERS_PER_CPU", "check_workers", "worker_init", "DirLock"]

WORKERS_PER_CPU = 4
_POLL_SECONDS = 0.5


def check_workers(n, name: str = "max_workers") -> int:
    """``n`` as an int in ``[1, 4 x CPU count]``; a ``ValueError`` naming ``name`` otherwise.

    Examples
    --------
    >>> check_workers(1)
    1
    """
    cap = WORKERS_PER_CPU * (os.cpu_count() or 1)
    n = check_int(n, name, minimum=1)
    if n > cap:
        raise ValueError(f"{name} must be in [1, {cap}] ({WORKERS_PER_CPU} x the {os.cpu_count() or 1} CPUs of "
                         f"this machine; more processes only compete for them), got {n}")
    return n


def _set_pdeathsig() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # no libc symbol: the watcher thread still covers it
        pass


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, i.e. dead but not yet reaped, counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):  # no /proc (macOS): fall back to a signal-0 probe
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _watch(parent_pid: int, ppid: int) -> None:
    while True:
        time.sleep(_POLL_SECONDS)
        if os.getppid() != ppid or not _alive(parent_pid):
            os._exit(1)  # the sweep is gone: stop at once, write nothing more


def worker_init(parent_pid: int) -> None:
    """Initializer of a sweep worker: die with the sweep's main process ``parent_pid``."""
    # a forked worker inherits the CLI's SIGTERM handler (which raises in the main command); the
    # pool stops its workers with SIGTERM, which must simply end them
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    ppid = os.getppid()
    _set_pdeathsig()
    if not _alive(parent_pid) or (ppid == 1 and parent_pid != 1):
        os._exit(1)  # the parent died before the death signal was armed
    threading.Thread(target=_watch, args=(parent_pid, ppid), daemon=True, name="spectra-sweep-parent-watch").start()


class DirLock:
    """Exclusive advisory lock on ``<folder>/.sweep.lock`` while a sweep runs in ``folder``.

    Waits up to ``timeout`` seconds and then raises ``OSError(EBUSY)`` naming the lock file.
    Without ``fcntl`` (Windows) or in a read-only folder it does nothing; ``acquired`` says
    whether the lock is held.
    """

    def __init__(self, folder: str, timeout: float = 3.0):
        self.path = os.path.join(folder, ".sweep.lock")
        self.timeout = timeout
        self.fh = None
        self.acquired = False

    def __enter__(self):
        try:
            import fcntl
        except ImportError:
            return self
        try:
            self.fh = open(self.path, "a")
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                return self  # a read-only folder: nothing can be written there, so nothing to guard
            raise
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.lockf(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.acquired = True
                return self
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EAGAIN):
                    self.fh.close()
                    raise
                if time.monotonic() > deadline:
                    self.fh.close()
                    raise OSError(errno.EBUSY, "another sweep is running on this folder (its lock is held)",
                                  self.path) from None
                time.sleep(0.1)

    def __exit__(self, *exc):
        if self.fh is not None:
            self.fh.close()  # releases the lock
        return False
