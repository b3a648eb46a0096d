"""Finite-width networks measured against the infinite-width theory.

Read in this order: ``data`` (samplers, targets) -> ``network`` (numpy MLP) -> ``training``
-> ``measured_kernels`` (empirical CK/NTK Grams) -> ``projections`` (onto Walsh monomials and
spherical harmonics) -> ``metrics`` and ``random_matrix`` (comparisons).
"""
__all__: list = []
