"""Test-session settings (single-threaded BLAS; a private cache folder).

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


@pytest.fixture(autouse=True, scope="session")
def _private_cache_folder(tmp_path_factory):
    """The package's cache folder (sphere set-up, figures) goes to a temporary folder, not ~/.cache."""
    import os

    old = os.environ.get("SPECTRA_CACHE_DIR")
    os.environ["SPECTRA_CACHE_DIR"] = str(tmp_path_factory.mktemp("spectra-cache"))
    yield
    if old is None:
        os.environ.pop("SPECTRA_CACHE_DIR", None)
    else:
        os.environ["SPECTRA_CACHE_DIR"] = old
