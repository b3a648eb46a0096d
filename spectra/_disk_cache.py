"""A small versioned cache folder for first-call set-up that is costly to rebuild (issue #14).

Entries are JSON files under ``cache_root()/<namespace>-<digest>/``, where the digest covers the
source of the modules that compute them, so a code change starts a fresh folder instead of reading
stale values.  Each file stores its full key, checked on read.  A cache that cannot be read or
written (read-only home, a corrupt or foreign file) is skipped silently: it only saves time, it
never decides a result.  ``SPECTRA_NO_DISK_CACHE=1`` turns it off.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from ._io import atomic_write

__all__ = ["cache_root", "lookup", "store"]

_FORMAT = "spectra-cache"


def cache_root() -> Path:
    """The package's cache folder.

    ``$SPECTRA_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/spectra``, else ``~/.cache/spectra``
    (never the working folder).

    Examples
    --------
    >>> type(cache_root()).__name__ in ("PosixPath", "WindowsPath")
    True
    """
    base = os.environ.get("SPECTRA_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "spectra"


@lru_cache(maxsize=None)
def _folder(namespace: str, sources: tuple) -> Path:
    h = hashlib.sha256()
    here = Path(__file__).parent
    for rel in sources:  # the code that computes the entries: any change is a new folder
        p = here / rel
        for f in sorted(p.glob("*.py")) if p.is_dir() else [p]:
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return cache_root() / f"{namespace}-{h.hexdigest()[:16]}"


def _path(namespace: str, sources: tuple, key: str) -> Path:
    return _folder(namespace, sources) / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")


def _enabled() -> bool:
    return os.environ.get("SPECTRA_NO_DISK_CACHE", "") in ("", "0")


def lookup(namespace: str, sources: tuple, key: str) -> Optional[Any]:
    """The value stored under ``key``, or None (absent, disabled, unreadable or not ours).

    ``sources`` are paths, relative to the package, of the modules (or folders of modules) whose
    code computes the value.
    """
    if not _enabled():
        return None
    try:
        with open(_path(namespace, sources, key), encoding="utf-8") as fh:
            doc = json.load(fh)
        if doc.get("format") == _FORMAT and doc.get("key") == key:
            return doc["value"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return None


def store(namespace: str, sources: tuple, key: str, value: Any) -> None:
    """Write ``value`` (JSON-able) under ``key``, atomically; errors are ignored (see module doc)."""
    if not _enabled():
        return
    try:
        path = _path(namespace, sources, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"format": _FORMAT, "key": key, "value": value})
        atomic_write(path, lambda fh: fh.write(text))
    except (OSError, ValueError, TypeError):
        pass
