"""spectra: exact spectral theory of infinite-width neural networks, and finite networks measured against it.

Subpackages
-----------
spectra.analytic
    domain -> kernel -> spectrum: activations and dual kernels, MLP CK/NTK recursions, exact
    eigenvalues on the boolean cube, the sphere and Gaussian inputs.
spectra.empirical
    network -> training -> measured kernel -> comparison: numpy MLPs, trainers, empirical
    CK/NTK Gram matrices, projections onto the theory's eigenfunctions, metrics.

Conventions (NTK parametrization, first-layer covariance ``sigma_w^2 <x,y>/d + sigma_b^2``,
depth = number of nonlinear layers, cube inputs +-1, sphere of radius sqrt(d)) are documented
once, in ``docs/conventions.md``.
"""
__version__ = "0.1.0"

__all__ = ["__version__"]
