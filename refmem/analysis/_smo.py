"""libsvm's numerical core: RBF kernel, the SMO solver of the binary C-SVC dual and
the one-vs-one vote.

This is the numerical core of :class:`refmem.analysis.probes.SVC`. It follows libsvm's
``Solver`` class (Chang & Lin 2011 [1]_) without shrinking or a kernel cache: the
kernel matrix of the sub-problem is precomputed and every iteration is a handful of
vectorised NumPy operations over the ``n`` training points.

The dual (Eq. (1) of [2]_, with Q_ij = y_i y_j K(x_i, x_j))::

    min_a  f(a) = 1/2 a^T Q a - e^T a    s.t.  y^T a = 0,  0 <= a_i <= C

is solved by sequential minimal optimisation with the second-order working-set
selection WSS2 of Fan, Chen & Lin (2005) [2]_ and the stopping rule
``m(a) - M(a) < tol`` (Eq. (5) of [2]_).

References
----------
.. [1] C.-C. Chang and C.-J. Lin, "LIBSVM: a library for support vector machines",
   ACM TIST 2(3):27, 2011.
.. [2] R.-E. Fan, P.-H. Chen and C.-J. Lin, "Working set selection using second order
   information for training support vector machines", JMLR 6:1889-1918, 2005.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple, Optional

import numpy as np

from refmem._utils import check_float_array

__all__ = ["row_sq_norms", "permute_rows", "gram64", "sq_distances", "rbf_kernel", "SMOResult", "smo_solve", "TAU",
           "ovo_vote", "ovr_decision_function"]

#: libsvm's TAU: the curvature used when K_ii + K_jj - 2 K_ij <= 0 (Eq. (13) of [2]_).
TAU = 1e-12


_CHUNK_ELEMENTS = 1 << 22  # float64 elements per temporary block (32 MB)


def _column_blocks(n_rows: int, d: int):
    step = max(1, _CHUNK_ELEMENTS // max(n_rows, 1))
    return [slice(c, min(c + step, d)) for c in range(0, d, step)]


def row_sq_norms(A: np.ndarray) -> np.ndarray:
    """Squared row norms ``||a_i||^2`` accumulated in float64.

    Parameters
    ----------
    A : (n, d) ndarray

    Returns
    -------
    (n,) ndarray of float64
    """
    if A.dtype == np.float64:
        return np.einsum("ij,ij->i", A, A)
    out = np.zeros(A.shape[0])
    for sl in _column_blocks(A.shape[0], A.shape[1]):
        a = A[:, sl].astype(np.float64)
        out += np.einsum("ij,ij->i", a, a)
    return out


def gram64(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B.T`` in float64; non-float64 input is cast in column blocks, so a
    (1000, 30752) float32 matrix never needs a full float64 copy.

    Parameters
    ----------
    A : (n, d) ndarray
    B : (m, d) ndarray

    Returns
    -------
    (n, m) ndarray of float64
    """
    same = B is A  # a @ a.T lets BLAS use the symmetric rank-k update (half the work)
    if A.dtype == np.float64 and B.dtype == np.float64:
        return A @ A.T if same else A @ B.T
    out = np.zeros((A.shape[0], B.shape[0]))
    for sl in _column_blocks(A.shape[0] + B.shape[0], A.shape[1]):
        a = A[:, sl].astype(np.float64)
        out += a @ a.T if same else a @ B[:, sl].astype(np.float64).T
    return out


def sq_distances(A: np.ndarray, B: np.ndarray, a_sq: Optional[np.ndarray] = None,
                 b_sq: Optional[np.ndarray] = None) -> np.ndarray:
    """Squared Euclidean distances via row norms and one matrix product, in float64.

    Parameters
    ----------
    A : (n, d) ndarray
    B : (m, d) ndarray
    a_sq, b_sq : (n,) and (m,) ndarray, optional
        Precomputed squared row norms.

    Returns
    -------
    D : (n, m) ndarray of float64
        ``||a_i||^2 + ||b_j||^2 - 2 a_i . b_j`` clipped at 0 (rounding can make it
        slightly negative).
    """
    if a_sq is None:
        a_sq = row_sq_norms(A)
    if b_sq is None:
        b_sq = row_sq_norms(B)
    D = gram64(A, B)
    D *= -2.0
    D += a_sq[:, None]  # ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b
    D += b_sq[None, :]
    np.maximum(D, 0.0, out=D)
    return D


def rbf_kernel(A: np.ndarray, B: np.ndarray, gamma: float, a_sq: Optional[np.ndarray] = None,
               b_sq: Optional[np.ndarray] = None, same: bool = False) -> np.ndarray:
    """RBF kernel ``K(a, b) = exp(-gamma ||a - b||^2)`` (libsvm's ``kernel_rbf``).

    Parameters
    ----------
    A : (n, d) ndarray
    B : (m, d) ndarray
    gamma : float
    a_sq, b_sq : ndarray, optional
        Precomputed squared row norms.
    same : bool
        ``A is B``: the diagonal is set to exactly 1 (distance 0) instead of
        ``exp(-gamma * rounding error)``.

    Returns
    -------
    K : (n, m) ndarray
    """
    D = sq_distances(A, B, a_sq, b_sq)
    if same:
        np.fill_diagonal(D, 0.0)
    D *= -gamma
    return np.exp(D, out=D)  # (S2) K = exp(-gamma ||a - b||^2)


class SMOResult(NamedTuple):
    """Solution of one binary dual problem.

    alpha : (n,) ndarray of the dual variables, 0 <= alpha <= C.
    rho : float, the decision function is ``sum_i alpha_i y_i K(x_i, x) - rho``.
    n_iter : int, SMO iterations taken.
    converged : bool, stopping criterion met within ``max_iter``.
    objective : float, the dual objective f(alpha).
    """

    alpha: np.ndarray
    rho: float
    n_iter: int
    converged: bool
    objective: float


def _last_argmax(v: np.ndarray) -> int:
    # libsvm scans t = 0..n-1 with ">=", so among equal values the last index wins.
    return int(v.size - 1 - np.argmax(v[::-1]))


def smo_solve(K: np.ndarray, y: np.ndarray, C: float = 1.0, tol: float = 1e-3,
              max_iter: Optional[int] = None) -> SMOResult:
    """Solve the binary C-SVC dual by SMO with WSS2 (libsvm's ``Solver::Solve``).

    Parameters
    ----------
    K : (n, n) ndarray of float64
        Kernel matrix of the training points.
    y : (n,) ndarray
        Labels in {+1, -1}.
    C : float
        Box constraint.
    tol : float
        Stopping tolerance ``eps`` on the maximal violation ``m(a) - M(a)``.
    max_iter : int, optional
        Iteration cap; default ``max(100_000, 100 n)``. Reaching it emits a
        ``RuntimeWarning`` (as libsvm prints "reaching max number of iterations").

    Returns
    -------
    SMOResult

    Notes
    -----
    With ``v_t = -y_t G_t`` (G = grad f = Q a - e), the index sets
    ``I_up = {t : y_t = +1, a_t < C} u {t : y_t = -1, a_t > 0}`` and
    ``I_low = {t : y_t = +1, a_t > 0} u {t : y_t = -1, a_t < C}``, WSS2 picks
    ``i = argmax_{I_up} v`` and ``j = argmin_{t in I_low, v_t < v_i} -(v_i - v_t)^2 / a_it``
    with ``a_it = K_ii + K_tt - 2 K_it`` (Eq. (14)-(16) of [2]_); it stops when
    ``max_{I_up} v - min_{I_low} v < tol`` (Eq. (5) of [2]_). The two-variable
    sub-problem is solved analytically and clipped to the box as in libsvm.
    """
    y = np.asarray(y, dtype=np.float64)
    n = y.shape[0]
    C = float(C)
    if max_iter is None:
        max_iter = max(100_000, 100 * n)
    QD = np.diagonal(K).copy()
    alpha = np.zeros(n)
    G = -np.ones(n)  # gradient of f at a = 0: Q a - e = -e
    pos = y > 0
    n_iter = 0
    converged = False
    while n_iter < max_iter:
        # ---- (S5) working set selection (WSS2, Eq. (14)-(16) of [2]_)
        up = np.where(pos, alpha < C, alpha > 0)
        low = np.where(pos, alpha > 0, alpha < C)
        v = -y * G  # v_t = -y_t grad_t f
        if not up.any() or not low.any():
            converged = True
            break
        v_up = np.where(up, v, -np.inf)
        i = _last_argmax(v_up)
        Gmax = v_up[i]
        Gmin = np.min(np.where(low, v, np.inf))
        if Gmax - Gmin < tol:  # (S6) m(a) - M(a) < eps, Eq. (5) of [2]_
            converged = True
            break
        Ki = K[i]
        grad_diff = Gmax - v  # b_it = m(a) - v_t > 0 for candidates
        cand = low & (grad_diff > 0)
        quad = QD[i] + QD - 2.0 * Ki  # a_it = K_ii + K_tt - 2 K_it
        quad = np.where(quad > 0, quad, TAU)
        obj = np.where(cand, -(grad_diff * grad_diff) / quad, np.inf)  # -b^2 / a
        j = _last_argmax(-obj)
        if not np.isfinite(obj[j]):
            converged = True
            break
        n_iter += 1
        # ---- analytic two-variable update (libsvm Solver::Solve)
        Kj = K[j]
        ai_old, aj_old = alpha[i], alpha[j]
        yi, yj = y[i], y[j]
        if yi != yj:
            q = QD[i] + QD[j] + 2.0 * yi * yj * Ki[j]  # Q_ii + Q_jj + 2 Q_ij
            q = q if q > 0 else TAU
            delta = (-G[i] - G[j]) / q
            diff = ai_old - aj_old
            ai, aj = ai_old + delta, aj_old + delta
            if diff > 0:
                if aj < 0:
                    aj, ai = 0.0, diff
            elif ai < 0:
                ai, aj = 0.0, -diff
            if diff > 0:  # C_i - C_j = 0
                if ai > C:
                    ai, aj = C, C - diff
            elif aj > C:
                aj, ai = C, C + diff
        else:
            q = QD[i] + QD[j] - 2.0 * yi * yj * Ki[j]  # Q_ii + Q_jj - 2 Q_ij
            q = q if q > 0 else TAU
            delta = (G[i] - G[j]) / q
            s = ai_old + aj_old
            ai, aj = ai_old - delta, aj_old + delta
            if s > C:
                if ai > C:
                    ai, aj = C, s - C
            elif aj < 0:
                aj, ai = 0.0, s
            if s > C:
                if aj > C:
                    aj, ai = C, s - C
            elif ai < 0:
                ai, aj = 0.0, s
        alpha[i], alpha[j] = ai, aj
        # G += Q_i d_ai + Q_j d_aj with Q_t = y_t y * K_t
        G += y * (Ki * (yi * (ai - ai_old)) + Kj * (yj * (aj - aj_old)))
    if not converged:
        warnings.warn(f"SMO reached max_iter={max_iter} before the KKT violation fell "
                      f"below tol={tol}; the solution may be inaccurate", RuntimeWarning,
                      stacklevel=3)
    rho = _calculate_rho(alpha, y, G, C)
    objective = 0.5 * float(np.dot(alpha, G - 1.0))  # (S4) f = 1/2 a^T Q a - e^T a
    return SMOResult(alpha, rho, n_iter, converged, objective)


def _calculate_rho(alpha: np.ndarray, y: np.ndarray, G: np.ndarray, C: float) -> float:
    """Bias as libsvm's ``calculate_rho``: mean of y_t G_t over free SVs, else the
    midpoint of the feasible interval [lb, ub] (Section 4.1.5 of [1]_)."""
    yG = y * G
    upper = alpha >= C
    lower = alpha <= 0
    free = ~(upper | lower)
    if free.any():
        return float(np.mean(yG[free]))  # (S7) rho = mean of y_t G_t over free SVs
    pos = y > 0
    ub_mask = (upper & ~pos) | (lower & pos)
    lb_mask = (upper & pos) | (lower & ~pos)
    ub = np.min(yG[ub_mask]) if ub_mask.any() else np.inf
    lb = np.max(yG[lb_mask]) if lb_mask.any() else -np.inf
    return float((ub + lb) / 2.0)


def ovr_decision_function(raw: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class scores from one-vs-one decision values (sklearn's
    ``_ovr_decision_function(dec < 0, -dec, n_classes)``).

    Parameters
    ----------
    raw : (n, P) ndarray
        libsvm-signed ovo values (positive favours the lower class index of each
        pair), pairs ordered (0,1), (0,2), ..., (K-2, K-1).
    n_classes : int

    Returns
    -------
    (n, n_classes) ndarray of float64
        ``votes_c + s_c / (3 (|s_c| + 1))`` where ``votes_c`` counts the pairwise
        wins of class c and ``s_c`` sums its signed confidences; the second term
        lies in (-1/3, 1/3), so it only orders samples within a vote count.
    """
    raw = _check_ovo(raw, n_classes)
    n = raw.shape[0]
    votes = np.zeros((n, n_classes))
    conf = np.zeros((n, n_classes))
    p = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            d = raw[:, p]
            conf[:, i] += d
            conf[:, j] -= d
            win_j = d < 0
            votes[~win_j, i] += 1
            votes[win_j, j] += 1
            p += 1
    return votes + conf / (3.0 * (np.abs(conf) + 1.0))  # (S11) votes + s / (3(|s| + 1))


def _check_ovo(raw, n_classes: int) -> np.ndarray:
    if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2, got {n_classes!r}")
    P = n_classes * (n_classes - 1) // 2
    return check_float_array(raw, "raw", ndim=2, shape=(None, P))


def ovo_vote(raw: np.ndarray, n_classes: int) -> np.ndarray:
    """libsvm's one-vs-one vote (``svm_predict_values``).

    Parameters
    ----------
    raw : (n, P) ndarray
        libsvm-signed ovo values, pairs ordered (0,1), (0,2), ..., (K-2, K-1).
    n_classes : int

    Returns
    -------
    (n,) ndarray of int
        Class index with the most votes; ``f_ij > 0`` votes for i, otherwise (also
        ``f_ij = 0``) for j; ties between classes go to the lowest index.
    """
    raw = _check_ovo(raw, n_classes)
    votes = np.zeros((raw.shape[0], n_classes), dtype=np.int64)
    p = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            win_i = raw[:, p] > 0
            votes[win_i, i] += 1
            votes[~win_i, j] += 1
            p += 1
    return np.argmax(votes, axis=1)  # (S10) most votes; argmax takes the lowest index


def permute_rows(X: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """``X[perm]`` computed in ``X``'s own memory (cycle by cycle, one spare row); returns ``X``."""
    done = np.zeros(len(perm), dtype=bool)
    row = np.empty_like(X[0])
    for start in range(len(perm)):
        if done[start] or perm[start] == start:
            continue
        row[...] = X[start]  # X_new[k] = X_old[perm[k]] along the cycle start -> perm[start] -> ...
        k = start
        while True:
            done[k] = True
            src = perm[k]
            if src == start:
                X[k] = row
                break
            X[k] = X[src]
            k = src
    return X
