"""Runnable reproductions of published claims: ``spectra reproduce NAME``.

Each reproduction is a module of this package exposing

``run(*, fast: bool = False, seed: int = 0, progress: bool = True) -> ReproductionResult``

where ``fast=True`` is a reduced version used by the test suite.  A reproduction checks
every claim with PASS/FAIL, reports the numbers behind it, and draws a figure.  The common
result type lives in :mod:`spectra.reproductions.common`.
"""
from __future__ import annotations

import importlib

# name on the command line -> module in this package
REGISTRY = {
    "alignment": "alignment",
    "specialization": "specialization",
    "depth-alignment": "depth_alignment",
    "two-phase": "two_phase",
    "bulk-invariance": "bulk_invariance",
    "spike": "spike",
    "heavy-tail": "heavy_tail",
    "max-lr": "max_lr",
    "degree-learning": "degree_learning",
}

__all__ = ["REGISTRY", "available", "get"]


def available() -> list[str]:
    """Names of the reproductions that are installed."""
    out = []
    for name, mod in REGISTRY.items():
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{mod}":
                continue
            raise
        out.append(name)
    return out


def get(name: str):
    """The module of reproduction ``name``; ``ValueError`` naming the known ones otherwise."""
    if name not in REGISTRY or name not in available():
        raise ValueError(f"reproduction: unknown name {name!r}; known: {', '.join(available())}")
    return importlib.import_module(f"{__name__}.{REGISTRY[name]}")
