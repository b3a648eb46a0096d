"""spectra: exact spectral theory of infinite-width neural networks, and finite networks measured against it.

Four nouns (``docs/architecture.md``):

* a **kernel**, :class:`MLPKernel` (activation, depth, variances, CK or NTK), immutable and validated once;
* a **domain**, :class:`Cube`, :class:`Sphere` or :class:`Gaussian`: multiplicities, eigenbasis,
  sampler, targets, and the projection of a measured Gram matrix onto its degrees;
* a **spectrum**, :class:`Spectrum` (``kernel.spectrum(domain)``), or its measured counterpart
  :class:`DegreeSpectrum` (``domain.degree_spectrum(gram, X)``);
* a **training run**, :class:`TrainingRun`, made by :func:`train` from an :class:`MLP`.

Subpackages: ``spectra.analytic`` (kernels and exact spectra), ``spectra.domains``,
``spectra.empirical`` (networks, training, measured kernels, metrics), ``spectra.reproductions``
and ``spectra.cli``. Conventions (NTK parametrization, first-layer covariance
``sigma_w^2 <x,y>/d + sigma_b^2``, depth = number of nonlinear layers, cube inputs +-1, sphere
of radius sqrt(d)) are documented once, in ``spectra/conventions.md``, which ships with the
package: :func:`conventions` returns its text.

The names are loaded on first use, so ``import spectra`` costs almost nothing.

Examples
--------
>>> from spectra import MLPKernel, Cube
>>> s = MLPKernel("relu", depth=2).spectrum(Cube(16))
>>> int(s.multiplicities[8]), bool(s.certified.any())
(12870, True)
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily by __getattr__)
_NOUNS = {
    "MLPKernel": "spectra.analytic",
    "Spectrum": "spectra.analytic",
    "Cube": "spectra.domains",
    "Sphere": "spectra.domains",
    "Gaussian": "spectra.domains",
    "DegreeSpectrum": "spectra.domains",
    "MLP": "spectra.empirical",
    "train": "spectra.empirical",
    "TrainingRun": "spectra.empirical",
}

__all__ = ["__version__", "conventions", *_NOUNS]


def conventions() -> str:
    """The conventions page (parametrization, covariances, depth, inputs, eigenvalues, losses) as text.

    Docstrings cite it as ``spectra.conventions()``; it is installed with the package, so this works
    without the repository.

    Returns
    -------
    str
        The Markdown text of ``spectra/conventions.md``.

    Examples
    --------
    >>> text = conventions()
    >>> text.splitlines()[0]
    '# Conventions (the one place they are written down)'
    >>> "NTK parametrization" in text
    True
    """
    from importlib.resources import files

    return files("spectra").joinpath("conventions.md").read_text(encoding="utf-8")


def __getattr__(name: str):
    if name in _NOUNS:
        value = getattr(importlib.import_module(_NOUNS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spectra' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_NOUNS))
