"""Limit BLAS threads around small-matrix workloads.

Training small networks runs many tiny matrix products and eigendecompositions; with a
multithreaded BLAS on a busy machine the threads fight for cores and runs get 10-20x slower.
Reproductions, sweep workers and the test suite therefore run BLAS single-threaded
(``threadpoolctl``, a dependency).  Large Gram computations outside these contexts keep the
default threading.
"""
from __future__ import annotations

from contextlib import contextmanager

__all__ = ["blas_threads"]


@contextmanager
def blas_threads(n: int = 1):
    """Context manager limiting BLAS/OpenMP thread pools to ``n`` threads."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n), user_api="blas"):
        yield
