"""Closed-form infinite-width kernels and their exact spectra.

Read in this order: ``activations`` (dual kernels) -> ``kernels`` (MLP CK/NTK recursion)
-> ``cube`` / ``sphere`` / ``gaussian`` (spectra per input domain) -> ``spectrum`` (the
result object shared by all domains).
"""
from .activations import Activation, available_activations, custom_activation, get_activation
from .kernels import kernel_structure, mlp_kernel

__all__ = [
    "Activation",
    "available_activations",
    "custom_activation",
    "get_activation",
    "kernel_structure",
    "mlp_kernel",
]
from .cube import cube_spectrum, krawtchouk_matrix
from .spectrum import Spectrum

__all__ += ["cube_spectrum", "krawtchouk_matrix", "Spectrum"]
from .cube_grid import CubeGrid, cube_spectrum_grid, load_cube_grid

__all__ += ["CubeGrid", "cube_spectrum_grid", "load_cube_grid"]
from .sphere import sphere_multiplicity, sphere_spectrum

__all__ += ["sphere_spectrum", "sphere_multiplicity"]
from .gaussian import gaussian_spectrum

__all__ += ["gaussian_spectrum"]
from .equivalence import EquivalenceResult, domain_equivalence, kernel_taylor_derivatives

__all__ += ["domain_equivalence", "kernel_taylor_derivatives", "EquivalenceResult"]
