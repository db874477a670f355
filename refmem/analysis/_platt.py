"""Class probabilities for the one-vs-one SVC, as libsvm computes them.

Three steps, each a function:

1. :func:`cv_decision_values`: for one pair of classes, decision values of every
   training point from 5-fold cross-validation (the point's fold is left out of the
   binary SVM that scores it), so the sigmoid is not fitted on over-confident
   in-sample values (libsvm's ``svm_binary_svc_probability``).
2. :func:`sigmoid_train`: Platt's sigmoid ``P(y = +1 | f) = 1 / (1 + exp(A f + B))``
   fitted to those values by Newton's method with backtracking on the regularised
   targets of [1]_, in the form of [2]_ (libsvm's ``sigmoid_train``);
   :func:`sigmoid_predict` evaluates it.
3. :func:`pairwise_coupling`: the K class probabilities from the K (K - 1) / 2 pairwise
   ones ``r_ij ~ P(i | i or j)`` by method 2 of [3]_, the minimiser of
   ``sum_i sum_{j != i} (r_ji p_i - r_ij p_j)^2`` subject to ``sum p = 1``
   (libsvm's ``multiclass_probability``).

References
----------
.. [1] J. Platt, "Probabilistic outputs for support vector machines and comparisons to
   regularized likelihood methods", in Advances in Large Margin Classifiers, 1999.
.. [2] H.-T. Lin, C.-J. Lin and R. C. Weng, "A note on Platt's probabilistic outputs for
   support vector machines", Machine Learning 68:267-276, 2007.
.. [3] T.-F. Wu, C.-J. Lin and R. C. Weng, "Probability estimates for multi-class
   classification by pairwise coupling", JMLR 5:975-1005, 2004.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = ["cv_decision_values", "sigmoid_train", "sigmoid_predict", "pairwise_coupling", "ovo_probabilities",
           "MIN_PROB"]

#: pairwise probabilities are clipped to [MIN_PROB, 1 - MIN_PROB] (libsvm)
MIN_PROB = 1e-7


def _sigmoid_objective(f: np.ndarray, t: np.ndarray, A: float, B: float) -> float:
    """Cross-entropy ``sum_i -t_i log p_i - (1 - t_i) log(1 - p_i)``, written without overflow."""
    a = f * A + B
    return float(np.sum(np.where(a >= 0, t * a + np.log1p(np.exp(-np.abs(a))),
                                 (t - 1) * a + np.log1p(np.exp(-np.abs(a))))))


def sigmoid_predict(f, A: float, B: float) -> np.ndarray:
    """``1 / (1 + exp(A f + B))`` for an array of decision values, without overflow."""
    a = np.asarray(f, dtype=np.float64) * A + B
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, e / (1.0 + e), 1.0 / (1.0 + e))


def sigmoid_train(f, y, max_iter: int = 100, min_step: float = 1e-10, sigma: float = 1e-12,
                  eps: float = 1e-5) -> Tuple[float, float]:
    """Fit Platt's sigmoid to decision values ``f`` and labels ``y`` (+1 / -1).

    Targets are ``(N+ + 1) / (N+ + 2)`` for positives and ``1 / (N- + 2)`` for negatives
    (Platt's regularisation); the start is ``A = 0, B = log((N- + 1) / (N+ + 1))``.

    Parameters
    ----------
    f : (n,) array_like of float
    y : (n,) array_like, > 0 for the positive class

    Returns
    -------
    A, B : float
        ``P(y = +1 | f) = 1 / (1 + exp(A f + B))``; A < 0 when larger f means +1.

    Examples
    --------
    >>> A, B = sigmoid_train([-2.0, -1.0, 1.0, 2.0], [-1, -1, 1, 1])
    >>> bool(A < 0), round(B, 12) == 0.0
    (True, True)
    """
    f = np.asarray(f, dtype=np.float64)
    pos = np.asarray(y) > 0
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    t = np.where(pos, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    A, B = 0.0, float(np.log((n_neg + 1.0) / (n_pos + 1.0)))
    fval = _sigmoid_objective(f, t, A, B)
    for _ in range(max_iter):
        p = sigmoid_predict(f, A, B)
        d2 = p * (1.0 - p)
        h11, h22, h21 = sigma + np.sum(f * f * d2), sigma + np.sum(d2), np.sum(f * d2)  # Hessian + sigma I
        d1 = t - p
        g1, g2 = np.sum(f * d1), np.sum(d1)  # gradient
        if abs(g1) < eps and abs(g2) < eps:
            break
        det = h11 * h22 - h21 * h21
        dA, dB = -(h22 * g1 - h21 * g2) / det, -(-h21 * g1 + h11 * g2) / det  # Newton direction
        gd = g1 * dA + g2 * dB
        step = 1.0
        while step >= min_step:  # backtracking line search (sufficient decrease)
            newf = _sigmoid_objective(f, t, A + step * dA, B + step * dB)
            if newf < fval + 1e-4 * step * gd:
                A, B, fval = A + step * dA, B + step * dB, newf
                break
            step /= 2.0
        if step < min_step:
            break
    return float(A), float(B)


def cv_decision_values(K: np.ndarray, y: np.ndarray, solve, rng, n_folds: int = 5) -> np.ndarray:
    """Cross-validated decision values of one binary problem (libsvm's procedure).

    The points are shuffled; fold i holds positions ``[i n / 5, (i + 1) n / 5)`` of the
    shuffled order. Each fold is scored by a binary SVM trained on the other folds; a
    training set with one class only scores its fold +1 or -1.

    Parameters
    ----------
    K : (n, n) ndarray
        Kernel matrix of the pair's points.
    y : (n,) ndarray of +1 / -1
    solve : callable(K, y) -> result with ``alpha`` and ``rho``
        The binary SVM solver (``smo_solve`` with the SVC's C and tolerance).
    rng : numpy.random.Generator
        Draws the shuffle.

    Returns
    -------
    (n,) ndarray of float64
        ``f(x_s) = sum_t y_t alpha_t K(x_t, x_s) - rho`` of the model that did not see s.
    """
    n = len(y)
    perm = rng.permutation(n)
    dec = np.zeros(n)
    for i in range(n_folds):
        test = perm[i * n // n_folds:(i + 1) * n // n_folds]
        train = np.concatenate([perm[:i * n // n_folds], perm[(i + 1) * n // n_folds:]])
        yt = y[train]
        if np.all(yt > 0) or np.all(yt < 0):
            dec[test] = 1.0 if yt.size and yt[0] > 0 else -1.0
            continue
        res = solve(K[np.ix_(train, train)], yt)
        dec[test] = K[np.ix_(test, train)] @ (yt * res.alpha) - res.rho
    return dec


def pairwise_coupling(r: np.ndarray, max_iter: int = 100) -> np.ndarray:
    """Class probabilities ``p`` from pairwise probabilities (method 2 of Wu, Lin and Weng).

    Solves ``min_p p^T Q p`` subject to ``sum p = 1`` with ``Q_ii = sum_{j != i} r_ji^2``
    and ``Q_ij = -r_ji r_ij``, by libsvm's fixed-point iteration, stopped when
    ``max_t |(Q p)_t - p^T Q p| < 0.005 / K``.

    Parameters
    ----------
    r : (n, K, K) ndarray
        ``r[:, i, j] ~ P(i | i or j)``, with ``r_ij + r_ji = 1``; the diagonal is ignored.

    Returns
    -------
    (n, K) ndarray, rows sum to 1

    Examples
    --------
    >>> r = np.array([[[0, .75, .75], [.25, 0, .5], [.25, .5, 0]]])
    >>> pairwise_coupling(r).round(2)  # consistent r: p = (0.6, 0.2, 0.2) up to the stopping tolerance
    array([[0.6, 0.2, 0.2]])
    """
    r = np.asarray(r, dtype=np.float64)
    n, k, _ = r.shape
    out = np.empty((n, k))
    eps = 0.005 / k
    for s in range(n):
        rs = r[s].copy()
        np.fill_diagonal(rs, 0.0)
        Q = -rs.T * rs  # Q_ij = -r_ji r_ij
        np.fill_diagonal(Q, np.sum(rs ** 2, axis=0))  # Q_ii = sum_j r_ji^2
        p = np.full(k, 1.0 / k)
        for _ in range(max(max_iter, k)):
            Qp = Q @ p
            pQp = p @ Qp
            if np.max(np.abs(Qp - pQp)) < eps:
                break
            for t in range(k):
                diff = (-Qp[t] + pQp) / Q[t, t]
                p[t] += diff
                pQp = (pQp + diff * (diff * Q[t, t] + 2 * Qp[t])) / (1 + diff) ** 2
                Qp = (Qp + diff * Q[t]) / (1 + diff)
                p /= 1 + diff
        out[s] = p
    return out


def ovo_probabilities(raw: np.ndarray, A: np.ndarray, B: np.ndarray, n_classes: int) -> np.ndarray:
    """Class probabilities from one-vs-one decision values (libsvm's ``svm_predict_probability``).

    Parameters
    ----------
    raw : (n, P) ndarray
        Decision values of the pairs (0, 1), (0, 2), ..., positive for the first class.
    A, B : (P,) ndarray
        The pairs' Platt sigmoids.
    n_classes : int

    Returns
    -------
    (n, K) ndarray, rows sum to 1
        ``r_ij = clip(1 / (1 + exp(A_ij f_ij + B_ij)), 1e-7, 1 - 1e-7)``, ``r_ji = 1 - r_ij``;
        two classes: ``(r_01, r_10)``; more: :func:`pairwise_coupling`.
    """
    K = int(n_classes)
    r = np.zeros((raw.shape[0], K, K))
    iu = np.triu_indices(K, 1)  # pairs (0,1), (0,2), ... in libsvm's order
    pij = np.clip(sigmoid_predict(raw, A, B), MIN_PROB, 1 - MIN_PROB)
    r[:, iu[0], iu[1]], r[:, iu[1], iu[0]] = pij, 1.0 - pij
    if K == 2:
        return np.stack([r[:, 0, 1], r[:, 1, 0]], axis=1)
    return pairwise_coupling(r)
