"""Plain reference of the modern Hopfield update and energy, written as the equations read.

This module is the readable counterpart of the chunked BLAS kernels in ``_kernels.py``
(as ``conv2d_naive`` is for ``Conv2D``): one state at a time, column form of Ramsauer et
al. [1]_, float64, no chunking, no in-place tricks. It is slow and meant for reading and
for tests, which assert that :class:`refmem.hippocampus.ModernHopfield` computes the same
numbers. Labels (H1)-(H5) are those of ``docs/hippocampus.md``.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])   # two stored patterns (rows)
>>> update_reference(X, np.array([1.0, 0.0, 5.0]), beta=np.log(3.0))
array([0.75, 0.25, 0.  ])
>>> round(float(energy_reference(X, np.array([1.0, 0.0, 0.0]), beta=1.0)), 6)
0.379885

References
----------
.. [1] H. Ramsauer et al., "Hopfield Networks is All You Need", ICLR 2021.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["update_reference", "energy_reference", "softmax_reference"]


def softmax_reference(z: np.ndarray) -> np.ndarray:
    """Max-subtracted softmax of a vector, ``p_i = exp(z_i - max z) / sum_j exp(z_j - max z)`` (H3).

    Parameters
    ----------
    z : (N,) array_like

    Returns
    -------
    p : (N,) ndarray of float64, summing to 1
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())  # (H3) no exponent is positive: exp cannot overflow
    return e / e.sum()


def update_reference(patterns: np.ndarray, xi: np.ndarray, beta: float) -> np.ndarray:
    """One update of one state, ``xi_new = X_R softmax(beta X_R^T xi)`` (H2).

    Parameters
    ----------
    patterns : (N, d) array_like
        Stored patterns as rows (``X``); Ramsauer's column matrix is ``X_R = X.T``.
    xi : (d,) array_like
        The state.
    beta : float
        Inverse temperature on raw dot products (``ModernHopfield.beta_eff``, (H1)).

    Returns
    -------
    xi_new : (d,) ndarray of float64
    """
    XR = np.asarray(patterns, dtype=np.float64).T          # (d, N): the columns are the patterns
    xi = np.asarray(xi, dtype=np.float64)
    p = softmax_reference(beta * (XR.T @ xi))              # p = softmax(beta X_R^T xi)
    return XR @ p                          # (H2) xi_new = X_R softmax(beta X_R^T xi)


def energy_reference(patterns: np.ndarray, xi: np.ndarray, beta: float) -> float:
    """Energy of one state (H4).

    ``E = -lse(beta, X_R^T xi) + xi^T xi / 2 + log(N) / beta + M^2 / 2`` with
    ``lse(beta, z) = log(sum_i exp(beta z_i)) / beta`` (H5), evaluated with the maximum
    taken out; ``M = max_i ||x_i||``.

    Parameters
    ----------
    patterns : (N, d) array_like
    xi : (d,) array_like
    beta : float
        The same inverse temperature as the update (``beta_eff``).

    Returns
    -------
    float
    """
    X = np.asarray(patterns, dtype=np.float64)
    xi = np.asarray(xi, dtype=np.float64)
    n = X.shape[0]
    z = beta * (X @ xi)                                        # beta X_R^T xi
    lse = (z.max() + math.log(np.exp(z - z.max()).sum())) / beta  # (H5) lse(beta, X_R^T xi)
    m = max(math.sqrt(float(x @ x)) for x in X)                # M = max_i ||x_i||
    return float(-lse + 0.5 * (xi @ xi) + math.log(n) / beta + 0.5 * m * m)  # (H4)
