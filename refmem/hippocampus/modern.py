"""The continuous modern Hopfield network (Ramsauer et al. 2020) as the paper applies it.

Row convention: the stored patterns are the **rows** of ``X`` ``(N, d)``; Ramsauer et
al.'s pattern matrix (columns) is ``X.T``. States are rows too, ``xi`` ``(Q, d)`` or
``(d,)``. See ``docs/hippocampus.md`` for the equations, the normalisation
``beta_eff = beta / sqrt(d)`` and the effective-temperature table.

References
----------
.. [1] H. Ramsauer et al., "Hopfield Networks is All You Need", ICLR 2021
   (arXiv:2008.02217).
.. [2] E. Spens and N. Burgess, "A generative model of memory construction and
   consolidation", Nat. Hum. Behav. 8:526-543 (2024).
"""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from refmem._utils import as_rng, check_float_array, check_int, check_positive, check_real
from refmem.hippocampus._kernels import auto_chunk_size, energy_rows, retrieve_inplace

__all__ = ["ModernHopfield"]


class ModernHopfield:
    """Continuous modern Hopfield network: the hippocampus of [2]_.

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0.
    normalize : bool, default True
        Divide ``beta`` by ``sqrt(d)`` (the paper's default for every image
        experiment): ``beta_eff = beta / sqrt(d)``; otherwise ``beta_eff = beta``.

    Notes
    -----
    Storing is keeping the patterns (no learning). The update (Eq. (3) of [1]_, row
    form) is ``xi_new = softmax(beta_eff * xi X^T) X`` and the energy (Eq. (2) of
    [1]_) uses the same ``beta_eff``, so Theorem 1 of [1]_ (the update never
    increases the energy) holds for this pair.

    Examples
    --------
    >>> import numpy as np
    >>> net = ModernHopfield(beta=20.0).store(np.eye(3) * 2 - 1)
    >>> net.retrieve(np.array([0.9, -1.0, -0.8]), max_iter=5).round(3)
    array([ 1., -1., -1.])
    """

    def __init__(self, beta: float, normalize: bool = True):
        self.beta = check_positive(beta, "beta")
        if not isinstance(normalize, (bool, np.bool_)):
            raise TypeError(f"normalize must be a bool, got {normalize!r}")
        self.normalize = bool(normalize)
        self._X: Optional[np.ndarray] = None
        self._max_norm = 0.0

    # ------------------------------------------------------------------ storage
    def store(self, X: Any, copy: bool = True) -> "ModernHopfield":
        """Store the patterns (rows of ``X``), replacing any stored before.

        Parameters
        ----------
        X : (N, d) array_like
            Patterns as rows (Ramsauer's ``X`` is ``X.T``); finite, N >= 1, d >= 1.
            A float dtype is kept (use float32 for speed); integers become float64.
        copy : bool, default True
            Keep a private copy. With False a C-contiguous float array is kept by
            reference (saves memory at paper scale; the caller must not modify it).

        Returns
        -------
        ModernHopfield
            ``self``, so ``ModernHopfield(20).store(X)`` chains.
        """
        arr = check_float_array(X, "patterns X")
        if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
            raise ValueError("patterns X must have shape (N, d) with N >= 1 and d >= 1, "
                             f"got {arr.shape}")
        arr = np.array(arr, order="C", copy=True) if copy else np.ascontiguousarray(arr)
        if copy:
            arr.flags.writeable = False
        self._X = arr
        norms = np.sqrt(np.einsum("ij,ij->i", arr, arr, dtype=np.float64))
        self._max_norm = float(norms.max())                 # M = max_i ||x_i||
        return self

    def _require(self) -> np.ndarray:
        if self._X is None:
            raise ValueError("no patterns stored: call store(X) before using the network")
        return self._X

    @property
    def patterns(self) -> np.ndarray:
        """(N, d) ndarray: the stored patterns (read-only view)."""
        v = self._require().view()
        v.flags.writeable = False
        return v

    @property
    def n_patterns(self) -> int:
        """int: number of stored patterns N."""
        return int(self._require().shape[0])

    @property
    def dim(self) -> int:
        """int: pattern dimension d."""
        return int(self._require().shape[1])

    @property
    def dtype(self) -> np.dtype:
        """numpy.dtype: the dtype of the stored patterns (all outputs use it)."""
        return self._require().dtype

    @property
    def max_norm(self) -> float:
        """float: M, the largest norm of a stored pattern."""
        self._require()
        return self._max_norm

    @property
    def beta_eff(self) -> float:
        """float: inverse temperature on raw dot products, ``beta / sqrt(d)`` if normalized."""
        d = self.dim
        return self.beta / math.sqrt(d) if self.normalize else self.beta  # (H1)

    # ------------------------------------------------------------------ helpers
    def _states(self, xi: Any, name: str = "xi"):
        """Validate states; return a fresh C-contiguous (Q, d) copy and whether xi was 1-D."""
        X = self._require()
        arr = check_float_array(xi, name)
        if arr.ndim not in (1, 2) or arr.shape[-1] != X.shape[1]:
            raise ValueError(f"{name} must have shape ({X.shape[1]},) or (Q, {X.shape[1]}), "
                             f"got {arr.shape}")
        single = arr.ndim == 1
        return np.array(np.atleast_2d(arr), dtype=X.dtype, order="C", copy=True), single

    def _chunk(self, chunk_size: Optional[int], n_queries: int) -> int:
        if chunk_size is None:
            return auto_chunk_size(n_queries, self.n_patterns, self.dtype.itemsize)
        return check_int(chunk_size, "chunk_size", 1)

    @staticmethod
    def _finish(out: np.ndarray, info: dict, single: bool, return_info: bool):
        if single:
            out = out[0]
            info = {k: v[0] for k, v in info.items()}
        return (out, info) if return_info else out

    # ------------------------------------------------------------------ dynamics
    def update(self, xi: Any, chunk_size: Optional[int] = None) -> np.ndarray:
        """One synchronous update of each state (Eq. (3) of [1]_, row form).

        ``xi_new = softmax(beta_eff * xi X^T) X`` with a max-subtracted softmax per row.

        Parameters
        ----------
        xi : (Q, d) or (d,) array_like
            States; cast to the patterns' dtype.
        chunk_size : int, optional
            Queries per GEMM chunk (default: a 64 MiB score block).

        Returns
        -------
        (Q, d) or (d,) ndarray
            New states, in the patterns' dtype. Peak memory: patterns + queries +
            outputs + one ``(chunk_size, N)`` score block (the new states are written
            straight into the output array).
        """
        state, single = self._states(xi)
        # (H2) xi_new = softmax(beta_eff xi X^T) X
        retrieve_inplace(self._X, self.beta_eff, state, 1, np.inf,
                         self._chunk(chunk_size, state.shape[0]), track_change=False)
        return state[0] if single else state

    def retrieve(self, xi: Any, max_iter: int = 10, tol: float = 0.0,
                 chunk_size: Optional[int] = None, return_info: bool = False,
                 return_weights: bool = False):
        """Iterate the update until each query stops changing (or ``max_iter``).

        Query ``q`` stops after the first update with ``max_k |xi_new - xi|_k <= tol``;
        ``tol = 0`` stops only at an exact fixed point (the paper's rule, which in
        practice runs all ``max_iter`` updates unless the softmax became one-hot). The
        state after the last update is returned. Queries are processed in chunks of
        ``chunk_size``: peak memory is patterns + queries + outputs + one
        ``(chunk_size, N)`` score block (+ two ``(chunk_size, d)`` work rows). Every
        query follows its own trajectory; see ``docs/hippocampus.md`` for why results
        may differ from a one-query call in the last bits (BLAS kernel rounding).

        Parameters
        ----------
        xi : (Q, d) or (d,) array_like
            Initial states (cues); cast to the patterns' dtype.
        max_iter : int, default 10
            Maximum number of updates per query (>= 1); the paper uses 10 for replay.
        tol : float, default 0.0
            Stopping threshold (>= 0) on the max-abs change of a query.
        chunk_size : int, optional
            Queries per chunk (default: a 64 MiB score block).
        return_info : bool, default False
            Also return a dict of per-query diagnostics.
        return_weights : bool, default False
            Add the final attention weights ``"weights"`` (Q, N) to the info dict
            (implies ``return_info``; costs Q N more memory).

        Returns
        -------
        xi : (Q, d) or (d,) ndarray
            Retrieved states.
        info : dict, only if ``return_info``
            ``"n_iter"`` (Q,) int updates performed, ``"converged"`` (Q,) bool,
            ``"winner"`` (Q,) index of the largest attention weight of the last update,
            ``"max_weight"`` (Q,) that weight, ``"weights"`` (Q, N) if
            ``return_weights``. For 1-D ``xi`` the entries are scalars (weights (N,)).
        """
        max_iter = check_int(max_iter, "max_iter", 1)
        tol = check_positive(tol, "tol", allow_zero=True)
        state, single = self._states(xi)
        info = retrieve_inplace(self._X, self.beta_eff, state, max_iter, tol,
                                self._chunk(chunk_size, state.shape[0]), bool(return_weights))
        return self._finish(state, info, single, return_info or return_weights)

    def energy(self, xi: Any, chunk_size: Optional[int] = None):
        """Energy of states (Eq. (2) of [1]_ with ``beta_eff``).

        ``E(xi) = -lse(beta_eff, X xi) + xi.xi / 2 + log(N) / beta_eff + M^2 / 2``,
        ``lse(beta, z) = log(sum_i exp(beta z_i)) / beta`` computed stably, ``M`` the
        largest stored-pattern norm. The same ``beta_eff`` as :meth:`update` is used,
        so the update never increases this energy (Theorem 1 of [1]_). The paper's code
        passed ``beta = 1`` to the lse of its (never-called) normalised energy, which
        does not match its update; that is deliberately not reproduced here.

        Parameters
        ----------
        xi : (Q, d) or (d,) array_like
        chunk_size : int, optional

        Returns
        -------
        (Q,) ndarray or float
        """
        state, single = self._states(xi)
        e = energy_rows(self._X, self.beta_eff, self._max_norm, state,
                        self._chunk(chunk_size, state.shape[0]))
        if not np.all(np.isfinite(e)):  # xi.xi / 2 or M^2 / 2 beyond the float range
            raise ValueError("the energy overflows: the states or stored patterns are too large "
                             f"(max |xi| = {float(np.abs(state).max()):.3g}, M = {self._max_norm:.3g})")
        return e[0].item() if single else e

    def replay(self, n: int, rng: Any = None, max_iter: int = 10, low: float = -1.0,
               high: float = 1.0, return_info: bool = False, chunk_size: Optional[int] = None,
               tol: float = 0.0):
        """Hippocampal replay: retrieve from ``n`` independent uniform-noise cues.

        The paper's replay (E1 of [2]_): each cue is i.i.d. ``U(low, high)^d`` (drawn all
        at once, so the cues do not depend on ``chunk_size``), then retrieved with
        :meth:`retrieve` (``max_iter = 10``, ``tol = 0``: the paper's setting). The cue
        array is reused as the output buffer.

        Parameters
        ----------
        n : int
            Number of replay events (>= 0).
        rng : Generator, int or None
            Random source (normalised with :func:`refmem._utils.as_rng`).
        max_iter : int, default 10
        low, high : float, default -1, 1
            Bounds of the uniform cue noise (low < high).
        return_info : bool, default False
            Also return the info dict of :meth:`retrieve`; ``info["winner"]`` is the
            memory each replay converged to.
        chunk_size : int, optional
        tol : float, default 0.0

        Returns
        -------
        xi : (n, d) ndarray
            Replayed patterns, in the patterns' dtype.
        info : dict, only if ``return_info``
        """
        X = self._require()
        n = check_int(n, "n", 0)
        max_iter = check_int(max_iter, "max_iter", 1)
        tol = check_positive(tol, "tol", allow_zero=True)
        low, high = check_real(low, "low"), check_real(high, "high")
        if not low < high:
            raise ValueError(f"replay needs finite low < high, got low={low}, high={high}")
        rng = as_rng(rng)
        cues = np.empty((n, X.shape[1]), X.dtype)
        if X.dtype in (np.float32, np.float64):
            rng.random(dtype=X.dtype, out=cues)             # U[0, 1), drawn in place
        else:
            cues[...] = rng.random(cues.shape)
        cues *= high - low
        cues += low                                         # (H10) cue ~ U(low, high)^d
        info = retrieve_inplace(X, self.beta_eff, cues, max_iter, tol, self._chunk(chunk_size, n))
        return (cues, info) if return_info else cues

    def __repr__(self) -> str:
        stored = ("empty" if self._X is None
                  else f"N={self.n_patterns}, d={self.dim}, dtype={self.dtype}")
        return f"ModernHopfield(beta={self.beta}, normalize={self.normalize}; {stored})"
