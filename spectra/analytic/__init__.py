"""Closed-form infinite-width kernels and their exact spectra.

Read in this order: ``activations`` (dual kernels) -> ``kernels`` (MLP CK/NTK recursion)
-> ``cube`` / ``cube_grid`` / ``sphere`` / ``gaussian`` (spectra per input domain) ->
``equivalence`` (high-dimensional limit) -> ``spectrum`` (the result shared by all domains).
"""
from .activations import Activation, available_activations, custom_activation, get_activation
from .bases import (cube_multiplicity, funk_hecke_rule, gegenbauer, gegenbauer_arb, krawtchouk_matrix,
                    sphere_multiplicity)
from .cube import cube_spectrum
from .cube_grid import CubeGrid, cube_spectrum_grid, load_cube_grid
from .equivalence import EquivalenceResult, domain_equivalence, kernel_taylor_derivatives
from .gaussian import gaussian_spectrum
from .kernels import MLPKernel, kernel_structure, mlp_kernel
from .sphere import sphere_spectrum
from .spectrum import Spectrum
from .learning_curve import LearningCurve, degree_learning_ranking, half_learned_n, learning_curve

__all__ = [
    # domain-independent pieces
    "Activation", "available_activations", "custom_activation", "get_activation",
    "MLPKernel", "mlp_kernel", "kernel_structure", "Spectrum",
    # the domains' eigenbases
    "cube_multiplicity", "sphere_multiplicity", "krawtchouk_matrix", "gegenbauer", "gegenbauer_arb", "funk_hecke_rule",
    # spectra per domain
    "cube_spectrum", "cube_spectrum_grid", "CubeGrid", "load_cube_grid", "sphere_spectrum", "gaussian_spectrum",
    # high-dimensional equivalence
    "domain_equivalence", "kernel_taylor_derivatives", "EquivalenceResult",
    # learning curves from the spectra
    "learning_curve", "LearningCurve", "half_learned_n", "degree_learning_ranking",
]
