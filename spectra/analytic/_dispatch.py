"""The closed-form dual kernels known to the numba grid path: one enum, defined once.

``Activation.dispatch`` holds one of these codes and ``Activation.dispatch_params`` its parameters
(two for most, three for scaled erf, the coefficients for polynomials);
:mod:`spectra.analytic._duals_numba` branches on them (numba treats ``IntEnum`` members as
compile-time constants).
"""
from __future__ import annotations

from enum import IntEnum

__all__ = ["Dual"]


class Dual(IntEnum):
    """Dispatch code of a closed-form dual; parameters ``(p0, p1)`` in the comments."""

    NONE = 0         #: no closed form (Hermite series): the grid uses the numpy path
    RELU_FAMILY = 1  #: a min(x, 0) + b max(x, 0): relu (0, 1), leaky relu (alpha, 1), abs (-1, 1)
    STEP_FAMILY = 2  #: a 1[x < 0] + b 1[x > 0]: step (0, 1), sign (-1, 1); its derivative is 0
    ERF = 5
    SIN = 6
    COS = 7
    IDENTITY = 8
    MONOMIAL = 9     #: x^n, p0 = n
    GELU = 10
    RELU_POWER = 11  #: max(x, 0)^n, p0 = n in {2, 3}
    EXP = 12
    GAUSSIAN = 13    #: exp(-x^2)
    SCALED_ERF = 14  #: a erf(b x) + c, params (a, b, c)
    POLYNOMIAL = 15  #: sum_j a_j x^j, params (a_0, ..., a_n)
