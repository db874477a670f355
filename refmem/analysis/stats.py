"""Analysis statistics for the consolidation experiments (paper E3-E8).

* :func:`pca`: principal components by SVD of the centred data (E4 projection).
* :func:`knn_agreement`: fraction of the k nearest neighbours sharing a point's label
  (E4 "5-nearest-neighbour shape agreement").
* :func:`silhouette_score`: mean silhouette coefficient (Rousseeuw 1987) as sklearn (E4).
* :func:`spearman`: Spearman rank correlation with its p-value (E3 accuracy vs epoch).
* :func:`sem`: standard error of the mean.
* :func:`nearest_distance`: per-query distance to the nearest reference, e.g. pixel
  MAE to the nearest of 1,000 real scenes (E5 "closer to the manifold").
* :func:`roc_auc`: area under the ROC curve of a score separating two sets (E17
  familiar vs novel).

Distances are computed in float64 in row blocks, so (n, n) problems with n <= 5,000
never hold more than a block of the distance matrix at once. Equations:
``docs/analysis.md``.
"""
from __future__ import annotations

from typing import Any, Tuple, Union

import numpy as np
import scipy.stats

from refmem.analysis._logreg import check_features
from refmem.analysis._smo import row_sq_norms, sq_distances
from refmem._utils import MAX_MAGNITUDE, check_array, check_float_array

__all__ = ["pca", "knn_agreement", "silhouette_score", "spearman", "sem", "nearest_distance", "roc_auc"]

_BLOCK_ELEMENTS = 1 << 22  # float64 elements per distance block (32 MB)


def _row_block(n_cols: int) -> int:
    return max(1, _BLOCK_ELEMENTS // max(n_cols, 1))


def _check_labels(labels: Any, n: int) -> np.ndarray:
    labels = check_array(labels, "labels", ndim=1)
    if labels.dtype.kind not in "biufU":
        raise TypeError(f"labels must hold int, bool, float or str values, got dtype {labels.dtype}")
    if labels.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},) to match features, got {labels.shape}")
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


def pca(X: Any, n_components: int = 2) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal component analysis by SVD of the centred data.

    ``X - mean = U S V^T``; the components are the first k rows of ``V^T`` and the
    projection is ``(X - mean) V_k = U_k S_k``. Each component's sign is fixed so that
    its largest-magnitude entry is positive (deterministic output).

    Parameters
    ----------
    X : (n, d) array_like
    n_components : int
        k, with 1 <= k <= min(n, d).

    Returns
    -------
    projection : (n, k) ndarray, X's float dtype
    components : (k, d) ndarray, X's float dtype
        Orthonormal rows.
    explained_variance_ratio : (k,) ndarray of float64
        ``S_c^2 / sum(S^2)`` (0 for constant data).
    """
    X = check_features(X, "X")
    n, d = X.shape
    if not isinstance(n_components, (int, np.integer)) or not 1 <= n_components <= min(n, d):
        raise ValueError(f"n_components must be an int in [1, {min(n, d)}], got {n_components!r}")
    Xc = X.astype(np.float64) - X.mean(axis=0, dtype=np.float64)
    _, S, Vt = np.linalg.svd(Xc, full_matrices=False)  # (S14) X - mean = U S V^T
    Vt = Vt[:n_components]
    signs = np.sign(Vt[np.arange(n_components), np.argmax(np.abs(Vt), axis=1)])
    Vt = Vt * np.where(signs == 0, 1.0, signs)[:, None]
    proj = Xc @ Vt.T  # projection = (X - mean) V_k
    total = np.sum(S ** 2)
    ratio = S[:n_components] ** 2 / total if total > 0 else np.zeros(n_components)
    return proj.astype(X.dtype), Vt.astype(X.dtype), ratio


def knn_agreement(features: Any, labels: Any, k: int = 5) -> float:
    """Mean fraction of each point's k nearest neighbours that share its label.

    ``A = 1/n sum_i 1/k sum_{j in N_k(i)} [l_j = l_i]`` with ``N_k(i)`` the k nearest
    other points in Euclidean distance (the point itself excluded; among points tied
    at the k-th distance, ``np.argpartition`` picks deterministically but arbitrarily).

    Parameters
    ----------
    features : (n, d) array_like
    labels : (n,) array_like
    k : int
        1 <= k <= n - 1.

    Returns
    -------
    float
        1 for perfectly separated labels, about ``sum_c p_c^2`` (1/C for C balanced
        classes) for labels unrelated to the features.
    """
    X = check_features(features, "features")
    li = _check_labels(labels, X.shape[0])
    n = X.shape[0]
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= n - 1:
        raise ValueError(f"k must be an int in [1, {n - 1}] (n - 1), got {k!r}")
    sq = row_sq_norms(X)
    hits = 0
    step = _row_block(n)
    for a in range(0, n, step):
        D = sq_distances(X[a:a + step], X, sq[a:a + step], sq)
        rows = np.arange(D.shape[0])
        D[rows, a + rows] = np.inf  # exclude the point itself
        nn = np.argpartition(D, k - 1, axis=1)[:, :k]  # the k nearest, unordered
        hits += int(np.sum(li[nn] == li[a:a + step, None]))
    return hits / (n * k)  # (S15) mean over i of the fraction of same-label neighbours


def silhouette_score(features: Any, labels: Any) -> float:
    """Mean silhouette coefficient, Euclidean (as ``sklearn.metrics.silhouette_score``).

    For point i in cluster A: ``a_i`` = mean distance to the other points of A,
    ``b_i`` = min over other clusters B of the mean distance to B, and
    ``s_i = (b_i - a_i) / max(a_i, b_i)`` (Rousseeuw 1987 [1]_); ``s_i = 0`` if A
    has one point. Returns ``mean_i s_i``.

    Parameters
    ----------
    features : (n, d) array_like
    labels : (n,) array_like
        Between 2 and n - 1 distinct labels.

    Returns
    -------
    float in [-1, 1]

    References
    ----------
    .. [1] P. J. Rousseeuw, "Silhouettes: a graphical aid to the interpretation and
       validation of cluster analysis", J. Comput. Appl. Math. 20:53-65, 1987.
    """
    X = check_features(features, "features")
    li = _check_labels(labels, X.shape[0])
    n = X.shape[0]
    L = int(li.max()) + 1
    if not 2 <= L <= n - 1:
        raise ValueError(f"labels must have between 2 and n - 1 = {n - 1} distinct values, got {L}")
    onehot = np.zeros((n, L))
    onehot[np.arange(n), li] = 1.0
    counts = onehot.sum(axis=0)
    sq = row_sq_norms(X)
    s = np.zeros(n)
    step = _row_block(n)
    for a in range(0, n, step):
        D = sq_distances(X[a:a + step], X, sq[a:a + step], sq)
        rows = np.arange(D.shape[0])
        D[rows, a + rows] = 0.0  # exact zero self-distance
        sums = np.sqrt(D) @ onehot  # (block, L) summed distances to each cluster
        own = li[a:a + step]
        own_n = counts[own]
        a_i = sums[rows, own] / np.maximum(own_n - 1, 1)  # mean over the other members
        mean_other = sums / counts
        mean_other[rows, own] = np.inf
        b_i = mean_other.min(axis=1)
        denom = np.maximum(a_i, b_i)
        with np.errstate(invalid="ignore", divide="ignore"):
            si = np.where(denom > 0, (b_i - a_i) / denom, 0.0)  # (S16) s = (b - a) / max(a, b)
        s[a:a + step] = np.where(own_n > 1, si, 0.0)
    return float(s.mean())


def spearman(x: Any, y: Any) -> Tuple[float, float]:
    """Spearman rank correlation ``rho`` and its two-sided p-value (``scipy.stats.spearmanr``).

    ``rho`` is Pearson's correlation of the (average-tie) ranks. If either input is
    constant, rho is undefined: ``(nan, nan)`` is returned explicitly, without a
    warning.

    Parameters
    ----------
    x, y : (n,) array_like, n >= 2, finite

    Returns
    -------
    rho, p : float
    """
    x = check_float_array(x, "x", ndim=1)
    y = check_float_array(y, "y", ndim=1)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"spearman needs at least 2 pairs, got {x.shape[0]}")
    if np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan"), float("nan")
    if x.shape[0] == 2:  # ranks of two distinct values: rho = +-1, p = 1 (no test possible)
        return float(np.sign((x[1] - x[0]) * (y[1] - y[0]))), 1.0
    rho, p = scipy.stats.spearmanr(x, y)   # (S17) ranks' Pearson r; (statistic, pvalue) unpacks on every SciPy
    return float(rho), float(p)


def sem(x: Any, ddof: int = 0, axis: Union[int, None] = None) -> Union[float, np.ndarray]:
    """Standard error of the mean, ``sd / sqrt(n)``.

    The default ``ddof = 0`` uses the population standard deviation
    ``sqrt(mean((x - mean(x))^2))``, the convention of the paper's code (NumPy's
    ``np.std`` default); ``ddof = 1`` gives ``scipy.stats.sem``.

    Parameters
    ----------
    x : array_like, finite
    ddof : int
        Delta degrees of freedom, ``0 <= ddof < n``.
    axis : int or None
        Axis of the samples; None flattens.

    Returns
    -------
    float (axis None) or ndarray of float64
    """
    x = check_float_array(x, "x", min_size=1)
    if axis is not None and (isinstance(axis, bool) or not isinstance(axis, (int, np.integer))
                             or not -x.ndim <= axis < x.ndim):
        raise ValueError(f"axis must be None or an int in [{-x.ndim}, {x.ndim - 1}], got {axis!r}")
    n = x.size if axis is None else x.shape[axis]
    if not isinstance(ddof, (int, np.integer)) or not 0 <= ddof < n:
        raise ValueError(f"ddof must be an int in [0, {n - 1}] (n - 1), got {ddof!r}")
    k = int(np.frexp(float(np.abs(x).max()))[1]) if float(np.abs(x).max()) > MAX_MAGNITUDE else 0
    x = np.ldexp(x.astype(np.float64), -k) if k else x  # exact rescaling: squares of huge values overflow
    out = np.ldexp(np.std(x, axis=axis, ddof=ddof, dtype=np.float64), k) / np.sqrt(n)  # (S18) sd / sqrt(n)
    return float(out) if axis is None else out


def nearest_distance(queries: Any, references: Any, metric: str = "mae",
                     return_index: bool = False):
    """Distance from each query to its nearest reference.

    Parameters
    ----------
    queries : (q, ...) array_like
        Any trailing shape (e.g. images ``(q, H, W, C)``); flattened per item.
    references : (r, ...) array_like
        Same trailing shape as ``queries``.
    metric : {"mae", "mse", "euclidean"}
        ``mae``: ``mean_e |q_e - r_e|`` (the paper's pixel MAE, E5); ``mse``:
        ``mean_e (q_e - r_e)^2``; ``euclidean``: ``||q - r||``.
    return_index : bool
        Also return the index of the nearest reference.

    Returns
    -------
    dist : (q,) ndarray of float64
        ``min_j d(q_i, r_j)``.
    index : (q,) ndarray of int, only if ``return_index``
    """
    Q = check_float_array(queries, "queries", min_size=1)
    R = check_float_array(references, "references", min_size=1)
    if Q.ndim < 2 or R.ndim < 2 or Q.shape[1:] != R.shape[1:]:
        raise ValueError(f"queries and references must be (q, ...) and (r, ...) with the same "
                         f"trailing shape, got {Q.shape} and {R.shape}")
    if metric not in ("mae", "mse", "euclidean"):
        raise ValueError(f"metric must be 'mae', 'mse' or 'euclidean', got {metric!r}")
    Q = Q.reshape(Q.shape[0], -1)
    R = R.reshape(R.shape[0], -1)
    d = Q.shape[1]
    big = max(float(np.abs(Q).max()), float(np.abs(R).max()))
    if big > np.sqrt(np.finfo(np.result_type(Q.dtype, R.dtype)).max / (4 * d)):  # squares would overflow
        return _nearest_rescaled(Q, R, metric, return_index, big)
    dist = np.empty(Q.shape[0])
    index = np.empty(Q.shape[0], dtype=np.int64)
    if metric == "mae":
        # |q - r| has no matrix-product form: blocks of (queries x references x d) in the
        # inputs' common float dtype (pairwise summation keeps float32 sums accurate)
        dt = np.result_type(Q.dtype, R.dtype)
        r_step = max(1, min(R.shape[0], _BLOCK_ELEMENTS // d))
        q_step = max(1, _BLOCK_ELEMENTS // (d * r_step))
        buf = np.empty((min(q_step, Q.shape[0]), r_step, d), dtype=dt)
        for a in range(0, Q.shape[0], q_step):
            q = Q[a:a + q_step, None, :]
            best = np.full(q.shape[0], np.inf)
            arg = np.zeros(q.shape[0], dtype=np.int64)
            for b in range(0, R.shape[0], r_step):
                r = R[None, b:b + r_step, :]
                t = buf[:q.shape[0], :r.shape[1]]
                np.subtract(q, r, out=t)
                np.abs(t, out=t)
                m = t.sum(axis=2, dtype=np.float64) / d  # (S19) mean_e |q_e - r_e|
                j = np.argmin(m, axis=1)
                mj = m[np.arange(m.shape[0]), j]
                better = mj < best
                best[better], arg[better] = mj[better], b + j[better]
            dist[a:a + q_step], index[a:a + q_step] = best, arg
    else:
        r_sq = row_sq_norms(R)
        step = _row_block(R.shape[0])
        for a in range(0, Q.shape[0], step):
            D = sq_distances(Q[a:a + step], R, None, r_sq)  # ||q - r||^2
            j = np.argmin(D, axis=1)
            dj = D[np.arange(D.shape[0]), j]
            dist[a:a + step] = np.sqrt(dj) if metric == "euclidean" else dj / d
            index[a:a + step] = j
    return (dist, index) if return_index else dist


def _nearest_rescaled(Q: np.ndarray, R: np.ndarray, metric: str, return_index: bool, big: float):
    """:func:`nearest_distance` of inputs so large that differences or squares overflow:
    computed on ``x 2^-k`` (exact) with ``2^k >= max |x|``, then scaled back
    (``mse`` by ``4^k``); ``ValueError`` if a distance itself exceeds the float64 range."""
    k = int(np.frexp(big)[1])  # big < 2^k
    dist, index = nearest_distance(np.ldexp(Q, -k), np.ldexp(R, -k), metric, return_index=True)
    with np.errstate(over="ignore"):
        dist = np.ldexp(dist, 2 * k if metric == "mse" else k)
    if not np.all(np.isfinite(dist)):
        raise ValueError(f"{metric} distances exceed the float64 range (inputs up to {big:.3g})")
    return (dist, index) if return_index else dist


def roc_auc(negative: Any, positive: Any) -> float:
    """Area under the ROC curve of a score that should be higher for ``positive`` items.

    ``AUC = P(s_pos > s_neg) + P(s_pos = s_neg) / 2`` over all pairs, computed from the
    Mann-Whitney U statistic of the average-tie ranks: ``U / (n_neg n_pos)``.
    0.5 = no separation, 1 = every positive item scores above every negative one.

    Parameters
    ----------
    negative, positive : (n,) array_like, n >= 1, finite

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> roc_auc([1, 2, 3], [4, 5, 6]), roc_auc([1, 2], [1, 2])
    (1.0, 0.5)
    """
    neg = check_float_array(negative, "negative", ndim=1)
    pos = check_float_array(positive, "positive", ndim=1)
    if neg.size < 1 or pos.size < 1:
        raise ValueError(f"roc_auc needs at least one item per set, got {neg.size} and {pos.size}")
    if not (np.all(np.isfinite(neg)) and np.all(np.isfinite(pos))):
        raise ValueError("roc_auc needs finite scores")
    ranks = scipy.stats.rankdata(np.concatenate([neg, pos]))  # average ranks for ties
    u = ranks[neg.size:].sum() - pos.size * (pos.size + 1) / 2.0  # U of the positive set
    return float(u / (neg.size * pos.size))
