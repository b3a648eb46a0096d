"""Every Examples section in the package runs and prints what it says (numpydoc examples are tests)."""
import doctest
import importlib
import pkgutil

import pytest

import spectra

MODULES = [m.name for m in pkgutil.walk_packages(spectra.__path__, "spectra.") if not m.name.endswith("__main__")]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, verbose=False)
    assert res.failed == 0, f"{res.failed} failing example(s) in {name}"
