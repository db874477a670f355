"""Keras default initialisers: Glorot-uniform kernels, zero biases."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from refmem._utils import as_rng, check_int

__all__ = ["glorot_uniform", "compute_fans"]


def compute_fans(shape: Sequence[int]):
    """``(fan_in, fan_out)`` as Keras: dense ``(in, out)``; conv ``(kh, kw, ..., a, b)``
    gives ``fan_in = kh*kw*a``, ``fan_out = kh*kw*b``."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) < 2:
        raise ValueError(f"shape must hold at least two sizes (fan in, fan out), got {shape!r}")
    shape = tuple(check_int(s, "shape entry", 1) for s in shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return receptive * shape[-2], receptive * shape[-1]


def glorot_uniform(shape: Sequence[int], rng=None, dtype=np.float32) -> np.ndarray:
    """Glorot/Xavier uniform: ``U(-l, l)`` with ``l = sqrt(6 / (fan_in + fan_out))``.

    Parameters
    ----------
    shape : tuple of int
        Kernel shape in Keras layout.
    rng : anything :func:`refmem._utils.as_rng` accepts
    dtype : float dtype
    """
    fan_in, fan_out = compute_fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))  # l = sqrt(6 / (fan_in + fan_out))
    return as_rng(rng).uniform(-limit, limit, size=tuple(shape)).astype(dtype)
