"""Pattern-completion cues: a stored pattern with part of its elements masked or noised.

Used for the paper's recall-from-partial-input tests (E1(b), E2 of docs/paper-experiments.md): the cue
is a copy of the pattern in which exactly ``int(d * fraction)`` elements, chosen
uniformly without replacement (independently for each row), are set to 0
(:func:`mask_cue`) or replaced by ``U(low, high)`` noise (:func:`noise_cue`).
"""
from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from refmem._utils import as_rng, check_float_array, check_real

__all__ = ["mask_cue", "noise_cue"]


def _prepare(pattern: Any, fraction: Any) -> Tuple[np.ndarray, int]:
    arr = check_float_array(pattern, "pattern")
    if arr.ndim not in (1, 2) or arr.shape[-1] < 1:
        raise ValueError(f"pattern must have shape (d,) or (Q, d) with d >= 1, got {arr.shape}")
    f = check_real(fraction, "fraction", 0.0, 1.0)
    return np.array(arr, copy=True), int(arr.shape[-1] * f)


def _chosen(rows: np.ndarray, k: int, rng: np.random.Generator):
    """Yield, for each row (a view), k distinct positions chosen uniformly."""
    d = rows.shape[-1]
    for row in rows.reshape(-1, d):
        yield row, rng.choice(d, size=k, replace=False)


def mask_cue(pattern: Any, fraction: float, rng: Any = None) -> np.ndarray:
    """Copy of ``pattern`` with exactly ``int(d * fraction)`` elements set to 0.

    Parameters
    ----------
    pattern : (d,) or (Q, d) array_like
        Pattern(s); each row is masked independently.
    fraction : float
        Fraction of elements to mask, in [0, 1].
    rng : Generator, int or None

    Returns
    -------
    (d,) or (Q, d) ndarray
        Same dtype as ``pattern`` (integers become float64).

    Examples
    --------
    >>> import numpy as np
    >>> cue = mask_cue(np.ones((2, 10)), 0.3, rng=0)
    >>> (cue == 0).sum(axis=1)
    array([3, 3])
    """
    out, k = _prepare(pattern, fraction)
    rng = as_rng(rng)
    for row, idx in _chosen(out, k, rng):
        row[idx] = 0                                      # masked elements
    return out


def noise_cue(pattern: Any, fraction: float, rng: Any = None, low: float = -1.0,
              high: float = 1.0) -> np.ndarray:
    """Copy of ``pattern`` with exactly ``int(d * fraction)`` elements replaced by noise.

    Each replaced element is drawn i.i.d. from ``U(low, high)``.

    Parameters
    ----------
    pattern : (d,) or (Q, d) array_like
    fraction : float
        Fraction of elements replaced, in [0, 1].
    rng : Generator, int or None
    low, high : float, default -1, 1
        Noise bounds (finite, low < high).

    Returns
    -------
    (d,) or (Q, d) ndarray
    """
    out, k = _prepare(pattern, fraction)
    low, high = check_real(low, "low"), check_real(high, "high")
    if not low < high:
        raise ValueError(f"noise_cue needs finite low < high, got low={low}, high={high}")
    rng = as_rng(rng)
    for row, idx in _chosen(out, k, rng):
        row[idx] = rng.uniform(low, high, size=k)         # U(low, high) noise
    return out
