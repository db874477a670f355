"""The classical (Hebbian, binary) Hopfield network (Hopfield 1982).

Patterns and states are +-1 vectors of length ``d`` (rows). Storage is the Hebbian
outer-product rule with a zero diagonal, ``W = (1/d) sum_mu p_mu p_mu^T``,
``W_ii = 0``; the energy is ``E(x) = -x^T W x / 2``. A unit update sets
``x_i <- sign(h_i)`` with ``h = W x`` and keeps ``x_i`` when ``h_i = 0``.

Asynchronous updates (one unit at a time) never increase ``E`` because ``W`` is
symmetric with zero diagonal: flipping unit ``i`` changes the energy by
``-(x_i_new - x_i) h_i <= 0``. Synchronous updates may end in 2-cycles. For random
patterns, the stored patterns are (nearly) fixed points while ``N / d`` stays below the
capacity ``alpha_c ~ 0.138`` (Amit, Gutfreund and Sompolinsky 1985).

References
----------
.. [1] J. J. Hopfield, "Neural networks and physical systems with emergent collective
   computational abilities", PNAS 79:2554-2558 (1982).
.. [2] D. J. Amit, H. Gutfreund and H. Sompolinsky, "Storing infinite numbers of
   patterns in a spin-glass model of neural networks", PRL 55:1530 (1985).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from refmem._utils import as_rng, check_array

__all__ = ["ClassicalHopfield", "CAPACITY"]

#: critical load N/d of the Hebbian network for random patterns ([2]_)
CAPACITY = 0.138


def _check_pm1(x: Any, name: str, d: Optional[int] = None) -> np.ndarray:
    arr = check_array(x, name, dtype_kind="biuf")
    if arr.ndim not in (1, 2) or arr.shape[-1] < 1 or (d is not None and arr.shape[-1] != d):
        want = "(d,) or (Q, d)" if d is None else f"({d},) or (Q, {d})"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not np.all((arr == 1) | (arr == -1)):
        raise ValueError(f"{name} must contain only +1 and -1")
    return arr.astype(np.float64)


class ClassicalHopfield:
    """Binary Hopfield network with Hebbian storage (not used in the paper's results).

    Examples
    --------
    >>> import numpy as np
    >>> net = ClassicalHopfield().store(np.array([[1, -1, 1, -1, 1, -1]]))
    >>> net.retrieve(np.array([1, 1, 1, -1, 1, -1]), mode="sync").astype(int)
    array([ 1, -1,  1, -1,  1, -1])
    """

    def __init__(self):
        self.W: Optional[np.ndarray] = None

    def store(self, patterns: Any) -> "ClassicalHopfield":
        """Hebbian storage ``W = (1/d) sum_mu p_mu p_mu^T`` with ``W_ii = 0``.

        Parameters
        ----------
        patterns : (N, d) array_like of +-1
            N >= 1 patterns as rows.

        Returns
        -------
        ClassicalHopfield
            ``self``.
        """
        P = _check_pm1(patterns, "patterns")
        if P.ndim != 2 or P.shape[0] < 1:
            raise ValueError(f"patterns must have shape (N, d) with N >= 1, got {P.shape}")
        d = P.shape[1]
        W = P.T @ P / d                                    # (H7) W = (1/d) sum p p^T
        np.fill_diagonal(W, 0.0)                           # W_ii = 0
        self.W = W
        return self

    def _require(self) -> np.ndarray:
        if self.W is None:
            raise ValueError("no patterns stored: call store(patterns) first")
        return self.W

    @property
    def dim(self) -> int:
        """int: number of units d."""
        return int(self._require().shape[0])

    @property
    def capacity(self) -> float:
        """float: approximate number of random patterns storable, ``0.138 d``."""
        return CAPACITY * self.dim

    def energy(self, x: Any):
        """``E(x) = -x^T W x / 2`` for (d,) or (Q, d) +-1 states (float or (Q,) ndarray)."""
        W = self._require()
        s = _check_pm1(x, "x", W.shape[0])
        e = -0.5 * np.einsum("...i,ij,...j->...", s, W, s)  # (H8) E = -x^T W x / 2
        return float(e) if s.ndim == 1 else e

    def update(self, x: Any, mode: str = "async", rng: Any = None) -> np.ndarray:
        """One update of (d,) or (Q, d) +-1 states.

        ``mode="sync"``: all units at once, ``x <- sign(W x)``. ``mode="async"``: one
        sweep over the units in a random order drawn from ``rng`` (the same order for
        every row of a batch), each unit using the current state of the others.
        Ties (``h_i = 0``) keep the unit's value.

        Returns
        -------
        (d,) or (Q, d) ndarray of float64 (+-1)
        """
        W = self._require()
        s = np.atleast_2d(_check_pm1(x, "x", W.shape[0])).copy()
        if mode == "sync":
            h = s @ W                                      # h = W x (W symmetric)
            s = np.where(h > 0, 1.0, np.where(h < 0, -1.0, s))   # (H9) x <- sign(h), ties keep
        elif mode == "async":
            for i in as_rng(rng).permutation(W.shape[0]):
                h = s @ W[i]                               # h_i = sum_j W_ij x_j
                s[:, i] = np.where(h > 0, 1.0, np.where(h < 0, -1.0, s[:, i]))
        else:
            raise ValueError(f"mode must be 'sync' or 'async', got {mode!r}")
        return s[0] if np.ndim(x) == 1 else s

    def retrieve(self, x: Any, mode: str = "async", max_iter: int = 100, rng: Any = None,
                 return_info: bool = False):
        """Repeat :meth:`update` until the states stop changing or ``max_iter`` sweeps.

        Returns
        -------
        x : (d,) or (Q, d) ndarray
        info : dict, only if ``return_info``
            ``"n_iter"`` sweeps run and ``"converged"`` (bool) for the whole batch.
        """
        if (isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer))
                or max_iter < 1):
            raise ValueError(f"max_iter must be an int >= 1, got {max_iter!r}")
        rng = as_rng(rng)
        s = _check_pm1(x, "x", self.dim)
        converged, it = False, 0
        for it in range(1, int(max_iter) + 1):
            nxt = self.update(s, mode=mode, rng=rng)
            converged = bool(np.array_equal(nxt, s))
            s = nxt
            if converged:
                break
        return (s, {"n_iter": it, "converged": converged}) if return_info else s
