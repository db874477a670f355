"""Chunked, in-place kernels of the modern Hopfield network (BLAS-speed retrieval).

Everything here works on rows: stored patterns are the rows of ``X`` ``(N, d)`` and
states are the rows of ``xi`` ``(Q, d)``; Ramsauer et al.'s column-form update
``xi_new = X_R softmax(beta X_R^T xi)`` (with ``X_R = X.T``) becomes, for a batch of row
states, ``xi_new = softmax_rows(beta * xi @ X.T) @ X``.

One chunk of ``C`` queries costs two GEMMs (``(C, d) @ (d, N)`` for the scores and
``(C, N) @ (N, d)`` for the new states) plus an in-place softmax on the ``(C, N)``
score block. Buffers are allocated once per call and reused across chunks, so the
peak memory of a retrieval is

    patterns (N d) + queries (Q d) + outputs (Q d) + one score block (C N)
    + at most two (C, d) work rows (new states; gathered still-active states),

all in the patterns' dtype; a plain update (``track_change=False``, what
``ModernHopfield.update`` runs) needs no work rows (see ``docs/hippocampus.md``, "Memory").

References
----------
.. [1] H. Ramsauer et al., "Hopfield Networks is All You Need", ICLR 2021
   (arXiv:2008.02217).
"""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np

__all__ = ["SCORE_BLOCK_BYTES", "auto_chunk_size", "softmax_rows_", "retrieve_inplace",
           "energy_rows"]

#: default byte budget of one (chunk, N) score block (64 MiB)
SCORE_BLOCK_BYTES = 64 * 2 ** 20


def auto_chunk_size(n_queries: int, n_patterns: int, itemsize: int,
                    budget: int = SCORE_BLOCK_BYTES) -> int:
    """Rows per chunk so that one ``(chunk, N)`` score block fits in ``budget`` bytes."""
    rows = max(1, int(budget) // max(1, int(n_patterns) * int(itemsize)))
    return max(1, min(int(n_queries), rows))


def softmax_rows_(s: np.ndarray):
    """Row-wise softmax of a score block, in place (max-subtracted, overflow-free).

    ``s[q] <- exp(s[q] - max s[q]) / sum exp(s[q] - max s[q])``; the largest entry
    becomes ``exp(0) = 1`` before normalisation, so no exponent exceeds 0 whatever the
    scale of the scores (``beta_eff * X xi`` of 1e4 or 1e300 alike).

    Parameters
    ----------
    s : (m, N) ndarray
        Scores (already multiplied by ``beta_eff``), C-contiguous; overwritten.

    Returns
    -------
    winner : (m,) ndarray of intp
        Index of the largest weight of each row (first one on ties).
    max_weight : (m,) ndarray
        That weight, ``1 / sum_j exp(s_j - max s)``.

    Raises
    ------
    FloatingPointError
        A score overflowed to inf or is NaN (patterns or queries too large for the
        dtype); never returned silently as NaN weights.
    """
    m = s.shape[0]
    rows = np.arange(m)
    winner = np.argmax(s, axis=1)          # argmax also finds a NaN (it ranks first)
    smax = s[rows, winner]
    if not np.all(np.isfinite(smax)):
        raise FloatingPointError("Hopfield scores beta_eff * X xi overflowed or are NaN; "
                                 "scale the patterns/queries down or use float64")
    np.subtract(s, smax[:, None], out=s)   # s - max s  (<= 0)
    np.exp(s, out=s)                       # exp(s - max s)
    total = s.sum(axis=1)                  # >= 1 (the max contributes exp(0) = 1)
    np.divide(s, total[:, None], out=s)    # softmax
    return winner, s[rows, winner]


def retrieve_inplace(X: np.ndarray, beta_eff: float, state: np.ndarray, max_iter: int,
                     tol: float, chunk_size: int, want_weights: bool = False,
                     track_change: bool = True) -> Dict[str, np.ndarray]:
    """Iterate ``xi <- softmax(beta_eff xi X^T) X`` per query, in place, chunk by chunk.

    Eq. (3) of [1]_ in row form. A query stops when ``max_k |xi_new - xi|_k <= tol``
    (``tol = 0``: only at an exact fixed point, the paper's rule) or after ``max_iter``
    updates; the state after its last update is kept. Stopped queries are dropped from
    the chunk's GEMMs (the still-active rows are gathered).

    Parameters
    ----------
    X : (N, d) ndarray
        Stored patterns (rows), C-contiguous.
    beta_eff : float
        Inverse temperature applied to raw dot products.
    state : (Q, d) ndarray
        Initial states, C-contiguous, dtype of ``X``; overwritten with the results.
    max_iter : int
        Maximum number of updates per query (>= 1).
    tol : float
        Stopping threshold on the max-abs change of a query (>= 0).
    chunk_size : int
        Queries per chunk (>= 1): bounds the score block to ``(chunk_size, N)``.
    want_weights : bool
        Also return the attention weights of each query's last update.
    track_change : bool, default True
        Compare each new state with the old one (per-query stopping, ``"converged"``).
        With False every query runs all ``max_iter`` updates, ``"converged"`` stays
        False and the new states are written straight into ``state`` (no ``(C, d)``
        work rows: the peak memory is patterns + queries + outputs + one score block).

    Returns
    -------
    dict
        ``"n_iter"`` (Q,) int64 updates performed; ``"converged"`` (Q,) bool
        (change <= tol at the last update); ``"winner"`` (Q,) intp and
        ``"max_weight"`` (Q,) of the last update's weights (the returned state is
        ``weights @ X``); ``"weights"`` (Q, N) if ``want_weights``.
    """
    Q, d = state.shape
    N = X.shape[0]
    dt = X.dtype
    info = {"n_iter": np.zeros(Q, np.int64), "converged": np.zeros(Q, bool),
            "winner": np.zeros(Q, np.intp), "max_weight": np.zeros(Q, dt)}
    if want_weights:
        info["weights"] = np.zeros((Q, N), dt)
    if Q == 0:
        return info
    C = max(1, min(int(chunk_size), Q))
    scores = np.empty((C, N), dt)
    new: Optional[np.ndarray] = None                    # (C, d) work rows, only to track change
    gathered: Optional[np.ndarray] = None
    XT = X.T                                            # (d, N) view: BLAS transposes, no copy
    for start in range(0, Q, C):
        stop = min(start + C, Q)
        cur = state[start:stop]
        active: Optional[np.ndarray] = None             # None: every row of the chunk
        for _ in range(max_iter):
            if active is None:
                a, rows = cur, slice(start, stop)
            else:
                if gathered is None:
                    gathered = np.empty((C, d), dt)
                a = np.take(cur, active, axis=0, out=gathered[:active.size], mode="clip")
                rows = start + active
            m = a.shape[0]
            s = scores[:m]
            with np.errstate(over="ignore", invalid="ignore"):   # checked in softmax_rows_
                np.matmul(a, XT, out=s)                 # X xi   (row form: xi X^T)
                s *= beta_eff                           # beta_eff X xi
            winner, max_weight = softmax_rows_(s)       # (H3) p = softmax(beta_eff X xi)
            if not track_change:                        # plain update: write in place
                np.matmul(s, X, out=a)                  # (H2) xi_new = X p (row form p X)
                info["n_iter"][rows] += 1
                info["winner"][rows] = winner
                info["max_weight"][rows] = max_weight
                if want_weights:
                    info["weights"][rows] = s
                continue
            if new is None:
                new = np.empty((C, d), dt)
            nxt = new[:m]
            np.matmul(s, X, out=nxt)                    # (H2) xi_new = X p (row form p X)
            np.subtract(a, nxt, out=a)                  # a is a copy or is overwritten below
            np.abs(a, out=a)
            change = a.max(axis=1)
            if active is None:
                cur[...] = nxt
            else:
                cur[active] = nxt
            info["n_iter"][rows] += 1
            info["winner"][rows] = winner
            info["max_weight"][rows] = max_weight
            done = change <= tol                        # (H6) max_k |xi_new - xi|_k <= tol
            info["converged"][rows] = done
            if want_weights:
                info["weights"][rows] = s
            if done.any():
                keep = np.flatnonzero(~done)
                active = keep if active is None else active[keep]
                if active.size == 0:
                    break
    return info


def energy_rows(X: np.ndarray, beta_eff: float, max_norm: float, xi: np.ndarray,
                chunk_size: int) -> np.ndarray:
    """Energy of each row state, chunked (Eq. (2) of [1]_ with ``beta = beta_eff``).

    ``E(xi) = -lse(beta_eff, X xi) + xi.xi / 2 + log(N) / beta_eff + M^2 / 2`` with
    ``lse(beta, z) = max z + log(sum exp(beta (z - max z))) / beta`` (stable form).

    Parameters
    ----------
    X : (N, d) ndarray
    beta_eff : float
    max_norm : float
        ``M``, the largest row norm of ``X``.
    xi : (Q, d) ndarray
        States in the dtype of ``X``.
    chunk_size : int

    Returns
    -------
    (Q,) ndarray
    """
    Q = xi.shape[0]
    N = X.shape[0]
    out = np.empty(Q, X.dtype)
    with np.errstate(over="ignore", divide="ignore"):     # checked just below
        const = np.log(N) / beta_eff + 0.5 * max_norm ** 2  # (H4) log(N)/beta + M^2/2
    if not np.isfinite(const):
        raise FloatingPointError(f"energy undefined in floating point: log(N)/beta_eff + M^2/2 = {const} "
                                 f"(beta_eff {beta_eff:g}, N {N}, M {max_norm:g}); use a larger beta")
    C = max(1, min(int(chunk_size), max(Q, 1)))
    scores = np.empty((C, N), X.dtype)
    for start in range(0, Q, C):
        a = xi[start:start + C]
        s = scores[:a.shape[0]]
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            np.matmul(a, X.T, out=s)
            s *= beta_eff                                    # beta X xi
        smax = s.max(axis=1)
        if not np.all(np.isfinite(smax)):
            raise FloatingPointError("Hopfield energy: scores overflowed or are NaN")
        np.subtract(s, smax[:, None], out=s)
        np.exp(s, out=s)
        lse = (smax + np.log(s.sum(axis=1))) / beta_eff      # (H5) lse(beta, X xi)
        out[start:start + C] = -lse + 0.5 * np.einsum("ij,ij->i", a, a) + const  # (H4)
    return out
