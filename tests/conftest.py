"""Test-session settings.

BLAS runs single-threaded: the suite is dominated by small matrices (training loops,
eigendecompositions of a few hundred points), where BLAS threads only fight for the two
cores of a CI machine.
"""
import pytest


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    from spectra._threads import blas_threads

    with blas_threads(1):
        yield
