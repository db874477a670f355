"""Hippocampal lesions: remove stored memories from a modern Hopfield network.

A lesion of fraction ``f`` removes ``round(f N)`` of the ``N`` stored memories, chosen
uniformly at random (:func:`lesion_mask`); :func:`lesion` returns a new network that
holds only the survivors (or None after a complete lesion). The intact network is not
changed.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from refmem._utils import as_rng, check_int, check_real

__all__ = ["lesion_mask", "lesion"]


def lesion_mask(n: int, fraction: float, rng=None) -> np.ndarray:
    """Which of ``n`` memories survive a lesion of ``fraction``: ``(n,)`` bool.

    Exactly ``round(fraction * n)`` memories, drawn uniformly without replacement, are
    removed (``False``).

    >>> m = lesion_mask(8, 0.25, rng=0)
    >>> int(m.sum()), m.dtype.name
    (6, 'bool')
    """
    n = check_int(n, "n", 0)
    f = check_real(fraction, "fraction", 0.0, 1.0)
    keep = np.ones(n, bool)
    keep[as_rng(rng).choice(n, size=int(round(f * n)), replace=False)] = False
    return keep


def lesion(net, survivors: np.ndarray):
    """A new network of the same kind holding only the surviving patterns.

    Parameters
    ----------
    net : refmem.hippocampus.ModernHopfield
    survivors : (N,) bool ndarray
        From :func:`lesion_mask`.

    Returns
    -------
    ModernHopfield or None
        None when nothing survives (a complete lesion).
    """
    from refmem.hippocampus.modern import ModernHopfield

    if not isinstance(net, ModernHopfield):
        raise TypeError(f"net must be a ModernHopfield, got {type(net).__name__}")
    survivors = np.asarray(survivors)
    if survivors.dtype != bool or survivors.shape != (net.n_patterns,):
        raise ValueError(f"survivors must be a bool array of shape ({net.n_patterns},), "
                         f"got {survivors.dtype} {survivors.shape}")
    if not survivors.any():
        return None
    out: Optional[ModernHopfield] = ModernHopfield(net.beta, net.normalize)
    return out.store(net.patterns[survivors])
