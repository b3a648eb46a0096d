"""Closed-form infinite-width kernels and their exact spectra.

Read in this order: ``activations`` (dual kernels) -> ``kernels`` (MLP CK/NTK recursion)
-> ``cube`` / ``cube_grid`` / ``sphere`` / ``gaussian`` (spectra per input domain) ->
``equivalence`` (high-dimensional limit) -> ``spectrum`` (the result shared by all domains).
"""
from .activations import Activation, available_activations, custom_activation, get_activation
from .cube import cube_spectrum, krawtchouk_matrix
from .cube_grid import CubeGrid, cube_spectrum_grid, load_cube_grid
from .equivalence import EquivalenceResult, domain_equivalence, kernel_taylor_derivatives
from .gaussian import gaussian_spectrum
from .kernels import kernel_structure, mlp_kernel
from .sphere import sphere_multiplicity, sphere_spectrum
from .spectrum import Spectrum

__all__ = [
    # domain-independent pieces
    "Activation", "available_activations", "custom_activation", "get_activation",
    "mlp_kernel", "kernel_structure", "Spectrum",
    # spectra per domain
    "cube_spectrum", "krawtchouk_matrix", "cube_spectrum_grid", "CubeGrid", "load_cube_grid",
    "sphere_spectrum", "sphere_multiplicity", "gaussian_spectrum",
    # high-dimensional equivalence
    "domain_equivalence", "kernel_taylor_derivatives", "EquivalenceResult",
]
