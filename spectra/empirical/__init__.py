"""Finite-width networks measured against the infinite-width theory.

Read in this order: ``network`` (numpy MLP) -> ``training`` -> ``measured_kernels`` (empirical
CK/NTK Grams) -> ``metrics`` and ``random_matrix`` (comparisons). The samplers, targets and
projections onto Walsh monomials and spherical harmonics live in :mod:`spectra.domains` and are
re-exported here.
"""
from ..domains import (DegreeSpectrum, cube_degree_spectrum, cube_points, cube_sample_degree_projections, fwht,
                       matched_eigenvalues, random_cube_polynomial, sample_gaussian, sample_inputs, sample_sphere,
                       sphere_degree_projections, spherical_harmonic_target, walsh_coefficients, walsh_degree_energy,
                       walsh_monomial)
from .data import teacher_target
from .measured_kernels import empirical_ck, empirical_ntk
from .network import MLP
from .random_matrix import (find_outliers, fit_mp, gram_esd, ks_distance, mp_density, mp_edges, powerlaw_alpha,
                            top_eigvec_overlap, top_singular_overlap, wasserstein1, weight_esd)
from .linear_width import TwoLayerStudent, single_index_data, train_first_layer
from .training import (SGD, Adam, Constant, Cosine, GD, StepDecay, TrainingDivergedError, TrainingRun, Warmup,
                       log_spaced_steps, train)
from .metrics import (alignment_curve, degree_spectrum, energy_curve, kernel_alignment,
                      kernel_specialization_matrix, relative_kernel_change, sharpness, sharpness_curve,
                      top_k_energy)
from .sweep import load_sweep, run_sweep
from .kernel_regression import MeasuredCurve, kernel_regression_curve, network_regression_curve

__all__: list = [
    "cube_points", "sample_sphere", "sample_gaussian", "sample_inputs", "walsh_monomial",
    "random_cube_polynomial", "spherical_harmonic_target", "teacher_target",
    "MLP", "empirical_ntk", "empirical_ck",
    "fwht", "walsh_coefficients", "walsh_degree_energy", "cube_degree_spectrum", "DegreeSpectrum",
    "sphere_degree_projections", "matched_eigenvalues", "cube_sample_degree_projections",
    "weight_esd", "gram_esd", "mp_edges", "mp_density", "fit_mp", "find_outliers", "top_singular_overlap",
    "top_eigvec_overlap", "powerlaw_alpha", "wasserstein1", "ks_distance",
    "TwoLayerStudent", "single_index_data", "train_first_layer",
    "train", "TrainingRun", "TrainingDivergedError", "GD", "SGD", "Adam", "Constant", "StepDecay", "Cosine",
    "Warmup", "log_spaced_steps",
    "kernel_alignment", "alignment_curve", "top_k_energy", "energy_curve", "degree_spectrum",
    "sharpness", "sharpness_curve", "kernel_specialization_matrix", "relative_kernel_change",
    "run_sweep", "load_sweep",
    "kernel_regression_curve", "network_regression_curve", "MeasuredCurve",
]
